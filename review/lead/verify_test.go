package lead

import (
	"context"
	"strings"
	"testing"

	"github.com/deepreview/deep-review/review"
	"github.com/deepreview/deep-review/review/llm"
)

func newLead(m llm.Model, concurrency int) *Lead {
	return New(Config{Name: "Lead (Fake)", Identity: llm.Identity{Provider: "fake", Model: "fake-1"}, Model: m, Concurrency: concurrency})
}

func TestVerifyJudgesEachFindingInOrderWithReasons(t *testing.T) {
	t.Parallel()
	pr := fixture(t)
	m := &fakeModel{}
	l := newLead(m, 4)
	findings := []review.Finding{excerptOf(deleteRace), excerptOf(getUnlocked), excerptOf(nilMap)}
	got, err := l.Verify(context.Background(), pr, findings)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 {
		t.Fatalf("got %d judgements, want 3", len(got))
	}
	want := []struct {
		accept, pre bool
		reason      string
	}{
		{true, false, "cache.go:22-25"}, // the PR added Delete: blame marks [PR]
		{false, false, "cache.go:11"},   // Get holds the lock: rejected
		{true, true, "cache.go:19-19"},  // Set predates the PR
	}
	for i, w := range want {
		j := got[i]
		if j.Err != nil {
			t.Errorf("finding %d: unexpected error %v", i, j.Err)
			continue
		}
		if j.Accept != w.accept || j.PreExisting != w.pre || !strings.Contains(j.Reason, w.reason) {
			t.Errorf("finding %d (%s): got accept=%v pre_existing=%v reason %q, want accept=%v pre_existing=%v reason with %q",
				i, findings[i].Title, j.Accept, j.PreExisting, j.Reason, w.accept, w.pre, w.reason)
		}
		if w.accept && j.Severity != review.Important {
			t.Errorf("finding %d: severity %q, want important", i, j.Severity)
		}
	}
	if s := l.Stats(); s.Status != review.StatusOK || s.Tokens.Total() != 3*2*110 {
		t.Errorf("stats: status %q, tokens %d; want ok and %d (3 findings x 2 turns x 110)", s.Status, s.Tokens.Total(), 3*2*110)
	}
}
