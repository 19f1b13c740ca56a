package agent

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/deepreview/deep-review/review/llm"
)

// Bounds of fitting requests into the context window.
const (
	// defaultReplyReserve is the room kept for the reply when
	// MaxOutputTokens is 0.
	defaultReplyReserve = 16_000
	// shortResultBytes is what a shortened tool result keeps.
	shortResultBytes = 600
	// salvageResultBytes is what each tool result keeps in a salvage turn.
	salvageResultBytes = 300
)

// salvageText asks for the submission after a failed turn.
const salvageText = "Your last turn failed (%s). Tool results above are shortened. Call %s now with everything you have found so far; no other tool will run."

// estimateTokens is a request's size in tokens, estimated as its characters
// divided by four: the system prompt, every message's text, tool calls'
// names and arguments, tool results and opaque provider state, and the tool
// schemas. It is a rule of thumb, not a tokenizer: code often takes fewer
// characters per token, which is why fitTokens keeps a margin.
func estimateTokens(system string, tools []llm.Tool, msgs []llm.Message) int64 {
	n := len(system)
	for _, t := range tools {
		n += len(t.Name) + len(t.Description) + len(t.Schema)
	}
	for _, m := range msgs {
		n += messageChars(m)
	}
	return int64(n / 4)
}

func messageChars(m llm.Message) int {
	n := len(m.Text) + len(m.Opaque)
	for _, c := range m.ToolCalls {
		n += len(c.ID) + len(c.Name) + len(c.Arguments)
	}
	for _, r := range m.ToolResults {
		n += len(r.CallID) + len(r.Name) + len(r.Content)
	}
	return n
}

func contextTokens(window int64) int64 {
	if window <= 0 {
		return llm.DefaultContextTokens
	}
	return window
}

// fitTokens is the largest estimated request a window of window tokens
// takes: the window less the reply's room, less a fifth for the estimate's
// error.
func fitTokens(window, maxOutput int64) int64 {
	window = contextTokens(window)
	reserve := maxOutput
	if reserve <= 0 {
		reserve = defaultReplyReserve
	}
	reserve = min(reserve, window/4)
	return (window - reserve) * 4 / 5
}

// shrinkSet is the tool results already shortened, by message and result
// index. It only grows, so once a result is shortened every later request
// sends it shortened too and the conversation's prefix stays stable for
// the providers' prompt caches.
type shrinkSet map[[2]int]bool

// fitRequest is the messages of the next request, their estimated size and
// whether the conversation has outgrown the window: the transcript with the
// results in shrunk shortened and, while the estimate is over fit, more
// results shortened, oldest first, sparing the results the model has not
// seen yet. When that is not enough, full is true, the caller forces the
// final tool, and the newest results are shortened too so that request fits.
// The transcript itself is never changed, so raw/ keeps every result whole.
func fitRequest(system string, tools []llm.Tool, transcript []llm.Message, shrunk *shrinkSet, fit int64) (msgs []llm.Message, est int64, full bool) {
	if *shrunk == nil {
		*shrunk = shrinkSet{}
	}
	est = estimateTokens(system, tools, applyShrinks(transcript, *shrunk, shortResultBytes))
	pass := func(upto int) {
		for i := 0; i < upto && est > fit; i++ {
			for j, r := range transcript[i].ToolResults {
				if est <= fit {
					break
				}
				if (*shrunk)[[2]int{i, j}] || len(r.Content) <= shortResultBytes {
					continue
				}
				(*shrunk)[[2]int{i, j}] = true
				est -= int64(len(r.Content)-len(shorten(r.Content, shortResultBytes))) / 4
			}
		}
	}
	pass(len(transcript) - 1)
	if est > fit {
		full = true
		pass(len(transcript))
	}
	msgs = applyShrinks(transcript, *shrunk, shortResultBytes)
	return msgs, estimateTokens(system, tools, msgs), full
}

// applyShrinks copies msgs with the results in set shortened to keep bytes.
func applyShrinks(msgs []llm.Message, set shrinkSet, keep int) []llm.Message {
	out := append([]llm.Message(nil), msgs...)
	for i := range out {
		var results []llm.ToolResult
		for j, r := range out[i].ToolResults {
			if !set[[2]int{i, j}] {
				continue
			}
			if results == nil {
				results = append([]llm.ToolResult(nil), out[i].ToolResults...)
			}
			results[j].Content = shorten(r.Content, keep)
		}
		if results != nil {
			out[i].ToolResults = results
		}
	}
	return out
}

