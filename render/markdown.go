package render

import (
	"fmt"
	"path"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/deepreview/deep-review/review"
)

// level is how far a rendering was shortened to fit a size limit; each level
// includes the ones before it.
type level int

const (
	full             level = iota
	noRawDetail            // per-reviewer raw detail (files, tools) collapsed
	noSuggestionBody       // suggestions keep their heading line only
	clipped                // long prose and code cut
	noImportantBody        // important findings keep their heading line only
	noCriticalBody         // critical findings keep their heading line only
	shortLists             // long lists cut to their first entries
	hardCut                // the end cut off
)

var trimmed = map[level]string{
	noRawDetail:      "per-reviewer raw detail collapsed",
	noSuggestionBody: "suggestion bodies omitted",
	clipped:          "long text and code cut",
	noImportantBody:  "important finding bodies omitted",
	noCriticalBody:   "critical finding bodies omitted",
	shortLists:       "long lists cut to their first entries",
	hardCut:          "the end of the report cut off",
}

// Bounds applied at the clipped and shortLists levels.
const (
	clipProse  = 1500
	clipCode   = 3000
	clipInline = 300
	listCap    = 25
)

// md writes one Markdown rendering of a report at one trimming level.
type md struct {
	b  strings.Builder
	r  *review.Report
	o  Options
	s  *scrubber
	rv reviewers
	lv level
	// keep is how many findings of the severity whose bodies this level
	// omits still keep theirs; the rest lose them from the last one up.
	keep  int
	limit int
	memo  *memo
	// compact leaves raw per-reviewer detail out (the comment).
	compact bool
	// declines is the unticked decline-list line of each finding, by ID.
	declines map[string]string
}

// memo keeps what the renderings of one report at several levels share.
type memo struct {
	s     *scrubber
	rv    reviewers
	langs map[string]string
	lex   *lexerMatcher
	prose map[string]string
	code  map[string]string
}

func newMemo(r *review.Report, o Options) *memo {
	return &memo{s: newScrubber(o), rv: indexReviewers(r), langs: map[string]string{}, lex: newLexerMatcher(), prose: map[string]string{}, code: map[string]string{}}
}

func newMD(r *review.Report, o Options, lv level, keep, limit int, c *memo) *md {
	return &md{r: r, o: o, s: c.s, rv: c.rv, lv: lv, keep: keep, limit: limit, memo: c}
}

// sanitized is m.s.markdown(t), computed once per text.
func (m *md) sanitized(t string) string {
	if v, ok := m.memo.prose[t]; ok {
		return v
	}
	v := m.s.markdown(t)
	m.memo.prose[t] = v
	return v
}

// scrubbed is m.s.code(t), computed once per text.
func (m *md) scrubbed(t string) string {
	if v, ok := m.memo.code[t]; ok {
		return v
	}
	v := m.s.code(t)
	m.memo.code[t] = v
	return v
}

// lang is language(file), computed once per file name.
func (m *md) lang(file string) string {
	base := path.Base(file)
	if v, ok := m.memo.langs[base]; ok {
		return v
	}
	v := language(m.memo.lex, base)
	m.memo.langs[base] = v
	return v
}

func (m *md) p(format string, args ...any) { fmt.Fprintf(&m.b, format, args...) }
func (m *md) line(s string)                { m.b.WriteString(s + "\n") }
func (m *md) blank()                       { m.b.WriteString("\n") }

// clip cuts s to n bytes (on a rune boundary) from the clipped level on.
func (m *md) clip(s string, n int) string {
	if m.lv < clipped || len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + " …"
}

// text is untrusted Markdown prose, sanitised.
func (m *md) text(s string) string {
	return strings.TrimSpace(m.sanitized(m.clip(strings.TrimSpace(s), clipProse)))
}

// inline is untrusted text for one line: sanitised, line breaks removed.
func (m *md) inline(s string) string {
	s = m.clip(strings.TrimSpace(s), clipInline)
	return strings.Join(strings.Fields(m.sanitized(strings.ReplaceAll(s, "\n", " "))), " ")
}

// cell is untrusted text for a table cell.
func (m *md) cell(s string) string { return strings.ReplaceAll(m.inline(s), "|", `\|`) }

