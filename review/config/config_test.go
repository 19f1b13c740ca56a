package config_test

import (
	"errors"
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/deepreview/deep-review/review/config"
	"github.com/deepreview/deep-review/review/llm"
)

func TestParseValid(t *testing.T) {
	t.Parallel()
	full, err := os.ReadFile("testdata/deep-review.yml")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		yaml string
		want *config.Config
	}{
		{
			name: "every section, string and map reviewers",
			yaml: string(full),
			want: &config.Config{
				Reviewers: []config.Reviewer{
					{Spec: llm.Spec{Provider: "anthropic", Model: "claude-opus-5-5", Effort: "high"}},
					{Name: "Local Llama", Spec: llm.Spec{Provider: "openai-compatible", Model: "llama3.3:70b", Effort: "medium"},
						BaseURL: "http://localhost:11434/v1", API: "chat", KeyEnv: "OLLAMA_KEY"},
					{Spec: llm.Spec{Provider: "openai", Model: "gpt-5.1", Effort: "xhigh"}},
				},
				Lead:            "auto",
				MaxTurns:        40,
				MaxTokens:       2_000_000,
				ReviewerTimeout: 15 * time.Minute,
				Include:         []string{"src/**"},
				Exclude:         []string{"docs/**"},
				Instructions:    "Focus on concurrency.",
				Prices:          map[string]config.Price{"claude-opus-5-5": {Input: 5, CachedInput: 0.5, CacheWrite: 6.25, Output: 25}},
				FailOn:          "important",
			},
		},
		{name: "an empty file is an empty config", yaml: "", want: &config.Config{}},
		{name: "only comments is an empty config", yaml: "# nothing yet\n", want: &config.Config{}},
		{name: "a key with no value is unset", yaml: "lead:\nbudgets:\ninclude:\n", want: &config.Config{}},
		{
			name: "the effort key overrides the spec's",
			yaml: "reviewers:\n  - spec: openai:gpt-5@low\n    effort: high\n    api: responses\n",
			want: &config.Config{Reviewers: []config.Reviewer{{Spec: llm.Spec{Provider: "openai", Model: "gpt-5", Effort: "high"}, API: "responses"}}},
		},
		{
			name: "the same spec twice under different names",
			yaml: "reviewers:\n  - {name: a, spec: openai-compatible:m, base-url: 'https://a.example/v1'}\n  - {name: b, spec: openai-compatible:m, base-url: 'https://b.example/v1'}\n",
			want: &config.Config{Reviewers: []config.Reviewer{
				{Name: "a", Spec: llm.Spec{Provider: "openai-compatible", Model: "m"}, BaseURL: "https://a.example/v1"},
				{Name: "b", Spec: llm.Spec{Provider: "openai-compatible", Model: "m"}, BaseURL: "https://b.example/v1"},
			}},
		},
		{name: "lead as a spec", yaml: "lead: ' gemini:gemini-3-pro@high '", want: &config.Config{Lead: "gemini:gemini-3-pro@high"}},
		{name: "lead none", yaml: "lead: none", want: &config.Config{Lead: "none"}},
		{name: "fail-on in capitals", yaml: "fail-on: Critical", want: &config.Config{FailOn: "critical"}},
		{name: "a single glob is a list of one", yaml: "include: 'src/**/*.go'\nexclude:\n  - '**/*_test.go'\n  - vendor/**\n",
			want: &config.Config{Include: []string{"src/**/*.go"}, Exclude: []string{"**/*_test.go", "vendor/**"}}},
		{name: "a partial price charges cached and cache writes as input", yaml: "prices:\n  gpt-5:\n    input: 1.25\n    output: 10\n",
			want: &config.Config{Prices: map[string]config.Price{"gpt-5": {Input: 1.25, CachedInput: 1.25, CacheWrite: 1.25, Output: 10}}}},
		{name: "aliases resolve to their anchors", yaml: "include: &src ['src/**']\nexclude: *src\n",
			want: &config.Config{Include: []string{"src/**"}, Exclude: []string{"src/**"}}},
		{name: "instructions keep inner lines", yaml: "instructions: >-\n  one\n  two\n", want: &config.Config{Instructions: "one two"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := config.Parse([]byte(tt.yaml), ".github/deep-review.yml")
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if !reflect.DeepEqual(normalize(got), normalize(tt.want)) {
				t.Errorf("Parse:\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

// normalize treats nil and empty slices and maps alike.
func normalize(c *config.Config) config.Config {
	out := *c
	if len(out.Reviewers) == 0 {
		out.Reviewers = nil
	}
	if len(out.Include) == 0 {
		out.Include = nil
	}
	if len(out.Exclude) == 0 {
		out.Exclude = nil
	}
	if len(out.Prices) == 0 {
		out.Prices = nil
	}
	return out
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		yaml  string
		line  int
		field string
		// message is a part of the message after "file:line: field: ".
		message string
	}{
		{"an unknown top-level key", "lead: auto\nreviewer:\n  - openai:gpt-5\n", 2, "reviewer", "unknown key; the keys here are reviewers, lead"},
		{"an unknown key with no value", "lead: auto\nbogus:\n", 2, "bogus", "unknown key"},
		{"an unknown reviewer key", "reviewers:\n  - spec: openai:gpt-5\n    temperature: 0.2\n", 3, "reviewers[0].temperature", "unknown key; the keys here are name, spec, base-url"},
		{"a key spelt with an underscore", "reviewers:\n  - spec: openai:gpt-5\n    key_env: OPENAI_KEY\n", 3, "reviewers[0].key_env", "unknown key; did you mean key-env?"},
		{"an unknown budget", "budgets:\n  max-turns: 10\n  max-cost: 5\n", 3, "budgets.max-cost", "unknown key"},
		{"an unknown price key", "prices:\n  m: {input: 1, output: 2, reasoning: 3}\n", 2, "prices.m.reasoning", "unknown key"},
		{"a spec without a provider", "reviewers:\n  - claude-opus-5-5\n", 2, "reviewers[0]", `"claude-opus-5-5": want provider:model[@effort]`},
		{"a spec with an unknown provider", "reviewers:\n  - openai:gpt-5\n  - spec: mistral:large\n", 3, "reviewers[1].spec", `unknown provider "mistral"`},
		{"a spec with an unknown effort", "reviewers:\n  - anthropic:claude-opus-5-5@max\n", 2, "reviewers[0]", `unknown effort "max"`},
		{"a bad effort key", "reviewers:\n  - spec: openai:gpt-5\n    effort: extreme\n", 3, "reviewers[0].effort", `"extreme" is not one of low, medium, high, xhigh`},
		{"a map reviewer without a spec", "reviewers:\n  - name: Llama\n    base-url: http://localhost:11434/v1\n", 2, "reviewers[0].spec", "missing"},
		{"a bad api", "reviewers:\n  - anthropic:claude-opus-5-5\n  - name: Local\n    spec: openai-compatible:llama3.3:70b\n    base-url: http://localhost:11434/v1\n    api: rest\n", 6, "reviewers[1].api", `"rest" is not one of chat, responses`},
		{"an api for anthropic", "reviewers:\n  - spec: anthropic:claude-opus-5-5\n    api: chat\n", 3, "reviewers[0].api", "only openai and openai-compatible"},
		{"a base-url that is no URL", "reviewers:\n  - spec: openai:gpt-5\n    base-url: localhost:11434\n", 3, "reviewers[0].base-url", "is not an http(s) URL"},
		{"a base-url with credentials", "reviewers:\n  - spec: openai:gpt-5\n    base-url: https://u:hunter2@llm.example/v1\n", 3, "reviewers[0].base-url", "carries credentials"},
		{"the same reviewer twice", "reviewers:\n  - openai:gpt-5\n  - spec: openai:gpt-5\n", 3, "reviewers[1]", "same reviewer as reviewers[0]"},
		{"a bad lead", "lead: first\n", 1, "lead", `"first": want provider:model[@effort]`},
		{"a bad duration", "budgets:\n  reviewer-timeout: 15 minutes\n", 2, "budgets.reviewer-timeout", `"15 minutes": want a positive duration such as 15m`},
		{"a duration as a bare number", "budgets:\n  reviewer-timeout: 900\n", 2, "budgets.reviewer-timeout", "want a duration such as 15m or 90s, got an integer"},
		{"a negative duration", "budgets:\n  reviewer-timeout: -5m\n", 2, "budgets.reviewer-timeout", "positive duration"},
		{"a negative max-turns", "budgets:\n  max-turns: -1\n", 2, "budgets.max-turns", "-1: want a whole number of at least 2"},
		{"a negative max-tokens", "budgets:\n  max-tokens: -2000000\n", 2, "budgets.max-tokens", "at least 1000"},
		{"a negative price", "prices:\n  m:\n    input: -1\n    output: 2\n", 3, "prices.m.input", "negative"},
		{"a price without output", "prices:\n  m: {input: 1}\n", 2, "prices.m.output", "missing"},
		{"an infinite price", "prices:\n  m: {input: .inf, output: 1}\n", 2, "prices.m.input", "want a number, got infinity"},
		{"a bad fail-on", "fail-on: warning\n", 1, "fail-on", `"warning" is not one of never, important, critical`},
		{"a bad glob", "exclude:\n  - 'docs/[a-'\n", 1, "exclude[0]", "not a valid glob"},
		{"reviewers as a string", "reviewers: openai:gpt-5\n", 1, "reviewers", "want a list of reviewers, got a string"},
		{"reviewers as a mapping", "reviewers:\n  spec: openai:gpt-5\n", 1, "reviewers", "want a list of reviewers, got a mapping"},
		{"a reviewer as a number", "reviewers:\n  - 42\n", 2, "reviewers[0]", "got an integer"},
		{"max-turns as text", "budgets:\n  max-turns: forty\n", 2, "budgets.max-turns", "want a whole number, got a string"},
		{"max-turns as a float", "budgets:\n  max-turns: 4.5\n", 2, "budgets.max-turns", "want a whole number, got a number"},
		{"budgets as a list", "budgets:\n  - max-turns: 4\n", 1, "budgets", "want a mapping of key: value, got a list"},
		{"include as a mapping", "include:\n  src: yes\n", 1, "include", "want a list of strings, got a mapping"},
		{"a glob as a number", "include:\n  - 7\n", 2, "include[0]", "want a string, got an integer"},
		{"instructions as a list", "instructions:\n  - be nice\n", 1, "instructions", "want a string, got a list"},
		{"a name as a boolean", "reviewers:\n  - spec: openai:gpt-5\n    name: true\n", 3, "reviewers[0].name", "want a string, got a boolean; quote it"},
		{"a price as text", "prices:\n  m: {input: cheap, output: 1}\n", 2, "prices.m.input", "want a number, got a string"},
		{"a key set twice", "budgets:\n  max-turns: 4\n  max-turns: 5\n", 3, "", "already defined"},
		{"a syntax error", "include: ['src/**'\nlead: auto\n", 2, "", "',' or ']' must be specified"},
		{"a merge key", "base: &b {max-turns: 4}\nbudgets:\n  <<: *b\n", 1, "base", "unknown key"},
		{"a tag", "lead: !!str auto\n", 1, "lead", "tags are not supported"},
		{"an alias to nothing", "lead: *nowhere\n", 1, "", "nowhere"},
		{"two documents", "lead: auto\n---\nlead: none\n", 0, "", "more than one YAML document"},
		{"a list at the top", "- openai:gpt-5\n", 1, "", "want a mapping of key: value, got a list"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := config.Parse([]byte(tt.yaml), ".github/deep-review.yml")
			if err == nil {
				t.Fatalf("Parse(%q) succeeded, want an error at line %d", tt.yaml, tt.line)
			}
			var e *config.Error
			if !errors.As(err, &e) {
				t.Fatalf("Parse error %T (%v) is not a *config.Error", err, err)
			}
			msg := strings.Split(err.Error(), "\n")[0]
			prefix := ".github/deep-review.yml:"
			if tt.line > 0 {
				prefix += fmt.Sprintf("%d: ", tt.line)
			}
			if tt.field != "" {
				prefix += tt.field + ": "
			}
			if tt.line == 0 {
				// Only the line is unknown in advance: check the field.
				if e.Field != tt.field || e.Line < 1 {
					t.Errorf("error %q: got line %d field %q, want a line and field %q", msg, e.Line, e.Field, tt.field)
				}
			} else if !strings.HasPrefix(msg, prefix) {
				t.Errorf("error %q: want it to start with %q", msg, prefix)
			}
			if !strings.Contains(msg, tt.message) {
				t.Errorf("error %q: want it to contain %q", msg, tt.message)
			}
		})
	}
}

func TestParseRefusesLiteralKeysWithoutEchoingThem(t *testing.T) {
	t.Parallel()
	const secret = "sk-ant-api03-DO-NOT-LEAK"
	tests := []struct {
		name  string
		yaml  string
		line  int
		field string
	}{
		{"api-key on a reviewer", "reviewers:\n  - spec: anthropic:claude-opus-5-5\n    api-key: " + secret + "\n", 3, "reviewers[0].api-key"},
		{"a top-level key input", "anthropic-api-key: " + secret + "\n", 1, "anthropic-api-key"},
		{"a token", "reviewers:\n  - spec: openai:gpt-5\n    token: " + secret + "\n", 3, "reviewers[0].token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := config.Parse([]byte(tt.yaml), "cfg.yml")
			if err == nil {
				t.Fatal("Parse accepted a literal key")
			}
			want := fmt.Sprintf("cfg.yml:%d: %s: API keys must not be written in the config file", tt.line, tt.field)
			if !strings.HasPrefix(err.Error(), want) {
				t.Errorf("error %q: want it to start with %q", err, want)
			}
			for _, hint := range []string{"key-env", "repository secret"} {
				if !strings.Contains(err.Error(), hint) {
					t.Errorf("error %q: want it to mention %q", err, hint)
				}
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("error %q repeats the key", err)
			}
		})
	}
	t.Run("a key pasted into key-env", func(t *testing.T) {
		t.Parallel()
		_, err := config.Parse([]byte("reviewers:\n  - spec: openai:gpt-5\n    key-env: "+secret+"\n"), "cfg.yml")
		if err == nil || !strings.HasPrefix(err.Error(), "cfg.yml:3: reviewers[0].key-env: want the name of an environment variable") {
			t.Fatalf("got %v, want a key-env error at line 3", err)
		}
		if strings.Contains(err.Error(), secret) {
			t.Errorf("error %q repeats the key", err)
		}
	})
}

func TestParseReportsEveryErrorInLineOrder(t *testing.T) {
	t.Parallel()
	yaml := "fail-on: sometimes\nbudgets:\n  max-turns: 0\nreviewers:\n  - nope\n"
	_, err := config.Parse([]byte(yaml), "c.yml")
	if err == nil {
		t.Fatal("Parse succeeded")
	}
	var lines []string
	for _, l := range strings.Split(err.Error(), "\n") {
		lines = append(lines, strings.Join(strings.SplitN(l, ":", 4)[:3], ":"))
	}
	want := []string{"c.yml:1: fail-on", "c.yml:3: budgets.max-turns", "c.yml:5: reviewers[0]"}
	if !reflect.DeepEqual(lines, want) {
		t.Errorf("errors:\n%v\ngot prefixes %q, want %q", err, lines, want)
	}
}

func TestParseCapsTheErrorsReported(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	for i := range 50 {
		fmt.Fprintf(&b, "unknown%d: x\n", i)
	}
	_, err := config.Parse([]byte(b.String()), "c.yml")
	if err == nil {
		t.Fatal("Parse succeeded")
	}
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != 21 || lines[20] != "c.yml: and 30 more problems" || !strings.HasPrefix(lines[19], "c.yml:20: unknown19: ") {
		t.Errorf("got %d lines, first %q, last %q; want 20 problems and a count of the other 30", len(lines), lines[0], lines[len(lines)-1])
	}
}

func TestParseRefusesOversizedFiles(t *testing.T) {
	t.Parallel()
	data := []byte("instructions: |\n" + strings.Repeat("  x\n", config.MaxSize/4+1))
	if _, err := config.Parse(data, "big.yml"); err == nil || !strings.Contains(err.Error(), "the limit is") {
		t.Fatalf("got %v, want a size error", err)
	}
}

func FuzzParse(f *testing.F) {
	if full, err := os.ReadFile("testdata/deep-review.yml"); err == nil {
		f.Add(full)
	}
	for _, seed := range []string{
		"", "lead: auto", "reviewers:\n  - openai:gpt-5\n  - {spec: 'openai-compatible:m', api: chat}\n",
		"budgets: {max-turns: 3, max-tokens: 5000, reviewer-timeout: 1m}", "prices:\n  m: {input: 1, output: 2}\n",
		"a: &x [*x]", "include: &a ['x']\nexclude: *a\n", "? [a]\n: b\n", "--- |\n  x\n", "lead: !!binary abc",
		"reviewers:\n - &r {spec: openai:x}\n - *r\n", "{[: ]}", "\t- \"\\", "<<: *x",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := config.Parse(data, "fuzz.yml")
		if (cfg == nil) == (err == nil) {
			t.Fatalf("Parse(%q) = %v, %v: want exactly one of a config and an error", data, cfg, err)
		}
		if err != nil {
			var e *config.Error
			if !errors.As(err, &e) {
				t.Fatalf("Parse(%q) error %T is not a *config.Error: %v", data, err, err)
			}
		}
	})
}

func TestParseRefusesDeepNesting(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		"nested lists":      "include: " + strings.Repeat("[", 40) + strings.Repeat("]", 40),
		"too many brackets": "instructions: '" + strings.Repeat("{", 5000) + "'",
	}
	for name, data := range tests {
		if _, err := config.Parse([]byte(data), "n.yml"); err == nil || !strings.Contains(err.Error(), "[ and {") {
			t.Errorf("%s: got %v, want a nesting error", name, err)
		}
	}
}

func BenchmarkParse(b *testing.B) {
	data, err := os.ReadFile("testdata/deep-review.yml")
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := config.Parse(data, "deep-review.yml"); err != nil {
			b.Fatal(err)
		}
	}
}
