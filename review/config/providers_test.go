package config_test

import (
	"testing"

	"github.com/deepreview/deep-review/review/config"
	"github.com/deepreview/deep-review/review/llm"
)

func TestProviderOf(t *testing.T) {
	t.Parallel()
	s, ok := config.ProviderOf(llm.ProviderGemini)
	if !ok || s.KeyInput != "gemini-api-key" || s.BaseURLEnv != "GOOGLE_GEMINI_BASE_URL" || len(s.KeyEnv) != 2 {
		t.Errorf("gemini source = %+v", s)
	}
	if _, ok := config.ProviderOf(llm.ProviderReplay); ok {
		t.Error("replay has a source")
	}
}

func TestEveryProviderHasItsInputs(t *testing.T) {
	t.Parallel()
	inputs := map[string]bool{}
	for _, in := range config.Inputs {
		inputs[in.Name] = true
	}
	for _, p := range config.Providers {
		if !inputs[p.KeyInput] || !inputs[p.BaseURLInput] {
			t.Errorf("provider %s: inputs %s and %s must be in config.Inputs", p.Name, p.KeyInput, p.BaseURLInput)
		}
	}
}

func TestSettingsPreferInputsOverEnvironment(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name             string
		provider         string
		inputs, env      map[string]string
		wantKey, wantURL string
	}{
		{"input wins", "anthropic", map[string]string{"anthropic-api-key": " sk-in ", "anthropic-base-url": "http://in"},
			map[string]string{"ANTHROPIC_API_KEY": "sk-env", "ANTHROPIC_BASE_URL": "http://env"}, "sk-in", "http://in"},
		{"environment fills the gaps", "openai-compatible", map[string]string{"openai-compatible-api-key": ""},
			map[string]string{"OPENAI_COMPATIBLE_API_KEY": "k", "OPENAI_COMPATIBLE_BASE_URL": "http://localhost:11434/v1"}, "k", "http://localhost:11434/v1"},
		{"gemini falls back to GOOGLE_API_KEY", "gemini", nil, map[string]string{"GOOGLE_API_KEY": "g", "GOOGLE_GEMINI_BASE_URL": "http://g"}, "g", "http://g"},
		{"GEMINI_API_KEY comes first", "gemini", nil, map[string]string{"GOOGLE_API_KEY": "g", "GEMINI_API_KEY": "gem"}, "gem", ""},
		{"nothing set", "openai", nil, nil, "", ""},
		{"replay has none", "replay", map[string]string{"replay-api-key": "x"}, nil, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := config.Values{}
			for _, in := range config.Inputs {
				if !in.File {
					v[in.Name] = in.Default
				}
			}
			for k, x := range tt.inputs {
				v[k] = x
			}
			s, err := v.Settings(func(n string) string { return tt.env[n] }, nil)
			if err != nil {
				t.Fatal(err)
			}
			if key, url := s.Keys[tt.provider], s.BaseURLs[tt.provider]; key != tt.wantKey || url != tt.wantURL {
				t.Errorf("Settings = %q, %q; want %q, %q", key, url, tt.wantKey, tt.wantURL)
			}
		})
	}
}
