package cli

import (
	"flag"
	"strings"
	"testing"

	"github.com/deepreview/deep-review/review/config"
	"github.com/deepreview/deep-review/review/llm"
)

func parseWith(t *testing.T, args []string, env map[string]string) (config.Settings, error) {
	t.Helper()
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	v := registerInputs(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	getenv := func(k string) string { return env[k] }
	v.fromActionEnv(getenv, flagsSet(fs))
	return v.parse(getenv, nil)
}

func TestInputsComeFromFlagsThenActionEnvThenProviderEnv(t *testing.T) {
	s, err := parseWith(t, []string{"--max-turns", "12"}, map[string]string{
		"INPUT_MAX-TURNS":         "30",
		"INPUT_PR-NUMBER":         "#42",
		"INPUT_ANTHROPIC-API-KEY": "sk-ant-input",
		"ANTHROPIC_API_KEY":       "sk-ant-env",
		"OPENAI_API_KEY":          "sk-env",
		"INPUT_COMMENT":           "false",
		"INPUT_REVIEWER-TIMEOUT":  "90s",
	})
	if err != nil {
		t.Fatal(err)
	}
	if s.MaxTurns != 12 {
		t.Errorf("max-turns = %d: an explicit flag must win over INPUT_", s.MaxTurns)
	}
	if s.PRNumber != 42 || s.Comment || s.ReviewerTimeout.Seconds() != 90 {
		t.Errorf("settings = %+v", s)
	}
	if s.Keys["anthropic"] != "sk-ant-input" || s.Keys["openai"] != "sk-env" {
		t.Errorf("keys = %v: an input wins over the environment, which fills in", s.Keys)
	}
	if got := s.Secrets(); len(got) != 2 {
		t.Errorf("secrets = %d values, want 2", len(got))
	}
}

func TestBadInputsNameTheInputAndTheFix(t *testing.T) {
	tests := map[string]string{
		"INPUT_FAIL-ON":          "fail-on \"sometimes\": use never, important or critical",
		"INPUT_MAX-TURNS":        "max-turns \"sometimes\": want a whole number",
		"INPUT_REVIEWER-TIMEOUT": "reviewer-timeout \"sometimes\": want a duration such as 10m",
		"INPUT_PR-NUMBER":        "pr-number \"sometimes\": want a pull request number",
		"INPUT_MODE":             "mode \"sometimes\": use review or plan",
		"INPUT_ANNOTATIONS":      "annotations \"sometimes\": use true or false",
		"INPUT_MAX-TOKENS":       "max-tokens \"sometimes\": want a whole number",
	}
	for env, want := range tests {
		_, err := parseWith(t, nil, map[string]string{env: "sometimes"})
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s=sometimes: err = %v, want %q", env, err, want)
		}
	}
}

func TestTheConfigFileFillsWhatNoInputGives(t *testing.T) {
	cfg := &config.Config{MaxTurns: 12, FailOn: "critical", Include: []string{"src/**"}, Lead: "none",
		Reviewers: []config.Reviewer{{Name: "Local", Spec: llm.Spec{Provider: "openai-compatible", Model: "llama"}, KeyEnv: "LOCAL_KEY", API: "chat"}},
		Prices:    map[string]config.Price{"llama": {Input: 1, Output: 2}}}
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	v := registerInputs(fs)
	if err := fs.Parse([]string{"--fail-on", "important"}); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"LOCAL_KEY": "local-secret-key", "INPUT_REVIEWER-TIMEOUT": "3m"}
	getenv := func(k string) string { return env[k] }
	v.fromActionEnv(getenv, flagsSet(fs))
	s, err := v.parse(getenv, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if s.MaxTurns != 12 || s.FailOn != "important" || s.ReviewerTimeout.Minutes() != 3 || s.Lead != "none" || s.MaxTokens != 2000000 {
		t.Errorf("settings = %+v: want the file's max-turns and lead, the flag's fail-on, the input's timeout, the default max-tokens", s)
	}
	if len(s.Include) != 1 || s.Include[0] != "src/**" {
		t.Errorf("include = %v", s.Include)
	}
	plans, err := s.ReviewerList()
	if err != nil || len(plans) != 1 || plans[0].Name != "Local" || s.FileKeys[plans[0].Label()] != "local-secret-key" || plans[0].API != "chat" {
		t.Errorf("plans = %+v, %v", plans, err)
	}
	if p := s.Prices["llama"]; p.Output != 2 {
		t.Errorf("price override lost: %+v", p)
	}
	found := false
	for _, sec := range s.Secrets() {
		found = found || sec == "local-secret-key"
	}
	if !found {
		t.Error("the key a key-env names is not treated as a secret")
	}
}
