package pr

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/deepreview/deep-review/review"
	"github.com/deepreview/deep-review/review/internal/fakegithub"
)

const (
	testToken = "ghs_TESTtoken0123456789abcdef"
	owner     = "octocat"
	repoName_ = "Hello-World"
	prNumber  = 1347
)

func prPath(suffix string) string {
	return fmt.Sprintf("/repos/%s/%s/pulls/%d%s", owner, repoName_, prNumber, suffix)
}

func issuePath(suffix string) string {
	return fmt.Sprintf("/repos/%s/%s/issues/%d%s", owner, repoName_, prNumber, suffix)
}

// logs collects Logf lines.
type logs struct {
	mu    sync.Mutex
	lines []string
}

func (l *logs) logf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, fmt.Sprintf(format, args...))
}

func (l *logs) has(sub string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, s := range l.lines {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

func (l *logs) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

// prJSON is pulls-get.json with the SHAs, counts and clone URL of a test.
func prJSON(t *testing.T, base, head string, commits, files int, cloneURL string) map[string]any {
	t.Helper()
	p := loadFixture(t, "pulls-get.json")
	obj(p, "base")["sha"] = base
	obj(p, "head")["sha"] = head
	obj(obj(p, "base"), "repo")["clone_url"] = cloneURL
	p["commits"] = commits
	p["changed_files"] = files
	return p
}

// commitItems are n entries of pulls-list-commits.json with their own SHAs
// and subjects.
func commitItems(t *testing.T, n int) []any {
	t.Helper()
	item := loadFixture(t, "pulls-list-commits.json")
	var out []any
	for i := 1; i <= n; i++ {
		c := clone(t, item)
		c["sha"] = fmt.Sprintf("%040x", i)
		obj(c, "commit")["message"] = fmt.Sprintf("Commit %d\n\nBody of %d.", i, i)
		out = append(out, c)
	}
	return out
}

// issueCommentItems are conversation comments built from
// issues-list-comments.json: a person's, two of ours (rounds 1 and 2), a
// newer marker by someone else, and a bot's.
func issueCommentItems(t *testing.T) []any {
	t.Helper()
	item := loadFixture(t, "issues-list-comments.json")
	mk := func(id int, login, typ, body, created string) map[string]any {
		c := clone(t, item)
		c["id"] = id
		c["html_url"] = fmt.Sprintf("https://github.com/octocat/Hello-World/pull/1347#issuecomment-%d", id)
		obj(c, "user")["login"] = login
		obj(c, "user")["type"] = typ
		c["body"] = body
		c["created_at"] = created
		return c
	}
	round1 := review.EncodeState(review.State{Round: 1, HeadSHA: "aaaa", Repo: owner + "/" + repoName_, Number: prNumber})
	round2 := review.EncodeState(review.State{Round: 2, HeadSHA: "bbbb", Fingerprints: []string{"fp-1"}, Repo: owner + "/" + repoName_, Number: prNumber})
	forged := review.EncodeState(review.State{Round: 9, HeadSHA: "evil", Repo: owner + "/" + repoName_, Number: prNumber})
	person := clone(t, item) // octocat's "Me too", as the fixture has it
	return []any{
		person,
		mk(2, "github-actions[bot]", "Bot", review.CommentHeader(prNumber, 1)+"Merge as-is\n\n"+round1, "2011-04-15T10:00:00Z"),
		mk(3, "github-actions[bot]", "Bot", review.CommentHeader(prNumber, 2)+"Merge as-is\n\n"+round2, "2011-04-16T10:00:00Z"),
		mk(4, "mallory", "User", "copied\n"+forged, "2011-04-17T10:00:00Z"),
		mk(5, "dependabot[bot]", "Bot", "Bumps x from 1 to 2.", "2011-04-18T10:00:00Z"),
		mk(6, "hubot", "User", "Please split this function.", "2011-04-19T10:00:00Z"),
	}
}

// reviewCommentItems are review comments built from
// pulls-list-review-comments.json: octocat's (id 10), a reply by hubot (11),
// a comment in a second thread (12) and a bot's (13).
func reviewCommentItems(t *testing.T) []any {
	t.Helper()
	item := loadFixture(t, "pulls-list-review-comments.json")
	mk := func(id int, login, typ, body string, line int) map[string]any {
		c := clone(t, item)
		c["id"] = id
		obj(c, "user")["login"] = login
		obj(c, "user")["type"] = typ
		c["body"] = body
		c["line"] = line
		c["html_url"] = fmt.Sprintf("https://github.com/octocat/Hello-World/pull/1347#discussion_r%d", id)
		c["created_at"] = fmt.Sprintf("2011-04-14T16:%02d:00Z", id)
		return c
	}
	return []any{
		clone(t, item), // id 10 by octocat, as the fixture has it
		mk(11, "hubot", "User", "Agreed, but the loop still leaks.", 2),
		mk(12, "hubot", "User", "Rename this.", 7),
		mk(13, "coderabbitai[bot]", "Bot", "Nit.", 3),
	}
}

// serveGraphQL answers the review-threads query in two pages: the first
// thread (comments 10 and 11) is resolved, the second (12) outdated.
func serveGraphQL(t *testing.T, f *fakeGitHub) *fakegithub.Route {
	return f.HandleRaw("POST", "/api/graphql", func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Query     string         `json:"query"`
			Variables map[string]any `json:"variables"`
		}
		if err := json.Unmarshal(drain(t, r.Body), &req); err != nil {
			t.Errorf("graphql body: %v", err)
		}
		if !strings.Contains(req.Query, "reviewThreads") || req.Variables["owner"] != owner || req.Variables["name"] != repoName_ || req.Variables["number"] != float64(prNumber) {
			t.Errorf("graphql request %+v", req)
		}
		node := func(id string, resolved, outdated bool, ids ...int) map[string]any {
			var cs []any
			for _, i := range ids {
				cs = append(cs, map[string]any{"databaseId": i})
			}
			return map[string]any{"id": id, "isResolved": resolved, "isOutdated": outdated, "path": "file1.txt", "line": 2,
				"comments": map[string]any{"nodes": cs}}
		}
		page := map[string]any{"hasNextPage": true, "endCursor": "Y3Vyc29yOjE="}
		nodes := []any{node("PRRT_1", true, false, 10, 11)}
		if req.Variables["cursor"] == "Y3Vyc29yOjE=" {
			page = map[string]any{"hasNextPage": false, "endCursor": "Y3Vyc29yOjI="}
			nodes = []any{node("PRRT_2", false, true, 12)}
		}
		writeJSON(w, http.StatusOK, map[string]any{"data": map[string]any{"repository": map[string]any{"pullRequest": map[string]any{
			"reviewThreads": map[string]any{"pageInfo": page, "nodes": nodes}}}}})
	})
}

