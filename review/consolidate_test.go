package review

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

// files is an in-memory head.
type files map[string]string

func (f files) ReadFile(path string) ([]byte, error) {
	s, ok := f[path]
	if !ok {
		return nil, fmt.Errorf("open %s: no such file", path)
	}
	return []byte(s), nil
}

const cacheGo = `package cache

import "sync"

type Cache struct {
	mu    sync.Mutex
	items map[string]string
}

func (c *Cache) Get(key string) string {
	return c.items[key]
}

func (c *Cache) Set(key, value string) {
	c.mu.Lock()
	c.items[key] = value
	c.mu.Unlock()
}
`

func run(name string, findings ...SubmittedFinding) Run {
	return Run{
		Name: name, Provider: "replay", Model: name + "-model", Status: StatusOK,
		Duration: 3 * time.Second, Turns: 4, ToolCalls: map[string]int{"read_file": 2},
		FilesReviewed: []string{"cache.go"},
		Submission:    &Submission{Summary: name + " summary.", Findings: findings},
	}
}

var getRace = SubmittedFinding{
	Severity: Important, Tags: []string{"regression", "concurrency"},
	Title: "Get reads the map without holding the lock", File: "cache.go", StartLine: 10, EndLine: 12,
	Quote: "return c.items[key]", Explanation: "Concurrent Set and Get race.", Fix: "Lock in Get.",
}

func consolidate(t *testing.T, in Input) *Report {
	t.Helper()
	if in.PR == nil {
		in.PR = &PR{Repo: "o/r", Number: 7, HeadSHA: "abcdef1234567"}
	}
	if in.Head == nil {
		in.Head = files{"cache.go": cacheGo}
	}
	return Consolidate(context.Background(), in)
}

func TestConsolidateMergesTheSameClaimFromTwoReviewers(t *testing.T) {
	other := getRace
	other.Severity = Critical
	other.Title = "Data race: Get reads items map without lock"
	other.StartLine, other.EndLine = 11, 11
	unique := SubmittedFinding{Severity: Suggestion, Title: "Set on a nil map panics for a zero Cache", File: "cache.go", StartLine: 15, EndLine: 15, Quote: "c.items[key] = value"}

	r := consolidate(t, Input{Runs: []Run{run("Alpha", getRace), run("Bravo", other, unique), run("Charlie")}})

	if len(r.Findings) != 2 {
		t.Fatalf("got %d findings, want 2: %+v", len(r.Findings), r.Findings)
	}
	shared := r.Findings[0]
	if got, want := shared.Reviewers, []string{"Alpha", "Bravo"}; !reflect.DeepEqual(got, want) {
		t.Errorf("shared reviewers = %v, want %v", got, want)
	}
	// One vote each: the tie goes to the more severe grade.
	if shared.Severity != Critical || shared.ID != "C1" {
		t.Errorf("shared finding = %s %s, want critical C1", shared.ID, shared.Severity)
	}
	if shared.Dissent != "critical per Bravo, important per Alpha" {
		t.Errorf("dissent = %q", shared.Dissent)
	}
	if shared.Excerpt != "\treturn c.items[key]" || shared.Citation != CitationVerified {
		t.Errorf("excerpt %q citation %s, want the line from the file, verified", shared.Excerpt, shared.Citation)
	}
	if r.Findings[1].ID != "S1" || !reflect.DeepEqual(r.Findings[1].Reviewers, []string{"Bravo"}) {
		t.Errorf("second finding = %s by %v, want S1 by Bravo", r.Findings[1].ID, r.Findings[1].Reviewers)
	}
	if r.Verdict.Decision != Rework || r.Verdict.DecidedBy != DecidedByRules || !strings.Contains(r.Verdict.Reason, "C1") {
		t.Errorf("verdict = %+v, want rework by rules naming C1", r.Verdict)
	}

	byName := map[string]ReviewerStats{}
	for _, s := range r.Reviewers {
		byName[s.Name] = s
	}
	if s := byName["Alpha"]; s.UniqueInsights != 0 || !reflect.DeepEqual(s.CoverageMisses, []string{}) || s.Counts.Critical != 1 {
		t.Errorf("Alpha stats = %+v", s)
	}
	if s := byName["Bravo"]; s.UniqueInsights != 1 || s.Counts.Suggestion != 1 {
		t.Errorf("Bravo stats = %+v", s)
	}
	if s := byName["Charlie"]; !reflect.DeepEqual(s.CoverageMisses, []string{"C1"}) {
		t.Errorf("Charlie coverage misses = %v, want [C1]", s.CoverageMisses)
	}
}

