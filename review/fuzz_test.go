package review

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzParseState feeds ParseState arbitrary comment bodies. It must never
// panic; a marker it accepts has a positive round, and encoding what it read
// and parsing that again gives the same state (compared as JSON, since an
// empty map and a missing one encode alike).
func FuzzParseState(f *testing.F) {
	real := State{Round: 2, HeadSHA: "0123456789abcdef0123456789abcdef01234567", Fingerprints: []string{"fp-1", "fp-2"},
		IDs: map[string]string{"fp-1": "C1", "fp-2": "S3"}, FirstRounds: map[string]int{"fp-1": 1, "fp-2": 2},
		Titles: map[string]string{"fp-1": "Get returns expired links"}, Files: map[string]string{"fp-1": "store.go"}, Declined: []string{"fp-2"}}
	for _, seed := range []string{
		"",
		"no marker here",
		"## deep-review\n\ntext --> with an arrow\n" + EncodeState(real) + "\n",
		EncodeState(State{Round: 1}),
		EncodeState(State{}),
		MarkerPrefix + "abc",
		MarkerPrefix + "!!! -->",
		MarkerPrefix + "bnVsbA== -->",                     // null
		MarkerPrefix + "eyJyb3VuZCI6IjEifQ== -->",         // {"round":"1"}
		MarkerPrefix + "eyJyb3VuZCI6MSwiaWRzIjp7fX0= -->", // {"round":1,"ids":{}}
		EncodeState(real) + EncodeState(State{Round: 9}),
		MarkerPrefix + " " + strings.Repeat("QUFB", 64) + " -->",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, body string) {
		s, found, err := ParseState(body)
		if !found {
			if err != nil {
				t.Fatalf("no marker, yet an error: %v", err)
			}
			if strings.Contains(body, MarkerPrefix) {
				t.Fatalf("the body holds %q but ParseState found no marker", MarkerPrefix)
			}
			return
		}
		if err != nil {
			if !reflect.DeepEqual(s, State{}) {
				t.Fatalf("an error came with a non-zero state: %+v", s)
			}
			return
		}
		if s.Round < 1 {
			t.Fatalf("accepted round %d", s.Round)
		}
		again, found, err := ParseState(EncodeState(s))
		if !found || err != nil {
			t.Fatalf("re-encoded state does not parse: found %v, err %v", found, err)
		}
		if a, b := mustJSON(t, s), mustJSON(t, again); !bytes.Equal(a, b) {
			t.Fatalf("round trip changed the state:\n%s\n%s", a, b)
		}
	})
}

// FuzzStateRoundTrip builds valid states from fuzzed fields and checks
// ParseState(EncodeState(s)) == s exactly, wherever the marker sits in a
// comment body.
func FuzzStateRoundTrip(f *testing.F) {
	f.Add(1, "0123456789abcdef", "fp-1", "C1", 1, "Get returns expired links", "store.go", true, "## deep-review\n", "\n")
	f.Add(7, "", "", "", 0, "", "", false, "", "")
	f.Add(1<<30, "-->", "<!--", "\x00", -3, "deep-review:state", "a\u2028b", true, "text --> text", MarkerPrefix[:5])
	f.Fuzz(func(t *testing.T, round int, head, fp, id string, first int, title, file string, declined bool, before, after string) {
		if round < 1 {
			round = 1 - round%1000
		}
		valid := func(s string) string { return strings.ToValidUTF8(s, "\uFFFD") }
		want := State{Round: round, HeadSHA: valid(head), Fingerprints: []string{valid(fp)}}
		if id != "" || first != 0 || title != "" || file != "" {
			want.IDs = map[string]string{valid(fp): valid(id)}
			want.FirstRounds = map[string]int{valid(fp): first}
			want.Titles = map[string]string{valid(fp): valid(title)}
			want.Files = map[string]string{valid(fp): valid(file)}
		}
		if declined {
			want.Declined = []string{valid(fp)}
		}
		if strings.Contains(after, MarkerPrefix) {
			// Only the last marker counts: drop text that would start one
			// later.
			after = ""
		}
		body := before + EncodeState(want) + after
		got, found, err := ParseState(body)
		if !found || err != nil {
			t.Fatalf("ParseState(%q): found %v, err %v", body, found, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("round trip:\ngot  %+v\nwant %+v", got, want)
		}
		if !utf8.ValidString(EncodeState(want)) || strings.Count(EncodeState(want), "-->") != 1 {
			t.Fatalf("the marker is not one valid HTML comment: %q", EncodeState(want))
		}
	})
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
