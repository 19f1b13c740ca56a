// Package browsertest opens report.html in a headless Chromium and checks
// it the way a reader uses it: it loads from file:// with no console error
// and no network request, every index link lands on its finding, the
// severity and reviewer filters hide and show the right findings, the copy
// buttons put the exact patch on the clipboard and the retro chart's bars
// are drawn from report.json's figures. It is for tests only: the render
// tests run it on the rich fixture report and the demo's test on the
// demo's report.
//
// Each check returns the problems it found rather than failing the test,
// so a test can break a page on purpose and assert that the check notices.
package browsertest

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/deepreview/deep-review/review"
)

// Install says how to get the browser the tests need.
const Install = "install Chromium to run the browser tests: apt-get install -y chromium (Debian), or set DEEP_REVIEW_CHROMIUM to a Chromium or Chrome binary"

// chromium finds the browser: $DEEP_REVIEW_CHROMIUM, then the usual names.
func chromium() string {
	if p := os.Getenv("DEEP_REVIEW_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// Start launches a headless Chromium for the test and returns its context;
// the browser stops when the test ends. Without a browser the test is
// skipped, saying how to install one, except under CI=true, where a
// missing browser fails it.
func Start(t testing.TB) context.Context {
	t.Helper()
	path := chromium()
	if path == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("no Chromium found under CI: %s", Install)
		}
		t.Skip("no Chromium found; " + Install)
	}
	profile := t.TempDir()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(profile),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.WindowSize(1200, 900),
	}
	// A guard against a wedged browser, not a timed assertion.
	ctx, cancelTimeout := context.WithTimeout(context.Background(), 3*time.Minute)
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	bctx, cancelBrowser := chromedp.NewContext(actx)
	if err := chromedp.Do(bctx); err != nil {
		cancelBrowser()
		cancelAlloc()
		cancelTimeout()
		t.Fatalf("start %s: %v", path, err)
	}
	t.Cleanup(func() {
		_ = chromedp.Cancel(bctx)
		cancelBrowser()
		cancelAlloc()
		cancelTimeout()
	})
	return bctx
}

// Page is report.html open in a tab, with what the tab logged.
type Page struct {
	ctx context.Context
	url string

	mu       sync.Mutex
	console  []string
	requests []string
}

// Open opens the file at path in a new tab of the browser, with the
// clipboard allowed and focus emulated so the copy buttons work headless.
func Open(t testing.TB, browserCtx context.Context, path string) *Page {
	t.Helper()
	abs, err := filepath.Abs(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := chromedp.NewContext(browserCtx)
	t.Cleanup(cancel)
	p := &Page{ctx: ctx, url: "file://" + filepath.ToSlash(abs)}
	if err := chromedp.Listen(ctx, p.event); err != nil {
		t.Fatalf("listen to the tab: %v", err)
	}
	for _, perm := range []string{"clipboard-read", "clipboard-write"} {
		if _, err := chromedp.CallBrowser(ctx, browser.SetPermission, browser.SetPermissionParams{
			Permission: &browser.PermissionDescriptor{Name: perm, AllowWithoutSanitization: true},
			Setting:    browser.PermissionSettingGranted,
		}); err != nil {
			t.Fatalf("grant %s: %v", perm, err)
		}
	}
	err = chromedp.Do(ctx,
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			if _, err := cdp.Call(ctx, tg, network.Enable, network.EnableParams{}); err != nil {
				return err
			}
			if _, err := cdp.Call(ctx, tg, cdplog.Enable, cdp.Empty{}); err != nil {
				return err
			}
			_, err := cdp.Call(ctx, tg, emulation.SetFocusEmulationEnabled, emulation.SetFocusEmulationEnabledParams{Enabled: true})
			return err
		}),
		chromedp.Navigate(p.url),
		chromedp.WaitReady(chromedp.CSS("body")),
	)
	if err != nil {
		t.Fatalf("open %s: %v", p.url, err)
	}
	return p
}

