package publish

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-github/v60/github"

	"github.com/deepreview/deep-review/render"
	"github.com/deepreview/deep-review/review"
	"github.com/deepreview/deep-review/review/ghclient"
	"github.com/deepreview/deep-review/review/internal/fakegithub"
)

// Heads of the rounds.
const (
	head1 = "1111111aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	head2 = "2222222bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
	head3 = "3333333ccccccccccccccccccccccccccccccccc"
)

// calcFinding is a finding on testdata/inline's calc.go.
func calcFinding(id string, s review.Severity, title string, start, end int) review.Finding {
	return review.Finding{
		ID: id, Severity: s, Tags: []string{"bug"}, Title: title, File: "calc.go", StartLine: start, EndLine: end,
		Explanation: "It goes wrong when b is zero.", Fix: "Check b first.", Reviewers: []string{"Claude"},
		Citation: review.CitationVerified, Status: review.FindingNew, FirstRound: 1,
		Fingerprint: review.Fingerprint("calc.go", title),
	}
}

// inlineReport is a round's report on the pull request of testdata/inline.
func inlineReport(t *testing.T, round int, head string, fs ...review.Finding) *review.Report {
	rep := report(round, nil)
	rep.PR.HeadSHA = head
	rep.PR.Diff = readTestdata(t, "pr.diff")
	rep.Findings = fs
	return rep
}

// inlineInput publishes rep with the real renderers and inline comments on.
func inlineInput(r *runner, rep *review.Report) Input {
	in := r.input(rep)
	in.Options = Options{Summary: true, Comment: true, Inline: InlineImportant}
	in.Comment = nil
	in.RenderComment = func(links review.Links, maxChars int) []byte {
		rc := *rep
		rc.Links = links
		return render.Comment(&rc, render.Options{MaxBytes: maxChars})
	}
	in.RenderInline = func(f review.Finding, suggestion []string, suggest bool) string {
		return string(render.InlineComment(rep, f, render.InlineFix{Suggest: suggest, Suggestion: suggestion}, render.Options{}))
	}
	return in
}

// sticky is the body of our one sticky comment.
func sticky(t *testing.T, gh *fakeGitHub) string {
	t.Helper()
	cs := gh.Comments()
	if len(cs) != 1 {
		t.Fatalf("%d comments, want one sticky comment", len(cs))
	}
	return cs[0].Body
}

// findingLine is the meta line of the finding with this ID in the sticky
// comment.
func findingLine(t *testing.T, body, id string) string {
	t.Helper()
	i := strings.Index(body, "### "+id+": ")
	if i < 0 {
		t.Fatalf("the sticky comment has no finding %s:\n%s", id, body)
	}
	lines := strings.SplitN(body[i:], "\n", 4)
	return lines[2]
}

func threadsOf(gh *fakeGitHub, fp string) []fakegithub.Thread {
	var out []fakegithub.Thread
	for _, th := range gh.Threads(2) {
		if strings.Contains(th.Comments[0].Body, review.FindingMarker(fp)) {
			out = append(out, th)
		}
	}
	return out
}

var discussionRE = regexp.MustCompile(`https://github\.com/Codertocat/Hello-World/pull/2#discussion_r[0-9]+`)

