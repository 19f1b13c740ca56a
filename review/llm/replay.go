package llm

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"sync"
)

// Session is a sequence of turns as recorded or scripted in a file: the
// format Replay reads and Recorder writes.
type Session struct {
	// Provider and Model name who produced the turns.
	Provider string `json:"provider"`
	Model    string `json:"model"`
	Effort   string `json:"effort,omitempty"`
	// Label says how the turns came about: "recorded" for a Recorder's
	// capture of a live model, "scripted" for turns a person wrote.
	Label string `json:"label"`
	// Note says who wrote a scripted session and why.
	Note  string `json:"note,omitempty"`
	Turns []Turn `json:"turns"`
}

// Turn is one recorded request and its response. The request is kept for
// inspection; Replay does not compare it.
type Turn struct {
	Request  *Request `json:"request,omitempty"`
	Response Response `json:"response"`
	// DelayMS is how long the live turn took; Replay waits this long when
	// asked to keep the original pacing.
	DelayMS int64 `json:"delay_ms,omitempty"`
}

// LoadSession reads a session file.
func LoadSession(path string) (*Session, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read session: %w", err)
	}
	return ParseSession(data)
}

// ParseSession decodes a session and checks it has at least one turn.
func ParseSession(data []byte) (*Session, error) {
	var s Session
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, fmt.Errorf("parse session: %w", err)
	}
	if len(s.Turns) == 0 {
		return nil, fmt.Errorf("parse session: no turns")
	}
	if s.Label == "" {
		return nil, fmt.Errorf("parse session: label is empty; say \"recorded\" or \"scripted\"")
	}
	return &s, nil
}

// Replay serves a session's turns in order, one per Turn call. It is safe for
// concurrent use, though an agent calls it sequentially.
type Replay struct {
	session *Session
	// Pace makes each turn take its recorded DelayMS.
	Pace bool

	mu   sync.Mutex
	next int
}

// NewReplay serves s.
func NewReplay(s *Session) *Replay { return &Replay{session: s} }

// Identity names the session's model with its label, so a report never
// presents replayed words as a live model's.
func (r *Replay) Identity() Identity {
	return Identity{Provider: r.session.Provider, Model: r.session.Model, Effort: r.session.Effort, Label: r.session.Label + " replay"}
}

// Turn returns the next recorded response. It fails once the session is
// exhausted, and checks that the request answers every tool call the
// previous response made, so a replay that drifts from its recording fails
// loudly instead of serving answers to other questions.
func (r *Replay) Turn(ctx context.Context, req Request) (*Response, error) {
	r.mu.Lock()
	i := r.next
	r.next++
	r.mu.Unlock()
	if i >= len(r.session.Turns) {
		return nil, fmt.Errorf("replay: session has %d turns, turn %d was asked for", len(r.session.Turns), i+1)
	}
	if i > 0 {
		if err := answersCalls(r.session.Turns[i-1].Response.Message.ToolCalls, req.Messages); err != nil {
			return nil, fmt.Errorf("replay turn %d: %w", i+1, err)
		}
	}
	t := r.session.Turns[i]
	if r.Pace && t.DelayMS > 0 {
		if err := sleep(ctx, t.DelayMS); err != nil {
			return nil, err
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	resp := t.Response
	return &resp, nil
}

func answersCalls(calls []ToolCall, msgs []Message) error {
	if len(calls) == 0 {
		return nil
	}
	if len(msgs) == 0 {
		return fmt.Errorf("no messages, want results for %d tool calls", len(calls))
	}
	last := msgs[len(msgs)-1]
	got := map[string]bool{}
	for _, r := range last.ToolResults {
		got[r.CallID] = true
	}
	for _, c := range calls {
		if !got[c.ID] {
			return fmt.Errorf("no result for recorded tool call %s (%s)", c.ID, c.Name)
		}
	}
	return nil
}