func TestConsolidateKeepsDifferentClaimsOnTheSameLinesApart(t *testing.T) {
	naming := SubmittedFinding{Severity: Suggestion, Title: "Rename key parameter to id for clarity", File: "cache.go", StartLine: 10, EndLine: 10, Quote: "func (c *Cache) Get(key string) string {"}
	r := consolidate(t, Input{Runs: []Run{run("Alpha", getRace), run("Bravo", naming)}})
	if len(r.Findings) != 2 {
		t.Fatalf("got %d findings, want 2", len(r.Findings))
	}
}

func TestCitationCheck(t *testing.T) {
	tests := []struct {
		name      string
		finding   SubmittedFinding
		citation  string
		start     int
		end       int
		excerpt   string
		noteMatch string
	}{
		{"quote at the cited lines is verified", getRace, CitationVerified, 10, 12, "func (c *Cache) Get(key string) string {\n\treturn c.items[key]\n}", ""},
		{"quote elsewhere in the file corrects the range",
			SubmittedFinding{Severity: Important, Title: "t", File: "cache.go", StartLine: 2, EndLine: 3, Quote: "c.items[key] = value\nc.mu.Unlock()"},
			CitationCorrected, 16, 17, "\tc.items[key] = value\n\tc.mu.Unlock()", "quoted code is at 16-17"},
		{"quote not in the file is unverified",
			SubmittedFinding{Severity: Important, Title: "t", File: "cache.go", StartLine: 10, EndLine: 10, Quote: "delete(c.items, key)"},
			CitationUnverified, 10, 10, "func (c *Cache) Get(key string) string {", "is not in cache.go"},
		{"missing file is unverified",
			SubmittedFinding{Severity: Important, Title: "t", File: "nope.go", StartLine: 1, EndLine: 2, Quote: "x"},
			CitationUnverified, 1, 2, "", "does not exist at the head"},
		{"lines past the end are clamped",
			SubmittedFinding{Severity: Suggestion, Title: "t", File: "./cache.go", StartLine: 500, EndLine: 900},
			CitationVerified, 18, 18, "}", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := consolidate(t, Input{Runs: []Run{run("Alpha", tt.finding)}})
			f := r.Findings[0]
			if f.Citation != tt.citation || f.StartLine != tt.start || f.EndLine != tt.end {
				t.Errorf("got %s %d-%d, want %s %d-%d", f.Citation, f.StartLine, f.EndLine, tt.citation, tt.start, tt.end)
			}
			if f.Excerpt != tt.excerpt {
				t.Errorf("excerpt = %q, want %q", f.Excerpt, tt.excerpt)
			}
			if tt.noteMatch != "" && !strings.Contains(strings.Join(f.Notes, "\n"), tt.noteMatch) {
				t.Errorf("notes %q lack %q", f.Notes, tt.noteMatch)
			}
		})
	}
}

func TestPatchThatDoesNotApplyIsDroppedWithANote(t *testing.T) {
	f := getRace
	f.Patch = "--- a/cache.go\n+++ b/cache.go\n@@ -1 +1 @@\n-x\n+y\n"
	check := func(ctx context.Context, patch string) error { return errors.New("patch failed: cache.go:1") }
	r := consolidate(t, Input{Runs: []Run{run("Alpha", f)}, CheckPatch: check})
	got := r.Findings[0]
	if got.Patch != "" || got.Fix != "Lock in Get." {
		t.Errorf("patch %q fix %q: want the patch dropped and the prose kept", got.Patch, got.Fix)
	}
	if !strings.Contains(strings.Join(got.Notes, " "), "patch was dropped") {
		t.Errorf("notes = %q, want a dropped-patch note", got.Notes)
	}
}

