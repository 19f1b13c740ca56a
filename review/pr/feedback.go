package pr

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/google/go-github/v60/github"

	"github.com/deepreview/deep-review/review"
)

// maxThreadPages bounds the GraphQL paging through review threads (10,000).
const maxThreadPages = 100

// isPerson reports whether a comment's author is a person: not a bot (by
// type or a "[bot]" login), not our bot login, and the body carries no state
// marker (a copy of one of our reports is not feedback).
func isPerson(u *github.User, body, botLogin string) bool {
	login := u.GetLogin()
	switch {
	case login == "":
		return false
	case strings.EqualFold(u.GetType(), "Bot"), strings.HasSuffix(strings.ToLower(login), "[bot]"):
		return false
	case strings.EqualFold(login, botLogin):
		return false
	case strings.Contains(body, review.MarkerPrefix):
		return false
	}
	return true
}

func stamp(t github.Timestamp) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// feedback collects earlier comments by people: the conversation comments
// already listed, and the review comments with their threads' resolution from
// GraphQL. When GraphQL fails the comments still come, unflagged.
func (g *gatherer) feedback(ctx context.Context, p *review.PR, issue []*github.IssueComment) ([]review.Comment, error) {
	out := []review.Comment{}
	for _, c := range issue {
		if !isPerson(c.GetUser(), c.GetBody(), g.opts.BotLogin) {
			continue
		}
		out = append(out, review.Comment{
			Author:     c.GetUser().GetLogin(),
			URL:        c.GetHTMLURL(),
			Body:       c.GetBody(),
			CreatedAt:  stamp(c.GetCreatedAt()),
			IsReviewer: !strings.EqualFold(c.GetUser().GetLogin(), p.Author),
		})
	}

	o, r, n := g.opts.Owner, g.opts.Repo, g.opts.Number
	var threadComments []*github.PullRequestComment
	opt := &github.PullRequestListCommentsOptions{ListOptions: github.ListOptions{PerPage: perPage}}
	for page := 0; page < maxCommentPages; page++ {
		var list []*github.PullRequestComment
		var next int
		err := g.call(ctx, fmt.Sprintf("list review comments of %s/%s#%d", o, r, n), func() (*github.Response, error) {
			var resp *github.Response
			var err error
			list, resp, err = g.c.PullRequests.ListComments(ctx, o, r, n, opt)
			if resp != nil {
				next = resp.NextPage
			}
			return resp, err
		})
		if err != nil {
			return nil, err
		}
		threadComments = append(threadComments, list...)
		if next == 0 {
			break
		}
		opt.Page = next
	}

	threads, err := g.reviewThreads(ctx)
	if err != nil {
		g.logf("cannot read review threads through GraphQL (%v); resolved and outdated threads are not marked", err)
	}
	for _, c := range threadComments {
		if !isPerson(c.GetUser(), c.GetBody(), g.opts.BotLogin) {
			continue
		}
		line := c.GetLine()
		if line == 0 {
			line = c.GetOriginalLine()
		}
		rc := review.Comment{
			Author:     c.GetUser().GetLogin(),
			URL:        c.GetHTMLURL(),
			Body:       c.GetBody(),
			Path:       c.GetPath(),
			Line:       line,
			InThread:   true,
			CreatedAt:  stamp(c.GetCreatedAt()),
			IsReviewer: !strings.EqualFold(c.GetUser().GetLogin(), p.Author),
		}
		if t, ok := threads[c.GetID()]; ok {
			rc.ThreadID, rc.Resolved, rc.Outdated = t.ID, t.IsResolved, t.IsOutdated
		}
		out = append(out, rc)
	}
	sortComments(out)
	return out, nil
}

// thread is a review thread as GraphQL describes it.
type thread struct {
	ID         string `json:"id"`
	IsResolved bool   `json:"isResolved"`
	IsOutdated bool   `json:"isOutdated"`
	Path       string `json:"path"`
	Line       int    `json:"line"`
	Comments   struct {
		Nodes []struct {
			DatabaseID int64 `json:"databaseId"`
		} `json:"nodes"`
	} `json:"comments"`
}

const threadsQuery = `query($owner: String!, $name: String!, $number: Int!, $cursor: String) {
  repository(owner: $owner, name: $name) {
    pullRequest(number: $number) {
      reviewThreads(first: 100, after: $cursor) {
        pageInfo { hasNextPage endCursor }
        nodes {
          id isResolved isOutdated path line
          comments(first: 100) { nodes { databaseId } }
        }
      }
    }
  }
}`

type graphqlRequest struct {
	Query     string         `json:"query"`
	Variables map[string]any `json:"variables"`
}

// GraphQLError is an error GraphQL reports in its body, with HTTP 200.
type GraphQLError struct {
	Messages []string
}

func (e *GraphQLError) Error() string {
	return "graphql: " + strings.Join(e.Messages, "; ")
}

type threadsResponse struct {
	Data struct {
		Repository *struct {
			PullRequest *struct {
				ReviewThreads struct {
					PageInfo struct {
						HasNextPage bool   `json:"hasNextPage"`
						EndCursor   string `json:"endCursor"`
					} `json:"pageInfo"`
					Nodes []thread `json:"nodes"`
				} `json:"reviewThreads"`
			} `json:"pullRequest"`
		} `json:"repository"`
	} `json:"data"`
	Errors []struct {
		Message string `json:"message"`
		Type    string `json:"type"`
	} `json:"errors"`
}

// reviewThreads maps each review comment's database ID to its thread.
func (g *gatherer) reviewThreads(ctx context.Context) (map[int64]thread, error) {
	if g.graphqlURL == "" {
		return nil, fmt.Errorf("no GraphQL URL; set GITHUB_GRAPHQL_URL")
	}
	byComment := map[int64]thread{}
	var cursor *string
	for page := 0; page < maxThreadPages; page++ {
		body := graphqlRequest{Query: threadsQuery, Variables: map[string]any{
			"owner": g.opts.Owner, "name": g.opts.Repo, "number": g.opts.Number, "cursor": cursor,
		}}
		var resp threadsResponse
		err := g.call(ctx, "query review threads", func() (*github.Response, error) {
			req, err := g.c.NewRequest("POST", g.graphqlURL, body)
			if err != nil {
				return nil, err
			}
			resp = threadsResponse{}
			return g.c.Do(ctx, req, &resp)
		})
		if err != nil {
			return nil, err
		}
		if len(resp.Errors) > 0 {
			e := &GraphQLError{}
			for _, m := range resp.Errors {
				e.Messages = append(e.Messages, m.Message)
			}
			return nil, e
		}
		if resp.Data.Repository == nil || resp.Data.Repository.PullRequest == nil {
			return nil, fmt.Errorf("graphql: no pull request %s/%s#%d in the answer", g.opts.Owner, g.opts.Repo, g.opts.Number)
		}
		rt := resp.Data.Repository.PullRequest.ReviewThreads
		for _, t := range rt.Nodes {
			for _, c := range t.Comments.Nodes {
				byComment[c.DatabaseID] = t
			}
		}
		if !rt.PageInfo.HasNextPage || rt.PageInfo.EndCursor == "" {
			break
		}
		end := rt.PageInfo.EndCursor
		cursor = &end
	}
	return byComment, nil
}
