package review

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
)

// MarkerPrefix opens the hidden state marker the sticky comment carries.
// Anything that looks like it in model or PR text is stripped before
// rendering, so only deep-review writes one.
const MarkerPrefix = "<!-- deep-review:state "

const markerSuffix = " -->"

// maxMarkerBytes bounds the encoded state a parser will decode.
const maxMarkerBytes = 256 << 10

// EncodeState renders s as the hidden marker: an HTML comment holding the
// state as base64 JSON, so no byte of it can close the comment early.
func EncodeState(s State) string {
	data, err := json.Marshal(s)
	if err != nil {
		// State holds only strings, ints and maps of them.
		panic(fmt.Sprintf("encode state: %v", err))
	}
	return MarkerPrefix + base64.StdEncoding.EncodeToString(data) + markerSuffix
}

// ParseState finds the marker in a comment body and decodes it. It reports
// false when the body has no marker; a marker that does not decode is an
// error. Only the first marker counts.
func ParseState(body string) (State, bool, error) {
	i := strings.Index(body, MarkerPrefix)
	if i < 0 {
		return State{}, false, nil
	}
	rest := body[i+len(MarkerPrefix):]
	j := strings.Index(rest, markerSuffix)
	if j < 0 {
		return State{}, true, fmt.Errorf("state marker is not closed")
	}
	enc := strings.TrimSpace(rest[:j])
	if len(enc) > maxMarkerBytes {
		return State{}, true, fmt.Errorf("state marker is %d bytes, more than %d", len(enc), maxMarkerBytes)
	}
	data, err := base64.StdEncoding.DecodeString(enc)
	if err != nil {
		return State{}, true, fmt.Errorf("state marker: %w", err)
	}
	var s State
	if err := json.Unmarshal(data, &s); err != nil {
		return State{}, true, fmt.Errorf("state marker: %w", err)
	}
	if s.Round < 1 {
		return State{}, true, fmt.Errorf("state marker: round %d is not positive", s.Round)
	}
	return s, true, nil
}

// maxStateFindings bounds the findings the state remembers, so the marker
// stays a small part of a 65,536-character comment however large the
// review; the most severe come first in a report, so they are the ones kept.
const maxStateFindings = 450

// StateOf is the state the report's sticky comment carries to the next
// round: its round and head, and the fingerprint of each finding (the first
// maxStateFindings, most severe first) with the ID, first round, title and
// file it had.
func StateOf(r *Report) State {
	s := State{
		Round:       r.Round,
		HeadSHA:     r.PR.HeadSHA,
		IDs:         map[string]string{},
		FirstRounds: map[string]int{},
		Titles:      map[string]string{},
		Files:       map[string]string{},
	}
	for _, f := range r.Findings {
		if f.Fingerprint == "" {
			continue
		}
		if len(s.Fingerprints) == maxStateFindings {
			break
		}
		s.Fingerprints = append(s.Fingerprints, f.Fingerprint)
		s.IDs[f.Fingerprint] = f.ID
		s.FirstRounds[f.Fingerprint] = f.FirstRound
		s.Titles[f.Fingerprint] = f.Title
		s.Files[f.Fingerprint] = f.File
		if f.Status == FindingDeclined {
			s.Declined = append(s.Declined, f.Fingerprint)
		}
	}
	return s
}

// declineRE matches a ticked box of the sticky comment's decline list:
// "- [x] `S2` ...". The renderer neutralises boxes in model and PR text, so
// only the list it wrote can match.
var declineRE = regexp.MustCompile("(?m)^- \\[[xX]\\] `([A-Z][0-9]+)`")

// DeclinedIDs returns the IDs of the findings ticked in the decline list of
// a sticky comment body, in the order they appear. A maintainer ticks a box
// to decline a finding.
func DeclinedIDs(body string) []string {
	var ids []string
	for _, m := range declineRE.FindAllStringSubmatch(body, -1) {
		ids = append(ids, m[1])
	}
	return ids
}

// StateFromComment parses the state marker of our sticky comment and adds
// the findings a maintainer ticked as declined since it was written. It
// reports false when the body has no marker.
func StateFromComment(body string) (State, bool, error) {
	s, ok, err := ParseState(body)
	if !ok || err != nil {
		return s, ok, err
	}
	byID := map[string]string{}
	for fp, id := range s.IDs {
		byID[id] = fp
	}
	declined := map[string]bool{}
	for _, fp := range s.Declined {
		declined[fp] = true
	}
	for _, id := range DeclinedIDs(body) {
		if fp := byID[id]; fp != "" && !declined[fp] {
			declined[fp] = true
			s.Declined = append(s.Declined, fp)
		}
	}
	return s, true, nil
}