func TestRulesVerdict(t *testing.T) {
	tests := []struct {
		name     string
		severity []Severity
		want     Decision
	}{
		{"no findings merge as-is", nil, Merge},
		{"suggestions only merge with optional fixes", []Severity{Suggestion, Suggestion}, MergeWithOptionalFixes},
		{"an important finding needs fixes", []Severity{Suggestion, Important}, MergeWithFixes},
		{"a critical finding needs rework", []Severity{Important, Critical}, Rework},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var fs []Finding
			for i, s := range tt.severity {
				fs = append(fs, Finding{ID: fmt.Sprint(i), Severity: s, Status: FindingNew})
			}
			v := RulesVerdict(fs)
			if v.Decision != tt.want || v.DecidedBy != DecidedByRules || v.Reason == "" {
				t.Errorf("got %+v, want %s by rules with a reason", v, tt.want)
			}
		})
	}
	declined := []Finding{{ID: "C1", Severity: Critical, Status: FindingDeclined}}
	if v := RulesVerdict(declined); v.Decision != Merge {
		t.Errorf("a declined critical finding decided %s, want merge", v.Decision)
	}
}

// fakeLead rejects findings whose title contains "naming" and settles the
// rest as given.
type fakeLead struct {
	synth *Synthesis
	err   error
	// seen, when set, collects the IDs of the findings Verify is given.
	seen *[]string
}

func (l fakeLead) Verify(ctx context.Context, pr *PR, fs []Finding) ([]Judgement, error) {
	if l.err != nil {
		return nil, l.err
	}
	if l.seen != nil {
		for _, f := range fs {
			*l.seen = append(*l.seen, f.ID)
		}
	}
	out := make([]Judgement, len(fs))
	for i, f := range fs {
		switch {
		case strings.Contains(f.Title, "naming"):
			out[i] = Judgement{Accept: false, Reason: "style preference, not a defect"}
		case strings.Contains(f.Title, "nil map"):
			out[i] = Judgement{Accept: true, PreExisting: true, Reason: "blame shows it predates the PR"}
		default:
			out[i] = Judgement{Accept: true, Severity: Important, Reason: "confirmed by reading Get"}
		}
	}
	return out, nil
}

func (l fakeLead) Synthesize(ctx context.Context, r *Report) (*Synthesis, error) {
	return l.synth, l.err
}

func (l fakeLead) Stats() LeadStats { return LeadStats{Name: "lead", Status: StatusOK} }

func TestPreExistingFindingsDoNotCountTowardTheVerdict(t *testing.T) {
	nilMap := SubmittedFinding{Severity: Critical, Title: "Set on a nil map panics for a zero Cache", File: "cache.go", StartLine: 15, EndLine: 15, Quote: "c.items[key] = value"}
	var seen []string
	lead := fakeLead{seen: &seen, synth: &Synthesis{Summary: "s", Decision: Merge, Reason: "r"}}
	r := consolidate(t, Input{Runs: []Run{run("Alpha", nilMap, getRace)}, Lead: lead})
	if strings.Join(seen, ",") != "C1,C2" && strings.Join(seen, ",") != "C1,I1" {
		t.Errorf("the lead saw findings %q, want consolidated IDs", seen)
	}
	if len(r.PreExisting) != 1 || r.PreExisting[0].Severity != Critical {
		t.Fatalf("pre-existing = %+v", r.PreExisting)
	}
	if c := r.Counts(); c.Critical != 0 {
		t.Errorf("counts = %+v: the pre-existing critical finding was counted", c)
	}
	if got := RulesVerdict(r.Findings); got.Decision == Rework {
		t.Errorf("rules verdict %+v: a pre-existing critical finding made it rework", got)
	}
	if len(r.Findings) != 1 || r.Findings[0].ID != seen[1] {
		t.Errorf("findings %+v: the ID the lead saw (%s) changed", r.Findings, seen[1])
	}
}

