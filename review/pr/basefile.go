package pr

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/google/go-github/v60/github"

	"github.com/deepreview/deep-review/review/git"
)

// Pull is a pull request as the API gave it, read once per review by Open:
// the config file is read at its base (ReadBase), and GitHub gathers it
// without asking again (GitHubOptions.Pull).
type Pull struct {
	Owner, Repo string
	Number      int
	gp          *github.PullRequest
}

// Open reads pull request number of owner/repo.
func Open(ctx context.Context, client *github.Client, owner, repo string, number int) (*Pull, error) {
	gp, _, err := client.PullRequests.Get(ctx, owner, repo, number)
	if err != nil {
		return nil, fmt.Errorf("get pull request %s/%s#%d: %w", owner, repo, number, err)
	}
	return &Pull{Owner: owner, Repo: repo, Number: number, gp: gp}, nil
}

// BaseSHA is the pull request's base commit.
func (p *Pull) BaseSHA() string { return p.gp.GetBase().GetSHA() }

// ReadBase reads path as it is at the pull request's base commit: from the
// checkout in dir when it holds that commit, else through the contents API.
// found is false when the base has no such file; what names the file in
// errors ("config file").
func (p *Pull) ReadBase(ctx context.Context, client *github.Client, dir, path, what string) (data []byte, found bool, err error) {
	base := p.BaseSHA()
	if dir != "" && IsCheckout(dir) && (git.Repo{Dir: dir}).HasCommit(ctx, base) {
		return ReadAt(ctx, git.Repo{Dir: dir}, base, path)
	}
	text, found, err := FileAt(ctx, client, p.Owner, p.Repo, path, base, what)
	return []byte(text), found, err
}

// IsCheckout reports whether dir is the top of a git checkout.
func IsCheckout(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, ".git"))
	return err == nil
}

// ReadAt reads path as it is in commit rev of repo, whatever the working
// tree or any other commit holds. found is false when the commit has no such
// file; the error says so when the commit itself is missing (fetch it
// first), rev is no revision, the path is outside the repository, or it
// names a directory.
func ReadAt(ctx context.Context, repo git.Repo, rev, path string) (data []byte, found bool, err error) {
	if strings.TrimSpace(rev) == "" || strings.HasPrefix(rev, "-") {
		return nil, false, fmt.Errorf("read %s: %q is not a base revision; pass the base commit's SHA", path, rev)
	}
	if !repo.HasCommit(ctx, rev) {
		if err := ctx.Err(); err != nil {
			return nil, false, fmt.Errorf("read %s: %w", path, err)
		}
		return nil, false, fmt.Errorf("read %s: base commit %s is not in the repository at %s; fetch it first", path, rev, repo.Dir)
	}
	data, err = git.Tree{Repo: repo, Rev: rev, Ctx: ctx}.ReadFile(path)
	if err != nil {
		if _, isGit := errors.AsType[*git.Error](err); !isGit {
			return nil, false, fmt.Errorf("read %s: %w", path, err)
		}
		// The commit exists, so a path missing from it means no file.
		clean := filepath.ToSlash(filepath.Clean(path))
		if _, existsErr := repo.Run(ctx, "cat-file", "-e", rev+":"+clean); existsErr != nil && ctx.Err() == nil {
			return nil, false, nil
		}
		return nil, false, fmt.Errorf("read %s at %s: %w", path, rev, err)
	}
	return data, true, nil
}

// FileAt reads path at commit sha through the contents API; found is false
// when there is no such file. what names the file in errors ("config file
// .github/deep-review.yml at 1a2b3c4: ...").
func FileAt(ctx context.Context, client *github.Client, owner, repo, path, sha, what string) (text string, found bool, err error) {
	file, _, resp, err := client.Repositories.GetContents(ctx, owner, repo, path, &github.RepositoryContentGetOptions{Ref: sha})
	if resp != nil && resp.StatusCode == http.StatusNotFound {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("%s %s at %.7s: %w", what, path, sha, err)
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
