package cli

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/sethvargo/go-githubactions"

	"github.com/deepreview/deep-review/render"
	"github.com/deepreview/deep-review/review"
	"github.com/deepreview/deep-review/review/config"
	"github.com/deepreview/deep-review/review/pr"
	"github.com/deepreview/deep-review/review/publish"
)

// splitRepo splits OWNER/NAME.
func splitRepo(repo string) (string, string, error) {
	owner, name, ok := strings.Cut(repo, "/")
	if !ok || owner == "" || name == "" || strings.Contains(name, "/") {
		return "", "", fmt.Errorf("repository %q: want OWNER/NAME, e.g. octocat/hello-world", repo)
	}
	return owner, name, nil
}

// gatherGitHub reads a pull request through the API, with the diff from the
// checkout in dir when it holds the commits.
func gatherGitHub(ctx context.Context, s config.Settings, f reviewFlags, filters pr.Filters, getenv func(string) string, log io.Writer) (*review.PR, func(), error) {
	owner, name, err := splitRepo(f.repo)
	if err != nil {
		return nil, nil, exitError{code: 2, msg: "--repo: " + err.Error()}
	}
	if s.GitHubToken == "" {
		return nil, nil, exitError{code: 2, msg: "reading a pull request needs a token: set --github-token or GITHUB_TOKEN"}
	}
	dir := f.dir
	if dir != "" && !isGitCheckout(dir) {
		dir = ""
	}
	cleanup := func() {}
	cloneDir := ""
	if dir == "" {
		cloneDir, err = os.MkdirTemp("", "deep-review-clone-*")
		if err != nil {
			return nil, nil, err
		}
		cleanup = func() { os.RemoveAll(cloneDir) }
	}
	p, err := pr.GitHub(ctx, pr.GitHubOptions{
		Token:      s.GitHubToken,
		APIURL:     getenv("GITHUB_API_URL"),
		GraphQLURL: getenv("GITHUB_GRAPHQL_URL"),
		HTTPClient: &http.Client{},
		Owner:      owner,
		Repo:       name,
		Number:     f.pr,
		Dir:        dir,
		CloneDir:   cloneDir,
		BotLogin:   s.BotLogin,
		Filters:    filters,
		Logf: func(format string, args ...any) {
			fmt.Fprintf(log, format+"\n", args...)
		},
	})
	if err != nil {
		cleanup()
		return nil, nil, fmt.Errorf("gather %s#%d: %w", f.repo, f.pr, err)
	}
	return p, cleanup, nil
}

// isGitCheckout reports whether dir is the top of a git checkout.
func isGitCheckout(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, ".git"))
	return err == nil
}

// publishFromTerminal posts or updates the sticky comment for a review run
// from a terminal (review --publish). Outside Actions there is no job
// summary, annotation or artifact; the report stays in the out dir.
func publishFromTerminal(ctx context.Context, s config.Settings, r *review.Report, w publish.Written, o render.Options, getenv func(string) string, stdout, stderr io.Writer) error {
	if r.PR.Number == 0 {
		return exitError{code: 2, msg: "--publish needs a pull request (--repo and --pr)"}
	}
	owner, name, err := splitRepo(r.PR.Repo)
	if err != nil {
		return err
	}
	client, err := pr.NewClient(&http.Client{}, getenv("GITHUB_API_URL"), s.GitHubToken)
	if err != nil {
		return err
	}
	// go-githubactions writes its commands to stderr here: a terminal reader
	// sees them as plain notes, and stdout stays the result.
	env := func(k string) string {
		if strings.HasPrefix(k, "GITHUB_") || strings.HasPrefix(k, "ACTIONS_") {
			return ""
		}
		return getenv(k)
	}
	action := githubactions.New(githubactions.WithGetenv(env), githubactions.WithWriter(stderr))
	pub := &publish.Publisher{Action: action, GitHub: client, Getenv: env, Log: stderr}
	res, err := pub.Publish(ctx, publish.Input{
		Report: r, OutDir: w.Dir, Owner: owner, Repo: name, Number: r.PR.Number, BotLogin: s.BotLogin,
		RenderComment: commentRenderer(r, o),
		Options:       publish.Options{Comment: true, FailOn: s.FailOn},
	})
	if err != nil {
		return err
	}
	if res.CommentURL != "" {
		fmt.Fprintf(stdout, "Comment: %s\n", res.CommentURL)
	}
	if res.ExitCode != 0 {
		return exitError{code: res.ExitCode, msg: strings.Join(res.Problems, "; ")}
	}
	return nil
}

// commentRenderer renders the sticky comment with the links the publisher
// learns (the run and the artifact), within a character budget.
func commentRenderer(r *review.Report, o render.Options) func(review.Links, int) []byte {
	return func(links review.Links, maxChars int) []byte {
		rc := *r
		rc.Links = links
		oc := o
		oc.MaxBytes = maxChars
		return render.Comment(&rc, oc)
	}
}
