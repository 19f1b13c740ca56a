package publish

import (
	"testing"

	"github.com/google/go-github/v60/github"

	"github.com/deepreview/deep-review/review/ghclient"
	"github.com/deepreview/deep-review/review/internal/fakegithub"
	"github.com/deepreview/deep-review/review/internal/fakeresults"
)

// The tests publish to the shared fake GitHub (review/internal/fakegithub)
// on PR #2 of Codertocat/Hello-World, and upload to the shared fake
// results service (review/internal/fakeresults).

const (
	ghToken  = "ghs_faketoken"
	botLogin = fakegithub.BotLogin
)

type (
	fakeGitHub  = fakegithub.Server
	fakeResults = fakeresults.Server
)

func newFakeGitHub(t *testing.T) *fakeGitHub {
	t.Helper()
	gh := fakegithub.New(t, fakegithub.Options{Token: ghToken, Repo: "Codertocat/Hello-World"})
	gh.AddPull(fakegithub.PullSpec{Number: 2, Repo: "Codertocat/Hello-World"})
	return gh
}

func newFakeResults(t *testing.T) *fakeResults { return fakeresults.New(t) }

// ghClient is a go-github client for the fake, authenticated with ghToken.
func ghClient(t *testing.T, gh *fakeGitHub, p ghclient.Policy) *github.Client {
	t.Helper()
	c, err := ghclient.New(ghclient.Options{APIURL: gh.APIURL() + "/", Token: ghToken, HTTPClient: gh.Client(), Policy: p})
	if err != nil {
		t.Fatal(err)
	}
	return c
}
