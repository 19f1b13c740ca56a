package pr

import (
	"context"
	"fmt"
	"strings"

	"github.com/google/go-github/v60/github"

	"github.com/deepreview/deep-review/review"
)

// StickyComments sorts a pull request's comments with
// review.RecogniseSticky: ours (newest first, each with its state, so [0]
// is the one to read and edit) and the suspects, comments by the bot login
// that carry a marker but are not our sticky comment and must be left
// alone. target.BotLogin "" is github-actions[bot].
func StickyComments(comments []*github.IssueComment, target review.StickyTarget) (ours []review.Sticky, suspects []review.Suspect) {
	if target.BotLogin == "" {
		target.BotLogin = review.DefaultBotLogin
	}
	posted := make([]review.PostedComment, 0, len(comments))
	for _, c := range comments {
		if c == nil {
			continue
		}
		posted = append(posted, review.PostedComment{ID: c.GetID(), Login: c.GetUser().GetLogin(), Body: c.GetBody(), Created: c.GetCreatedAt().Time, URL: c.GetHTMLURL()})
	}
	return review.RecogniseSticky(posted, target)
}

// SuspectError lists comments that look like deep-review's but failed its
// checks; they were ignored. It is a warning: the result it comes with is
// still good.
type SuspectError struct {
	Suspects []review.Suspect
}

func (e *SuspectError) Error() string {
	var parts []string
	for _, s := range e.Suspects {
		parts = append(parts, fmt.Sprintf("comment %d by %s (%s)", s.ID, s.Login, s.Reason))
	}
	return "ignored comments that carry a deep-review marker but are not its sticky comment: " + strings.Join(parts, "; ")
}

// FindStickyKeyed lists the pull request's conversation comments and
// returns our newest sticky comment with the state it carries (declines
// ticked since included); nil, nil, nil when there is none. Ours is what
// review.RecogniseSticky accepts for owner/repo#number, botLogin ("" is
// github-actions[bot]) and stateKey (the state-key secret; "" accepts
// unsigned markers). When other comments carry a marker but fail the
// checks, the result comes with a *SuspectError naming them.
func FindStickyKeyed(ctx context.Context, client *github.Client, owner, repo string, number int, botLogin, stateKey string) (*github.IssueComment, *review.State, error) {
	direct := func(_ string, fn func() (*github.Response, error)) error {
		_, err := fn()
		return err
	}
	comments, err := listIssueComments(ctx, owner, repo, number, direct, client)
	if err != nil {
		return nil, nil, fmt.Errorf("list comments of %s/%s#%d: %w", owner, repo, number, err)
	}
	ours, suspects := StickyComments(comments, stickyTarget(owner, repo, number, botLogin, stateKey))
	var warn error
	if len(suspects) > 0 {
		warn = &SuspectError{Suspects: suspects}
	}
	if len(ours) == 0 {
		return nil, nil, warn
	}
	for _, c := range comments {
		if c != nil && c.GetID() == ours[0].ID {
			st := ours[0].State
			return c, &st, warn
		}
	}
	return nil, nil, warn
}

func stickyTarget(owner, repo string, number int, botLogin, stateKey string) review.StickyTarget {
	t := review.StickyTarget{Repo: owner + "/" + repo, Number: number, BotLogin: botLogin}
	if stateKey != "" {
		t.Key = []byte(stateKey)
	}
	return t
}