// cellCode is untrusted text as a code span in a table cell.
func (m *md) cellCode(s string) string { return strings.ReplaceAll(m.code(s), "|", `\|`) }

// code is untrusted text shown as an inline code span.
func (m *md) code(s string) string { return codeSpan(m.scrubbed(s)) }

// block writes untrusted code in a fence no line of it can close.
func (m *md) block(lang, s string) {
	s = strings.TrimRight(m.scrubbed(m.clip(s, clipCode)), "\n")
	f := fence(s)
	m.line(f + lang)
	m.line(s)
	m.line(f)
	m.blank()
}

// names renders an attribution, "[Claude, Codex (scripted replay)]".
func (m *md) names(names []string) string {
	if len(names) == 0 {
		return ""
	}
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = m.inline(m.rv.display(n))
	}
	return "[" + strings.Join(out, ", ") + "]"
}

// where renders a file location, linked to the head when possible.
func (m *md) where(file string, start, end int) string {
	loc := m.code(location(file, start, end))
	if u := blobURL(m.o, m.r.PR.HeadSHA, file, start, end); u != "" {
		return "[" + loc + "](" + u + ")"
	}
	return loc
}

func (m *md) tags(tags []string) string {
	out := make([]string, 0, len(tags))
	for _, t := range tags {
		if t = strings.TrimSpace(t); t != "" {
			out = append(out, m.code(t))
		}
	}
	return strings.Join(out, " ")
}

// finding writes the i-th finding of its severity under a heading of the
// given depth.
func (m *md) finding(f review.Finding, i int, depth string) {
	m.line(depth + " " + m.inline(f.ID) + ": " + m.inline(f.Title))
	m.blank()
	meta := []string{m.where(f.File, f.StartLine, f.EndLine)}
	if a := m.names(f.Reviewers); a != "" {
		meta = append(meta, a)
	}
	if t := m.tags(f.Tags); t != "" {
		meta = append(meta, t)
	}
	meta = append(meta, string(f.Severity))
	switch f.Status {
	case review.FindingCarried:
		meta = append(meta, fmt.Sprintf("carried from round %d", f.FirstRound))
	case review.FindingDeclined:
		meta = append(meta, "declined")
	}
	if f.PreExistingInPR {
		meta = append(meta, "pre-existing in this PR")
	}
	if l := m.r.Links.Inline[f.Fingerprint]; linkable(l.URL) {
		meta = append(meta, "[inline comment]("+l.URL+")")
	} else if l.Reason != "" {
		meta = append(meta, m.inline(l.Reason))
	}
	m.line(strings.Join(meta, " · "))
	m.blank()
	if m.bodyless(f.Severity, i) {
		return
	}
	var notes []string
	if f.Dissent != "" {
		notes = append(notes, "Severity dissent: "+m.inline(f.Dissent))
	}
	switch f.Citation {
	case review.CitationCorrected:
		notes = append(notes, "Citation corrected: the cited lines did not hold the quoted code; the range now points where it is.")
	case review.CitationUnverified:
		notes = append(notes, "Citation unverified: the quoted code was not found at the head; read the cited lines with care.")
	}
	for _, n := range f.Notes {
		notes = append(notes, "Note: "+m.inline(n))
	}
	for _, n := range notes {
		m.line("- " + n)
	}
	if len(notes) > 0 {
		m.blank()
	}
	if strings.TrimSpace(f.Excerpt) != "" {
		m.block(m.lang(f.File), f.Excerpt)
	}
	if t := m.text(f.Explanation); t != "" {
		m.line(t)
		m.blank()
	}
	if t := m.text(f.Fix); t != "" {
		m.line("**Fix:** " + t)
		m.blank()
	} else if f.Patch != "" {
		m.line("**Fix:**")
		m.blank()
	}
	if strings.TrimSpace(f.Patch) != "" {
		m.block("diff", f.Patch)
	}
}

func (m *md) bodyless(s review.Severity, i int) bool {
	at := map[review.Severity]level{review.Critical: noCriticalBody, review.Important: noImportantBody}[s]
	if at == 0 {
		at = noSuggestionBody
	}
	switch {
	case m.lv < at:
		return false
	case m.lv == at:
		return i >= m.keep
	}
	return true
}