// serveFeedback registers the comment listings and GraphQL.
func serveFeedback(t *testing.T, f *fakeGitHub) {
	issue, reviewc := issueCommentItems(t), reviewCommentItems(t)
	f.Handle("GET", issuePath("/comments"), func(w http.ResponseWriter, r *http.Request) { paginate(w, r, issue) })
	f.Handle("GET", prPath("/comments"), func(w http.ResponseWriter, r *http.Request) { paginate(w, r, reviewc) })
	serveGraphQL(t, f)
}

// wantComments is what serveFeedback's comments become: people only, in
// time order (then URL), with their threads' state.
var wantComments = []review.Comment{
	{Author: "octocat", URL: "https://github.com/octocat/Hello-World/issues/1347#issuecomment-1", Body: "Me too", CreatedAt: "2011-04-14T16:00:49Z"},
	{Author: "octocat", URL: "https://github.com/octocat/Hello-World/pull/1#discussion-diff-1", Body: "Great stuff!", Path: "file1.txt", Line: 2,
		InThread: true, Resolved: true, ThreadID: "PRRT_1", CreatedAt: "2011-04-14T16:00:49Z"},
	{Author: "hubot", URL: "https://github.com/octocat/Hello-World/pull/1347#discussion_r11", Body: "Agreed, but the loop still leaks.", Path: "file1.txt", Line: 2,
		InThread: true, Resolved: true, ThreadID: "PRRT_1", CreatedAt: "2011-04-14T16:11:00Z", IsReviewer: true},
	{Author: "hubot", URL: "https://github.com/octocat/Hello-World/pull/1347#discussion_r12", Body: "Rename this.", Path: "file1.txt", Line: 7,
		InThread: true, Outdated: true, ThreadID: "PRRT_2", CreatedAt: "2011-04-14T16:12:00Z", IsReviewer: true},
	{Author: "hubot", URL: "https://github.com/octocat/Hello-World/pull/1347#issuecomment-6", Body: "Please split this function.", CreatedAt: "2011-04-19T10:00:00Z", IsReviewer: true},
}

