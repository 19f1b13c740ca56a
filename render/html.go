package render

import (
	"bytes"
	"fmt"
	"html"
	"path"
	"regexp"
	"strconv"
	"strings"

	"github.com/alecthomas/chroma/v2"
	chromahtml "github.com/alecthomas/chroma/v2/formatters/html"
	"github.com/alecthomas/chroma/v2/lexers"
	"github.com/alecthomas/chroma/v2/styles"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"

	"github.com/deepreview/deep-review/review"
)

// chromaStyle is the highlighting style of report.html.
const chromaStyle = "github"

// chromaDarkStyle is the highlighting style when the reader's system is dark.
const chromaDarkStyle = "github-dark"

// HTML renders report.html: one self-contained page (inline CSS and one
// inline script, both allowed by hash in a Content-Security-Policy that
// forbids every fetch) with a findings index linking to every finding, a
// severity and reviewer filter (a script enhancement; the index and anchors
// are plain HTML), a per-file view, a permalink anchor on every heading and
// finding, excerpts and diffs highlighted by chroma (excerpt line numbers
// link to the file at the reviewed head when o.RepoURL is known), a copy
// button on every patch and suggested code, prose rendered by goldmark with
// raw HTML omitted, the retro drawn as an SVG chart beside its table, a
// dark scheme following prefers-color-scheme and a print style without the
// controls. It holds the whole report; it is never shortened.
func HTML(r *review.Report, o Options) ([]byte, error) {
	c := newMemo(r, o)
	h := &hw{md: newMD(r, o, full, 0, 0, c), ids: map[string]int{}, lexers: map[string]chroma.Lexer{}, anchors: map[string]string{}, taken: map[int]bool{},
		// Cell alignment as an attribute: a style attribute would be refused
		// by the page's Content-Security-Policy.
		gm: goldmark.New(goldmark.WithExtensions(extension.NewTable(extension.WithTableCellAlignMethod(extension.TableCellAlignAttribute)),
			extension.Strikethrough, extension.TaskList))}
	var css bytes.Buffer
	style := styles.Get(chromaStyle)
	f := chromahtml.New(chromahtml.WithClasses(true))
	if err := f.WriteCSS(&css, style); err != nil {
		return nil, fmt.Errorf("write the highlighting stylesheet: %w", err)
	}
	css.WriteString("@media screen and (prefers-color-scheme:dark){\n")
	if err := f.WriteCSS(&css, styles.Get(chromaDarkStyle)); err != nil {
		return nil, fmt.Errorf("write the dark highlighting stylesheet: %w", err)
	}
	css.WriteString("}\n")
	h.style = style
	if err := h.page(css.String()); err != nil {
		return nil, err
	}
	return h.b.Bytes(), nil
}

// hw writes report.html.
type hw struct {
	md     *md // for sanitising and the shared helpers
	b      bytes.Buffer
	gm     goldmark.Markdown
	style  *chroma.Style
	ids    map[string]int
	lexers map[string]chroma.Lexer
	// anchors maps a finding ID to the id of its heading on the page.
	anchors map[string]string
	// indexed are the findings the index lists, in page order; taken
	// marks those already written.
	indexed []indexed
	taken   map[int]bool
	// reviewerKeys keys each reviewer's name for the filter, in
	// reviewerOrder.
	reviewerKeys  map[string]string
	reviewerOrder []string
	// highlighted counts the bytes of code highlighted so far.
	highlighted int
	err         error
}

func (h *hw) w(s string)                   { h.b.WriteString(s) }
func (h *hw) p(format string, args ...any) { fmt.Fprintf(&h.b, format, args...) }
func esc(s string) string                  { return html.EscapeString(s) }
func (h *hw) r() *review.Report            { return h.md.r }
func (h *hw) display(name string) string   { return h.md.rv.display(name) }
func (h *hw) plainInline(s string) string {
	return esc(strings.Join(strings.Fields(h.md.s.plain(s)), " "))
}
func (h *hw) attr(s string) string       { return html.EscapeString(s) }
func (h *hw) codeInline(s string) string { return "<code>" + esc(h.md.s.code(s)) + "</code>" }
func (h *hw) section(id, title string)   { h.heading(2, id, title) }
func (h *hw) sub(id, title string)       { h.heading(3, id, title) }
func (h *hw) none()                      { h.w("<p>None.</p>\n") }