// bodySeverity is the severity whose bodies a level omits.
var bodySeverity = map[level]review.Severity{
	noSuggestionBody: review.Suggestion, noImportantBody: review.Important, noCriticalBody: review.Critical,
}

// bodyLevel reports whether lv omits finding bodies, and so takes a keep
// count.
func bodyLevel(lv level) bool {
	return lv == noSuggestionBody || lv == noImportantBody || lv == noCriticalBody
}

// findings writes one severity's section.
func (m *md) findings(s review.Severity, depth string) {
	fs := open(m.r, s)
	m.line(depth + " " + severityTitle(s))
	m.blank()
	if len(fs) == 0 {
		m.line("None.")
		m.blank()
		return
	}
	shown := fs
	if s == review.Suggestion && m.lv >= shortLists && len(fs) > listCap {
		shown = fs[:listCap]
	}
	for i, f := range shown {
		m.finding(f, i, depth+"#")
	}
	if len(shown) < len(fs) {
		m.p("_…and %d more suggestions, in %s._\n\n", len(fs)-len(shown), artifactLink(m.r))
	}
}

// capped returns at most listCap entries from the shortLists level on, and
// how many were left out.
func capped[T any](m *md, xs []T) ([]T, int) {
	if m.lv >= shortLists && len(xs) > listCap {
		return xs[:listCap], len(xs) - listCap
	}
	return xs, 0
}

func (m *md) more(n int) {
	if n > 0 {
		m.p("- _…and %d more, in %s._\n", n, artifactLink(m.r))
	}
}

// paragraph writes a section of prose, or "None." when it is empty.
func (m *md) paragraph(title, depth, body string) {
	m.line(depth + " " + title)
	m.blank()
	if t := m.text(body); t != "" {
		m.line(t)
	} else {
		m.line("None.")
	}
	m.blank()
}

func (m *md) design(depth string) {
	m.line(depth + " Design observations")
	m.blank()
	m.line(depth + "# Concerns")
	m.blank()
	cs, more := capped(m, m.r.Concerns)
	for _, c := range cs {
		scope := ""
		if c.Scope != "" {
			scope = "**(" + m.inline(c.Scope) + ")** "
		}
		m.line("- " + scope + m.inline(c.Text) + " " + m.names(c.Reviewers))
	}
	m.more(more)
	if len(m.r.Concerns) == 0 {
		m.line("None.")
	}
	m.blank()
	m.line(depth + "# Strengths")
	m.blank()
	ss, more := capped(m, m.r.Strengths)
	for _, s := range ss {
		m.line("- " + m.inline(s.Text) + " " + m.names(s.Reviewers))
	}
	m.more(more)
	if len(m.r.Strengths) == 0 {
		m.line("None.")
	}
	m.blank()
}

func (m *md) testing(depth string) {
	m.line(depth + " Testing assessment")
	m.blank()
	if t := m.text(m.r.Testing.Assessment); t != "" {
		m.line(t)
		m.blank()
	}
	u, more := capped(m, rankedUntested(m.r.Testing))
	if len(u) > 0 {
		m.line("Untested scenarios, ranked by risk:")
		m.blank()
		for i, x := range u {
			risk := ""
			if x.Risk != "" {
				risk = " (risk: " + m.inline(x.Risk) + ")"
			}
			m.p("%d. %s%s\n", i+1, m.inline(x.Scenario), risk)
		}
		m.more(more)
		m.blank()
	}
	if m.r.Testing.Assessment == "" && len(u) == 0 {
		m.line("None.")
		m.blank()
	}
}

func (m *md) limitations(depth string) {
	m.line(depth + " Acknowledged limitations")
	m.blank()
	ls, more := capped(m, m.r.Limitations)
	for _, l := range ls {
		m.line("- " + m.where(l.File, l.Line, l.Line) + ": “" + m.inline(l.Quote) + "”")
	}
	m.more(more)
	if len(m.r.Limitations) == 0 {
		m.line("None.")
	}
	m.blank()
}

// link renders an untrusted URL: a link when it points into the
// repository, text otherwise.
func (m *md) link(text, url string) string {
	if url == "" {
		return ""
	}
	if m.s.inRepo(url) && !strings.ContainsAny(url, " ()<>") {
		return "[" + text + "](" + m.s.code(url) + ")"
	}
	return m.code(url)
}

