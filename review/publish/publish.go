// Package publish delivers a rendered report from the Actions runner: the
// workflow artifact, the sticky pull request comment, file annotations, the
// job summary and the step outputs. It takes bytes the renderer produced and
// never renders a report itself, except for the short "what happened" note it
// appends to the job summary.
//
// Every failure to publish becomes an ::error workflow command, a line of
// Result.Problems and a line of the summary's "What happened" section: a run
// never ends green while silently posting nothing.
package publish

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-github/v60/github"
	"github.com/sethvargo/go-githubactions"

	"github.com/deepreview/deep-review/review"
	"github.com/deepreview/deep-review/review/config"
)

// MaxSummaryBytes is GitHub's limit for one step's job summary; a larger
// summary is dropped entirely.
const MaxSummaryBytes = 1 << 20

// MaxCommentChars is GitHub's limit for an issue comment body.
const MaxCommentChars = 65536

// Publisher writes to GitHub and the Actions runner. Action is required; the
// other fields may be zero: a nil GitHub skips the comment (no token), a nil
// HTTP uses a private client with a timeout, a nil Getenv reads through
// Action.Getenv, a nil Sleep waits on a timer, a nil Log discards.
//
// Publish is not safe for concurrent use on one pull request: the sticky
// comment logic assumes it is the only writer (recommend a workflow
// concurrency group per pull request).
type Publisher struct {
	// Action writes workflow commands, outputs and the job summary. Build it
	// with githubactions.New(githubactions.WithGetenv(getenv),
	// githubactions.WithWriter(w)).
	Action *githubactions.Action
	// GitHub is the REST client for comments; nil when there is no token.
	// Build it with ghclient.New: its transport retries, sits out rate
	// limits, bounds each request with a deadline and spaces mutations;
	// Publish adds no retries of its own.
	GitHub *github.Client
	// HTTP talks to the Actions results service and the blob store.
	HTTP *http.Client
	// Getenv reads the runner's environment (ACTIONS_*, GITHUB_*).
	Getenv func(string) string
	// Sleep waits d or until ctx is done, between retries of the results
	// service and the blob store.
	Sleep func(ctx context.Context, d time.Duration) error
	// Log receives progress lines. Secrets and signed URLs never reach it.
	Log io.Writer
	// GraphQLURL is GitHub's GraphQL endpoint (GITHUB_GRAPHQL_URL); empty
	// derives it from GitHub's base URL.
	GraphQLURL string

	// blockSize is the bytes per Put Block; zero means defaultBlockSize.
	blockSize int
}

// Options says which channels to publish to and when to fail the step.
type Options struct {
	Summary     bool
	Comment     bool
	Artifact    bool
	Annotations bool
	// FailOn is the severity that fails the step; "" means never.
	FailOn config.FailOn
	// Inline is the lowest severity posted as inline review comments:
	// "critical", "important" (DefaultInline), "suggestion", or "none".
	// Empty means none, so callers opt in.
	Inline string
	// MaxInline is the most new inline comments per round, most severe
	// first; 0 means DefaultMaxInline.
	MaxInline int
}

