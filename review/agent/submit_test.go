package agent

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/deepreview/deep-review/review"
)

// validSubmission is a complete submission as a model would send it.
const validSubmission = `{
  "summary": "Greets the reviewer; one regression in main.",
  "verdict": "merge-with-fixes",
  "findings": [{
    "severity": "important", "tags": [" Regression "], "title": "main prints twice",
    "file": "./main.go", "start_line": 6, "end_line": 7,
    "quote": "\tfmt.Println(helper())", "explanation": "Added by this PR.", "fix": "Drop the line.",
    "patch": "--- a/main.go\n+++ b/main.go\n@@ -7 +6,0 @@\n-\tfmt.Println(helper())\n"
  }],
  "concerns": [{"text": "Greeting is hard-coded.", "scope": "future"}],
  "strengths": ["Small change."],
  "testing": {"assessment": "No tests.", "untested": [{"scenario": "helper output", "risk": "low"}]},
  "documentation": "README is fine.",
  "commit_structure": "Two commits, fine.",
  "limitations": [{"file": "new.go", "line": 3, "quote": "TODO: handle errors"}],
  "unresolved_feedback": [],
  "files_reviewed": ["main.go", "new.go"]
}`

func TestParseSubmission(t *testing.T) {
	t.Parallel()
	s, err := ParseSubmission(json.RawMessage(validSubmission))
	if err != nil {
		t.Fatal(err)
	}
	f := s.Findings[0]
	if f.File != "main.go" || f.Tags[0] != "regression" || f.Severity != review.Important || s.Verdict != review.MergeWithFixes {
		t.Errorf("parsed finding = %+v", f)
	}
	if s.UnresolvedFeedback == nil || len(s.FilesReviewed) != 2 {
		t.Errorf("lists not normalised: %+v", s)
	}
	out, err := SubmitTool().Run(context.Background(), json.RawMessage(validSubmission))
	if err != nil || !strings.Contains(out, "1 findings") {
		t.Errorf("submit_review = %q, %v", out, err)
	}
}

func TestParseSubmissionNamesEachBadField(t *testing.T) {
	t.Parallel()
	mutate := func(f func(m map[string]any)) string {
		var m map[string]any
		if err := json.Unmarshal([]byte(validSubmission), &m); err != nil {
			t.Fatal(err)
		}
		f(m)
		b, _ := json.Marshal(m)
		return string(b)
	}
	finding := func(m map[string]any) map[string]any { return m["findings"].([]any)[0].(map[string]any) }
	cases := []struct {
		name string
		args string
		want []string
	}{
		{"a severity outside the three", mutate(func(m map[string]any) {
			m["findings"] = append(m["findings"].([]any), map[string]any{}, map[string]any{})
			m["findings"].([]any)[1] = finding(m)
			f2 := map[string]any{}
			for k, v := range finding(m) {
				f2[k] = v
			}
			f2["severity"] = "high"
			m["findings"].([]any)[2] = f2
		}), []string{`findings[2].severity: "high" is not one of critical, important, suggestion`}},
		{"an unknown verdict", mutate(func(m map[string]any) { m["verdict"] = "approve" }),
			[]string{`verdict: "approve" is not one of merge, merge-with-optional-fixes, merge-with-fixes, rework`}},
		{"lines out of order and an empty file", mutate(func(m map[string]any) {
			f := finding(m)
			f["start_line"], f["end_line"], f["file"] = 0, -1, ""
		}), []string{"findings[0].start_line: 0 is not a line number", "findings[0].end_line: -1 is before start_line 0", "findings[0].file: is empty"}},
		{"a path out of the repository", mutate(func(m map[string]any) { finding(m)["file"] = "../etc/passwd" }),
			[]string{"findings[0].file:", "leaves the repository"}},
		{"a patch that is not a diff", mutate(func(m map[string]any) { finding(m)["patch"] = "just do it" }),
			[]string{"findings[0].patch: not a unified diff"}},
		{"a concern without a known scope", mutate(func(m map[string]any) {
			m["concerns"] = []any{map[string]any{"text": "x", "scope": "later"}}
		}), []string{`concerns[0].scope: "later" is not one of future, in-scope`}},
		{"an empty summary and a limitation without a line", mutate(func(m map[string]any) {
			m["summary"] = " "
			m["limitations"] = []any{map[string]any{"file": "a.go", "line": 0, "quote": "x"}}
		}), []string{"summary: is empty", "limitations[0].line: 0 is not a line number"}},
		{"a string for a line number", mutate(func(m map[string]any) { finding(m)["start_line"] = "6" }),
			[]string{"findings.start_line: got a JSON string, want an integer"}},
		{"an unknown field", mutate(func(m map[string]any) { m["score"] = 3 }),
			[]string{`"score" is not a parameter`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseSubmission(json.RawMessage(c.args))
			if err == nil || !errors.As(err, new(*ToolError)) {
				t.Fatalf("ParseSubmission = %v, want a tool error", err)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}
