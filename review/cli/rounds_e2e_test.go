package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/deepreview/deep-review/review"
	"github.com/deepreview/deep-review/review/agent"
	"github.com/deepreview/deep-review/review/demo"
	"github.com/deepreview/deep-review/review/llm"
	"github.com/deepreview/deep-review/review/publish"
)

// End-to-end tests of issue 16's later rounds through run(): a delta round
// after a fix, a rebase matched by patch id, and rewritten history.

// fixedLine is store.go:50 after pushFix.
const fixedLine = "if !l.Expires.IsZero() && s.now().After(l.Expires) {"

// roundTwoSessions writes two scripted round-2 sessions and returns the
// reviewers input naming them. Alpha reads the fixed lines and reports a
// new finding on them; Charlie reads them and reports nothing. Neither
// reports a carried finding again, as the brief asks.
func roundTwoSessions(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	var specs []string
	for _, s := range []struct {
		name     string
		findings []any
	}{
		{"alpha", []any{map[string]any{
			"severity": "suggestion", "tags": []string{"gap", "tests"}, "title": "No test stores a link without an expiry",
			"file": "store.go", "start_line": 50, "end_line": 50, "quote": fixedLine,
			"explanation": "The fix treats a zero Expires as never expiring, but no test stores a link without one, so the regression could come back unseen.",
			"fix":         "Add a test that Puts a link with a zero Expires and Gets it back.", "patch": nil,
		}}},
		{"charlie", []any{}},
	} {
		call := func(id, tool string, args map[string]any) llm.ToolCall {
			data, _ := json.Marshal(args)
			return llm.ToolCall{ID: id, Name: tool, Arguments: data}
		}
		submit := map[string]any{
			"summary": "The push fixes the zero-Expires check.", "verdict": "merge-with-optional-fixes",
			"findings": s.findings, "concerns": []any{}, "strengths": []any{},
			"testing":       map[string]any{"assessment": "The fix has no test of its own.", "untested": []any{}},
			"documentation": "", "commit_structure": "One fix commit.", "limitations": []any{},
			"unresolved_feedback": []any{}, "files_reviewed": []string{"store.go"},
		}
		session := llm.Session{
			Provider: "replay", Model: "scripted round-2 session " + s.name, Label: "scripted",
			Note: "Written by the deep-review developers for the later-round tests. No model produced these turns.",
			Turns: []llm.Turn{
				{Response: llm.Response{Message: llm.Message{Role: llm.Assistant, Text: "Reading the interdiff's lines in context.",
					ToolCalls: []llm.ToolCall{call(s.name+"1", agent.ToolReadFile, map[string]any{"path": "store.go", "start": 44, "end": 56})}}, Stop: llm.StopToolUse}},
				{Response: llm.Response{Message: llm.Message{Role: llm.Assistant,
					ToolCalls: []llm.ToolCall{call(s.name+"2", agent.ToolSubmit, submit)}}, Stop: llm.StopToolUse}},
			},
		}
		data, err := json.MarshalIndent(session, "", " ")
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, s.name+".json")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		specs = append(specs, "replay:"+path)
	}
	return strings.Join(specs, "\n")
}

// firstMessages are the reviewers' first messages, from raw/ in the out dir.
func firstMessages(t *testing.T, outDir string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(outDir, "raw", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no raw transcripts in %s (%v)", outDir, err)
	}
	var out []string
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var rec publish.RawRecord
		if err := json.Unmarshal(data, &rec); err != nil {
			t.Fatal(err)
		}
		if len(rec.Transcript.Messages) > 0 {
			out = append(out, rec.Transcript.Messages[0].Text)
		}
	}
	return out
}

