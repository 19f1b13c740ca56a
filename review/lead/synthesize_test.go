package lead

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/deepreview/deep-review/review"
	"github.com/deepreview/deep-review/review/llm"
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

func TestSynthesizeLetsTheModelCorrectItsCall(t *testing.T) {
	t.Parallel()
	r := settled()
	r.Findings[0].Severity, r.Findings[0].ID = review.Critical, "C1"
	calls := 0
	m := &fakeModel{synthesis: func(prompt string) map[string]any {
		calls++
		v := map[string]any{"summary": "The pull request adds Delete to the cache; C1 needs a fix.", "decision": "merge-with-fixes",
			"reason": "C1 races.", "retros": []map[string]any{{"reviewer": "alpha", "text": "Found C1."}, {"reviewer": "Charlie", "text": "?"}}, "retro": "Close."}
		if calls > 1 {
			v["decision"] = "rework"
			v["retros"] = []map[string]any{{"reviewer": "alpha", "text": "Found C1."}, {"reviewer": "Bravo", "text": "One false positive, R1."}}
		}
		return v
	}}
	l := newLead(m, 1)
	s, err := l.Synthesize(context.Background(), r)
	if err != nil {
		t.Fatal(err)
	}
	if calls != 2 || s.Decision != review.Rework || s.Retros["Alpha"] != "Found C1." || s.Retros["Bravo"] == "" {
		t.Errorf("after %d calls got %+v, want rework with retros keyed Alpha and Bravo", calls, s)
	}
	second := m.requests[1].Messages
	feedback := second[len(second)-1].ToolResults[0]
	for _, want := range []string{"C1 stands as critical, so the decision is rework", `"Charlie" is not a reviewer of this report`, "add a retro for Bravo"} {
		if !feedback.IsError || !strings.Contains(feedback.Content, want) {
			t.Errorf("the error result lacks %q: %q", want, feedback.Content)
		}
	}
}

func TestSynthesizeThatNeverSucceedsFails(t *testing.T) {
	t.Parallel()
	m := &fakeModel{synthesis: func(string) map[string]any { return map[string]any{"summary": "", "decision": "ship-it"} }}
	l := newLead(m, 1)
	if _, err := l.Synthesize(context.Background(), settled()); err == nil || !strings.Contains(err.Error(), "turn budget of 3") {
		t.Fatalf("got %v, want the turn budget spent", err)
	}
	if s := l.Stats(); s.Status != review.StatusFailed || !strings.Contains(s.Error, "synthesis") || s.Tokens.Total() != 3*110 {
		t.Errorf("stats %+v: want failed, the synthesis' error and 3 turns of tokens", s)
	}
}

func TestStatsSumVerificationAndSynthesis(t *testing.T) {
	t.Parallel()
	pr := fixture(t)
	m := &fakeModel{}
	var priced review.Tokens
	l := New(Config{Name: "Lead (Fake)", Identity: llm.Identity{Model: "fake-1", Label: "scripted replay"}, Model: m,
		Cost: func(tk review.Tokens) float64 { priced = tk; return float64(tk.Total()) / 1000 }})
	if _, err := l.Verify(context.Background(), pr, []review.Finding{excerptOf(deleteRace), excerptOf(getUnlocked)}); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Synthesize(context.Background(), settled()); err != nil {
		t.Fatal(err)
	}
	s := l.Stats()
	want := review.Tokens{Input: 500, Output: 50} // 2 findings x 2 turns + 1 synthesis turn
	if s.Tokens != want || priced != want || s.CostUSD != 0.55 {
		t.Errorf("tokens %+v cost %v, want %+v and 0.55", s.Tokens, s.CostUSD, want)
	}
	if s.Name != "Lead (Fake)" || s.Model != "fake-1 (scripted replay)" || s.Status != review.StatusOK || s.Error != "" {
		t.Errorf("stats %+v", s)
	}
}

func TestFinalToolSchemasArePortable(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		schema   []byte
		required []string
		enum     string
	}{
		{verifyTool().Schema, []string{"accept", "severity", "pre_existing", "reason"}, `"enum":["critical","important","suggestion"]`},
		{synthesisTool(settled()).Schema, []string{"summary", "decision", "reason", "retros", "retro"}, `"enum":["merge","merge-with-optional-fixes","merge-with-fixes","rework"]`},
	} {
		var s struct {
			Required   []string `json:"required"`
			Additional *bool    `json:"additionalProperties"`
		}
		if err := json.Unmarshal(tc.schema, &s); err != nil {
			t.Fatal(err)
		}
		if strings.Join(s.Required, ",") != strings.Join(tc.required, ",") || s.Additional == nil || *s.Additional {
			t.Errorf("schema %s: want every property required and no others", tc.schema)
		}
		for _, bad := range []string{"$ref", "oneOf", "anyOf", `"format"`} {
			if strings.Contains(string(tc.schema), bad) {
				t.Errorf("schema uses %s: %s", bad, tc.schema)
			}
		}
		if !strings.Contains(string(tc.schema), tc.enum) {
			t.Errorf("schema lacks %s: %s", tc.enum, tc.schema)
		}
	}
}
