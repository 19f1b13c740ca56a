package cli

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/deepreview/deep-review/review"
	"github.com/deepreview/deep-review/review/demo"
	"github.com/deepreview/deep-review/review/git"
	"github.com/deepreview/deep-review/review/internal/fakegithub"
	"github.com/deepreview/deep-review/review/internal/fakeresults"
)

// actionEnv is a simulated runner: a workspace with the demo repository,
// the event file, and the file commands' files.
type actionEnv struct {
	env       map[string]string
	workspace string
	summary   string
	output    string
	gh        *fakegithub.Server
	results   *fakeresults.Server
	repo      git.Repo
	// pull is the demo PR as the fake serves it; addPull serves it under
	// another number.
	pull fakegithub.PullSpec
	// lastStdout is what the last run printed.
	lastStdout string
}

func newActionEnv(t *testing.T, event, eventFile string, extra map[string]string) *actionEnv {
	t.Helper()
	ctx := context.Background()
	ws := t.TempDir()
	if err := demo.BuildRepo(ctx, ws); err != nil {
		t.Fatal(err)
	}
	repo := git.Repo{Dir: ws}
	base, _ := repo.Output(ctx, "rev-parse", demo.BaseRef)
	head, _ := repo.Output(ctx, "rev-parse", demo.HeadRef)
	log, _ := repo.Output(ctx, "log", "--reverse", "--format=%H %s", demo.BaseRef+".."+demo.HeadRef)
	var commits []fakegithub.Commit
	for _, line := range strings.Split(log, "\n") {
		sha, subject, _ := strings.Cut(line, " ")
		commits = append(commits, fakegithub.Commit{SHA: sha, Message: subject})
	}
	files := []fakegithub.File{{Path: "store.go", Status: "modified", Additions: 14, Deletions: 3}, {Path: "handler.go", Status: "modified", Additions: 4}, {Path: "store_test.go", Status: "modified", Additions: 14, Deletions: 2}, {Path: "import.go", Status: "added", Additions: 34}, {Path: "janitor.go", Status: "added", Additions: 20}}
	a := &actionEnv{workspace: ws, repo: repo, pull: fakegithub.PullSpec{Repo: "Codertocat/Hello-World", Base: base, Head: head, BaseRef: demo.BaseRef, HeadRef: demo.HeadRef}}
	a.gh = fakegithub.New(t, fakegithub.Options{Token: actionToken, WebURL: "https://github.example"})
	a.addPull(t, 2)
	a.gh.SetCommits(2, commits)
	a.gh.SetFiles(2, files)
	a.results = fakeresults.New(t)
	dir := t.TempDir()
	a.summary = filepath.Join(dir, "summary.md")
	a.output = filepath.Join(dir, "output.txt")
	for _, p := range []string{a.summary, a.output} {
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	eventPath, _ := filepath.Abs(filepath.Join("testdata/github", eventFile))
	sessions, _ := filepath.Abs("../demo/testdata/sessions")
	a.env = map[string]string{
		"GITHUB_ACTIONS":         "true",
		"GITHUB_EVENT_NAME":      event,
		"GITHUB_EVENT_PATH":      eventPath,
		"GITHUB_REPOSITORY":      "Codertocat/Hello-World",
		"GITHUB_WORKSPACE":       ws,
		"GITHUB_API_URL":         a.gh.APIURL(),
		"GITHUB_GRAPHQL_URL":     a.gh.GraphQLURL(),
		"GITHUB_SERVER_URL":      "https://github.example",
		"GITHUB_RUN_ID":          "77",
		"GITHUB_RUN_ATTEMPT":     "1",
		"GITHUB_STEP_SUMMARY":    a.summary,
		"ACTIONS_RUNTIME_TOKEN":  a.results.Token,
		"ACTIONS_RESULTS_URL":    a.results.URL(),
		"GITHUB_OUTPUT":          a.output,
		"INPUT_GITHUB-TOKEN":     actionToken,
		"INPUT_REVIEWERS":        "replay:" + sessions + "/alpha.json\nreplay:" + sessions + "/charlie.json",
		"INPUT_LEAD":             "none",
		"INPUT_OUT-DIR":          filepath.Join(dir, "out"),
		"INPUT_COMMENT":          "true",
		"INPUT_SUMMARY":          "true",
		"INPUT_ARTIFACT":         "true",
		"INPUT_ANNOTATIONS":      "true",
		"INPUT_FAIL-ON":          "never",
		"INPUT_MAX-TURNS":        "40",
		"INPUT_MAX-TOKENS":       "2000000",
		"INPUT_REVIEWER-TIMEOUT": "2m",
		"INPUT_MODE":             "review",
		"INPUT_MAX-PRS":          "10",
		"INPUT_BOT-LOGIN":        "github-actions[bot]",
		"INPUT_CONFIG":           ".github/deep-review.yml",
	}
	for k, v := range extra {
		a.env[k] = v
	}
	return a
}

// actionToken is the GITHUB_TOKEN of the simulated runner.
const actionToken = "ghs_faketoken0123456789abcdefghijklmnopq"

// addPull serves the demo pull request as number n, with the workspace's
// diff from the merge base to its head, as GitHub shows it (which inline review comments are checked
// against).
func (a *actionEnv) addPull(t *testing.T, n int) {
	t.Helper()
	spec := a.pull
	spec.Number = n
	a.gh.AddPull(spec)
	diff, err := a.repo.Output(context.Background(), "diff", spec.Base+"..."+spec.Head)
	if err != nil {
		t.Fatal(err)
	}
	a.gh.SetDiff(n, spec.Head, diff+"\n")
}

// push points PR #2 at the workspace's HEAD after a commit, with the
// diff from the base to it.
func (a *actionEnv) push(t *testing.T, subject string) string {
	t.Helper()
	ctx := context.Background()
	head, err := a.repo.Output(ctx, "rev-parse", "HEAD")
	if err != nil {
		t.Fatal(err)
	}
	diff, err := a.repo.Output(ctx, "diff", a.pull.Base+"..."+head)
	if err != nil {
		t.Fatal(err)
	}
	a.gh.Push(2, fakegithub.Commit{SHA: head, Message: subject}, diff+"\n")
	return head
}

// comments are the issue comments on the fake, oldest first.
func (a *actionEnv) comments() []fakegithub.Comment { return a.gh.Comments() }

func (a *actionEnv) outputs(t *testing.T) map[string]string {
	t.Helper()
	data, err := os.ReadFile(a.output)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	lines := strings.Split(string(data), "\n")
	for i := 0; i < len(lines); i++ {
		name, delim, ok := strings.Cut(lines[i], "<<")
		if !ok {
			continue
		}
		var value []string
		for i++; i < len(lines) && lines[i] != delim; i++ {
			value = append(value, lines[i])
		}
		out[name] = strings.Join(value, "\n")
	}
	return out
}

// withoutMasks drops the ::add-mask:: commands, the one place a secret may
// be written: the runner hides it from the log from then on.
func withoutMasks(log string) string {
	var keep []string
	for _, line := range strings.Split(log, "\n") {
		if !strings.HasPrefix(line, "::add-mask::") {
			keep = append(keep, line)
		}
	}
	return strings.Join(keep, "\n")
}

// pushFix commits a fix of the expiry bug on the head branch, as an author
// answering the first round would, and points the fake PR at it.
func (a *actionEnv) pushFix(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(a.workspace, "store.go")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	fixed := strings.Replace(string(data), "if s.now().After(l.Expires) {", "if !l.Expires.IsZero() && s.now().After(l.Expires) {", 1)
	if err := os.WriteFile(path, []byte(fixed), 0o644); err != nil {
		t.Fatal(err)
	}
	author := a.repo
	author.Env = []string{"GIT_AUTHOR_NAME=Dana Demo", "GIT_AUTHOR_EMAIL=dana@example.com", "GIT_COMMITTER_NAME=Dana Demo", "GIT_COMMITTER_EMAIL=dana@example.com"}
	if _, err := author.Run(ctx, "commit", "-q", "-am", "Treat a zero Expires as never"); err != nil {
		t.Fatal(err)
	}
	return a.push(t, "Treat a zero Expires as never")
}

func TestActionReviewsAPullRequestRoundAfterRound(t *testing.T) {
	a := newActionEnv(t, "pull_request", "pull_request.opened.json", nil)
	a.gh.Fail("POST", "/issues/2/comments", fakegithub.BodyTooLong) // the first comment is refused as too long
	a.gh.Fail("PATCH", "", fakegithub.SecondaryRateLimit)           // the first edit meets a secondary rate limit
	var heads []string
	for round := 1; round <= 2; round++ {
		if round == 2 {
			heads = append(heads, a.pushFix(t))
		}
		stdout, stderr, err := runCLI(t, a.env)
		if err != nil {
			t.Fatalf("round %d: %v\nstdout:\n%s\nstderr:\n%s", round, err, stdout, stderr)
		}
		a.lastStdout = stdout
		for _, secret := range []string{"ghs_faketoken", fakeresults.BlobSig} {
			if strings.Contains(withoutMasks(stdout+stderr), secret) {
				t.Fatalf("round %d: %s reached the log:\n%s\n%s", round, secret, stdout, stderr)
			}
		}
	}
	if len(a.comments()) != 1 {
		t.Fatalf("%d comments after two rounds, want 1 (edited in place)", len(a.comments()))
	}
	if a.lastStdout == "" {
		t.Fatal("no log kept")
	}
	for _, name := range []string{"Alpha", "Charlie"} {
		group := "::group::" + name + ": ok in "
		i := strings.Index(a.lastStdout, group)
		if i < 0 || !strings.Contains(a.lastStdout[i:], "::endgroup::") || !strings.Contains(a.lastStdout[i:], name+": turn 2: read_file") {
			t.Errorf("no log group with %s's tool calls:\n%s", name, a.lastStdout)
		}
	}
	if left := a.gh.PendingFaults(); len(left) != 0 {
		t.Errorf("the injected 422 or rate limit never happened: %v left", left)
	}
	body := a.comments()[0].Body
	state, found, err := review.ParseState(body)
	if !found || err != nil || state.Round != 2 || state.HeadSHA != heads[0] {
		t.Errorf("comment state = %+v, %v, %v: want round 2 at %s", state, found, err, heads[0])
	}
	out := a.outputs(t)
	if out["verdict"] == "" || out["round"] != "2" || !strings.HasSuffix(out["comment-url"], "#issuecomment-1001") {
		t.Errorf("outputs = %v", out)
	}
	if len(a.results.Finalized) != 2 || a.results.Finalized[0] == a.results.Finalized[1] {
		t.Errorf("artifacts finalized = %v, want two with different names", a.results.Finalized)
	}
	if !strings.Contains(out["artifact-url"], "/actions/runs/77/artifacts/") || !a.results.LastUploadHolds("report.json") {
		t.Errorf("artifact-url %q, or the upload lacks report.json", out["artifact-url"])
	}
	summary, _ := os.ReadFile(a.summary)
	if !strings.Contains(string(summary), "Round | 2 (of PR #2)") || strings.Count(string(summary), "# Deep Review") != 1 {
		t.Errorf("summary is not round 2's alone:\n%.600s", summary)
	}
}

func TestActionExplainsForkPullRequestsWithoutModelCalls(t *testing.T) {
	a := newActionEnv(t, "pull_request", "pull_request.opened.fork.json", map[string]string{
		"GITHUB_REPOSITORY": "zhouzhuojie/gha-ci-playground",
		"INPUT_REVIEWERS":   "anthropic:claude-opus-5-5",
	})
	stdout, _, err := runCLI(t, a.env)
	if err != nil {
		t.Fatalf("fork: %v", err)
	}
	summary, _ := os.ReadFile(a.summary)
	if !strings.Contains(stdout, "::warning") || !strings.Contains(string(summary), "pull_request_target") {
		t.Errorf("want a warning and a summary that explains pull_request_target; stdout:\n%s", stdout)
	}
	if calls := a.gh.Calls(); len(calls) != 0 {
		t.Errorf("a fork run called GitHub: %v", calls)
	}
}

func TestActionSkipsCommentsThatAreNotCommands(t *testing.T) {
	a := newActionEnv(t, "issue_comment", "issue_comment.created.on_pull_request.json", map[string]string{"GITHUB_REPOSITORY": "zhouzhuojie/gha-ci-playground"})
	stdout, _, err := runCLI(t, a.env)
	if err != nil || !strings.Contains(stdout, "does not start with /deep-review") {
		t.Errorf("err %v, stdout:\n%s", err, stdout)
	}
	a = newActionEnv(t, "issue_comment", "issue_comment.created.on_issue.json", nil)
	stdout, _, err = runCLI(t, a.env)
	if err != nil || !strings.Contains(stdout, "not a pull request") {
		t.Errorf("err %v, stdout:\n%s", err, stdout)
	}
}

func TestActionWorkflowDispatchNeedsAPRNumber(t *testing.T) {
	a := newActionEnv(t, "workflow_dispatch", "workflow_dispatch.json", nil)
	stdout, _, err := runCLI(t, a.env)
	if err == nil || !strings.Contains(stdout, "pr-number input is empty") {
		t.Errorf("err %v, stdout:\n%s", err, stdout)
	}
}

// ourComment is a sticky comment by the bot on issue n, reviewed at head.
func ourComment(n int, head string) fakegithub.Comment {
	return fakegithub.Comment{ID: int64(500 + n), Issue: n, Login: "github-actions[bot]",
		Body: review.CommentHeader(n, 1) + "Merge as-is\n\n" + review.EncodeState(review.State{Round: 1, HeadSHA: head, Repo: "Codertocat/Hello-World", Number: n})}
}

func TestScheduledPlanListsStalePullRequests(t *testing.T) {
	a := newActionEnv(t, "schedule", "workflow_dispatch.json", map[string]string{"INPUT_MODE": "plan"})
	a.gh.SetOpen([]map[string]any{
		{"number": 2, "draft": false, "head": map[string]any{"sha": "up-to-date"}},
		{"number": 3, "draft": false, "head": map[string]any{"sha": "moved"}},
		{"number": 4, "draft": false, "head": map[string]any{"sha": "never-reviewed"}},
		{"number": 5, "draft": true, "head": map[string]any{"sha": "draft"}},
	})
	spoof := ourComment(4, "never-reviewed")
	spoof.Login = "mallory"
	for _, c := range []fakegithub.Comment{ourComment(2, "up-to-date"), ourComment(3, "before-the-push"), spoof} {
		a.gh.SeedComment(c)
	}
	stdout, _, err := runCLI(t, a.env)
	if err != nil {
		t.Fatalf("plan: %v\n%s", err, stdout)
	}
	if got := a.outputs(t)["pull-requests"]; got != "[3,4]" {
		t.Errorf("pull-requests = %q, want [3,4]: #2 is up to date, #4's marker is not ours, #5 is a draft", got)
	}
}

func TestScheduledReviewReviewsUpToMaxPRsAndSaysWhatItLeft(t *testing.T) {
	a := newActionEnv(t, "schedule", "workflow_dispatch.json", map[string]string{"INPUT_MAX-PRS": "1"})
	head := a.gh.Head(2)
	a.gh.SetOpen([]map[string]any{
		{"number": 2, "draft": false, "head": map[string]any{"sha": head}},
		{"number": 9, "draft": false, "head": map[string]any{"sha": "other"}},
	})
	stdout, stderr, err := runCLI(t, a.env)
	if err != nil {
		t.Fatalf("scheduled review: %v\n%s\n%s", err, stdout, stderr)
	}
	if cs := a.comments(); len(cs) != 1 || cs[0].Issue != 2 {
		t.Errorf("comments = %v, want one on #2", cs)
	}
	summary, _ := os.ReadFile(a.summary)
	if !strings.Contains(string(summary), "Left for the next run (max-prs is 1): #9") || !strings.Contains(stdout, "::notice::deep-review: 1 stale pull requests left") {
		t.Errorf("the skipped PR is not reported; summary:\n%s", summary)
	}
}

func TestWorkflowDispatchReviewsTheNamedPullRequest(t *testing.T) {
	a := newActionEnv(t, "workflow_dispatch", "workflow_dispatch.json", map[string]string{"INPUT_PR-NUMBER": "2"})
	stdout, stderr, err := runCLI(t, a.env)
	if err != nil {
		t.Fatalf("dispatch: %v\n%s\n%s", err, stdout, stderr)
	}
	if len(a.comments()) != 1 || a.outputs(t)["round"] != "1" {
		t.Errorf("comments %d, outputs %v", len(a.comments()), a.outputs(t))
	}
}

// commentEvent is the real PR comment payload with its body replaced.
func commentEvent(t *testing.T, body string) string {
	t.Helper()
	data, err := os.ReadFile("testdata/github/issue_comment.created.on_pull_request.json")
	if err != nil {
		t.Fatal(err)
	}
	var ev map[string]any
	if err := json.Unmarshal(data, &ev); err != nil {
		t.Fatal(err)
	}
	ev["comment"].(map[string]any)["body"] = body
	out, _ := json.Marshal(ev)
	path := filepath.Join(t.TempDir(), "event.json")
	if err := os.WriteFile(path, out, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestSlashCommandNeedsWriteAccess(t *testing.T) {
	for _, tt := range []struct {
		perm     string
		comments int
		log      string
	}{
		{"write", 1, ""},
		{"read", 0, "zhouzhuojie has read access; /deep-review needs write access"},
	} {
		a := newActionEnv(t, "issue_comment", "issue_comment.created.on_pull_request.json", map[string]string{
			"GITHUB_REPOSITORY": "zhouzhuojie/gha-ci-playground",
			"GITHUB_EVENT_PATH": commentEvent(t, "/deep-review please"),
		})
		a.gh.SetPermission("", tt.perm)
		a.addPull(t, 31)
		stdout, stderr, err := runCLI(t, a.env)
		if err != nil {
			t.Fatalf("%s: %v\n%s\n%s", tt.perm, err, stdout, stderr)
		}
		if len(a.comments()) != tt.comments || !strings.Contains(stdout, tt.log) {
			t.Errorf("%s access: %d comments, stdout:\n%.500s", tt.perm, len(a.comments()), stdout)
		}
	}
}

func TestPullRequestTargetReviewsForkPullRequests(t *testing.T) {
	a := newActionEnv(t, "pull_request_target", "pull_request.opened.fork.json", map[string]string{"GITHUB_REPOSITORY": "zhouzhuojie/gha-ci-playground"})
	a.addPull(t, 31)
	stdout, stderr, err := runCLI(t, a.env)
	if err != nil {
		t.Fatalf("pull_request_target: %v\n%s\n%s", err, stdout, stderr)
	}
	if cs := a.comments(); len(cs) != 1 || cs[0].Issue != 31 {
		t.Errorf("comments = %v, want one on the fork's PR #31", cs)
	}
	if strings.Contains(stdout, "::warning::") && strings.Contains(stdout, "fork") {
		t.Errorf("pull_request_target was treated as an unreviewable fork run:\n%s", stdout)
	}
}

func TestActionReadsThePullRequestOncePerReview(t *testing.T) {
	a := newActionEnv(t, "pull_request", "pull_request.opened.json", nil)
	if stdout, stderr, err := runCLI(t, a.env); err != nil {
		t.Fatalf("%v\nstdout:\n%s\nstderr:\n%s", err, stdout, stderr)
	}
	n := 0
	for _, key := range a.gh.Calls() {
		if strings.HasPrefix(key, "GET /api/v3/repos/") && strings.HasSuffix(key, "/pulls/2") {
			n++
		}
	}
	if n != 1 {
		t.Errorf("the pull request was read %d times, want once (the config file and the gather share it): %v", n, a.gh.Calls())
	}
}
