package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/deepreview/deep-review/render"
	"github.com/deepreview/deep-review/review"
	"github.com/deepreview/deep-review/review/agent"
	"github.com/deepreview/deep-review/review/demo"
	"github.com/deepreview/deep-review/review/git"
	"github.com/deepreview/deep-review/review/lead"
	"github.com/deepreview/deep-review/review/llm"
	"github.com/deepreview/deep-review/review/pr"
)

// The benchmarks measure what DESIGN.md's "Performance targets" promise.
// They only run with -bench; nothing here asserts a time.
//
//	go test -run='^$' -bench=Orchestration -benchtime=3x .
//	go test -run='^$' -bench=LargePR -benchtime=1x -benchmem .

// slowestModelTime is the model time of the slowest scripted reviewer in
// BenchmarkOrchestration: its turns' delays add up to this.
const slowestModelTime = 4500 * time.Millisecond

// Lead turn times of BenchmarkOrchestration: each finding's verification is
// two turns (read and blame, then verify_finding) and the synthesis one.
const (
	leadVerifyTurn = 250 * time.Millisecond
	leadSynthTurn  = 300 * time.Millisecond
)

// BenchmarkOrchestration measures the pipeline's overhead: three reviewers
// (the demo's scripted sessions, paced so the slowest spends 4.5 s in
// model turns and the others 3.8 s and 3.0 s) run in parallel through the
// real agent loop, whose tool calls run for real against the demo fixture
// repository, then consolidation, first without a lead and then with one
// whose turns take fixed times (250 ms per verification turn, two per
// finding, all findings at once; 300 ms for the synthesis: 0.8 s in all).
//
// Metrics: x-slowest is the wall time over the slowest reviewer's model
// time; ms-overhead the wall time above it; x-floor (with the lead) the
// ratio the lead's own model time alone would give. Targets (DESIGN.md):
// without the lead, wall <= slowest + 1 s (ms-overhead <= 1000); with the
// lead, wall <= 1.25 x slowest (x-slowest <= 1.25).
func BenchmarkOrchestration(b *testing.B) {
	p := benchDemoPR(b)
	sessions := pacedSessions(b, slowestModelTime)
	for _, withLead := range []bool{false, true} {
		name := "no-lead"
		if withLead {
			name = "lead"
		}
		b.Run(name, func(b *testing.B) {
			var wall time.Duration
			findings := 0
			for i := 0; i < b.N; i++ {
				var reviewers []agent.Config
				for _, s := range sessions {
					r := llm.NewReplay(s.Session)
					r.Pace = true
					reviewers = append(reviewers, agent.Config{Name: s.Name, Identity: r.Identity(), Model: r, MaxTurns: 40, MaxTokens: 2_000_000, Timeout: 2 * time.Minute})
				}
				var l review.Lead
				if withLead {
					l = lead.New(lead.Config{Name: "Lead (scripted)", Identity: llm.Identity{Provider: "scripted", Model: "lead"},
						Model: &timedLead{verify: leadVerifyTurn, synth: leadSynthTurn}, Concurrency: lead.MaxConcurrency})
				}
				pl := &pipeline{lead: l, now: time.Now, log: &syncWriter{w: io.Discard}}
				start := time.Now()
				report, _ := pl.run(context.Background(), p, reviewers)
				wall += time.Since(start)
				for _, s := range report.Reviewers {
					if s.Status != review.StatusOK {
						b.Fatalf("reviewer %s ended %s: %s", s.Name, s.Status, s.Error)
					}
				}
				if withLead && (report.Lead == nil || report.Lead.Status != review.StatusOK || report.Verdict.DecidedBy == review.DecidedByRules) {
					b.Fatalf("the lead did not decide: %+v, verdict %+v", report.Lead, report.Verdict)
				}
				findings = len(report.Findings) + len(report.Rejected)
			}
			mean := wall / time.Duration(b.N)
			b.ReportMetric(float64(mean)/float64(slowestModelTime), "x-slowest")
			b.ReportMetric(float64((mean - slowestModelTime).Milliseconds()), "ms-overhead")
			b.ReportMetric(float64(findings), "findings")
			if withLead {
				floor := slowestModelTime + 2*leadVerifyTurn + leadSynthTurn
				b.ReportMetric(float64(floor)/float64(slowestModelTime), "x-floor")
			}
		})
	}
}

