package cli

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/deepreview/deep-review/review"
	"github.com/deepreview/deep-review/review/internal/fakegithub"
)

// End-to-end tests of issue 15's inline review comments through run(),
// against the shared fake GitHub, which checks every review comment against
// the PR's diff hunks (the workspace's git diff) as GitHub does. One
// scripted reviewer (testdata/inline, no model wrote it) reports on the demo
// repository's head:
//   - I1 important, store.go:50, with a one-hunk patch of that line:
//     inline, as a suggestion block;
//   - important, store.go:36-37 (Put), lines no hunk holds: not inline;
//   - suggestion, janitor.go: below inline-comments' important.

// inlineEnv is a pull_request run with the scripted reviewer of round 1.
func inlineEnv(t *testing.T, extra map[string]string) *actionEnv {
	t.Helper()
	env := map[string]string{"INPUT_INLINE-COMMENTS": "important", "INPUT_MAX-INLINE-COMMENTS": "20"}
	for k, v := range extra {
		env[k] = v
	}
	a := newActionEnv(t, "pull_request", "pull_request.opened.json", env)
	a.setSession(t, "round1.json")
	return a
}

func (a *actionEnv) setSession(t *testing.T, name string) {
	t.Helper()
	p, err := filepath.Abs(filepath.Join("testdata/inline", name))
	if err != nil {
		t.Fatal(err)
	}
	a.env["INPUT_REVIEWERS"] = "replay:" + p
}

func (a *actionEnv) mustRun(t *testing.T, what string) (string, string) {
	t.Helper()
	stdout, stderr, err := runCLI(t, a.env)
	if err != nil {
		t.Fatalf("%s: %v\nstdout:\n%s\nstderr:\n%s", what, err, stdout, stderr)
	}
	return stdout, stderr
}

// findingLine is the meta line under a finding's heading in the sticky
// comment.
func findingLine(t *testing.T, body, id string) string {
	t.Helper()
	i := strings.Index(body, "#### "+id+": ")
	if i < 0 {
		t.Fatalf("the sticky comment has no finding %s:\n%s", id, body)
	}
	lines := strings.SplitN(body[i:], "\n", 4)
	return lines[2]
}

// The IDs the run gives the scripted findings: I1 is Put (store.go:36),
// I2 the expiry (store.go:50), S1 the janitor.
const (
	putID, expiryID, janitorID = "I1", "I2", "S1"
	expiryFix                  = "\tif !l.Expires.IsZero() && s.now().After(l.Expires) {"
)

func TestInlineReviewPostsOneCommentOnTheChangedLineWithASuggestion(t *testing.T) {
	a := inlineEnv(t, nil)
	head := a.gh.Head(2)
	stdout, _ := a.mustRun(t, "round 1")
	reviews := a.gh.Reviews(2)
	if len(reviews) != 1 || reviews[0].Event != "COMMENT" || reviews[0].CommitID != head || reviews[0].Comments != 1 {
		t.Fatalf("reviews = %+v, want one COMMENT review on %s with one comment", reviews, head)
	}
	threads := a.gh.Threads(2)
	if len(threads) != 1 {
		t.Fatalf("%d threads, want 1: %+v", len(threads), threads)
	}
	th := threads[0]
	if th.Path != "store.go" || th.Line != 50 || th.StartLine != 0 {
		t.Errorf("comment on %s:%d (start %d), want store.go:50 alone", th.Path, th.Line, th.StartLine)
	}
	// The fake fails the test on a side other than RIGHT or a position.
	body := th.Comments[0].Body
	if !strings.Contains(body, "```suggestion\n"+expiryFix+"\n```") {
		t.Errorf("the comment has no suggestion block holding the patch's new line:\n%s", body)
	}
	sticky := a.stickyBody(t)
	fp, ok := review.FindingFromMarker(body)
	state, _, err := review.ParseState(sticky)
	if !strings.HasPrefix(body, "**"+expiryID+" · important**") || strings.Count(body, review.FindingMarkerPrefix) != 1 || !ok || err != nil || state.IDs[fp] != expiryID {
		t.Errorf("the comment is not %s's or lacks its one marker (fingerprint %q is %q in the state):\n%s", expiryID, fp, state.IDs[fp], body)
	}
	link := a.gh.CommentURL("Codertocat", "Hello-World", 2, th.Comments[0].ID)
	if l := findingLine(t, sticky, expiryID); !strings.Contains(l, "[inline comment]("+link+")") {
		t.Errorf("the sticky comment does not link %s to its thread %s: %q", expiryID, link, l)
	}
	if l := findingLine(t, sticky, putID); !strings.Contains(l, "not on a changed line") || strings.Contains(l, "inline comment](") {
		t.Errorf("%s (outside the hunks) is not listed as not on a changed line: %q", putID, l)
	}
	if l := findingLine(t, sticky, janitorID); strings.Contains(l, "inline comment](") {
		t.Errorf("the suggestion %s was posted inline: %q", janitorID, l)
	}
	out := a.outputs(t)
	wantURL := fmt.Sprintf("https://github.example/Codertocat/Hello-World/pull/2#pullrequestreview-%d", reviews[0].ID)
	if out["review-url"] != wantURL || out["inline-comments"] != "1" {
		t.Errorf("outputs review-url %q, inline-comments %q; want %q and 1", out["review-url"], out["inline-comments"], wantURL)
	}
	if strings.Contains(stdout, "::warning::deep-review: inline") || strings.Contains(stdout, "::warning::inline") {
		t.Errorf("a warning about inline comments:\n%s", stdout)
	}
}

