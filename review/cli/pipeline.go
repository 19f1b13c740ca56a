package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/sourcegraph/conc/iter"

	"github.com/deepreview/deep-review/render"
	"github.com/deepreview/deep-review/review"
	"github.com/deepreview/deep-review/review/agent"
	"github.com/deepreview/deep-review/review/git"
	"github.com/deepreview/deep-review/review/llm"
)

// reviewer is one configured reviewer, ready to run.
type reviewer struct {
	name  string
	id    llm.Identity
	model llm.Model
}

// pipeline runs the reviewers on a gathered PR and consolidates what they
// submit. It holds the budgets and where progress goes; it is used once per
// PR.
type pipeline struct {
	maxTurns     int
	maxTokens    int64
	timeout      time.Duration
	instructions string
	prices       map[string]llm.Price
	lead         review.Lead
	now          func() time.Time
	log          *syncWriter
	// grouped keeps the live log to one line per turn and prints each
	// reviewer's whole log afterwards in a collapsible group of its own
	// (GitHub Actions' ::group::), since parallel reviewers interleave.
	grouped bool
}

// syncWriter serialises writes from the reviewers' goroutines so progress
// lines never interleave mid-line.
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) printf(format string, args ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	fmt.Fprintf(s.w, format, args...)
}

// run reviews pr with every reviewer in parallel and consolidates. A
// reviewer that fails, times out or panics is reported as such; the others'
// work is kept. Results are in the reviewers' order.
func (p *pipeline) run(ctx context.Context, pr *review.PR, reviewers []reviewer) (*review.Report, []agent.Result) {
	started := p.now()
	p.log.printf("Reviewing %s (%d files, +%d/-%d) with %d reviewers in parallel\n",
		prLabel(pr), len(pr.Files), pr.Additions(), pr.Deletions(), len(reviewers))
	logs := make([]strings.Builder, len(reviewers))
	index := map[string]int{}
	for i, r := range reviewers {
		index[r.name] = i
	}
	mapper := iter.Mapper[reviewer, agent.Result]{MaxGoroutines: max(1, len(reviewers))}
	results := mapper.Map(reviewers, func(r *reviewer) agent.Result {
		return p.reviewOne(ctx, pr, *r, &logs[index[r.name]])
	})
	if p.grouped {
		for i, res := range results {
			p.log.printf("::group::%s: %s in %s\n%s::endgroup::\n", res.Run.Name, res.Run.Status,
				review.Duration(res.Run.Duration.Milliseconds()), logs[i].String())
		}
	}
	runs := make([]review.Run, len(results))
	for i, res := range results {
		runs[i] = res.Run
		if cost, known := llm.Cost(res.Run.Model, res.Run.Tokens, p.prices); known {
			runs[i].CostUSD = cost
		}
		p.log.printf("[%s] %s in %s: %d turns, %d tool calls%s\n", res.Run.Name, res.Run.Status,
			review.Duration(res.Run.Duration.Milliseconds()), res.Run.Turns, totalCalls(res.Run.ToolCalls), errSuffix(res.Run.Error))
	}
	repo := git.Repo{Dir: pr.Dir}
	if p.grouped && p.lead != nil {
		p.log.printf("::group::Lead: verify the findings and write the summary\n")
		defer p.log.printf("::endgroup::\n")
	}
	head := git.NewBatchTree(ctx, repo, pr.HeadSHA)
	defer head.Close()
	report := review.Consolidate(ctx, review.Input{
		PR:   pr,
		Runs: runs,
		Head: head,
		CheckPatch: func(ctx context.Context, patch string) error {
			return repo.CheckPatch(ctx, pr.HeadSHA, patch)
		},
		Lead:    p.lead,
		Started: started,
		Now:     p.now,
	})
	return report, results
}

