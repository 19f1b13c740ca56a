package cli

import (
	"fmt"
	"net/http"
	"path/filepath"
	"strings"

	"github.com/deepreview/deep-review/review/config"
	"github.com/deepreview/deep-review/review/llm"
	"github.com/deepreview/deep-review/review/publish"
)

// defaultModels are the reviewers used when the reviewers input is empty:
// one per provider whose key is set.
var defaultModels = []string{
	"anthropic:claude-opus-5-5@high",
	"openai:gpt-6.1-sol@high",
	"gemini:gemini-3-pro-preview@high",
}

// keyInputs names, per provider, the input and environment variable that
// carry its key, for error messages.
var keyInputs = map[string]string{
	llm.ProviderAnthropic:        "the anthropic-api-key input or ANTHROPIC_API_KEY",
	llm.ProviderOpenAI:           "the openai-api-key input or OPENAI_API_KEY",
	llm.ProviderGemini:           "the gemini-api-key input or GEMINI_API_KEY",
	llm.ProviderOpenAICompatible: "the openai-compatible-api-key input or OPENAI_COMPATIBLE_API_KEY",
}

// plan is one reviewer to build: its spec and how to reach it.
type plan struct {
	spec llm.Spec
	// name is the display name; "" derives one from the spec.
	name string
	// key, baseURL and api override the provider's input or environment.
	key, baseURL, api string
}

// reviewerPlans lists the reviewers: the reviewers input, else the config
// file's, else one default per provider whose key is set.
func reviewerPlans(s config.Settings) ([]plan, error) {
	if strings.TrimSpace(s.Reviewers) == "" && len(s.FileReviewers) > 0 {
		plans := make([]plan, 0, len(s.FileReviewers))
		for _, r := range s.FileReviewers {
			plans = append(plans, plan{spec: r.Spec, name: r.Name, key: s.FileKeys[r.Label()], baseURL: r.BaseURL, api: r.API})
		}
		return plans, nil
	}
	list := s.Reviewers
	if strings.TrimSpace(list) == "" {
		var picked []string
		for _, spec := range defaultModels {
			provider, _, _ := strings.Cut(spec, ":")
			if s.Keys[provider] != "" {
				picked = append(picked, spec)
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
	plans := make([]plan, len(specs))
	for i, sp := range specs {
		plans[i] = plan{spec: sp}
	}
	return plans, nil
}

// modelFactory makes models for specs from the settings' keys and base URLs.
type modelFactory struct {
	settings config.Settings
	http     *http.Client
	// record, when set, is a folder where every reviewer's turns are
	// recorded for replay.
	record string
}

// prices is the price table: the built-in one with the config's overrides.
func (f modelFactory) prices() map[string]llm.Price {
	if f.settings.Prices == nil {
		return llm.DefaultPrices()
	}
	return f.settings.Prices
}

// model makes the model a plan names, wrapped in a recorder when asked.
func (f modelFactory) model(p plan, name string) (llm.Model, llm.Identity, error) {
	spec := p.spec
	id := llm.Identity{Provider: spec.Provider, Model: spec.Model, Effort: spec.Effort}
	var m llm.Model
	if spec.Provider == llm.ProviderReplay {
		s, err := llm.LoadSession(spec.Model)
		if err != nil {
			return nil, id, fmt.Errorf("reviewer %s: %w", spec, err)
		}
		r := llm.NewReplay(s)
		m, id = r, r.Identity()
	} else {
		key := f.settings.Key(spec.Provider, p.key)
		if key == "" && spec.Provider != llm.ProviderOpenAICompatible {
			return nil, id, fmt.Errorf("reviewer %s: no API key; set %s", spec, keyInputs[spec.Provider])
		}
		var err error
		m, err = f.live(spec, key, f.settings.BaseURL(spec.Provider, p.baseURL), p.api)
		if err != nil {
			return nil, id, fmt.Errorf("reviewer %s: %w", spec, err)
		}
	}
	if f.record != "" {
		m = llm.NewRecorder(m, id, filepath.Join(f.record, publish.FileName(name)+".json"))
	}
	return m, id, nil
}

// reviewers makes every reviewer, named so a person can tell them apart.
func (f modelFactory) reviewers(plans []plan) ([]reviewer, error) {
	specs := make([]llm.Spec, len(plans))
	for i, p := range plans {
		specs[i] = p.spec
	}
	names := reviewerNames(specs)
	out := make([]reviewer, 0, len(plans))
	for i, p := range plans {
		if p.name != "" {
			names[i] = p.name
		}
		m, id, err := f.model(p, names[i])
		if err != nil {
			return nil, err
		}
		out = append(out, reviewer{name: names[i], id: id, model: m})
	}
	return out, nil
}

// reviewerNames names each reviewer by its provider's family (Claude, GPT,
// Gemini), adding the model where two share a family.
func reviewerNames(specs []llm.Spec) []string {
	family := func(s llm.Spec) string {
		switch s.Provider {
		case llm.ProviderAnthropic:
			return "Claude"
		case llm.ProviderOpenAI:
			return "GPT"
		case llm.ProviderGemini:
			return "Gemini"
		case llm.ProviderReplay:
			base := strings.TrimSuffix(filepath.Base(s.Model), filepath.Ext(s.Model))
			if base == "" {
				return "Replay"
			}
			return strings.ToUpper(base[:1]) + base[1:]
		}
		return s.Model
	}
	count := map[string]int{}
	for _, s := range specs {
		count[family(s)]++
	}
	names := make([]string, len(specs))
	used := map[string]int{}
	for i, s := range specs {
		n := family(s)
		if count[n] > 1 {
			n = fmt.Sprintf("%s (%s)", n, s.Model)
			if s.Effort != "" {
				n = fmt.Sprintf("%s (%s@%s)", family(s), s.Model, s.Effort)
			}
		}
		used[n]++
		if used[n] > 1 {
			n = fmt.Sprintf("%s #%d", n, used[n])
		}
		names[i] = n
	}
	return names
}
