package publish

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/google/go-github/v60/github"

	"github.com/deepreview/deep-review/review"
)

// maxCommentPages bounds the listing of a pull request's comments
// (100 per page).
const maxCommentPages = 100

// shorterBudget is the character budget asked of ShorterComment after GitHub
// rejected a body of n characters: 60,000, or three quarters of n when n
// is already below that (GitHub then counts differently than we do).
func shorterBudget(n int) int {
	const budget = 60000
	if n <= budget {
		return n * 3 / 4
	}
	return budget
}

// publishComment writes the sticky comment and records the outcome.
func (r *run) publishComment(ctx context.Context) {
	in := r.in
	switch {
	case !in.Options.Comment:
		r.skip("sticky comment: the comment input is false")
		return
	case in.Number <= 0:
		r.skip("sticky comment: there is no pull request")
		return
	case r.p.GitHub == nil:
		r.skip("sticky comment: no GitHub token (set the github-token input)")
		return
	case in.Owner == "" || in.Repo == "":
		r.attempted++
		r.problem(fmt.Sprintf("sticky comment on #%d: the repository owner or name is empty", in.Number))
		return
	}
	r.attempted++
	url, err := r.stickyComment(ctx)
	if err != nil {
		r.problem(fmt.Sprintf("sticky comment on %s/%s#%d: %v", in.Owner, in.Repo, in.Number, err))
		return
	}
	r.res.CommentURL = url
	r.done("Sticky comment: " + url)
}

// stickyComment edits our newest sticky comment in place, or creates one,
// and then deletes our older ones. Ours is what review.RecogniseSticky
// accepts (written by BotLogin, deep-review's whole structure, the marker
// naming this pull request and, with a StateKey, signed with it); a
// comment that carries a marker but fails those checks is warned about and
// never edited or deleted. When no reviewer ended ok the comment is not
// rendered again: the last good review keeps its body and state, with one
// line saying the attempt failed. It returns the comment's html_url.
func (r *run) stickyComment(ctx context.Context) (string, error) {
	ours, err := r.ourComments(ctx)
	if err != nil {
		return "", err
	}
	var newest *github.IssueComment
	if len(ours) > 0 {
		newest = ours[0]
	}
	if !r.in.Report.Reviewed() {
		return r.markFailedAttempt(ctx, newest)
	}
	body, shorter := string(r.in.Comment), r.in.ShorterComment
	if render := r.in.RenderComment; render != nil {
		links := review.Links{Run: r.in.RunURL, Artifact: r.res.ArtifactURL, Inline: r.inlineLinks()}
		body = string(render(links, 0))
		shorter = func(maxChars int) []byte { return render(links, maxChars) }
	}
	c, err := r.writeComment(ctx, newest, body)
	if err != nil && tooLong(err) && shorter != nil {
		budget := shorterBudget(utf8.RuneCountInString(body))
		r.logf("GitHub rejected the comment as too long (%d characters); rendering it again in at most %d", utf8.RuneCountInString(body), budget)
		c, err = r.writeComment(ctx, newest, string(shorter(budget)))
		if err == nil {
			r.notes = append(r.notes, fmt.Sprintf("- The comment was too long for GitHub and was rendered again in at most %d characters", budget))
		}
	}
	if err != nil {
		return "", err
	}
	r.sticky = c
	for _, old := range ours[min(1, len(ours)):] {
		id := old.GetID()
		err := r.github(ctx, fmt.Sprintf("delete duplicate comment %d", id), true, func(ctx context.Context) error {
			_, err := r.p.GitHub.Issues.DeleteComment(ctx, r.in.Owner, r.in.Repo, id)
			return err
		})
		if err != nil && !notFound(err) {
			r.problem(fmt.Sprintf("sticky comment: %v", err))
			continue
		}
		r.logf("deleted duplicate comment %d", id)
	}
	return c.GetHTMLURL(), nil
}

// sign adds the StateKey's signature to the body's marker; without a key
// the body is unchanged.
func (r *run) sign(body string) (string, error) {
	if r.in.StateKey == "" {
		return body, nil
	}
	signed, err := review.SignMarker(body, []byte(r.in.StateKey))
	if err != nil {
		return "", fmt.Errorf("sign the comment's state: %w", err)
	}
	return signed, nil
}

// markFailedAttempt adds the line saying this attempt failed to our
// newest sticky comment, keeping the rest of it and its marker exactly;
// with no comment of ours there is no review to keep and nothing is
// written.
func (r *run) markFailedAttempt(ctx context.Context, c *github.IssueComment) (string, error) {
	if c == nil {
		r.logf("every reviewer failed and there is no earlier review comment; writing none")
		return "", nil
	}
	rep := r.in.Report
	body := review.MarkAttemptFailed(c.GetBody(), rep.PR.HeadSHA, review.FailedAttemptReason(rep, r.in.ExplainError))
	if body == c.GetBody() {
		return c.GetHTMLURL(), nil
	}
	out, err := r.writeComment(ctx, c, body)
	if err != nil {
		return "", err
	}
	r.notes = append(r.notes, "- The sticky comment keeps the last good review; a line says this attempt failed")
	return out.GetHTMLURL(), nil
}

