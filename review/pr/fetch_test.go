package pr

import (
	"context"
	"encoding/base64"
	"net/http"
	"net/http/cgi"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/deepreview/deep-review/review/git"
)

// bareRemote publishes src as a bare repository in a temp dir, the way
// GitHub serves a pull request: main as a branch, the head only as
// refs/pull/N/head. It allows partial clones.
func bareRemote(t *testing.T, src *fixture, head string) string {
	t.Helper()
	root := t.TempDir()
	dir := filepath.Join(root, "remote.git")
	parent := &fixture{t: t, repo: git.Repo{Dir: root, Env: testIdentity}}
	parent.git("clone", "-q", "--bare", "--", src.repo.Dir, dir)
	bare := &fixture{t: t, repo: git.Repo{Dir: dir, Env: testIdentity}}
	bare.git("symbolic-ref", "HEAD", "refs/heads/main")
	bare.git("update-ref", "refs/pull/1347/head", head)
	bare.git("update-ref", "-d", "refs/heads/feature")
	bare.git("config", "uploadpack.allowFilter", "true")
	bare.git("config", "http.receivepack", "false")
	return dir
}

// cloneOf clones url into a new temp dir with extra clone flags.
func cloneOf(t *testing.T, url string, flags ...string) *fixture {
	t.Helper()
	root := t.TempDir()
	parent := &fixture{t: t, repo: git.Repo{Dir: root, Env: testIdentity}}
	parent.git(append(append([]string{"clone", "-q"}, flags...), "--", url, "checkout")...)
	return &fixture{t: t, repo: git.Repo{Dir: filepath.Join(root, "checkout"), Env: testIdentity}}
}

// assertNoToken fails when the token is anywhere under dir.
func assertNoToken(t *testing.T, dir string) {
	t.Helper()
	b64 := base64.StdEncoding.EncodeToString([]byte("x-access-token:" + testToken))
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if strings.Contains(string(data), testToken) || strings.Contains(string(data), b64) {
			t.Errorf("the token is written in %s", p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// apiFor is a fake GitHub that serves the pull request base..head with the
// given clone URL, its commits and its feedback.
func apiFor(t *testing.T, base, head, cloneURL string) *fakeGitHub {
	t.Helper()
	gh := newFakeGitHub(t, testToken)
	gh.Handle("GET", prPath(""), func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, prJSON(t, base, head, 2, 9, cloneURL))
	})
	commits := commitItems(t, 2)
	gh.Handle("GET", prPath("/commits"), func(w http.ResponseWriter, r *http.Request) { paginate(w, r, commits) })
	serveFeedback(t, gh)
	return gh
}

func TestGitHubFetchesAMissingHeadFromTheRemote(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		flags   []string
		wantLog string
	}{
		{name: "a full clone fetches the head", flags: nil, wantLog: "fetching 1 missing commit"},
		{name: "a shallow clone fetches the head and deepens to the merge base", flags: []string{"--depth=1"}, wantLog: "--deepen=50"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			up, _ := featureRepo(t)
			base, head := up.git("rev-parse", "main"), up.git("rev-parse", "feature")
			bare := bareRemote(t, up, head)
			co := cloneOf(t, "file://"+bare, tt.flags...)
			if co.repo.HasCommit(context.Background(), head) {
				t.Fatal("the checkout already holds the head")
			}
			gh := apiFor(t, base, head, "https://github.com/octocat/Hello-World.git")
			var l logs
			got, err := GitHub(context.Background(), GitHubOptions{
				Token: testToken, APIURL: gh.APIURL(), HTTPClient: gh.Client(),
				Owner: owner, Repo: repoName_, Number: prNumber,
				Dir: co.repo.Dir, CloneURL: "file://" + bare, Logf: l.logf,
			})
			if err != nil {
				t.Fatalf("%v\nlog:\n%s", err, &l)
			}
			gh.Verify()
			want, err := Local(context.Background(), LocalOptions{Dir: up.repo.Dir, Base: base, Head: head})
			if err != nil {
				t.Fatal(err)
			}
			if got.Diff != want.Diff || got.MergeBase != want.MergeBase || len(got.Files) != len(want.Files) {
				t.Errorf("gathered merge base %s with %d files, want %s with %d, as upstream has it", got.MergeBase, len(got.Files), want.MergeBase, len(want.Files))
			}
			if !l.has("fetching 1 missing commit") || !l.has(tt.wantLog) {
				t.Errorf("the log does not say it fetched the head (%q):\n%s", tt.wantLog, &l)
			}
			if cfg := co.git("config", "--list", "--local"); strings.Contains(strings.ToLower(cfg), "extraheader") {
				t.Errorf(".git/config gained an extraheader:\n%s", cfg)
			}
			assertNoToken(t, co.repo.Dir)
		})
	}
}

