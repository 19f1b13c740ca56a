package render

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/deepreview/deep-review/render/browsertest"
	"github.com/deepreview/deep-review/review"
)

// writeReport renders r's report.html and report.json into dir.
func writeReport(t *testing.T, dir string, r *review.Report, o Options) (string, []byte) {
	t.Helper()
	page, err := HTML(r, o)
	if err != nil {
		t.Fatal(err)
	}
	js, err := JSON(r)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "report.html")
	if err := os.WriteFile(path, page, 0o644); err != nil {
		t.Fatal(err)
	}
	return path, js
}

// TestReportHTMLInABrowser opens the rich fixture's report.html from
// file:// in headless Chromium and uses it: no console error or network
// request, every index link lands on its finding, the filters hide and
// show the right findings, the copy buttons copy the exact patches and
// the chart is drawn from report.json's figures.
func TestReportHTMLInABrowser(t *testing.T) {
	ctx := browsertest.Start(t)
	path, js := writeReport(t, t.TempDir(), fixture(), fixtureOptions())
	browsertest.CheckAll(t, ctx, path, js, "fixture-report")
}

func decode(t *testing.T, js []byte) *review.Report {
	t.Helper()
	var r review.Report
	if err := json.Unmarshal(js, &r); err != nil {
		t.Fatal(err)
	}
	return &r
}

// brokenAnchor writes the fixture's report.html with finding I1's
// heading renamed, so its index link lands on nothing.
func brokenAnchor(t *testing.T, dir string) string {
	t.Helper()
	path, _ := writeReport(t, dir, fixture(), fixtureOptions())
	page, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	broken := strings.Replace(string(page), `<h3 id="i1">`, `<h3 id="i1-renamed">`, 1)
	if broken == string(page) {
		t.Fatal("the fixture's page has no <h3 id=\"i1\"> to break")
	}
	if err := os.WriteFile(path, []byte(broken), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// wrongFigure writes a report.html whose chart draws Codex's output
// tokens from its input tokens, as a mix-up in chart.go would.
func wrongFigure(t *testing.T, dir string) string {
	t.Helper()
	r := fixture()
	r.Reviewers[1].Tokens.Output = r.Reviewers[1].Tokens.Input
	path, _ := writeReport(t, dir, r, fixtureOptions())
	return path
}

// TestBrowserChecksCatchABrokenPage breaks a page on purpose, once an
// anchor and once a bar, and asserts the checks report it: a check that
// passes a broken page would prove nothing.
func TestBrowserChecksCatchABrokenPage(t *testing.T) {
	ctx := browsertest.Start(t)
	_, js := writeReport(t, t.TempDir(), fixture(), fixtureOptions())
	r := decode(t, js)

	p := browsertest.Open(t, ctx, brokenAnchor(t, t.TempDir()))
	problems := p.CheckAnchors(r)
	if len(problems) != 1 || !strings.Contains(problems[0], "I1") || !strings.Contains(problems[0], "lands on nothing") {
		t.Errorf("the anchor check on a page whose I1 anchor is broken reported %q, want one problem about I1", problems)
	}
	if bars := p.CheckChart(r); len(bars) != 0 {
		t.Errorf("the chart check on a page with a sound chart reported %q", bars)
	}

	p = browsertest.Open(t, ctx, wrongFigure(t, t.TempDir()))
	problems = p.CheckChart(r)
	drawnFrom := false
	for _, pr := range problems {
		if !strings.Contains(pr, "tokens.output bar of Codex") {
			t.Errorf("the chart check blames a bar that is sound: %s", pr)
		}
		drawnFrom = drawnFrom || strings.Contains(pr, "tokens.output bar of Codex is drawn from 30000, report.json says 4000")
	}
	if !drawnFrom {
		t.Errorf("the chart check on a page that draws Codex's output tokens from its input reported %q, want that bar's figure", problems)
	}
	if anchors := p.CheckAnchors(r); len(anchors) != 0 {
		t.Errorf("the anchor check on a page with sound anchors reported %q", anchors)
	}

	p = browsertest.Open(t, ctx, fetching(t, t.TempDir()))
	if problems := p.LoadProblems(); !strings.Contains(strings.Join(problems, "\n"), "example.invalid") {
		t.Errorf("the load check on a page that fetches an image reported %q, want the refused fetch", problems)
	}
}

// fetching writes the fixture's report.html with an image from outside
// slipped in, which the Content-Security-Policy must refuse, visibly.
func fetching(t *testing.T, dir string) string {
	t.Helper()
	path, _ := writeReport(t, dir, fixture(), fixtureOptions())
	page, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	page = []byte(strings.Replace(string(page), "<main>", `<main><img src="https://example.invalid/pixel.png" alt="">`, 1))
	if err := os.WriteFile(path, page, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}
