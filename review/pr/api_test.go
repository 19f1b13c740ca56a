package pr

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-github/v60/github"

	"github.com/deepreview/deep-review/review"
)

// tooLarge is GitHub's answer when a pull request's diff is too big to render.
var tooLarge = map[string]any{
	"message":           "Sorry, the diff exceeded the maximum number of files (300). Consider using 'List pull requests files' API or locally cloning the repository instead.",
	"errors":            []any{map[string]any{"resource": "PullRequest", "field": "diff", "code": "too_large"}},
	"documentation_url": "https://docs.github.com/rest/pulls/pulls#get-a-pull-request",
	"status":            "406",
}

// fileItems are n entries of pulls-list-files.json: a Go file adding a
// TODO, a vendored file, a binary without a patch, a rename, then plain
// text files.
func fileItems(t *testing.T, n int) []any {
	t.Helper()
	item := loadFixture(t, "pulls-list-files.json")
	var out []any
	for i := 0; i < n; i++ {
		f := clone(t, item)
		f["filename"] = fmt.Sprintf("src/f%04d.txt", i)
		f["status"] = "added"
		f["additions"], f["deletions"], f["changes"] = 1, 0, 1
		f["patch"] = "@@ -0,0 +1 @@\n+line " + fmt.Sprint(i)
		switch i {
		case 0:
			f["filename"] = "src/a.go"
			f["additions"], f["changes"] = 2, 2
			f["patch"] = "@@ -0,0 +1,2 @@\n+package a\n+// TODO: handle the error\n"
		case 1:
			f["filename"] = "vendor/x/y.go"
			f["patch"] = "@@ -0,0 +1 @@\n+// FIXME vendored"
		case 2:
			f["filename"] = "img.png"
			f["additions"], f["changes"] = 0, 0
			delete(f, "patch")
		case 3:
			f["filename"], f["previous_filename"], f["status"] = "new.txt", "old.txt", "renamed"
			f["additions"], f["deletions"], f["changes"] = 1, 1, 2
			f["patch"] = "@@ -1 +1 @@\n-a\n+b"
		}
		out = append(out, f)
	}
	return out
}

func TestGitHubFallsBackToPerFilePatchesWhenTheDiffIsTooLarge(t *testing.T) {
	t.Parallel()
	const total = MaxAPIFiles
	base, head := strings.Repeat("b", 40), strings.Repeat("c", 40)
	gh := newFakeGitHub(t, testToken)
	var mu sync.Mutex
	diffAsked := 0
	gh.on("GET", prPath(""), func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Accept") == "application/vnd.github.v3.diff" {
			mu.Lock()
			diffAsked++
			mu.Unlock()
			writeJSON(w, http.StatusNotAcceptable, tooLarge)
			return
		}
		writeJSON(w, http.StatusOK, prJSON(t, base, head, 1, total, "https://github.com/octocat/Hello-World.git"))
	})
	files := fileItems(t, total)
	limited := false
	filesRoute := gh.on("GET", prPath("/files"), func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		first := !limited
		limited = true
		mu.Unlock()
		if first { // a rate limit that says when to come back
			w.Header().Set("Retry-After", "2")
			writeJSON(w, http.StatusTooManyRequests, map[string]any{"message": "API rate limit exceeded", "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"})
			return
		}
		paginate(w, r, files)
	})
	commits := commitItems(t, 1)
	gh.on("GET", prPath("/commits"), func(w http.ResponseWriter, r *http.Request) { paginate(w, r, commits) })
	gh.on("GET", fmt.Sprintf("/repos/%s/%s/compare/%s...%s", owner, repoName_, base, head), func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"merge_base_commit": map[string]any{"sha": strings.Repeat("a", 40)}, "status": "ahead"})
	})
	serveFeedback(t, gh)

	var l logs
	var slept []time.Duration
	got, err := GitHub(context.Background(), GitHubOptions{
		Token: testToken, APIURL: gh.apiURL(), HTTPClient: gh.srv.Client(),
		Owner: owner, Repo: repoName_, Number: prNumber, NoClone: true, Logf: l.logf,
		Sleep: func(ctx context.Context, d time.Duration) error { slept = append(slept, d); return nil },
	})
	if err != nil {
		t.Fatalf("%v\nlog:\n%s", err, &l)
	}
	gh.verify()

	if diffAsked != 1 {
		t.Errorf("asked for the diff %d times, want once", diffAsked)
	}
	if len(slept) != 1 || slept[0] != 2*time.Second {
		t.Errorf("slept %v, want one 2s wait as Retry-After said", slept)
	}
	if pages := filesRoute.count(); pages != total/perPage+1 {
		t.Errorf("files listed in %d requests, want %d pages plus the rate-limited one", pages, total/perPage)
	}
	for _, q := range filesRoute.queries {
		if q.Get("per_page") != "100" {
			t.Errorf("files page asked with per_page %q, want 100", q.Get("per_page"))
		}
	}
	if len(got.Files) != total-1 {
		t.Errorf("%d files, want %d (all but the vendored one)", len(got.Files), total-1)
	}
	if want := []review.SkippedFile{{Path: "vendor/x/y.go", Reason: `vendored (default exclude "vendor/")`}}; fmt.Sprint(got.Skipped) != fmt.Sprint(want) {
		t.Errorf("Skipped = %+v, want %+v", got.Skipped, want)
	}
	byPath := map[string]review.ChangedFile{}
	for _, f := range got.Files {
		byPath[f.Path] = f
	}
	if f := byPath["img.png"]; !f.Binary {
		t.Errorf("img.png = %+v, want binary", f)
	}
	if f := byPath["new.txt"]; f.OldPath != "old.txt" || f.Status != "renamed" {
		t.Errorf("new.txt = %+v, want renamed from old.txt", f)
	}
	if n := strings.Count(got.Diff, "diff --git "); n != total-2 {
		t.Errorf("the diff has %d files, want %d (no vendored file, no binary without a patch)", n, total-2)
	}
	if strings.Contains(got.Diff, "vendor/") || !strings.Contains(got.Diff, "rename from old.txt") {
		t.Errorf("the diff holds the vendored file or lacks the rename")
	}
	if want := []review.Limitation{{File: "src/a.go", Line: 2, Quote: "TODO: handle the error"}}; fmt.Sprint(got.Limitations) != fmt.Sprint(want) {
		t.Errorf("Limitations = %+v, want %+v", got.Limitations, want)
	}
	if got.MergeBase != strings.Repeat("a", 40) {
		t.Errorf("MergeBase = %q, want the compare API's", got.MergeBase)
	}
	if got.Dir != "" {
		t.Errorf("Dir = %q, want none without a checkout", got.Dir)
	}
	for _, want := range []string{"406", "1 file(s) have no patch", "rate limited"} {
		if !l.has(want) {
			t.Errorf("the log does not mention %q:\n%s", want, &l)
		}
	}
}

