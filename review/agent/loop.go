package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/deepreview/deep-review/review"
	"github.com/deepreview/deep-review/review/llm"
)

// Defaults of LoopConfig's bounds.
const (
	DefaultMaxTurns       = 40
	DefaultMaxResultBytes = 64 << 10
)

// nudgeText is the message a model gets once when it ends a turn without a
// tool call.
const nudgeText = "You ended your turn without calling a tool. The review ends only when you call %s: call it now with everything you have found."

// LoopConfig is one bounded agent run.
type LoopConfig struct {
	// Model takes the turns.
	Model llm.Model
	// System and Prompt open the conversation.
	System string
	Prompt string
	// Tools the model may call; Final names the one that ends the run when it
	// succeeds, and must be among them.
	Tools []Tool
	Final string
	// MaxTurns bounds the model turns (default 40); the last one forces Final.
	MaxTurns int
	// MaxTokens bounds the tokens of the run (review.Tokens.Total summed over
	// turns); 0 is unbounded. When the next turn would likely cross it, that
	// turn forces Final.
	MaxTokens int64
	// Timeout bounds the run's wall time; 0 leaves only ctx's deadline.
	Timeout time.Duration
	// MaxCostUSD bounds the run's estimated cost in US dollars, priced by
	// Price; 0, a nil Price or a model Price does not know leaves it
	// unbounded. When a free turn and the Final turn after it would likely
	// cross it (the cost so far plus twice the last turn's), this turn
	// forces Final, so the run ends within the cap when its turns cost
	// about the same.
	MaxCostUSD float64
	Price      func(review.Tokens) (usd float64, known bool)
	// MaxOutputTokens bounds each reply; 0 lets the adapter choose.
	MaxOutputTokens int64
	// MaxResultBytes bounds each tool result (default 64 KiB).
	MaxResultBytes int
	// ContextTokens is the model's context window in tokens
	// (llm.DefaultContextTokens when 0). Each request's size is estimated
	// (see estimateTokens); when one would not fit, with room kept for the
	// reply, the oldest tool results are shortened first, and when even that
	// is not enough the turn forces Final.
	ContextTokens int64
	// Progress, when set, is called synchronously as the run goes.
	Progress func(Progress)
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Progress events.
const (
	EventTurn  = "turn"  // a model turn ended
	EventTool  = "tool"  // a tool call ran
	EventNudge = "nudge" // the model ended a turn without a tool call
	EventForce = "force" // the next turn forces the final tool
	EventDone  = "done"  // the run ended
)

// Progress is one thing that happened in a run, for the log.
type Progress struct {
	// Reviewer is set by Review; Loop leaves it empty.
	Reviewer string
	Event    string
	Turn     int
	// Tool, Args and IsError describe a tool call (EventTool).
	Tool    string
	Args    string
	IsError bool
	// Calls is the number of tool calls of the turn (EventTurn).
	Calls int
	// Tokens are the run's tokens so far; Elapsed its wall time so far.
	Tokens  review.Tokens
	Elapsed time.Duration
	// Text is a reason (EventForce, EventDone) or a status.
	Text string
}

// String is the progress as one log line, safe to print into an Actions
// log: the model's and provider's text in it (tool names, arguments,
// reasons) goes through LogLine, so it can neither start a line nor issue a
// workflow command.
func (p Progress) String() string {
	var b strings.Builder
	if p.Reviewer != "" {
		b.WriteString(p.Reviewer + ": ")
	}
	switch p.Event {
	case EventTool:
		fmt.Fprintf(&b, "turn %d: %s %s", p.Turn, p.Tool, p.Args)
		if p.IsError {
			b.WriteString(" (error)")
		}
	case EventTurn:
		fmt.Fprintf(&b, "turn %d: %d tool calls, %d tokens, %s", p.Turn, p.Calls, p.Tokens.Total(), p.Elapsed.Round(time.Millisecond))
	default:
		fmt.Fprintf(&b, "turn %d: %s: %s", p.Turn, p.Event, p.Text)
	}
	return LogLine(b.String())
}

// TurnRecord is what one model turn cost.
type TurnRecord struct {
	Turn       int            `json:"turn"`
	Usage      review.Tokens  `json:"usage"`
	DurationMS int64          `json:"duration_ms"`
	Stop       string         `json:"stop"`
	ToolChoice llm.ToolChoice `json:"tool_choice"`
	ToolCalls  int            `json:"tool_calls"`
}

// Transcript is the whole conversation of a run, with each turn's cost:
// what raw/ keeps and the retro reads.
type Transcript struct {
	System   string        `json:"system"`
	Tools    []llm.Tool    `json:"tools"`
	Messages []llm.Message `json:"messages"`
	Turns    []TurnRecord  `json:"turns"`
}

// LoopResult is how a run ended.
type LoopResult struct {
	// Final holds the arguments of the final tool's successful call, nil when
	// it never succeeded.
	Final json.RawMessage
	// Status is review.StatusOK, StatusFailed or StatusTimedOut; Err says why
	// when it is not ok.
	Status     string
	Err        error
	Transcript Transcript
	// ToolCalls counts calls by tool name, failed calls included.
	ToolCalls map[string]int
	Turns     int
	Tokens    review.Tokens
	Duration  time.Duration
	// Salvaged says why the run was saved by a forced final turn after a
	// model turn failed (a provider error past its retries, a request larger
	// than the context window); empty when no turn failed.
	Salvaged string
}

// Loop runs the model with the tools until it calls cfg.Final successfully,
// or a bound stops it: the turn budget, the token budget or the deadline. It
// never panics on a tool's panic and always returns the transcript so far.
// A turn's tool calls run in order and their results go back in one user
// message; a *ToolError becomes an error result the model may act on, while
// any other tool error ends the run as failed. When a model turn fails after
// at least one turn succeeded (or the provider refused the request as too
// large for its context window), the model gets one more turn, forced to call
// Final, with every tool result shortened; if that call succeeds the run is
// ok and LoopResult.Salvaged says what failed.
func Loop(ctx context.Context, cfg LoopConfig) LoopResult {
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	start := now()
	res := LoopResult{ToolCalls: map[string]int{}}
	finish := func(status string, err error) LoopResult {
		res.Status, res.Err = status, err
		res.Duration = now().Sub(start)
		text := status
		if err != nil {
			text += ": " + err.Error()
		}
		cfg.progress(Progress{Event: EventDone, Turn: res.Turns, Tokens: res.Tokens, Elapsed: res.Duration, Text: text})
		return res
	}
	tools := map[string]Tool{}
	specs := make([]llm.Tool, 0, len(cfg.Tools))
	for _, t := range cfg.Tools {
		tools[t.Name] = t
		specs = append(specs, t.Spec())
	}
	res.Transcript = Transcript{System: cfg.System, Tools: specs, Messages: []llm.Message{{Role: llm.User, Text: cfg.Prompt}}}
	if cfg.Model == nil {
		return finish(review.StatusFailed, errors.New("no model to run"))
	}
	if _, ok := tools[cfg.Final]; !ok {
		return finish(review.StatusFailed, fmt.Errorf("final tool %q is not among the tools", cfg.Final))
	}
	maxTurns := cfg.MaxTurns
	if maxTurns <= 0 {
		maxTurns = DefaultMaxTurns
	}
	maxResult := cfg.MaxResultBytes
	if maxResult <= 0 {
		maxResult = DefaultMaxResultBytes
	}
	if cfg.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, cfg.Timeout)
		defer cancel()
	}

	nudged, force := false, false
	var lastTurn int64 // tokens the last turn took: the estimate of the next
	var lastUsage review.Tokens
	var lastFinalErr string
	fit := fitTokens(cfg.ContextTokens, cfg.MaxOutputTokens)
	var shrunk shrinkSet
	for turn := 1; turn <= maxTurns; turn++ {
		if err := ctx.Err(); err != nil {
			return finish(ctxStatus(err, cfg.Timeout, turn-1))
		}
		msgs, est, full := fitRequest(cfg.System, specs, res.Transcript.Messages, &shrunk, fit)
		reason := ""
		switch {
		case full:
			reason = fmt.Sprintf("context window nearly full: about %d tokens of %d", est, contextTokens(cfg.ContextTokens))
		case force:
			reason = "the model ended its turn without a tool call"
		case turn == maxTurns:
			reason = fmt.Sprintf("last turn of %d", maxTurns)
		case cfg.MaxTokens > 0 && res.Tokens.Total()+lastTurn >= cfg.MaxTokens:
			reason = fmt.Sprintf("token budget nearly spent: %d of %d", res.Tokens.Total(), cfg.MaxTokens)
		case cfg.costCapped(res.Tokens, lastUsage.Add(lastUsage)):
			spent, _ := cfg.Price(res.Tokens)
			reason = fmt.Sprintf("cost cap nearly reached: $%.4f of $%.4f", spent, cfg.MaxCostUSD)
		}
		if cfg.MaxTokens > 0 && res.Tokens.Total() >= cfg.MaxTokens && turn > 1 && wasForced(res.Transcript) {
			return finish(review.StatusFailed, fmt.Errorf("token budget of %d spent (%d used) without a valid %s call%s", cfg.MaxTokens, res.Tokens.Total(), cfg.Final, lastFinalErr))
		}
		if cfg.costCapped(res.Tokens, review.Tokens{}) && turn > 1 && wasForced(res.Transcript) {
			spent, _ := cfg.Price(res.Tokens)
			return finish(review.StatusFailed, fmt.Errorf("cost cap of $%.4f spent ($%.4f estimated) without a valid %s call%s", cfg.MaxCostUSD, spent, cfg.Final, lastFinalErr))
		}
		choice := llm.ToolChoice{Mode: llm.ChoiceAuto}
		if reason != "" {
			choice = llm.ToolChoice{Mode: llm.ChoiceTool, Name: cfg.Final}
			cfg.progress(Progress{Event: EventForce, Turn: turn, Tokens: res.Tokens, Elapsed: now().Sub(start), Text: cfg.Final + " (" + reason + ")"})
		}
		force = false
		req := llm.Request{
			System:          cfg.System,
			Messages:        msgs,
			Tools:           specs,
			ToolChoice:      choice,
			MaxOutputTokens: cfg.MaxOutputTokens,
		}
		t0 := now()
		resp, err := turnSafely(ctx, cfg.Model, req)
		took := now().Sub(t0)
		if err != nil {
			if ctx.Err() != nil {
				return finish(ctxStatus(ctx.Err(), cfg.Timeout, turn-1))
			}
			err = fmt.Errorf("model turn %d: %w", turn, err)
			if res.Turns > 0 || errors.Is(err, llm.ErrContextLength) {
				if salvage(ctx, cfg, tools, specs, &res, turn, err, now) {
					return finish(review.StatusOK, nil)
				}
			}
			return finish(review.StatusFailed, err)
		}
		res.Turns = turn
		res.Tokens = res.Tokens.Add(resp.Usage)
		lastTurn = resp.Usage.Total()
		lastUsage = resp.Usage
		msg := resp.Message
		msg.Role = llm.Assistant
		res.Transcript.Messages = append(res.Transcript.Messages, msg)
		res.Transcript.Turns = append(res.Transcript.Turns, TurnRecord{
			Turn: turn, Usage: resp.Usage, DurationMS: took.Milliseconds(), Stop: resp.Stop, ToolChoice: choice, ToolCalls: len(msg.ToolCalls),
		})

		if len(msg.ToolCalls) == 0 {
			cfg.progress(Progress{Event: EventTurn, Turn: turn, Tokens: res.Tokens, Elapsed: now().Sub(start)})
			if nudged {
				return finish(review.StatusFailed, fmt.Errorf("the model ended turn %d without calling %s, after a reminder", turn, cfg.Final))
			}
			nudged, force = true, true
			cfg.progress(Progress{Event: EventNudge, Turn: turn, Tokens: res.Tokens, Elapsed: now().Sub(start), Text: "no tool call; reminding the model to call " + cfg.Final})
			res.Transcript.Messages = append(res.Transcript.Messages, llm.Message{Role: llm.User, Text: fmt.Sprintf(nudgeText, cfg.Final)})
			continue
		}

		results := make([]llm.ToolResult, 0, len(msg.ToolCalls))
		done := false
		for _, c := range msg.ToolCalls {
			if done {
				results = append(results, llm.ToolResult{CallID: c.ID, Name: c.Name, Content: "Not run: the review was already submitted.", IsError: true})
				continue
			}
			res.ToolCalls[c.Name]++
			out, isErr, err := runTool(ctx, tools, c, maxResult)
			if err != nil {
				res.Transcript.Messages = append(res.Transcript.Messages, llm.Message{Role: llm.User, ToolResults: results})
				if ctx.Err() != nil {
					return finish(ctxStatus(ctx.Err(), cfg.Timeout, turn))
				}
				return finish(review.StatusFailed, fmt.Errorf("tool %s: %w", c.Name, err))
			}
			cfg.progress(Progress{Event: EventTool, Turn: turn, Tool: c.Name, Args: brief(c.Arguments), IsError: isErr, Tokens: res.Tokens, Elapsed: now().Sub(start)})
			results = append(results, llm.ToolResult{CallID: c.ID, Name: c.Name, Content: out, IsError: isErr})
			if c.Name == cfg.Final {
				if isErr {
					lastFinalErr = ": " + firstLine(out)
				} else {
					res.Final = append(json.RawMessage(nil), c.Arguments...)
					done = true
				}
			}
		}
		batch := llm.Message{Role: llm.User, ToolResults: results}
		if !done {
			batch.Text = turnNote(turn, maxTurns)
		}
		res.Transcript.Messages = append(res.Transcript.Messages, batch)
		cfg.progress(Progress{Event: EventTurn, Turn: turn, Calls: len(msg.ToolCalls), Tokens: res.Tokens, Elapsed: now().Sub(start)})
		if done {
			return finish(review.StatusOK, nil)
		}
	}
	return finish(review.StatusFailed, fmt.Errorf("turn budget of %d spent without a valid %s call%s", maxTurns, cfg.Final, lastFinalErr))
}