// Input is one rendered report to publish.
type Input struct {
	Report *review.Report
	// OutDir holds report.md, comment.md, report.html, report.json,
	// report.sarif and raw/; the artifact is a zip of it.
	OutDir string
	// Summary is the job summary form of the report (report.md).
	Summary []byte
	// Comment is the sticky comment form (comment.md), marker included.
	Comment []byte
	// ShorterComment renders the comment again in at most maxChars
	// characters; it is called once, after GitHub rejects Comment as too
	// long. Nil means no second try.
	ShorterComment func(maxChars int) []byte
	// RenderComment, when set, replaces Comment and ShorterComment: it is
	// called after the artifact upload with the links Publish knows (run
	// and artifact), first with maxChars 0 (the renderer's own budget) and,
	// after GitHub rejects that body as too long, once more with a smaller
	// budget.
	RenderComment func(links review.Links, maxChars int) []byte
	// RenderInline renders the body of a finding's inline comment; when
	// suggest is set, the fix is a suggestion block of the replacement
	// lines suggestion (render.InlineComment). Nil posts no inline comments.
	RenderInline func(f review.Finding, suggestion []string, suggest bool) string
	// Owner, Repo and Number name the pull request; Number 0 means there is
	// none (a local review) and no comment is written.
	Owner, Repo string
	Number      int
	// BotLogin is the login our comments are written by; empty means
	// review.DefaultBotLogin. Marker comments by anyone else are never touched.
	BotLogin string
	// StateKey is the state-key secret (the future state-key input). When
	// set, the comment's state marker is signed with an HMAC-SHA256 of it,
	// and comments whose marker does not verify are not ours: they are
	// never edited or deleted. Empty trusts any marker in a comment of
	// BotLogin's that has deep-review's whole structure.
	StateKey string
	// ExplainError scrubs a reviewer's error text (secrets, tokens) for the
	// line a failed attempt adds to the comment; nil leaves error text out
	// and names only each reviewer and its status.
	ExplainError func(string) string
	Options      Options
	// RunAttempt is GITHUB_RUN_ATTEMPT; empty reads it from the environment.
	RunAttempt string
	// RunURL links to the workflow run; empty builds it from
	// GITHUB_SERVER_URL, GITHUB_REPOSITORY and GITHUB_RUN_ID when set.
	RunURL string
}

// Result is what Publish did.
type Result struct {
	// CommentURL is the sticky comment's html_url, empty when none was written.
	CommentURL string
	// ArtifactURL links to the uploaded artifact, empty when none was uploaded.
	ArtifactURL string
	// ReviewURL is the html_url of the review this round posted, empty when
	// it posted none (no new inline comments, or inline comments off).
	ReviewURL string
	// InlineThreads is the number of deep-review's open inline review
	// threads after this round; 0 when inline comments are off.
	InlineThreads int
	// Problems are the failures, one sentence each, in the order they happened.
	Problems []string
	// ExitCode is 0 for success and 1 for failure.
	ExitCode int
}

// run is the state of one Publish call.
type run struct {
	p      *Publisher
	in     Input
	getenv func(string) string
	log    io.Writer
	res    Result
	// notes are the "What happened" lines, Markdown.
	notes []string
	// failed is set when the step must fail; the reasons are in Problems.
	failed bool
	// attempted counts channels tried (not skipped); published those that
	// delivered the report.
	attempted, published int
	// inline is the round's inline comments; sticky the sticky comment as
	// written, for the edit that links them.
	inline        inlineRun
	inlineCounted bool
	sticky        *github.IssueComment
}

// Publish delivers the report: the artifact first (so its link is known),
// then the sticky comment, annotations, the job summary with a "What
// happened" section, and the step outputs. Failures of single channels are
// reported in Result.Problems and as ::error commands, never returned; the
// error is for unusable input (no Action, no Report). GitHub mutations are
// made one at a time.
func (p *Publisher) Publish(ctx context.Context, in Input) (Result, error) {
	if p.Action == nil {
		return Result{}, errors.New("publish: Publisher.Action is nil: build one with githubactions.New")
	}
	if in.Report == nil {
		return Result{}, errors.New("publish: Input.Report is nil")
	}
	r := &run{p: p, in: in, getenv: p.Getenv, log: p.Log}
	if r.getenv == nil {
		r.getenv = p.Action.Getenv
	}
	if r.log == nil {
		r.log = io.Discard
	}
	if r.in.BotLogin == "" {
		r.in.BotLogin = review.DefaultBotLogin
	}
	if r.in.RunURL == "" {
		r.in.RunURL = r.runURL()
	}

	p.Action.Group("deep-review: publish")
	r.publishArtifact(ctx)
	r.planInline(ctx)
	r.publishComment(ctx)
	r.publishInline(ctx)
	if in.Options.Annotations {
		annotate(p.Action, in.Report.Findings)
	}
	r.decideExit()
	r.publishSummary()
	if r.published == 0 && r.attempted > 0 {
		r.fail("nothing could be published: every enabled channel failed (see the errors above)")
	}
	r.setOutputs()
	p.Action.EndGroup()

	if r.failed {
		r.res.ExitCode = 1
	}
	return r.res, nil
}

