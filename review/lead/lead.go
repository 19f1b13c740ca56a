// Package lead is the lead model: it verifies each consolidated finding with
// a short agent run over the read-only repository tools, and writes the
// report's executive summary, verdict and retro in one synthesis turn. It
// implements review.Lead.
package lead

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/deepreview/deep-review/review"
	"github.com/deepreview/deep-review/review/agent"
	"github.com/deepreview/deep-review/review/deps"
	"github.com/deepreview/deep-review/review/llm"
)

// Defaults and bounds of Config.
const (
	DefaultConcurrency      = 4
	MaxConcurrency          = 16
	DefaultMaxTurns         = 8
	MaxMaxTurns             = 30
	DefaultTimeout          = 5 * time.Minute
	DefaultVerifyTimeout    = 20 * time.Minute
	DefaultMaxTokens        = 300_000
	DefaultSynthesisTimeout = 5 * time.Minute
	DefaultSynthesisTokens  = 200_000
	// synthesisTurns lets the model correct an invalid write_synthesis call
	// twice.
	synthesisTurns = 3
	// maxResultBytes bounds each tool result of a verification run.
	maxResultBytes = 32 << 10
)

// Config configures a Lead. The zero value of every bound takes its default.
type Config struct {
	// Name is how the report names the lead, e.g. "Lead (Claude)"; empty
	// derives one from Identity.
	Name string
	// Identity names the model for the report.
	Identity llm.Identity
	// Model takes the turns. Verify calls Turn from up to Concurrency
	// goroutines at once, so it must be safe for concurrent use (the
	// provider adapters are). A replayed session serves turns in order:
	// replay a lead with Concurrency 1.
	Model llm.Model
	// Concurrency is how many findings are verified at once (default 4,
	// at most 16).
	Concurrency int
	// MaxTurns bounds each finding's run (default 8, at most 30).
	MaxTurns int
	// Timeout bounds each finding's run (default 5 minutes).
	Timeout time.Duration
	// VerifyTimeout bounds a whole Verify (default 20 minutes): findings
	// still unjudged then keep their reviewers' word, with a note.
	VerifyTimeout time.Duration
	// MaxTokens bounds each finding's run in total tokens (default 300,000).
	MaxTokens int64
	// SynthesisTimeout and SynthesisMaxTokens bound the synthesis (default
	// 5 minutes and 200,000 tokens).
	SynthesisTimeout   time.Duration
	SynthesisMaxTokens int64
	// MaxOutputTokens bounds each reply; 0 lets the adapter choose.
	MaxOutputTokens int64
	// Cost prices the lead's tokens in US dollars; nil leaves the cost at 0.
	// Wire it to the price table, e.g. llm.Cost(identity.Model, t, prices).
	Cost func(review.Tokens) float64
	// Deps, when set, offers read_dependency to each verification run on a
	// head with go.mod or package-lock.json (see agent.DependencyTools).
	Deps *deps.Fetcher
	// Progress, when set, is told what each run does. Calls are serialised,
	// so it need not be safe for concurrent use; Progress.Reviewer names the
	// lead and the finding ("Lead (Claude) #3: ...").
	Progress func(agent.Progress)
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Lead verifies findings and writes the synthesis; see review.Lead. It is
// safe for concurrent use, though Consolidate calls Verify, then Synthesize.
type Lead struct {
	cfg Config

	mu          sync.Mutex
	progressMu  sync.Mutex
	tokens      review.Tokens
	elapsed     time.Duration
	verifyErr   string
	failed      int // findings whose verification failed
	judged      int // findings verified
	synthErr    string
	synthStatus string
}

var _ review.Lead = (*Lead)(nil)

// New returns a lead with cfg's bounds, defaults filled in.
func New(cfg Config) *Lead {
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = DefaultConcurrency
	}
	cfg.Concurrency = min(cfg.Concurrency, MaxConcurrency)
	if cfg.MaxTurns <= 0 {
		cfg.MaxTurns = DefaultMaxTurns
	}
	cfg.MaxTurns = min(cfg.MaxTurns, MaxMaxTurns)
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.VerifyTimeout <= 0 {
		cfg.VerifyTimeout = DefaultVerifyTimeout
	}
	if cfg.MaxTokens <= 0 {
		cfg.MaxTokens = DefaultMaxTokens
	}
	if cfg.SynthesisTimeout <= 0 {
		cfg.SynthesisTimeout = DefaultSynthesisTimeout
	}
	if cfg.SynthesisMaxTokens <= 0 {
		cfg.SynthesisMaxTokens = DefaultSynthesisTokens
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if strings.TrimSpace(cfg.Name) == "" {
		cfg.Name = defaultName(cfg.Identity)
	}
	return &Lead{cfg: cfg}
}

func defaultName(id llm.Identity) string {
	switch {
	case id.Model != "":
		return "Lead (" + id.Model + ")"
	case id.Provider != "":
		return "Lead (" + id.Provider + ")"
	}
	return "Lead"
}

// Stats is what the lead did so far: its tokens summed over every run, the
// wall time of Verify and Synthesize, their cost, and a status that is ok
// unless the synthesis failed or no finding could be verified.
func (l *Lead) Stats() review.LeadStats {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := review.LeadStats{
		Name:       l.cfg.Name,
		Model:      l.cfg.Identity.Model,
		Status:     review.StatusOK,
		DurationMS: l.elapsed.Milliseconds(),
		Tokens:     l.tokens,
	}
	if l.cfg.Identity.Label != "" {
		s.Model = strings.TrimSpace(s.Model + " (" + l.cfg.Identity.Label + ")")
	}
	if l.cfg.Cost != nil {
		s.CostUSD = l.cfg.Cost(l.tokens)
	}
	var errs []string
	if l.verifyErr != "" {
		errs = append(errs, l.verifyErr)
		s.Status = review.StatusFailed
	} else if l.failed > 0 {
		errs = append(errs, fmt.Sprintf("%d of %d findings could not be verified", l.failed, l.failed+l.judged))
		if l.judged == 0 {
			s.Status = review.StatusFailed
		}
	}
	if l.synthErr != "" {
		errs = append(errs, "synthesis: "+l.synthErr)
		s.Status = l.synthStatus
	}
	s.Error = strings.Join(errs, "; ")
	return s
}

// record adds one run's tokens.
func (l *Lead) record(t review.Tokens) {
	l.mu.Lock()
	l.tokens = l.tokens.Add(t)
	l.mu.Unlock()
}

// took adds wall time to the lead's duration.
func (l *Lead) took(d time.Duration) {
	l.mu.Lock()
	l.elapsed += d
	l.mu.Unlock()
}

// progress returns the Progress callback of one run, serialised and
// labelled, or nil.
func (l *Lead) progress(label string) func(agent.Progress) {
	if l.cfg.Progress == nil {
		return nil
	}
	return func(p agent.Progress) {
		p.Reviewer = l.cfg.Name
		if label != "" {
			p.Reviewer += " " + label
		}
		l.progressMu.Lock()
		defer l.progressMu.Unlock()
		l.cfg.Progress(p)
	}
}

// errNoModel is returned when the lead has no model to run.
var errNoModel = errors.New("the lead has no model; set lead.Config.Model")

// fenceTag marks untrusted text in a prompt; the reviewers' prompts use the
// same tag.
const fenceTag = "untrusted-pr-content"

// fence wraps untrusted text in <untrusted-pr-content kind="..."> tags,
// neutralising any tag of that name inside the text so it cannot close the
// fence early.
func fence(kind, text string) string {
	text = neutralise(text)
	if !strings.HasSuffix(text, "\n") {
		text += "\n"
	}
	return fmt.Sprintf("<%s kind=%q>\n%s</%s>\n", fenceTag, kind, text, fenceTag)
}

// neutralise escapes the "<" of every fence tag, open or close, whatever
// its case or spacing.
func neutralise(text string) string {
	lower := strings.ToLower(text)
	var b strings.Builder
	last := 0
	for i := 0; i < len(text); i++ {
		if text[i] != '<' {
			continue
		}
		j := i + 1
		for j < len(text) && (text[j] == ' ' || text[j] == '\t' || text[j] == '/') {
			j++
		}
		if strings.HasPrefix(lower[j:], fenceTag) {
			b.WriteString(text[last:i])
			b.WriteString("&lt;")
			last = i + 1
		}
	}
	b.WriteString(text[last:])
	return b.String()
}

// clip bounds s to n bytes on a rune boundary, marking the cut.
func clip(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8Start(s[cut]) {
		cut--
	}
	return s[:cut] + " […]"
}

func utf8Start(b byte) bool { return b&0xC0 != 0x80 }

// oneLine folds white space, for titles in lists.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
