package publish

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/deepreview/deep-review/render"
	"github.com/deepreview/deep-review/review"
	"github.com/deepreview/deep-review/review/agent"
	"github.com/deepreview/deep-review/review/llm"
)

// TestRawTranscriptsAreScrubbedLikeTheReport: a token a tool echoed into a
// reviewer's conversation is redacted from raw/ by its shape, as render
// redacts it from the report, even when no configured secret names it; a
// configured secret shorter than eight characters is redacted too.
func TestRawTranscriptsAreScrubbedLikeTheReport(t *testing.T) {
	token := "ghp_" + strings.Repeat("A1b2C3d4", 5)
	short := "s3kr1t"
	report := &review.Report{
		PR:          review.PR{Repo: "octo/repo", Number: 7},
		GeneratedAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
	}
	results := []agent.Result{{
		Run: review.Run{Name: "Claude", Status: review.StatusOK},
		Transcript: agent.Transcript{Messages: []llm.Message{
			{Role: llm.User, ToolResults: []llm.ToolResult{{CallID: "c1", Content: "GITHUB_TOKEN=" + token + " PASS=" + short}}},
		}},
	}}
	w, err := WriteOutDir(t.TempDir(), report, results, render.Options{Secrets: []string{short}})
	if err != nil {
		t.Fatal(err)
	}
	if len(w.Raw) != 1 {
		t.Fatalf("raw files = %v, want one", w.Raw)
	}
	data, err := os.ReadFile(w.Raw[0])
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{token, short} {
		if strings.Contains(string(data), secret) {
			t.Errorf("%s holds %q; want it redacted:\n%s", w.Raw[0], secret, data)
		}
	}
	if !strings.Contains(string(data), render.Redacted) {
		t.Errorf("%s holds no %s", w.Raw[0], render.Redacted)
	}
}