// longBranch makes a repository whose feature branch has n commits on top of
// main, written with git fast-import.
func longBranch(t *testing.T, n int) (*fixture, string, string) {
	t.Helper()
	f := newFixture(t)
	f.write("a.txt", "start\n")
	base := f.commit("base")
	var in bytes.Buffer
	fmt.Fprintf(&in, "reset refs/heads/feature\nfrom %s\n\n", base)
	for i := 1; i <= n; i++ {
		msg := fmt.Sprintf("Step %d", i)
		content := fmt.Sprintf("step %d\n", i)
		fmt.Fprintf(&in, "commit refs/heads/feature\ncommitter Ada Lovelace <ada@example.com> %d +0000\ndata %d\n%s\nM 100644 inline a.txt\ndata %d\n%s\n",
			1700000000+i, len(msg), msg, len(content), content)
	}
	if _, err := f.repo.RunInput(context.Background(), in.Bytes(), "fast-import", "--quiet"); err != nil {
		t.Fatal(err)
	}
	return f, base, f.git("rev-parse", "feature")
}

func TestGitHubListsCommitsPastTheAPICapFromLocalGit(t *testing.T) {
	t.Parallel()
	const n = 300
	f, base, head := longBranch(t, n)
	gh := newFakeGitHub(t, testToken)
	gh.on("GET", prPath(""), func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, prJSON(t, base, head, n, 1, "https://github.com/octocat/Hello-World.git"))
	})
	// No commits route: listing them through the API would fail the test.
	serveFeedback(t, gh)
	var l logs
	got, err := GitHub(context.Background(), GitHubOptions{
		Token: testToken, APIURL: gh.apiURL(), HTTPClient: gh.srv.Client(),
		Owner: owner, Repo: repoName_, Number: prNumber, Dir: f.repo.Dir, Logf: l.logf,
	})
	if err != nil {
		t.Fatal(err)
	}
	gh.verify()
	if len(got.Commits) != n {
		t.Fatalf("%d commits, want all %d", len(got.Commits), n)
	}
	if got.Commits[0].Subject != "Step 1" || got.Commits[n-1].Subject != "Step 300" || got.Commits[n-1].SHA != head {
		t.Errorf("commits run %q..%q ending at %s, want Step 1..Step 300 oldest first ending at the head", got.Commits[0].Subject, got.Commits[n-1].Subject, got.Commits[n-1].SHA)
	}
	if !l.has("300 commits, more than the API's 250") {
		t.Errorf("the log does not say why commits come from git:\n%s", &l)
	}
}

