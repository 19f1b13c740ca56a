package agent

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/sourcegraph/conc/iter"

	"github.com/deepreview/deep-review/review"
)

// ReviewAll runs every reviewer on pr in parallel, one goroutine each, and
// returns their results in the reviewers' order. A reviewer that fails,
// times out or panics is reported as such in its Run; the others' work is
// kept and none cancels another. Each reviewer's events go to log, which
// must take each Write whole (one line per Write is written); when grouped,
// only each turn's summary goes to log live, and each reviewer's whole log
// follows afterwards in a collapsible group of its own (GitHub Actions'
// ::group::), since parallel reviewers interleave. Reviewers are told apart
// by position, so two may share a name. A Config's Progress is replaced.
func ReviewAll(ctx context.Context, pr *review.PR, reviewers []Config, log io.Writer, grouped bool) []Result {
	logs := make([]strings.Builder, len(reviewers))
	index := make([]int, len(reviewers))
	for i := range index {
		index[i] = i
	}
	mapper := iter.Mapper[int, Result]{MaxGoroutines: max(1, len(reviewers))}
	results := mapper.Map(index, func(i *int) Result {
		return reviewOne(ctx, pr, reviewers[*i], log, grouped, &logs[*i])
	})
	if grouped {
		for i, res := range results {
			fmt.Fprintf(log, "::group::%s: %s in %s\n%s::endgroup::\n", res.Run.Name, res.Run.Status,
				review.Duration(res.Run.Duration.Milliseconds()), logs[i].String())
		}
	}
	return results
}

// reviewOne runs one reviewer, turning a panic into that reviewer's failure.
// Its events go to the live log, or, when grouped, to own with only each
// turn's summary live; own is written by this reviewer alone.
func reviewOne(ctx context.Context, pr *review.PR, cfg Config, log io.Writer, grouped bool, own *strings.Builder) (res Result) {
	defer func() {
		if v := recover(); v != nil {
			id := cfg.Identity
			res = Result{Run: review.Run{
				Name: cfg.Name, Provider: id.Provider, Model: id.Model, Effort: id.Effort, Label: id.Label,
				Status: review.StatusFailed, Error: fmt.Sprintf("internal error: %v", v),
			}}
		}
	}()
	cfg.Progress = func(ev Progress) {
		if !grouped {
			fmt.Fprintf(log, "%s\n", ev.String())
			return
		}
		own.WriteString(ev.String() + "\n")
		if ev.Event == EventTurn || ev.Event == EventDone || ev.Event == EventForce {
			fmt.Fprintf(log, "%s\n", ev.String())
		}
	}
	return Review(ctx, pr, cfg)
}