// event records console errors, exceptions, logged errors and requests.
func (p *Page) event(ev any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch e := ev.(type) {
	case *runtime.EventConsoleAPICalled:
		if e.Type == runtime.ConsoleAPICalledTypeError || e.Type == runtime.ConsoleAPICalledTypeWarning || e.Type == runtime.ConsoleAPICalledTypeAssert {
			var args []string
			for _, a := range e.Args {
				args = append(args, string(a.Value))
			}
			p.console = append(p.console, fmt.Sprintf("console.%s: %s", e.Type, strings.Join(args, " ")))
		}
	case *runtime.EventExceptionThrown:
		d := e.ExceptionDetails
		msg := d.Text
		if d.Exception != nil {
			msg += " " + d.Exception.Description
		}
		p.console = append(p.console, "exception: "+msg)
	case *cdplog.EventEntryAdded:
		if e.Entry.Level == cdplog.EntryLevelError || e.Entry.Level == cdplog.EntryLevelWarning {
			p.console = append(p.console, fmt.Sprintf("log %s (%s): %s %s", e.Entry.Level, e.Entry.Source, e.Entry.Text, e.Entry.URL))
		}
	case *network.EventRequestWillBeSent:
		if e.Request != nil && e.Request.URL != p.url {
			p.requests = append(p.requests, e.Request.Method+" "+e.Request.URL)
		}
	}
}

// eval runs a script in the page and decodes its JSON result into v.
func (p *Page) eval(script string, v any) error {
	raw, err := chromedp.Run(p.ctx, chromedp.Evaluate[[]byte](script, chromedp.EvalAwaitPromise))
	if err != nil {
		return err
	}
	if v == nil {
		return nil
	}
	return json.Unmarshal(raw, v)
}

// LoadProblems are the console errors and warnings, uncaught exceptions,
// refused content (a Content-Security-Policy violation is logged) and
// network requests other than the page itself, so far.
func (p *Page) LoadProblems() []string {
	// A round trip, so every event the load caused has arrived.
	_ = p.eval(`1`, nil)
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	out = append(out, p.console...)
	for _, r := range p.requests {
		out = append(out, "network request: "+r)
	}
	return out
}

// findingIDs are the IDs of the report's findings, declined ones too.
func findingIDs(r *review.Report) []string {
	var ids []string
	for _, f := range r.Findings {
		ids = append(ids, f.ID)
	}
	return ids
}

// CheckAnchors follows every link of the findings index, as a click, and
// checks that it lands on its finding: the target exists, stands for that
// finding, shows its ID and is scrolled into view; and that the index
// lists every finding of the report once.
func (p *Page) CheckAnchors(r *review.Report) []string {
	var rows []struct{ ID, Href string }
	if err := p.eval(`Array.from(document.querySelectorAll("table.index tr[data-finding]")).map(tr => {
		const a = tr.querySelector("a[href^='#']"); return {ID: tr.dataset.finding, Href: a ? a.getAttribute("href") : ""}; })`, &rows); err != nil {
		return []string{"read the index: " + err.Error()}
	}
	var problems []string
	var listed []string
	for _, row := range rows {
		listed = append(listed, row.ID)
	}
	for _, id := range findingIDs(r) {
		if n := countOf(listed, id); n != 1 {
			problems = append(problems, fmt.Sprintf("finding %s is listed %d times in the index", id, n))
		}
	}
	for i, row := range rows {
		if row.Href == "" {
			problems = append(problems, fmt.Sprintf("index row %s has no link", row.ID))
			continue
		}
		var got struct {
			Hash, Finding, Text string
			Exists              bool
			Top, Height         float64
		}
		err := p.eval(fmt.Sprintf(`(async () => {
			scrollTo(0, 0);
			document.querySelectorAll("table.index tr[data-finding]")[%d].querySelector("a[href^='#']").click();
			await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
			const t = document.getElementById(decodeURIComponent(location.hash.slice(1)));
			if (!t) return {Hash: location.hash, Exists: false};
			const f = t.closest("[data-finding]");
			return {Hash: location.hash, Exists: true, Finding: f ? f.dataset.finding : "", Text: t.textContent,
				Top: t.getBoundingClientRect().top, Height: innerHeight};
		})()`, i), &got)
		switch {
		case err != nil:
			problems = append(problems, fmt.Sprintf("follow the index link of %s: %v", row.ID, err))
		case got.Hash != row.Href:
			problems = append(problems, fmt.Sprintf("the index link of %s went to %q, not %q", row.ID, got.Hash, row.Href))
		case !got.Exists:
			problems = append(problems, fmt.Sprintf("the index link of %s, %s, lands on nothing: no element has that id", row.ID, row.Href))
		case got.Finding != row.ID:
			problems = append(problems, fmt.Sprintf("the index link of %s, %s, lands on finding %q", row.ID, row.Href, got.Finding))
		case !strings.Contains(got.Text, row.ID):
			problems = append(problems, fmt.Sprintf("the index link of %s lands on %q, which does not show the ID", row.ID, got.Text))
		case got.Top < -1 || got.Top >= got.Height:
			problems = append(problems, fmt.Sprintf("the index link of %s leaves its finding out of view (top %.0f of %.0f)", row.ID, got.Top, got.Height))
		}
	}
	return problems
}

