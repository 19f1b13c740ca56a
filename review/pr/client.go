package pr

import (
	"errors"

	"github.com/google/go-github/v60/github"

	"github.com/deepreview/deep-review/review/ghclient"
)

// statusOf is the HTTP status of a go-github error or of a request the
// transport gave up on, or 0.
func statusOf(err error) int {
	var er *github.ErrorResponse
	if errors.As(err, &er) && er.Response != nil {
		return er.Response.StatusCode
	}
	return ghclient.StatusOf(err)
}
