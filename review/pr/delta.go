package pr

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/deepreview/deep-review/review"
	"github.com/deepreview/deep-review/review/git"
)

// Focus prepares a later round: it re-checks the last round's open findings
// at the head (p.Earlier) and, unless full is set, finds the delta since
// the head the last round reviewed (p.Delta), fetching that head when the
// checkout lacks it; when there is none it says why (p.DeltaReason).
// fetch, when set, fetches a commit the checkout does not hold.
func Focus(ctx context.Context, repo git.Repo, p *review.PR, full bool, fetch func(ctx context.Context, sha string) error) error {
	prev := p.Previous
	if prev == nil {
		return nil
	}
	head := git.NewBatchTree(ctx, repo, p.HeadSHA)
	p.Earlier = review.Recheck(prev, head)
	if err := head.Close(); err != nil {
		return fmt.Errorf("re-check the last round's findings at %s: %w", short(p.HeadSHA), err)
	}
	if full {
		p.DeltaReason = "the scope input is full"
		return nil
	}
	if prev.HeadSHA == p.HeadSHA {
		p.DeltaReason = "the head has not moved since the last round"
		return nil
	}
	if prev.HeadSHA != "" && fetch != nil && !repo.HasCommit(ctx, prev.HeadSHA) {
		// Best effort: GitHub still serves a force-pushed head by SHA for a
		// while; FindDelta says so when it cannot be had.
		_ = fetch(ctx, prev.HeadSHA)
	}
	// The interdiff is read with the base's attributes, as the PR's diff
	// is, so the PR's .gitattributes cannot hide it.
	view, err := repo.ReadingAt(ctx, p.BaseSHA)
	if err != nil {
		return err
	}
	d, err := git.FindDelta(ctx, view, prev.HeadSHA, p.BaseSHA, p.HeadSHA, diffCmd())
	if nd, ok := errors.AsType[*git.NoDeltaError](err); ok {
		p.DeltaReason = nd.Reason
		return nil
	}
	if err != nil {
		return err
	}
	p.Delta = deltaOf(d, p.Files)
	return nil
}

// deltaOf is the review's form of a git delta, with the pull request's
// files that the delta leaves unchanged.
func deltaOf(d *git.Delta, files []review.ChangedFile) *review.Delta {
	out := &review.Delta{
		Reviewed: d.Reviewed, From: d.From, Rebased: d.Rebased,
		Diff: d.Diff, Files: d.Files, Touched: map[string][]review.LineRange{},
	}
	for path, ranges := range d.Touched {
		for _, r := range ranges {
			out.Touched[path] = append(out.Touched[path], review.LineRange{Start: r.Start, End: r.End})
		}
	}
	for _, f := range files {
		if !slices.Contains(d.Files, f.Path) {
			out.Unchanged = append(out.Unchanged, f.Path)
		}
	}
	return out
}
