package cli

import (
	"fmt"
	"io"

	"github.com/deepreview/deep-review/review"
	"github.com/deepreview/deep-review/review/agent"
	"github.com/deepreview/deep-review/review/lead"
	"github.com/deepreview/deep-review/review/llm"
)

// newLead makes the lead from a spec: a fresh model of its own, so its
// conversation never mixes with a reviewer's. Its progress goes to log.
func newLead(f modelFactory, p plan, log io.Writer) (review.Lead, error) {
	spec := p.spec
	m, id, err := f.model(p, "lead")
	if err != nil {
		return nil, fmt.Errorf("lead: %w", err)
	}
	prices := f.prices()
	return lead.New(lead.Config{
		Name:     "Lead (" + reviewerNames([]llm.Spec{spec})[0] + ")",
		Identity: id,
		Model:    m,
		Cost: func(t review.Tokens) float64 {
			usd, _ := llm.Cost(id.Model, t, prices)
			return usd
		},
		Progress: func(p agent.Progress) { fmt.Fprintln(log, p.String()) },
	}), nil
}