// names renders an attribution, "[Claude, Codex (scripted replay)]".
func (h *hw) names(names []string) string {
	if len(names) == 0 {
		return ""
	}
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = h.plainInline(h.display(n))
	}
	return "[" + strings.Join(out, ", ") + "]"
}

var slugRE = regexp.MustCompile(`[^a-z0-9]+`)

// id returns a unique element id derived from s.
func (h *hw) id(s string) string {
	base := strings.Trim(slugRE.ReplaceAllString(strings.ToLower(s), "-"), "-")
	if base == "" {
		base = "section"
	}
	h.ids[base]++
	if n := h.ids[base]; n > 1 {
		return base + "-" + strconv.Itoa(n)
	}
	return base
}

// heading writes a heading with a permalink; title is HTML.
func (h *hw) heading(level int, id, title string) {
	h.p("<h%d id=\"%s\">%s<a class=\"anchor\" href=\"#%s\" aria-label=\"Permalink\">#</a></h%d>\n", level, id, title, id, level)
}

// prose renders untrusted Markdown, sanitised, as HTML.
func (h *hw) prose(s string) string {
	t := h.md.text(s)
	if t == "" {
		return ""
	}
	var b bytes.Buffer
	if err := h.gm.Convert([]byte(t), &b); err != nil && h.err == nil {
		h.err = fmt.Errorf("render Markdown: %w", err)
	}
	return b.String()
}

// inline renders one line of untrusted Markdown as inline HTML.
func (h *hw) inline(s string) string {
	t := h.md.inline(s)
	if t == "" {
		return ""
	}
	var b bytes.Buffer
	if err := h.gm.Convert([]byte(t), &b); err != nil && h.err == nil {
		h.err = fmt.Errorf("render Markdown: %w", err)
	}
	out := strings.TrimSpace(b.String())
	if strings.HasPrefix(out, "<p>") && strings.HasSuffix(out, "</p>") && strings.Count(out, "<p>") == 1 {
		out = out[3 : len(out)-4]
	}
	return out
}

// highlightBudget bounds the bytes of code chroma highlights in one page;
// past it, code is shown plain, so a huge report still renders in seconds.
const highlightBudget = 1 << 20

// code highlights untrusted code; start > 0 numbers the lines from it.
func (h *hw) code(lexer chroma.Lexer, s string, start int) string {
	s = strings.TrimRight(h.md.s.code(s), "\n") + "\n"
	if h.highlighted += len(s); h.highlighted > highlightBudget {
		return "<pre class=\"chroma\"><code>" + esc(s) + "</code></pre>\n"
	}
	if lexer == nil {
		lexer = lexers.Fallback
	}
	opts := []chromahtml.Option{chromahtml.WithClasses(true), chromahtml.TabWidth(4)}
	if start > 0 {
		opts = append(opts, chromahtml.WithLineNumbers(true), chromahtml.BaseLineNumber(start))
	}
	it, err := chroma.Coalesce(lexer).Tokenise(nil, s)
	var b bytes.Buffer
	if err == nil {
		err = chromahtml.New(opts...).Format(&b, h.style, it)
	}
	if err != nil {
		return "<pre>" + esc(s) + "</pre>"
	}
	return b.String()
}

// lexerFor is the lexer for a file name, looked up once per name.
func (h *hw) lexerFor(file string) chroma.Lexer {
	if file == "" {
		return nil
	}
	base := path.Base(file)
	if l, ok := h.lexers[base]; ok {
		return l
	}
	l := h.md.memo.lex.match(base)
	h.lexers[base] = l
	return l
}

// where is a file location, linked to the head when possible.
func (h *hw) where(file string, start, end int) string {
	loc := h.codeInline(location(file, start, end))
	if u := blobURL(h.md.o, h.r().PR.HeadSHA, file, start, end); u != "" {
		return "<a href=\"" + h.attr(u) + "\">" + loc + "</a>"
	}
	return loc
}

// safeURL reports whether u may be an href: http(s) only.
func safeURL(u string) bool { return linkable(u) }