// benchDemoPR gathers the demo fixture as a local pull request.
func benchDemoPR(tb testing.TB) *review.PR {
	tb.Helper()
	dir := tb.TempDir()
	ctx := context.Background()
	if err := demo.BuildRepo(ctx, dir); err != nil {
		tb.Fatal(err)
	}
	p, err := demo.Gather(ctx, dir)
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

// pacedSessions are the demo's scripted sessions with their delays scaled
// so the slowest one's turns add up to slowest.
func pacedSessions(tb testing.TB, slowest time.Duration) []demo.Reviewer {
	tb.Helper()
	rs, err := demo.Reviewers()
	if err != nil {
		tb.Fatal(err)
	}
	var most int64
	for _, r := range rs {
		var total int64
		for _, t := range r.Session.Turns {
			total += t.DelayMS
		}
		most = max(most, total)
	}
	for _, r := range rs {
		for i := range r.Session.Turns {
			r.Session.Turns[i].DelayMS = r.Session.Turns[i].DelayMS * slowest.Milliseconds() / most
		}
	}
	return rs
}

// timedLead is a lead model whose turns take fixed times: a verification
// reads and blames the cited lines, then accepts the finding at the
// severity it was given; the synthesis writes a verdict that follows the
// counts and a retro for every reviewer. It is safe for concurrent use.
type timedLead struct {
	verify, synth time.Duration
	turns         atomic.Int32
}

var (
	leadWhereRe    = regexp.MustCompile(`- Where: (\S+):(\d+)-(\d+)`)
	leadSeverityRe = regexp.MustCompile(`- Severity given: (\w+)`)
	leadCountsRe   = regexp.MustCompile(`Accepted findings: (\d+) critical, (\d+) important, (\d+) suggestions`)
	leadReviewerRe = regexp.MustCompile(`(?m)^### (.+)$`)
)

func (m *timedLead) Turn(ctx context.Context, req llm.Request) (*llm.Response, error) {
	m.turns.Add(1)
	synth := false
	for _, t := range req.Tools {
		synth = synth || t.Name == lead.ToolSynthesis
	}
	d := m.verify
	if synth {
		d = m.synth
	}
	if err := sleepCtx(ctx, d); err != nil {
		return nil, err
	}
	prompt := req.Messages[0].Text
	turn := len(req.Messages)
	if synth {
		return leadSynthesis(prompt, turn), nil
	}
	where := leadWhereRe.FindStringSubmatch(prompt)
	sev := leadSeverityRe.FindStringSubmatch(prompt)
	if where == nil || sev == nil || !review.Severity(sev[1]).Valid() {
		return nil, fmt.Errorf("timed lead: no finding location or severity in the prompt")
	}
	start, _ := strconv.Atoi(where[2])
	end, _ := strconv.Atoi(where[3])
	if turn == 1 {
		loc := map[string]any{"path": where[1], "start": start, "end": end}
		return toolTurn(turn, llm.ToolCall{Name: "read_file", Arguments: mustArgs(loc)}, llm.ToolCall{Name: "git_blame", Arguments: mustArgs(loc)}), nil
	}
	return toolTurn(turn, llm.ToolCall{Name: lead.ToolVerify, Arguments: mustArgs(map[string]any{
		"accept": true, "severity": sev[1], "pre_existing": false,
		"reason": fmt.Sprintf("Read %s:%d-%d and its blame; the claim holds.", where[1], start, end)})}), nil
}

func leadSynthesis(prompt string, turn int) *llm.Response {
	decision := review.Merge
	if c := leadCountsRe.FindStringSubmatch(prompt); c != nil {
		switch {
		case c[1] != "0":
			decision = review.Rework
		case c[2] != "0":
			decision = review.MergeWithFixes
		case c[3] != "0":
			decision = review.MergeWithOptionalFixes
		}
	}
	var retros []map[string]any
	for _, r := range leadReviewerRe.FindAllStringSubmatch(prompt, -1) {
		retros = append(retros, map[string]any{"reviewer": r[1], "text": r[1] + " read the changed files and found what the report lists."})
	}
	return toolTurn(turn, llm.ToolCall{Name: lead.ToolSynthesis, Arguments: mustArgs(map[string]any{
		"summary": "The pull request adds link expiry, a bulk import and a janitor; the findings listed need attention.", "decision": decision,
		"reason": "The verdict follows the accepted findings.", "retros": retros, "retro": "The reviewers overlapped on the main defects."})})
}

func toolTurn(turn int, calls ...llm.ToolCall) *llm.Response {
	for i := range calls {
		calls[i].ID = fmt.Sprintf("call_%d_%d", turn, i)
	}
	return &llm.Response{Message: llm.Message{Role: llm.Assistant, ToolCalls: calls}, Usage: review.Tokens{Input: 1000, Output: 100}, Stop: llm.StopToolUse}
}

func mustArgs(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// sleepCtx waits d or until ctx is done.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Sizes of BenchmarkLargePR's pull request: every third line of each file
// is rewritten, so the diff has files * lines/3 * 2 changed lines (102,000).
const (
	largeFiles    = 3000
	largeLines    = 51
	largeFindings = 1000
	largePatches  = 10
)

// BenchmarkLargePR measures a pull request of 3,000 changed files and
// 102,000 changed lines end to end: pr.Local gathers it, Consolidate merges
// 1,000 findings from three reviewers' synthetic submissions (a third of
// them cited by all three, so they cluster; every citation read from the
// head commit; ten patches checked with git apply), and every format is
// rendered. "fresh" has a two-commit history; "deep-history" puts 5,000
// commits of history under the base, which should not change the memory.
//
// Metrics: ns/op is the whole, s-gather, s-consolidate and s-render its
// parts; MB-peak-heap the largest live heap sampled
// every 5 ms during one iteration; MB-diff the diff's size, for scale.
// Target (DESIGN.md): seconds, with memory that grows with the diff, not
// with the history.
func BenchmarkLargePR(b *testing.B) {
	for _, history := range []int{0, 5000} {
		name := "fresh"
		if history > 0 {
			name = "deep-history"
		}
		b.Run(name, func(b *testing.B) {
			repo := largePRRepo(b, largeFiles, largeLines, history)
			ctx := context.Background()
			b.ReportAllocs()
			b.ResetTimer()
			var peak uint64
			var diffBytes int
			var gather, consolidate, rendering time.Duration
			for i := 0; i < b.N; i++ {
				stop := sampleHeap()
				t0 := time.Now()
				p, err := pr.Local(ctx, pr.LocalOptions{Dir: repo.Dir, Base: "main", Head: "feature"})
				if err != nil {
					b.Fatal(err)
				}
				t1 := time.Now()
				head := git.NewBatchTree(ctx, repo, p.HeadSHA)
				report := review.Consolidate(ctx, review.Input{
					PR:   p,
					Runs: largeRuns(largeFindings),
					Head: head,
					CheckPatch: func(ctx context.Context, patch string) error {
						return repo.CheckPatch(ctx, p.HeadSHA, patch)
					},
					Started: time.Unix(1700000000, 0), GeneratedAt: time.Unix(1700000060, 0),
				})
				head.Close()
				t2 := time.Now()
				o := render.Options{RepoURL: "https://github.com/acme/large"}
				out := len(render.Markdown(report, o)) + len(render.Comment(report, o))
				for _, f := range []func() ([]byte, error){
					func() ([]byte, error) { return render.HTML(report, o) },
					func() ([]byte, error) { return render.SARIF(report, o) },
					func() ([]byte, error) { return render.JSON(report) },
				} {
					data, err := f()
					if err != nil {
						b.Fatal(err)
					}
					out += len(data)
				}
				gather, consolidate, rendering = gather+t1.Sub(t0), consolidate+t2.Sub(t1), rendering+time.Since(t2)
				peak = max(peak, stop())
				diffBytes = len(p.Diff)
				if i == 0 {
					if len(p.Files) != largeFiles || out == 0 || len(report.Findings) == 0 {
						b.Fatalf("gathered %d files, rendered %d bytes, %d findings", len(p.Files), out, len(report.Findings))
					}
					b.ReportMetric(float64(len(report.Findings)), "findings-after-merge")
				}
			}
			n := float64(b.N)
			b.ReportMetric(gather.Seconds()/n, "s-gather")
			b.ReportMetric(consolidate.Seconds()/n, "s-consolidate")
			b.ReportMetric(rendering.Seconds()/n, "s-render")
			b.ReportMetric(float64(peak)/(1<<20), "MB-peak-heap")
			b.ReportMetric(float64(diffBytes)/(1<<20), "MB-diff")
		})
	}
}

// sampleHeap samples the live heap every 5 ms until the returned function
// is called, which returns the largest sample.
func sampleHeap() func() uint64 {
	runtime.GC()
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	read := func() uint64 {
		metrics.Read(sample)
		return sample[0].Value.Uint64()
	}
	var peak atomic.Uint64
	peak.Store(read())
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				if v := read(); v > peak.Load() {
					peak.Store(v)
				}
			}
		}
	}()
	return func() uint64 {
		close(done)
		wg.Wait()
		if v := read(); v > peak.Load() {
			peak.Store(v)
		}
		return peak.Load()
	}
}