func countOf(xs []string, x string) int {
	n := 0
	for _, y := range xs {
		if y == x {
			n++
		}
	}
	return n
}

// shown lists the findings shown (rendered) in the index, and every
// element standing for a finding that is shown when it should not be or
// hidden when it should not be, given want.
func (p *Page) filtered(want func(review.Finding) bool, r *review.Report, what string) []string {
	var els []struct {
		ID, Tag string
		Shown   bool
	}
	if err := p.eval(`Array.from(document.querySelectorAll("[data-finding]")).map(e => ({ID: e.dataset.finding, Tag: e.tagName, Shown: e.getClientRects().length > 0}))`, &els); err != nil {
		return []string{"read the findings: " + err.Error()}
	}
	byID := map[string]review.Finding{}
	for _, f := range r.Findings {
		byID[f.ID] = f
	}
	var problems []string
	for _, e := range els {
		f, ok := byID[e.ID]
		if !ok {
			problems = append(problems, fmt.Sprintf("a <%s> stands for finding %q, which report.json does not have", e.Tag, e.ID))
			continue
		}
		if w := want(f); w != e.Shown {
			state := map[bool]string{true: "shown", false: "hidden"}
			problems = append(problems, fmt.Sprintf("%s: the <%s> of %s (%s) is %s, want %s", what, strings.ToLower(e.Tag), e.ID, f.Severity, state[e.Shown], state[w]))
		}
	}
	return problems
}

// CheckSeverityFilter unticks each severity in turn, as a click, checks
// that exactly the findings of that severity are hidden (index rows,
// articles, per-file and declined lines), ticks it again and checks that
// all are shown.
func (p *Page) CheckSeverityFilter(r *review.Report) []string {
	var visible bool
	if err := p.eval(`(() => { const f = document.getElementById("filters"); return !!f && f.getClientRects().length > 0; })()`, &visible); err != nil || !visible {
		return []string{fmt.Sprintf("the filters are not shown (%v)", err)}
	}
	var problems []string
	all := func(review.Finding) bool { return true }
	for _, s := range []review.Severity{review.Critical, review.Important, review.Suggestion} {
		box := fmt.Sprintf(`#filters input[name=severity][value=%s]`, s)
		if err := chromedp.Do(p.ctx, chromedp.Click(chromedp.CSS(box))); err != nil {
			problems = append(problems, fmt.Sprintf("untick %s: %v", s, err))
			continue
		}
		problems = append(problems, p.filtered(func(f review.Finding) bool { return f.Severity != s }, r, "without "+string(s))...)
		if err := chromedp.Do(p.ctx, chromedp.Click(chromedp.CSS(box))); err != nil {
			problems = append(problems, fmt.Sprintf("tick %s again: %v", s, err))
			continue
		}
		problems = append(problems, p.filtered(all, r, "with "+string(s)+" ticked again")...)
	}
	return problems
}

// CheckReviewerFilter picks each reviewer in turn and checks that exactly
// the findings that reviewer raised are shown, then picks all again.
func (p *Page) CheckReviewerFilter(r *review.Report) []string {
	var opts []struct{ Value, Text string }
	if err := p.eval(`Array.from(document.querySelectorAll("#filters select[name=reviewer] option")).map(o => ({Value: o.value, Text: o.textContent}))`, &opts); err != nil {
		return []string{"read the reviewer filter: " + err.Error()}
	}
	display := map[string]string{}
	for _, s := range r.Reviewers {
		display[s.Name] = s.Name
		if s.Label != "" {
			display[s.Name] = s.Name + " (" + s.Label + ")"
		}
	}
	var problems []string
	pick := func(v string) error {
		return p.eval(fmt.Sprintf(`(() => { const s = document.querySelector("#filters select[name=reviewer]"); s.value = %q; s.dispatchEvent(new Event("change")); return true; })()`, v), nil)
	}
	for _, o := range opts {
		if o.Value == "" {
			continue
		}
		if err := pick(o.Value); err != nil {
			problems = append(problems, fmt.Sprintf("pick %s: %v", o.Text, err))
			continue
		}
		problems = append(problems, p.filtered(func(f review.Finding) bool {
			return slices.ContainsFunc(f.Reviewers, func(n string) bool { return n == o.Text || display[n] == o.Text })
		}, r, "reviewer "+o.Text)...)
	}
	if err := pick(""); err != nil {
		problems = append(problems, "pick all reviewers: "+err.Error())
	}
	return append(problems, p.filtered(func(review.Finding) bool { return true }, r, "all reviewers")...)
}

