package llm

import (
	"maps"
	"strings"

	"github.com/deepreview/deep-review/review"
)

// Price is what a model charges in US dollars per million tokens, for each
// of the normalised token kinds. Reasoning tokens are billed as output and
// are already counted in review.Tokens.Output, so they have no price of
// their own.
type Price struct {
	Input       float64 `json:"input" yaml:"input"`
	CachedInput float64 `json:"cached_input" yaml:"cached_input"`
	CacheWrite  float64 `json:"cache_write" yaml:"cache_write"`
	Output      float64 `json:"output" yaml:"output"`
}

// DefaultPrices returns a fresh table of list prices for the current models
// of each provider, keyed by model id. The figures are ESTIMATES, written
// down by hand in November 2026; they are not fetched from the providers,
// may be out of date, and a config's prices override them (MergePrices).
// Providers without a cache-write surcharge list it at the input price.
func DefaultPrices() map[string]Price {
	return map[string]Price{
		// Anthropic: cache reads at 0.1x input, 5-minute cache writes at 1.25x.
		"claude-opus-5-5":   {Input: 5, CachedInput: 0.5, CacheWrite: 6.25, Output: 25},
		"claude-sonnet-5-5": {Input: 3, CachedInput: 0.3, CacheWrite: 3.75, Output: 15},
		"claude-haiku-5-5":  {Input: 1, CachedInput: 0.1, CacheWrite: 1.25, Output: 5},
		// OpenAI: cached input at 0.1x input.
		"gpt-6.1-sol":  {Input: 3, CachedInput: 0.3, CacheWrite: 3, Output: 18},
		"gpt-6-astra":  {Input: 2.5, CachedInput: 0.25, CacheWrite: 2.5, Output: 15},
		"gpt-5.6-sol":  {Input: 1.75, CachedInput: 0.175, CacheWrite: 1.75, Output: 14},
		"gpt-5.5":      {Input: 1.25, CachedInput: 0.125, CacheWrite: 1.25, Output: 10},
		"gpt-5.4-mini": {Input: 0.25, CachedInput: 0.025, CacheWrite: 0.25, Output: 2},
		// Gemini: implicit caching, cached input at 0.1x input.
		"gemini-3.5-flash":     {Input: 0.5, CachedInput: 0.05, CacheWrite: 0.5, Output: 3},
		"gemini-3-pro-preview": {Input: 2, CachedInput: 0.2, CacheWrite: 2, Output: 12},
	}
}

// MergePrices returns DefaultPrices with overrides laid over it: an
// overriding entry replaces the default for its model whole, and models
// the defaults lack are added. Neither argument is modified.
func MergePrices(overrides map[string]Price) map[string]Price {
	prices := DefaultPrices()
	maps.Copy(prices, overrides)
	return prices
}

// Cost is the estimated cost in US dollars of t tokens of model at prices.
// The model is looked up by its exact id, then by the part after the last
// "/" (so a router's "anthropic/claude-opus-5-5" finds claude-opus-5-5).
// known is false, and the cost 0, when no price is listed: an unknown cost
// is never reported as free.
func Cost(model string, t review.Tokens, prices map[string]Price) (usd float64, known bool) {
	p, ok := prices[model]
	if !ok {
		if i := strings.LastIndex(model, "/"); i >= 0 {
			p, ok = prices[model[i+1:]]
		}
	}
	if !ok {
		return 0, false
	}
	usd = (float64(t.Input)*p.Input +
		float64(t.CachedInput)*p.CachedInput +
		float64(t.CacheWrite)*p.CacheWrite +
		float64(t.Output)*p.Output) / 1e6
	return usd, true
}
