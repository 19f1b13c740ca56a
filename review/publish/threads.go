package publish

import (
	"context"
	"fmt"
	"strings"

	"github.com/deepreview/deep-review/review"
)

// maxThreadPages bounds the paging through review threads (5,000).
const maxThreadPages = 50

// botThread is a review thread deep-review opened: its first comment was
// written by the bot login and carries a finding marker.
type botThread struct {
	ID          string
	Fingerprint string
	URL         string
	Path        string
	Line        int
	Resolved    bool
	Outdated    bool
}

const threadsQuery = `query($owner: String!, $name: String!, $number: Int!, $cursor: String) {
  repository(owner: $owner, name: $name) {
    pullRequest(number: $number) {
      reviewThreads(first: 100, after: $cursor) {
        pageInfo { hasNextPage endCursor }
        nodes {
          id isResolved isOutdated path line
          comments(first: 1) { nodes { author { __typename login } body url } }
        }
      }
    }
  }
}`

const replyMutation = `mutation($thread: ID!, $body: String!) {
  addPullRequestReviewThreadReply(input: {pullRequestReviewThreadId: $thread, body: $body}) { comment { url } }
}`

const resolveMutation = `mutation($thread: ID!) {
  resolveReviewThread(input: {threadId: $thread}) { thread { id isResolved } }
}`

type threadsAnswer struct {
	Repository *struct {
		PullRequest *struct {
			ReviewThreads struct {
				PageInfo struct {
					HasNextPage bool   `json:"hasNextPage"`
					EndCursor   string `json:"endCursor"`
				} `json:"pageInfo"`
				Nodes []struct {
					ID         string `json:"id"`
					IsResolved bool   `json:"isResolved"`
					IsOutdated bool   `json:"isOutdated"`
					Path       string `json:"path"`
					Line       *int   `json:"line"`
					Comments   struct {
						Nodes []struct {
							Author *struct {
								Typename string `json:"__typename"`
								Login    string `json:"login"`
							} `json:"author"`
							Body string `json:"body"`
							URL  string `json:"url"`
						} `json:"nodes"`
					} `json:"comments"`
				} `json:"nodes"`
			} `json:"reviewThreads"`
		} `json:"pullRequest"`
	} `json:"repository"`
}

// graphqlAnswer is GraphQL's envelope: data, or errors with HTTP 200.
type graphqlAnswer[T any] struct {
	Data   T `json:"data"`
	Errors []struct {
		Message string `json:"message"`
	} `json:"errors"`
}

// graphqlURL is Publisher.GraphQLURL, or the endpoint that goes with the
// REST client's base URL: https://api.github.com/graphql for GitHub.com,
// https://HOST/api/graphql for GitHub Enterprise Server.
func (r *run) graphqlURL() string {
	if r.p.GraphQLURL != "" {
		return r.p.GraphQLURL
	}
	u := r.p.GitHub.BaseURL
	if u.Host == "api.github.com" {
		return u.Scheme + "://" + u.Host + "/graphql"
	}
	return u.Scheme + "://" + u.Host + "/api/graphql"
}

// graphql runs one query or mutation through the REST client's transport
// (so its token and retries apply) and decodes data into out.
func graphql[T any](ctx context.Context, r *run, what string, mutation bool, query string, vars map[string]any, out *T) error {
	body := map[string]any{"query": query, "variables": vars}
	return r.github(ctx, what, mutation, func(ctx context.Context) error {
		req, err := r.p.GitHub.NewRequest("POST", r.graphqlURL(), body)
		if err != nil {
			return err
		}
		var ans graphqlAnswer[T]
		if _, err := r.p.GitHub.Do(ctx, req, &ans); err != nil {
			return err
		}
		if len(ans.Errors) > 0 {
			msgs := make([]string, len(ans.Errors))
			for i, e := range ans.Errors {
				msgs[i] = e.Message
			}
			return &graphqlError{msgs}
		}
		*out = ans.Data
		return nil
	})
}

// graphqlError is an error GraphQL reports in its body; it is not retried.
type graphqlError struct{ messages []string }

func (e *graphqlError) Error() string { return "graphql: " + strings.Join(e.messages, "; ") }

// isBot reports whether a GraphQL author is the bot login. GraphQL names a
// GitHub App's bot without the "[bot]" REST adds (github-actions, not
// github-actions[bot]).
func isBot(typename, login, botLogin string) bool {
	if strings.EqualFold(login, botLogin) {
		return true
	}
	return typename == "Bot" && strings.EqualFold(login+"[bot]", botLogin)
}

// botThreads reads the pull request's review threads and keeps deep-review's:
// the first comment written by the bot login and holding a finding marker.
// Threads people opened are never returned, so nothing of theirs is
// touched.
func (r *run) botThreads(ctx context.Context) ([]botThread, error) {
	var out []botThread
	var cursor *string
	for page := 0; page < maxThreadPages; page++ {
		var ans threadsAnswer
		err := graphql(ctx, r, "read review threads", false, threadsQuery, map[string]any{
			"owner": r.in.Owner, "name": r.in.Repo, "number": r.in.Number, "cursor": cursor,
		}, &ans)
		if err != nil {
			return nil, err
		}
		if ans.Repository == nil || ans.Repository.PullRequest == nil {
			return nil, fmt.Errorf("read review threads: no pull request %s/%s#%d in the answer", r.in.Owner, r.in.Repo, r.in.Number)
		}
		rt := ans.Repository.PullRequest.ReviewThreads
		for _, n := range rt.Nodes {
			if len(n.Comments.Nodes) == 0 {
				continue
			}
			c := n.Comments.Nodes[0]
			if c.Author == nil || !isBot(c.Author.Typename, c.Author.Login, r.in.BotLogin) {
				continue
			}
			fp, ok := review.FindingFromMarker(c.Body)
			if !ok {
				continue
			}
			t := botThread{ID: n.ID, Fingerprint: fp, URL: c.URL, Path: n.Path, Resolved: n.IsResolved, Outdated: n.IsOutdated}
			if n.Line != nil {
				t.Line = *n.Line
			}
			out = append(out, t)
		}
		if !rt.PageInfo.HasNextPage || rt.PageInfo.EndCursor == "" {
			return out, nil
		}
		end := rt.PageInfo.EndCursor
		cursor = &end
	}
	r.logf("stopped reading review threads after %d pages", maxThreadPages)
	return out, nil
}

// replyAndResolve replies in one of our threads and resolves it, each a
// paced mutation.
func (r *run) replyAndResolve(ctx context.Context, t botThread, body string) error {
	var reply struct{}
	if err := graphql(ctx, r, "reply in review thread "+t.ID, true, replyMutation, map[string]any{"thread": t.ID, "body": body}, &reply); err != nil {
		return err
	}
	var res struct{}
	return graphql(ctx, r, "resolve review thread "+t.ID, true, resolveMutation, map[string]any{"thread": t.ID}, &res)
}
