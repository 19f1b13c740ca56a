package config

import (
	"fmt"
	"strings"

	"github.com/deepreview/deep-review/review/llm"
)

// Provider is where one provider's API key and base URL come from: the
// action input, then the environment variables in order. An input wins over
// the environment.
type Provider struct {
	Name         string
	KeyInput     string
	KeyEnv       []string
	BaseURLInput string
	BaseURLEnv   string
	// Default is the reviewer used for it when no reviewers are named and
	// its key is set; "" for none.
	Default string
}

// Providers is the one table of providers, in the order default reviewers
// are listed. Settings reads keys and base URLs through it, and
// review/llm/providers names its inputs in errors. Callers must not modify
// it.
var Providers = []Provider{
	{Name: llm.ProviderAnthropic, KeyInput: "anthropic-api-key", KeyEnv: []string{"ANTHROPIC_API_KEY"}, BaseURLInput: "anthropic-base-url", BaseURLEnv: "ANTHROPIC_BASE_URL", Default: "anthropic:claude-opus-5-5@high"},
	{Name: llm.ProviderOpenAI, KeyInput: "openai-api-key", KeyEnv: []string{"OPENAI_API_KEY"}, BaseURLInput: "openai-base-url", BaseURLEnv: "OPENAI_BASE_URL", Default: "openai:gpt-6.1-sol@high"},
	{Name: llm.ProviderGemini, KeyInput: "gemini-api-key", KeyEnv: []string{"GEMINI_API_KEY", "GOOGLE_API_KEY"}, BaseURLInput: "gemini-base-url", BaseURLEnv: "GOOGLE_GEMINI_BASE_URL", Default: "gemini:gemini-3-pro-preview@high"},
	{Name: llm.ProviderOpenAICompatible, KeyInput: "openai-compatible-api-key", KeyEnv: []string{"OPENAI_COMPATIBLE_API_KEY"}, BaseURLInput: "openai-compatible-base-url", BaseURLEnv: "OPENAI_COMPATIBLE_BASE_URL"},
}

// ProviderOf is name's row of Providers; ok is false for providers
// without one (replay).
func ProviderOf(name string) (p Provider, ok bool) {
	for _, p := range Providers {
		if p.Name == name {
			return p, true
		}
	}
	return Provider{}, false
}

// KeyHint names where p's key comes from, for error messages: "the
// gemini-api-key input or GEMINI_API_KEY or GOOGLE_API_KEY".
func (p Provider) KeyHint() string {
	return "the " + p.KeyInput + " input or " + strings.Join(p.KeyEnv, " or ")
}

// BaseURLHint names where p's base URL comes from, for error messages.
func (p Provider) BaseURLHint() string {
	return "the " + p.BaseURLInput + " input or " + p.BaseURLEnv
}

// ReviewerList is who reviews: the reviewers input, else the config file's
// reviewers, else one default reviewer per provider whose key is set, in
// Providers' order. The reviewers are in the order given.
func (s Settings) ReviewerList() ([]Reviewer, error) {
	if strings.TrimSpace(s.Reviewers) == "" && len(s.FileReviewers) > 0 {
		return s.FileReviewers, nil
	}
	list := s.Reviewers
	if strings.TrimSpace(list) == "" {
		var picked []string
		for _, p := range Providers {
			if p.Default != "" && s.Keys[p.Name] != "" {
				picked = append(picked, p.Default)
			}
		}
		if len(picked) == 0 {
			return nil, fmt.Errorf("no reviewers: set the reviewers input (--reviewers), list them in the config file, or set an API key (anthropic-api-key, openai-api-key, gemini-api-key) for the default reviewers; to see deep-review without keys, run 'deep-review demo'")
		}
		list = strings.Join(picked, "\n")
	}
	specs, err := llm.ParseSpecs(list)
	if err != nil {
		return nil, fmt.Errorf("reviewers: %w", err)
	}
	if len(specs) == 0 {
		return nil, fmt.Errorf("reviewers: the list is empty")
	}
	out := make([]Reviewer, len(specs))
	for i, sp := range specs {
		out[i] = Reviewer{Spec: sp}
	}
	return out, nil
}
