package review

import (
	"strings"
	"testing"
)

// roundOne is the state of a first round that found the race (by Alpha)
// and a typo (by Bravo); a maintainer declined the typo.
func roundOne() *State {
	race := Fingerprint("cache.go", getRace.Title)
	return &State{
		Round: 1, HeadSHA: "1111111", Repo: "o/r", Number: 7,
		Fingerprints: []string{race, "typofp"},
		IDs:          map[string]string{race: "I1", "typofp": "S1"},
		FirstRounds:  map[string]int{race: 1, "typofp": 1},
		Titles:       map[string]string{race: getRace.Title, "typofp": "Typo in the doc comment"},
		Files:        map[string]string{race: "cache.go", "typofp": "cache.go"},
		Declined:     []string{"typofp"},
		Reviewers:    []string{"Alpha", "Bravo"},
		FoundBy:      map[string]uint64{race: 1, "typofp": 2},
	}
}

func failed(name string) Run {
	return Run{Name: name, Provider: "replay", Model: name + "-model", Status: StatusFailed, Error: "401 Unauthorized"}
}

func byID(fs []Finding) map[string]Finding {
	m := map[string]Finding{}
	for _, f := range fs {
		m[f.ID] = f
	}
	return m
}

func TestWhenEveryReviewerFailsNothingIsAddressed(t *testing.T) {
	prev := roundOne()
	prev.Reviewers, prev.FoundBy = nil, nil // a marker written before reviewers were remembered
	pr := &PR{Repo: "o/r", Number: 7, HeadSHA: "2222222", Previous: prev}

	r := consolidate(t, Input{PR: pr, Runs: []Run{failed("Alpha"), failed("Bravo")}})

	if len(r.Addressed) != 0 {
		t.Errorf("addressed = %+v, want none: no reviewer looked", r.Addressed)
	}
	got := byID(r.Findings)
	if f := got["I1"]; f.Status != FindingCarried || f.FirstRound != 1 || f.Severity != Important || f.Title != getRace.Title {
		t.Errorf("I1 = %+v, want the important race carried from round 1", f)
	}
	if f := got["S1"]; f.Status != FindingDeclined || f.FirstRound != 1 {
		t.Errorf("S1 = %+v, want still declined from round 1", f)
	}
	if r.Reviewed() {
		t.Error("Reviewed() = true with every reviewer failed")
	}
	s := StateOf(r)
	if s.Round != 1 || s.HeadSHA != "1111111" {
		t.Errorf("state after a failed attempt = round %d head %s, want round 1 at 1111111 (unchanged)", s.Round, s.HeadSHA)
	}
}

func TestAFailedReviewersOwnFindingsAreCarriedNotAddressed(t *testing.T) {
	pr := &PR{Repo: "o/r", Number: 7, HeadSHA: "2222222", Previous: roundOne()}

	// Alpha looked again and no longer finds the race; Bravo, who alone
	// found the typo, timed out.
	r := consolidate(t, Input{PR: pr, Runs: []Run{run("Alpha"), {Name: "Bravo", Status: StatusTimedOut, Error: "deadline exceeded"}}})

	if len(r.Addressed) != 1 || r.Addressed[0].ID != "I1" {
		t.Errorf("addressed = %+v, want only I1 (its finder looked again)", r.Addressed)
	}
	f, ok := byID(r.Findings)["S1"]
	if !ok || f.Status != FindingDeclined || f.FirstRound != 1 || strings.Join(f.Reviewers, ",") != "Bravo" {
		t.Fatalf("S1 = %+v, want carried (declined) with Bravo as its finder", f)
	}
	if !strings.Contains(strings.Join(f.Notes, " "), "Bravo") {
		t.Errorf("S1 notes = %q, want them to say Bravo did not finish", f.Notes)
	}
	s := StateOf(r)
	if s.Round != 2 || s.HeadSHA != "2222222" {
		t.Errorf("state = round %d head %s, want round 2 at 2222222", s.Round, s.HeadSHA)
	}
	if s.FoundBy["typofp"] == 0 || !contains(s.Declined, "typofp") || s.FirstRounds["typofp"] != 1 {
		t.Errorf("state forgot the typo's finder, decline or first round: %+v", s)
	}
}

func TestDeclinesAndFirstRoundsSurviveARoundWithoutTheFinding(t *testing.T) {
	typo := SubmittedFinding{Severity: Suggestion, Title: "Typo in the doc comment", File: "cache.go", StartLine: 5, EndLine: 5, Quote: "type Cache struct {"}
	prev := roundOne()
	prev.Fingerprints = []string{Fingerprint("cache.go", typo.Title)}
	fp := prev.Fingerprints[0]
	prev.IDs = map[string]string{fp: "S4"}
	prev.FirstRounds = map[string]int{fp: 1}
	prev.Titles = map[string]string{fp: typo.Title}
	prev.Files = map[string]string{fp: "cache.go"}
	prev.Declined = []string{fp}
	prev.FoundBy = map[string]uint64{fp: 1}

	// Round 2: Alpha looks and does not find it (addressed).
	r2 := consolidate(t, Input{PR: &PR{Repo: "o/r", Number: 7, HeadSHA: "2222222", Previous: prev}, Runs: []Run{run("Alpha")}})
	if len(r2.Addressed) != 1 {
		t.Fatalf("round 2 addressed = %+v, want the typo", r2.Addressed)
	}
	s2 := StateOf(r2)

	// Round 3: it comes back.
	r3 := consolidate(t, Input{PR: &PR{Repo: "o/r", Number: 7, HeadSHA: "3333333", Previous: &s2}, Runs: []Run{run("Alpha", typo)}})
	if len(r3.Findings) != 1 {
		t.Fatalf("round 3 findings = %+v", r3.Findings)
	}
	if f := r3.Findings[0]; f.ID != "S4" || f.Status != FindingDeclined || f.FirstRound != 1 {
		t.Errorf("round 3 finding = %s %s first round %d, want S4 still declined from round 1", f.ID, f.Status, f.FirstRound)
	}
}
