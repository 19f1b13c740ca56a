package cli

import (
	"context"
	"fmt"
	"net/http"

	"github.com/google/go-github/v60/github"

	"github.com/deepreview/deep-review/review/config"
	"github.com/deepreview/deep-review/review/git"
	"github.com/deepreview/deep-review/review/pr"
)

// localConfig reads the config file as it is at the base revision of a
// local checkout; (nil, nil) when there is none. The head never counts: a
// pull request must not change the rules of its own review.
func localConfig(ctx context.Context, dir, base, path string) (*config.Config, error) {
	if path == "" {
		return nil, nil
	}
	cfg, err := config.FromBase(ctx, git.Repo{Dir: dir}, base, path)
	if err != nil {
		return nil, fmt.Errorf("config file: %w", err)
	}
	return cfg, nil
}

// remoteConfig reads the config file at the base of pull request number:
// from the checkout in dir when it holds the base commit, else through the
// contents API at that commit.
func remoteConfig(ctx context.Context, client *github.Client, owner, repo string, number int, dir, path string) (*config.Config, error) {
	if path == "" || client == nil {
		return nil, nil
	}
	var p *github.PullRequest
	err := pr.Call(ctx, fmt.Sprintf("config file: read pull request #%d", number), nil, nil, func() (resp *github.Response, err error) {
		p, resp, err = client.PullRequests.Get(ctx, owner, repo, number)
		return resp, err
	})
	if err != nil {
		return nil, err
	}
	base := p.GetBase().GetSHA()
	if dir != "" && isGitCheckout(dir) && (git.Repo{Dir: dir}).HasCommit(ctx, base) {
		return localConfig(ctx, dir, base, path)
	}
	var file *github.RepositoryContent
	var resp *github.Response
	err = pr.Call(ctx, fmt.Sprintf("config file %s at %.7s", path, base), nil, nil, func() (*github.Response, error) {
		var err error
		file, _, resp, err = client.Repositories.GetContents(ctx, owner, repo, path, &github.RepositoryContentGetOptions{Ref: base})
		return resp, err
	})
	if resp != nil && resp.StatusCode == http.StatusNotFound {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if file == nil {
		return nil, fmt.Errorf("config file %s at %.7s is a directory", path, base)
	}
	text, err := file.GetContent()
	if err != nil {
		return nil, fmt.Errorf("config file %s: %w", path, err)
	}
	cfg, err := config.Parse([]byte(text), path)
	if err != nil {
		return nil, fmt.Errorf("config file (read from the base branch): %w", err)
	}
	return cfg, nil
}
