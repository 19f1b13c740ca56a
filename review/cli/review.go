package cli

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/sethvargo/go-githubactions"

	"github.com/deepreview/deep-review/render"
	"github.com/deepreview/deep-review/review"
	"github.com/deepreview/deep-review/review/agent"
	"github.com/deepreview/deep-review/review/config"
	"github.com/deepreview/deep-review/review/deps"
	"github.com/deepreview/deep-review/review/ghclient"
	"github.com/deepreview/deep-review/review/git"
	"github.com/deepreview/deep-review/review/llm/providers"
	"github.com/deepreview/deep-review/review/pr"
	"github.com/deepreview/deep-review/review/publish"
)

// target is what one review reviews, where its report goes and where it is
// published: a local range (Dir, Base, Head) or a GitHub pull request
// (Pull, read once by openPull, and Client).
type target struct {
	// Dir is the local checkout ("" or not a checkout: the gather clones).
	Dir, Base, Head string
	// Repo names a local range's repository (OWNER/NAME) for links; ""
	// takes it from the checkout's origin when that is on GitHub.
	Repo   string
	Pull   *pr.Pull
	Client *pr.Client
	// OutDir gets the report files; Record, when set, every model's turns.
	OutDir, Record string
	Getenv         func(string) string
	// Log gets progress; Grouped folds each reviewer's log into a group of
	// its own (GitHub Actions).
	Log     io.Writer
	Grouped bool
	// Publish, when set, publishes the report (nil: only the out dir).
	Publish *publishing
}

// publishing is where and how a report is published.
type publishing struct {
	Action  *githubactions.Action
	Getenv  func(string) string
	Log     io.Writer
	Options publish.Options
}

// reviewed is what one review produced.
type reviewed struct {
	Report    *review.Report
	Written   publish.Written
	Published publish.Result
}

// local reports whether t is a local range rather than a pull request.
func (t target) local() bool { return t.Pull == nil }

// newGitHub makes the one GitHub client of a command, through ghclient.
func newGitHub(getenv func(string) string, token string, log io.Writer) (*pr.Client, error) {
	return ghclient.New(ghclient.Options{APIURL: getenv("GITHUB_API_URL"), Token: token, Policy: ghclient.Policy{
		Logf: func(format string, args ...any) { fmt.Fprintf(log, format+"\n", args...) },
	}})
}

// openPull reads the pull request once, for the config file at its base and
// for the gather.
func openPull(ctx context.Context, client *pr.Client, owner, repo string, number int) (*pr.Pull, error) {
	return pr.Open(ctx, client, owner, repo, number)
}

// baseConfig reads the config file (path; "" is none) as it is at the
// target's base, never its head: a pull request must not change the rules
// of its own review. (nil, nil) when the base has no such file.
func baseConfig(ctx context.Context, t target, path string) (*config.Config, error) {
	if path == "" {
		return nil, nil
	}
	var data []byte
	var found bool
	var err error
	if t.local() {
		data, found, err = pr.ReadAt(ctx, git.Repo{Dir: t.Dir}, t.Base, path)
		if err != nil {
			return nil, fmt.Errorf("config file: %w", err)
		}
	} else if data, found, err = t.Pull.ReadBase(ctx, t.Client, t.Dir, path, "config file"); err != nil {
		return nil, err
	}
	if !found {
		return nil, nil
	}
	cfg, err := config.Parse(data, path)
	if err != nil {
		return nil, fmt.Errorf("config file (read from the base branch): %w", err)
	}
	return cfg, nil
}

// runReview is the one review of a target, for the terminal and the Action
// alike: reviewers and lead from the settings, then gather, review in
// parallel, consolidate, render into the out dir, and publish when asked.
// An error is one the user must fix (a missing key, a bad spec) or a
// gather that failed; a reviewer's failure is in the report.
func runReview(ctx context.Context, s config.Settings, t target) (reviewed, error) {
	list, err := s.ReviewerList()
	if err != nil {
		return reviewed{}, usageError(err)
	}
	fetcher, closeDeps, err := dependencyFetcher(t.Getenv)
	if err != nil {
		return reviewed{}, err
	}
	defer closeDeps()
	factory := providers.Factory{Settings: s, HTTPClient: &http.Client{}, Record: t.Record, FileName: publish.FileName, Deps: fetcher}
	reviewers, err := factory.Reviewers(list)
	if err != nil {
		return reviewed{}, usageError(err)
	}
	lead, err := factory.Lead(list, t.Log)
	if err != nil {
		return reviewed{}, usageError(err)
	}
	budget := costBudget(s.MaxCostUSD, reviewers, lead)
	filters := pr.Filters{Include: s.Include, Exclude: s.Exclude}
	var p *review.PR
	if t.local() {
		p, err = pr.Local(ctx, pr.LocalOptions{Dir: t.Dir, Base: t.Base, Head: t.Head, Repo: t.Repo,
			ServerURL: t.Getenv("GITHUB_SERVER_URL"), Filters: filters})
	} else {
		if t.Grouped {
			fmt.Fprintf(t.Log, "::group::Gather pull request #%d\n", t.Pull.Number)
		}
		var cleanup func()
		p, cleanup, err = gatherGitHub(ctx, s, t, filters)
		if t.Grouped {
			fmt.Fprintf(t.Log, "::endgroup::\n")
		}
		if err == nil {
			defer cleanup()
		}
	}
	if err != nil {
		return reviewed{}, err
	}
	pl := &pipeline{prices: factory.Prices(), lead: lead, budget: budget, now: time.Now, log: &syncWriter{w: t.Log}, grouped: t.Grouped}
	report, results := pl.run(ctx, p, reviewers)
	opts := render.Options{Secrets: s.Secrets(), RepoURL: repoURL(t.Getenv, p.Repo)}
	w, err := publish.WriteOutDir(t.OutDir, report, results, opts)
	if err != nil {
		return reviewed{}, err
	}
	out := reviewed{Report: report, Written: w}
	if t.Publish == nil {
		return out, nil
	}
	pub := &publish.Publisher{Action: t.Publish.Action, GitHub: t.Client, Getenv: t.Publish.Getenv, Log: t.Publish.Log,
		GraphQLURL: t.Getenv("GITHUB_GRAPHQL_URL")}
	in := publish.Input{
		Report: report, OutDir: w.Dir,
		RenderComment: commentRenderer(report, opts),
		RenderInline: func(f review.Finding, suggestion []string, ok bool) string {
			return string(render.InlineComment(report, f, render.InlineFix{Suggest: ok, Suggestion: suggestion}, opts))
		},
		ExplainError: func(e string) string { return render.Sanitize(e, opts) },
		Owner:        t.Pull.Owner, Repo: t.Pull.Repo, Number: t.Pull.Number,
		BotLogin: s.BotLogin, StateKey: s.StateKey,
		Options: t.Publish.Options,
	}
	if t.Publish.Options.Summary {
		in.Summary = render.Markdown(report, opts)
	}
	out.Published, err = pub.Publish(ctx, in)
	return out, err
}

