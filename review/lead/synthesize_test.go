package lead

import (
	"context"
	"strings"
	"testing"

	"github.com/deepreview/deep-review/review"
)

// settled is a report as Consolidate hands it to Synthesize.
func settled() *review.Report {
	race := excerptOf(deleteRace)
	race.ID, race.Severity, race.Tags = "I1", review.Important, []string{"regression"}
	fp := excerptOf(getUnlocked)
	fp.ID, fp.Reason = "R1", "Get takes c.mu at cache.go:11."
	return &review.Report{
		PR:       review.PR{Repo: "o/cache", Number: 9, Title: "Add Delete", Author: "pat"},
		Round:    1,
		Findings: []review.Finding{race},
		Rejected: []review.Finding{fp},
		Verdict:  review.Verdict{Decision: review.MergeWithFixes, Reason: "1 important issue: I1", DecidedBy: review.DecidedByRules},
		Reviewers: []review.ReviewerStats{
			{Name: "Alpha", Provider: "anthropic", Model: "claude-x", Status: review.StatusOK, DurationMS: 346_000, Turns: 12,
				ToolCalls: map[string]int{"read_file": 7, "git_blame": 2}, FilesReviewed: []string{"cache.go"},
				Counts: review.Counts{Important: 1}, CoverageMisses: []string{}},
			{Name: "Bravo", Provider: "openai", Model: "gpt-x", Status: review.StatusOK, DurationMS: 459_000, Turns: 9,
				ToolCalls: map[string]int{"grep": 3}, Counts: review.Counts{Important: 1}, FalsePositives: 1, CoverageMisses: []string{}},
		},
	}
}

func TestSynthesizeMapsRetrosByReviewerName(t *testing.T) {
	t.Parallel()
	m := &fakeModel{}
	l := newLead(m, 2)
	s, err := l.Synthesize(context.Background(), settled())
	if err != nil {
		t.Fatal(err)
	}
	if s.Decision != review.MergeWithFixes || s.Reason != "Delete races with Set." || !strings.Contains(s.Summary, "adds Delete") {
		t.Errorf("got decision %q reason %q summary %q", s.Decision, s.Reason, s.Summary)
	}
	if len(s.Retros) != 2 || s.Retros["Alpha"] != "Alpha found what it found." || s.Retros["Bravo"] != "Bravo found what it found." {
		t.Errorf("retros = %v, want one per reviewer keyed by name", s.Retros)
	}
	if s.Retro != "Alpha found more than Bravo." {
		t.Errorf("retro = %q", s.Retro)
	}
	prompt := m.requests[0].Messages[0].Text
	for _, want := range []string{"I1 [important] Delete writes the map without the lock", "R1 [important] Get reads the map without locking",
		"rejected because: Get takes c.mu", "false positives: 1 (R1)", "duration 5m46s, 12 turns, 9 tool calls (read_file 7, git_blame 2)"} {
		if !strings.Contains(prompt, want) {
			t.Errorf("the synthesis prompt lacks %q:\n%s", want, prompt)
		}
	}
}
