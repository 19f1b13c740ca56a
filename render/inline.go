package render

import (
	"strings"
	"unicode/utf8"

	"github.com/deepreview/deep-review/review"
)

// InlineFix says how an inline comment shows its finding's fix.
type InlineFix struct {
	// Suggest shows the fix as a ```suggestion block holding Suggestion,
	// the lines that replace the lines the comment is on, so the author
	// can apply it with one click. Otherwise the patch is a ```diff block,
	// or the fix is prose only.
	Suggest    bool
	Suggestion []string
}

// InlineLimit is below GitHub's 65,536-character limit for a review
// comment.
const InlineLimit = 60_000

// Bounds of an inline comment: it points at the sticky comment for the
// rest.
const (
	inlineExplanation = 1200
	inlineFix         = 1500
	inlineNote        = 500
	inlineCode        = 20_000
)

// InlineComment renders the body of a finding's inline review comment: its
// ID, severity and tags, the title, the explanation shortened to about
// 1,200 characters, the fix (a suggestion block, a diff block or prose,
// see InlineFix), the reviewers who found it and the lead's note, then the
// hidden review.FindingMarker of its fingerprint. Model text goes through
// the same sanitiser as the sticky comment. A suggestion whose lines the
// sanitiser would change (a secret, a marker) is shown as a diff instead,
// since applying it would commit the change. The body is at most
// o.MaxBytes characters (InlineLimit when 0, never more); r supplies the
// reviewers' labels and may be nil.
func InlineComment(r *review.Report, f review.Finding, fix InlineFix, o Options) []byte {
	if r == nil {
		r = &review.Report{}
	}
	limit := o.MaxBytes
	if limit <= 0 || limit > InlineLimit {
		limit = InlineLimit
	}
	marker := "\n" + review.FindingMarker(f.Fingerprint) + "\n"
	c := newMemo(r, o)
	body := inlineBody(r, f, fix, o, c, true)
	if utf8.RuneCountInString(body)+len(marker) > limit {
		body = inlineBody(r, f, fix, o, c, false)
	}
	if n := limit - len(marker); utf8.RuneCountInString(body) > n {
		body = closeOpen(string([]rune(body)[:max(n-20, 0)]) + " …")
	}
	return []byte(body + marker)
}

func inlineBody(r *review.Report, f review.Finding, fix InlineFix, o Options, c *memo, withCode bool) string {
	m := newMD(r, o, full, 0, InlineLimit, c)
	head := "**" + m.inline(f.ID) + " · " + m.inline(string(f.Severity)) + "**"
	if t := m.tags(f.Tags); t != "" {
		head += " " + t
	}
	m.line(head + " · " + m.inline(f.Title))
	m.blank()
	if t := m.text(shorten(f.Explanation, inlineExplanation)); t != "" {
		m.line(t)
		m.blank()
	}
	prose := m.text(shorten(f.Fix, inlineFix))
	suggestion := strings.Join(fix.Suggestion, "\n")
	suggest := fix.Suggest && withCode && len(suggestion) <= inlineCode && m.scrubbed(suggestion) == suggestion
	patch := withCode && strings.TrimSpace(f.Patch) != "" && len(f.Patch) <= inlineCode
	switch {
	case prose != "":
		m.line("**Fix:** " + prose)
		m.blank()
	case suggest:
		m.line("**Suggested change:**")
		m.blank()
	case patch:
		m.line("**Fix:**")
		m.blank()
	}
	switch {
	case suggest:
		// GitHub reads the block's lines verbatim: no trimming, and a
		// fence no line of it can close.
		fc := fence(suggestion)
		m.line(fc + "suggestion")
		if len(fix.Suggestion) > 0 {
			m.line(suggestion)
		}
		m.line(fc)
		m.blank()
	case patch:
		m.block("diff", f.Patch)
	case strings.TrimSpace(f.Patch) != "":
		m.line("_The patch is in the deep-review comment on this pull request._")
		m.blank()
	}
	var by []string
	if a := m.names(f.Reviewers); a != "" {
		by = append(by, "Found by "+strings.Trim(a, "[]")+".")
	}
	for _, n := range f.Notes {
		if note, ok := strings.CutPrefix(n, "lead: "); ok {
			by = append(by, "Lead: "+m.inline(shorten(note, inlineNote)))
			break
		}
	}
	if len(by) > 0 {
		m.line("<sub>" + strings.Join(by, " ") + "</sub>")
	}
	return strings.TrimRight(m.b.String(), "\n") + "\n"
}

// shorten cuts s to about n characters at a space, marking the cut.
func shorten(s string, n int) string {
	s = strings.TrimSpace(s)
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	cut := string([]rune(s)[:n])
	if i := strings.LastIndexAny(cut, " \n"); i > n/2 {
		cut = cut[:i]
	}
	return strings.TrimSpace(cut) + " …"
}