func (m *md) feedback(depth string) {
	m.line(depth + " Unresolved feedback")
	m.blank()
	fs, more := capped(m, m.r.UnresolvedFeedback)
	for _, f := range fs {
		s := "- " + m.inline(f.Summary)
		if f.Author != "" {
			s += " — " + m.code("@"+strings.TrimPrefix(f.Author, "@"))
		}
		if l := m.link("comment", f.URL); l != "" {
			s += " (" + l + ")"
		}
		m.line(s)
	}
	m.more(more)
	if len(m.r.UnresolvedFeedback) == 0 {
		m.line("None.")
	}
	m.blank()
}

// shortFinding is a one-line mention of a finding.
func (m *md) shortFinding(f review.Finding) string {
	s := m.inline(f.Title) + " (" + m.where(f.File, f.StartLine, f.EndLine) + ")"
	if f.ID != "" {
		s = m.code(f.ID) + " " + s
	}
	return s
}

func (m *md) rounds(depth string) {
	m.line(depth + " Earlier rounds")
	m.blank()
	c, a, d := withStatus(m.r, review.FindingCarried), m.r.Addressed, withStatus(m.r, review.FindingDeclined)
	if m.r.Round <= 1 && len(c)+len(a)+len(d) == 0 {
		m.line("None: this is the first round.")
		m.blank()
		return
	}
	if sc := m.r.Scope; sc != nil {
		m.line(m.scopeLine(sc))
		m.blank()
	}
	m.line(depth + "# New")
	m.blank()
	n := withStatus(m.r, review.FindingNew)
	ns, more := capped(m, n)
	for _, f := range ns {
		s := "- " + m.shortFinding(f) + fmt.Sprintf(", first seen in round %d", f.FirstRound)
		if f.PreExistingInPR {
			s += ", on code the last push did not touch (pre-existing in this PR)"
		}
		m.line(s)
	}
	m.more(more)
	if len(n) == 0 {
		m.line("None.")
	}
	m.blank()
	m.line(depth + "# Carried")
	m.blank()
	for _, f := range c {
		m.line("- " + m.shortFinding(f) + fmt.Sprintf(", first raised in round %d", f.FirstRound))
	}
	if len(c) == 0 {
		m.line("None.")
	}
	m.blank()
	m.line(depth + "# Addressed")
	m.blank()
	as, more2 := capped(m, a)
	for _, f := range as {
		s := "- " + m.shortFinding(f)
		if f.FirstRound > 0 {
			s += fmt.Sprintf(", raised in round %d", f.FirstRound)
		}
		m.line(s)
	}
	m.more(more2)
	if len(a) == 0 {
		m.line("None.")
	}
	m.blank()
	m.line(depth + "# Declined")
	m.blank()
	for _, f := range d {
		m.line("- " + m.shortFinding(f) + ": declined by a maintainer; not counted in the verdict")
	}
	if len(d) == 0 {
		m.line("None.")
	}
	m.blank()
}

// scopeLine says what a later round reviewed: the delta since the last
// reviewed head, or the whole pull request and why.
func (m *md) scopeLine(sc *review.Scope) string {
	if sc.Mode == review.ScopeDelta {
		s := fmt.Sprintf("This round reviewed the delta since %s", m.code(shortSHA(sc.From)))
		if sc.Rebased {
			s += ", the commit the last reviewed head became after a rebase (matched by patch id)"
		}
		return s + fmt.Sprintf(": %s changed; the rest of the pull request was kept in view.", plural(len(sc.Files), "file"))
	}
	if sc.Reason == "" {
		return "This round reviewed the whole pull request."
	}
	return "This round reviewed the whole pull request: " + m.inline(sc.Reason) + "."
}