func (h *hw) page(css string) error {
	r := h.r()
	title := fmt.Sprintf("Deep Review: %s %s, round %d", repoLabel(r.PR), prLabel(r.PR), r.Round)
	style := "\n" + pageCSS + css
	h.w("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
	h.w("<meta http-equiv=\"Content-Security-Policy\" content=\"" + h.attr(contentSecurityPolicy(style, pageJS)) + "\">\n")
	h.w("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")
	h.w("<meta name=\"color-scheme\" content=\"light dark\">\n")
	h.w("<title>" + h.plainInline(title) + "</title>\n<style>" + style + "</style>\n</head>\n<body>\n<main>\n")
	h.heading(1, h.id("top"), h.plainInline(fmt.Sprintf("Deep Review: %s-%s", r.GeneratedAt.UTC().Format("20060102-150405"), prSlug(r.PR))))
	h.header()
	h.toc()
	h.planAnchors()
	h.index()
	h.section(h.id("executive-summary"), "Executive summary")
	if p := h.prose(r.Summary); p != "" {
		h.w(p)
	} else {
		h.none()
	}
	for _, s := range severities {
		h.findings(s)
	}
	h.byFile()
	h.design()
	h.testing()
	h.paragraph("documentation-assessment", "Documentation assessment", r.Documentation)
	h.paragraph("commit-structure", "Commit structure", r.CommitStructure)
	h.limitations()
	h.feedback()
	h.rounds()
	h.preExisting()
	h.rejected()
	h.skipped()
	h.retro()
	h.w("</main>\n<script>" + pageJS + "</script>\n</body>\n</html>\n")
	return h.err
}

var tocEntries = [][2]string{
	{"findings-index", "Findings index"}, {"executive-summary", "Executive summary"}, {"critical-issues", "Critical issues"}, {"important-issues", "Important issues"},
	{"suggestions", "Suggestions"}, {"findings-by-file", "Findings by file"}, {"design-observations", "Design observations"}, {"testing-assessment", "Testing assessment"},
	{"documentation-assessment", "Documentation"}, {"commit-structure", "Commit structure"},
	{"acknowledged-limitations", "Acknowledged limitations"}, {"unresolved-feedback", "Unresolved feedback"},
	{"earlier-rounds", "Earlier rounds"}, {"rejected-findings", "Rejected findings"}, {"skipped-files", "Skipped files"},
	{"agent-performance-retro", "Agent performance retro"},
}

func (h *hw) toc() {
	h.w("<nav class=\"toc\" aria-label=\"Contents\"><ul>\n")
	for _, e := range tocEntries {
		if e[0] == "rejected-findings" && len(h.r().PreExisting) > 0 {
			h.w("<li><a href=\"#pre-existing-issues-this-pr-touches\">Pre-existing issues</a></li>\n")
		}
		h.p("<li><a href=\"#%s\">%s</a></li>\n", e[0], e[1])
	}
	h.w("</ul></nav>\n")
}

func (h *hw) header() {
	r := h.r()
	pr := r.PR
	row := func(k, v string) { h.p("<tr><th scope=\"row\">%s</th><td>%s</td></tr>\n", k, v) }
	h.w("<div class=\"scroll\"><table class=\"header\">\n")
	row("Date", esc(r.GeneratedAt.UTC().Format("2006-01-02 15:04 UTC")))
	row("Repo", h.plainInline(repoLabel(pr)))
	row("Round", fmt.Sprintf("%d (of %s)", r.Round, h.plainInline(roundOf(pr))))
	if pr.Author != "" {
		row("Author", h.codeInline("@"+strings.TrimPrefix(pr.Author, "@")))
	}
	row(prKind(pr), h.plainInline(prLabel(pr))+" — "+h.inline(pr.Title))
	branch := h.codeInline(pr.HeadRef)
	if pr.BaseRef != "" {
		branch += " → " + h.codeInline(pr.BaseRef)
	}
	row("Branch", branch)
	var cs []string
	for _, c := range pr.Commits {
		cs = append(cs, h.codeInline(shortSHA(c.SHA))+" "+h.plainInline(c.Subject))
	}
	row("Commits", strings.Join(cs, "<br>"))
	row("Review SHA", h.codeInline(pr.HeadSHA))
	var rs []string
	for _, s := range r.Reviewers {
		x := h.plainInline(s.Name) + ": " + h.codeInline(modelOf(s))
		if s.Label != "" {
			x += " (" + h.plainInline(s.Label) + ")"
		}
		if s.Status != "" && s.Status != review.StatusOK {
			x += ", " + h.plainInline(s.Status)
		}
		rs = append(rs, x)
	}
	row("Reviewers", strings.Join(rs, "<br>"))
	if r.Lead != nil {
		row("Lead", h.plainInline(r.Lead.Name)+": "+h.codeInline(r.Lead.Model))
	}
	v := "<strong>" + esc(r.Verdict.Decision.Label()) + "</strong>"
	if reason := h.inline(r.Verdict.Reason); reason != "" {
		v += " — " + reason
	}
	if d := decidedBy(r.Verdict, r.Lead); d != "" {
		v += " (" + esc(d) + ")"
	}
	row("Verdict", v)
	row("Findings", esc(countLine(r.Counts())))
	row("Wall-clock time", esc(wallClock(r.WallClockMS)))
	h.w("</table></div>\n")
	var links []string
	if u := r.Links.Run; safeURL(u) {
		links = append(links, "<a href=\""+h.attr(u)+"\">Workflow run</a>")
	}
	if u := r.Links.Artifact; safeURL(u) {
		links = append(links, "<a href=\""+h.attr(u)+"\">Artifact</a>")
	}
	if len(links) > 0 {
		h.w("<p class=\"meta\">" + strings.Join(links, " · ") + "</p>\n")
	}
}

func (h *hw) findings(s review.Severity) {
	title := severityTitle(s)
	h.section(h.id(title), esc(title))
	fs := open(h.r(), s)
	if len(fs) == 0 {
		h.none()
	}
	for _, f := range fs {
		h.finding(f)
	}
}

func (h *hw) finding(f review.Finding) {
	id := h.take(f)
	h.p("<article class=\"finding %s\" id=\"finding-%s\"%s>\n", h.attr(string(f.Severity)), id, h.findingAttrs(f))
	h.heading(3, id, h.plainInline(f.ID)+": "+h.inline(f.Title))
	meta := []string{h.where(f.File, f.StartLine, f.EndLine)}
	if a := h.names(f.Reviewers); a != "" {
		meta = append(meta, a)
	}
	var tags []string
	for _, t := range f.Tags {
		if t = strings.TrimSpace(t); t != "" {
			tags = append(tags, "<span class=\"tag\">"+h.plainInline(t)+"</span>")
		}
	}
	if len(tags) > 0 {
		meta = append(meta, strings.Join(tags, ""))
	}
	meta = append(meta, esc(string(f.Severity)))
	switch f.Status {
	case review.FindingCarried:
		meta = append(meta, fmt.Sprintf("carried from round %d", f.FirstRound))
	case review.FindingDeclined:
		meta = append(meta, "declined")
	}
	h.w("<p class=\"meta\">" + strings.Join(meta, " · ") + "</p>\n")
	var notes []string
	if f.Dissent != "" {
		notes = append(notes, "Severity dissent: "+h.inline(f.Dissent))
	}
	switch f.Citation {
	case review.CitationCorrected:
		notes = append(notes, "Citation corrected: the cited lines did not hold the quoted code; the range now points where it is.")
	case review.CitationUnverified:
		notes = append(notes, "Citation unverified: the quoted code was not found at the head; read the cited lines with care.")
	}
	for _, n := range f.Notes {
		notes = append(notes, "Note: "+h.inline(n))
	}
	if len(notes) > 0 {
		h.w("<ul class=\"notes\">\n<li>" + strings.Join(notes, "</li>\n<li>") + "</li>\n</ul>\n")
	}
	if strings.TrimSpace(f.Excerpt) != "" {
		h.w(h.lineLinks(h.code(h.lexerFor(f.File), f.Excerpt, f.StartLine), f.File))
	}
	h.w(h.prose(f.Explanation))
	if fix := h.prose(f.Fix); fix != "" {
		h.w("<div class=\"fix\"><strong>Fix:</strong>\n" + copyable(fix) + "</div>\n")
	} else if strings.TrimSpace(f.Patch) != "" {
		h.w("<p><strong>Fix:</strong></p>\n")
	}
	if strings.TrimSpace(f.Patch) != "" {
		h.w("<div class=\"patch\">" + copyable(h.code(lexers.Get("diff"), f.Patch, 0)) + "</div>\n")
	}
	h.w("</article>\n")
}

func (h *hw) paragraph(id, title, body string) {
	h.section(h.id(id), esc(title))
	if p := h.prose(body); p != "" {
		h.w(p)
	} else {
		h.none()
	}
}

// list writes items as a <ul>, or "None." when there are none.
func (h *hw) list(items []string) {
	if len(items) == 0 {
		h.none()
		return
	}
	h.w("<ul>\n")
	for _, it := range items {
		h.w("<li>" + it + "</li>\n")
	}
	h.w("</ul>\n")
}

func (h *hw) design() {
	r := h.r()
	h.section(h.id("design-observations"), "Design observations")
	h.sub(h.id("concerns"), "Concerns")
	var cs []string
	for _, c := range r.Concerns {
		s := ""
		if c.Scope != "" {
			s = "<strong>(" + h.plainInline(c.Scope) + ")</strong> "
		}
		cs = append(cs, s+h.inline(c.Text)+" "+h.names(c.Reviewers))
	}
	h.list(cs)
	h.sub(h.id("strengths"), "Strengths")
	var ss []string
	for _, s := range r.Strengths {
		ss = append(ss, h.inline(s.Text)+" "+h.names(s.Reviewers))
	}
	h.list(ss)
}

func (h *hw) testing() {
	r := h.r()
	h.section(h.id("testing-assessment"), "Testing assessment")
	h.w(h.prose(r.Testing.Assessment))
	u := rankedUntested(r.Testing)
	if len(u) > 0 {
		h.w("<p>Untested scenarios, ranked by risk:</p>\n<ol>\n")
		for _, x := range u {
			risk := ""
			if x.Risk != "" {
				risk = " (risk: " + h.inline(x.Risk) + ")"
			}
			h.w("<li>" + h.inline(x.Scenario) + risk + "</li>\n")
		}
		h.w("</ol>\n")
	}
	if r.Testing.Assessment == "" && len(u) == 0 {
		h.none()
	}
}

func (h *hw) limitations() {
	h.section(h.id("acknowledged-limitations"), "Acknowledged limitations")
	var ls []string
	for _, l := range h.r().Limitations {
		ls = append(ls, h.where(l.File, l.Line, l.Line)+": “"+h.plainInline(l.Quote)+"”")
	}
	h.list(ls)
}

func (h *hw) feedback() {
	h.section(h.id("unresolved-feedback"), "Unresolved feedback")
	var fs []string
	for _, f := range h.r().UnresolvedFeedback {
		s := h.inline(f.Summary)
		if f.Author != "" {
			s += " — " + h.codeInline("@"+strings.TrimPrefix(f.Author, "@"))
		}
		if f.URL != "" {
			if h.md.s.inRepo(f.URL) && safeURL(f.URL) {
				s += " (<a href=\"" + h.attr(h.md.s.code(f.URL)) + "\">comment</a>)"
			} else {
				s += " (" + h.codeInline(f.URL) + ")"
			}
		}
		fs = append(fs, s)
	}
	h.list(fs)
}

func (h *hw) short(f review.Finding) string {
	s := h.inline(f.Title) + " (" + h.where(f.File, f.StartLine, f.EndLine) + ")"
	if id, ok := h.anchors[f.ID]; ok && f.ID != "" {
		s = "<a href=\"#" + id + "\">" + h.codeInline(f.ID) + "</a> " + s
	} else if f.ID != "" {
		s = h.codeInline(f.ID) + " " + s
	}
	return s
}

func (h *hw) rounds() {
	r := h.r()
	h.section(h.id("earlier-rounds"), "Earlier rounds")
	c, a, d := withStatus(r, review.FindingCarried), r.Addressed, withStatus(r, review.FindingDeclined)
	if r.Round <= 1 && len(c)+len(a)+len(d) == 0 {
		h.w("<p>None: this is the first round.</p>\n")
		return
	}
	h.sub(h.id("carried"), "Carried")
	var xs []string
	for _, f := range c {
		xs = append(xs, h.short(f)+fmt.Sprintf(", first raised in round %d", f.FirstRound))
	}
	h.list(xs)
	h.sub(h.id("addressed"), "Addressed")
	xs = nil
	for _, f := range a {
		s := h.short(f)
		if f.FirstRound > 0 {
			s += fmt.Sprintf(", raised in round %d", f.FirstRound)
		}
		xs = append(xs, s)
	}
	h.list(xs)
	h.sub(h.id("declined"), "Declined")
	xs = nil
	if len(d) == 0 {
		h.none()
	}
	if len(d) > 0 {
		h.w("<ul>\n")
	}
	for _, f := range d {
		h.p("<li id=\"%s\"%s>%s: declined by a maintainer; not counted in the verdict</li>\n", h.take(f), h.findingAttrs(f), h.short(f))
	}
	if len(d) > 0 {
		h.w("</ul>\n")
	}
}

// preExisting lists the findings the lead accepted as older than the pull
// request, as report.md does: severity, the lead's evidence and the
// excerpt; nothing when there are none.
func (h *hw) preExisting() {
	ps := h.r().PreExisting
	if len(ps) == 0 {
		return
	}
	h.section(h.id("pre-existing-issues-this-pr-touches"), "Pre-existing issues this PR touches")
	h.w("<p>Real problems in code older than this pull request; they do not count toward the verdict.</p>\n<ul>\n")
	for _, f := range ps {
		s := h.codeInline(f.ID) + " <strong>" + h.inline(f.Title) + "</strong> " + h.where(f.File, f.StartLine, f.EndLine) + " (" + esc(string(f.Severity)) + ")"
		if a := h.names(f.Reviewers); a != "" {
			s += " " + a
		}
		for _, n := range f.Notes {
			if strings.HasPrefix(n, "lead: ") {
				s += "<br>Lead: " + h.inline(strings.TrimPrefix(n, "lead: "))
			}
		}
		if strings.TrimSpace(f.Excerpt) != "" {
			s += h.lineLinks(h.code(h.lexerFor(f.File), f.Excerpt, f.StartLine), f.File)
		}
		h.p("<li id=\"%s\">%s</li>\n", h.id("finding-"+f.ID), s)
	}
	h.w("</ul>\n")
}

func (h *hw) rejected() {
	h.section(h.id("rejected-findings"), "Rejected findings")
	var xs []string
	for _, f := range h.r().Rejected {
		s := "<del>" + h.inline(f.Title) + "</del> " + h.where(f.File, f.StartLine, f.EndLine)
		if a := h.names(f.Reviewers); a != "" {
			s += " " + a
		}
		if f.Severity != "" {
			s += " (" + esc(string(f.Severity)) + ")"
		}
		if f.Reason != "" {
			s += ". Rejected: " + h.inline(f.Reason)
		}
		xs = append(xs, s)
	}
	h.list(xs)
}

func (h *hw) skipped() {
	h.section(h.id("skipped-files"), "Skipped files")
	var xs []string
	for _, s := range h.r().Skipped {
		xs = append(xs, h.codeInline(s.Path)+": "+h.plainInline(s.Reason))
	}
	h.list(xs)
}

func (h *hw) retro() {
	r := h.r()
	h.section(h.id("agent-performance-retro"), "Agent performance retro")
	for _, s := range r.Reviewers {
		h.sub(h.id("retro-"+s.Name), h.plainInline(h.display(s.Name)))
		if s.Status != "" && s.Status != review.StatusOK {
			e := "<p><strong>" + esc(strings.ToUpper(s.Status[:1])+s.Status[1:]) + ".</strong>"
			if s.Error != "" {
				e += " " + h.plainInline(s.Error)
			}
			h.w(e + "</p>\n")
		}
		h.w(h.prose(s.Retro))
		h.w("<details><summary>Raw detail</summary>\n<ul>\n")
		h.w("<li>Model: " + h.codeInline(modelOf(s)) + "</li>\n")
		h.p("<li>Turns: %d</li>\n", s.Turns)
		if tb := review.ToolSummary(s.ToolCalls); tb != "" {
			h.w("<li>Tool calls: " + h.plainInline(tb) + "</li>\n")
		}
		if len(s.FilesReviewed) > 0 {
			files := make([]string, len(s.FilesReviewed))
			for i, f := range s.FilesReviewed {
				files[i] = h.codeInline(f)
			}
			h.w("<li>Files reviewed: " + strings.Join(files, ", ") + "</li>\n")
		}
		if len(s.CoverageMisses) > 0 {
			h.w("<li>Coverage misses: " + h.plainInline(strings.Join(s.CoverageMisses, ", ")) + "</li>\n")
		}
		h.w("</ul>\n</details>\n")
	}
	h.sub(h.id("retro-summary"), "Summary")
	if len(r.Reviewers) == 0 {
		h.w("<p>No reviewer ran.</p>\n")
	} else {
		h.chart()
		h.retroTable()
	}
	if l := r.Lead; l != nil {
		s := fmt.Sprintf("<p><strong>Lead:</strong> %s (%s): %s, %s, tokens %s, %s", h.plainInline(l.Name), h.plainInline(l.Model), clock(l.DurationMS), h.plainInline(l.Status), tokens(l.Tokens), dollars(l.CostUSD))
		if l.Error != "" {
			s += ". Error: " + h.plainInline(l.Error)
		}
		h.w(s + ".</p>\n")
	}
	h.p("<p><strong>Total:</strong> tokens %s, %s, wall-clock %s.</p>\n", tokens(r.Tokens()), dollars(r.CostUSD()), wallClock(r.WallClockMS))
	h.w(h.prose(r.Retro))
}

func (h *hw) retroTable() {
	r := h.r()
	h.w("<div class=\"scroll\"><table class=\"retro\">\n<thead><tr><th scope=\"col\">Metric</th>")
	for _, s := range r.Reviewers {
		h.w("<th scope=\"col\">" + h.plainInline(h.display(s.Name)) + "</th>")
	}
	h.w("</tr></thead>\n<tbody>\n")
	row := func(label string, f func(s review.ReviewerStats) string) {
		h.w("<tr><th scope=\"row\">" + label + "</th>")
		for _, s := range r.Reviewers {
			h.w("<td class=\"n\">" + f(s) + "</td>")
		}
		h.w("</tr>\n")
	}
	itoa := strconv.Itoa
	row("Model", func(s review.ReviewerStats) string { return h.codeInline(modelOf(s)) })
	row("Duration", func(s review.ReviewerStats) string { return clock(s.DurationMS) })
	row("Status", func(s review.ReviewerStats) string { return h.plainInline(s.Status) })
	row("Critical", func(s review.ReviewerStats) string { return itoa(s.Counts.Critical) })
	row("Important", func(s review.ReviewerStats) string { return itoa(s.Counts.Important) })
	row("Suggestion", func(s review.ReviewerStats) string { return itoa(s.Counts.Suggestion) })
	row("Design observations", func(s review.ReviewerStats) string { return itoa(s.DesignObservations) })
	row("Tool calls", func(s review.ReviewerStats) string { return itoa(s.TotalToolCalls()) })
	row("Files reviewed", func(s review.ReviewerStats) string { return itoa(len(s.FilesReviewed)) })
	row("False positives", func(s review.ReviewerStats) string { return itoa(s.FalsePositives) })
	row("Unique insights", func(s review.ReviewerStats) string { return itoa(s.UniqueInsights) })
	row("Coverage misses", func(s review.ReviewerStats) string {
		if len(s.CoverageMisses) == 0 {
			return "0"
		}
		return fmt.Sprintf("%d (%s)", len(s.CoverageMisses), h.plainInline(strings.Join(s.CoverageMisses, ", ")))
	})
	row("Tokens (input / cached / output)", func(s review.ReviewerStats) string { return tokens(s.Tokens) })
	row("Cost", func(s review.ReviewerStats) string { return dollars(s.CostUSD) })
	h.w("</tbody>\n</table></div>\n")
}