// shorten keeps the first keep bytes of a tool result and says how to get
// the rest back.
func shorten(s string, keep int) string {
	if len(s) <= keep {
		return s
	}
	return cutUTF8(s, keep) + fmt.Sprintf("\n[%d more bytes of this result were dropped to keep the conversation within the model's context window; call the tool again for them]", len(s)-len(cutUTF8(s, keep)))
}

// salvage gives a run whose model turn failed one forced turn of cfg.Final
// with every tool result shortened and a note saying what failed. It
// reports whether the final call succeeded, and then sets res.Final and
// res.Salvaged; either way res records the salvage turn when one was taken,
// and on failure the caller fails the run with cause.
func salvage(ctx context.Context, cfg LoopConfig, tools map[string]Tool, specs []llm.Tool, res *LoopResult, turn int, cause error, now func() time.Time) bool {
	all := shrinkSet{}
	for i, m := range res.Transcript.Messages {
		for j := range m.ToolResults {
			all[[2]int{i, j}] = true
		}
	}
	msgs := applyShrinks(res.Transcript.Messages, all, salvageResultBytes)
	why := capBytes(oneLine(cause.Error()), 300)
	note := llm.Message{Role: llm.User, Text: fmt.Sprintf(salvageText, why, cfg.Final)}
	if last := len(msgs) - 1; last >= 0 && msgs[last].Role == llm.User {
		m := msgs[last]
		m.Text = strings.TrimSpace(m.Text + "\n\n" + note.Text)
		msgs[last] = m
	} else {
		msgs = append(msgs, note)
	}
	choice := llm.ToolChoice{Mode: llm.ChoiceTool, Name: cfg.Final}
	cfg.progress(Progress{Event: EventForce, Turn: turn, Tokens: res.Tokens, Text: cfg.Final + " (salvage after: " + why + ")"})
	t0 := now()
	resp, err := turnSafely(ctx, cfg.Model, llm.Request{System: cfg.System, Messages: msgs, Tools: specs, ToolChoice: choice, MaxOutputTokens: cfg.MaxOutputTokens})
	if err != nil {
		return false
	}
	res.Turns = turn
	res.Tokens = res.Tokens.Add(resp.Usage)
	msg := resp.Message
	msg.Role = llm.Assistant
	res.Transcript.Messages = append(res.Transcript.Messages, note, msg)
	res.Transcript.Turns = append(res.Transcript.Turns, TurnRecord{
		Turn: turn, Usage: resp.Usage, DurationMS: now().Sub(t0).Milliseconds(), Stop: resp.Stop, ToolChoice: choice, ToolCalls: len(msg.ToolCalls),
	})
	results := make([]llm.ToolResult, 0, len(msg.ToolCalls))
	done := false
	for _, c := range msg.ToolCalls {
		if done || c.Name != cfg.Final {
			results = append(results, llm.ToolResult{CallID: c.ID, Name: c.Name, Content: "Not run: only " + cfg.Final + " runs on this turn.", IsError: true})
			continue
		}
		res.ToolCalls[c.Name]++
		out, isErr, err := runTool(ctx, tools, c, DefaultMaxResultBytes)
		if err != nil {
			isErr, out = true, err.Error()
		}
		cfg.progress(Progress{Event: EventTool, Turn: turn, Tool: c.Name, Args: brief(c.Arguments), IsError: isErr, Tokens: res.Tokens})
		results = append(results, llm.ToolResult{CallID: c.ID, Name: c.Name, Content: out, IsError: isErr})
		if !isErr {
			res.Final = append(json.RawMessage(nil), c.Arguments...)
			done = true
		}
	}
	if len(results) > 0 {
		res.Transcript.Messages = append(res.Transcript.Messages, llm.Message{Role: llm.User, ToolResults: results})
	}
	if done {
		res.Salvaged = fmt.Sprintf("%s; submitted on a forced turn with shortened tool results", why)
	}
	return done
}