// reviewOne runs one reviewer, turning a panic into that reviewer's failure.
// Its events go to the live log, or, when grouped, to its own log with only
// each turn's summary live; log is written by this reviewer alone.
func (p *pipeline) reviewOne(ctx context.Context, pr *review.PR, r reviewer, log *strings.Builder) (res agent.Result) {
	defer func() {
		if v := recover(); v != nil {
			res = agent.Result{Run: review.Run{
				Name: r.name, Provider: r.id.Provider, Model: r.id.Model, Effort: r.id.Effort, Label: r.id.Label,
				Status: review.StatusFailed, Error: fmt.Sprintf("internal error: %v", v),
			}}
		}
	}()
	return agent.Review(ctx, pr, agent.Config{
		Name:         r.name,
		Identity:     r.id,
		Model:        r.model,
		MaxTurns:     p.maxTurns,
		MaxTokens:    p.maxTokens,
		Timeout:      p.timeout,
		Instructions: p.instructions,
		Progress: func(ev agent.Progress) {
			if !p.grouped {
				p.log.printf("%s\n", ev.String())
				return
			}
			log.WriteString(ev.String() + "\n")
			if ev.Event == agent.EventTurn || ev.Event == agent.EventDone || ev.Event == agent.EventForce {
				p.log.printf("%s\n", ev.String())
			}
		},
	})
}

func prLabel(pr *review.PR) string {
	if pr.Number > 0 {
		return fmt.Sprintf("%s#%d", pr.Repo, pr.Number)
	}
	return fmt.Sprintf("%s %s..%s", pr.Repo, pr.BaseRef, pr.HeadRef)
}

func totalCalls(calls map[string]int) int {
	n := 0
	for _, c := range calls {
		n += c
	}
	return n
}

func errSuffix(e string) string {
	if e == "" {
		return ""
	}
	return ": " + e
}

// written lists the files an out dir holds after writeOutputs.
type written struct {
	Dir      string
	Markdown string
	Comment  string
	HTML     string
	JSON     string
	SARIF    string
	Raw      []string
}

// writeOutputs renders every format into dir: each file is written whole to
// a temporary name and renamed, so a reader never sees half a report. Raw
// transcripts have every secret value redacted.
func writeOutputs(dir string, r *review.Report, results []agent.Result, o render.Options) (written, error) {
	w := written{Dir: dir}
	if err := os.MkdirAll(filepath.Join(dir, "raw"), 0o755); err != nil {
		return w, fmt.Errorf("create out dir: %w", err)
	}
	redacted, err := render.Redact(r, o)
	if err != nil {
		return w, err
	}
	jsonBytes, err := render.JSON(redacted)
	if err != nil {
		return w, err
	}
	html, err := render.HTML(r, o)
	if err != nil {
		return w, err
	}
	sarif, err := render.SARIF(r, o)
	if err != nil {
		return w, err
	}
	files := []struct {
		name string
		data []byte
		dst  *string
	}{
		{"report.json", jsonBytes, &w.JSON},
		{"report.md", render.Markdown(r, o), &w.Markdown},
		{"comment.md", render.Comment(r, o), &w.Comment},
		{"report.html", html, &w.HTML},
		{"report.sarif", sarif, &w.SARIF},
	}
	for _, f := range files {
		path := filepath.Join(dir, f.name)
		if err := writeFileAtomic(path, f.data); err != nil {
			return w, err
		}
		*f.dst = path
	}
	for _, res := range results {
		data, err := json.MarshalIndent(rawRecord{Run: res.Run, Transcript: res.Transcript}, "", "  ")
		if err != nil {
			return w, fmt.Errorf("encode raw output of %s: %w", res.Run.Name, err)
		}
		data = []byte(redact(string(data), o.Secrets))
		path := filepath.Join(dir, "raw", fileName(res.Run.Name)+".json")
		if err := writeFileAtomic(path, append(data, '\n')); err != nil {
			return w, err
		}
		w.Raw = append(w.Raw, path)
	}
	return w, nil
}

// rawRecord is one reviewer's raw output in raw/: what it did, what it
// submitted and every message of its conversation.
type rawRecord struct {
	Run        review.Run       `json:"run"`
	Transcript agent.Transcript `json:"transcript"`
}

func writeFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	_, werr := tmp.Write(data)
	cerr := tmp.Close()
	if werr != nil || cerr != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("write %s: %w", path, errors.Join(werr, cerr))
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// redact replaces every secret value in s.
func redact(s string, secrets []string) string {
	for _, v := range secrets {
		if len(v) >= 8 {
			s = strings.ReplaceAll(s, v, render.Redacted)
		}
	}
	return s
}

// fileName makes a reviewer's name safe as a file name.
func fileName(name string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(name) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-', r == '.':
			b.WriteRune(r)
		default:
			b.WriteByte('-')
		}
	}
	return strings.Trim(b.String(), "-.")
}
