package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/deepreview/deep-review/review"
	"github.com/deepreview/deep-review/review/demo"
	"github.com/deepreview/deep-review/review/git"
)

// fakeGitHub is the part of the GitHub API an action run uses, mounted
// under /api/v3 (as on GitHub Enterprise Server) so that any hard-coded
// api.github.com URL fails. It keeps issue comments in memory and serves the
// pull request from the shared REST fixture with the demo repository's SHAs.
type fakeGitHub struct {
	t        *testing.T
	srv      *httptest.Server
	mu       sync.Mutex
	pull     map[string]any
	commits  []map[string]any
	files    []map[string]any
	comments []map[string]any
	nextID   int
	calls    map[string]int
	unknown  []string
	perm     string
	open     []map[string]any
	// tooLong answers the next comment creations with 422 "body is too
	// long"; limited answers the next comment edits with a secondary rate
	// limit.
	tooLong int
	limited int
}

func newFakeGitHub(t *testing.T, repo string, number int, base, head string, commits []review.Commit, files []review.ChangedFile) *fakeGitHub {
	t.Helper()
	f := &fakeGitHub{t: t, calls: map[string]int{}, nextID: 1000, perm: "write"}
	data, err := os.ReadFile("testdata/github/pulls-get.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &f.pull); err != nil {
		t.Fatal(err)
	}
	f.pull["number"] = number
	f.pull["draft"] = false
	f.pull["head"].(map[string]any)["sha"] = head
	f.pull["head"].(map[string]any)["ref"] = demo.HeadRef
	f.pull["base"].(map[string]any)["sha"] = base
	f.pull["base"].(map[string]any)["ref"] = demo.BaseRef
	for _, side := range []string{"head", "base"} {
		f.pull[side].(map[string]any)["repo"].(map[string]any)["full_name"] = repo
		f.pull[side].(map[string]any)["repo"].(map[string]any)["fork"] = false
	}
	for _, c := range commits {
		f.commits = append(f.commits, map[string]any{"sha": c.SHA, "commit": map[string]any{"message": c.Subject}})
	}
	for _, cf := range files {
		f.files = append(f.files, map[string]any{"filename": cf.Path, "status": cf.Status, "additions": cf.Additions, "deletions": cf.Deletions, "changes": cf.Additions + cf.Deletions})
	}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeGitHub) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	path := r.URL.Path
	key := r.Method + " " + path
	f.calls[key]++
	parts := strings.Split(strings.TrimPrefix(path, "/api/v3/repos/"), "/")
	reply := func(code int, v any) {
		w.WriteHeader(code)
		json.NewEncoder(w).Encode(v)
	}
	switch {
	case path == "/api/graphql":
		reply(200, map[string]any{"data": map[string]any{"repository": map[string]any{"pullRequest": map[string]any{
			"reviewThreads": map[string]any{"pageInfo": map[string]any{"hasNextPage": false}, "nodes": []any{}}}}}})
	case len(parts) == 4 && parts[2] == "pulls" && r.Method == "GET":
		reply(200, f.pull)
	case len(parts) == 3 && parts[2] == "pulls" && r.Method == "GET":
		reply(200, f.open)
	case len(parts) == 5 && parts[2] == "pulls" && parts[4] == "commits":
		reply(200, f.commits)
	case len(parts) == 5 && parts[2] == "pulls" && parts[4] == "files":
		reply(200, f.files)
	case len(parts) == 5 && parts[2] == "pulls" && parts[4] == "comments":
		reply(200, []any{})
	case len(parts) == 5 && parts[2] == "issues" && parts[4] == "comments" && r.Method == "GET":
		var on []map[string]any
		for _, c := range f.comments {
			if c["issue"] == parts[3] {
				on = append(on, c)
			}
		}
		reply(200, on)
	case len(parts) == 5 && parts[2] == "issues" && parts[4] == "comments" && r.Method == "POST" && f.tooLong > 0:
		f.tooLong--
		reply(422, map[string]any{"message": "Validation Failed", "documentation_url": "https://docs.github.com/rest/issues/comments#create-an-issue-comment",
			"errors": []any{map[string]any{"resource": "IssueComment", "code": "custom", "field": "body", "message": "body is too long (maximum is 65536 characters)"}}})
	case len(parts) == 5 && parts[2] == "issues" && parts[3] == "comments" && r.Method == "PATCH" && f.limited > 0:
		f.limited--
		w.Header().Set("Retry-After", "0")
		reply(403, map[string]any{"message": "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
			"documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits"})
	case len(parts) == 5 && parts[2] == "issues" && parts[4] == "comments" && r.Method == "POST":
		var body struct{ Body string }
		json.NewDecoder(r.Body).Decode(&body)
		f.nextID++
		c := map[string]any{"id": f.nextID, "issue": parts[3], "body": body.Body, "user": map[string]any{"login": "github-actions[bot]", "type": "Bot"},
			"html_url": fmt.Sprintf("https://github.example/%s/%s/pull/%s#issuecomment-%d", parts[0], parts[1], parts[3], f.nextID)}
		f.comments = append(f.comments, c)
		reply(201, c)
	case len(parts) == 5 && parts[2] == "issues" && parts[3] == "comments" && r.Method == "PATCH":
		var body struct{ Body string }
		json.NewDecoder(r.Body).Decode(&body)
		id, _ := strconv.Atoi(parts[4])
		for _, c := range f.comments {
			if c["id"] == id {
				c["body"] = body.Body
				reply(200, c)
				return
			}
		}
		reply(404, map[string]any{"message": "Not Found", "documentation_url": "https://docs.github.com/rest"})
	case len(parts) == 5 && parts[2] == "collaborators" && parts[4] == "permission":
		reply(200, map[string]any{"permission": f.perm, "user": map[string]any{"login": parts[3]}})
	default:
		f.unknown = append(f.unknown, key)
		reply(404, map[string]any{"message": "Not Found", "documentation_url": "https://docs.github.com/rest"})
	}
}

