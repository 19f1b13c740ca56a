package cli

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/sethvargo/go-githubactions"

	"github.com/deepreview/deep-review/render"
	"github.com/deepreview/deep-review/review/config"
	"github.com/deepreview/deep-review/review/pr"
	"github.com/deepreview/deep-review/review/publish"
)

// trigger is what the workflow event asks deep-review to do.
type trigger struct {
	// numbers are the pull requests to review, in order.
	numbers []int
	// fork is set for a fork PR under pull_request: explain, do not review.
	fork *publish.Fork
	// schedule is set for the schedule event: find the stale PRs first.
	schedule bool
	// skip, when set, is why this event needs no review (a comment that is
	// not a command, say).
	skip string
}

// action is one run of the GitHub Action.
type action struct {
	gha    *githubactions.Action
	getenv func(string) string
	// values are the raw inputs: each PR reads them again with the config
	// file from its own base.
	values   inputValues
	settings config.Settings
	client   *pr.Client
	owner    string
	repo     string
	stdout   io.Writer
	stderr   io.Writer
}

// runAction is the entrypoint under GitHub Actions: settings from INPUT_*,
// the PR from the event, then gather, review, render and publish.
func runAction(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	gha := githubactions.New(githubactions.WithGetenv(getenv), githubactions.WithWriter(stdout))
	fs := flag.NewFlagSet("action", flag.ContinueOnError)
	values := registerInputs(fs)
	if help, err := parseFlags(fs, args, stdout); help || err != nil {
		return err
	}
	values.fromActionEnv(getenv, flagsSet(fs))
	s, err := values.parse(getenv, nil)
	if err != nil {
		gha.Errorf("deep-review: input %v", err)
		return exitError{code: 1}
	}
	for _, secret := range s.Secrets() {
		gha.AddMask(secret)
	}
	a := &action{gha: gha, getenv: getenv, values: values, settings: s, stdout: stdout, stderr: stderr}
	if a.owner, a.repo, err = splitRepo(getenv("GITHUB_REPOSITORY")); err != nil {
		gha.Errorf("deep-review: GITHUB_REPOSITORY: %v", err)
		return exitError{code: 1}
	}
	if s.GitHubToken != "" {
		if a.client, err = newGitHub(getenv, s.GitHubToken, stdout); err != nil {
			gha.Errorf("deep-review: %v", err)
			return exitError{code: 1}
		}
	}
	t, err := a.trigger(ctx)
	if err != nil {
		gha.Errorf("deep-review: %v", err)
		return exitError{code: 1}
	}
	switch {
	case t.skip != "":
		gha.Infof("deep-review: nothing to review: %s", t.skip)
		return nil
	case t.fork != nil:
		res := publish.ForkNotice(gha, *t.fork)
		return exitFor(res)
	case t.schedule:
		return a.scheduled(ctx)
	}
	if a.client == nil {
		gha.Errorf("deep-review: no GitHub token: pass github-token (the default ${{ github.token }} needs permissions contents: read and pull-requests: write)")
		return exitError{code: 1}
	}
	code := 0
	for _, n := range t.numbers {
		res, err := a.reviewPR(ctx, n, s.OutDir, s.Summary)
		if err != nil {
			gha.Errorf("deep-review: PR #%d: %v", n, err)
			a.summaryNote(fmt.Sprintf("## deep-review could not review #%d\n\n%s\n", n, render.Sanitize(err.Error(), render.Options{Secrets: s.Secrets()})))
			code = 1
			continue
		}
		code = max(code, res.ExitCode)
	}
	if code != 0 {
		return exitError{code: code}
	}
	return nil
}

func exitFor(res publish.Result) error {
	if res.ExitCode != 0 {
		return exitError{code: res.ExitCode}
	}
	return nil
}

// summaryNote appends to the job summary, reporting a failure to do so.
func (a *action) summaryNote(md string) {
	if a.getenv("GITHUB_STEP_SUMMARY") != "" {
		a.gha.AddStepSummary(md)
	}
}