func TestLeadRejectsSettlesAndMovesPreExistingIssues(t *testing.T) {
	crit := getRace
	crit.Severity = Critical
	naming := SubmittedFinding{Severity: Suggestion, Title: "Poor naming of parameter", File: "cache.go", StartLine: 4, EndLine: 4, Quote: "type Cache struct {"}
	nilMap := SubmittedFinding{Severity: Suggestion, Title: "Set on a nil map panics for a zero Cache", File: "cache.go", StartLine: 15, EndLine: 15, Quote: "c.items[key] = value"}
	lead := fakeLead{synth: &Synthesis{Summary: "Lead summary.", Decision: MergeWithFixes, Reason: "One race.", Retros: map[string]string{"Alpha": "Alpha did well."}}}

	r := consolidate(t, Input{Runs: []Run{run("Alpha", crit, nilMap), run("Bravo", naming)}, Lead: lead})

	if len(r.Findings) != 1 || r.Findings[0].Severity != Important || r.Findings[0].ID != "I1" {
		t.Fatalf("findings = %+v, want one important I1", r.Findings)
	}
	if r.Findings[0].Dissent == "" {
		t.Errorf("the reviewers' critical grade was lost: no dissent")
	}
	if len(r.Rejected) != 1 || r.Rejected[0].Reason != "style preference, not a defect" || r.Rejected[0].ID != "R1" {
		t.Errorf("rejected = %+v", r.Rejected)
	}
	if len(r.Concerns) != 0 {
		t.Errorf("concerns = %+v: a pre-existing finding is not a design concern", r.Concerns)
	}
	if len(r.PreExisting) != 1 {
		t.Fatalf("pre-existing = %+v, want the nil-map finding", r.PreExisting)
	}
	if p := r.PreExisting[0]; p.ID != "P1" || p.Severity != Suggestion || !strings.HasPrefix(p.Title, "Set on a nil map") ||
		p.Excerpt == "" || !contains(p.Tags, "pre-existing") || contains(p.Tags, "regression") || !contains(p.Notes, "lead: blame shows it predates the PR") {
		t.Errorf("pre-existing finding = %+v, want it kept with severity, excerpt, tag and the lead's reason", p)
	}
	if r.Verdict.DecidedBy != DecidedByLead || r.Verdict.Decision != MergeWithFixes || r.Summary != "Lead summary." {
		t.Errorf("verdict %+v summary %q, want the lead's", r.Verdict, r.Summary)
	}
	for _, s := range r.Reviewers {
		if s.Name == "Bravo" && s.FalsePositives != 1 {
			t.Errorf("Bravo false positives = %d, want 1", s.FalsePositives)
		}
		if s.Name == "Alpha" && s.Retro != "Alpha did well." {
			t.Errorf("Alpha retro = %q", s.Retro)
		}
	}
	if r.Lead == nil {
		t.Error("lead stats missing")
	}
}

func TestLeadCannotWaveThroughACriticalFinding(t *testing.T) {
	crit := getRace
	crit.Severity = Critical
	lead := fakeLead{synth: &Synthesis{Decision: Merge, Reason: "fine"}}
	lead2 := leadKeeping{lead}
	r := consolidate(t, Input{Runs: []Run{run("Alpha", crit)}, Lead: lead2})
	if r.Verdict.Decision != Rework || r.Verdict.DecidedBy != DecidedByRules {
		t.Errorf("verdict = %+v, want rework by rules", r.Verdict)
	}
}

// leadKeeping accepts every finding as it is.
type leadKeeping struct{ fakeLead }

func (l leadKeeping) Verify(ctx context.Context, pr *PR, fs []Finding) ([]Judgement, error) {
	out := make([]Judgement, len(fs))
	for i := range out {
		out[i] = Judgement{Accept: true}
	}
	return out, nil
}

func TestFailedLeadLeavesTheRulesInCharge(t *testing.T) {
	r := consolidate(t, Input{Runs: []Run{run("Alpha", getRace)}, Lead: fakeLead{err: errors.New("overloaded")}})
	if len(r.Findings) != 1 || !strings.Contains(strings.Join(r.Findings[0].Notes, " "), "not verified by the lead: overloaded") {
		t.Errorf("findings = %+v, want the finding kept with a note", r.Findings)
	}
	if r.Verdict.DecidedBy != DecidedByRules || !strings.Contains(r.Verdict.Reason, "synthesis failed") {
		t.Errorf("verdict = %+v, want rules with the failure said", r.Verdict)
	}
}