// leadShare is the part of max-cost-usd kept for the lead when one runs;
// the reviewers share the rest equally.
const leadShare = 0.25

// costBudget splits the run's cost cap (0: none) between the reviewers,
// each of which is made to submit before its share is spent, and returns
// the report's budget (nil without a cap).
func costBudget(capUSD float64, reviewers []agent.Config, lead review.Lead) *review.Budget {
	if capUSD <= 0 || len(reviewers) == 0 {
		return nil
	}
	share := capUSD
	if lead != nil {
		share *= 1 - leadShare
	}
	for i := range reviewers {
		reviewers[i].MaxCostUSD = share / float64(len(reviewers))
	}
	return &review.Budget{CapUSD: capUSD}
}

// dependencyFetcher is the one read_dependency fetcher of a review, with its
// cache in a new temporary folder that close removes.
func dependencyFetcher(getenv func(string) string) (*deps.Fetcher, func(), error) {
	cache, err := os.MkdirTemp("", "deep-review-deps-*")
	if err != nil {
		return nil, nil, fmt.Errorf("dependency cache: %w", err)
	}
	f, err := deps.NewFetcher(deps.Config{CacheDir: cache, Client: &http.Client{}, Getenv: getenv})
	if err != nil {
		os.RemoveAll(cache)
		return nil, nil, fmt.Errorf("dependency cache: %w", err)
	}
	return f, func() { f.Close(); os.RemoveAll(cache) }, nil
}

// publishOptions are the channels and rules the settings ask for.
func publishOptions(s config.Settings) publish.Options {
	return publish.Options{Summary: s.Summary, Comment: s.Comment, Artifact: s.Artifact, Annotations: s.Annotations,
		FailOn: s.FailOn, Inline: s.Inline, MaxInline: s.MaxInline}
}

// usageError marks err as the user's to fix (exit status 2).
func usageError(err error) error {
	return exitError{code: 2, msg: err.Error()}
}

// gatherGitHub reads the pull request through the API, with the diff from
// the checkout in t.Dir when it holds the commits, else from a partial
// clone it removes in cleanup.
func gatherGitHub(ctx context.Context, s config.Settings, t target, filters pr.Filters) (*review.PR, func(), error) {
	if s.GitHubToken == "" {
		return nil, nil, exitError{code: 2, msg: "reading a pull request needs a token: set --github-token or GITHUB_TOKEN"}
	}
	dir := t.Dir
	if dir != "" && !pr.IsCheckout(dir) {
		dir = ""
	}
	cleanup := func() {}
	cloneDir := ""
	if dir == "" {
		var err error
		if cloneDir, err = os.MkdirTemp("", "deep-review-clone-*"); err != nil {
			return nil, nil, err
		}
		cleanup = func() { os.RemoveAll(cloneDir) }
	}
	pl := t.Pull
	p, err := pr.GitHub(ctx, pr.GitHubOptions{
		Token:      s.GitHubToken,
		APIURL:     t.Getenv("GITHUB_API_URL"),
		GraphQLURL: t.Getenv("GITHUB_GRAPHQL_URL"),
		HTTPClient: &http.Client{},
		Owner:      pl.Owner,
		Repo:       pl.Repo,
		Number:     pl.Number,
		Pull:       pl,
		Dir:        dir,
		CloneDir:   cloneDir,
		BotLogin:   s.BotLogin,
		StateKey:   s.StateKey,
		FullScope:  s.Scope == config.ScopeFull,
		Filters:    filters,
		Logf: func(format string, args ...any) {
			fmt.Fprintf(t.Log, format+"\n", args...)
		},
	})
	if err != nil {
		cleanup()
		return nil, nil, fmt.Errorf("gather %s/%s#%d: %w", pl.Owner, pl.Repo, pl.Number, err)
	}
	return p, cleanup, nil
}

// splitRepo splits OWNER/NAME.
func splitRepo(repo string) (string, string, error) {
	owner, name, ok := strings.Cut(repo, "/")
	if !ok || owner == "" || name == "" || strings.Contains(name, "/") {
		return "", "", fmt.Errorf("repository %q: want OWNER/NAME, e.g. octocat/hello-world", repo)
	}
	return owner, name, nil
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

// repoURL is the repository's web address, for links the renderer keeps.
func repoURL(getenv func(string) string, repo string) string {
	if repo == "" {
		return ""
	}
	server := getenv("GITHUB_SERVER_URL")
	if server == "" {
		server = "https://github.com"
	}
	return server + "/" + repo
}
