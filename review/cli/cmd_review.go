package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/deepreview/deep-review/render"
	"github.com/deepreview/deep-review/review"
	"github.com/deepreview/deep-review/review/config"
	"github.com/deepreview/deep-review/review/llm"
	"github.com/deepreview/deep-review/review/pr"
	"github.com/deepreview/deep-review/review/publish"
)

// reviewFlags are the review command's own flags, beside one flag per
// action input.
type reviewFlags struct {
	repo, dir, base, head, record string
	pr                            int
	publish                       bool
}

// runReviewCommand reviews a local range (--base/--head) or a GitHub pull
// request (--repo/--pr) and writes the report to the out dir.
func runReviewCommand(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("review", flag.ContinueOnError)
	values := registerInputs(fs)
	var f reviewFlags
	fs.StringVar(&f.repo, "repo", "", "GitHub repository OWNER/NAME of the pull request")
	fs.IntVar(&f.pr, "pr", 0, "pull request number (same as --pr-number)")
	fs.StringVar(&f.dir, "dir", ".", "local checkout of the repository")
	fs.StringVar(&f.base, "base", "", "base revision for a local review (a branch, tag or SHA)")
	fs.StringVar(&f.head, "head", "", "head revision for a local review")
	fs.StringVar(&f.record, "record", "", "folder to record every reviewer's turns into, for replay (replay:FILE)")
	fs.BoolVar(&f.publish, "publish", false, "post or update the sticky comment on the pull request (needs --github-token or GITHUB_TOKEN)")
	if help, err := parseFlags(fs, args, stdout); help || err != nil {
		return err
	}
	s, err := values.parse(getenv, nil)
	if err != nil {
		return exitError{code: 2, msg: err.Error()}
	}
	if f.pr == 0 {
		f.pr = s.PRNumber
	}
	local := f.base != "" || f.head != ""
	switch {
	case local && (f.base == "" || f.head == ""):
		return exitError{code: 2, msg: "review: a local review needs both --base and --head"}
	case local && f.repo != "":
		return exitError{code: 2, msg: "review: give either --base/--head (local) or --repo/--pr (GitHub), not both"}
	case !local && (f.repo == "" || f.pr == 0):
		return exitError{code: 2, msg: "review: say what to review: --base REF --head REF for local changes, or --repo OWNER/NAME --pr N for a pull request"}
	}
	if s.Reviewers != "" {
		if _, err := llm.ParseSpecs(s.Reviewers); err != nil {
			return exitError{code: 2, msg: "reviewers: " + err.Error()}
		}
	}
	// The config file comes from the base, then the inputs are read again
	// with it: an input given wins, the file fills what is not.
	var cfg *config.Config
	if local {
		cfg, err = localConfig(ctx, f.dir, f.base, s.Config)
	} else if s.GitHubToken != "" {
		owner, name, serr := splitRepo(f.repo)
		if serr != nil {
			return exitError{code: 2, msg: "--repo: " + serr.Error()}
		}
		client, cerr := pr.NewClient(&http.Client{}, getenv("GITHUB_API_URL"), s.GitHubToken)
		if cerr != nil {
			return cerr
		}
		cfg, err = remoteConfig(ctx, client, owner, name, f.pr, f.dir, s.Config)
	}
	if err != nil {
		return exitError{code: 2, msg: err.Error()}
	}
	if s, err = values.parse(getenv, cfg); err != nil {
		return exitError{code: 2, msg: err.Error()}
	}
	plans, err := reviewerPlans(s)
	if err != nil {
		return exitError{code: 2, msg: err.Error()}
	}
	factory := modelFactory{settings: s, http: &http.Client{}, record: f.record}
	reviewers, err := factory.reviewers(plans)
	if err != nil {
		return exitError{code: 2, msg: err.Error()}
	}
	filters := pr.Filters{Include: s.Include, Exclude: s.Exclude}
	var p *review.PR
	if local {
		p, err = pr.Local(ctx, pr.LocalOptions{Dir: f.dir, Base: f.base, Head: f.head, Filters: filters})
	} else {
		var cleanup func()
		p, cleanup, err = gatherGitHub(ctx, s, f, filters, getenv, stderr)
		if err == nil {
			defer cleanup()
		}
	}
	if err != nil {
		return err
	}
	lead, err := buildLead(s, factory, plans, stderr)
	if err != nil {
		return exitError{code: 2, msg: err.Error()}
	}
	pl := &pipeline{
		maxTurns: s.MaxTurns, maxTokens: s.MaxTokens, timeout: s.ReviewerTimeout,
		instructions: s.Instructions, prices: factory.prices(), lead: lead,
		now: time.Now, log: &syncWriter{w: stderr},
	}
	report, results := pl.run(ctx, p, reviewers)
	opts := render.Options{Secrets: s.Secrets(), RepoURL: repoURL(getenv, p.Repo)}
	w, err := publish.WriteOutDir(s.OutDir, report, results, opts)
	if err != nil {
		return err
	}
	printResult(stdout, report, w)
	if f.publish {
		return publishFromTerminal(ctx, s, report, w, opts, getenv, stdout, stderr)
	}
	return allFailed(report)
}

// allFailed is an error when no reviewer submitted: the report then says
// nothing about the code, and the exit status must not pretend otherwise.
func allFailed(r *review.Report) error {
	for _, s := range r.Reviewers {
		if s.Status == review.StatusOK {
			return nil
		}
	}
	return exitError{code: 1, msg: "every reviewer failed; the report lists why"}
}

// printResult tells the person at the terminal the verdict, the counts and
// where the report is.
func printResult(w io.Writer, r *review.Report, out publish.Written) {
	c := r.Counts()
	fmt.Fprintf(w, "Verdict: %s (decided by %s): %s\n", r.Verdict.Decision.Label(), r.Verdict.DecidedBy, r.Verdict.Reason)
	fmt.Fprintf(w, "Findings: %d critical, %d important, %d suggestions", c.Critical, c.Important, c.Suggestion)
	if n := len(r.Rejected); n > 0 {
		fmt.Fprintf(w, "; %d rejected", n)
	}
	fmt.Fprintln(w)
	for _, s := range r.Reviewers {
		label := ""
		if s.Label != "" {
			label = ", " + s.Label
		}
		fmt.Fprintf(w, "  %-10s %-9s %s, %d turns, %d tool calls, %d files reviewed%s\n", s.Name, s.Status,
			review.Duration(s.DurationMS), s.Turns, s.TotalToolCalls(), len(s.FilesReviewed), label)
	}
	fmt.Fprintf(w, "Report: %s\n  %s\n  %s\n  %s\n  %s\n  raw reviewer output: %d files in %s\n",
		out.Markdown, out.Comment, out.HTML, out.JSON, out.SARIF, len(out.Raw), out.Dir+"/raw")
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