// costCapped reports whether the cost of spent plus next reaches
// MaxCostUSD; false when there is no cap or the price is unknown.
func (cfg LoopConfig) costCapped(spent, next review.Tokens) bool {
	if cfg.MaxCostUSD <= 0 || cfg.Price == nil {
		return false
	}
	usd, known := cfg.Price(spent.Add(next))
	return known && usd >= cfg.MaxCostUSD
}

// turnNote ends every batch of tool results, so the model knows its turns.
func turnNote(turn, maxTurns int) string {
	left := maxTurns - turn
	switch left {
	case 0:
		return fmt.Sprintf("[turn %d of %d: no turns left]", turn, maxTurns)
	case 1:
		return fmt.Sprintf("[turn %d of %d: the next turn is the last and must call the final tool]", turn, maxTurns)
	}
	return fmt.Sprintf("[turn %d of %d: %d turns left]", turn, maxTurns, left)
}

func (cfg LoopConfig) progress(p Progress) {
	if cfg.Progress != nil {
		cfg.Progress(p)
	}
}

// wasForced reports whether the last turn already forced the final tool.
func wasForced(t Transcript) bool {
	return len(t.Turns) > 0 && t.Turns[len(t.Turns)-1].ToolChoice.Mode == llm.ChoiceTool
}

