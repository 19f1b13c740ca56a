package agent

import (
	"context"
	"encoding/json"
	"sort"
	"time"

	"github.com/deepreview/deep-review/review"
	"github.com/deepreview/deep-review/review/deps"
	"github.com/deepreview/deep-review/review/llm"
)

// Config is one reviewer: who it is, the model that takes its turns and its
// budgets.
type Config struct {
	// Name is the reviewer's name in the report.
	Name string
	// Identity names the model for the report.
	Identity llm.Identity
	Model    llm.Model
	// MaxTurns bounds the turns (default 40).
	MaxTurns int
	// MaxTokens bounds the tokens of the whole review; 0 is unbounded.
	MaxTokens int64
	// Timeout bounds the review's wall time; 0 leaves only ctx's deadline.
	Timeout time.Duration
	// MaxCostUSD is this reviewer's share of the run's cost cap in US
	// dollars (0 is unbounded); Price estimates the cost of its tokens, e.g.
	// llm.Cost of its model at the configured prices. When the next turn
	// would pass the share the reviewer is made to submit, as with MaxTokens.
	MaxCostUSD float64
	Price      func(review.Tokens) (usd float64, known bool)
	// MaxOutputTokens bounds each reply; 0 lets the adapter choose.
	MaxOutputTokens int64
	// ContextTokens is the model's context window in tokens; 0 takes
	// llm.ContextWindow of Identity.Model (a built-in table with a safe
	// default). See LoopConfig.ContextTokens.
	ContextTokens int64
	// Focus is the reviewer's emphasis, added to the common system prompt
	// (the config's focus, or one AssignFocus chose); empty adds none.
	Focus string
	// Instructions are the maintainers' trusted review instructions (the
	// instructions input, the config file's); they follow the guidelines
	// Review reads from the base branch.
	Instructions string
	// DiffBytes is how much of the diff the first message holds
	// (DefaultDiffBytes when 0).
	DiffBytes int
	// Deps, when set, offers read_dependency on a head with go.mod or
	// package-lock.json; one Fetcher may serve every reviewer and the lead.
	Deps *deps.Fetcher
	// Progress, when set, gets every event of the run, with Reviewer set.
	Progress func(Progress)
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Result is what one reviewer did, for consolidation and raw/.
type Result struct {
	Run        review.Run
	Transcript Transcript
}

// readTools are the tools whose successful calls count a file as reviewed.
var readTools = map[string]bool{ToolReadFile: true, ToolShowBase: true, ToolBlame: true}

// Review runs one reviewer on pr: the repository tools and submit_review,
// the system prompt with the repository's guidelines from the base branch,
// and the first message from UserPrompt, within cfg's budgets. It never
// panics on a tool and always returns: a reviewer that never submits is
// failed or timed-out with the reason in Run.Error, its partial transcript
// kept. Review is safe to call concurrently for different reviewers.
func Review(ctx context.Context, pr *review.PR, cfg Config) Result {
	maxTurns := cfg.MaxTurns
	if maxTurns <= 0 {
		maxTurns = DefaultMaxTurns
	}
	progress := cfg.Progress
	if progress != nil {
		progress = func(p Progress) {
			p.Reviewer = cfg.Name
			cfg.Progress(p)
		}
	}
	// The deadline covers reading the guidelines too.
	if cfg.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, cfg.Timeout)
		defer cancel()
	}
	depTools := DependencyTools(ctx, pr, cfg.Deps)
	tools := append(RepoTools(pr), CheckPatchTool(pr))
	tools = append(append(tools, depTools...), SubmitTool())
	lr := Loop(ctx, LoopConfig{
		Model: cfg.Model,
		System: SystemPromptFor(PromptOptions{
			MaxTurns: maxTurns, Guidelines: Guidelines(ctx, pr, cfg.Instructions), Dependencies: len(depTools) > 0, Focus: cfg.Focus,
		}),
		Prompt:          UserPrompt(pr, cfg.DiffBytes),
		Tools:           tools,
		Final:           ToolSubmit,
		MaxTurns:        maxTurns,
		MaxTokens:       cfg.MaxTokens,
		Timeout:         cfg.Timeout,
		MaxCostUSD:      cfg.MaxCostUSD,
		Price:           cfg.Price,
		MaxOutputTokens: cfg.MaxOutputTokens,
		ContextTokens:   contextWindow(cfg),
		Progress:        progress,
		Now:             cfg.Now,
	})
	run := review.Run{
		Name:     cfg.Name,
		Provider: cfg.Identity.Provider,
		Model:    cfg.Identity.Model,
		Effort:   cfg.Identity.Effort,
		Label:    cfg.Identity.Label,
		Focus:    oneLine(cfg.Focus),
		Status:   lr.Status,
		Salvaged: lr.Salvaged,
		Duration: lr.Duration,
		Turns:    lr.Turns,
		// Copy so the run does not share the loop's map.
		ToolCalls: map[string]int{},
		Tokens:    lr.Tokens,
	}
	for k, v := range lr.ToolCalls {
		run.ToolCalls[k] = v
	}
	if lr.Err != nil {
		run.Error = lr.Err.Error()
	}
	if lr.Status == review.StatusOK {
		s, err := ParseSubmission(lr.Final)
		if err != nil { // cannot happen: the tool accepted these arguments
			run.Status, run.Error = review.StatusFailed, "submission: "+err.Error()
		} else {
			run.Submission = s
		}
	}
	run.FilesReviewed = filesReviewed(lr.Transcript, run.Submission)
	return Result{Run: run, Transcript: lr.Transcript}
}

// contextWindow is the reviewer's context window: configured, or from the
// model table.
func contextWindow(cfg Config) int64 {
	if cfg.ContextTokens > 0 {
		return cfg.ContextTokens
	}
	return llm.ContextWindow(cfg.Identity.Model)
}

// filesReviewed is the sorted union of the paths read successfully with
// read_file, show_base and git_blame, and the submission's files_reviewed.
func filesReviewed(t Transcript, s *review.Submission) []string {
	set := map[string]bool{}
	var pending map[string]string // call ID -> path, for the last assistant message
	for _, m := range t.Messages {
		if m.Role == llm.Assistant {
			pending = map[string]string{}
			for _, c := range m.ToolCalls {
				if !readTools[c.Name] {
					continue
				}
				var p struct {
					Path string `json:"path"`
				}
				if json.Unmarshal(c.Arguments, &p) != nil {
					continue
				}
				if rel, err := cleanPath(p.Path); err == nil {
					pending[c.ID] = rel
				}
			}
			continue
		}
		for _, r := range m.ToolResults {
			if p, ok := pending[r.CallID]; ok && !r.IsError {
				set[p] = true
			}
		}
	}
	if s != nil {
		for _, f := range s.FilesReviewed {
			set[f] = true
		}
	}
	files := make([]string, 0, len(set))
	for f := range set {
		files = append(files, f)
	}
	sort.Strings(files)
	return files
}