// preExisting lists the findings the lead accepted as older than the pull
// request, with severity and evidence; nothing when there are none.
func (m *md) preExisting(depth string) {
	if len(m.r.PreExisting) == 0 {
		return
	}
	m.line(depth + " Pre-existing issues this PR touches")
	m.blank()
	m.line("Real problems in code older than this pull request; they do not count toward the verdict.")
	m.blank()
	ps, more := capped(m, m.r.PreExisting)
	for _, f := range ps {
		s := "- " + m.code(f.ID) + " **" + m.inline(f.Title) + "** " + m.where(f.File, f.StartLine, f.EndLine) + " (" + string(f.Severity) + ")"
		if a := m.names(f.Reviewers); a != "" {
			s += " " + a
		}
		m.line(s)
		for _, n := range f.Notes {
			if strings.HasPrefix(n, "lead: ") {
				m.line("  - Lead: " + m.inline(strings.TrimPrefix(n, "lead: ")))
			}
		}
		if strings.TrimSpace(f.Excerpt) != "" {
			m.blank()
			m.block(m.lang(f.File), f.Excerpt)
		}
	}
	m.more(more)
	m.blank()
}

func (m *md) rejected(depth string) {
	m.line(depth + " Rejected findings")
	m.blank()
	rs, more := capped(m, m.r.Rejected)
	for _, f := range rs {
		s := "- ~~" + m.inline(f.Title) + "~~ " + m.where(f.File, f.StartLine, f.EndLine)
		if a := m.names(f.Reviewers); a != "" {
			s += " " + a
		}
		if f.Severity != "" {
			s += " (" + string(f.Severity) + ")"
		}
		if f.Reason != "" {
			s += ". Rejected: " + m.inline(f.Reason)
		}
		m.line(s)
	}
	m.more(more)
	if len(m.r.Rejected) == 0 {
		m.line("None.")
	}
	m.blank()
}

func (m *md) skipped(depth string) {
	m.line(depth + " Skipped files")
	m.blank()
	ss, more := capped(m, m.r.Skipped)
	for _, s := range ss {
		m.line("- " + m.code(s.Path) + ": " + m.inline(s.Reason))
	}
	m.more(more)
	if len(m.r.Skipped) == 0 {
		m.line("None.")
	}
	m.blank()
}

// retroParagraphs writes a paragraph per reviewer.
func (m *md) retroParagraphs(depth string) {
	for _, s := range m.r.Reviewers {
		m.line(depth + " " + m.inline(m.rv.display(s.Name)))
		m.blank()
		if s.Status != "" && s.Status != review.StatusOK {
			e := "**" + strings.ToUpper(s.Status[:1]) + s.Status[1:] + ".**"
			if s.Error != "" {
				e += " " + m.inline(s.Error)
			}
			m.line(e)
			m.blank()
		}
		if s.Salvaged != "" {
			m.line("**Salvaged.** A model turn failed and the reviewer submitted on a forced turn: " + m.inline(s.Salvaged))
			m.blank()
		}
		if t := m.text(s.Retro); t != "" {
			m.line(t)
			m.blank()
		}
		if m.lv >= noRawDetail || m.compact {
			continue
		}
		m.line("<details><summary>Raw detail</summary>")
		m.blank()
		m.line("- Model: " + m.code(modelOf(s)))
		if s.Focus != "" {
			m.line("- Focus: " + m.inline(s.Focus))
		}
		m.line("- Turns: " + strconv.Itoa(s.Turns))
		if tb := review.ToolSummary(s.ToolCalls); tb != "" {
			m.line("- Tool calls: " + m.inline(tb))
		}
		if len(s.FilesReviewed) > 0 {
			files := make([]string, len(s.FilesReviewed))
			for i, f := range s.FilesReviewed {
				files[i] = m.code(f)
			}
			m.line("- Files reviewed: " + strings.Join(files, ", "))
		}
		if len(s.CoverageMisses) > 0 {
			m.line("- Coverage misses: " + m.inline(strings.Join(s.CoverageMisses, ", ")))
		}
		m.blank()
		m.line("</details>")
		m.blank()
	}
}