// gitHTTP serves the bare repositories under root over git's smart HTTP
// protocol (git http-backend), accepting only the token as actions/checkout
// sends it. It counts the requests that carried it.
func gitHTTP(t *testing.T, root string) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	execPath, err := (git.Repo{Dir: root}).Output(context.Background(), "--exec-path")
	if err != nil {
		t.Fatal(err)
	}
	backend := &cgi.Handler{
		Path: filepath.Join(execPath, "git-http-backend"),
		Env: []string{"GIT_PROJECT_ROOT=" + root, "GIT_HTTP_EXPORT_ALL=1",
			"GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null", "HOME=" + t.TempDir()},
	}
	want := "Basic " + base64.StdEncoding.EncodeToString([]byte("x-access-token:"+testToken))
	var authed atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.EqualFold(r.Header.Get("Authorization"), want) {
			w.Header().Set("WWW-Authenticate", `Basic realm="GitHub"`)
			http.Error(w, "Authentication failed", http.StatusUnauthorized)
			return
		}
		authed.Add(1)
		backend.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv, &authed
}

func TestGitHubPartialClonesOverHTTPWithTheTokenInTheEnvironmentOnly(t *testing.T) {
	t.Parallel()
	up, _ := featureRepo(t)
	// A version of a.go between the base and the head: the diff never reads
	// it, blame does.
	up.write("a.go", "package a\n\n// TODO: this old todo is context, not added\nfunc A() int { return 1 }\n\n"+
		"// FIXME: B ignores negative input.\n// It returns zero for them.\nfunc B(n int) int { return n } // not tested with large n\n// C comes later.\n")
	up.commit("Announce C")
	base, head := up.git("rev-parse", "main"), up.git("rev-parse", "feature")
	bare := bareRemote(t, up, head)
	srv, authed := gitHTTP(t, filepath.Dir(bare))
	cloneURL := srv.URL + "/remote.git"
	gh := apiFor(t, base, head, cloneURL)
	cloneDir := t.TempDir()
	var l logs
	got, err := GitHub(context.Background(), GitHubOptions{
		Token: testToken, APIURL: gh.APIURL(), HTTPClient: gh.Client(),
		Owner: owner, Repo: repoName_, Number: prNumber, CloneDir: cloneDir, Logf: l.logf,
	})
	if err != nil {
		t.Fatalf("%v\nlog:\n%s", err, &l)
	}
	gh.Verify()
	if authed.Load() == 0 {
		t.Error("git never sent the token to the git server")
	}
	if filepath.Dir(got.Dir) != cloneDir {
		t.Fatalf("Dir = %s, want a new directory under %s", got.Dir, cloneDir)
	}
	co := &fixture{t: t, repo: git.Repo{Dir: got.Dir}}
	if f := co.git("config", "remote.origin.partialclonefilter"); f != "blob:none" {
		t.Errorf("partialclonefilter = %q, want blob:none", f)
	}
	if h := co.git("rev-parse", "HEAD"); h != head {
		t.Errorf("the clone has %s checked out, want the head %s", h, head)
	}
	data, err := os.ReadFile(filepath.Join(got.Dir, "a.go"))
	if err != nil || !strings.Contains(string(data), "func B") {
		t.Errorf("a.go at head: %q, %v", data, err)
	}
	want, err := Local(context.Background(), LocalOptions{Dir: up.repo.Dir, Base: base, Head: head})
	if err != nil {
		t.Fatal(err)
	}
	if got.Diff != want.Diff || got.MergeBase != want.MergeBase {
		t.Errorf("the partial clone's diff or merge base differs from upstream's")
	}
	if !l.has("partial clone") {
		t.Errorf("the log does not say it cloned:\n%s", &l)
	}
	// The reviewers' tools run git without the token: the history of the
	// changed files must already be in the clone.
	plain := git.Repo{Dir: got.Dir}
	if _, err := plain.Run(context.Background(), "cat-file", "blob", base+":a.go"); err != nil {
		t.Errorf("the base's a.go needs a fetch: %v\nlog:\n%s", err, &l)
	}
	if _, err := plain.Run(context.Background(), "blame", "--porcelain", head, "--", "a.go"); err != nil {
		t.Errorf("blame of a.go needs a fetch: %v", err)
	}
	assertNoToken(t, got.Dir)
}

func TestGitHubRemovesItsCloneWhenTheGatherFails(t *testing.T) {
	t.Parallel()
	up, _ := featureRepo(t)
	base, head := up.git("rev-parse", "main"), up.git("rev-parse", "feature")
	bare := bareRemote(t, up, head)
	gh := newFakeGitHub(t, testToken)
	gh.Handle("GET", prPath(""), func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, prJSON(t, base, head, 2, 9, "file://"+bare))
	})
	commits := commitItems(t, 2)
	gh.Handle("GET", prPath("/commits"), func(w http.ResponseWriter, r *http.Request) { paginate(w, r, commits) })
	gh.Handle("GET", issuePath("/comments"), func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusInternalServerError, map[string]any{"message": "Server Error"})
	})
	cloneDir := t.TempDir()
	_, err := GitHub(context.Background(), GitHubOptions{
		Token: testToken, APIURL: gh.APIURL(), HTTPClient: gh.Client(),
		Owner: owner, Repo: repoName_, Number: prNumber, CloneDir: cloneDir,
	})
	if err == nil || !strings.Contains(err.Error(), "list comments of octocat/Hello-World#1347") {
		t.Fatalf("error %v, want the failed comment listing", err)
	}
	gh.Verify()
	if left, _ := os.ReadDir(cloneDir); len(left) != 0 {
		t.Errorf("the clone is left behind in %s: %v", cloneDir, left)
	}
}

