package pr

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/google/go-github/v60/github"

	"github.com/deepreview/deep-review/review"
)

// StickyComments returns the comments that are ours: the body holds
// review.MarkerPrefix and the author's login is botLogin ("" is
// github-actions[bot]), compared without case. A marker in anyone else's
// comment is ignored. The result is newest first (by creation time, then
// ID), so [0] is the one to read and edit and the rest are duplicates.
func StickyComments(comments []*github.IssueComment, botLogin string) []*github.IssueComment {
	if botLogin == "" {
		botLogin = DefaultBotLogin
	}
	var ours []*github.IssueComment
	for _, c := range comments {
		if c == nil || !strings.Contains(c.GetBody(), review.MarkerPrefix) {
			continue
		}
		if !strings.EqualFold(c.GetUser().GetLogin(), botLogin) {
			continue
		}
		ours = append(ours, c)
	}
	sort.SliceStable(ours, func(i, j int) bool {
		ti, tj := ours[i].GetCreatedAt().Time, ours[j].GetCreatedAt().Time
		if !ti.Equal(tj) {
			return ti.After(tj)
		}
		return ours[i].GetID() > ours[j].GetID()
	})
	return ours
}

// FindSticky lists the pull request's conversation comments and returns our
// newest sticky comment with the state it carries; nil, nil, nil when there
// is none. When its marker does not decode, it returns the comment, a nil
// state and the error, so a publisher can still edit it in place.
func FindSticky(ctx context.Context, client *github.Client, owner, repo string, number int, botLogin string) (*github.IssueComment, *review.State, error) {
	direct := func(_ string, fn func() (*github.Response, error)) error {
		_, err := fn()
		return err
	}
	comments, err := listIssueComments(ctx, owner, repo, number, direct, client)
	if err != nil {
		return nil, nil, fmt.Errorf("list comments of %s/%s#%d: %w", owner, repo, number, err)
	}
	ours := StickyComments(comments, botLogin)
	if len(ours) == 0 {
		return nil, nil, nil
	}
	st, _, err := review.StateFromComment(ours[0].GetBody())
	if err != nil {
		return ours[0], nil, fmt.Errorf("comment %s: %w", ours[0].GetHTMLURL(), err)
	}
	return ours[0], &st, nil
}