// ctxStatus maps a context error to a status: a deadline is a timeout, a
// cancellation a failure.
func ctxStatus(err error, timeout time.Duration, turns int) (string, error) {
	if errors.Is(err, context.DeadlineExceeded) {
		if timeout > 0 {
			return review.StatusTimedOut, fmt.Errorf("deadline of %s reached after %d turns", timeout, turns)
		}
		return review.StatusTimedOut, fmt.Errorf("deadline reached after %d turns", turns)
	}
	return review.StatusFailed, fmt.Errorf("canceled after %d turns: %w", turns, err)
}

// turnSafely calls the model, turning a panic into an error.
func turnSafely(ctx context.Context, m llm.Model, req llm.Request) (resp *llm.Response, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("model panicked: %v", r)
		}
	}()
	resp, err = m.Turn(ctx, req)
	if err == nil && resp == nil {
		err = errors.New("model returned no response")
	}
	return resp, err
}

// runTool runs one call. It returns the result text and whether it is an
// error result; err is set only for failures that end the run. A panicking
// tool becomes an error result, so one bad file does not lose the review.
func runTool(ctx context.Context, tools map[string]Tool, c llm.ToolCall, maxResult int) (out string, isErr bool, err error) {
	t, ok := tools[c.Name]
	if !ok {
		names := make([]string, 0, len(tools))
		for n := range tools {
			names = append(names, n)
		}
		sort.Strings(names)
		return fmt.Sprintf("There is no tool %q; the tools are: %s.", c.Name, strings.Join(names, ", ")), true, nil
	}
	defer func() {
		if r := recover(); r != nil {
			out, isErr, err = fmt.Sprintf("Tool %s failed with an internal error (%v); try other arguments or another tool.", c.Name, r), true, nil
		}
	}()
	out, err = t.Run(ctx, c.Arguments)
	if err != nil {
		var te *ToolError
		if errors.As(err, &te) {
			return capResult(te.Message, maxResult), true, nil
		}
		return "", false, err
	}
	return capResult(out, maxResult), false, nil
}

func capResult(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return cutUTF8(s, n) + fmt.Sprintf("\n[result cut at %d bytes; ask for less]", n)
}

// brief is a tool call's arguments on one short line, for the log.
func brief(args json.RawMessage) string {
	s := strings.Join(strings.Fields(string(args)), " ")
	if len(s) > 160 {
		s = cutUTF8(s, 160) + "..."
	}
	return s
}

func firstLine(s string) string {
	lines := strings.SplitN(s, "\n", 3)
	if len(lines) > 1 && strings.HasSuffix(lines[0], ":") {
		return lines[0] + " " + lines[1]
	}
	return lines[0]
}
