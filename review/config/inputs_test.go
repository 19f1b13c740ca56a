package config_test

import (
	"strings"
	"testing"

	"github.com/deepreview/deep-review/review/config"
)

func settings(t *testing.T, v config.Values, cfg *config.Config) (config.Settings, error) {
	t.Helper()
	// The flags carry the defaults of the inputs the file cannot set.
	all := config.Values{}
	for _, in := range config.Inputs {
		if !in.File {
			all[in.Name] = in.Default
		}
	}
	for k, x := range v {
		all[k] = x
	}
	return all.Settings(func(string) string { return "" }, cfg)
}

func TestNewInputsHaveTheirDefaults(t *testing.T) {
	t.Parallel()
	s, err := settings(t, config.Values{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if s.Inline != config.InlineImportant || s.MaxInline != 20 || s.Scope != config.ScopeAuto || s.MaxCostUSD != 0 || s.StateKey != "" {
		t.Errorf("inline %q, max-inline %d, scope %q, max-cost %v, state-key %q; want important, 20, auto, 0 (none), empty",
			s.Inline, s.MaxInline, s.Scope, s.MaxCostUSD, s.StateKey)
	}
}

func TestNewInputsComeFromTheInputThenTheFile(t *testing.T) {
	t.Parallel()
	cfg := &config.Config{InlineComments: "critical", MaxInlineComments: 5, Scope: "full", MaxCostUSD: 2.5}
	s, err := settings(t, config.Values{}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if s.Inline != "critical" || s.MaxInline != 5 || s.Scope != "full" || s.MaxCostUSD != 2.5 {
		t.Errorf("settings = %q %d %q %v, want the file's critical 5 full 2.5", s.Inline, s.MaxInline, s.Scope, s.MaxCostUSD)
	}
	s, err = settings(t, config.Values{"inline-comments": "None", "max-inline-comments": "7", "scope": "auto", "max-cost-usd": "$12.50", "state-key": "k3y"}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if s.Inline != "none" || s.MaxInline != 7 || s.Scope != "auto" || s.MaxCostUSD != 12.5 {
		t.Errorf("settings = %q %d %q %v, want the inputs' none 7 auto 12.5", s.Inline, s.MaxInline, s.Scope, s.MaxCostUSD)
	}
	if got := s.Secrets(); len(got) != 1 || got[0] != "k3y" {
		t.Errorf("secrets = %q, want the state key among them", got)
	}
}

func TestBadNewInputsNameTheInputAndTheAllowedValues(t *testing.T) {
	t.Parallel()
	tests := []struct{ input, value, want string }{
		{"inline-comments", "all", `inline-comments "all": use critical, important, suggestion or none`},
		{"max-inline-comments", "0", `max-inline-comments "0": want a whole number of at least 1`},
		{"max-inline-comments", "many", `max-inline-comments "many": want a whole number`},
		{"scope", "diff", `scope "diff": use auto or full`},
		{"max-cost-usd", "-1", `max-cost-usd "-1": want a positive number of US dollars`},
		{"max-cost-usd", "0", `max-cost-usd "0": want a positive number`},
		{"max-cost-usd", "five", `max-cost-usd "five": want a positive number`},
		{"max-cost-usd", "NaN", `max-cost-usd "NaN": want a positive number`},
	}
	for _, tt := range tests {
		_, err := settings(t, config.Values{tt.input: tt.value}, nil)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s=%s: err = %v, want %q", tt.input, tt.value, err, tt.want)
		}
	}
}

func TestParseReadsTheNewFileKeys(t *testing.T) {
	t.Parallel()
	cfg, err := config.Parse([]byte("inline-comments: suggestion\nmax-inline-comments: 3\nscope: full\nbudgets:\n  max-cost-usd: 4.5\nreviewers:\n  - spec: openai:gpt-5\n    focus: |\n      security\n"), "f.yml")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.InlineComments != "suggestion" || cfg.MaxInlineComments != 3 || cfg.Scope != "full" || cfg.MaxCostUSD != 4.5 {
		t.Errorf("cfg = %+v", cfg)
	}
	if len(cfg.Reviewers) != 1 || cfg.Reviewers[0].Focus != "security" {
		t.Errorf("reviewers = %+v, want one with focus security", cfg.Reviewers)
	}
	for yaml, want := range map[string]string{
		"inline-comments: all\n":                               `f.yml:1: inline-comments: "all" is not one of critical, important, suggestion, none`,
		"max-inline-comments: 0\n":                             `f.yml:1: max-inline-comments: 0: want a whole number of at least 1`,
		"scope: diff\n":                                        `f.yml:1: scope: "diff" is not one of auto, full`,
		"budgets:\n  max-cost-usd: -2\n":                       `f.yml:2: budgets.max-cost-usd: -2: want a positive number of US dollars`,
		"reviewers:\n  - spec: openai:gpt-5\n    focus: [a]\n": `f.yml:3: reviewers[0].focus: want a string`,
	} {
		if _, err := config.Parse([]byte(yaml), "f.yml"); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: err = %v, want %q", yaml, err, want)
		}
	}
}