// retroTable writes the per-reviewer metrics table, the lead's line and the
// totals.
func (m *md) retroTable() {
	if len(m.r.Reviewers) == 0 {
		m.line("No reviewer ran.")
		m.blank()
		return
	}
	row := func(label string, f func(s review.ReviewerStats) string) {
		cells := []string{label}
		for _, s := range m.r.Reviewers {
			cells = append(cells, f(s))
		}
		m.line("| " + strings.Join(cells, " | ") + " |")
	}
	row("Metric", func(s review.ReviewerStats) string { return m.cell(m.rv.display(s.Name)) })
	m.line("|---" + strings.Repeat("|---:", len(m.r.Reviewers)) + "|")
	row("Model", func(s review.ReviewerStats) string { return m.cellCode(modelOf(s)) })
	row("Duration", func(s review.ReviewerStats) string { return clock(s.DurationMS) })
	row("Status", func(s review.ReviewerStats) string { return m.cell(s.Status) })
	row("Critical", func(s review.ReviewerStats) string { return strconv.Itoa(s.Counts.Critical) })
	row("Important", func(s review.ReviewerStats) string { return strconv.Itoa(s.Counts.Important) })
	row("Suggestion", func(s review.ReviewerStats) string { return strconv.Itoa(s.Counts.Suggestion) })
	row("Design observations", func(s review.ReviewerStats) string { return strconv.Itoa(s.DesignObservations) })
	row("Tool calls", func(s review.ReviewerStats) string { return strconv.Itoa(s.TotalToolCalls()) })
	row("Files reviewed", func(s review.ReviewerStats) string { return strconv.Itoa(len(s.FilesReviewed)) })
	row("False positives", func(s review.ReviewerStats) string { return strconv.Itoa(s.FalsePositives) })
	row("Unique insights", func(s review.ReviewerStats) string { return strconv.Itoa(s.UniqueInsights) })
	row("Coverage misses", func(s review.ReviewerStats) string {
		if len(s.CoverageMisses) == 0 {
			return "0"
		}
		return fmt.Sprintf("%d (%s)", len(s.CoverageMisses), m.cell(strings.Join(s.CoverageMisses, ", ")))
	})
	row("Tokens (input / cached / output)", func(s review.ReviewerStats) string { return tokens(s.Tokens) })
	row("Cost", func(s review.ReviewerStats) string { return dollars(s.CostUSD) })
	m.blank()
	if l := m.r.Lead; l != nil {
		s := fmt.Sprintf("**Lead:** %s (%s): %s, %s, tokens %s, %s", m.inline(l.Name), m.code(l.Model), clock(l.DurationMS), m.inline(l.Status), tokens(l.Tokens), dollars(l.CostUSD))
		if l.Error != "" {
			s += ". Error: " + m.inline(l.Error)
		}
		m.line(s + ".")
		m.blank()
	}
	m.line(fmt.Sprintf("**Total:** tokens %s, %s, wall-clock %s.", tokens(m.r.Tokens()), dollars(m.r.CostUSD()), wallClock(m.r.WallClockMS)))
	m.blank()
	if b := m.r.Budget; b != nil && b.CapUSD > 0 {
		s := fmt.Sprintf("**Cost cap:** %s spent of the %s cap (max-cost-usd)", dollars(m.r.CostUSD()), dollars(b.CapUSD))
		if b.LeadSkipped != "" {
			s += "; the lead was skipped: " + m.inline(b.LeadSkipped)
		}
		m.line(s + ".")
		m.blank()
	}
}