// trigger reads the workflow event.
func (a *action) trigger(ctx context.Context) (trigger, error) {
	name := a.getenv("GITHUB_EVENT_NAME")
	if name == "schedule" {
		return trigger{schedule: true}, nil
	}
	if a.settings.PRNumber > 0 && name != "pull_request" && name != "pull_request_target" && name != "issue_comment" {
		return trigger{numbers: []int{a.settings.PRNumber}}, nil
	}
	path := a.getenv("GITHUB_EVENT_PATH")
	if path == "" {
		return trigger{}, fmt.Errorf("no GITHUB_EVENT_PATH: run deep-review as a workflow step, or from a terminal with 'deep-review review'")
	}
	payload, err := os.ReadFile(path)
	if err != nil {
		return trigger{}, fmt.Errorf("read the event: %w", err)
	}
	switch name {
	case "pull_request", "pull_request_target":
		ev, err := pr.DecodePullRequestEvent(payload)
		if err != nil {
			return trigger{}, fmt.Errorf("event %s: no pull_request in %s", name, path)
		}
		if name == "pull_request" && ev.Fork {
			return trigger{fork: &publish.Fork{Number: ev.Number, HeadRepo: ev.HeadRepo, BaseRepo: ev.BaseRepo}}, nil
		}
		return trigger{numbers: []int{ev.Number}}, nil
	case "workflow_dispatch":
		return trigger{}, fmt.Errorf("workflow_dispatch: the pr-number input is empty; add a pr-number input to the workflow and pass it with pr-number: ${{ inputs.pr-number }}")
	case "issue_comment":
		return a.commentTrigger(ctx, payload)
	}
	return trigger{}, fmt.Errorf("event %q: deep-review runs on pull_request, pull_request_target, workflow_dispatch (with pr-number), issue_comment (/deep-review) and schedule", name)
}

// commentCommand is the comment that asks for a review.
const commentCommand = "/deep-review"

// commentTrigger accepts "/deep-review" on a pull request from a user with
// write access; every other comment is skipped, our own included.
func (a *action) commentTrigger(ctx context.Context, payload []byte) (trigger, error) {
	ev, err := pr.DecodeCommentEvent(payload)
	if err != nil {
		return trigger{}, fmt.Errorf("event issue_comment: %w", err)
	}
	body := strings.TrimSpace(ev.Body)
	login := ev.Login
	switch {
	case ev.Action != "created":
		return trigger{skip: "the comment was " + ev.Action + ", not created"}, nil
	case !ev.OnPullRequest:
		return trigger{skip: "the comment is on an issue, not a pull request"}, nil
	case body != commentCommand && !strings.HasPrefix(body, commentCommand+" ") && !strings.HasPrefix(body, commentCommand+"\n"):
		return trigger{skip: "the comment does not start with " + commentCommand}, nil
	case login == a.settings.BotLogin || ev.UserType == "Bot":
		return trigger{skip: "the comment is by a bot"}, nil
	}
	if a.client == nil {
		return trigger{}, fmt.Errorf("no GitHub token to check %s's permission", login)
	}
	perm, err := pr.Permission(ctx, a.client, a.owner, a.repo, login)
	if err != nil {
		return trigger{}, fmt.Errorf("check %s's permission: %w", login, err)
	}
	if pr.CanWrite(perm) {
		return trigger{numbers: []int{ev.Number}}, nil
	}
	return trigger{skip: fmt.Sprintf("%s has %s access; %s needs write access", login, perm, commentCommand)}, nil
}

