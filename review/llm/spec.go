package llm

import (
	"fmt"
	"strings"
)

// Providers a reviewer spec may name.
const (
	ProviderAnthropic        = "anthropic"
	ProviderOpenAI           = "openai"
	ProviderOpenAICompatible = "openai-compatible"
	ProviderGemini           = "gemini"
	ProviderReplay           = "replay"
)

// Efforts a reviewer spec may name.
var efforts = []string{"low", "medium", "high", "xhigh"}

// Spec is one reviewer as the `reviewers` input names it:
// provider:model[@effort].
type Spec struct {
	Provider string
	Model    string
	Effort   string
}

// String is the spec in its input form.
func (s Spec) String() string {
	if s.Effort == "" {
		return s.Provider + ":" + s.Model
	}
	return s.Provider + ":" + s.Model + "@" + s.Effort
}

// ParseSpec parses one provider:model[@effort].
func ParseSpec(s string) (Spec, error) {
	s = strings.TrimSpace(s)
	provider, rest, ok := strings.Cut(s, ":")
	if !ok || provider == "" || rest == "" {
		return Spec{}, fmt.Errorf("reviewer %q: want provider:model[@effort], e.g. anthropic:claude-opus-5-5@high", s)
	}
	switch provider {
	case ProviderAnthropic, ProviderOpenAI, ProviderOpenAICompatible, ProviderGemini, ProviderReplay:
	default:
		return Spec{}, fmt.Errorf("reviewer %q: unknown provider %q; use anthropic, openai, openai-compatible or gemini", s, provider)
	}
	model, effort, hasEffort := strings.Cut(rest, "@")
	if model == "" {
		return Spec{}, fmt.Errorf("reviewer %q: the model is empty", s)
	}
	if hasEffort {
		valid := false
		for _, e := range efforts {
			valid = valid || e == effort
		}
		if !valid {
			return Spec{}, fmt.Errorf("reviewer %q: unknown effort %q; use low, medium, high or xhigh", s, effort)
		}
	}
	return Spec{Provider: provider, Model: model, Effort: effort}, nil
}

// ParseSpecs parses a list of specs, one per line or comma-separated. Blank
// entries are ignored; the same spec twice is an error, since reviewers are
// told apart by it.
func ParseSpecs(list string) ([]Spec, error) {
	var specs []Spec
	seen := map[string]bool{}
	for _, line := range strings.Split(list, "\n") {
		for _, item := range strings.Split(line, ",") {
			if strings.TrimSpace(item) == "" {
				continue
			}
			s, err := ParseSpec(item)
			if err != nil {
				return nil, err
			}
			if seen[s.String()] {
				return nil, fmt.Errorf("reviewer %q is listed twice", s.String())
			}
			seen[s.String()] = true
			specs = append(specs, s)
		}
	}
	return specs, nil
}
