package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/sethvargo/go-githubactions"

	"github.com/deepreview/deep-review/review"
	"github.com/deepreview/deep-review/review/config"
	"github.com/deepreview/deep-review/review/llm"
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
	case local && f.pr != 0:
		return exitError{code: 2, msg: "review: give either --base/--head (local) or --pr (GitHub), not both; --repo with --base/--head only names the repository for links"}
	case !local && (f.repo == "" || f.pr == 0):
		return exitError{code: 2, msg: "review: say what to review: --base REF --head REF for local changes, or --repo OWNER/NAME --pr N for a pull request"}
	}
	if s.Reviewers != "" {
		if _, err := llm.ParseSpecs(s.Reviewers); err != nil {
			return exitError{code: 2, msg: "reviewers: " + err.Error()}
		}
	}
	if f.publish && local {
		return exitError{code: 2, msg: "--publish needs a pull request (--repo and --pr)"}
	}
	t := target{Dir: f.dir, Base: f.base, Head: f.head, Record: f.record, Getenv: getenv, Log: stderr}
	if local && f.repo != "" {
		if _, _, err := splitRepo(f.repo); err != nil {
			return exitError{code: 2, msg: "--repo: " + err.Error()}
		}
		t.Repo = f.repo
	}
	if !local {
		owner, name, err := splitRepo(f.repo)
		if err != nil {
			return exitError{code: 2, msg: "--repo: " + err.Error()}
		}
		if s.GitHubToken == "" {
			return exitError{code: 2, msg: "reading a pull request needs a token: set --github-token or GITHUB_TOKEN"}
		}
		if t.Client, err = newGitHub(getenv, s.GitHubToken, stderr); err != nil {
			return err
		}
		if t.Pull, err = openPull(ctx, t.Client, owner, name, f.pr); err != nil {
			return exitError{code: 2, msg: err.Error()}
		}
	}
	// The config file comes from the base, then the inputs are read again
	// with it: an input given wins, the file fills what is not.
	cfg, err := baseConfig(ctx, t, s.Config)
	if err != nil {
		return exitError{code: 2, msg: err.Error()}
	}
	if s, err = values.parse(getenv, cfg); err != nil {
		return exitError{code: 2, msg: err.Error()}
	}
	t.OutDir = s.OutDir
	if f.publish {
		t.Publish = terminalPublishing(getenv, stderr, s)
	}
	out, err := runReview(ctx, s, t)
	if err != nil {
		return err
	}
	printResult(stdout, out.Report, out.Written)
	if f.publish {
		res := out.Published
		if res.CommentURL != "" {
			fmt.Fprintf(stdout, "Comment: %s\n", res.CommentURL)
		}
		if res.ExitCode != 0 {
			return exitError{code: res.ExitCode, msg: strings.Join(res.Problems, "; ")}
		}
		return nil
	}
	return allFailed(out.Report)
}

// terminalPublishing posts or updates the sticky comment from a terminal
// (review --publish). Outside Actions there is no job summary, annotation
// or artifact; the report stays in the out dir. go-githubactions writes
// its commands to stderr here: a terminal reader sees them as plain notes,
// and stdout stays the result.
func terminalPublishing(getenv func(string) string, stderr io.Writer, s config.Settings) *publishing {
	env := func(k string) string {
		if strings.HasPrefix(k, "GITHUB_") || strings.HasPrefix(k, "ACTIONS_") {
			return ""
		}
		return getenv(k)
	}
	return &publishing{
		Action:  githubactions.New(githubactions.WithGetenv(env), githubactions.WithWriter(stderr)),
		Getenv:  env,
		Log:     stderr,
		Options: publish.Options{Comment: true, FailOn: s.FailOn, Inline: s.Inline, MaxInline: s.MaxInline},
	}
}

// allFailed is an error when no reviewer submitted: the report then says
// nothing about the code, and the exit status must not pretend otherwise.
func allFailed(r *review.Report) error {
	if r.Reviewed() {
		return nil
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
