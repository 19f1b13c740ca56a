package pr

import (
	"path"
	"regexp"
	"strings"

	"github.com/bluekeyes/go-gitdiff/gitdiff"

	"github.com/deepreview/deep-review/review"
)

// generatedInDiff reports whether the first lines of the new file, as far as
// the diff shows them, carry the generated-code marker.
func generatedInDiff(f *gitdiff.File) bool {
	if f == nil || f.IsDelete {
		return false
	}
	for _, frag := range f.TextFragments {
		if frag.NewPosition > 1 {
			continue
		}
		n := int64(0)
		for _, l := range frag.Lines {
			if l.Op == gitdiff.OpDelete {
				continue
			}
			n++
			if n > generatedLines {
				break
			}
			if isGeneratedLine(l.Line) {
				return true
			}
		}
	}
	return false
}

// limitationRe finds the words with which code admits a limitation:
// the classic markers in capitals, and a few phrases in any case.
var limitationRe = regexp.MustCompile(`\b(?:TODO|FIXME|XXX|HACK)\b|(?i:\b(?:not (?:yet )?(?:tested|supported|implemented|handled)|untested|unsupported|known (?:limitation|issue|bug)s?|limitations?:|workaround)\b)`)

// maxQuote bounds a limitation's quoted text, in bytes.
const maxQuote = 500

// maxLimitations bounds the candidates one gather collects; a pull request
// with more is past the point where listing them helps a reader.
const maxLimitations = 500

// maxContinuation is how many following comment lines a quote may take in.
const maxContinuation = 4

// limitations finds candidate acknowledged limitations on the lines the diff
// adds: comments holding a marker such as TODO or "not tested", with the
// file, the line at head and the comment's text (plus up to
// maxContinuation following added comment lines). Context and removed lines
// are never reported.
func limitations(f *gitdiff.File) []review.Limitation {
	if f == nil || f.IsDelete || f.IsBinary {
		return nil
	}
	prose := isProse(f.NewName)
	var out []review.Limitation
	for _, frag := range f.TextFragments {
		line := frag.NewPosition
		if line == 0 {
			line = 1
		}
		var cur *review.Limitation
		taken := 0
		for _, l := range frag.Lines {
			if l.Op == gitdiff.OpDelete {
				continue
			}
			n := line
			line++
			if l.Op != gitdiff.OpAdd {
				cur = nil
				continue
			}
			text, ok := commentText(strings.TrimRight(l.Line, "\r\n"), prose)
			if !ok {
				cur = nil
				continue
			}
			if limitationRe.MatchString(text) {
				out = append(out, review.Limitation{File: f.NewName, Line: int(n), Quote: clip(text)})
				cur = &out[len(out)-1]
				taken = 0
				continue
			}
			if cur != nil && taken < maxContinuation && text != "" {
				cur.Quote = clip(cur.Quote + " " + text)
				taken++
				continue
			}
			cur = nil
		}
	}
	return out
}

func clip(s string) string {
	if len(s) <= maxQuote {
		return s
	}
	cut := maxQuote
	for cut > 0 && !isRuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

func isRuneStart(b byte) bool { return b&0xC0 != 0x80 }

// isProse reports whether the file is documentation, where every line counts
// as a comment.
func isProse(name string) bool {
	switch strings.ToLower(path.Ext(name)) {
	case ".md", ".markdown", ".rst", ".txt", ".adoc":
		return true
	}
	return false
}

// commentOpeners start a comment anywhere on a line; wordOpeners only at
// the line's start or after a blank, so "i--" or "a#b" are not comments.
var (
	commentOpeners = []string{"//", "/*", "<!--"}
	wordOpeners    = []string{"#", "--", ";;"}
)

// commentText returns the comment part of a source line with its comment
// markers removed, and whether the line has a comment. A line that starts
// with "*" continues a block comment; "//" after a colon is a URL.
func commentText(line string, prose bool) (string, bool) {
	t := strings.TrimSpace(line)
	if prose {
		return strings.TrimSpace(strings.TrimLeft(t, "#>*- ")), true
	}
	start := -1
	earliest := func(i int) {
		if i >= 0 && (start < 0 || i < start) {
			start = i
		}
	}
	if strings.HasPrefix(t, "*") {
		start = 0
	}
	for _, o := range commentOpeners {
		for from := 0; ; {
			i := strings.Index(t[from:], o)
			if i < 0 {
				break
			}
			i += from
			if o == "//" && i > 0 && t[i-1] == ':' {
				from = i + len(o)
				continue
			}
			earliest(i)
			break
		}
	}
	for _, o := range wordOpeners {
		for from := 0; ; {
			i := strings.Index(t[from:], o)
			if i < 0 {
				break
			}
			i += from
			if i == 0 || t[i-1] == ' ' || t[i-1] == '\t' {
				earliest(i)
				break
			}
			from = i + len(o)
		}
	}
	if start < 0 {
		return "", false
	}
	c := t[start:]
	c = strings.TrimLeft(c, "/*#<!-; \t")
	c = strings.TrimSpace(c)
	c = strings.TrimSuffix(c, "*/")
	c = strings.TrimSuffix(c, "-->")
	return strings.TrimSpace(c), true
}
