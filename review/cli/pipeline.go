package cli

import (
	"context"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/deepreview/deep-review/review"
	"github.com/deepreview/deep-review/review/agent"
	"github.com/deepreview/deep-review/review/git"
	"github.com/deepreview/deep-review/review/lead"
	"github.com/deepreview/deep-review/review/llm"
)

// pipeline runs the reviewers on a gathered PR and consolidates what they
// submit. It holds the lead, the prices and where progress goes; it is used
// once per PR.
type pipeline struct {
	prices map[string]llm.Price
	lead   review.Lead
	// budget is the run's cost cap, nil for none.
	budget *review.Budget
	now    func() time.Time
	log    *syncWriter
	// grouped keeps the live log to one line per turn and prints each
	// reviewer's whole log afterwards in a collapsible group of its own
	// (GitHub Actions' ::group::), since parallel reviewers interleave.
	grouped bool
}

// syncWriter serialises writes from the reviewers' goroutines so progress
// lines never interleave mid-line.
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

// Write writes p whole, after any other Write in progress.
func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

func (s *syncWriter) printf(format string, args ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	fmt.Fprintf(s.w, format, args...)
}

// run reviews pr with every reviewer in parallel and consolidates. A
// reviewer that fails, times out or panics is reported as such; the others'
// work is kept. Results are in the reviewers' order.
func (p *pipeline) run(ctx context.Context, pr *review.PR, reviewers []agent.Config) (*review.Report, []agent.Result) {
	started := p.now()
	p.log.printf("Reviewing %s (%d files, +%d/-%d) with %d reviewers in parallel\n",
		prLabel(pr), len(pr.Files), pr.Additions(), pr.Deletions(), len(reviewers))
	results := agent.ReviewAll(ctx, pr, reviewers, p.log, p.grouped)
	runs := make([]review.Run, len(results))
	for i, res := range results {
		runs[i] = res.Run
		if cost, known := llm.Cost(res.Run.Model, res.Run.Tokens, p.prices); known {
			runs[i].CostUSD = cost
		}
		p.log.printf("[%s] %s in %s: %d turns, %d tool calls%s\n", res.Run.Name, res.Run.Status,
			review.Duration(res.Run.Duration.Milliseconds()), res.Run.Turns, review.ReviewerStats{ToolCalls: res.Run.ToolCalls}.TotalToolCalls(), errSuffix(res.Run.Error))
	}
	repo := git.Repo{Dir: pr.Dir}
	if p.grouped && p.lead != nil {
		p.log.printf("::group::Lead: verify the findings and write the summary\n")
		defer p.log.printf("::endgroup::\n")
	}
	head := git.NewBatchTree(ctx, repo, pr.HeadSHA)
	defer head.Close()
	report := review.Consolidate(ctx, review.Input{
		PR:   pr,
		Runs: runs,
		Head: head,
		CheckPatch: func(ctx context.Context, patch string) error {
			return repo.CheckPatch(ctx, pr.HeadSHA, patch)
		},
		Lead:        p.lead,
		Budget:      p.budget,
		LeadCostUSD: p.leadCost(),
		Started:     started,
		Now:         p.now,
	})
	return report, results
}

// leadCost estimates what the lead would cost for n findings, nil without
// a lead.
func (p *pipeline) leadCost() func(n int) float64 {
	if p.lead == nil {
		return nil
	}
	return lead.EstimateUSD(p.lead.Stats().Model, p.prices)
}

func prLabel(pr *review.PR) string {
	if pr.Number > 0 {
		return fmt.Sprintf("%s#%d", pr.Repo, pr.Number)
	}
	return fmt.Sprintf("%s %s..%s", pr.Repo, pr.BaseRef, pr.HeadRef)
}

// errSuffix is ": err" for the log, made safe to print: errors carry
// provider and model text.
func errSuffix(e string) string {
	if e == "" {
		return ""
	}
	return ": " + agent.LogLine(e)
}
