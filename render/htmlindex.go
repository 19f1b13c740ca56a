package render

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/deepreview/deep-review/review"
)

// indexed is a finding the index lists, with the id of its place on the
// page: its heading for an open finding, its line under "Declined" for a
// declined one.
type indexed struct {
	f      review.Finding
	anchor string
}

// planAnchors assigns the page ids of every finding the index lists, in
// page order, before the index that links to them is written, and keys
// the reviewers for the filter ("r0", "r1", ...).
func (h *hw) planAnchors() {
	r := h.r()
	for _, s := range severities {
		for _, f := range open(r, s) {
			h.plan(f)
		}
	}
	for _, f := range withStatus(r, review.FindingDeclined) {
		h.plan(f)
	}
	h.reviewerKeys = map[string]string{}
	add := func(name string) {
		if _, ok := h.reviewerKeys[name]; !ok {
			h.reviewerKeys[name] = "r" + strconv.Itoa(len(h.reviewerOrder))
			h.reviewerOrder = append(h.reviewerOrder, name)
		}
	}
	for _, s := range r.Reviewers {
		add(s.Name)
	}
	for _, x := range h.indexed {
		for _, n := range x.f.Reviewers {
			add(n)
		}
	}
}

func (h *hw) plan(f review.Finding) {
	id := h.id(f.ID)
	if _, ok := h.anchors[f.ID]; !ok {
		h.anchors[f.ID] = id
	}
	h.indexed = append(h.indexed, indexed{f: f, anchor: id})
}

// take returns the next planned finding's anchor; findings are written in
// the order planAnchors planned them.
func (h *hw) take(f review.Finding) string {
	for i := range h.indexed {
		if !h.taken[i] && h.indexed[i].f.ID == f.ID && h.indexed[i].f.Fingerprint == f.Fingerprint {
			h.taken[i] = true
			return h.indexed[i].anchor
		}
	}
	return h.id(f.ID)
}

// findingAttrs are the attributes the filter script reads, on every
// element that stands for a finding (index row, article, per-file line).
func (h *hw) findingAttrs(f review.Finding) string {
	keys := make([]string, 0, len(f.Reviewers))
	for _, n := range f.Reviewers {
		keys = append(keys, h.reviewerKeys[n])
	}
	return fmt.Sprintf(" data-finding=\"%s\" data-severity=\"%s\" data-reviewers=\"%s\"",
		h.attr(h.md.s.plain(f.ID)), h.attr(string(f.Severity)), strings.Join(keys, " "))
}

func (h *hw) status(f review.Finding) string {
	switch f.Status {
	case review.FindingCarried:
		return fmt.Sprintf("carried from round %d", f.FirstRound)
	case review.FindingDeclined:
		return "declined"
	case "":
		return "new"
	}
	return h.plainInline(f.Status)
}

func (h *hw) sev(s review.Severity) string {
	return "<span class=\"sev " + h.attr(string(s)) + "\">" + esc(string(s)) + "</span>"
}

// index writes the findings index: one row per finding linking to it,
// with the filter controls above it (hidden until the script shows them).
func (h *hw) index() {
	h.section(h.id("findings-index"), "Findings index")
	if len(h.indexed) == 0 {
		h.none()
		return
	}
	h.filters()
	h.w("<div class=\"scroll\"><table class=\"index\">\n<thead><tr><th scope=\"col\">ID</th><th scope=\"col\">Severity</th><th scope=\"col\">Location</th><th scope=\"col\">Title</th><th scope=\"col\">Reviewers</th><th scope=\"col\">Status</th></tr></thead>\n<tbody>\n")
	for _, x := range h.indexed {
		f := x.f
		var names []string
		for _, n := range f.Reviewers {
			names = append(names, h.plainInline(h.display(n)))
		}
		h.p("<tr%s><td><a href=\"#%s\">%s</a></td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>\n",
			h.findingAttrs(f), x.anchor, h.plainInline(f.ID), h.sev(f.Severity), h.where(f.File, f.StartLine, f.EndLine),
			h.inline(f.Title), strings.Join(names, ", "), esc(h.status(f)))
	}
	h.w("</tbody>\n</table></div>\n")
}

