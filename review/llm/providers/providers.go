// Package providers builds the llm.Model a reviewer spec names, from the
// adapters in review/llm/anthropic, review/llm/openai and review/llm/gemini.
// Factory turns the configured reviewers (config.Reviewer) into the
// agent's reviewers, with display names, recording and replay, and makes
// the lead. It reads no environment: config.Settings has resolved keys and
// base URLs through config.Providers.
package providers

import (
	"fmt"
	"net/http"
	"time"

	"github.com/deepreview/deep-review/review/config"
	"github.com/deepreview/deep-review/review/llm"
	"github.com/deepreview/deep-review/review/llm/anthropic"
	"github.com/deepreview/deep-review/review/llm/gemini"
	"github.com/deepreview/deep-review/review/llm/openai"
)

// Options are what a model needs beyond its spec. Zero values choose the
// adapter's defaults.
type Options struct {
	// APIKey authenticates. Required for every provider except
	// openai-compatible, whose local servers often need none.
	APIKey string
	// BaseURL overrides the provider's API root: the root for anthropic
	// and gemini, the root including /v1 for openai and
	// openai-compatible. Required for openai-compatible.
	BaseURL string
	// HTTPClient sends the requests; nil means a plain http.Client.
	HTTPClient *http.Client
	// API is "responses" or "chat" for openai and openai-compatible; empty
	// means responses for openai and chat for openai-compatible. Other
	// providers ignore it.
	API string
	// MaxRetries for 408/409/429/5xx (and Anthropic's 529): 0 means the
	// adapter's default (4), negative means none.
	MaxRetries int
	// MaxOutputTokens applies when a request sets none; 0 means the
	// adapter's default.
	MaxOutputTokens int64
	// RequestTimeout bounds each attempt (each call, retries included, for
	// gemini); 0 means 10 minutes.
	RequestTimeout time.Duration
}

// New returns the model spec names, configured by opts. The model also
// has an Identity() llm.Identity method naming it as the report shows it.
// Errors name the reviewer and the input or variable that fixes them.
func New(spec llm.Spec, opts Options) (llm.Model, error) {
	src, ok := config.ProviderOf(spec.Provider)
	if !ok {
		if spec.Provider == llm.ProviderReplay {
			return nil, fmt.Errorf("%s: replay models come from session files, not from providers.New", spec)
		}
		return nil, fmt.Errorf("%s: unknown provider %q; use anthropic, openai, openai-compatible or gemini", spec, spec.Provider)
	}
	name := spec.Provider + ":" + spec.Model
	if spec.Model == "" {
		return nil, fmt.Errorf("%s: the model is empty", spec)
	}
	if opts.APIKey == "" && spec.Provider != llm.ProviderOpenAICompatible {
		return nil, fmt.Errorf("%s: no API key; set %s", name, src.KeyHint())
	}
	switch spec.Provider {
	case llm.ProviderAnthropic:
		return model(anthropic.New(anthropic.Config{
			Model: spec.Model, Effort: spec.Effort, APIKey: opts.APIKey, BaseURL: opts.BaseURL, HTTPClient: opts.HTTPClient,
			MaxRetries: opts.MaxRetries, MaxOutputTokens: opts.MaxOutputTokens, RequestTimeout: opts.RequestTimeout,
		}))
	case llm.ProviderGemini:
		return model(gemini.New(gemini.Config{
			Model: spec.Model, Effort: spec.Effort, APIKey: opts.APIKey, BaseURL: opts.BaseURL, HTTPClient: opts.HTTPClient,
			MaxRetries: opts.MaxRetries, MaxOutputTokens: opts.MaxOutputTokens, RequestTimeout: opts.RequestTimeout,
		}))
	}

	// openai and openai-compatible.
	if spec.Provider == llm.ProviderOpenAICompatible && opts.BaseURL == "" {
		return nil, fmt.Errorf("%s: no base URL; set %s to the server's root, e.g. http://localhost:11434/v1", name, src.BaseURLHint())
	}
	api := opts.API
	if api == "" {
		api = config.APIResponses
		if spec.Provider == llm.ProviderOpenAICompatible {
			api = config.APIChat
		}
	}
	cfg := openai.Config{
		Provider: spec.Provider, Model: spec.Model, Effort: spec.Effort, APIKey: opts.APIKey, BaseURL: opts.BaseURL, HTTPClient: opts.HTTPClient,
		MaxRetries: opts.MaxRetries, MaxOutputTokens: opts.MaxOutputTokens, RequestTimeout: opts.RequestTimeout,
	}
	switch api {
	case config.APIResponses:
		if cfg.APIKey == "" {
			return nil, fmt.Errorf("%s: no API key for the Responses API; set %s", name, src.KeyHint())
		}
		return model(openai.NewResponses(cfg))
	case config.APIChat:
		return model(openai.NewChat(cfg))
	default:
		return nil, fmt.Errorf("%s: unknown API %q; use responses or chat", name, opts.API)
	}
}

// model turns an adapter constructor's result into an llm.Model, keeping a
// failed constructor's nil pointer from becoming a non-nil interface.
func model[M llm.Model](m M, err error) (llm.Model, error) {
	if err != nil {
		return nil, err
	}
	return m, nil
}