// largeLine is line l (0-based) of file f at the base (version 0) or the
// head (version 1).
func largeLine(f, l, version int) string {
	if version > 0 && l%3 == 0 {
		return fmt.Sprintf("// TODO: line %d of file %d, rewritten", l, f)
	}
	return fmt.Sprintf("line %d of file %d", l, f)
}

func largePath(f int) string { return fmt.Sprintf("pkg%02d/file%04d.go", f%50, f) }

// largePRRepo writes, with git fast-import, a base commit of files files
// (after history commits that each touch one small file) and a head commit
// that rewrites every third line of each.
func largePRRepo(tb testing.TB, files, lines, history int) git.Repo {
	tb.Helper()
	repo := git.Repo{Dir: tb.TempDir(), Env: []string{
		"GIT_AUTHOR_NAME=Ada Lovelace", "GIT_AUTHOR_EMAIL=ada@example.com",
		"GIT_COMMITTER_NAME=Ada Lovelace", "GIT_COMMITTER_EMAIL=ada@example.com",
	}}
	ctx := context.Background()
	if _, err := repo.Run(ctx, "-c", "init.defaultBranch=main", "init", "-q"); err != nil {
		tb.Fatal(err)
	}
	var in bytes.Buffer
	mark := 0
	commit := func(branch, msg string, from int, body func()) {
		mark++
		fmt.Fprintf(&in, "commit refs/heads/%s\nmark :%d\ncommitter Ada Lovelace <ada@example.com> %d +0000\ndata %d\n%s\n", branch, mark, 1700000000+mark, len(msg), msg)
		if from > 0 {
			fmt.Fprintf(&in, "from :%d\n", from)
		}
		body()
	}
	for h := 0; h < history; h++ {
		from := mark
		commit("main", fmt.Sprintf("history %d", h), from, func() {
			data := fmt.Sprintf("change %d\n", h)
			fmt.Fprintf(&in, "M 100644 inline history/log%03d.txt\ndata %d\n%s\n", h%500, len(data), data)
		})
	}
	tree := func(version int) func() {
		return func() {
			for f := 0; f < files; f++ {
				var body strings.Builder
				for l := 0; l < lines; l++ {
					body.WriteString(largeLine(f, l, version))
					body.WriteByte('\n')
				}
				fmt.Fprintf(&in, "M 100644 inline %s\ndata %d\n%s\n", largePath(f), body.Len(), body.String())
			}
		}
	}
	commit("main", "base", mark, tree(0))
	base := mark
	commit("feature", "head", base, tree(1))
	if _, err := repo.RunInput(ctx, in.Bytes(), "fast-import", "--quiet"); err != nil {
		tb.Fatal(err)
	}
	return repo
}