// reviewPR reviews and publishes one pull request, with the config file
// from its base applied under the inputs.
func (a *action) reviewPR(ctx context.Context, number int, outDir string, summary bool) (publish.Result, error) {
	pull, err := openPull(ctx, a.client, a.owner, a.repo, number)
	if err != nil {
		return publish.Result{}, err
	}
	t := target{Dir: a.getenv("GITHUB_WORKSPACE"), Pull: pull, Client: a.client, Getenv: a.getenv, Log: a.stdout, Grouped: true}
	cfg, err := baseConfig(ctx, t, a.settings.Config)
	if err != nil {
		return publish.Result{}, err
	}
	s, err := a.values.parse(a.getenv, cfg)
	if err != nil {
		return publish.Result{}, err
	}
	for _, secret := range s.Secrets() {
		a.gha.AddMask(secret)
	}
	t.OutDir = outDir
	opts := publishOptions(s)
	opts.Summary = summary
	t.Publish = &publishing{Action: a.gha, Getenv: a.getenv, Log: a.stdout, Options: opts}
	out, err := runReview(ctx, s, t)
	return out.Published, err
}

// scheduled finds the open, non-draft PRs whose head moved since our last
// review (or that we never reviewed). In plan mode it only sets the
// pull-requests output; in review mode it reviews up to max-prs of them,
// one after another, and says which it left for the next run.
func (a *action) scheduled(ctx context.Context) error {
	if a.client == nil {
		a.gha.Errorf("deep-review: the schedule event needs github-token to list pull requests")
		return exitError{code: 1}
	}
	stale, err := a.stalePRs(ctx)
	if err != nil {
		a.gha.Errorf("deep-review: %v", err)
		return exitError{code: 1}
	}
	list, _ := json.Marshal(stale)
	a.gha.SetOutput(publish.PlanOutput, string(list))
	if a.settings.Mode == "plan" {
		a.gha.Infof("deep-review plan: %d stale pull requests: %s", len(stale), list)
		a.summaryNote(fmt.Sprintf("## deep-review plan\n\n%d open pull requests need a review: %s\n", len(stale), list))
		return nil
	}
	todo, later := stale, []int(nil)
	if len(todo) > a.settings.MaxPRs {
		todo, later = stale[:a.settings.MaxPRs], stale[a.settings.MaxPRs:]
	}
	var lines []string
	code := 0
	for _, n := range todo {
		res, err := a.reviewPR(ctx, n, filepath.Join(a.settings.OutDir, "pr-"+strconv.Itoa(n)), false)
		switch {
		case err != nil:
			a.gha.Errorf("deep-review: PR #%d: %v", n, err)
			lines = append(lines, fmt.Sprintf("- #%d: not reviewed: %s", n, render.Sanitize(err.Error(), render.Options{Secrets: a.settings.Secrets()})))
			code = 1
		default:
			line := fmt.Sprintf("- #%d: reviewed", n)
			if res.CommentURL != "" {
				line += fmt.Sprintf(" ([comment](%s))", res.CommentURL)
			}
			lines = append(lines, line)
			code = max(code, res.ExitCode)
		}
	}
	md := fmt.Sprintf("## deep-review: scheduled re-review\n\n%d stale pull requests; reviewed %d.\n\n%s\n", len(stale), len(todo), strings.Join(lines, "\n"))
	if len(later) > 0 {
		md += fmt.Sprintf("\nLeft for the next run (max-prs is %d): %s\n", a.settings.MaxPRs, joinNumbers(later))
		a.gha.Noticef("deep-review: %d stale pull requests left for the next run (max-prs %d): %s", len(later), a.settings.MaxPRs, joinNumbers(later))
	}
	a.summaryNote(md)
	if code != 0 {
		return exitError{code: code}
	}
	return nil
}

// stalePRs lists open, non-draft PRs whose head differs from the head our
// sticky comment recorded, or that have no comment of ours.
func (a *action) stalePRs(ctx context.Context) ([]int, error) {
	return pr.StalePRs(ctx, a.client, a.owner, a.repo, a.settings.BotLogin, a.settings.StateKey, func(n int, err error) {
		a.gha.Warningf("deep-review: PR #%d: read the last review's state: %v; reviewing it again", n, err)
	})
}

func joinNumbers(ns []int) string {
	parts := make([]string, len(ns))
	for i, n := range ns {
		parts[i] = "#" + strconv.Itoa(n)
	}
	return strings.Join(parts, ", ")
}