// refusingGitServer stands for the API's clone URL where it must not be
// used: any request fails the test.
func refusingGitServer(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("the API's clone URL was used: %s %s", r.Method, r.URL)
		http.Error(w, "not here", http.StatusNotFound)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/octocat/Hello-World.git"
}

// The scheduled review checks out main and then gathers each stale pull
// request in that workspace: the head is only on origin, as refs/pull/N/head.
func TestGitHubFetchesTheHeadFromTheCheckoutsOrigin(t *testing.T) {
	t.Parallel()
	for _, flags := range [][]string{nil, {"--depth=1"}} {
		t.Run(strings.Join(append([]string{"clone"}, flags...), " "), func(t *testing.T) {
			t.Parallel()
			up, _ := featureRepo(t)
			base, head := up.git("rev-parse", "main"), up.git("rev-parse", "feature")
			bare := bareRemote(t, up, head)
			co := cloneOf(t, "file://"+bare, flags...)
			if co.repo.HasCommit(context.Background(), head) {
				t.Fatal("the checkout already holds the head")
			}
			gh := apiFor(t, base, head, refusingGitServer(t))
			var l logs
			got, err := GitHub(context.Background(), GitHubOptions{
				Token: testToken, APIURL: gh.APIURL(), HTTPClient: gh.Client(),
				Owner: owner, Repo: repoName_, Number: prNumber,
				Dir: co.repo.Dir, Logf: l.logf,
			})
			if err != nil {
				t.Fatalf("%v\nlog:\n%s", err, &l)
			}
			gh.Verify()
			if got.Dir != co.repo.Dir {
				t.Errorf("Dir = %q, want the checkout %q", got.Dir, co.repo.Dir)
			}
			want, err := Local(context.Background(), LocalOptions{Dir: up.repo.Dir, Base: base, Head: head})
			if err != nil {
				t.Fatal(err)
			}
			if got.Diff != want.Diff || got.MergeBase != want.MergeBase {
				t.Errorf("gathered merge base %s, want %s as upstream has it; diff equal: %v", got.MergeBase, want.MergeBase, got.Diff == want.Diff)
			}
			if !l.has("refs/pull/1347/head") {
				t.Errorf("the log does not say it fetched refs/pull/1347/head:\n%s", &l)
			}
			assertNoToken(t, co.repo.Dir)
		})
	}
}

// When neither the checkout's origin nor the API's clone URL gives the head,
// the gather fails instead of handing reviewers a pull request without a
// repository (the fake GitHub serves no files or diff route to fall back on).
func TestGitHubFailsWithoutACheckoutToReview(t *testing.T) {
	t.Parallel()
	up, _ := featureRepo(t)
	base, head := up.git("rev-parse", "main"), up.git("rev-parse", "feature")
	bare := bareRemote(t, up, head)
	(&fixture{t: t, repo: git.Repo{Dir: bare, Env: testIdentity}}).git("update-ref", "-d", "refs/pull/1347/head")
	co := cloneOf(t, "file://"+bare)
	gone := "file://" + filepath.Join(t.TempDir(), "gone.git")
	gh := newFakeGitHub(t, testToken)
	gh.Handle("GET", prPath(""), func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, prJSON(t, base, head, 2, 9, gone))
	})
	var l logs
	got, err := GitHub(context.Background(), GitHubOptions{
		Token: testToken, APIURL: gh.APIURL(), HTTPClient: gh.Client(),
		Owner: owner, Repo: repoName_, Number: prNumber,
		Dir: co.repo.Dir, Logf: l.logf,
	})
	if err == nil {
		t.Fatalf("gathered %s#%d with Dir %q and no head; want an error\nlog:\n%s", got.Repo, got.Number, got.Dir, &l)
	}
	if !strings.Contains(err.Error(), "no checkout to review") || !strings.Contains(err.Error(), "octocat/Hello-World#1347") {
		t.Errorf("error %q does not say the pull request has no checkout to review", err)
	}
	gh.Verify()
}

func TestOriginGetsTheTokenOnlyOnTheCloneURLsHost(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		origin string
		want   bool
	}{
		{"https://github.com/octocat/Hello-World", true},
		{"https://GitHub.com/octocat/Hello-World.git", true},
		{"https://evil.example/octocat/Hello-World.git", false},
		{"http://github.com/octocat/Hello-World.git", false},
		{"git@github.com:octocat/Hello-World.git", false},
	} {
		f := newFixture(t)
		f.git("remote", "add", "origin", tt.origin)
		r, ok := originRemote(context.Background(), f.repo, "https://github.com/octocat/Hello-World.git", testToken)
		if !ok || (r.token != "") != tt.want {
			t.Errorf("origin %s: ok %v, token given %v; want token %v", tt.origin, ok, r.token != "", tt.want)
		}
	}
}
