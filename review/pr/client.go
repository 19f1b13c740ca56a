package pr

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/google/go-github/v60/github"

	"github.com/deepreview/deep-review/review/ghclient"
)

// DefaultAPIURL is GitHub.com's REST API.
//
// Deprecated: use ghclient.DefaultAPIURL.
const DefaultAPIURL = ghclient.DefaultAPIURL

// NewClient makes a go-github client through ghclient.New: the token goes to
// apiURL's host and extraHosts only, and every request is deadline-bound and
// retried under ghclient's default policy.
//
// Deprecated: call ghclient.New, which also takes the retry policy.
func NewClient(httpClient *http.Client, apiURL, token string, extraHosts ...string) (*github.Client, error) {
	return ghclient.New(ghclient.Options{APIURL: apiURL, Token: token, ExtraHosts: extraHosts, HTTPClient: httpClient})
}

// GraphQLURL is the GraphQL endpoint that goes with a REST API URL.
//
// Deprecated: use ghclient.GraphQLURL.
func GraphQLURL(apiURL string) string { return ghclient.GraphQLURL(apiURL) }

// Call makes one GitHub API call and wraps its error with what. Retries,
// rate-limit waits and deadlines are the client's transport's (ghclient);
// logf and sleep are no longer used.
//
// Deprecated: call the client directly and wrap the error.
func Call(ctx context.Context, what string, logf func(format string, args ...any), sleep func(context.Context, time.Duration) error, fn func() (*github.Response, error)) error {
	if _, err := fn(); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// statusOf is the HTTP status of a go-github error or of a request the
// transport gave up on, or 0.
func statusOf(err error) int {
	var er *github.ErrorResponse
	if errors.As(err, &er) && er.Response != nil {
		return er.Response.StatusCode
	}
	return ghclient.StatusOf(err)
}
