package cli

import (
	"context"
	"fmt"

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
func remoteConfig(ctx context.Context, client *pr.Client, owner, repo string, number int, dir, path string) (*config.Config, error) {
	if path == "" || client == nil {
		return nil, nil
	}
	base, err := pr.BaseSHA(ctx, client, owner, repo, number, "config file")
	if err != nil {
		return nil, err
	}
	if dir != "" && isGitCheckout(dir) && (git.Repo{Dir: dir}).HasCommit(ctx, base) {
		return localConfig(ctx, dir, base, path)
	}
	text, found, err := pr.FileAt(ctx, client, owner, repo, path, base, "config file")
	if err != nil || !found {
		return nil, err
	}
	cfg, err := config.Parse([]byte(text), path)
	if err != nil {
		return nil, fmt.Errorf("config file (read from the base branch): %w", err)
	}
	return cfg, nil
}