func TestRoundsCarryAddressAndDecline(t *testing.T) {
	old := &State{
		Round: 2, HeadSHA: "1111111",
		Fingerprints: []string{Fingerprint("cache.go", "Get reads the map without taking the lock"), "gonefp", "declinedfp"},
		IDs:          map[string]string{Fingerprint("cache.go", "Get reads the map without taking the lock"): "I3", "gonefp": "S1", "declinedfp": "S2"},
		FirstRounds:  map[string]int{Fingerprint("cache.go", "Get reads the map without taking the lock"): 1, "gonefp": 2, "declinedfp": 1},
		Titles:       map[string]string{"gonefp": "Old typo in comment", "declinedfp": "Set on a nil map panics for a zero Cache", Fingerprint("cache.go", "Get reads the map without taking the lock"): "Get reads the map without taking the lock"},
		Files:        map[string]string{"gonefp": "cache.go", "declinedfp": "cache.go", Fingerprint("cache.go", "Get reads the map without taking the lock"): "cache.go"},
		Declined:     []string{"declinedfp"},
	}
	nilMap := SubmittedFinding{Severity: Suggestion, Title: "Set on a nil map panics for a zero Cache", File: "cache.go", StartLine: 15, EndLine: 15, Quote: "c.items[key] = value"}
	fresh := SubmittedFinding{Severity: Suggestion, Title: "Document that the zero Cache is unusable", File: "cache.go", StartLine: 5, EndLine: 5, Quote: "type Cache struct {"}
	pr := &PR{Repo: "o/r", Number: 7, HeadSHA: "2222222", Previous: old}

	r := consolidate(t, Input{PR: pr, Runs: []Run{run("Alpha", getRace, nilMap, fresh)}})

	if r.Round != 3 {
		t.Errorf("round = %d, want 3", r.Round)
	}
	got := map[string]Finding{}
	for _, f := range r.Findings {
		got[f.Title] = f
	}
	if f := got[getRace.Title]; f.ID != "I3" || f.Status != FindingCarried || f.FirstRound != 1 {
		t.Errorf("race finding = %s %s round %d, want I3 carried from round 1", f.ID, f.Status, f.FirstRound)
	}
	if f := got[nilMap.Title]; f.Status != FindingDeclined || f.ID != "S2" {
		t.Errorf("nil map finding = %s %s, want S2 declined", f.ID, f.Status)
	}
	if f := got[fresh.Title]; f.Status != FindingNew || f.ID != "S3" || f.FirstRound != 3 {
		t.Errorf("fresh finding = %s %s round %d, want new S3 in round 3", f.ID, f.Status, f.FirstRound)
	}
	if len(r.Addressed) != 1 || r.Addressed[0].ID != "S1" || r.Addressed[0].Title != "Old typo in comment" {
		t.Errorf("addressed = %+v, want S1", r.Addressed)
	}
	if c := r.Counts(); c.Suggestion != 1 || c.Important != 1 {
		t.Errorf("counts = %+v: a declined finding must not count", c)
	}
	if r.Verdict.Decision != MergeWithFixes {
		t.Errorf("verdict = %s", r.Verdict.Decision)
	}
}

