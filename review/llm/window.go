package llm

import (
	"errors"
	"strings"
)

// ErrContextLength is what a provider's refusal of a request larger than the
// model's context window matches with errors.Is. Adapters keep their own
// error types (with the provider's message) and make them match it, so the
// agent loop can have the reviewer submit instead of failing.
var ErrContextLength = errors.New("the request exceeds the model's context window")

// IsContextLengthMessage reports whether a provider's error message (with
// its HTTP status 400 or 413) says the request is larger than the model's
// context window, as Anthropic ("prompt is too long"), OpenAI
// ("context_length_exceeded", "maximum context length") and Gemini ("input
// token count ... exceeds the maximum") word it.
func IsContextLengthMessage(status int, msg string) bool {
	if status != 400 && status != 413 {
		return false
	}
	m := strings.ToLower(msg)
	for _, s := range []string{
		"context_length_exceeded", "context length", "context window", "prompt is too long",
		"maximum context", "input token count", "too many input tokens", "exceeds the maximum number of tokens",
	} {
		if strings.Contains(m, s) {
			return true
		}
	}
	return false
}

// DefaultContextTokens is the context window assumed for a model the table
// does not list: small enough for every current model deep-review supports.
const DefaultContextTokens int64 = 128_000

// DefaultContextWindows returns a fresh table of context windows, in tokens,
// keyed by model id. Like the price table they are written down by hand and
// may be out of date; a reviewer's configured context_tokens overrides them.
func DefaultContextWindows() map[string]int64 {
	return map[string]int64{
		"claude-opus-5-5":      200_000,
		"claude-sonnet-5-5":    200_000,
		"claude-haiku-5-5":     200_000,
		"gpt-6.1-sol":          400_000,
		"gpt-6-astra":          400_000,
		"gpt-5.6-sol":          400_000,
		"gpt-5.5":              400_000,
		"gpt-5.4-mini":         400_000,
		"gemini-3.5-flash":     1_000_000,
		"gemini-3-pro-preview": 1_000_000,
	}
}

// ContextWindow is model's context window in tokens from DefaultContextWindows,
// looked up like Cost (the exact id, then the part after the last "/"), or
// DefaultContextTokens when the model is not listed.
func ContextWindow(model string) int64 {
	w := DefaultContextWindows()
	if n, ok := w[model]; ok {
		return n
	}
	if i := strings.LastIndex(model, "/"); i >= 0 {
		if n, ok := w[model[i+1:]]; ok {
			return n
		}
	}
	return DefaultContextTokens
}