const failedMark = "- **Failed**: "

// runURL is the workflow run's web address from the runner's environment,
// or "" outside Actions.
func (r *run) runURL() string {
	repo, id := r.getenv("GITHUB_REPOSITORY"), r.getenv("GITHUB_RUN_ID")
	if repo == "" || id == "" {
		return ""
	}
	return r.serverURL() + "/" + repo + "/actions/runs/" + id
}

// serverURL is GITHUB_SERVER_URL, https://github.com when unset.
func (r *run) serverURL() string {
	if s := strings.TrimRight(r.getenv("GITHUB_SERVER_URL"), "/"); s != "" {
		return s
	}
	return "https://github.com"
}

// problem records a failure to publish: an ::error, a problem and a note.
func (r *run) problem(msg string) {
	r.p.Action.Errorf("%s", msg)
	r.res.Problems = append(r.res.Problems, msg)
	r.notes = append(r.notes, failedMark+mdLine(msg))
}

// fail records a problem that also fails the step.
func (r *run) fail(msg string) {
	r.problem(msg)
	r.failed = true
}

// done records a channel that delivered.
func (r *run) done(note string) {
	r.published++
	r.notes = append(r.notes, "- "+note)
}

// skip records a channel left out, with the reason.
func (r *run) skip(note string) {
	r.notes = append(r.notes, "- Skipped: "+mdLine(note))
}

func (r *run) logf(format string, args ...any) {
	fmt.Fprintf(r.log, format+"\n", args...)
}