// CheckCopy clicks the copy button of every open finding's patch and
// checks that the clipboard then holds the exact patch.
func (p *Page) CheckCopy(r *review.Report) []string {
	var problems []string
	n := 0
	for _, f := range r.Findings {
		if f.Status == review.FindingDeclined || strings.TrimSpace(f.Patch) == "" {
			continue
		}
		n++
		want := strings.TrimRight(f.Patch, "\n") + "\n"
		var got struct {
			Clip  string
			Error string
		}
		err := p.eval(fmt.Sprintf(`(async () => {
			const b = document.querySelector(%q);
			if (!b) return {Error: "no copy button"};
			if (b.getClientRects().length === 0) return {Error: "the copy button is hidden"};
			await navigator.clipboard.writeText("");
			b.click();
			for (let i = 0; i < 100 && b.dataset.copied !== "true"; i++) await new Promise(r => setTimeout(r, 20));
			if (b.dataset.copied !== "true") return {Error: "the button never said it copied: " + b.textContent};
			delete b.dataset.copied;
			return {Clip: await navigator.clipboard.readText()};
		})()`, fmt.Sprintf(`article[data-finding=%q] .patch button.copy`, f.ID)), &got)
		switch {
		case err != nil:
			problems = append(problems, fmt.Sprintf("copy the patch of %s: %v", f.ID, err))
		case got.Error != "":
			problems = append(problems, fmt.Sprintf("copy the patch of %s: %s", f.ID, got.Error))
		case got.Clip != want:
			problems = append(problems, fmt.Sprintf("the copy button of %s put %q on the clipboard, want the patch %q", f.ID, got.Clip, want))
		}
	}
	if n == 0 {
		problems = append(problems, "no finding has a patch to copy; the check checked nothing")
	}
	return problems
}

// bar is one drawn bar of the retro chart.
type bar struct {
	Panel    string
	Scale    float64
	Metric   string
	Reviewer *int
	Lead     bool
	Value    float64
	Width    float64
	X        float64
	Axis     float64
}

// CheckChart holds the retro chart to report.json: every reviewer has its
// duration, findings by severity, tokens and cost bars and the lead its
// duration, tokens and cost, each bar's figure is report.json's and its
// length is that figure on its panel's scale; the wall-clock mark stands
// at report.json's wall clock.
func (p *Page) CheckChart(r *review.Report) []string {
	var bars []bar
	if err := p.eval(`Array.from(document.querySelectorAll("svg.chart [data-metric]")).map(e => {
		const g = e.closest("g.panel"), axis = g.querySelector("line.axis");
		const isLine = e.tagName === "line";
		return {Panel: g.dataset.panel, Scale: +g.dataset.scale, Metric: e.dataset.metric,
			Reviewer: e.dataset.reviewer === undefined ? null : +e.dataset.reviewer, Lead: e.dataset.lead !== undefined,
			Value: +e.dataset.value, Width: isLine ? -1 : e.getBBox().width, X: isLine ? e.x1.baseVal.value : e.x.baseVal.value,
			Axis: axis ? axis.x1.baseVal.value : 0};
	})`, &bars); err != nil {
		return []string{"read the chart: " + err.Error()}
	}
	type key struct {
		who    int // -1 the lead, -2 the wall clock
		metric string
	}
	want := map[key]float64{}
	for i, s := range r.Reviewers {
		for m, v := range map[string]float64{
			"duration_ms": float64(s.DurationMS), "counts.critical": float64(s.Counts.Critical),
			"counts.important": float64(s.Counts.Important), "counts.suggestion": float64(s.Counts.Suggestion),
			"tokens.input": float64(s.Tokens.Input), "tokens.cached_input": float64(s.Tokens.CachedInput),
			"tokens.output": float64(s.Tokens.Output), "cost_usd": s.CostUSD,
		} {
			want[key{i, m}] = v
		}
	}
	if l := r.Lead; l != nil {
		for m, v := range map[string]float64{
			"duration_ms": float64(l.DurationMS), "tokens.input": float64(l.Tokens.Input),
			"tokens.cached_input": float64(l.Tokens.CachedInput), "tokens.output": float64(l.Tokens.Output), "cost_usd": l.CostUSD,
		} {
			want[key{-1, m}] = v
		}
	}
	want[key{-2, "wall_clock_ms"}] = float64(r.WallClockMS)
	var problems []string
	seen := map[key]bool{}
	for _, b := range bars {
		k := key{-2, b.Metric}
		switch {
		case b.Lead:
			k.who = -1
		case b.Reviewer != nil:
			k.who = *b.Reviewer
		}
		who := map[int]string{-1: "the lead", -2: "the run"}[k.who]
		if k.who >= 0 && k.who < len(r.Reviewers) {
			who = r.Reviewers[k.who].Name
		}
		w, ok := want[k]
		if !ok {
			problems = append(problems, fmt.Sprintf("the %s panel draws %s of %s, which report.json does not have", b.Panel, b.Metric, who))
			continue
		}
		if seen[k] {
			problems = append(problems, fmt.Sprintf("%s of %s is drawn twice", b.Metric, who))
		}
		seen[k] = true
		if !near(b.Value, w) {
			problems = append(problems, fmt.Sprintf("the %s bar of %s is drawn from %v, report.json says %v", b.Metric, who, b.Value, w))
		}
		length := b.Width
		if b.Width < 0 { // the wall-clock line: its distance from the axis
			length = b.X - b.Axis
		}
		if math.Abs(length-w*b.Scale) > 0.01 {
			problems = append(problems, fmt.Sprintf("the %s bar of %s is %.3f long, but %v on the %s panel's scale is %.3f", b.Metric, who, length, w, b.Panel, w*b.Scale))
		}
	}
	for k := range want {
		if !seen[k] {
			who := "the lead"
			if k.who >= 0 {
				who = r.Reviewers[k.who].Name
			} else if k.who == -2 {
				who = "the run"
			}
			problems = append(problems, fmt.Sprintf("the chart has no %s bar for %s", k.metric, who))
		}
	}
	slices.Sort(problems)
	return problems
}

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b)) }