func TestFindSticky(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		botLogin  string
		extra     bool
		wantID    int64
		wantRound int
		wantErr   bool
	}{
		{name: "our newest comment wins over an older one and a forged newer one", botLogin: "", wantID: 3, wantRound: 2},
		{name: "the marker counts only from the expected login", botLogin: "mallory", wantID: 4, wantRound: 9},
		{name: "a login with no marked comment finds nothing", botLogin: "my-app[bot]"},
		{name: "a broken marker returns the comment and an error", botLogin: "", extra: true, wantID: 7, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			items := issueCommentItems(t)
			if tt.extra {
				c := clone(t, items[2].(map[string]any))
				c["id"] = 7
				c["created_at"] = "2011-05-01T00:00:00Z"
				c["body"] = review.MarkerPrefix + "%%% -->"
				items = append(items, c)
			}
			gh := newFakeGitHub(t, testToken)
			gh.on("GET", issuePath("/comments"), func(w http.ResponseWriter, r *http.Request) { paginate(w, r, items) })
			c, err := NewClient(gh.srv.Client(), gh.apiURL(), testToken)
			if err != nil {
				t.Fatal(err)
			}
			comment, st, err := FindSticky(context.Background(), c, owner, repoName_, prNumber, tt.botLogin)
			gh.verify()
			if (err != nil) != tt.wantErr {
				t.Fatalf("error %v, want error %v", err, tt.wantErr)
			}
			if tt.wantID == 0 {
				if comment != nil || st != nil {
					t.Errorf("found comment %d, want none", comment.GetID())
				}
				return
			}
			if comment.GetID() != tt.wantID {
				t.Errorf("comment %d, want %d", comment.GetID(), tt.wantID)
			}
			if tt.wantErr {
				if st != nil {
					t.Errorf("state %+v from a broken marker", st)
				}
				return
			}
			if st == nil || st.Round != tt.wantRound {
				t.Errorf("state %+v, want round %d", st, tt.wantRound)
			}
		})
	}
}

func TestGitHubKeepsCommentsWhenGraphQLAnswersWithErrors(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.write("a.txt", "a\n")
	base := f.commit("base")
	f.write("a.txt", "b\n")
	head := f.commit("head")
	gh := newFakeGitHub(t, testToken)
	gh.on("GET", prPath(""), func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, prJSON(t, base, head, 1, 1, ""))
	})
	commits := commitItems(t, 1)
	gh.on("GET", prPath("/commits"), func(w http.ResponseWriter, r *http.Request) { paginate(w, r, commits) })
	issue, reviewc := issueCommentItems(t), reviewCommentItems(t)
	gh.on("GET", issuePath("/comments"), func(w http.ResponseWriter, r *http.Request) { paginate(w, r, issue) })
	gh.on("GET", prPath("/comments"), func(w http.ResponseWriter, r *http.Request) { paginate(w, r, reviewc) })
	gh.onRaw("POST", "/api/graphql", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"data": nil, "errors": []any{map[string]any{
			"type": "FORBIDDEN", "path": []any{"repository"}, "message": "Resource not accessible by integration"}}})
	})
	var l logs
	got, err := GitHub(context.Background(), GitHubOptions{
		Token: testToken, APIURL: gh.apiURL(), HTTPClient: gh.srv.Client(),
		Owner: owner, Repo: repoName_, Number: prNumber, Dir: f.repo.Dir, Logf: l.logf,
	})
	if err != nil {
		t.Fatal(err)
	}
	gh.verify()
	if len(got.Comments) != len(wantComments) {
		t.Fatalf("%d comments, want %d", len(got.Comments), len(wantComments))
	}
	for _, c := range got.Comments {
		if c.Resolved || c.Outdated || c.ThreadID != "" {
			t.Errorf("comment %s marked %+v without thread data", c.URL, c)
		}
	}
	if !l.has("Resource not accessible by integration") {
		t.Errorf("the log does not carry GraphQL's error:\n%s", &l)
	}
}