func (h *hw) filters() {
	h.w("<div class=\"filters\" id=\"filters\" role=\"group\" aria-label=\"Filter the findings\" hidden>\n<fieldset><legend>Severity</legend>")
	for _, s := range severities {
		n := 0
		for _, x := range h.indexed {
			if x.f.Severity == s {
				n++
			}
		}
		h.p("<label><input type=\"checkbox\" name=\"severity\" value=\"%s\" checked> %s (%d)</label>", s, esc(string(s)), n)
	}
	h.w("</fieldset>\n<label>Reviewer <select name=\"reviewer\"><option value=\"\">All reviewers</option>")
	for _, n := range h.reviewerOrder {
		h.p("<option value=\"%s\">%s</option>", h.reviewerKeys[n], h.plainInline(h.display(n)))
	}
	h.w("</select></label>\n<span id=\"filter-count\" aria-live=\"polite\"></span>\n</div>\n")
}

// byFile writes the per-file view: every file a reviewer read or a
// finding cites, with its findings.
func (h *hw) byFile() {
	h.section(h.id("findings-by-file"), "Findings by file")
	files := map[string][]indexed{}
	for _, s := range h.r().Reviewers {
		for _, f := range s.FilesReviewed {
			files[f] = files[f]
		}
	}
	for _, x := range h.indexed {
		files[x.f.File] = append(files[x.f.File], x)
	}
	if len(files) == 0 {
		h.none()
		return
	}
	names := make([]string, 0, len(files))
	for f := range files {
		names = append(names, f)
	}
	sort.Strings(names)
	for _, file := range names {
		title := "(no file)"
		if file != "" {
			title = h.codeInline(file)
			if u := blobURL(h.md.o, h.r().PR.HeadSHA, file, 0, 0); u != "" {
				title = "<a href=\"" + h.attr(u) + "\">" + title + "</a>"
			}
		}
		h.sub(h.id("file-"+file), title)
		xs := files[file]
		if len(xs) == 0 {
			h.w("<p>No findings.</p>\n")
			continue
		}
		h.w("<ul class=\"by-file\">\n")
		for _, x := range xs {
			f := x.f
			lines := ""
			if lr := lineRange(f.StartLine, f.EndLine); lr != "" {
				lines = " (line " + lr + ")"
			}
			st := ""
			if f.Status == review.FindingCarried || f.Status == review.FindingDeclined {
				st = ", " + esc(h.status(f))
			}
			h.p("<li%s><a href=\"#%s\">%s</a> %s: %s%s%s</li>\n", h.findingAttrs(f), x.anchor, h.plainInline(f.ID), h.sev(f.Severity), h.inline(f.Title), lines, st)
		}
		h.w("</ul>\n")
	}
}

// copyable puts a copy button (shown by the script) on every <pre> in
// html, which is our own rendering: model text in it is escaped, so
// "<pre" and "</pre>" only ever open and close a real block.
func copyable(html string) string {
	html = strings.ReplaceAll(html, "<pre", "<div class=\"copy-wrap\"><button type=\"button\" class=\"copy\" hidden>Copy</button><pre")
	return strings.ReplaceAll(html, "</pre>", "</pre></div>")
}

var lineNumberRE = regexp.MustCompile(`<span class="ln">(\s*)(\d+)(\s*)</span>`)

// lineLinks links the line numbers of an excerpt of file to the file at
// the reviewed head, when the repository is known.
func (h *hw) lineLinks(html, file string) string {
	head := h.r().PR.HeadSHA
	if blobURL(h.md.o, head, file, 1, 1) == "" {
		return html
	}
	return lineNumberRE.ReplaceAllStringFunc(html, func(m string) string {
		g := lineNumberRE.FindStringSubmatch(m)
		n, err := strconv.Atoi(g[2])
		if err != nil {
			return m
		}
		return "<span class=\"ln\">" + g[1] + "<a href=\"" + h.attr(blobURL(h.md.o, head, file, n, n)) + "\">" + g[2] + "</a>" + g[3] + "</span>"
	})
}
