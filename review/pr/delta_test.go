package pr

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/deepreview/deep-review/review"
)

func TestFocusFindsTheDeltaAndRechecksEarlierFindings(t *testing.T) {
	f := newFixture(t)
	f.write("a.go", "package a\n\nfunc A() int {\n\treturn 1\n}\n")
	base := f.commit("Start")
	f.git("checkout", "-q", "-b", "feature")
	f.write("a.go", "package a\n\nfunc A() int {\n\treturn 1 / zero\n}\n")
	f.write("b.go", "package a\n\nvar zero = 0\n")
	reviewed := f.commit("Divide")
	f.write("b.go", "package a\n\nvar zero = 1\n")
	head := f.commit("Fix the divisor")

	divide := review.Finding{File: "a.go", StartLine: 4, EndLine: 4, Excerpt: "\treturn 1 / zero", Fingerprint: "div", ID: "C1", Title: "A divides by zero"}
	zero := review.Finding{File: "b.go", StartLine: 3, EndLine: 3, Excerpt: "var zero = 0", Fingerprint: "zero", ID: "I1", Title: "zero is zero"}
	r1 := &review.Report{Round: 1, PR: review.PR{HeadSHA: reviewed}, Findings: []review.Finding{divide, zero},
		Reviewers: []review.ReviewerStats{{Name: "Alpha", Status: review.StatusOK}}}
	prev := review.StateOf(r1)
	p := &review.PR{BaseSHA: base, HeadSHA: head, Previous: &prev,
		Files: []review.ChangedFile{{Path: "a.go"}, {Path: "b.go"}}}

	if err := Focus(context.Background(), f.repo, p, false, nil); err != nil {
		t.Fatal(err)
	}
	if p.Delta == nil {
		t.Fatalf("no delta: %s", p.DeltaReason)
	}
	if !slices.Equal(p.Delta.Files, []string{"b.go"}) || !slices.Equal(p.Delta.Unchanged, []string{"a.go"}) {
		t.Errorf("delta files %v, unchanged %v; want [b.go] and [a.go]", p.Delta.Files, p.Delta.Unchanged)
	}
	if !strings.Contains(p.Delta.Diff, "+var zero = 1") {
		t.Errorf("interdiff lacks the fix:\n%s", p.Delta.Diff)
	}
	got := map[string]review.Earlier{}
	for _, e := range p.Earlier {
		got[e.ID] = e
	}
	if !got["C1"].Unchanged || got["I1"].Unchanged || got["I1"].Reason == "" {
		t.Errorf("earlier = %+v, want C1 unchanged and I1 changed with a reason", p.Earlier)
	}

	full := &review.PR{BaseSHA: base, HeadSHA: head, Previous: &prev}
	if err := Focus(context.Background(), f.repo, full, true, nil); err != nil {
		t.Fatal(err)
	}
	if full.Delta != nil || !strings.Contains(full.DeltaReason, "full") || len(full.Earlier) != 2 {
		t.Errorf("scope full: delta %v, reason %q, %d earlier; want no delta, the reason, both re-checked", full.Delta, full.DeltaReason, len(full.Earlier))
	}
}