func TestNewClientSendsTheTokenToTheAPIHostOnly(t *testing.T) {
	t.Parallel()
	var other http.Header
	elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		other = r.Header.Clone()
		writeJSON(w, http.StatusOK, loadFixture(t, "pulls-get.json"))
	}))
	defer elsewhere.Close()
	gh := newFakeGitHub(t, testToken)
	gh.on("GET", prPath(""), func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, elsewhere.URL+"/moved", http.StatusFound)
	})
	c, err := NewClient(gh.srv.Client(), gh.apiURL(), testToken)
	if err != nil {
		t.Fatal(err)
	}
	if got := c.BaseURL.String(); got != gh.apiURL()+"/" {
		t.Errorf("BaseURL = %s, want the enterprise API %s/", got, gh.apiURL())
	}
	if _, _, err := c.PullRequests.Get(context.Background(), owner, repoName_, prNumber); err != nil {
		t.Fatal(err)
	}
	gh.verify()
	if other == nil {
		t.Fatal("the redirect was not followed")
	}
	if a := other.Get("Authorization"); a != "" {
		t.Errorf("the other host got Authorization %q", a)
	}
}

func TestClientURLs(t *testing.T) {
	t.Parallel()
	c, err := NewClient(nil, "", "")
	if err != nil || c.BaseURL.String() != "https://api.github.com/" {
		t.Errorf("default BaseURL = %v, %v", c.BaseURL, err)
	}
	c, err = NewClient(nil, "https://ghe.example.com/api/v3", "")
	if err != nil || c.BaseURL.String() != "https://ghe.example.com/api/v3/" || c.UploadURL.String() != "https://ghe.example.com/api/uploads/" {
		t.Errorf("GHES URLs = %v %v, %v", c.BaseURL, c.UploadURL, err)
	}
	if _, err := NewClient(nil, "ghe.example.com", ""); err == nil || !strings.Contains(err.Error(), "GITHUB_API_URL") {
		t.Errorf("a URL without a scheme: %v, want an error naming GITHUB_API_URL", err)
	}
	for in, want := range map[string]string{
		"":                               "https://api.github.com/graphql",
		"https://api.github.com":         "https://api.github.com/graphql",
		"https://ghe.example.com/api/v3": "https://ghe.example.com/api/graphql",
	} {
		if got := GraphQLURL(in); got != want {
			t.Errorf("GraphQLURL(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestGitHubWaitsOutASecondaryRateLimit(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.write("a.txt", "a\n")
	base := f.commit("base")
	f.write("a.txt", "b\n")
	head := f.commit("head")
	gh := newFakeGitHub(t, testToken)
	var mu sync.Mutex
	asked := 0
	gh.on("GET", prPath(""), func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		asked++
		first := asked == 1
		mu.Unlock()
		if first {
			w.Header().Set("Retry-After", "1")
			writeJSON(w, http.StatusForbidden, map[string]any{
				"message":           "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
				"documentation_url": "https://docs.github.com/free-pro-team@latest/rest/overview/resources-in-the-rest-api#secondary-rate-limits"})
			return
		}
		writeJSON(w, http.StatusOK, prJSON(t, base, head, 1, 1, ""))
	})
	commits := commitItems(t, 1)
	gh.on("GET", prPath("/commits"), func(w http.ResponseWriter, r *http.Request) { paginate(w, r, commits) })
	serveFeedback(t, gh)
	var waits []time.Duration
	got, err := GitHub(context.Background(), GitHubOptions{
		Token: testToken, APIURL: gh.apiURL(), HTTPClient: gh.srv.Client(),
		Owner: owner, Repo: repoName_, Number: prNumber, Dir: f.repo.Dir,
		// go-github itself refuses calls until Retry-After passes, so the
		// wait must be real.
		Sleep: func(ctx context.Context, d time.Duration) error { waits = append(waits, d); return sleepCtx(ctx, d) },
	})
	if err != nil {
		t.Fatal(err)
	}
	gh.verify()
	if asked != 2 || len(waits) != 1 || waits[0] != time.Second {
		t.Errorf("asked %d times with waits %v; want one retry after the 1s Retry-After", asked, waits)
	}
	if got.HeadSHA != head {
		t.Errorf("HeadSHA = %s, want %s", got.HeadSHA, head)
	}
}

func TestIsFork(t *testing.T) {
	t.Parallel()
	same := loadFixture(t, "pulls-get.json")
	fork := clone(t, same)
	headRepo := obj(obj(fork, "head"), "repo")
	headRepo["full_name"], headRepo["fork"] = "someone/Hello-World", true
	for _, tt := range []struct {
		name string
		pr   map[string]any
		want bool
	}{
		{"the fixture's head is in the base repository", same, false},
		{"a head in another repository is a fork", fork, true},
	} {
		var p github.PullRequest
		data, _ := json.Marshal(tt.pr)
		if err := json.Unmarshal(data, &p); err != nil {
			t.Fatal(err)
		}
		if got := IsFork(&p); got != tt.want {
			t.Errorf("%s: IsFork = %v, want %v", tt.name, got, tt.want)
		}
	}
}
