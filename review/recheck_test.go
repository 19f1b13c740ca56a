package review

import (
	"context"
	"strings"
	"testing"
)

func TestSpanRelocate(t *testing.T) {
	f := Finding{StartLine: 3, EndLine: 4, Excerpt: "\tif x == nil {\n\t\treturn"}
	span, ok := SpanOf(f)
	if !ok {
		t.Fatal("SpanOf found no span in an excerpt")
	}
	tests := []struct {
		name      string
		text      string
		start     int
		end       int
		wantFound bool
	}{
		{"unchanged", "a\nb\n\tif x == nil {\n\t\treturn\n}\n", 3, 4, true},
		{"moved down and re-indented", "new\nlines\na\nb\n  if x  == nil {\n        return\n}\n", 5, 6, true},
		{"nearest of two copies", "\tif x == nil {\n\t\treturn\nb\n\tif x == nil {\n\t\treturn\n", 4, 5, true},
		{"changed", "a\nb\n\tif x != nil {\n\t\treturn\n}\n", 0, 0, false},
		{"file emptied", "", 0, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start, end, found := span.Relocate(tt.text)
			if found != tt.wantFound || start != tt.start || end != tt.end {
				t.Errorf("Relocate = %d-%d %v, want %d-%d %v", start, end, found, tt.start, tt.end, tt.wantFound)
			}
		})
	}
}

func TestSpanOfNeedsAnExcerpt(t *testing.T) {
	if _, ok := SpanOf(Finding{StartLine: 1, EndLine: 1}); ok {
		t.Error("SpanOf found a span in a finding with no excerpt")
	}
}

// setRace is a second finding of round one, on Set.
var setRace = SubmittedFinding{
	Severity: Suggestion, Title: "Set unlocks without defer", File: "cache.go", StartLine: 14, EndLine: 16,
	Quote: "c.mu.Unlock()", Explanation: "A panic between Lock and Unlock leaves the mutex held.", Fix: "defer c.mu.Unlock().",
}

// roundTwo reviews round one's report at a head where Get was fixed (its
// code changed) and Set was not, with the given runs.
func roundTwo(t *testing.T, lead Lead, runs ...Run) (*Report, *State) {
	t.Helper()
	r1 := consolidate(t, Input{Runs: []Run{run("Alpha", getRace, setRace)}})
	prev := StateOf(r1)
	if len(prev.Spans) != 2 || prev.Briefs[prev.Fingerprints[0]] == "" {
		t.Fatalf("round one's state kept spans %v and briefs %v, want both findings'", prev.Spans, prev.Briefs)
	}
	fixed := strings.Replace(cacheGo, "\treturn c.items[key]", "\tc.mu.Lock()\n\tdefer c.mu.Unlock()\n\treturn c.items[key] + \"\"", 1)
	head := files{"cache.go": fixed}
	pr := &PR{Repo: "o/r", Number: 7, HeadSHA: "2222222aaaa", Previous: &prev,
		Delta: &Delta{Files: []string{"cache.go"}, Touched: map[string][]LineRange{"cache.go": {{11, 13}}}}}
	pr.Earlier = Recheck(&prev, head)
	return Consolidate(context.Background(), Input{PR: pr, Head: head, Runs: runs, Lead: lead}), &prev
}

func TestADeltaRoundCarriesUntouchedFindingsWithoutAModel(t *testing.T) {
	// Alpha reports nothing again: it was told what is still open.
	r, prev := roundTwo(t, nil, run("Alpha"))
	got := byID(r.Findings)
	s1, ok := got["S1"]
	if !ok || s1.Status != FindingCarried || s1.FirstRound != 1 || s1.Citation != CitationVerified ||
		s1.Explanation != setRace.Explanation || !strings.Contains(s1.Excerpt, "c.mu.Unlock()") {
		t.Errorf("S1 = %+v, want Set's finding carried from round 1 with its brief and a fresh excerpt", s1)
	}
	if was := prev.Spans[s1.Fingerprint].Start; s1.StartLine != was+2 {
		t.Errorf("S1 at line %d, want %d: Get grew by two lines above it", s1.StartLine, was+2)
	}
	if len(r.Addressed) != 1 || r.Addressed[0].ID != "I1" || !strings.Contains(r.Addressed[0].Notes[0], "changed") {
		t.Errorf("addressed = %+v, want I1 (its code changed)", r.Addressed)
	}
	if r.Scope == nil || r.Scope.Mode != ScopeDelta {
		t.Errorf("scope = %+v, want a delta round", r.Scope)
	}
}

// leadOnCandidates says the finding still holds when asked about Get.
type leadOnCandidates struct {
	fakeLead
	asked *[]string
	holds bool
}

func (l leadOnCandidates) Verify(ctx context.Context, pr *PR, fs []Finding) ([]Judgement, error) {
	out := make([]Judgement, len(fs))
	for i, f := range fs {
		*l.asked = append(*l.asked, f.Title)
		out[i] = Judgement{Accept: true, Reason: "checked"}
		if f.Title == getRace.Title {
			out[i] = Judgement{Accept: l.holds, Reason: "Get locks now"}
		}
	}
	return out, nil
}