// largeRuns are three reviewers' submissions with n findings in all. Every
// third location is cited by all three reviewers (so consolidation merges
// them); the rest by one. Each quotes the head's line; the first
// largePatches findings carry a patch that applies.
func largeRuns(n int) []review.Run {
	names := []string{"Claude", "GPT", "Gemini"}
	subs := make([]*review.Submission, len(names))
	for i := range subs {
		subs[i] = &review.Submission{Summary: "Synthetic review of a large pull request.", Verdict: review.MergeWithFixes}
	}
	severities := []review.Severity{review.Suggestion, review.Suggestion, review.Important, review.Suggestion, review.Critical}
	for k := 0; k < n; k++ {
		r := k % len(names)
		loc := k
		if k%9 < 3 {
			loc = k - r // the three reviewers of a group of three cite one place
		}
		f := (loc * 7) % largeFiles
		l := 3 * ((loc * 5) % (largeLines / 3)) // a rewritten line, 0-based
		sf := review.SubmittedFinding{
			Severity:    severities[loc%len(severities)],
			Tags:        []string{"correctness"},
			Title:       fmt.Sprintf("Line %d of %s is rewritten without a test", l+1, largePath(f)),
			File:        largePath(f),
			StartLine:   l + 1,
			EndLine:     l + 1,
			Quote:       largeLine(f, l, 1),
			Explanation: strings.Repeat(fmt.Sprintf("%s rewrites line %d, and nothing checks the new text. ", names[r], l+1), 4),
			Fix:         "Add a test for the rewritten line.",
		}
		if k < largePatches {
			sf.Patch = fmt.Sprintf("--- a/%s\n+++ b/%s\n@@ -%d +%d @@\n-%s\n+%s (tested)\n", sf.File, sf.File, l+1, l+1, sf.Quote, sf.Quote)
		}
		subs[r].Findings = append(subs[r].Findings, sf)
	}
	runs := make([]review.Run, len(names))
	for i, name := range names {
		runs[i] = review.Run{Name: name, Provider: "scripted", Model: strings.ToLower(name), Status: review.StatusOK,
			Duration: time.Minute, Turns: 20, ToolCalls: map[string]int{"read_file": 30}, Submission: subs[i]}
	}
	return runs
}
