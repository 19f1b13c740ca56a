package pr

import (
	"context"
	"fmt"
	"net/http"

	"github.com/google/go-github/v60/github"
)

// BaseSHA returns the base commit of pull request number; what names the
// read in errors ("config file: read pull request #7: ...").
func BaseSHA(ctx context.Context, client *github.Client, owner, repo string, number int, what string) (string, error) {
	var p *github.PullRequest
	err := Call(ctx, fmt.Sprintf("%s: read pull request #%d", what, number), nil, nil, func() (resp *github.Response, err error) {
		p, resp, err = client.PullRequests.Get(ctx, owner, repo, number)
		return resp, err
	})
	if err != nil {
		return "", err
	}
	return p.GetBase().GetSHA(), nil
}

// FileAt reads path at commit sha through the contents API; found is false
// when there is no such file. what names the file in errors ("config file
// .github/deep-review.yml at 1a2b3c4: ...").
func FileAt(ctx context.Context, client *github.Client, owner, repo, path, sha, what string) (text string, found bool, err error) {
	var file *github.RepositoryContent
	var resp *github.Response
	err = Call(ctx, fmt.Sprintf("%s %s at %.7s", what, path, sha), nil, nil, func() (*github.Response, error) {
		var err error
		file, _, resp, err = client.Repositories.GetContents(ctx, owner, repo, path, &github.RepositoryContentGetOptions{Ref: sha})
		return resp, err
	})
	if resp != nil && resp.StatusCode == http.StatusNotFound {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	if file == nil {
		return "", false, fmt.Errorf("%s %s at %.7s is a directory", what, path, sha)
	}
	text, err = file.GetContent()
	if err != nil {
		return "", false, fmt.Errorf("%s %s: %w", what, path, err)
	}
	return text, true, nil
}