func TestObservationsAreMergedWithAttribution(t *testing.T) {
	a, b := run("Alpha"), run("Bravo")
	a.Submission.Concerns = []SubmittedConcern{{Text: "The cache has no eviction, so memory grows without bound", Scope: ScopeFuture}}
	b.Submission.Concerns = []SubmittedConcern{{Text: "No eviction: the cache memory grows without bound under load", Scope: ScopeFuture}}
	a.Submission.Strengths = []string{"Small, focused API"}
	b.Submission.Testing = Testing{Assessment: "No tests for concurrency.", Untested: []Untested{{Scenario: "Concurrent Get and Set", Risk: "low"}, {Scenario: "Set on zero Cache", Risk: "high"}}}
	a.Submission.Testing.Untested = []Untested{{Scenario: "concurrent get and set", Risk: "high"}, {Scenario: "Zero cache", Risk: "medium"}}
	a.Submission.Limitations = []Limitation{{File: "cache.go", Line: 3, Quote: "TODO: eviction"}}
	pr := &PR{Repo: "o/r", Limitations: []Limitation{{File: "cache.go", Line: 3, Quote: "TODO: eviction"}, {File: "a.go", Line: 1, Quote: "FIXME"}}}

	r := consolidate(t, Input{PR: pr, Runs: []Run{a, b}})

	if len(r.Concerns) != 1 || !reflect.DeepEqual(r.Concerns[0].Reviewers, []string{"Alpha", "Bravo"}) {
		t.Errorf("concerns = %+v, want one by both", r.Concerns)
	}
	if len(r.Testing.Untested) != 2 || r.Testing.Untested[0].Risk != "high" || r.Testing.Untested[1].Risk != "high" {
		t.Errorf("untested = %+v, want two, ranked, with the higher risk kept", r.Testing.Untested)
	}
	if r.Testing.Assessment != "No tests for concurrency. (Bravo)" {
		t.Errorf("assessment = %q", r.Testing.Assessment)
	}
	if len(r.Limitations) != 2 || r.Limitations[0].File != "a.go" {
		t.Errorf("limitations = %+v, want two, deduplicated and sorted", r.Limitations)
	}
}

func TestFailedReviewerIsReportedAndScoredWithoutMisses(t *testing.T) {
	failed := Run{Name: "Delta", Provider: "openai", Model: "m", Status: StatusTimedOut, Error: "deadline exceeded after 10 min", Turns: 9, Duration: 10 * time.Minute}
	r := consolidate(t, Input{Runs: []Run{run("Alpha", getRace), failed}})
	s := r.Reviewers[1]
	if s.Status != StatusTimedOut || len(s.CoverageMisses) != 0 || !strings.Contains(s.Retro, "timed out after 10 min 0 s") {
		t.Errorf("failed reviewer = %+v", s)
	}
	if !strings.HasPrefix(r.Summary, "1 of 2 reviewers submitted") {
		t.Errorf("summary = %q", r.Summary)
	}
}

func TestDuration(t *testing.T) {
	for ms, want := range map[int64]string{1432000: "23 min 52 s", 604000: "10 min 4 s", 46000: "46 s", 1200: "1.2 s"} {
		if got := Duration(ms); got != want {
			t.Errorf("Duration(%d) = %q, want %q", ms, got, want)
		}
	}
}

func TestATerseClaimMergesIntoAThoroughOneAboutTheSameCode(t *testing.T) {
	thorough := SubmittedFinding{Severity: Important, Title: "Get reads the items map without taking the mutex", File: "cache.go", StartLine: 10, EndLine: 12,
		Quote: "return c.items[key]", Explanation: "Set holds c.mu while writing items, but Get reads items without the mutex; a concurrent Set and Get is a data race that can crash the process."}
	terse := SubmittedFinding{Severity: Important, Title: "Data race in Get", File: "cache.go", StartLine: 11, EndLine: 11,
		Quote: "return c.items[key]", Explanation: "Get reads items without the mutex."}
	r := consolidate(t, Input{Runs: []Run{run("Alpha", thorough), run("Bravo", terse)}})
	if len(r.Findings) != 1 || len(r.Findings[0].Reviewers) != 2 || r.Findings[0].Title != thorough.Title {
		t.Errorf("findings = %+v, want one with both reviewers and the thorough title", r.Findings)
	}
}

