package review

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
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

// sigPrefix introduces the marker's signature, after the encoded state:
// "<!-- deep-review:state BASE64 hmac-sha256=HEX -->".
const sigPrefix = "hmac-sha256="

// maxMarkerBytes bounds the encoded state a parser will decode.
const maxMarkerBytes = 256 << 10

// EncodeState renders s as the hidden marker: an HTML comment holding the
// state as base64 JSON, so no byte of it can close the comment early. The
// marker is unsigned; SignMarker adds the signature.
func EncodeState(s State) string {
	data, err := json.Marshal(s)
	if err != nil {
		// State holds only strings, ints and maps of them.
		panic(fmt.Sprintf("encode state: %v", err))
	}
	return MarkerPrefix + base64.StdEncoding.EncodeToString(data) + markerSuffix
}

// markerSig is the HMAC-SHA256 of the encoded state under key, hex.
func markerSig(payload string, key []byte) string {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte("deep-review state v1\n"))
	mac.Write([]byte(payload))
	return hex.EncodeToString(mac.Sum(nil))
}

// marker is the last state marker of a body, split into its parts.
type marker struct {
	start, end int // body[start:end] is the whole marker
	payload    string
	sig        string
}

// lastMarker finds the last marker in body. It reports false when there is
// none; a marker that is not closed or too large is an error.
func lastMarker(body string) (marker, bool, error) {
	i := strings.LastIndex(body, MarkerPrefix)
	if i < 0 {
		return marker{}, false, nil
	}
	rest := body[i+len(MarkerPrefix):]
	j := strings.Index(rest, markerSuffix)
	if j < 0 {
		return marker{}, true, fmt.Errorf("state marker is not closed")
	}
	inner := strings.TrimSpace(rest[:j])
	if len(inner) > maxMarkerBytes {
		return marker{}, true, fmt.Errorf("state marker is %d bytes, more than %d", len(inner), maxMarkerBytes)
	}
	m := marker{start: i, end: i + len(MarkerPrefix) + j + len(markerSuffix), payload: inner}
	if p, sig, ok := strings.Cut(inner, " "); ok {
		sig = strings.TrimSpace(sig)
		if !strings.HasPrefix(sig, sigPrefix) {
			return marker{}, true, fmt.Errorf("state marker: unexpected %q after the state", clipRunes(sig, 20))
		}
		m.payload, m.sig = p, strings.TrimPrefix(sig, sigPrefix)
	}
	return m, true, nil
}

func clipRunes(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}

// decode reads the state a marker holds.
func (m marker) decode() (State, error) {
	data, err := base64.StdEncoding.DecodeString(m.payload)
	if err != nil {
		return State{}, fmt.Errorf("state marker: %w", err)
	}
	var s State
	if err := json.Unmarshal(data, &s); err != nil {
		return State{}, fmt.Errorf("state marker: %w", err)
	}
	if s.Round < 1 {
		return State{}, fmt.Errorf("state marker: round %d is not positive", s.Round)
	}
	return s, nil
}

// verify checks the marker's signature under key; an empty key accepts
// any marker, signed or not.
func (m marker) verify(key []byte) error {
	if len(key) == 0 {
		return nil
	}
	if m.sig == "" {
		return fmt.Errorf("the state marker is not signed and state-key is set")
	}
	if !hmac.Equal([]byte(m.sig), []byte(markerSig(m.payload, key))) {
		return fmt.Errorf("the state marker's signature does not verify with state-key")
	}
	return nil
}

// ParseState finds the last marker in a comment body and decodes it,
// without checking a signature. It reports false when the body has no
// marker; a marker that does not decode is an error. Only the last marker
// counts: ours closes the comment.
func ParseState(body string) (State, bool, error) {
	m, ok, err := lastMarker(body)
	if !ok || err != nil {
		return State{}, ok, err
	}
	s, err := m.decode()
	return s, true, err
}

// SignMarker adds the HMAC-SHA256 of the body's last state marker under key
// to that marker, replacing a signature it had. An empty key returns body
// unchanged; a body without a marker is an error.
func SignMarker(body string, key []byte) (string, error) {
	if len(key) == 0 {
		return body, nil
	}
	m, ok, err := lastMarker(body)
	if err != nil {
		return "", err
	}
	if !ok {
		return "", fmt.Errorf("sign state marker: the comment has none")
	}
	signed := MarkerPrefix + m.payload + " " + sigPrefix + markerSig(m.payload, key) + markerSuffix
	return body[:m.start] + signed + body[m.end:], nil
}

