package publish

import (
	"strings"
	"testing"

	"github.com/deepreview/deep-review/review"
	"github.com/deepreview/deep-review/review/internal/fakegithub"
)

func TestPublishNeverTouchesAForgedBotComment(t *testing.T) {
	gh, r := newFakeGitHub(t), newRunner(t)
	ours := gh.Seed(2, botLogin, string(commentBody(1, "the real review")))
	// Another workflow posting with GITHUB_TOKEN (a greeter) carries a
	// copied marker; it is newer than ours and by the same login.
	forgedBody := "Thanks for your first pull request!\n\n" + review.EncodeState(review.State{Round: 9, HeadSHA: "evil", Repo: "Codertocat/Hello-World", Number: 2}) + "\n"
	forged := gh.Seed(2, botLogin, forgedBody)

	in := r.input(report(2, nil))
	in.Options.Artifact = false
	res := publish(t, r.publisher(gh, nil), in)

	byID := map[int64]fakegithub.Comment{}
	for _, c := range gh.Comments() {
		byID[c.ID] = c
	}
	if c, ok := byID[forged]; !ok || c.Body != forgedBody {
		t.Errorf("the forged comment %d was edited or deleted: %+v", forged, c)
	}
	if c := byID[ours]; c.Body != string(in.Comment) {
		t.Errorf("our comment %d was not edited in place: %q", ours, c.Body)
	}
	if gh.CallCount("DELETE") != 0 {
		t.Errorf("deleted %d comments, want none", gh.CallCount("DELETE"))
	}
	warned := false
	for _, a := range r.commands("warning") {
		warned = warned || strings.Contains(a.message, "left alone")
	}
	if !warned {
		t.Errorf("no warning about the forged comment; commands:\n%s", r.stdout.String())
	}
	if res.ExitCode != 0 {
		t.Errorf("exit %d, problems %q", res.ExitCode, res.Problems)
	}
}

func TestPublishSignsTheMarkerAndIgnoresUnsignedOnesWithAKey(t *testing.T) {
	gh, r := newFakeGitHub(t), newRunner(t)
	unsigned := gh.Seed(2, botLogin, string(commentBody(1, "written without the key")))
	in := r.input(report(2, nil))
	in.Options.Artifact = false
	in.StateKey = "repository-secret"
	publish(t, r.publisher(gh, nil), in)

	cs := gh.Comments()
	if len(cs) != 2 || cs[0].ID != unsigned || cs[0].Body != string(commentBody(1, "written without the key")) {
		t.Fatalf("comments = %+v, want the unsigned one untouched and a new one", cs)
	}
	ours, _ := review.RecogniseSticky([]review.PostedComment{{ID: cs[1].ID, Login: botLogin, Body: cs[1].Body}},
		review.StickyTarget{Repo: "Codertocat/Hello-World", Number: 2, BotLogin: botLogin, Key: []byte("repository-secret")})
	if len(ours) != 1 {
		t.Errorf("the new comment does not verify with the key:\n%s", cs[1].Body)
	}
	if strings.Contains(r.stdout.String()+r.log.String()+r.readSummary(), "repository-secret") {
		t.Error("the state key reached the log or the summary")
	}
}

func TestPublishAfterEveryReviewerFailedKeepsTheLastReview(t *testing.T) {
	gh, r := newFakeGitHub(t), newRunner(t)
	before := string(commentBody(3, "- [ ] `C1` Findings of round 3\n- [x] `S1` A declined one"))
	id := gh.Seed(2, botLogin, before)

	rep := report(4, nil, review.StatusFailed, review.StatusTimedOut)
	rep.PR.HeadSHA = "abc1234ffffffffffffffffffffffffffffffff"
	rep.Reviewers[0].Error = "401 Unauthorized: invalid x-api-key"
	rep.Verdict = review.Verdict{Decision: review.Merge}
	in := r.input(rep)
	in.Options.Artifact = false
	in.RenderComment = func(review.Links, int) []byte {
		t.Error("the comment was rendered again for a failed attempt")
		return []byte("re-rendered")
	}
	in.ExplainError = strings.ToUpper
	res := publish(t, r.publisher(gh, nil), in)

	cs := gh.Comments()
	if len(cs) != 1 || cs[0].ID != id {
		t.Fatalf("comments = %+v, want comment %d kept", cs, id)
	}
	got := cs[0].Body
	if !strings.HasSuffix(got, strings.SplitN(before, "\n\n", 2)[1]) || !strings.HasPrefix(got, review.CommentHeader(2, 3)) {
		t.Errorf("the last review's body, findings, declines or marker changed:\n%s", got)
	}
	if st, _, _ := review.ParseState(got); st.Round != 3 || st.HeadSHA != "abc" {
		t.Errorf("state = %+v, want round 3 at abc", st)
	}
	if !strings.Contains(got, "attempt at `abc1234` failed") || !strings.Contains(got, "401 UNAUTHORIZED") || !strings.Contains(got, "Reviewer1 timed-out") {
		t.Errorf("no visible failure line with the reason:\n%s", got)
	}
	if res.ExitCode == 0 {
		t.Error("exit 0 after every reviewer failed")
	}
	if v, set := r.outputs()["verdict"]; set {
		t.Errorf("verdict output set to %q; want it not set when no reviewer ended ok", v)
	}
	if res.CommentURL == "" {
		t.Error("no comment URL for the marked comment")
	}
}