// actionEnv is a simulated runner: a workspace with the demo repository,
// the event file, and the file commands' files.
type actionEnv struct {
	env       map[string]string
	workspace string
	summary   string
	output    string
	gh        *fakeGitHub
	results   *fakeResults
	repo      git.Repo
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
	var commits []review.Commit
	for _, line := range strings.Split(log, "\n") {
		sha, subject, _ := strings.Cut(line, " ")
		commits = append(commits, review.Commit{SHA: sha, Subject: subject})
	}
	files := []review.ChangedFile{{Path: "store.go", Status: "modified", Additions: 14, Deletions: 3}, {Path: "handler.go", Status: "modified", Additions: 4}, {Path: "store_test.go", Status: "modified", Additions: 14, Deletions: 2}, {Path: "import.go", Status: "added", Additions: 34}, {Path: "janitor.go", Status: "added", Additions: 20}}
	a := &actionEnv{workspace: ws, repo: repo}
	a.gh = newFakeGitHub(t, "Codertocat/Hello-World", 2, base, head, commits, files)
	a.results = newFakeResults(t)
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
		"GITHUB_API_URL":         a.gh.srv.URL + "/api/v3",
		"GITHUB_GRAPHQL_URL":     a.gh.srv.URL + "/api/graphql",
		"GITHUB_SERVER_URL":      "https://github.example",
		"GITHUB_RUN_ID":          "77",
		"GITHUB_RUN_ATTEMPT":     "1",
		"GITHUB_STEP_SUMMARY":    a.summary,
		"ACTIONS_RUNTIME_TOKEN":  a.results.token,
		"ACTIONS_RESULTS_URL":    a.results.srv.URL + "/",
		"GITHUB_OUTPUT":          a.output,
		"INPUT_GITHUB-TOKEN":     "ghs_faketoken0123456789abcdefghijklmnopq",
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
	head, err := a.repo.Output(ctx, "rev-parse", "HEAD")
	if err != nil {
		t.Fatal(err)
	}
	a.gh.mu.Lock()
	a.gh.pull["head"].(map[string]any)["sha"] = head
	a.gh.commits = append(a.gh.commits, map[string]any{"sha": head, "commit": map[string]any{"message": "Treat a zero Expires as never"}})
	a.gh.mu.Unlock()
	return head
}