func TestInlineThreeRounds(t *testing.T) {
	gh := newFakeGitHub(t)
	gh.SetDiff(2, head1, readTestdata(t, "pr.diff"))

	// Round 1: an important finding with a one-hunk patch on a changed
	// line, an important one in a changed file outside the hunks, and a
	// suggestion.
	i1 := calcFinding("I1", review.Important, "Div returns no error for a zero divisor", 7, 8)
	i1.Patch, i1.PatchChecked = readTestdata(t, "replace.patch"), true
	i2 := calcFinding("I2", review.Important, "Sum overflows on large inputs", 14, 14)
	s1 := calcFinding("S1", review.Suggestion, "Max could use the builtin", 23, 27)
	r1 := newRunner(t)
	res := publish(t, r1.publisher(gh, nil), inlineInput(r1, inlineReport(t, 1, head1, i1, i2, s1)))
	if res.ExitCode != 0 {
		t.Fatalf("round 1 exit %d: %v", res.ExitCode, res.Problems)
	}
	reviews := gh.Reviews(2)
	if len(reviews) != 1 || reviews[0].Event != "COMMENT" || reviews[0].CommitID != head1 || reviews[0].Comments != 1 {
		t.Fatalf("round 1 reviews = %+v, want one COMMENT review of the head with one comment", reviews)
	}
	if !strings.Contains(reviews[0].Body, res.CommentURL) {
		t.Errorf("the review body %q does not link the sticky comment %s", reviews[0].Body, res.CommentURL)
	}
	th := threadsOf(gh, i1.Fingerprint)
	if len(th) != 1 || th[0].Path != "calc.go" || th[0].Line != 8 || th[0].StartLine != 0 {
		t.Fatalf("I1's threads = %+v, want one on calc.go line 8", th)
	}
	if !strings.Contains(th[0].Comments[0].Body, "```suggestion\n\treturn q, nil // b != 0\n```") {
		t.Errorf("I1's comment has no suggestion block of the patch's new line:\n%s", th[0].Comments[0].Body)
	}
	body := sticky(t, gh)
	i1URL := gh.CommentURL("Codertocat", "Hello-World", 2, th[0].Comments[0].ID)
	if l := findingLine(t, body, "I1"); !strings.Contains(l, "[inline comment]("+i1URL+")") {
		t.Errorf("I1's line in the sticky comment does not link its thread %s: %q", i1URL, l)
	}
	if l := findingLine(t, body, "I2"); !strings.Contains(l, review.NotOnChangedLine) {
		t.Errorf("I2's line does not say %q: %q", review.NotOnChangedLine, l)
	}
	if !strings.Contains(body, "S1") {
		t.Errorf("the sticky comment lost S1")
	}
	if out := r1.outputs(); out["inline-comments"] != "1" || out["review-url"] != res.ReviewURL || res.ReviewURL == "" {
		t.Errorf("round 1 outputs inline-comments=%q review-url=%q, want 1 and %q", out["inline-comments"], out["review-url"], res.ReviewURL)
	}

	// A person's thread, even one quoting our marker, is never touched.
	human := gh.SeedThread(2, "mona", "calc.go", 7, "Agreed. "+review.FindingMarker(i1.Fingerprint))

	// Round 2: a commit fixes I1; I2 stands; I3 and I4 are new.
	gh.SetDiff(2, head2, readTestdata(t, "pr.diff"))
	i2.Status = review.FindingCarried
	i3 := calcFinding("I3", review.Important, "Max ignores NaN-like sentinels", 22, 23)
	i3.Citation = review.CitationCorrected
	i4 := calcFinding("I4", review.Important, "errUnused is never used", 20, 20)
	rep2 := inlineReport(t, 2, head2, i2, i3, i4)
	rep2.Addressed = []review.Finding{{ID: "I1", Title: i1.Title, File: i1.File, Fingerprint: i1.Fingerprint, Status: "addressed"}}
	r2 := newRunner(t)
	res = publish(t, r2.publisher(gh, nil), inlineInput(r2, rep2))
	if res.ExitCode != 0 {
		t.Fatalf("round 2 exit %d: %v", res.ExitCode, res.Problems)
	}
	th = threadsOf(gh, i1.Fingerprint)
	var ours, theirs []fakegithub.Thread
	for _, x := range th {
		if x.ID == human {
			theirs = append(theirs, x)
		} else {
			ours = append(ours, x)
		}
	}
	if len(ours) != 1 || !ours[0].Resolved || len(ours[0].Comments) != 2 || ours[0].Comments[1].Body != "Addressed in `2222222`, round 2." {
		t.Errorf("I1's thread after the fix = %+v, want it resolved with a reply naming 2222222 and round 2", ours)
	}
	if len(theirs) != 1 || theirs[0].Resolved || len(theirs[0].Comments) != 1 {
		t.Errorf("the person's thread = %+v, want it untouched", theirs)
	}
	if n := len(gh.Reviews(2)); n != 2 {
		t.Fatalf("%d reviews after round 2, want 2", n)
	}
	if th := threadsOf(gh, i2.Fingerprint); len(th) != 0 {
		t.Errorf("I2 got a thread off the changed lines: %+v", th)
	}
	th3 := threadsOf(gh, i3.Fingerprint)
	if len(th3) != 1 || th3[0].StartLine != 22 || th3[0].Line != 23 {
		t.Fatalf("I3's threads = %+v, want one on lines 22-23", th3)
	}
	if out := r2.outputs(); out["inline-comments"] != "2" {
		t.Errorf("round 2 inline-comments = %q, want 2 (I3 and I4)", out["inline-comments"])
	}

	// Round 3: a push moves I3's lines, so its thread goes outdated; I4's
	// thread still stands.
	gh.SetDiff(2, head3, readTestdata(t, "pr.diff"))
	gh.Outdate(2, review.FindingMarker(i3.Fingerprint))
	i3.Status, i3.StartLine, i3.EndLine = review.FindingCarried, 24, 25
	i4.Status = review.FindingCarried
	r3 := newRunner(t)
	res = publish(t, r3.publisher(gh, nil), inlineInput(r3, inlineReport(t, 3, head3, i2, i3, i4)))
	if res.ExitCode != 0 {
		t.Fatalf("round 3 exit %d: %v", res.ExitCode, res.Problems)
	}
	th3 = threadsOf(gh, i3.Fingerprint)
	if len(th3) != 2 {
		t.Fatalf("I3's threads = %+v, want the old and the new one", th3)
	}
	old, moved := th3[0], th3[1]
	if moved.Resolved || moved.StartLine != 24 || moved.Line != 25 {
		t.Errorf("I3's new thread = %+v, want it open on lines 24-25", moved)
	}
	newURL := gh.CommentURL("Codertocat", "Hello-World", 2, moved.Comments[0].ID)
	if !old.Resolved || len(old.Comments) != 2 || !strings.Contains(old.Comments[1].Body, newURL) {
		t.Errorf("I3's old thread = %+v, want it resolved with a reply pointing at %s", old, newURL)
	}
	if th := threadsOf(gh, i4.Fingerprint); len(th) != 1 || th[0].Resolved {
		t.Errorf("I4's threads = %+v, want its one thread kept open", th)
	}
	if reviews := gh.Reviews(2); len(reviews) != 3 || reviews[2].Comments != 1 {
		t.Errorf("reviews = %+v, want a third with only I3's new comment", reviews)
	}
	if l := findingLine(t, sticky(t, gh), "I3"); !strings.Contains(l, newURL) {
		t.Errorf("I3's line does not link its new thread: %q", l)
	}
	if out := r3.outputs(); out["inline-comments"] != "2" {
		t.Errorf("round 3 inline-comments = %q, want 2", out["inline-comments"])
	}
}

