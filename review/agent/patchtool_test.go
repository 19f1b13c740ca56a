package agent

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/deepreview/deep-review/review"
	"github.com/deepreview/deep-review/review/git"
	"github.com/deepreview/deep-review/review/llm"
)

// brokenPatch misquotes the context line before the change, as a patch
// written from memory does; goodPatch copies it from read_file.
const (
	brokenPatch = "--- a/main.go\n+++ b/main.go\n@@ -5,3 +5,3 @@\n func main () {\n-\tfmt.Println(\"hello, reviewer\")\n+\tfmt.Println(\"hello, reviewers\")\n \tfmt.Println(helper())\n"
	goodPatch   = "--- a/main.go\n+++ b/main.go\n@@ -5,3 +5,3 @@\n func main() {\n-\tfmt.Println(\"hello, reviewer\")\n+\tfmt.Println(\"hello, reviewers\")\n \tfmt.Println(helper())\n"
)

func patchSubmission(patch string) string {
	s := map[string]any{
		"summary": "Greets the reviewer.", "verdict": "merge-with-optional-fixes",
		"findings": []map[string]any{{
			"severity": "suggestion", "tags": []string{"regression"}, "title": "The greeting names one reviewer",
			"file": "main.go", "start_line": 6, "end_line": 6, "quote": "\tfmt.Println(\"hello, reviewer\")",
			"explanation": "Several people review.", "fix": "Greet reviewers.", "patch": patch,
		}},
		"concerns": []any{}, "strengths": []any{}, "testing": map[string]any{"assessment": "none", "untested": []any{}},
		"documentation": "", "commit_structure": "", "limitations": []any{}, "unresolved_feedback": []any{}, "files_reviewed": []string{"main.go"},
	}
	b, _ := json.Marshal(s)
	return string(b)
}

func lastResults(req llm.Request) llm.Message {
	return req.Messages[len(req.Messages)-1]
}

func TestAScriptedReviewerFixesAPatchCheckPatchRefuses(t *testing.T) {
	t.Parallel()
	pr := fixture(t)
	// The scripted reviewer checks a patch written blind, reads git's
	// error, checks the corrected patch and submits that one.
	m := &scripted{next: func(ctx context.Context, turn int, req llm.Request) (*llm.Response, error) {
		switch turn {
		case 1:
			return calls(turn, [2]string{ToolCheckPatch, mustJSON(map[string]string{"patch": brokenPatch})}), nil
		case 2:
			if r := lastResults(req).ToolResults[0]; !r.IsError {
				return nil, nil // fail loudly below: the broken patch was accepted
			}
			return calls(turn, [2]string{ToolCheckPatch, mustJSON(map[string]string{"patch": goodPatch})}), nil
		}
		return calls(turn, [2]string{ToolSubmit, patchSubmission(goodPatch)}), nil
	}}
	res := Review(t.Context(), pr, Config{Name: "r1", Model: m, MaxTurns: 8, Identity: llm.Identity{Provider: "scripted", Model: "scripted", Label: "scripted"}})
	if res.Run.Status != review.StatusOK {
		t.Fatalf("status %s: %s", res.Run.Status, res.Run.Error)
	}
	refused := lastResults(m.reqs[1])
	if r := refused.ToolResults[0]; !r.IsError || !strings.Contains(r.Content, "does not apply at the head") || !strings.Contains(r.Content, "error: patch failed: main.go:5") {
		t.Errorf("check_patch of the broken hunk answered %q, want git's error", r.Content)
	}
	if refused.Text != "[turn 1 of 8: 7 turns left]" {
		t.Errorf("the first batch of results ends with %q", refused.Text)
	}
	if r := lastResults(m.reqs[2]).ToolResults[0]; r.IsError || !strings.HasPrefix(r.Content, "applies") {
		t.Errorf("check_patch of the fixed hunk answered %q", r.Content)
	}
	if st := gitRun(t, pr.Dir, nil, "status", "--porcelain", "--untracked-files=no"); st != "" {
		t.Errorf("check_patch changed the checkout: %q", st)
	}

	repo := git.Repo{Dir: pr.Dir}
	report := review.Consolidate(t.Context(), review.Input{
		PR:          pr,
		Runs:        []review.Run{res.Run},
		Head:        git.Tree{Repo: repo, Rev: pr.HeadSHA},
		CheckPatch:  func(ctx context.Context, p string) error { return repo.CheckPatch(ctx, pr.HeadSHA, p) },
		GeneratedAt: time.Unix(0, 0),
	})
	if len(report.Findings) != 1 || report.Findings[0].Patch == "" {
		t.Fatalf("published findings = %+v, want one with its patch", report.Findings)
	}
	if err := repo.CheckPatch(t.Context(), pr.HeadSHA, report.Findings[0].Patch); err != nil {
		t.Errorf("the published patch does not apply: %v", err)
	}
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}