func TestClustering(t *testing.T) {
	setOnNil := SubmittedFinding{Severity: Suggestion, Title: "Set on a nil map panics for a zero Cache", File: "cache.go", StartLine: 15, EndLine: 15, Quote: "c.items[key] = value",
		Explanation: "A zero Cache has a nil items map, so Set panics."}
	tests := []struct {
		name      string
		runs      []Run
		wantCount int
		wantBy    [][]string
	}{
		{
			name: "one bug in different words and ranges is one finding",
			runs: []Run{
				run("Alpha", getRace),
				run("Bravo", SubmittedFinding{Severity: Important, Title: "Unsynchronised read of items", File: "cache.go", StartLine: 11, EndLine: 11, Quote: "return c.items[key]",
					Explanation: "Get reads the items map while Set may write it under the lock: a data race between concurrent Set and Get."}),
			},
			wantCount: 1,
			wantBy:    [][]string{{"Alpha", "Bravo"}},
		},
		{
			name: "two bugs on neighbouring lines stay two",
			runs: []Run{
				run("Alpha", getRace),
				run("Bravo", SubmittedFinding{Severity: Suggestion, Title: "Set should reject an empty key", File: "cache.go", StartLine: 14, EndLine: 14, Quote: "func (c *Cache) Set(key, value string) {",
					Explanation: "An empty string is accepted as a key; callers likely meant to pass something."}),
			},
			wantCount: 2,
			wantBy:    [][]string{{"Alpha"}, {"Bravo"}},
		},
		{
			name: "a reviewer that repeats itself is counted once",
			runs: []Run{
				run("Alpha", setOnNil, setOnNil),
				run("Bravo", getRace),
			},
			wantCount: 2,
			wantBy:    [][]string{{"Bravo"}, {"Alpha"}},
		},
		{
			name: "the same claim in two files stays two",
			runs: []Run{
				run("Alpha", getRace),
				run("Bravo", SubmittedFinding{Severity: Important, Title: getRace.Title, File: "other.go", StartLine: 10, EndLine: 12, Quote: "return c.items[key]", Explanation: getRace.Explanation}),
			},
			wantCount: 2,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := consolidate(t, Input{Head: files{"cache.go": cacheGo, "other.go": cacheGo}, Runs: tt.runs})
			if len(r.Findings) != tt.wantCount {
				t.Fatalf("got %d findings, want %d: %+v", len(r.Findings), tt.wantCount, r.Findings)
			}
			for i, want := range tt.wantBy {
				if got := r.Findings[i].Reviewers; !reflect.DeepEqual(got, want) {
					t.Errorf("finding %d (%s) by %v, want %v", i, r.Findings[i].Title, got, want)
				}
			}
			for _, s := range r.Reviewers {
				if s.Counts.Total() > tt.wantCount {
					t.Errorf("%s is credited with %d findings of %d", s.Name, s.Counts.Total(), tt.wantCount)
				}
			}
		})
	}
}

// countingFiles counts reads per path.
type countingFiles struct {
	files
	reads map[string]int
}

func (c countingFiles) ReadFile(path string) ([]byte, error) {
	c.reads[path]++
	return c.files.ReadFile(path)
}

func TestConsolidationReadsEachFileOnceAndBoundsModelText(t *testing.T) {
	head := countingFiles{files{"cache.go": cacheGo}, map[string]int{}}
	long := getRace
	long.Explanation = strings.Repeat("*a_ ", 20000)
	long.Patch = "--- a/cache.go\n+++ b/cache.go\n" + strings.Repeat("+x\n", 40000)
	r := consolidate(t, Input{Head: head, Runs: []Run{run("Alpha", long, getRace), run("Bravo", getRace)}})
	if head.reads["cache.go"] != 1 {
		t.Errorf("cache.go read %d times, want once", head.reads["cache.go"])
	}
	f := r.Findings[0]
	if n := len([]rune(f.Explanation)); n > maxProseRunes+10 {
		t.Errorf("explanation kept %d runes", n)
	}
	if len(f.Patch) > maxPatchBytes {
		t.Errorf("a %d-byte patch was kept", len(f.Patch))
	}
}

// slowLead takes a while to verify, on a fake clock.
type slowLead struct {
	fakeLead
	clock *time.Time
}

func (l slowLead) Verify(ctx context.Context, pr *PR, fs []Finding) ([]Judgement, error) {
	*l.clock = l.clock.Add(90 * time.Second)
	return leadKeeping{}.Verify(ctx, pr, fs)
}

func TestWallClockIncludesTheLead(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := start.Add(10 * time.Second)
	lead := slowLead{fakeLead{synth: &Synthesis{}}, &clock}
	r := consolidate(t, Input{Runs: []Run{run("Alpha", getRace)}, Lead: lead, Started: start, Now: func() time.Time { return clock }})
	if r.WallClockMS != 100_000 || !r.GeneratedAt.Equal(clock) {
		t.Errorf("wall clock %d ms, generated at %s: want 100 s, after the lead", r.WallClockMS, r.GeneratedAt)
	}
}
