// Package providers builds the llm.Model a reviewer spec names, from the
// adapters in review/llm/anthropic, review/llm/openai and review/llm/gemini.
// It reads no environment: the caller resolves keys and base URLs (input
// first, then the environment names that Sources lists) and passes them in.
package providers

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/deepreview/deep-review/review/llm"
	"github.com/deepreview/deep-review/review/llm/anthropic"
	"github.com/deepreview/deep-review/review/llm/gemini"
	"github.com/deepreview/deep-review/review/llm/openai"
)

// APIs an openai-kind provider can speak.
const (
	APIResponses = "responses"
	APIChat      = "chat"
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

// Source names where a provider's key and base URL come from: the action
// input and the environment variables, in order of preference. An input
// wins over the environment.
type Source struct {
	KeyInput     string
	KeyEnv       []string
	BaseURLInput string
	BaseURLEnv   string
}

var sources = map[string]Source{
	llm.ProviderAnthropic:        {"anthropic-api-key", []string{"ANTHROPIC_API_KEY"}, "anthropic-base-url", "ANTHROPIC_BASE_URL"},
	llm.ProviderOpenAI:           {"openai-api-key", []string{"OPENAI_API_KEY"}, "openai-base-url", "OPENAI_BASE_URL"},
	llm.ProviderOpenAICompatible: {"openai-compatible-api-key", []string{"OPENAI_COMPATIBLE_API_KEY"}, "openai-compatible-base-url", "OPENAI_COMPATIBLE_BASE_URL"},
	llm.ProviderGemini:           {"gemini-api-key", []string{"GEMINI_API_KEY", "GOOGLE_API_KEY"}, "gemini-base-url", "GOOGLE_GEMINI_BASE_URL"},
}

// Sources returns where provider's key and base URL come from; ok is false
// for providers without one (replay).
func Sources(provider string) (s Source, ok bool) {
	s, ok = sources[provider]
	return s, ok
}

// Resolve returns provider's key and base URL, each from its input when
// input returns a non-empty value for it, else from the first of its
// environment variables that getenv returns non-empty: an input wins over
// the environment. Values are trimmed of surrounding space. It reads
// nothing itself; both lookups are the caller's.
func Resolve(provider string, input, getenv func(name string) string) (key, baseURL string) {
	src, ok := sources[provider]
	if !ok {
		return "", ""
	}
	key = strings.TrimSpace(input(src.KeyInput))
	for _, env := range src.KeyEnv {
		if key != "" {
			break
		}
		key = strings.TrimSpace(getenv(env))
	}
	baseURL = strings.TrimSpace(input(src.BaseURLInput))
	if baseURL == "" {
		baseURL = strings.TrimSpace(getenv(src.BaseURLEnv))
	}
	return key, baseURL
}

// New returns the model spec names, configured by opts. The model also
// has an Identity() llm.Identity method naming it as the report shows it.
// Errors name the reviewer and the input or variable that fixes them.
func New(spec llm.Spec, opts Options) (llm.Model, error) {
	src, ok := sources[spec.Provider]
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
		return nil, fmt.Errorf("%s: no API key; set the %s input or %s", name, src.KeyInput, strings.Join(src.KeyEnv, " or "))
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
		return nil, fmt.Errorf("%s: no base URL; set the %s input or %s to the server's root, e.g. http://localhost:11434/v1", name, src.BaseURLInput, src.BaseURLEnv)
	}
	api := opts.API
	if api == "" {
		api = APIResponses
		if spec.Provider == llm.ProviderOpenAICompatible {
			api = APIChat
		}
	}
	cfg := openai.Config{
		Provider: spec.Provider, Model: spec.Model, Effort: spec.Effort, APIKey: opts.APIKey, BaseURL: opts.BaseURL, HTTPClient: opts.HTTPClient,
		MaxRetries: opts.MaxRetries, MaxOutputTokens: opts.MaxOutputTokens, RequestTimeout: opts.RequestTimeout,
	}
	switch api {
	case APIResponses:
		if cfg.APIKey == "" {
			return nil, fmt.Errorf("%s: no API key for the Responses API; set the %s input or %s", name, src.KeyInput, strings.Join(src.KeyEnv, " or "))
		}
		return model(openai.NewResponses(cfg))
	case APIChat:
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
