package render

import (
	"fmt"
	"strings"

	"github.com/deepreview/deep-review/review"
)

// Comment renders comment.md, the sticky pull request comment: a header
// line, the verdict and summary, critical and important findings in full,
// suggestions and the other sections inside <details>, the retro table,
// links to the run and the artifact, the findings as task-list checkboxes
// (ticked when declined) between review.DeclinesStart and
// review.DeclinesEnd and, last, the hidden state marker
// review.EncodeState(review.StateOf(r)) with the digest of each decline
// line (without titles when it would take more than half the limit). The
// header line starts with review.CommentHeader. The result is at most o.MaxBytes bytes
// (CommentLimit when 0), shortened by Markdown's rules; the marker is always
// kept whole, so a marker larger than the limit (thousands of findings)
// makes the comment exceed it.
func Comment(r *review.Report, o Options) []byte {
	limit := o.MaxBytes
	if limit <= 0 {
		limit = CommentLimit
	}
	c := newMemo(r, o)
	lines := declineLines(newMD(r, o, full, 0, limit, c))
	marker := "\n" + stateMarker(r, limit, lines) + "\n"
	cutNote := "The rest of this comment was cut off to fit; the full report is in " + artifactLink(r) + "."
	return []byte(fit(r, limit, marker, cutNote, func(lv level, keep int) string {
		m := newMD(r, o, lv, keep, limit, c)
		m.compact = true
		m.declines = lines
		m.comment()
		return m.b.String()
	}))
}

// stateMarker is review.EncodeState(review.StateOf(r)) with the digest of
// every finding's unticked decline line (lines, by ID), except that when it
// would take more than half of limit it leaves out the titles (they only
// name addressed findings in the next round), so the comment stays
// publishable.
func stateMarker(r *review.Report, limit int, lines map[string]string) string {
	st := review.StateOf(r)
	if st.Round == r.Round {
		st.Lines = map[string]string{}
		for _, fp := range st.Fingerprints {
			if l, ok := lines[st.IDs[fp]]; ok {
				st.Lines[st.IDs[fp]] = review.DeclineLineDigest(l)
			}
		}
	}
	// A marker over half the comment sheds, in turn, what the next round
	// can best do without: the briefs of carried findings, the spans that
	// re-check them without a model, then the titles and files.
	m := review.EncodeState(st)
	for _, shed := range []func(){
		func() { st.Briefs = nil },
		func() { st.Spans = nil },
		func() { st.Titles, st.Files = nil, nil },
	} {
		if len(m) <= limit/2 {
			break
		}
		shed()
		m = review.EncodeState(st)
	}
	return m
}

func (m *md) comment() {
	r := m.r
	c := r.Counts()
	if r.PR.Local || r.PR.Number == 0 {
		m.p("## Deep review of %s, round %d: %s\n\n", m.inline(prLabel(r.PR)), r.Round, r.Verdict.Decision.Label())
	} else {
		m.p("%s%s\n\n", review.CommentHeader(r.PR.Number, r.Round), r.Verdict.Decision.Label())
	}
	m.note()
	m.line("Verdict: " + m.verdict(false))
	m.blank()
	var names []string
	for _, s := range r.Reviewers {
		n := m.inline(m.rv.display(s.Name))
		if s.Status != "" && s.Status != review.StatusOK {
			n += ", " + m.inline(s.Status)
		}
		names = append(names, n)
	}
	m.p("Reviewed %s with %s in %s: %s.\n\n",
		m.code(shortSHA(r.PR.HeadSHA)), strings.Join(names, "; "), wallClock(r.WallClockMS), countLine(c))
	m.links()
	m.paragraph("Summary", "###", r.Summary)
	m.findings(review.Critical, "###")
	m.findings(review.Important, "###")

	m.details(fmt.Sprintf("Suggestions (%d)", c.Suggestion), func() {
		fs := open(r, review.Suggestion)
		shown, more := capped(m, fs)
		for i, f := range shown {
			m.finding(f, i, "####")
		}
		if more > 0 {
			m.p("_…and %d more suggestions, in %s._\n\n", more, artifactLink(r))
		}
		if len(fs) == 0 {
			m.line("None.")
			m.blank()
		}
	})
	m.details("Design, testing, documentation, commits, limitations and earlier rounds", func() {
		m.design("###")
		m.testing("###")
		m.paragraph("Documentation assessment", "###", r.Documentation)
		m.paragraph("Commit structure", "###", r.CommitStructure)
		m.limitations("###")
		m.feedback("###")
		m.rounds("###")
		m.preExisting("###")
		m.rejected("###")
		m.skipped("###")
	})
	m.line("### Agent performance")
	m.blank()
	m.retroTable()
	m.details("Retro per reviewer", func() {
		m.retroParagraphs("####")
		if t := m.text(r.Retro); t != "" {
			m.line(t)
			m.blank()
		}
	})
	m.declineList()
	m.line("---")
	m.links()
}

// details wraps what f writes in a collapsed <details> block.
func (m *md) details(summary string, f func()) {
	m.line("<details><summary>" + summary + "</summary>")
	m.blank()
	f()
	m.line("</details>")
	m.blank()
}

// links writes the links to the run and the artifact, when known.
func (m *md) links() {
	var ls []string
	if u := m.r.Links.Run; linkable(u) {
		ls = append(ls, "[Workflow run and full report]("+u+")")
	}
	if u := m.r.Links.Artifact; linkable(u) {
		ls = append(ls, "[Artifact (report.md, report.html, report.json, report.sarif)]("+u+")")
	}
	if len(ls) > 0 {
		m.line(strings.Join(ls, " · "))
		m.blank()
	}
}

// declineLines is the unticked decline-list line of each finding, by ID,
// rendered once at the full level so every level of the comment writes the
// same line and the state's digests match it.
func declineLines(m *md) map[string]string {
	lines := map[string]string{}
	for _, f := range m.r.Findings {
		lines[f.ID] = "- [ ] " + m.code(f.ID) + " " + m.inline(f.Title)
	}
	return lines
}

// declineList writes every finding as a task-list item, ticked when a
// maintainer declined it, between the boundaries review.DeclinedIDs reads
// ticks between.
func (m *md) declineList() {
	var open, done []review.Finding
	for _, f := range m.r.Findings {
		if f.Status == review.FindingDeclined {
			done = append(done, f)
		} else {
			open = append(open, f)
		}
	}
	if len(open)+len(done) == 0 {
		return
	}
	m.line("### Decline findings")
	m.blank()
	m.line("Tick a finding to decline it; the next round keeps it out of the verdict and does not raise it again.")
	m.blank()
	m.line(review.DeclinesStart)
	shown, more := capped(m, open)
	for _, f := range shown {
		m.line(m.declines[f.ID])
	}
	m.more(more)
	for _, f := range done {
		m.line("- [x] " + strings.TrimPrefix(m.declines[f.ID], "- [ ] "))
	}
	m.blank()
	m.line(review.DeclinesEnd)
	m.blank()
}
