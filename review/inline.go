package review

import (
	"regexp"
	"strings"
)

// FindingMarkerPrefix opens the hidden marker an inline review comment
// carries: "<!-- deep-review:state/finding FINGERPRINT -->". It shares the
// stem "deep-review:state" with MarkerPrefix on purpose: the renderer
// defuses that stem wherever it appears in model or PR text, so only
// deep-review writes either marker. ParseState does not read it, since
// MarkerPrefix ends in a space.
const FindingMarkerPrefix = "<!-- deep-review:state/finding "

// findingMarkerRE reads the fingerprint back: Fingerprint gives 16 hex
// digits; anything else is not ours.
var findingMarkerRE = regexp.MustCompile(`<!-- deep-review:state/finding ([0-9a-f]{1,64}) -->`)

// FindingMarker is the hidden marker naming a finding's fingerprint in an
// inline comment, so later rounds recognise the comment. fp must be a
// fingerprint as Fingerprint makes it (lowercase hex).
func FindingMarker(fp string) string {
	return FindingMarkerPrefix + fp + " -->"
}

// FindingFromMarker returns the fingerprint of the last finding marker in
// body (deep-review writes it last), and false when there is none.
func FindingFromMarker(body string) (string, bool) {
	if !strings.Contains(body, FindingMarkerPrefix) {
		return "", false
	}
	ms := findingMarkerRE.FindAllStringSubmatch(body, -1)
	if len(ms) == 0 {
		return "", false
	}
	return ms[len(ms)-1][1], true
}

// InlineLink is where a finding's inline review thread is (URL), or why the
// finding has none (Reason, e.g. "not on a changed line"). Both are empty
// for a finding that inline comments did not consider.
type InlineLink struct {
	URL    string `json:"url,omitempty"`
	Reason string `json:"reason,omitempty"`
}

// NotOnChangedLine is the Reason of a finding whose lines are outside every
// hunk of the pull request's diff.
const NotOnChangedLine = "not on a changed line"