func TestInlineKeepsAStandingThreadAndPostsNoReview(t *testing.T) {
	gh := newFakeGitHub(t)
	gh.SetDiff(2, head1, readTestdata(t, "pr.diff"))
	i1 := calcFinding("I1", review.Important, "Div returns no error for a zero divisor", 7, 8)
	r1 := newRunner(t)
	publish(t, r1.publisher(gh, nil), inlineInput(r1, inlineReport(t, 1, head1, i1)))

	gh.SetDiff(2, head2, readTestdata(t, "pr.diff"))
	i1.Status = review.FindingCarried
	r2 := newRunner(t)
	res := publish(t, r2.publisher(gh, nil), inlineInput(r2, inlineReport(t, 2, head2, i1)))
	if n := len(gh.Reviews(2)); n != 1 {
		t.Errorf("%d reviews, want the first round's only", n)
	}
	if th := threadsOf(gh, i1.Fingerprint); len(th) != 1 || th[0].Resolved || len(th[0].Comments) != 1 {
		t.Errorf("I1's threads = %+v, want its one thread kept as it was", th)
	}
	if out := r2.outputs(); out["inline-comments"] != "1" || out["review-url"] != "" || res.ReviewURL != "" {
		t.Errorf("outputs inline-comments=%q review-url=%q, want 1 and none", out["inline-comments"], out["review-url"])
	}
	if l := findingLine(t, sticky(t, gh), "I1"); !discussionRE.MatchString(l) {
		t.Errorf("I1's line does not link its kept thread: %q", l)
	}
}

