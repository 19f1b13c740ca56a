package review

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// Span is where a finding's code was when it was reported, with a digest of
// that code, so a later round can look it up at a new head without asking a
// model: Lines non-blank lines whose white-space-folded text hashes to Sum.
type Span struct {
	Start int    `json:"s"`
	End   int    `json:"e"`
	Lines int    `json:"n"`
	Sum   string `json:"h"`
}

// SpanOf is the span of a finding whose excerpt was read from the head; it
// reports false for a finding with no excerpt.
func SpanOf(f Finding) (Span, bool) {
	q := quoteLines(strings.TrimSuffix(f.Excerpt, "\n…"))
	if len(q) == 0 {
		return Span{}, false
	}
	return Span{Start: f.StartLine, End: f.EndLine, Lines: len(q), Sum: digest(q)}, true
}

func digest(lines []string) string {
	sum := sha256.Sum256([]byte(strings.Join(lines, "\n")))
	return hex.EncodeToString(sum[:6])
}

// Relocate finds the span's code in a file's text: the line range that now
// holds it, nearest to where it was, and false when the code is gone or
// changed.
func (s Span) Relocate(text string) (start, end int, ok bool) {
	lines := splitLines(text)
	// folded are the non-blank lines, white space folded; at[i] is the
	// 1-based line folded[i] came from.
	var folded []string
	var at []int
	for i, l := range lines {
		if f := foldSpace(l); f != "" {
			folded = append(folded, f)
			at = append(at, i+1)
		}
	}
	best, bestDist := -1, 0
	for i := 0; i+s.Lines <= len(folded); i++ {
		if digest(folded[i:i+s.Lines]) != s.Sum {
			continue
		}
		d := at[i] - s.Start
		if d < 0 {
			d = -d
		}
		if best < 0 || d < bestDist {
			best, bestDist = i, d
		}
	}
	if best < 0 || s.Lines == 0 {
		return 0, 0, false
	}
	start, end = at[best], at[best+s.Lines-1]
	if s.End-s.Start+1 > maxExcerptLines {
		// The excerpt, and so the digest, held only the first lines.
		end = start + s.End - s.Start
	}
	return start, end, true
}
