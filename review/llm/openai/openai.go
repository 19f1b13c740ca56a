// Package openai holds the llm.Model adapters built on the official OpenAI
// SDK (github.com/openai/openai-go/v3): Responses for OpenAI's Responses API
// (provider "openai") and Chat for any Chat Completions endpoint (provider
// "openai-compatible": Ollama, vLLM, OpenRouter, LiteLLM, Azure-style).
package openai

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	sdk "github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/deepreview/deep-review/review/llm"
)

// Defaults used when a Config field is zero.
const (
	// DefaultMaxRetries is how many times a request is retried. The SDK
	// retries connection errors and the statuses 408, 409, 429 and 5xx with
	// exponential backoff (capped at 8s) and honours Retry-After and
	// retry-after-ms up to two minutes.
	DefaultMaxRetries = 4
	// DefaultRequestTimeout bounds one attempt.
	DefaultRequestTimeout = 10 * time.Minute
)

// Config configures one model. Only Model is always required; APIKey is
// required by Responses and optional for Chat (local servers need none).
type Config struct {
	// Provider names the model in errors and its Identity; empty means
	// "openai" for Responses and "openai-compatible" for Chat.
	Provider string
	// Model is the model id, e.g. gpt-6.1-sol or llama3.3:70b.
	Model string
	// Effort is "", low, medium, high or xhigh: the reasoning effort. It is
	// sent only when set.
	Effort string
	// APIKey is sent as a bearer token; it is never logged or recorded.
	APIKey string
	// BaseURL is the API root including /v1, e.g.
	// http://localhost:11434/v1; empty means https://api.openai.com/v1.
	BaseURL string
	// HTTPClient sends the requests; nil means a plain http.Client.
	HTTPClient *http.Client
	// MaxRetries: 0 means DefaultMaxRetries, negative means none.
	MaxRetries int
	// MaxOutputTokens applies when a request sets none; 0 sends no limit.
	MaxOutputTokens int64
	// RequestTimeout bounds each attempt; 0 means DefaultRequestTimeout.
	RequestTimeout time.Duration
}

// options are the SDK request options for cfg. The services are built from
// these alone, never through sdk.NewClient, so no OPENAI_* variable of the
// environment leaks in.
func (cfg Config) options() []option.RequestOption {
	retries := cfg.MaxRetries
	if retries == 0 {
		retries = DefaultMaxRetries
	}
	if retries < 0 {
		retries = 0
	}
	timeout := cfg.RequestTimeout
	if timeout <= 0 {
		timeout = DefaultRequestTimeout
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{}
	}
	opts := []option.RequestOption{
		option.WithEnvironmentProduction(),
		option.WithHTTPClient(hc),
		option.WithMaxRetries(retries),
		option.WithRequestTimeout(timeout),
	}
	if cfg.APIKey != "" {
		opts = append(opts, option.WithAPIKey(cfg.APIKey))
	}
	if cfg.BaseURL != "" {
		opts = append(opts, option.WithBaseURL(cfg.BaseURL))
	}
	return opts
}

func (cfg Config) name() string { return cfg.Provider + ":" + cfg.Model }

// Error is an API error with the provider's status, message and request id
// in its text (the SDK's own Error() omits the message). Unwrap gives the
// SDK's *openai.Error.
type Error struct {
	msg           string
	err           error
	contextLength bool
}

// Is matches llm.ErrContextLength when the provider refused the request's size.
func (e *Error) Is(target error) bool { return target == llm.ErrContextLength && e.contextLength }

// Error is the text: model, status, provider message and request id when known.
func (e *Error) Error() string { return e.msg }

// Unwrap returns the SDK error.
func (e *Error) Unwrap() error { return e.err }

// wrap names the model and, for API errors, carries the provider's message
// and request id.
func wrap(name string, err error) error {
	var apiErr *sdk.Error
	if !errors.As(err, &apiErr) {
		return fmt.Errorf("%s: %w", name, err)
	}
	s := fmt.Sprintf("%s: %d", name, apiErr.StatusCode)
	if apiErr.Type != "" {
		s += " " + apiErr.Type
	}
	if apiErr.Code != "" && apiErr.Code != apiErr.Type {
		s += " (" + apiErr.Code + ")"
	}
	msg := apiErr.Message
	if msg == "" {
		msg = http.StatusText(apiErr.StatusCode)
	}
	s += ": " + msg
	if apiErr.Response != nil {
		if id := apiErr.Response.Header.Get("x-request-id"); id != "" {
			s += " (request id " + id + ")"
		}
	}
	return &Error{msg: s, err: err, contextLength: llm.IsContextLengthMessage(apiErr.StatusCode, apiErr.Code+" "+msg)}
}

// arguments turns a function call's argument string into JSON. Arguments
// that are not valid JSON are kept as a JSON string, so the agent's schema
// check rejects them with a readable tool result instead of a Go error.
func arguments(s string) json.RawMessage {
	if s == "" {
		return json.RawMessage(`{}`)
	}
	if json.Valid([]byte(s)) {
		return json.RawMessage(s)
	}
	b, _ := json.Marshal(s)
	return b
}

// schema decodes a tool's JSON Schema for the SDK's map-typed parameters.
func schema(raw json.RawMessage) (map[string]any, error) {
	if len(raw) == 0 {
		return map[string]any{"type": "object", "properties": map[string]any{}}, nil
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, err
	}
	return m, nil
}

// strict reports whether a schema meets OpenAI's strict mode: every object
// lists all its properties as required and forbids additional ones. Strict
// mode is only asked for when it is met, since the API refuses a strict
// tool whose schema breaks those rules.
func strict(s any) bool {
	switch v := s.(type) {
	case map[string]any:
		if props, ok := v["properties"].(map[string]any); ok {
			if ap, ok := v["additionalProperties"].(bool); !ok || ap {
				return false
			}
			req := map[string]bool{}
			list, _ := v["required"].([]any)
			for _, r := range list {
				if name, ok := r.(string); ok {
					req[name] = true
				}
			}
			for name, p := range props {
				if !req[name] || !strict(p) {
					return false
				}
			}
		}
		for _, k := range []string{"items", "anyOf"} {
			if sub, ok := v[k]; ok && !strict(sub) {
				return false
			}
		}
		return true
	case []any:
		for _, e := range v {
			if !strict(e) {
				return false
			}
		}
		return true
	default:
		return true
	}
}
