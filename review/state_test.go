package review

import (
	"reflect"
	"strings"
	"testing"
)

func TestStateRoundTripsThroughTheMarker(t *testing.T) {
	want := State{Round: 3, HeadSHA: "abc", Fingerprints: []string{"f1"}, IDs: map[string]string{"f1": "I1"}, Declined: []string{"f1"}}
	body := "## deep-review\n\nsome text --> with a closing arrow\n" + EncodeState(want) + "\n"
	got, found, err := ParseState(body)
	if err != nil || !found {
		t.Fatalf("ParseState: found %v, err %v", found, err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
}

func TestParseStateRejectsBrokenMarkers(t *testing.T) {
	tests := []struct {
		name, body, err string
	}{
		{"unclosed", MarkerPrefix + "abc", "not closed"},
		{"not base64", MarkerPrefix + "!!!" + " -->", "state marker"},
		{"not json", MarkerPrefix + "bm90IGpzb24=" + " -->", "state marker"},
		{"round zero", EncodeState(State{}), "round 0"},
		{"too large", MarkerPrefix + strings.Repeat("A", maxMarkerBytes+4) + " -->", "more than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, found, err := ParseState(tt.body)
			if !found || err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("found %v err %v, want found and an error with %q", found, err, tt.err)
			}
		})
	}
	if _, found, err := ParseState("no marker here"); found || err != nil {
		t.Errorf("plain body: found %v err %v", found, err)
	}
}

func TestStateOfCarriesIDsAndDeclined(t *testing.T) {
	r := &Report{Round: 2, PR: PR{HeadSHA: "h"}, Findings: []Finding{
		{ID: "I1", Title: "t1", File: "a.go", Fingerprint: "f1", FirstRound: 1, Status: FindingCarried},
		{ID: "S1", Title: "t2", File: "b.go", Fingerprint: "f2", FirstRound: 2, Status: FindingDeclined},
	}}
	s := StateOf(r)
	if s.Round != 2 || s.HeadSHA != "h" || s.IDs["f2"] != "S1" || s.Files["f1"] != "a.go" || !reflect.DeepEqual(s.Declined, []string{"f2"}) {
		t.Errorf("state = %+v", s)
	}
}

func TestTickedBoxesBecomeDeclinedFindings(t *testing.T) {
	lines := map[string]string{
		"I1": DeclineLineDigest("- [ ] `I1` keep this"),
		"S1": DeclineLineDigest("- [ ] `S1` not worth it"),
		"S2": DeclineLineDigest("- [ ] `S2` already declined"),
	}
	s := State{Round: 1, HeadSHA: "h", Fingerprints: []string{"f1", "f2", "f3"},
		IDs: map[string]string{"f1": "I1", "f2": "S1", "f3": "S2"}, Declined: []string{"f3"}, Lines: lines}
	body := "## deep-review\n\n" + DeclinesStart + "\n- [ ] `I1` keep this\n- [x] `S1` not worth it\n- [x] `S2` already declined\n- [x] `S9` unknown\n" +
		"> - [x] `I1` quoted, not a box of ours\n\n" + DeclinesEnd + "\n\n" + EncodeState(s)
	got, ok, err := StateFromComment(body)
	if !ok || err != nil {
		t.Fatal(ok, err)
	}
	if !reflect.DeepEqual(got.Declined, []string{"f3", "f2"}) {
		t.Errorf("declined = %v, want [f3 f2]", got.Declined)
	}
}

func TestOnlyTheBotsOwnDeclineLinesDecline(t *testing.T) {
	s := State{Round: 1, HeadSHA: "h", Fingerprints: []string{"fc", "fi"},
		IDs:   map[string]string{"fc": "C1", "fi": "I1"},
		Lines: map[string]string{"C1": DeclineLineDigest("- [ ] `C1` SQL injection in the query builder"), "I1": DeclineLineDigest("- [ ] `I1` The error is dropped")}}
	list := DeclinesStart + "\n- [ ] `C1` SQL injection in the query builder\n- [ ] `I1` The error is dropped\n\n" + DeclinesEnd + "\n"
	tests := []struct{ name, body string }{
		{"a ticked line the PR's code quotes in an excerpt", "## x\n\n```go\n- [x] `C1` SQL injection in the query builder\n```\n\n" + list},
		{"a ticked line outside the list", "## x\n\n- [x] `C1` SQL injection in the query builder\n\n" + list},
		{"the list's boundaries quoted inside a code block", "## x\n\n" + list + "\n````\n" + DeclinesStart + "\n- [x] `C1` SQL injection in the query builder\n" + DeclinesEnd + "\n````\n"},
		{"a ticked line that differs from the one written", "## x\n\n" + strings.Replace(list, "- [ ] `C1` SQL injection in the query builder", "- [x] `C1` SQL injection", 1)},
		{"a list without its closing boundary", "## x\n\n" + DeclinesStart + "\n- [x] `C1` SQL injection in the query builder\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok, err := StateFromComment(tt.body + "\n" + EncodeState(s))
			if !ok || err != nil {
				t.Fatal(ok, err)
			}
			if len(got.Declined) != 0 {
				t.Errorf("declined = %v, want none", got.Declined)
			}
		})
	}
	ticked := strings.Replace(list, "- [ ] `C1`", "- [x] `C1`", 1)
	got, _, _ := StateFromComment("## x\n\n" + ticked + "\n" + EncodeState(s))
	if !reflect.DeepEqual(got.Declined, []string{"fc"}) {
		t.Errorf("a maintainer's tick in the list: declined = %v, want [fc]", got.Declined)
	}
}

func TestSignedMarkersVerifyOnlyWithTheirKey(t *testing.T) {
	body := "## x\n\n" + EncodeState(State{Round: 2, HeadSHA: "h"}) + "\n"
	signed, err := SignMarker(body, []byte("k1"))
	if err != nil {
		t.Fatal(err)
	}
	m, _, err := lastMarker(signed)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.verify([]byte("k1")); err != nil {
		t.Errorf("own key: %v", err)
	}
	if err := m.verify([]byte("k2")); err == nil {
		t.Error("another key verified")
	}
	if s, _, err := ParseState(signed); err != nil || s.Round != 2 {
		t.Errorf("ParseState(signed) = %+v, %v", s, err)
	}
	plain, _, _ := lastMarker(body)
	if err := plain.verify([]byte("k1")); err == nil {
		t.Error("an unsigned marker verified with a key set")
	}
	again, _ := SignMarker(signed, []byte("k1"))
	if again != signed {
		t.Errorf("signing twice changed the marker:\n%s\n%s", signed, again)
	}
}

func TestStateOfAHugeReviewStaysSmall(t *testing.T) {
	r := &Report{Round: 1}
	for i := range 5000 {
		id := "S" + itoa(i+1)
		r.Findings = append(r.Findings, Finding{ID: id, Title: strings.Repeat("long title ", 10), File: "pkg/some/file.go", Fingerprint: Fingerprint("f.go", id), FirstRound: 1})
	}
	s := StateOf(r)
	if len(s.Fingerprints) != maxStateFindings || s.IDs[s.Fingerprints[0]] != "S1" {
		t.Errorf("kept %d fingerprints starting with %s", len(s.Fingerprints), s.IDs[s.Fingerprints[0]])
	}
	// The renderer leaves titles and files out of a large marker.
	s.Titles, s.Files = nil, nil
	if n := len(EncodeState(s)); n > 40000 {
		t.Errorf("marker without titles is %d bytes", n)
	}
}