func TestASynchronizeRoundReviewsThePushAndCarriesTheRest(t *testing.T) {
	a := newActionEnv(t, "pull_request", "pull_request.opened.json", nil)
	a.mustRun(t, "round 1")
	r1 := readReport(t, a.env["INPUT_OUT-DIR"])
	var fixedID string
	for _, f := range r1.Findings {
		if f.File == "store.go" && f.StartLine <= 50 && 50 <= f.EndLine {
			fixedID = f.ID
		}
	}
	if fixedID == "" {
		t.Fatalf("round 1 has no finding on store.go:50: %+v", r1.Findings)
	}

	a.pushFix(t)
	a.env["GITHUB_EVENT_NAME"], a.env["GITHUB_EVENT_PATH"] = "pull_request", mustAbs(t, "testdata/github/pull_request.synchronize.json")
	a.env["INPUT_REVIEWERS"] = roundTwoSessions(t)
	a.mustRun(t, "round 2")

	for _, first := range firstMessages(t, a.env["INPUT_OUT-DIR"]) {
		lead := strings.Index(first, "## What changed since the last round")
		if lead < 0 || lead > strings.Index(first, "## Pull request") || !strings.Contains(first, "+\t"+fixedLine) {
			t.Errorf("a round-2 first message does not lead with store.go's interdiff:\n%.1500s", first)
		}
		for _, f := range []string{"import.go", "janitor.go", "handler.go", "store_test.go"} {
			if !strings.Contains(first[:strings.Index(first, "## Pull request")], f) {
				t.Errorf("the interdiff part does not name the unchanged file %s", f)
			}
		}
	}
	r2 := readReport(t, a.env["INPUT_OUT-DIR"])
	if r2.Scope == nil || r2.Scope.Mode != review.ScopeDelta || r2.Scope.Rebased {
		t.Errorf("scope = %+v, want a delta round by ancestry", r2.Scope)
	}
	if len(r2.Addressed) != 1 || r2.Addressed[0].ID != fixedID {
		t.Errorf("addressed = %+v, want %s, the fixed finding", r2.Addressed, fixedID)
	}
	var carried, fresh int
	for _, f := range r2.Findings {
		switch f.Status {
		case review.FindingCarried:
			carried++
			if !strings.Contains(strings.Join(f.Notes, " "), "no model was asked again") {
				t.Errorf("%s is carried but was not carried by the re-check: %v", f.ID, f.Notes)
			}
		case review.FindingNew:
			fresh++
			if f.Title != "No test stores a link without an expiry" || f.PreExistingInPR {
				t.Errorf("new finding %+v, want the one on the fixed line, not marked pre-existing in this PR", f)
			}
		}
	}
	if carried != len(r1.Findings)-1 || fresh != 1 {
		t.Errorf("round 2 has %d carried and %d new findings, want %d and 1", carried, fresh, len(r1.Findings)-1)
	}
}

func mustAbs(t *testing.T, p string) string {
	t.Helper()
	abs, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return abs
}