// countLine is "1 critical, 2 important, 1 suggestion".
func countLine(c review.Counts) string {
	return fmt.Sprintf("%d critical, %d important, %s", c.Critical, c.Important, plural(c.Suggestion, "suggestion"))
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

func tokens(t review.Tokens) string {
	return thousands(t.Input) + " / " + thousands(t.CachedInput) + " / " + thousands(t.Output)
}

// note writes the shortening note when the rendering was trimmed.
func (m *md) note() {
	if m.lv == full {
		return
	}
	var what []string
	for l := noRawDetail; l <= m.lv; l++ {
		w := trimmed[l]
		if l == m.lv && bodyLevel(l) && m.keep > 0 {
			w += fmt.Sprintf(" after the first %d", m.keep)
		}
		what = append(what, w)
	}
	m.line("> [!NOTE]")
	m.p("> This report was shortened to fit in %s bytes, as GitHub requires: %s. The full report is in %s (report.md, report.html, report.json).\n", thousands(int64(m.limit)), strings.Join(what, ", "), artifactLink(m.r))
	m.blank()
}

// prLabel names what was reviewed: "#12" for a pull request, "main..feature"
// for a local range.
func prLabel(pr review.PR) string {
	if pr.Local {
		return pr.BaseRef + ".." + pr.HeadRef
	}
	return fmt.Sprintf("#%d", pr.Number)
}

// roundOf is what the round counts reviews of: "PR #12", or the range.
func roundOf(pr review.PR) string {
	if pr.Local {
		return prLabel(pr)
	}
	return "PR " + prLabel(pr)
}

// prKind is the header row's name for prLabel.
func prKind(pr review.PR) string {
	if pr.Local {
		return "Range"
	}
	return "PR"
}

// prSlug is the title's name for the review: "pr-12", or the local range.
func prSlug(pr review.PR) string {
	if pr.Local {
		return prLabel(pr)
	}
	return fmt.Sprintf("pr-%d", pr.Number)
}

// repoLabel is the repository's name, or says it is unknown.
func repoLabel(pr review.PR) string {
	if pr.Repo == "" {
		return "(local checkout)"
	}
	return pr.Repo
}

// header writes the header table.
func (m *md) header() {
	r := m.r
	pr := r.PR
	m.line("| Date | " + r.GeneratedAt.UTC().Format("2006-01-02 15:04 UTC") + " |")
	m.line("|---|---|")
	m.line("| Repo | " + m.cell(repoLabel(pr)) + " |")
	m.p("| Round | %d (of %s) |\n", r.Round, m.cell(roundOf(pr)))
	if pr.Author != "" {
		m.line("| Author | " + m.code("@"+strings.TrimPrefix(pr.Author, "@")) + " |")
	}
	m.p("| %s | %s — %s |\n", prKind(pr), m.cell(prLabel(pr)), m.cell(pr.Title))
	branch := m.cellCode(pr.HeadRef)
	if pr.BaseRef != "" {
		branch += " → " + m.cellCode(pr.BaseRef)
	}
	m.line("| Branch | " + branch + " |")
	commits, more := capped(m, pr.Commits)
	var cs []string
	for _, c := range commits {
		cs = append(cs, m.cellCode(shortSHA(c.SHA))+" "+m.cell(c.Subject))
	}
	if more > 0 {
		cs = append(cs, fmt.Sprintf("…and %d more", more))
	}
	m.line("| Commits | " + strings.Join(cs, "<br>") + " |")
	m.line("| Review SHA | " + m.cellCode(pr.HeadSHA) + " |")
	var rs []string
	for _, s := range r.Reviewers {
		x := m.cell(s.Name) + ": " + m.cellCode(modelOf(s))
		if s.Label != "" {
			x += " (" + m.cell(s.Label) + ")"
		}
		if s.Status != "" && s.Status != review.StatusOK {
			x += ", " + m.cell(s.Status)
		}
		rs = append(rs, x)
	}
	m.line("| Reviewers | " + strings.Join(rs, "<br>") + " |")
	if r.Lead != nil {
		m.line("| Lead | " + m.cell(r.Lead.Name) + ": " + m.cellCode(r.Lead.Model) + " |")
	}
	m.line("| Verdict | " + m.verdict(true) + " |")
	c := r.Counts()
	m.line("| Findings | " + countLine(c) + " |")
	m.line("| Wall-clock time | " + wallClock(r.WallClockMS) + " |")
	m.blank()
}

// verdict is "**Merge with fixes** — reason (decided by the lead)".
func (m *md) verdict(inCell bool) string {
	v := m.r.Verdict
	s := "**" + v.Decision.Label() + "**"
	reason := m.inline(v.Reason)
	if inCell {
		reason = m.cell(v.Reason)
	}
	if reason != "" {
		s += " — " + reason
	}
	if d := decidedBy(v, m.r.Lead); d != "" {
		s += " (" + d + ")"
	}
	return s
}

// body writes the whole report at m's level.
func (m *md) report() {
	r := m.r
	m.p("# Deep Review: %s-%s\n\n", r.GeneratedAt.UTC().Format("20060102-150405"), m.inline(prSlug(r.PR)))
	m.note()
	m.header()
	m.paragraph("Executive summary", "##", r.Summary)
	for _, s := range severities {
		m.findings(s, "##")
	}
	m.design("##")
	m.testing("##")
	m.paragraph("Documentation assessment", "##", r.Documentation)
	m.paragraph("Commit structure", "##", r.CommitStructure)
	m.limitations("##")
	m.feedback("##")
	m.rounds("##")
	m.preExisting("##")
	m.rejected("##")
	m.skipped("##")
	m.line("## Agent performance retro")
	m.blank()
	m.retroParagraphs("###")
	m.line("### Summary")
	m.blank()
	m.retroTable()
	if t := m.text(r.Retro); t != "" {
		m.line(t)
		m.blank()
	}
}

// Markdown renders report.md, the job summary: the whole report in
// GitHub-flavoured Markdown, every section in the reference's order. The
// result is at most o.MaxBytes bytes (SummaryLimit when 0): a larger report
// is shortened, lowest sections first (raw per-reviewer detail, then
// suggestion bodies, then long text, then important and critical bodies,
// then long lists, then the end), with a note pointing to the artifact.
func Markdown(r *review.Report, o Options) []byte {
	limit := o.MaxBytes
	if limit <= 0 {
		limit = SummaryLimit
	}
	cutNote := "The rest of this report was cut off to fit; the full report is in " + artifactLink(r) + "."
	c := newMemo(r, o)
	return []byte(fit(r, limit, "", cutNote, func(lv level, keep int) string {
		m := newMD(r, o, lv, keep, limit, c)
		m.report()
		return m.b.String()
	}))
}

// fit renders at increasing trimming levels until the result, followed by
// tail, is at most limit bytes. At a level that omits finding bodies it
// keeps as many bodies, first findings first, as fit (a binary search over
// keep). As a last resort it cuts the end off, closes what the cut left
// open and adds cutNote.
func fit(r *review.Report, limit int, tail, cutNote string, render func(lv level, keep int) string) string {
	fits := func(s string) bool { return len(s)+len(tail) <= limit }
	if out := render(full, 0); fits(out) {
		return out + tail
	}
	for lv := noRawDetail; lv < hardCut; lv++ {
		if !bodyLevel(lv) {
			if out := render(lv, 0); fits(out) {
				return out + tail
			}
			continue
		}
		out := render(lv, 0)
		if !fits(out) {
			continue
		}
		// Some bodies fit: find the most. lo fits; hi does not (keeping
		// every body is the level before, which did not fit).
		lo, hi := 0, len(open(r, bodySeverity[lv]))
		for lo+1 < hi {
			mid := lo + (hi-lo)/2
			if o := render(lv, mid); fits(o) {
				lo, out = mid, o
			} else {
				hi = mid
			}
		}
		return out + tail
	}
	out := render(hardCut, 0)
	cutNote = "\n\n> [!WARNING]\n> " + cutNote + "\n"
	room := limit - len(tail) - len(cutNote)
	for {
		if room > len(out) {
			room = len(out)
		}
		i := 0
		if room > 0 {
			i = max(0, strings.LastIndexByte(out[:room], '\n'))
		}
		cut := out[:i]
		closing := closeOpen(cut)
		if len(cut)+len(closing)+len(cutNote)+len(tail) <= limit || i == 0 {
			return cut + closing + cutNote + tail
		}
		room = i - len(closing)
	}
}

var detailsRE = regexp.MustCompile(`(?m)^<details>|^</details>`)

// closeOpen returns what closes an open fence and any open <details> at the
// end of a cut Markdown text.
func closeOpen(t string) string {
	closing := ""
	fence := ""
	for _, line := range strings.Split(t, "\n") {
		mm := fenceRE.FindStringSubmatch(line)
		switch {
		case fence != "":
			if mm != nil && mm[1][0] == fence[0] && len(mm[1]) >= len(fence) && strings.TrimSpace(mm[2]) == "" {
				fence = ""
			}
		case mm != nil:
			fence = mm[1]
		}
	}
	if fence != "" {
		closing += "\n" + fence
	}
	depth := 0
	for _, d := range detailsRE.FindAllString(t, -1) {
		if d == "<details>" {
			depth++
		} else if depth > 0 {
			depth--
		}
	}
	for ; depth > 0 && depth < 8; depth-- {
		closing += "\n\n</details>"
	}
	return closing
}