// maxStateFindings bounds the findings the state remembers, so the marker
// stays a small part of a 65,536-character comment however large the
// review; the most severe come first in a report, so they are the ones kept.
const maxStateFindings = 450

// A finding's brief in the state is the start of its explanation, and all
// briefs together are bounded, so the marker stays small.
const (
	maxBriefRunes = 240
	maxBriefBytes = 6 << 10
)

// maxStateSpans bounds the findings whose code the state can re-check.
const maxStateSpans = 150

// maxGoneFindings bounds the addressed findings the state remembers.
const maxGoneFindings = 100

// StateOf is the state the report's sticky comment carries to the next
// round: the pull request, its round and head, the reviewers, and the
// fingerprint of each open finding (the first maxStateFindings, most severe
// first) with the ID, first round, title, file and finders it had; the
// findings addressed recently (State.Gone) keep their ID, first round,
// title, file and decline.
//
// Only a review is recorded: when the report has a previous state and no
// reviewer ended ok (Report.Reviewed is false), StateOf returns the
// previous state unchanged, so the next good round is numbered and compared
// as if the failed attempt had not happened.
func StateOf(r *Report) State {
	prev := r.PR.Previous
	if prev != nil && !r.Reviewed() {
		return *prev
	}
	s := State{
		Round:       r.Round,
		HeadSHA:     r.PR.HeadSHA,
		Repo:        r.PR.Repo,
		Number:      r.PR.Number,
		IDs:         map[string]string{},
		FirstRounds: map[string]int{},
		Titles:      map[string]string{},
		Files:       map[string]string{},
		FoundBy:     map[string]uint64{},
	}
	pos := map[string]int{}
	for i, rv := range r.Reviewers {
		s.Reviewers = append(s.Reviewers, rv.Name)
		if _, dup := pos[rv.Name]; !dup && i < 64 {
			pos[rv.Name] = i
		}
	}
	open := map[string]bool{}
	briefs := 0
	for _, f := range r.Findings {
		if f.Fingerprint == "" {
			continue
		}
		if len(s.Fingerprints) == maxStateFindings {
			break
		}
		open[f.Fingerprint] = true
		s.Fingerprints = append(s.Fingerprints, f.Fingerprint)
		s.IDs[f.Fingerprint] = f.ID
		s.FirstRounds[f.Fingerprint] = f.FirstRound
		s.Titles[f.Fingerprint] = f.Title
		s.Files[f.Fingerprint] = f.File
		var mask uint64
		for _, name := range f.Reviewers {
			if i, ok := pos[name]; ok {
				mask |= 1 << uint(i)
			}
		}
		if mask != 0 {
			s.FoundBy[f.Fingerprint] = mask
		}
		if f.Status == FindingDeclined {
			s.Declined = append(s.Declined, f.Fingerprint)
		}
		if span, ok := SpanOf(f); ok && len(s.Spans) < maxStateSpans {
			if s.Spans == nil {
				s.Spans = map[string]Span{}
			}
			s.Spans[f.Fingerprint] = span
		}
		if brief := clip(strings.TrimSpace(f.Explanation), maxBriefRunes); brief != "" && briefs+len(brief) <= maxBriefBytes {
			if s.Briefs == nil {
				s.Briefs = map[string]string{}
			}
			s.Briefs[f.Fingerprint] = brief
			briefs += len(brief)
		}
	}
	wasDeclined := map[string]bool{}
	if prev != nil {
		for _, fp := range prev.Declined {
			wasDeclined[fp] = true
		}
	}
	remember := func(fp, id, title, file string, first int) {
		if fp == "" || open[fp] || len(s.Gone) == maxGoneFindings {
			return
		}
		open[fp] = true
		s.Gone = append(s.Gone, fp)
		s.IDs[fp], s.FirstRounds[fp], s.Titles[fp], s.Files[fp] = id, first, title, file
		if wasDeclined[fp] {
			s.Declined = append(s.Declined, fp)
		}
	}
	for _, f := range r.Addressed {
		remember(f.Fingerprint, f.ID, f.Title, f.File, f.FirstRound)
	}
	if prev != nil {
		for _, fp := range prev.Gone {
			remember(fp, prev.IDs[fp], prev.Titles[fp], prev.Files[fp], prev.FirstRounds[fp])
		}
	}
	return s
}