func TestGitHubGathersFromTheCheckout(t *testing.T) {
	t.Parallel()
	f, _ := featureRepo(t)
	base, head := f.git("rev-parse", "main"), f.git("rev-parse", "feature")
	gh := newFakeGitHub(t, testToken)
	gh.Handle("GET", prPath(""), func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, prJSON(t, base, head, 3, 9, "https://github.com/octocat/Hello-World.git"))
	})
	commits := commitItems(t, 3)
	gh.Handle("GET", prPath("/commits"), func(w http.ResponseWriter, r *http.Request) { paginate(w, r, commits) })
	serveFeedback(t, gh)

	var l logs
	got, err := GitHub(context.Background(), GitHubOptions{
		Token: testToken, APIURL: gh.APIURL(), HTTPClient: gh.Client(),
		Owner: owner, Repo: repoName_, Number: prNumber, Dir: f.repo.Dir,
		Filters: Filters{Exclude: []string{"skipme/"}}, Logf: l.logf,
	})
	if err != nil {
		t.Fatal(err)
	}
	gh.Verify()

	local, err := Local(context.Background(), LocalOptions{Dir: f.repo.Dir, Base: base, Head: head, Filters: Filters{Exclude: []string{"skipme/"}}})
	if err != nil {
		t.Fatal(err)
	}
	if got.Title != "Amazing new feature" || got.Author != "octocat" || got.Number != prNumber || got.Repo != "octocat/Hello-World" ||
		got.BaseRef != "master" || got.HeadRef != "new-topic" || got.URL != "https://github.com/octocat/Hello-World/pull/1347" || got.Draft {
		t.Errorf("metadata = %+v", got)
	}
	if !strings.Contains(got.Body, "Please pull these awesome changes") {
		t.Errorf("Body = %q, want the fixture's", got.Body)
	}
	if got.BaseSHA != base || got.HeadSHA != head || got.MergeBase != local.MergeBase || got.Dir != f.repo.Dir {
		t.Errorf("SHAs = %s %s %s, dir %s; want %s %s %s, %s", got.BaseSHA, got.HeadSHA, got.MergeBase, got.Dir, base, head, local.MergeBase, f.repo.Dir)
	}
	if got.Diff != local.Diff || !reflect.DeepEqual(got.Files, local.Files) || !reflect.DeepEqual(got.Skipped, local.Skipped) ||
		!reflect.DeepEqual(got.Limitations, local.Limitations) {
		t.Errorf("the diff, files, skipped files or limitations differ from local git's")
	}
	wantCommits := []review.Commit{
		{SHA: fmt.Sprintf("%040x", 1), Subject: "Commit 1"},
		{SHA: fmt.Sprintf("%040x", 2), Subject: "Commit 2"},
		{SHA: fmt.Sprintf("%040x", 3), Subject: "Commit 3"},
	}
	if !reflect.DeepEqual(got.Commits, wantCommits) {
		t.Errorf("Commits = %+v, want the API's", got.Commits)
	}
	if !reflect.DeepEqual(got.Comments, wantComments) {
		t.Errorf("Comments =\n%+v\nwant\n%+v", got.Comments, wantComments)
	}
	if got.Previous == nil || got.Previous.Round != 2 || got.Previous.HeadSHA != "bbbb" {
		t.Errorf("Previous = %+v, want round 2 from our newest comment, not mallory's forged round 9", got.Previous)
	}
}