// ourComments lists the pull request's comments and returns our sticky
// comments, newest first, as review.RecogniseSticky orders them. Comments
// that carry a marker by BotLogin but fail its checks get a warning.
func (r *run) ourComments(ctx context.Context) ([]*github.IssueComment, error) {
	opts := &github.IssueListCommentsOptions{ListOptions: github.ListOptions{PerPage: 100}}
	var all []*github.IssueComment
	for page := 0; ; page++ {
		if page == maxCommentPages {
			r.logf("stopped listing comments after %d pages", page)
			break
		}
		var cs []*github.IssueComment
		var resp *github.Response
		err := r.github(ctx, "list comments", false, func(ctx context.Context) error {
			var err error
			cs, resp, err = r.p.GitHub.Issues.ListComments(ctx, r.in.Owner, r.in.Repo, r.in.Number, opts)
			return err
		})
		if err != nil {
			return nil, err
		}
		all = append(all, cs...)
		if resp == nil || resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	posted := make([]review.PostedComment, 0, len(all))
	byID := map[int64]*github.IssueComment{}
	for _, c := range all {
		if c == nil {
			continue
		}
		byID[c.GetID()] = c
		posted = append(posted, review.PostedComment{ID: c.GetID(), Login: c.GetUser().GetLogin(), Body: c.GetBody(), Created: c.GetCreatedAt().Time, URL: c.GetHTMLURL()})
	}
	target := review.StickyTarget{Repo: r.in.Owner + "/" + r.in.Repo, Number: r.in.Number, BotLogin: r.in.BotLogin}
	if r.in.StateKey != "" {
		target.Key = []byte(r.in.StateKey)
	}
	sticky, suspects := review.RecogniseSticky(posted, target)
	for _, s := range suspects {
		r.p.Action.Warningf("comment %d by %s carries a deep-review state marker but is not deep-review's sticky comment for %s#%d (%s); left alone", s.ID, s.Login, target.Repo, target.Number, s.Reason)
	}
	ours := make([]*github.IssueComment, 0, len(sticky))
	for _, s := range sticky {
		ours = append(ours, byID[s.ID])
	}
	return ours, nil
}

// writeComment signs body's state marker (with a StateKey) and edits c in
// place, or creates a comment when c is nil or was deleted since it was
// listed. Every write of the sticky comment goes through it, so none can
// leave the marker unsigned.
func (r *run) writeComment(ctx context.Context, c *github.IssueComment, body string) (*github.IssueComment, error) {
	body, err := r.sign(body)
	if err != nil {
		return nil, err
	}
	var out *github.IssueComment
	if c != nil {
		id := c.GetID()
		err := r.github(ctx, fmt.Sprintf("edit comment %d", id), true, func(ctx context.Context) error {
			var err error
			out, _, err = r.p.GitHub.Issues.EditComment(ctx, r.in.Owner, r.in.Repo, id, &github.IssueComment{Body: github.String(body)})
			return err
		})
		if err == nil {
			r.logf("edited comment %d", id)
			return out, nil
		}
		if !notFound(err) {
			return nil, err
		}
		r.logf("comment %d is gone; creating a new one", id)
	}
	err = r.github(ctx, "create comment", true, func(ctx context.Context) error {
		var err error
		out, _, err = r.p.GitHub.Issues.CreateComment(ctx, r.in.Owner, r.in.Repo, r.in.Number, &github.IssueComment{Body: github.String(body)})
		return err
	})
	if err == nil {
		r.logf("created comment %d", out.GetID())
	}
	return out, err
}

// notFound reports whether err is GitHub's 404.
func notFound(err error) bool {
	var er *github.ErrorResponse
	return errors.As(err, &er) && er.Response != nil && er.Response.StatusCode == http.StatusNotFound
}

// tooLong reports whether err is GitHub's 422 for a comment body over the
// limit: {"message":"Validation Failed","errors":[{"field":"body",
// "message":"body is too long (maximum is 65536 characters)",...}]}.
func tooLong(err error) bool {
	var er *github.ErrorResponse
	if !errors.As(err, &er) || er.Response == nil || er.Response.StatusCode != http.StatusUnprocessableEntity {
		return false
	}
	if strings.Contains(strings.ToLower(er.Message), "too long") {
		return true
	}
	for _, e := range er.Errors {
		if strings.Contains(strings.ToLower(e.Message), "too long") {
			return true
		}
	}
	return false
}
