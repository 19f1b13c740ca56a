package demo

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/deepreview/deep-review/render"
	"github.com/deepreview/deep-review/review"
	"github.com/deepreview/deep-review/review/agent"
	"github.com/deepreview/deep-review/review/git"
	"github.com/deepreview/deep-review/review/lead"
	"github.com/deepreview/deep-review/review/llm"
	"github.com/deepreview/deep-review/review/publish"
)

// recordingModel passes turns to the scripted lead and keeps every request,
// so a test can read what the real lead sent it.
type recordingModel struct {
	inner llm.Model
	mu    sync.Mutex
	reqs  []llm.Request
}

func (m *recordingModel) Turn(ctx context.Context, req llm.Request) (*llm.Response, error) {
	m.mu.Lock()
	m.reqs = append(m.reqs, req)
	m.mu.Unlock()
	return m.inner.Turn(ctx, req)
}

// runDemo runs the demo as `deep-review demo --fast` wires it (review/cli's
// runDemo and pipeline.run): the fixture gathered as a local PR, the three
// scripted sessions through the real agent loop, the scripted lead through
// the real lead, consolidation and the out dir. It returns the out dir and
// every request the scripted lead received.
func runDemo(t *testing.T) (string, []llm.Request) {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	if err := BuildRepo(ctx, dir); err != nil {
		t.Fatal(err)
	}
	p, err := Gather(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	scripted, err := Reviewers()
	if err != nil {
		t.Fatal(err)
	}
	var reviewers []agent.Config
	for _, s := range scripted {
		replay := llm.NewReplay(s.Session)
		reviewers = append(reviewers, agent.Config{Name: s.Name, Identity: replay.Identity(), Model: replay,
			MaxTurns: 40, MaxTokens: 2_000_000, Timeout: 2 * time.Minute})
	}
	sl, err := Lead()
	if err != nil {
		t.Fatal(err)
	}
	rec := &recordingModel{inner: sl}
	l := lead.New(lead.Config{Name: "Lead", Identity: sl.Identity(), Model: rec})

	results := agent.ReviewAll(ctx, p, reviewers, io.Discard, false)
	runs := make([]review.Run, len(results))
	for i, res := range results {
		runs[i] = res.Run
	}
	repo := git.Repo{Dir: p.Dir}
	head := git.NewBatchTree(ctx, repo, p.HeadSHA)
	defer head.Close()
	report := review.Consolidate(ctx, review.Input{
		PR: p, Runs: runs, Head: head, Lead: l, Started: time.Now(), Now: time.Now,
		CheckPatch: func(ctx context.Context, patch string) error { return repo.CheckPatch(ctx, p.HeadSHA, patch) },
	})
	out := filepath.Join(t.TempDir(), "out")
	if _, err := publish.WriteOutDir(out, report, results, render.Options{}); err != nil {
		t.Fatal(err)
	}
	return out, rec.reqs
}

func readOut(t *testing.T, dir, name string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

var (
	// consolidatedID is an ID consolidation gives: C1, I2, S3, P1, R1.
	consolidatedID = regexp.MustCompile(`^[CISPR][1-9][0-9]*$`)
	// ownNumbering is how a finding is named by a reviewer's own numbering
	// or by position: "finding 2", "finding #3", "Finding no. 1".
	ownNumbering = regexp.MustCompile(`(?i)\bfindings?\s*(#|no\.?\s*)?[0-9]`)
	// idMention is an ID-like word in prose.
	idMention = regexp.MustCompile(`\b[CISP][0-9]+\b`)
)

// TestTheDemoPublishesItsPreExistingFindingApart (issue 17): the finding the
// scripted lead accepts as pre-existing is in report.json's pre_existing
// with its severity, excerpt and the lead's evidence, in its own section of
// report.md and report.html, and out of the counts and the verdict; every
// prompt the lead received names findings by consolidated ID.
func TestTheDemoPublishesItsPreExistingFindingApart(t *testing.T) {
	out, reqs := runDemo(t)

	var r review.Report
	if err := json.Unmarshal([]byte(readOut(t, out, "report.json")), &r); err != nil {
		t.Fatalf("report.json: %v", err)
	}
	if len(r.PreExisting) != 1 {
		t.Fatalf("pre_existing = %+v, want the open redirect the lead accepts as pre-existing", r.PreExisting)
	}
	p := r.PreExisting[0]
	var evidence string
	for _, n := range p.Notes {
		if s, ok := strings.CutPrefix(n, "lead: "); ok {
			evidence = s
		}
	}
	if p.ID != "P1" || p.Title != "Redirect targets are never validated" || p.Severity != review.Suggestion ||
		!strings.Contains(p.Excerpt, "http.Redirect(w, r, l.URL, http.StatusFound)") || !strings.Contains(evidence, "blame shows line 26 predates the PR") {
		t.Errorf("pre-existing finding %s %q (%s), excerpt %q, lead's evidence %q", p.ID, p.Title, p.Severity, p.Excerpt, evidence)
	}
	for _, f := range r.Findings {
		if f.Title == p.Title {
			t.Errorf("the pre-existing finding is also among the findings as %s", f.ID)
		}
	}
	for _, c := range r.Concerns {
		if strings.Contains(c.Text, "Redirect") || strings.Contains(c.Text, "redirect") {
			t.Errorf("the pre-existing finding became a design concern: %q", c.Text)
		}
	}

	// Not counted: the counts and the rules' verdict are those of the other findings.
	if c := r.Counts(); c.Critical != 1 || c.Important != 2 || c.Suggestion != 2 {
		t.Errorf("counts %+v, want 1 critical, 2 important, 2 suggestions without P1", c)
	}
	if strings.Contains(r.Verdict.Reason, "P1") {
		t.Errorf("the verdict's reason counts P1: %q", r.Verdict.Reason)
	}

	md := readOut(t, out, "report.md")
	section, _, _ := strings.Cut(md[max(strings.Index(md, "## Pre-existing issues this PR touches"), 0):], "\n## Rejected findings")
	for _, want := range []string{"## Pre-existing issues this PR touches", "they do not count toward the verdict", "`P1` **Redirect targets are never validated** `handler.go:26` (suggestion)",
		"Lead: Real, but blame shows line 26 predates the PR", "http.Redirect(w, r, l.URL, http.StatusFound)"} {
		if !strings.Contains(section, want) {
			t.Errorf("report.md's pre-existing section lacks %q:\n%s", want, section)
		}
	}
	if !strings.Contains(md, "| Findings | 1 critical, 2 important, 2 suggestions |") {
		t.Error("report.md's header counts the pre-existing finding")
	}
	page := readOut(t, out, "report.html")
	for _, want := range []string{`id="pre-existing-issues-this-pr-touches"`, "<code>P1</code>", "Redirect targets are never validated", "Lead: Real, but blame shows line 26 predates the PR"} {
		if !strings.Contains(page, want) {
			t.Errorf("report.html lacks %q", want)
		}
	}

	// The lead's prompts name findings by consolidated ID.
	ids := map[string]bool{}
	for _, f := range append(append(slices.Clone(r.Findings), r.PreExisting...), r.Rejected...) {
		ids[f.ID] = true
	}
	verifications, syntheses := 0, 0
	verified := map[string]string{} // ID → its verification prompt
	for _, req := range reqs {
		if len(req.Messages) == 0 {
			t.Fatal("the lead sent a request without messages")
		}
		prompt := req.Messages[0].Text
		if m := ownNumbering.FindString(prompt); m != "" {
			t.Errorf("a prompt names a finding by number (%q):\n%s", m, prompt)
		}
		switch {
		case offers(req.Tools, lead.ToolVerify):
			if len(req.Messages) > 1 {
				continue // a later turn of a verification already counted
			}
			verifications++
			ref, err := lead.ParseFindingRef(prompt)
			if err != nil || !consolidatedID.MatchString(ref.ID) {
				t.Errorf("verification prompt without a consolidated ID (%+v, %v):\n%s", ref, err, prompt)
			}
			if !strings.HasPrefix(prompt, "Verify finding "+ref.ID+" of") {
				t.Errorf("the verification prompt's text does not open with %s:\n%s", ref.ID, prompt)
			}
			verified[ref.ID] = prompt
		case offers(req.Tools, lead.ToolSynthesis):
			syntheses++
			for _, f := range append(slices.Clone(r.Findings), r.PreExisting...) {
				if !strings.Contains(prompt, f.ID+" ["+string(f.Severity)+"] "+f.Title) {
					t.Errorf("the synthesis prompt does not list %s as %q", f.ID, f.ID+" ["+string(f.Severity)+"] "+f.Title)
				}
			}
			if !strings.Contains(prompt, "## Pre-existing issues this PR touches") {
				t.Error("the synthesis prompt has no pre-existing section")
			}
		default:
			t.Errorf("a request offers neither %s nor %s", lead.ToolVerify, lead.ToolSynthesis)
		}
	}
	if verifications != 7 || syntheses != 1 {
		t.Errorf("%d verifications and %d syntheses, want 7 and 1", verifications, syntheses)
	}

	// The script's verdicts are keyed by the IDs the lead gave; each names
	// the finding of that ID by its title, for the script's reader.
	sl, err := Lead()
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range sl.script.Verdicts {
		if p, ok := verified[v.ID]; !ok || !strings.Contains(p, v.Title) {
			t.Errorf("the script's verdict for %s is titled %q, but the lead verified no such finding as %s", v.ID, v.Title, v.ID)
		}
	}

	// The scripted synthesis names only IDs the report has.
	texts := []string{r.Summary, r.Verdict.Reason, r.Retro}
	for _, s := range r.Reviewers {
		texts = append(texts, s.Retro)
	}
	for _, text := range texts {
		for _, id := range idMention.FindAllString(text, -1) {
			if !ids[id] {
				t.Errorf("the scripted synthesis names %s, which the report does not have: %q", id, text)
			}
		}
	}
}

// TestTheScriptedLeadReadsTheFindingRefNotTheProse (issue 14): the scripted
// lead finds its verdict and the place to blame from the prompt's
// finding-ref block alone, so rewording the prompt cannot break the demo.
func TestTheScriptedLeadReadsTheFindingRefNotTheProse(t *testing.T) {
	sl, err := Lead()
	if err != nil {
		t.Fatal(err)
	}
	f := review.Finding{ID: "S1", File: "handler.go", StartLine: 26, EndLine: 26, Severity: review.Suggestion,
		Title: "Redirect targets are never validated", Reviewers: []string{"Bravo"}}
	full := lead.VerifyPrompt(&review.PR{Repo: "example/shortlink", Number: 1}, 0, f)
	start := strings.Index(full, `<untrusted-pr-content kind="finding-ref">`)
	end := strings.Index(full[start:], "</untrusted-pr-content>\n") + start + len("</untrusted-pr-content>\n")
	bare := "Some other wording entirely.\n" + full[start:end] // no title, no "Where:", no "Verify finding"
	tools := []llm.Tool{{Name: "git_blame"}, {Name: lead.ToolVerify}}
	first := llm.Message{Role: llm.User, Text: bare}

	res, err := sl.Turn(context.Background(), llm.Request{Messages: []llm.Message{first}, Tools: tools})
	if err != nil {
		t.Fatal(err)
	}
	if c := res.Message.ToolCalls; len(c) != 1 || c[0].Name != "git_blame" || string(c[0].Arguments) != `{"end":26,"path":"handler.go","start":26}` {
		t.Errorf("first turn %+v, want git_blame of handler.go:26", c)
	}
	res, err = sl.Turn(context.Background(), llm.Request{Messages: []llm.Message{first, res.Message}, Tools: tools})
	if err != nil {
		t.Fatal(err)
	}
	var v lead.VerifyParams
	if c := res.Message.ToolCalls; len(c) != 1 || c[0].Name != lead.ToolVerify || json.Unmarshal(c[0].Arguments, &v) != nil || !v.Accept || !v.PreExisting {
		t.Errorf("second turn %+v, want the script's pre-existing verdict for S1", c)
	}

	if _, err := sl.Turn(context.Background(), llm.Request{Messages: []llm.Message{{Role: llm.User, Text: "Verify finding S1: Redirect targets are never validated\n- Where: handler.go:26-26"}}, Tools: tools}); err == nil {
		t.Error("a prompt without the finding-ref block was answered from its prose")
	}
}
