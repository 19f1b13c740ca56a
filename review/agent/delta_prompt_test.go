package agent

import (
	"strings"
	"testing"

	"github.com/deepreview/deep-review/review"
)

func TestALaterRoundLeadsWithTheInterdiff(t *testing.T) {
	fullDiff := "diff --git a/a.go b/a.go\n--- a/a.go\n+++ b/a.go\n@@ -1 +1 @@\n-old whole-PR line\n+new whole-PR line\n"
	interdiff := "diff --git a/b.go b/b.go\n--- a/b.go\n+++ b/b.go\n@@ -3 +3 @@\n-var zero = 0\n+var zero = 1\n"
	pr := &review.PR{
		Repo: "o/r", Number: 7, HeadSHA: "2222222222", Diff: fullDiff,
		Files:    []review.ChangedFile{{Path: "a.go", Status: "modified"}, {Path: "b.go", Status: "modified"}},
		Previous: &review.State{Round: 1, HeadSHA: "1111111111"},
		Delta:    &review.Delta{Reviewed: "1111111111", From: "1111111111", Diff: interdiff, Files: []string{"b.go"}, Unchanged: []string{"a.go"}},
		Earlier: []review.Earlier{
			{ID: "C1", Title: "A divides by zero", File: "a.go", StartLine: 4, EndLine: 4, Unchanged: true},
			{ID: "I1", Title: "zero is zero", File: "b.go", StartLine: 3, EndLine: 3, Reason: "the code it is about changed in b.go"},
		},
	}
	got := UserPrompt(pr, 0)
	delta := strings.Index(got, "## What changed since the last round")
	meta := strings.Index(got, "## Pull request")
	if delta < 0 || meta < 0 || delta > meta {
		t.Fatalf("the message does not lead with the interdiff:\n%s", got)
	}
	for _, want := range []string{"+var zero = 1", "unchanged-files", "a.go", "C1 A divides by zero", "do not report them again", "I1 zero is zero (b.go:3-3): the code it is about changed"} {
		if !strings.Contains(got, want) {
			t.Errorf("the message lacks %q", want)
		}
	}
	if strings.Contains(got, "new whole-PR line") {
		t.Error("a delta round's first message holds the whole PR's diff; it should be a diff call away")
	}

	pr.Delta, pr.DeltaReason = nil, "history was rewritten: 2 of the 2 reviewed commits have no matching patch at the new head"
	got = UserPrompt(pr, 0)
	if !strings.Contains(got, "reviews everything again because history was rewritten") || !strings.Contains(got, "new whole-PR line") {
		t.Errorf("a full round does not say why, or lacks the whole diff:\n%s", got)
	}
}