// rebase moves main on and rebases the feature branch onto it, pointing the
// fake pull request at the new base and head; it returns the new head.
func (a *actionEnv) rebase(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	author := a.repo
	author.Env = []string{"GIT_AUTHOR_NAME=Dana Demo", "GIT_AUTHOR_EMAIL=dana@example.com", "GIT_COMMITTER_NAME=Dana Demo", "GIT_COMMITTER_EMAIL=dana@example.com"}
	steps := [][]string{{"checkout", "-q", demo.BaseRef}}
	for _, s := range steps {
		if _, err := author.Run(ctx, s...); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(a.workspace, "CHANGELOG"), []byte("main moved on\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, s := range [][]string{{"add", "CHANGELOG"}, {"commit", "-q", "-m", "Start a changelog"}, {"checkout", "-q", demo.HeadRef}, {"rebase", "-q", demo.BaseRef}} {
		if _, err := author.Run(ctx, s...); err != nil {
			t.Fatal(err)
		}
	}
	base, _ := a.repo.Output(ctx, "rev-parse", demo.BaseRef)
	a.pull.Base = base
	a.gh.UpdatePull(2, func(pr map[string]any) { pr["base"].(map[string]any)["sha"] = base })
	return a.push(t, "rebased")
}

func TestARebasedBranchIsStillADeltaRound(t *testing.T) {
	a := newActionEnv(t, "pull_request", "pull_request.opened.json", nil)
	a.mustRun(t, "round 1")
	r1 := readReport(t, a.env["INPUT_OUT-DIR"])
	head := a.rebase(t)
	if head == r1.PR.HeadSHA {
		t.Fatal("the rebase kept the head")
	}
	a.mustRun(t, "round 2")
	r2 := readReport(t, a.env["INPUT_OUT-DIR"])
	if r2.Scope == nil || r2.Scope.Mode != review.ScopeDelta || !r2.Scope.Rebased {
		t.Fatalf("scope = %+v, want a delta round matched after the rebase", r2.Scope)
	}
	md, _ := os.ReadFile(filepath.Join(a.env["INPUT_OUT-DIR"], "report.md"))
	if !strings.Contains(string(md), "after a rebase (matched by patch id)") {
		t.Errorf("report.md does not say the round was matched after a rebase")
	}
	if len(r2.Addressed) != 0 {
		t.Errorf("a rebase that changed no code addressed %+v", r2.Addressed)
	}
}

func TestRewrittenHistoryIsReviewedWholeAndSaysWhy(t *testing.T) {
	a := newActionEnv(t, "pull_request", "pull_request.opened.json", nil)
	a.mustRun(t, "round 1")
	ctx := context.Background()
	author := a.repo
	author.Env = []string{"GIT_AUTHOR_NAME=Dana Demo", "GIT_AUTHOR_EMAIL=dana@example.com", "GIT_COMMITTER_NAME=Dana Demo", "GIT_COMMITTER_EMAIL=dana@example.com"}
	// Squash the branch into one commit: no reviewed commit's patch is in
	// the new history.
	if _, err := author.Run(ctx, "reset", "-q", "--soft", a.pull.Base); err != nil {
		t.Fatal(err)
	}
	if _, err := author.Run(ctx, "commit", "-q", "-m", "Link expiry, import and janitor in one"); err != nil {
		t.Fatal(err)
	}
	a.push(t, "squashed")
	a.mustRun(t, "round 2")
	r2 := readReport(t, a.env["INPUT_OUT-DIR"])
	if r2.Scope == nil || r2.Scope.Mode != review.ScopeFull || !strings.Contains(r2.Scope.Reason, "history was rewritten") {
		t.Fatalf("scope = %+v, want the whole PR because the history was rewritten", r2.Scope)
	}
	md, _ := os.ReadFile(filepath.Join(a.env["INPUT_OUT-DIR"], "report.md"))
	if !strings.Contains(string(md), "This round reviewed the whole pull request: history was rewritten") {
		t.Errorf("report.md does not say why the whole PR was reviewed")
	}
}

// costedReview runs the demo PR once with one Anthropic reviewer on a fake
// that reports usage (claude-opus-5-5, priced by the built-in table: about
// $0.013 a turn) under max-cost-usd, and returns the fake and the report.
func costedReview(t *testing.T, capUSD, lead string) (*e2eProvider, review.Report, string) {
	t.Helper()
	raw, err := os.ReadFile("testdata/e2e/submission.json")
	if err != nil {
		t.Fatal(err)
	}
	var sub bytes.Buffer
	if err := json.Compact(&sub, raw); err != nil {
		t.Fatal(err)
	}
	claude := newE2EProvider(t, "anthropic", e2eAnthropic{"claude-opus-5-5", json.RawMessage(sub.Bytes())}, nil)
	a := newActionEnv(t, "pull_request", "pull_request.opened.json", map[string]string{
		"INPUT_REVIEWERS":          "anthropic:claude-opus-5-5",
		"INPUT_ANTHROPIC-API-KEY":  "sk-ant-cost-0123456789abcdef",
		"INPUT_ANTHROPIC-BASE-URL": claude.srv.URL,
		"INPUT_MAX-COST-USD":       capUSD,
		"INPUT_LEAD":               lead,
	})
	a.mustRun(t, "review under a cost cap")
	md, _ := os.ReadFile(filepath.Join(a.env["INPUT_OUT-DIR"], "report.md"))
	return claude, readReport(t, a.env["INPUT_OUT-DIR"]), string(md)
}

func TestMaxCostUSDStopsTheRunWithinItsCap(t *testing.T) {
	claude, r, md := costedReview(t, "0.035", "none")
	log := claude.log()
	if len(log) != 2 {
		t.Fatalf("%d requests, want 2 (a turn, then the forced submit)", len(log))
	}
	var second struct {
		ToolChoice struct{ Type, Name string } `json:"tool_choice"`
	}
	if err := json.Unmarshal(log[1].body, &second); err != nil || second.ToolChoice.Type != "tool" || second.ToolChoice.Name != agent.ToolSubmit {
		t.Errorf("the second request's tool_choice = %+v (%v), want submit_review forced by the cap", second.ToolChoice, err)
	}
	if r.Budget == nil || r.Budget.CapUSD != 0.035 {
		t.Fatalf("budget = %+v, want the $0.035 cap", r.Budget)
	}
	if spent := r.CostUSD(); spent <= 0 || spent > r.Budget.CapUSD {
		t.Errorf("the run spent $%.4f, want more than nothing and within the $%.3f cap", spent, r.Budget.CapUSD)
	}
	if !strings.Contains(md, "**Cost cap:** $0.03 spent of the $0.04 cap (max-cost-usd).") {
		t.Errorf("report.md's retro does not show the spend against the cap:\n%s", md[strings.Index(md, "**Total:**"):])
	}
}

func TestMaxCostUSDSkipsALeadItCannotCover(t *testing.T) {
	claude, r, md := costedReview(t, "0.05", "anthropic:claude-opus-5-5")
	if n := len(claude.log()); n != 2 {
		t.Errorf("%d requests reached Anthropic, want the reviewer's 2 and none from the lead", n)
	}
	if r.Budget == nil || r.Budget.LeadSkipped == "" || r.Verdict.DecidedBy != review.DecidedByRules || r.Lead != nil {
		t.Fatalf("budget %+v, verdict %+v, lead %+v: want the lead skipped and the rules deciding", r.Budget, r.Verdict, r.Lead)
	}
	if !strings.Contains(md, "the lead was skipped") || !strings.Contains(r.Verdict.Reason, "max-cost-usd") {
		t.Errorf("the report does not say the lead was skipped for the cap")
	}
	if spent := r.CostUSD(); spent > r.Budget.CapUSD {
		t.Errorf("the run spent $%.4f, over its $%.2f cap", spent, r.Budget.CapUSD)
	}
}
