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
	"github.com/deepreview/deep-review/review/demo"
)

// runCLI drives run with args and an environment, returning what it printed.
func runCLI(t *testing.T, env map[string]string, args ...string) (string, string, error) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	getenv := func(k string) string { return env[k] }
	err := run(context.Background(), "dev", append([]string{"deep-review"}, args...), getenv, &stdout, &stderr)
	return stdout.String(), stderr.String(), err
}

func readReport(t *testing.T, dir string) review.Report {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	var r review.Report
	if err := json.Unmarshal(data, &r); err != nil {
		t.Fatalf("report.json: %v", err)
	}
	return r
}

func TestDemoRunsThePipelineOffline(t *testing.T) {
	out := t.TempDir()
	stdout, stderr, err := runCLI(t, nil, "demo", "--fast", "--out-dir", out)
	if err != nil {
		t.Fatalf("demo: %v\nstderr:\n%s", err, stderr)
	}
	for _, f := range []string{"report.md", "comment.md", "report.html", "report.json", "report.sarif", "raw/alpha.json", "raw/bravo.json", "raw/charlie.json"} {
		if fi, err := os.Stat(filepath.Join(out, f)); err != nil || fi.Size() == 0 {
			t.Errorf("%s: %v", f, err)
		}
	}
	r := readReport(t, out)
	if r.Schema != 1 || r.PR.MergeBase == "" || len(r.PR.Commits) != 3 {
		t.Errorf("pr = %+v", r.PR)
	}
	var shared, unique bool
	for _, f := range r.Findings {
		shared = shared || len(f.Reviewers) >= 2
		unique = unique || len(f.Reviewers) == 1
		if f.Excerpt == "" {
			t.Errorf("%s has no excerpt from the repository", f.ID)
		}
	}
	if !shared || !unique {
		t.Errorf("want a finding two reviewers share and one only one found: %+v", r.Findings)
	}
	for _, s := range r.Reviewers {
		if s.Status != review.StatusOK || s.TotalToolCalls() == 0 || len(s.FilesReviewed) == 0 || s.Turns == 0 {
			t.Errorf("reviewer %s: status %s, %d tool calls, %d files, %d turns", s.Name, s.Status, s.TotalToolCalls(), len(s.FilesReviewed), s.Turns)
		}
		if !strings.Contains(s.Label, "scripted") {
			t.Errorf("reviewer %s is not labelled as scripted: %q", s.Name, s.Label)
		}
	}
	if r.Verdict.Decision != review.Rework || r.Verdict.DecidedBy != review.DecidedByLead || r.Verdict.Reason == "" {
		t.Errorf("verdict = %+v, want rework by the scripted lead", r.Verdict)
	}
	if len(r.Rejected) != 1 || r.Rejected[0].Reason == "" || r.Lead == nil || r.Lead.Status != review.StatusOK {
		t.Errorf("rejected %+v, lead %+v: want the scripted lead's one rejection", r.Rejected, r.Lead)
	}
	falsePositives := 0
	for _, s := range r.Reviewers {
		falsePositives += s.FalsePositives
		if s.Retro == "" {
			t.Errorf("%s has no retro", s.Name)
		}
	}
	if falsePositives != 1 {
		t.Errorf("%d false positives, want the rejected finding's one", falsePositives)
	}
	if !strings.Contains(stdout, "Verdict: ") || !strings.Contains(stdout, filepath.Join(out, "report.md")) {
		t.Errorf("stdout lacks the verdict or the paths:\n%s", stdout)
	}
	if !strings.Contains(stderr, "scripted") {
		t.Errorf("stderr does not say the sessions are scripted:\n%s", stderr)
	}
}

func TestDemoWithoutTheLeadLetsTheRulesDecide(t *testing.T) {
	out := t.TempDir()
	if _, stderr, err := runCLI(t, nil, "demo", "--fast", "--no-lead", "--out-dir", out); err != nil {
		t.Fatalf("demo: %v\n%s", err, stderr)
	}
	r := readReport(t, out)
	if r.Verdict.DecidedBy != review.DecidedByRules || r.Lead != nil || len(r.Rejected) != 0 {
		t.Errorf("verdict %+v, lead %+v, %d rejected: want the rules and no lead", r.Verdict, r.Lead, len(r.Rejected))
	}
}

func TestLocalReviewWithARecordedSession(t *testing.T) {
	repo := t.TempDir()
	if err := demo.BuildRepo(context.Background(), repo); err != nil {
		t.Fatal(err)
	}
	session := filepath.Join(t.TempDir(), "bravo.json")
	data, err := os.ReadFile("../demo/testdata/sessions/bravo.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(session, data, 0o644); err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	stdout, stderr, err := runCLI(t, nil, "review", "--base", "main", "--head", "link-expiry", "--dir", repo,
		"--reviewers", "replay:"+session, "--lead", "none", "--out", out)
	if err != nil {
		t.Fatalf("review: %v\n%s", err, stderr)
	}
	r := readReport(t, out)
	if len(r.Reviewers) != 1 || r.Reviewers[0].Name != "Bravo" || r.Reviewers[0].Status != review.StatusOK {
		t.Errorf("reviewers = %+v", r.Reviewers)
	}
	if r.Verdict.DecidedBy != review.DecidedByRules || len(r.Findings) == 0 {
		t.Errorf("verdict %+v, %d findings", r.Verdict, len(r.Findings))
	}
	if !strings.Contains(stdout, "Verdict: Merge with fixes") {
		t.Errorf("stdout = %s", stdout)
	}
}

func TestCommandLineErrorsSayWhatToDo(t *testing.T) {
	repo := t.TempDir()
	if err := demo.BuildRepo(context.Background(), repo); err != nil {
		t.Fatal(err)
	}
	local := []string{"review", "--dir", repo, "--base", "main", "--head", "link-expiry"}
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"no command", nil, nil, "no command given; try 'deep-review demo'"},
		{"unknown command", []string{"reveiw"}, nil, `unknown command "reveiw"`},
		{"review without a target", []string{"review"}, nil, "say what to review"},
		{"half a local range", []string{"review", "--base", "main"}, nil, "needs both --base and --head"},
		{"no reviewers and no keys", local, nil, "no reviewers: set the reviewers input"},
		{"a reviewer without its key", append(local, "--reviewers", "gemini:gemini-3-pro-preview"), nil, "no API key; set the gemini-api-key input or GEMINI_API_KEY"},
		{"a base that is not there", []string{"review", "--dir", repo, "--base", "nope", "--head", "link-expiry"}, nil, "base commit nope is not in the repository"},
		{"a bad spec", []string{"review", "--base", "a", "--head", "b", "--reviewers", "claude"}, nil, "want provider:model"},
		{"a bad flag value", []string{"review", "--base", "a", "--head", "b", "--fail-on", "often"}, nil, "fail-on \"often\""},
		{"a stray argument", []string{"demo", "now"}, nil, "unexpected argument"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := runCLI(t, tt.env, tt.args...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestVersionAndHelp(t *testing.T) {
	stdout, _, err := runCLI(t, nil, "version")
	if err != nil || !strings.HasPrefix(stdout, "deep-review ") {
		t.Errorf("version: %q, %v", stdout, err)
	}
	stdout, _, err = runCLI(t, nil, "review", "--help")
	if err != nil || !strings.Contains(stdout, "-reviewer-timeout") || !strings.Contains(stdout, "-base") {
		t.Errorf("review --help: %v\n%s", err, stdout)
	}
}
