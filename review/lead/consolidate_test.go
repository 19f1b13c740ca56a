package lead

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/deepreview/deep-review/review"
	"github.com/deepreview/deep-review/review/git"
)

func submitted(name string, fs ...review.SubmittedFinding) review.Run {
	return review.Run{
		Name: name, Provider: "fake", Model: "fake-" + strings.ToLower(name), Status: review.StatusOK,
		Duration: 3 * time.Minute, Turns: 10, ToolCalls: map[string]int{"read_file": 4}, FilesReviewed: []string{"cache.go"},
		Submission: &review.Submission{Summary: name + " reviewed the cache.", Verdict: review.MergeWithFixes, Findings: fs},
	}
}

// TestConsolidateWithTheLead runs the whole consolidation with this lead
// against the fixture repository: the race the PR introduced is accepted
// and downgraded, the finding on code that predates the PR is kept as a
// pre-existing issue, every finding is named by its ID, the wrong claim is rejected with the lead's reason, and the lead
// writes the verdict and the retros.
func TestConsolidateWithTheLead(t *testing.T) {
	t.Parallel()
	pr := fixture(t)
	race := review.SubmittedFinding{Severity: review.Critical, Title: "Delete writes the map without the lock", File: "cache.go",
		StartLine: 24, EndLine: 24, Quote: "delete(c.items, key)", Explanation: "Delete races with Set: it does not take c.mu."}
	nilMap := review.SubmittedFinding{Severity: review.Important, Title: "Set writes to a nil map", File: "cache.go",
		StartLine: 19, EndLine: 19, Quote: "c.items[key] = value", Explanation: "Nothing allocates items, so the first Set panics."}
	wrong := review.SubmittedFinding{Severity: review.Important, Title: "Get reads the map without locking", File: "cache.go",
		StartLine: 10, EndLine: 10, Quote: "func (c *Cache) Get(key string) string {", Explanation: "Get takes no lock."}
	m := &fakeModel{}
	lead := newLead(m, 4)
	r := review.Consolidate(context.Background(), review.Input{
		PR:          pr,
		Runs:        []review.Run{submitted("Alpha", race, nilMap), submitted("Bravo", wrong)},
		Head:        git.Tree{Repo: git.Repo{Dir: pr.Dir}, Rev: pr.HeadSHA},
		Lead:        lead,
		GeneratedAt: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC),
	})

	if len(r.Rejected) != 1 || r.Rejected[0].Title != wrong.Title || !strings.Contains(r.Rejected[0].Reason, "cache.go:11") {
		t.Fatalf("rejected = %+v, want Get's claim with the lead's reason", r.Rejected)
	}
	if len(r.Findings) != 1 || r.Findings[0].Title != race.Title || r.Findings[0].Severity != review.Important || !contains(r.Findings[0].Tags, "regression") {
		t.Fatalf("findings = %+v, want the race, settled at important, a regression", r.Findings)
	}
	if len(r.Concerns) != 0 {
		t.Errorf("concerns = %+v: a pre-existing finding is not a design concern", r.Concerns)
	}
	if len(r.PreExisting) != 1 || r.PreExisting[0].Title != nilMap.Title || r.PreExisting[0].ID != "P1" || r.PreExisting[0].Excerpt == "" {
		t.Errorf("pre-existing = %+v, want the nil map kept with its evidence as P1", r.PreExisting)
	}
	// The lead names findings by consolidated ID, in verification and synthesis.
	m.mu.Lock()
	var firsts []string
	for _, req := range m.requests {
		firsts = append(firsts, req.Messages[0].Text)
	}
	m.mu.Unlock()
	all := strings.Join(firsts, "\n")
	for _, want := range []string{"Verify finding C1 of", "Verify finding I1 of", "Verify finding I2 of", "## Pre-existing issues this PR touches", "P1 [important] Set writes to a nil map"} {
		if !strings.Contains(all, want) {
			t.Errorf("the lead's prompts lack %q", want)
		}
	}
	if strings.Contains(all, "Verify finding 1 of") || strings.Contains(all, "Verify finding #") {
		t.Error("a verification names its finding by position")
	}
	if r.Verdict.DecidedBy != review.DecidedByLead || r.Verdict.Decision != review.MergeWithFixes || r.Verdict.Reason != "Delete races with Set." {
		t.Errorf("verdict = %+v, want the lead's merge-with-fixes", r.Verdict)
	}
	if r.Summary != "The pull request adds Delete to the cache." {
		t.Errorf("summary = %q", r.Summary)
	}
	for _, s := range r.Reviewers {
		if s.Retro != s.Name+" found what it found." {
			t.Errorf("%s's retro = %q", s.Name, s.Retro)
		}
		if want := map[string]int{"Alpha": 0, "Bravo": 1}[s.Name]; s.FalsePositives != want {
			t.Errorf("%s: %d false positives, want %d", s.Name, s.FalsePositives, want)
		}
	}
	if r.Lead == nil || r.Lead.Status != review.StatusOK || r.Lead.Tokens.Total() != (3*2+1)*110 {
		t.Errorf("lead stats = %+v, want ok and the tokens of 3 verifications of 2 turns and 1 synthesis turn", r.Lead)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
