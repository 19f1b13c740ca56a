package providers

import (
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"time"

	"github.com/deepreview/deep-review/review"
	"github.com/deepreview/deep-review/review/agent"
	"github.com/deepreview/deep-review/review/config"
	"github.com/deepreview/deep-review/review/deps"
	"github.com/deepreview/deep-review/review/lead"
	"github.com/deepreview/deep-review/review/llm"
)

// Factory makes the models the settings name. The zero HTTPClient is a
// plain http.Client.
type Factory struct {
	Settings   config.Settings
	HTTPClient *http.Client
	// Record, when set, is a folder where every model's turns are
	// recorded for replay, one file per reviewer (FileName names it).
	Record string
	// FileName turns a display name into a file name for Record.
	FileName func(name string) string
	// Deps, when set, offers read_dependency to every reviewer and the
	// lead; one fetcher serves them all.
	Deps *deps.Fetcher
}

// Prices is the price table: the built-in one with the config file's
// overrides.
func (f Factory) Prices() map[string]llm.Price {
	if f.Settings.Prices == nil {
		return llm.DefaultPrices()
	}
	return f.Settings.Prices
}

// Model makes the model r names, a replay of a session file for the replay
// provider, wrapped in a recorder when Record is set; name is the display
// name its recording is filed under.
func (f Factory) Model(r config.Reviewer, name string) (llm.Model, llm.Identity, error) {
	spec := r.Spec
	id := llm.Identity{Provider: spec.Provider, Model: spec.Model, Effort: spec.Effort}
	var m llm.Model
	if spec.Provider == llm.ProviderReplay {
		s, err := llm.LoadSession(spec.Model)
		if err != nil {
			return nil, id, fmt.Errorf("reviewer %s: %w", spec, err)
		}
		rp := llm.NewReplay(s)
		m, id = rp, rp.Identity()
	} else {
		key := f.Settings.Key(spec.Provider, f.Settings.FileKeys[r.Label()])
		if p, ok := config.ProviderOf(spec.Provider); ok && key == "" && spec.Provider != llm.ProviderOpenAICompatible {
			return nil, id, fmt.Errorf("reviewer %s: no API key; set %s", spec, p.KeyHint())
		}
		var err error
		m, err = New(spec, Options{
			APIKey:         key,
			BaseURL:        f.Settings.BaseURL(spec.Provider, r.BaseURL),
			API:            r.API,
			HTTPClient:     f.HTTPClient,
			RequestTimeout: 10 * time.Minute,
		})
		if err != nil {
			return nil, id, fmt.Errorf("reviewer %s: %w", spec, err)
		}
	}
	if f.Record != "" {
		file := name
		if f.FileName != nil {
			file = f.FileName(name)
		}
		m = llm.NewRecorder(m, id, filepath.Join(f.Record, file+".json"))
	}
	return m, id, nil
}

// Reviewers makes one agent reviewer per entry, in order, named so a person
// can tell them apart (Names, unless the entry has a name of its own), with
// the settings' budgets and instructions.
func (f Factory) Reviewers(rs []config.Reviewer) ([]agent.Config, error) {
	specs := make([]llm.Spec, len(rs))
	for i, r := range rs {
		specs[i] = r.Spec
	}
	names := Names(specs)
	out := make([]agent.Config, 0, len(rs))
	for i, r := range rs {
		if r.Name != "" {
			names[i] = r.Name
		}
		m, id, err := f.Model(r, names[i])
		if err != nil {
			return nil, err
		}
		out = append(out, agent.Config{
			Name: names[i], Identity: id, Model: m,
			MaxTurns: f.Settings.MaxTurns, MaxTokens: f.Settings.MaxTokens, Timeout: f.Settings.ReviewerTimeout,
			ContextTokens: int64(r.ContextTokens), Price: f.price(id.Model),
			Instructions: f.Settings.Instructions, Focus: r.Focus, Deps: f.Deps,
		})
	}
	return agent.AssignFocus(out), nil
}

// price prices a model's usage from the table; false when it has no price.
func (f Factory) price(model string) func(review.Tokens) (float64, bool) {
	prices := f.Prices()
	return func(t review.Tokens) (float64, bool) { return llm.Cost(model, t, prices) }
}

// Lead makes the lead the lead setting names: none (nil), auto (the first
// reviewer's model, fresh, so its conversation never mixes with the
// reviewer's) or a spec. Replayed reviewers have no live model to lead
// with, so auto means none for them. Its progress goes to log.
func (f Factory) Lead(rs []config.Reviewer, log io.Writer) (review.Lead, error) {
	var r config.Reviewer
	switch choice := strings.TrimSpace(f.Settings.Lead); choice {
	case "", config.LeadNone:
		return nil, nil
	case config.LeadAuto:
		if len(rs) == 0 || rs[0].Spec.Provider == llm.ProviderReplay {
			return nil, nil
		}
		r = rs[0]
	default:
		spec, err := llm.ParseSpec(choice)
		if err != nil {
			return nil, fmt.Errorf("lead: %w", err)
		}
		r = config.Reviewer{Spec: spec}
	}
	m, id, err := f.Model(r, "lead")
	if err != nil {
		return nil, fmt.Errorf("lead: %w", err)
	}
	prices := f.Prices()
	return lead.New(lead.Config{
		Name:     "Lead (" + Names([]llm.Spec{r.Spec})[0] + ")",
		Identity: id,
		Model:    m,
		Cost: func(t review.Tokens) float64 {
			usd, _ := llm.Cost(id.Model, t, prices)
			return usd
		},
		Progress: func(p agent.Progress) { fmt.Fprintln(log, p.String()) },
		Deps:     f.Deps,
	}), nil
}

// Names names each reviewer by its provider's family (Claude, GPT,
// Gemini), adding the model where two share a family.
func Names(specs []llm.Spec) []string {
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