func TestInlineThreadsFollowTheRounds(t *testing.T) {
	// suggestion: S1 (janitor.go, an added file) goes inline too, so one
	// thread is resolved in round 2 and the other kept.
	a := inlineEnv(t, map[string]string{"INPUT_INLINE-COMMENTS": "suggestion"})
	a.mustRun(t, "round 1")
	first := a.gh.Threads(2)
	if len(first) != 2 || len(a.gh.Reviews(2)) != 1 {
		t.Fatalf("round 1: %d threads in %d reviews, want 2 in 1: %+v", len(first), len(a.gh.Reviews(2)), first)
	}
	byFile := func(ths []fakegithub.Thread, path string) fakegithub.Thread {
		t.Helper()
		var out []fakegithub.Thread
		for _, th := range ths {
			if th.Path == path {
				out = append(out, th)
			}
		}
		if len(out) != 1 {
			t.Fatalf("%d threads on %s, want 1: %+v", len(out), path, ths)
		}
		return out[0]
	}

	// Round 2: the author fixes the expiry; the reviewer reports the rest.
	head := a.pushFix(t)
	a.setSession(t, "round2.json")
	a.mustRun(t, "round 2")
	second := a.gh.Threads(2)
	if len(second) != 2 || len(a.gh.Reviews(2)) != 1 {
		t.Fatalf("round 2: %d threads, %d reviews; want the 2 threads of round 1 and no new review (nothing posted twice)", len(second), len(a.gh.Reviews(2)))
	}
	fixed := byFile(second, "store.go")
	want := "Addressed in `" + head[:7] + "`, round 2."
	if !fixed.Resolved || len(fixed.Comments) != 2 || fixed.Comments[1].Body != want {
		t.Errorf("the fixed finding's thread: resolved %v, comments %+v; want resolved with the reply %q", fixed.Resolved, fixed.Comments, want)
	}
	open := byFile(second, "janitor.go")
	if open.Resolved || len(open.Comments) != 1 || open.ID != byFile(first, "janitor.go").ID {
		t.Errorf("the open finding's thread changed: %+v", open)
	}
	if out := a.outputs(t); out["inline-comments"] != "1" {
		t.Errorf("inline-comments = %q after round 2, want 1 (the janitor's thread)", out["inline-comments"])
	}
	if l := findingLine(t, a.stickyBody(t), janitorID); !strings.Contains(l, "[inline comment]("+a.gh.CommentURL("Codertocat", "Hello-World", 2, open.Comments[0].ID)+")") {
		t.Errorf("round 2's sticky comment does not link %s to its kept thread: %q", janitorID, l)
	}

	// Round 3, nothing new: nothing is posted, replied or resolved.
	calls := len(a.gh.Calls())
	a.mustRun(t, "round 3")
	third := a.gh.Threads(2)
	if len(third) != 2 || len(a.gh.Reviews(2)) != 1 || byFile(third, "janitor.go").Resolved || len(byFile(third, "store.go").Comments) != 2 || len(byFile(third, "janitor.go").Comments) != 1 {
		t.Errorf("round 3 changed the threads or posted a review: %+v, %d reviews", third, len(a.gh.Reviews(2)))
	}
	for _, c := range a.gh.Calls()[calls:] {
		if strings.HasSuffix(c, "/reviews") {
			t.Errorf("round 3 posted a review: %s", c)
		}
	}
	if len(a.comments()) != 1 {
		t.Errorf("%d issue comments after three rounds, want the one sticky comment", len(a.comments()))
	}
}

func TestInlineReviewRefusedByGitHubStillPublishesEveryFinding(t *testing.T) {
	a := inlineEnv(t, nil)
	// GitHub's 422 for a review whose comment it will not take; its body
	// does not say which.
	a.gh.Fail("POST", "/pulls/2/reviews", fakegithub.Fault{Status: 422,
		Body: `{"message":"Unprocessable Entity","errors":["Pull request review thread line must be part of the diff and Pull request review thread diff hunk can't be blank"],"documentation_url":"https://docs.github.com/rest/pulls/reviews#create-a-review-for-a-pull-request","status":"422"}`})
	stdout, _ := a.mustRun(t, "a refused review") // exit 0
	if left := a.gh.PendingFaults(); len(left) != 0 {
		t.Fatalf("the 422 was never served: %v", left)
	}
	sticky := a.stickyBody(t)
	for _, id := range []string{putID, expiryID, janitorID} {
		if l := findingLine(t, sticky, id); strings.Contains(l, "inline comment](") {
			t.Errorf("%s links an inline comment GitHub refused: %q", id, l)
		}
	}
	if len(a.gh.Threads(2)) != 0 {
		t.Errorf("threads after a refused review: %+v", a.gh.Threads(2))
	}
	var warning string
	for _, line := range strings.Split(stdout, "\n") {
		if strings.HasPrefix(line, "::warning") && strings.Contains(line, "422") {
			warning = line
		}
	}
	if warning == "" || !strings.Contains(warning, "inline") {
		t.Errorf("no warning saying GitHub refused the inline comments with 422:\n%s", stdout)
	}
	t.Logf("warning: %s", warning)
	if out := a.outputs(t); out["inline-comments"] != "0" {
		t.Errorf("inline-comments = %q, want 0", out["inline-comments"])
	}
}
