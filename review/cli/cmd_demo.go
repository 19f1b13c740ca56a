package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/deepreview/deep-review/render"
	"github.com/deepreview/deep-review/review/agent"
	"github.com/deepreview/deep-review/review/demo"
	"github.com/deepreview/deep-review/review/lead"
	"github.com/deepreview/deep-review/review/llm"
	"github.com/deepreview/deep-review/review/publish"
)

// runDemo runs the whole pipeline offline: it builds the fixture repository,
// gathers it as a local PR, runs the three scripted reviewer sessions in
// parallel through the real agent loop and tools, consolidates, renders and
// writes the report.
func runDemo(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	out := fs.String("out-dir", "deep-review-out", "folder to write the report to")
	fs.Var(aliasValue{out}, "out", "alias of --out-dir")
	fast := fs.Bool("fast", false, "serve the scripted turns at once instead of at their scripted pace")
	noLead := fs.Bool("no-lead", false, "skip the scripted lead: the design's rules decide the verdict")
	if help, err := parseFlags(fs, args, stdout); help || err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "deep-review-demo-*")
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	defer os.RemoveAll(dir)
	if err := demo.BuildRepo(ctx, dir); err != nil {
		return fmt.Errorf("demo: build the fixture repository: %w", err)
	}
	p, err := demo.Gather(ctx, dir)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	scripted, err := demo.Reviewers()
	if err != nil {
		return err
	}
	var reviewers []agent.Config
	for _, s := range scripted {
		replay := llm.NewReplay(s.Session)
		replay.Pace = !*fast
		reviewers = append(reviewers, agent.Config{Name: s.Name, Identity: replay.Identity(), Model: replay,
			MaxTurns: 40, MaxTokens: 2_000_000, Timeout: 2 * time.Minute})
	}
	fmt.Fprintf(stderr, "deep-review demo: %d scripted reviewer sessions and a scripted lead (written by the deep-review developers, not by a model) on a fixture repository\n", len(reviewers))
	log := &syncWriter{w: stderr}
	pl := &pipeline{now: time.Now, log: log}
	if !*noLead {
		scripted, err := demo.Lead()
		if err != nil {
			return err
		}
		pl.lead = lead.New(lead.Config{
			Name:     "Lead",
			Identity: scripted.Identity(),
			Model:    scripted,
			Progress: func(p agent.Progress) { log.printf("%s\n", p.String()) },
		})
	}
	report, results := pl.run(ctx, p, reviewers)
	w, err := publish.WriteOutDir(*out, report, results, render.Options{})
	if err != nil {
		return err
	}
	printResult(stdout, report, w)
	return nil
}
