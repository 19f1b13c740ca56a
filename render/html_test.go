package render

import (
	"bytes"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/deepreview/deep-review/review"
)

func TestHTMLGolden(t *testing.T) {
	got, err := HTML(fixture(), fixtureOptions())
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "report.html.golden", got)
}

func attr(n *html.Node, key string) (string, bool) {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val, true
		}
	}
	return "", false
}

func walk(n *html.Node, f func(*html.Node)) {
	f(n)
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		walk(c, f)
	}
}

// TestHTMLIsSelfContainedAndAnchored parses report.html back: every heading
// and finding has an id and a permalink to it, ids are unique, nothing is
// loaded from outside and no script or raw HTML from the content survives.
func TestHTMLIsSelfContainedAndAnchored(t *testing.T) {
	r := fixture()
	// Hostile text in prose and in code.
	r.Findings[0].Explanation += "\n\n<script>alert(1)</script><img src=\"https://evil.example/x.png\"><iframe src=\"https://evil.example\"></iframe>" +
		"<link rel=stylesheet href=\"https://evil.example/a.css\"> [x](javascript:alert(1)) ![i](https://evil.example/i.png)"
	r.Findings[0].Excerpt += "\n</code></pre><script>alert(2)</script>"
	r.Summary += "\n\n<style>body{background:url(https://evil.example/bg)}</style>"
	out, err := HTML(r, fixtureOptions())
	if err != nil {
		t.Fatal(err)
	}
	doc, err := html.Parse(bytes.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]int{}
	hrefs := map[string]bool{}
	var headings, findings []*html.Node
	viewport, styles, csp := false, 0, ""
	var inline []string // the text of every <style> and <script>
	walk(doc, func(n *html.Node) {
		if n.Type != html.ElementNode {
			return
		}
		if id, ok := attr(n, "id"); ok {
			ids[id]++
		}
		if h, ok := attr(n, "href"); ok {
			hrefs[h] = true
		}
		switch n.Data {
		case "script", "style":
			if n.FirstChild != nil {
				inline = append(inline, n.FirstChild.Data)
			}
		}
		switch n.Data {
		case "iframe", "img", "object", "embed", "link", "video", "audio", "source", "base":
			t.Errorf("report.html has a <%s> element", n.Data)
		case "h1", "h2", "h3", "h4", "h5", "h6":
			headings = append(headings, n)
		case "article":
			findings = append(findings, n)
		case "meta":
			if v, _ := attr(n, "name"); v == "viewport" {
				viewport = true
			}
			if v, _ := attr(n, "http-equiv"); v == "Content-Security-Policy" {
				csp, _ = attr(n, "content")
			}
		case "style":
			styles++
		}
		for _, a := range n.Attr {
			if strings.HasPrefix(strings.ToLower(a.Key), "on") {
				t.Errorf("<%s %s=%q> is an inline event handler", n.Data, a.Key, a.Val)
			}
		}
		if v, ok := attr(n, "src"); ok {
			t.Errorf("<%s src=%q> loads a resource", n.Data, v)
		}
		if v, ok := attr(n, "style"); ok && strings.Contains(v, "url(") {
			t.Errorf("<%s style=%q> loads a resource", n.Data, v)
		}
		if v, ok := attr(n, "href"); ok && strings.HasPrefix(strings.ToLower(strings.TrimSpace(v)), "javascript:") {
			t.Errorf("<%s href=%q>", n.Data, v)
		}
	})
	if !viewport {
		t.Error("no viewport meta")
	}
	if styles != 1 {
		t.Errorf("%d <style> elements, want our one", styles)
	}
	if len(inline) != 2 {
		t.Errorf("%d inline <style>/<script> elements, want our style and our script", len(inline))
	}
	for _, want := range []string{"default-src 'none'", "img-src 'none'", "connect-src 'none'", "base-uri 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("Content-Security-Policy %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe") || strings.Contains(csp, "*") || strings.Contains(csp, "http") {
		t.Errorf("Content-Security-Policy %q allows more than our own inline code", csp)
	}
	for _, text := range inline {
		if !strings.Contains(csp, cspHash(text)) {
			t.Errorf("Content-Security-Policy %q does not allow an inline element by its hash %s", csp, cspHash(text))
		}
	}
	for id, n := range ids {
		if n > 1 {
			t.Errorf("id %q is used %d times", id, n)
		}
	}
	if len(headings) < 20 {
		t.Errorf("only %d headings", len(headings))
	}
	for _, h := range headings {
		id, ok := attr(h, "id")
		if !ok {
			t.Errorf("a <%s> has no id", h.Data)
			continue
		}
		found := false
		walk(h, func(n *html.Node) {
			if v, _ := attr(n, "href"); n.Data == "a" && v == "#"+id {
				found = true
			}
		})
		if !found {
			t.Errorf("<%s id=%q> has no permalink", h.Data, id)
		}
	}
	if len(findings) != 3 {
		t.Errorf("%d finding articles, want 3 (C1, I1, S1)", len(findings))
	}
	for _, f := range findings {
		if _, ok := attr(f, "id"); !ok {
			t.Error("a finding has no id")
		}
	}
	for _, want := range []string{"#c1", "#i1", "#s1", "#critical-issues", "#agent-performance-retro"} {
		if !hrefs[want] {
			t.Errorf("no link to %s", want)
		}
	}
	s := string(out)
	for _, bad := range []string{fixtureSecret, "evil.example/x.png\"", "<script>alert", "alert(2)</script>", "unsafe-inline"} {
		if strings.Contains(s, bad) {
			t.Errorf("report.html holds %q", bad)
		}
	}
	if !strings.Contains(s, "@media print") || !strings.Contains(s, "class=\"chroma\"") {
		t.Error("no print stylesheet or no highlighted code")
	}
	if strings.Contains(s, review.MarkerPrefix) {
		t.Error("report.html holds a state marker")
	}
}

// TestHTMLHasThePreExistingSection: report.html lists the pre-existing
// findings as report.md does, with severity, the lead's evidence and the
// excerpt, and its contents link to the section.
func TestHTMLHasThePreExistingSection(t *testing.T) {
	r := fixture()
	r.PreExisting = []review.Finding{{ID: "P1", Severity: review.Important, Title: "Set writes to a nil map", File: "cache.go", StartLine: 19, EndLine: 19,
		Excerpt: "c.items[key] = value", Reviewers: []string{r.Reviewers[0].Name}, Notes: []string{"lead: blame shows cache.go:19 predates the PR"}}}
	out, err := HTML(r, fixtureOptions())
	if err != nil {
		t.Fatal(err)
	}
	page := string(out)
	for _, want := range []string{`id="pre-existing-issues-this-pr-touches"`, `href="#pre-existing-issues-this-pr-touches"`, "<code>P1</code>", "Set writes to a nil map", "(important)",
		"Lead: blame shows cache.go:19 predates the PR", "they do not count toward the verdict", "items"} {
		if !strings.Contains(page, want) {
			t.Errorf("report.html lacks %q", want)
		}
	}
	if rest := page[strings.Index(page, `id="pre-existing-issues-this-pr-touches"`)+1:]; strings.Index(rest, "Set writes to a nil map") > strings.Index(rest, `id="rejected-findings"`) {
		t.Error("the pre-existing finding is not in its own section before the rejected findings")
	}
	plain, err := HTML(fixture(), fixtureOptions())
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(plain), "pre-existing-issues-this-pr-touches") {
		t.Error("a report without pre-existing findings has the section or its link")
	}
}