func TestInlineFallsBackWhenGitHubRefusesTheReview(t *testing.T) {
	gh := newFakeGitHub(t)
	// GitHub's diff has only the first hunk (the head moved under us), so
	// a comment on the second is refused.
	diff := readTestdata(t, "pr.diff")
	gh.SetDiff(2, head1, diff[:strings.LastIndex(diff, "@@ -17")])
	i1 := calcFinding("I1", review.Important, "Div returns no error for a zero divisor", 7, 8)
	i3 := calcFinding("I3", review.Important, "Max ignores NaN-like sentinels", 22, 23)
	r := newRunner(t)
	res := publish(t, r.publisher(gh, nil), inlineInput(r, inlineReport(t, 1, head1, i1, i3)))
	if res.ExitCode != 0 {
		t.Fatalf("exit %d: %v", res.ExitCode, res.Problems)
	}
	if gh.RefusedReviews(2) != 1 {
		t.Errorf("the fake refused %d reviews, want 1", gh.RefusedReviews(2))
	}
	reviews := gh.Reviews(2)
	if len(reviews) != 1 || reviews[0].Comments != 0 || !strings.Contains(reviews[0].Body, res.CommentURL) {
		t.Fatalf("reviews = %+v, want one without comments linking the sticky comment", reviews)
	}
	var warned bool
	for _, c := range r.commands("warning") {
		warned = warned || strings.Contains(c.message, "GitHub refused the review's 2 inline comments (422: Unprocessable Entity: Pull request review thread line must be part of the diff")
	}
	if !warned {
		t.Errorf("no warning says GitHub refused the comments:\n%s", r.stdout.String())
	}
	body := sticky(t, gh)
	for _, id := range []string{"I1", "I3"} {
		if l := findingLine(t, body, id); !strings.Contains(l, ReasonRefused) {
			t.Errorf("%s's line = %q, want %q", id, l, ReasonRefused)
		}
	}
	if out := r.outputs(); out["inline-comments"] != "0" {
		t.Errorf("inline-comments = %q, want 0", out["inline-comments"])
	}
}

func TestInlineOffPostsNothing(t *testing.T) {
	gh := newFakeGitHub(t)
	gh.SetDiff(2, head1, readTestdata(t, "pr.diff"))
	r := newRunner(t)
	in := inlineInput(r, inlineReport(t, 1, head1, calcFinding("I1", review.Important, "Div returns no error", 7, 8)))
	in.Options.Inline = InlineNone
	publish(t, r.publisher(gh, nil), in)
	if n := gh.CallCount("POST /api/graphql") + gh.CallCount("POST /api/v3/repos/Codertocat/Hello-World/pulls"); n != 0 {
		t.Errorf("%d review calls with inline comments off", n)
	}
}