func TestTheLeadConfirmsAddressedCandidates(t *testing.T) {
	for _, holds := range []bool{false, true} {
		var asked []string
		r, _ := roundTwo(t, leadOnCandidates{asked: &asked, holds: holds}, run("Alpha"))
		if len(asked) != 1 || asked[0] != getRace.Title {
			t.Fatalf("the lead was asked about %q, want only Get's changed finding (Set's is unchanged)", asked)
		}
		f, carried := byID(r.Findings)["I1"]
		switch {
		case !holds && (carried || len(r.Addressed) != 1 || !strings.Contains(r.Addressed[0].Notes[0], "the lead confirmed it is fixed")):
			t.Errorf("lead says fixed: findings %+v, addressed %+v; want I1 addressed by the lead", r.Findings, r.Addressed)
		case holds && (!carried || f.Status != FindingCarried || len(r.Addressed) != 0):
			t.Errorf("lead says it holds: I1 = %+v, addressed %+v; want I1 carried", f, r.Addressed)
		}
	}
}

func TestANewFindingOnUntouchedLinesIsPreExistingInThePR(t *testing.T) {
	late := SubmittedFinding{Severity: Suggestion, Title: "Cache has no constructor", File: "cache.go", StartLine: 5, EndLine: 8,
		Quote: "type Cache struct {", Explanation: "A zero Cache panics on Set."}
	onDelta := SubmittedFinding{Severity: Important, Title: "Get concatenates an empty string", File: "cache.go", StartLine: 13, EndLine: 13,
		Quote: `return c.items[key] + ""`, Explanation: "Dead code."}
	r, _ := roundTwo(t, nil, run("Alpha", late, onDelta))
	for _, f := range r.Findings {
		switch f.Title {
		case late.Title:
			if f.Status != FindingNew || !f.PreExistingInPR {
				t.Errorf("%s: status %s, pre-existing in PR %v; want new and pre-existing in this PR", f.Title, f.Status, f.PreExistingInPR)
			}
		case onDelta.Title:
			if f.Status != FindingNew || f.PreExistingInPR {
				t.Errorf("%s: status %s, pre-existing in PR %v; want new on the delta's lines", f.Title, f.Status, f.PreExistingInPR)
			}
		}
	}
}

func TestALeadThatWouldPassTheCostCapIsSkipped(t *testing.T) {
	for _, tt := range []struct {
		cap     float64
		skipped bool
	}{{1.00, true}, {2.00, false}} {
		spent := run("Alpha", getRace, setRace)
		spent.CostUSD = 0.80
		var asked []string
		in := Input{Runs: []Run{spent}, Lead: leadOnCandidates{asked: &asked, holds: true},
			Budget: &Budget{CapUSD: tt.cap}, LeadCostUSD: func(n int) float64 { return 0.15 * float64(n) }}
		r := consolidate(t, in)
		switch {
		case tt.skipped && (len(asked) != 0 || r.Budget.LeadSkipped == "" || !strings.Contains(r.Verdict.Reason, "max-cost-usd") || r.Verdict.DecidedBy != DecidedByRules):
			t.Errorf("cap $%.2f: the lead was asked %q, skip %q, verdict %+v; want it skipped with $0.20 left for 2 findings at $0.15", tt.cap, asked, r.Budget.LeadSkipped, r.Verdict)
		case !tt.skipped && (len(asked) != 2 || r.Budget.LeadSkipped != ""):
			t.Errorf("cap $%.2f: the lead was asked %q, skip %q; want it to verify both findings", tt.cap, asked, r.Budget.LeadSkipped)
		}
	}
}

func TestANewFindingAboutTheFixIsNotTheFindingItFixed(t *testing.T) {
	// Alike in title to the fixed race, but about the new code.
	onFix := SubmittedFinding{Severity: Suggestion, Title: "Get reads the map holding the lock without a test", File: "cache.go",
		StartLine: 11, EndLine: 13, Quote: "defer c.mu.Unlock()", Explanation: "No test runs Get and Set together."}
	if Similarity(onFix.Title, getRace.Title) <= similarClaim {
		t.Fatalf("the test's premise fails: the titles are not similar enough to be matched (%.2f)", Similarity(onFix.Title, getRace.Title))
	}
	r, _ := roundTwo(t, nil, run("Alpha", onFix))
	if len(r.Addressed) != 1 || r.Addressed[0].ID != "I1" {
		t.Errorf("addressed = %+v, want I1, the race the push fixed", r.Addressed)
	}
	for _, f := range r.Findings {
		if f.Title == onFix.Title && (f.Status != FindingNew || f.ID == "I1") {
			t.Errorf("the finding about the fix is %s %s, want a new finding of its own", f.ID, f.Status)
		}
	}
}

func TestRiskRankIsOneOrder(t *testing.T) {
	order := []string{"Critical", "high (data loss)", "", "medium", "Moderate", "low"}
	for i := 1; i < len(order); i++ {
		if RiskRank(order[i-1]) > RiskRank(order[i]) {
			t.Errorf("RiskRank(%q) = %d ranks after RiskRank(%q) = %d", order[i-1], RiskRank(order[i-1]), order[i], RiskRank(order[i]))
		}
	}
	if !Rework.Valid() || Decision("ship-it").Valid() {
		t.Error("Decision.Valid accepts a made-up decision or refuses rework")
	}
}