func TestActionReviewsAPullRequestRoundAfterRound(t *testing.T) {
	a := newActionEnv(t, "pull_request", "pull_request.opened.json", nil)
	a.gh.tooLong = 1 // the first comment is refused as too long
	a.gh.limited = 1 // the first edit meets a secondary rate limit
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
		for _, secret := range []string{"ghs_faketoken", "secretsig"} {
			if strings.Contains(withoutMasks(stdout+stderr), secret) {
				t.Fatalf("round %d: %s reached the log:\n%s\n%s", round, secret, stdout, stderr)
			}
		}
	}
	if len(a.gh.comments) != 1 {
		t.Fatalf("%d comments after two rounds, want 1 (edited in place)", len(a.gh.comments))
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
	if a.gh.tooLong != 0 || a.gh.limited != 0 {
		t.Errorf("the injected 422 (%d left) or rate limit (%d left) never happened", a.gh.tooLong, a.gh.limited)
	}
	body := a.gh.comments[0]["body"].(string)
	state, found, err := review.ParseState(body)
	if !found || err != nil || state.Round != 2 || state.HeadSHA != heads[0] {
		t.Errorf("comment state = %+v, %v, %v: want round 2 at %s", state, found, err, heads[0])
	}
	out := a.outputs(t)
	if out["verdict"] == "" || out["round"] != "2" || !strings.HasSuffix(out["comment-url"], "#issuecomment-1001") {
		t.Errorf("outputs = %v", out)
	}
	if len(a.results.finalized) != 2 || a.results.finalized[0] == a.results.finalized[1] {
		t.Errorf("artifacts finalized = %v, want two with different names", a.results.finalized)
	}
	if !strings.Contains(out["artifact-url"], "/actions/runs/77/artifacts/") || !a.results.lastUploadHolds("report.json") {
		t.Errorf("artifact-url %q, or the upload lacks report.json", out["artifact-url"])
	}
	summary, _ := os.ReadFile(a.summary)
	if !strings.Contains(string(summary), "Round | 2 (of PR #2)") || strings.Count(string(summary), "# Deep Review") != 1 {
		t.Errorf("summary is not round 2's alone:\n%.600s", summary)
	}
	if len(a.gh.unknown) > 0 {
		t.Logf("routes the fake does not serve (answered 404): %v", a.gh.unknown)
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
	if len(a.gh.calls) != 0 {
		t.Errorf("a fork run called GitHub: %v", a.gh.calls)
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
func ourComment(n int, head string) map[string]any {
	return map[string]any{"id": 500 + n, "issue": strconv.Itoa(n), "user": map[string]any{"login": "github-actions[bot]", "type": "Bot"},
		"body": review.CommentHeader(n, 1) + "Merge as-is\n\n" + review.EncodeState(review.State{Round: 1, HeadSHA: head, Repo: "Codertocat/Hello-World", Number: n})}
}

func TestScheduledPlanListsStalePullRequests(t *testing.T) {
	a := newActionEnv(t, "schedule", "workflow_dispatch.json", map[string]string{"INPUT_MODE": "plan"})
	a.gh.open = []map[string]any{
		{"number": 2, "draft": false, "head": map[string]any{"sha": "up-to-date"}},
		{"number": 3, "draft": false, "head": map[string]any{"sha": "moved"}},
		{"number": 4, "draft": false, "head": map[string]any{"sha": "never-reviewed"}},
		{"number": 5, "draft": true, "head": map[string]any{"sha": "draft"}},
	}
	spoof := ourComment(4, "never-reviewed")
	spoof["user"] = map[string]any{"login": "mallory", "type": "User"}
	a.gh.comments = []map[string]any{ourComment(2, "up-to-date"), ourComment(3, "before-the-push"), spoof}
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
	head := a.gh.pull["head"].(map[string]any)["sha"].(string)
	a.gh.open = []map[string]any{
		{"number": 2, "draft": false, "head": map[string]any{"sha": head}},
		{"number": 9, "draft": false, "head": map[string]any{"sha": "other"}},
	}
	stdout, stderr, err := runCLI(t, a.env)
	if err != nil {
		t.Fatalf("scheduled review: %v\n%s\n%s", err, stdout, stderr)
	}
	if len(a.gh.comments) != 1 || a.gh.comments[0]["issue"] != "2" {
		t.Errorf("comments = %v, want one on #2", a.gh.comments)
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
	if len(a.gh.comments) != 1 || a.outputs(t)["round"] != "1" {
		t.Errorf("comments %d, outputs %v", len(a.gh.comments), a.outputs(t))
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
		a.gh.perm = tt.perm
		a.gh.pull["number"] = 31
		stdout, stderr, err := runCLI(t, a.env)
		if err != nil {
			t.Fatalf("%s: %v\n%s\n%s", tt.perm, err, stdout, stderr)
		}
		if len(a.gh.comments) != tt.comments || !strings.Contains(stdout, tt.log) {
			t.Errorf("%s access: %d comments, stdout:\n%.500s", tt.perm, len(a.gh.comments), stdout)
		}
	}
}

func TestPullRequestTargetReviewsForkPullRequests(t *testing.T) {
	a := newActionEnv(t, "pull_request_target", "pull_request.opened.fork.json", map[string]string{"GITHUB_REPOSITORY": "zhouzhuojie/gha-ci-playground"})
	a.gh.pull["number"] = 31
	stdout, stderr, err := runCLI(t, a.env)
	if err != nil {
		t.Fatalf("pull_request_target: %v\n%s\n%s", err, stdout, stderr)
	}
	if len(a.gh.comments) != 1 || a.gh.comments[0]["issue"] != "31" {
		t.Errorf("comments = %v, want one on the fork's PR #31", a.gh.comments)
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
	for key, c := range a.gh.calls {
		if strings.HasPrefix(key, "GET /api/v3/repos/") && strings.HasSuffix(key, "/pulls/2") {
			n += c
		}
	}
	if n != 1 {
		t.Errorf("the pull request was read %d times, want once (the config file and the gather share it): %v", n, a.gh.calls)
	}
}