// The boundaries of the sticky comment's decline list. The sanitiser
// defuses "deep-review:declines" in every text it renders (model output, PR
// text, code), so only the renderer writes them.
const (
	DeclinesStart = "<!-- deep-review:declines -->"
	DeclinesEnd   = "<!-- /deep-review:declines -->"
)

// Task-list boxes of the decline list, as the renderer writes them and as
// GitHub writes a box a maintainer ticked.
const (
	boxOpen   = "- [ ] "
	boxTicked = "- [x] "
)

// DeclineLineDigest is what State.Lines holds for a decline-list line: a
// short SHA-256 of the unticked line exactly as the renderer wrote it
// ("- [ ] `S2` title"), so a ticked line is compared character for
// character without storing the titles again.
func DeclineLineDigest(line string) string {
	sum := sha256.Sum256([]byte(line))
	return base64.RawURLEncoding.EncodeToString(sum[:9])
}

// fenceRE matches a line that opens or closes a fenced code block.
var fenceRE = regexp.MustCompile("^ {0,3}(`{3,}|~{3,})(.*)$")

// declineBlock returns the lines between the last DeclinesStart and the
// DeclinesEnd after it, both on lines of their own outside fenced code
// blocks; nil when there is no such block.
func declineBlock(body string) []string {
	lines := strings.Split(strings.ReplaceAll(body, "\r\n", "\n"), "\n")
	fence := ""
	start := -1
	var block []string
	for i, l := range lines {
		if fence != "" {
			if m := fenceRE.FindStringSubmatch(l); m != nil && m[1][0] == fence[0] && len(m[1]) >= len(fence) && strings.TrimSpace(m[2]) == "" {
				fence = ""
			}
			continue
		}
		if m := fenceRE.FindStringSubmatch(l); m != nil && !(m[1][0] == '`' && strings.Contains(m[2], "`")) {
			fence = m[1]
			continue
		}
		switch l {
		case DeclinesStart:
			start = i
		case DeclinesEnd:
			if start >= 0 {
				block = lines[start+1 : i]
				start = -1
			}
		}
	}
	return block
}

// DeclinedIDs returns the IDs of the findings ticked in the decline list of
// a sticky comment body, in the order they appear: only lines between the
// list's boundaries (outside code blocks) that, unticked, match what the
// renderer wrote for that ID (lines maps an ID to DeclineLineDigest of it).
// A maintainer ticks a box to decline a finding.
func DeclinedIDs(body string, lines map[string]string) []string {
	var ids []string
	for _, l := range declineBlock(body) {
		rest, ok := strings.CutPrefix(l, boxTicked)
		if !ok || !strings.HasPrefix(rest, "`") {
			continue
		}
		id, _, ok := strings.Cut(rest[1:], "`")
		if !ok || id == "" {
			continue
		}
		if want := lines[id]; want != "" && DeclineLineDigest(boxOpen+rest) == want {
			ids = append(ids, id)
		}
	}
	return ids
}

// StateFromComment parses the state marker of our sticky comment and adds
// the findings a maintainer ticked as declined since it was written (see
// DeclinedIDs). It reports false when the body has no marker. It does not
// check that the comment is ours: RecogniseSticky does.
func StateFromComment(body string) (State, bool, error) {
	s, ok, err := ParseState(body)
	if !ok || err != nil {
		return s, ok, err
	}
	addDeclines(&s, body)
	return s, true, nil
}

// addDeclines adds the findings ticked in body's decline list to s.Declined.
func addDeclines(s *State, body string) {
	byID := map[string]string{}
	for fp, id := range s.IDs {
		byID[id] = fp
	}
	declined := map[string]bool{}
	for _, fp := range s.Declined {
		declined[fp] = true
	}
	for _, id := range DeclinedIDs(body, s.Lines) {
		if fp := byID[id]; fp != "" && !declined[fp] {
			declined[fp] = true
			s.Declined = append(s.Declined, fp)
		}
	}
}
