package llm

import (
	"math"
	"testing"

	"github.com/deepreview/deep-review/review"
)

func TestCost(t *testing.T) {
	prices := map[string]Price{
		"m":     {Input: 2, CachedInput: 0.5, CacheWrite: 4, Output: 10},
		"other": {Input: 100},
	}
	tests := []struct {
		name      string
		model     string
		tokens    review.Tokens
		want      float64
		wantKnown bool
	}{
		{"each kind at its own price", "m", review.Tokens{Input: 1_000_000, CachedInput: 2_000_000, CacheWrite: 500_000, Output: 100_000}, 2 + 1 + 2 + 1, true},
		{"reasoning is part of output, not charged twice", "m", review.Tokens{Output: 1_000_000, Reasoning: 800_000}, 10, true},
		{"a router prefix is ignored", "vendor/m", review.Tokens{Input: 500_000}, 1, true},
		{"unknown model is unknown, not free", "nope", review.Tokens{Input: 1_000_000}, 0, false},
		{"no tokens cost nothing", "m", review.Tokens{}, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, known := Cost(tt.model, tt.tokens, prices)
			if known != tt.wantKnown || math.Abs(got-tt.want) > 1e-9 {
				t.Errorf("Cost = %v, %v; want %v, %v", got, known, tt.want, tt.wantKnown)
			}
		})
	}
}

func TestDefaultPricesCoverTheCurrentModels(t *testing.T) {
	prices := DefaultPrices()
	for _, m := range []string{"claude-opus-5-5", "claude-sonnet-5-5", "claude-haiku-5-5", "gpt-6.1-sol", "gpt-6-astra", "gpt-5.6-sol",
		"gpt-5.5", "gpt-5.4-mini", "gemini-3.5-flash", "gemini-3-pro-preview"} {
		p, ok := prices[m]
		if !ok {
			t.Errorf("no price for %s", m)
			continue
		}
		if p.Input <= 0 || p.Output <= p.Input || p.CachedInput <= 0 || p.CachedInput >= p.Input || p.CacheWrite < p.Input {
			t.Errorf("%s: implausible price %+v", m, p)
		}
	}
}

func TestMergePricesOverridesWithoutTouchingDefaults(t *testing.T) {
	overrides := map[string]Price{
		"claude-opus-5-5": {Input: 1, Output: 2},
		"llama3.3:70b":    {},
	}
	merged := MergePrices(overrides)
	if got := merged["claude-opus-5-5"]; got != (Price{Input: 1, Output: 2}) {
		t.Errorf("override = %+v", got)
	}
	if _, ok := merged["llama3.3:70b"]; !ok {
		t.Error("a new model was not added")
	}
	if got, want := merged["gpt-5.5"], DefaultPrices()["gpt-5.5"]; got != want {
		t.Errorf("untouched default = %+v, want %+v", got, want)
	}
	if DefaultPrices()["claude-opus-5-5"].Input != 5 {
		t.Error("merging changed the defaults")
	}
	if len(overrides) != 2 {
		t.Error("merging changed the overrides")
	}
	if usd, known := Cost("llama3.3:70b", review.Tokens{Input: 1000}, merged); !known || usd != 0 {
		t.Errorf("a model priced at zero = %v, %v; want known and free", usd, known)
	}
}