func TestInlineHonoursSeverityAndMaxCount(t *testing.T) {
	gh := newFakeGitHub(t)
	gh.SetDiff(2, head1, readTestdata(t, "pr.diff"))
	c1 := calcFinding("C1", review.Critical, "Div panics on zero", 7, 7)
	c2 := calcFinding("C2", review.Critical, "Max returns the smaller", 24, 25)
	c3 := calcFinding("C3", review.Critical, "Unverified claim", 20, 20)
	c3.Citation = review.CitationUnverified
	s1 := calcFinding("S1", review.Suggestion, "Name the quotient", 7, 7)
	r := newRunner(t)
	in := inlineInput(r, inlineReport(t, 1, head1, s1, c1, c2, c3))
	in.Options.Inline, in.Options.MaxInline = InlineSuggestion, 1
	publish(t, r.publisher(gh, nil), in)
	got := gh.Threads(2)
	if len(got) != 1 || !strings.Contains(got[0].Comments[0].Body, review.FindingMarker(c1.Fingerprint)) {
		t.Fatalf("threads = %+v, want only C1's (most severe first, one at most)", got)
	}
	if l := findingLine(t, sticky(t, gh), "C2"); !strings.Contains(l, ReasonOverLimit) {
		t.Errorf("C2's line = %q, want %q", l, ReasonOverLimit)
	}
}

// The fake refuses what GitHub refuses, with GitHub's words.
func TestFakeGitHubRefusesCommentsGitHubRefuses(t *testing.T) {
	gh := newFakeGitHub(t)
	gh.SetDiff(2, head1, readTestdata(t, "pr.diff"))
	c := ghClient(t, gh, ghclient.Policy{})
	tests := []struct {
		name        string
		start, line int
		want        string
	}{
		{"a line outside the diff", 0, 14, "Pull request review thread line must be part of the diff and Pull request review thread diff hunk can't be blank"},
		{"a start line in another hunk", 8, 20, "Pull request review thread start line must be part of the same hunk as the line."},
		{"a start line equal to the line", 20, 20, "Pull request review thread start line must precede the end line."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dc := &github.DraftReviewComment{Path: github.String("calc.go"), Body: github.String("x"), Line: github.Int(tt.line), Side: github.String("RIGHT")}
			if tt.start > 0 {
				dc.StartLine, dc.StartSide = github.Int(tt.start), github.String("RIGHT")
			}
			_, _, err := c.PullRequests.CreateReview(context.Background(), "Codertocat", "Hello-World", 2, &github.PullRequestReviewRequest{
				CommitID: github.String(head1), Event: github.String("COMMENT"), Comments: []*github.DraftReviewComment{dc},
			})
			var er *github.ErrorResponse
			if !errors.As(err, &er) || er.Response.StatusCode != 422 || len(er.Errors) != 1 || er.Errors[0].Message != tt.want {
				t.Errorf("CreateReview error = %v, want 422 %q", err, tt.want)
			}
		})
	}
}

func TestInlinePostsNothingWhenTheThreadsCannotBeRead(t *testing.T) {
	gh := newFakeGitHub(t)
	gh.SetDiff(2, head1, readTestdata(t, "pr.diff"))
	r := newRunner(t)
	in := inlineInput(r, inlineReport(t, 1, head1, calcFinding("I1", review.Important, "Div returns no error", 7, 8)))
	in.Repo = "Renamed" // GraphQL answers NOT_FOUND
	res := publish(t, r.publisher(gh, nil), in)
	if res.ExitCode != 0 || len(gh.Reviews(2)) != 0 {
		t.Fatalf("exit %d, %d reviews; want 0 and none (posting blind could post a comment twice)", res.ExitCode, len(gh.Reviews(2)))
	}
	var warned bool
	for _, c := range r.commands("warning") {
		warned = warned || strings.Contains(c.message, "Could not resolve to a Repository")
	}
	if !warned {
		t.Errorf("no warning names GraphQL's error:\n%s", r.stdout.String())
	}
	if out := r.outputs(); out["inline-comments"] != "" {
		t.Errorf("inline-comments = %q, want it empty when unknown", out["inline-comments"])
	}
}
