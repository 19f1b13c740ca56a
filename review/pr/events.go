package pr

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/google/go-github/v60/github"
)

// Client is the REST client ghclient.New makes, named here so that callers
// outside pr and publish need not import go-github.
type Client = github.Client

// PullRequestEvent is what a pull_request or pull_request_target event
// says about its pull request.
type PullRequestEvent struct {
	Number int
	// Fork is set when the head lives in another repository (see IsFork).
	Fork bool
	// HeadRepo and BaseRepo are OWNER/NAME.
	HeadRepo, BaseRepo string
}

// DecodePullRequestEvent reads a pull_request or pull_request_target
// payload; it fails when the payload holds no pull request.
func DecodePullRequestEvent(payload []byte) (PullRequestEvent, error) {
	var ev github.PullRequestEvent
	if err := json.Unmarshal(payload, &ev); err != nil || ev.PullRequest == nil {
		return PullRequestEvent{}, errors.New("no pull_request in the payload")
	}
	p := ev.PullRequest
	return PullRequestEvent{
		Number:   p.GetNumber(),
		Fork:     IsFork(p),
		HeadRepo: p.GetHead().GetRepo().GetFullName(),
		BaseRepo: p.GetBase().GetRepo().GetFullName(),
	}, nil
}

// CommentEvent is what an issue_comment event says about its comment.
type CommentEvent struct {
	// Action is created, edited or deleted.
	Action string
	// OnPullRequest is set when the issue commented on is a pull request;
	// Number is its number.
	OnPullRequest bool
	Number        int
	// Body is the comment's text, untrusted.
	Body string
	// Login and UserType are the author's login and account type (User,
	// Bot, Organization).
	Login, UserType string
}

// DecodeCommentEvent reads an issue_comment payload.
func DecodeCommentEvent(payload []byte) (CommentEvent, error) {
	var ev github.IssueCommentEvent
	if err := json.Unmarshal(payload, &ev); err != nil {
		return CommentEvent{}, err
	}
	return CommentEvent{
		Action:        ev.GetAction(),
		OnPullRequest: ev.GetIssue().IsPullRequest(),
		Number:        ev.GetIssue().GetNumber(),
		Body:          ev.GetComment().GetBody(),
		Login:         ev.GetComment().GetUser().GetLogin(),
		UserType:      ev.GetComment().GetUser().GetType(),
	}, nil
}

// Permission returns login's permission on owner/repo: admin, maintain,
// write, triage, read or none.
func Permission(ctx context.Context, client *github.Client, owner, repo, login string) (string, error) {
	perm, _, err := client.Repositories.GetPermissionLevel(ctx, owner, repo, login)
	if err != nil {
		return "", err
	}
	return perm.GetPermission(), nil
}

// CanWrite reports whether a permission Permission returned allows
// changes to the repository.
func CanWrite(permission string) bool {
	switch permission {
	case "admin", "maintain", "write":
		return true
	}
	return false
}

// StalePRs lists, in the API's order, the open, non-draft pull requests of
// owner/repo whose head differs from the head our sticky comment (by
// botLogin, its marker signed with stateKey when that is set) recorded, or
// that have no comment of ours. A pull request whose state cannot be read
// counts as stale; warn hears why (a cancelled context aside).
func StalePRs(ctx context.Context, client *github.Client, owner, repo, botLogin, stateKey string, warn func(number int, err error)) ([]int, error) {
	opts := &github.PullRequestListOptions{State: "open", ListOptions: github.ListOptions{PerPage: 100}}
	var stale []int
	for {
		prs, resp, err := client.PullRequests.List(ctx, owner, repo, opts)
		if err != nil {
			return nil, fmt.Errorf("list open pull requests: %w", err)
		}
		for _, p := range prs {
			if p.GetDraft() {
				continue
			}
			_, state, err := FindStickyKeyed(ctx, client, owner, repo, p.GetNumber(), botLogin, stateKey)
			if err != nil && !errors.Is(err, context.Canceled) {
				warn(p.GetNumber(), err)
			}
			if state == nil || state.HeadSHA != p.GetHead().GetSHA() {
				stale = append(stale, p.GetNumber())
			}
		}
		if resp.NextPage == 0 {
			return stale, nil
		}
		opts.Page = resp.NextPage
	}
}