// Screenshots writes full-page screenshots of the page in the light and
// the dark scheme under the test's temp dir, and into the folder
// $DEEP_REVIEW_SCREENSHOTS names, when it names one. It returns the files
// it wrote.
func (p *Page) Screenshots(t testing.TB, name string) []string {
	t.Helper()
	dirs := []string{t.TempDir()}
	if d := os.Getenv("DEEP_REVIEW_SCREENSHOTS"); d != "" {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatalf("screenshot folder: %v", err)
		}
		dirs = append(dirs, d)
	}
	var files []string
	for _, scheme := range []string{"light", "dark"} {
		err := chromedp.Do(p.ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := cdp.Call(ctx, tg, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
				Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}},
			})
			return err
		}))
		if err == nil {
			err = p.eval(`scrollTo(0, 0)`, nil)
		}
		var png []byte
		if err == nil {
			png, err = chromedp.Run(p.ctx, chromedp.FullScreenshot(100))
		}
		if err != nil {
			t.Fatalf("screenshot %s: %v", scheme, err)
		}
		for _, d := range dirs {
			f := filepath.Join(d, name+"-"+scheme+".png")
			if err := os.WriteFile(f, png, 0o644); err != nil {
				t.Fatal(err)
			}
			files = append(files, f)
		}
	}
	return files
}

// CheckAll opens the report.html at path and runs every check against
// the report.json beside it (reportJSON), failing t for each problem, and
// writes the screenshots under name. It returns the page for further
// checks.
func CheckAll(t *testing.T, browserCtx context.Context, path string, reportJSON []byte, name string) *Page {
	t.Helper()
	var r review.Report
	if err := json.Unmarshal(reportJSON, &r); err != nil {
		t.Fatalf("report.json: %v", err)
	}
	p := Open(t, browserCtx, path)
	report := func(what string, problems []string) {
		t.Helper()
		for _, pr := range problems {
			t.Errorf("%s: %s", what, pr)
		}
	}
	report("load", p.LoadProblems())
	report("chart", p.CheckChart(&r))
	report("anchors", p.CheckAnchors(&r))
	report("severity filter", p.CheckSeverityFilter(&r))
	report("reviewer filter", p.CheckReviewerFilter(&r))
	report("copy", p.CheckCopy(&r))
	files := p.Screenshots(t, name)
	t.Logf("screenshots: %s", strings.Join(files, ", "))
	report("after the checks", p.LoadProblems())
	return p
}