// sleep waits through the injected Sleep.
func (r *run) sleep(ctx context.Context, d time.Duration) error {
	if r.p.Sleep != nil {
		return r.p.Sleep(ctx, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// decideExit applies fail-on and the reviewers' statuses.
func (r *run) decideExit() {
	rep := r.in.Report
	if msg := r.in.Options.FailOn.Reason(rep.Counts()); msg != "" {
		r.fail(msg)
	}
	if msg := reviewersFailed(rep); msg != "" {
		r.fail(msg)
	}
}

// reviewersFailed says why the reviewers fail the step, or "": when none
// ran, or none finished with status ok (review.Report.Reviewed).
func reviewersFailed(rep *review.Report) string {
	if len(rep.Reviewers) == 0 {
		return "no reviewer ran: configure at least one reviewer (the reviewers input, or an API key)"
	}
	if rep.Reviewed() {
		return ""
	}
	var names []string
	for _, s := range rep.Reviewers {
		names = append(names, fmt.Sprintf("%s (%s)", s.Name, s.Status))
	}
	return "every reviewer failed: " + strings.Join(names, ", ")
}

// publishSummary writes the job summary, replacing what this step wrote
// before, with the "What happened" section appended.
func (r *run) publishSummary() {
	if !r.in.Options.Summary {
		r.skip("job summary: the summary input is false")
		return
	}
	if r.p.Action.Getenv("GITHUB_STEP_SUMMARY") == "" {
		r.skip("job summary: GITHUB_STEP_SUMMARY is not set (not running in GitHub Actions)")
		return
	}
	body := r.in.Summary
	if len(body)+len(r.whatHappened()) > MaxSummaryBytes {
		r.problem(fmt.Sprintf("the job summary is %d bytes, over GitHub's %d-byte limit, so it was replaced by a note: read report.md in the artifact or in %s", len(body), MaxSummaryBytes, r.in.OutDir))
		body = []byte(fmt.Sprintf("# deep-review\n\nThe report is %d bytes, too large for a job summary (GitHub allows %d). It is report.md in the artifact and in `%s`.\n", len(r.in.Summary), MaxSummaryBytes, r.in.OutDir))
	}
	r.attempted++
	content := string(body)
	if content != "" && !strings.HasSuffix(content, "\n") {
		content += "\n"
	}
	content += "\n" + r.whatHappened()
	if err := r.writeSummary(content); err != nil {
		r.problem(fmt.Sprintf("write the job summary: %v", err))
		return
	}
	r.published++
	r.logf("wrote the job summary (%d bytes)", len(content))
}

// writeSummary truncates the step's summary file and writes content: the
// file is this step's alone, and AddStepSummary only appends.
func (r *run) writeSummary(content string) error {
	path := r.p.Action.Getenv("GITHUB_STEP_SUMMARY")
	if err := os.Truncate(path, 0); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("truncate GITHUB_STEP_SUMMARY: %w", err)
	}
	return fileCommand(func() { r.p.Action.AddStepSummary(content) })
}

// whatHappened is the summary section listing what was published, what was
// skipped and what failed.
func (r *run) whatHappened() string {
	var b strings.Builder
	b.WriteString("## What happened\n\n")
	for _, n := range r.notes {
		b.WriteString(n)
		b.WriteString("\n")
	}
	if r.in.RunURL != "" {
		fmt.Fprintf(&b, "- Run: %s\n", r.in.RunURL)
	}
	return b.String()
}

// setOutputs writes the step outputs: enums, numbers, paths and URLs only,
// never model text.
func (r *run) setOutputs() {
	if r.p.Action.Getenv("GITHUB_OUTPUT") == "" {
		r.logf("GITHUB_OUTPUT is not set; no step outputs written")
		return
	}
	rep := r.in.Report
	c := rep.Counts()
	verdict := rep.Verdict.Decision
	switch verdict {
	case review.Merge, review.MergeWithOptionalFixes, review.MergeWithFixes, review.Rework:
	default:
		verdict = ""
	}
	outputs := [][2]string{
		{"verdict", string(verdict)},
		{"critical", strconv.Itoa(c.Critical)},
		{"important", strconv.Itoa(c.Important)},
		{"suggestions", strconv.Itoa(c.Suggestion)},
		{"round", strconv.Itoa(rep.Round)},
		{"report-json", outPath(r.in.OutDir, "report.json")},
		{"report-markdown", outPath(r.in.OutDir, "report.md")},
		{"comment-url", r.res.CommentURL},
		{"artifact-url", r.res.ArtifactURL},
		{"review-url", r.res.ReviewURL},
		{"inline-comments", r.inlineOutput()},
		{"tokens", strconv.FormatInt(rep.Tokens().Total(), 10)},
		{"cost-usd", strconv.FormatFloat(rep.CostUSD(), 'f', 4, 64)},
	}
	if !rep.Reviewed() {
		// No review happened, so there is no verdict to act on: the
		// output is not set at all, so a workflow cannot mistake it for one.
		outputs = outputs[1:]
	}
	for _, o := range outputs {
		if strings.ContainsAny(o[1], "\r\n") || strings.Contains(o[1], "_GitHubActionsFileCommandDelimeter_") {
			r.problem(fmt.Sprintf("output %s was not set: its value holds a line break (check the out-dir input)", o[0]))
			continue
		}
		if err := fileCommand(func() { r.p.Action.SetOutput(o[0], o[1]) }); err != nil {
			r.problem(fmt.Sprintf("set output %s: %v", o[0], err))
			return
		}
	}
}

func outPath(dir, name string) string {
	if dir == "" {
		return ""
	}
	return filepath.Join(dir, name)
}

// fileCommand runs a go-githubactions file command, which panics when the
// file cannot be written, and returns the panic as an error.
func fileCommand(f func()) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("%v", v)
		}
	}()
	f()
	return nil
}

// mdLine keeps a message on one Markdown list line, with no HTML.
func mdLine(s string) string {
	return strings.NewReplacer("\r", " ", "\n", " ", "<", "&lt;", ">", "&gt;").Replace(s)
}
