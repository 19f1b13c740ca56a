package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/deepreview/deep-review/review"
	"github.com/deepreview/deep-review/review/llm"
)

// scripted is a fake llm.Model: each turn asks next for the response to the
// request, and every request is kept for assertions.
type scripted struct {
	mu   sync.Mutex
	reqs []llm.Request
	next func(ctx context.Context, turn int, req llm.Request) (*llm.Response, error)
}

func (s *scripted) Turn(ctx context.Context, req llm.Request) (*llm.Response, error) {
	s.mu.Lock()
	s.reqs = append(s.reqs, req)
	n := len(s.reqs)
	s.mu.Unlock()
	return s.next(ctx, n, req)
}

func calls(turn int, cs ...[2]string) *llm.Response {
	m := llm.Message{Role: llm.Assistant}
	for i, c := range cs {
		m.ToolCalls = append(m.ToolCalls, llm.ToolCall{ID: fmt.Sprintf("t%d-%d", turn, i), Name: c[0], Arguments: json.RawMessage(c[1])})
	}
	return &llm.Response{Message: m, Usage: review.Tokens{Input: 100, Output: 20}, Stop: llm.StopToolUse}
}

// echo is a tool that answers with its arguments.
func echoTool() Tool {
	type P struct {
		Say string `json:"say"`
	}
	return NewTool("echo", "Echo.", nil, func(ctx context.Context, p P) (string, error) {
		switch p.Say {
		case "panic":
			panic("boom")
		case "fatal":
			return "", errors.New("disk on fire")
		case "retry":
			return "", Retry("say something else")
		}
		return "echo: " + p.Say, nil
	})
}

func loopConfig(m llm.Model) LoopConfig {
	return LoopConfig{Model: m, System: "sys", Prompt: "review", Tools: []Tool{echoTool(), SubmitTool()}, Final: ToolSubmit, MaxTurns: 10}
}

func TestLoopSubmits(t *testing.T) {
	t.Parallel()
	m := &scripted{next: func(ctx context.Context, turn int, req llm.Request) (*llm.Response, error) {
		if turn == 1 {
			return calls(1, [2]string{"echo", `{"say": "hi"}`}, [2]string{"echo", `{"say": "retry"}`}), nil
		}
		return calls(2, [2]string{ToolSubmit, validSubmission}), nil
	}}
	var events []string
	cfg := loopConfig(m)
	cfg.Progress = func(p Progress) { events = append(events, p.Event) }
	res := Loop(t.Context(), cfg)
	if res.Status != review.StatusOK || res.Err != nil {
		t.Fatalf("status %s, err %v", res.Status, res.Err)
	}
	if string(res.Final) != validSubmission {
		t.Errorf("final = %s", res.Final)
	}
	if res.Turns != 2 || res.ToolCalls["echo"] != 2 || res.ToolCalls[ToolSubmit] != 1 {
		t.Errorf("turns %d, tool calls %v", res.Turns, res.ToolCalls)
	}
	if want := (review.Tokens{Input: 200, Output: 40}); res.Tokens != want {
		t.Errorf("tokens %+v, want %+v", res.Tokens, want)
	}
	// The second request carries both results, in order, in one user message.
	last := m.reqs[1].Messages[len(m.reqs[1].Messages)-1]
	if last.Role != llm.User || len(last.ToolResults) != 2 || last.ToolResults[0].Content != "echo: hi" || last.ToolResults[0].CallID != "t1-0" ||
		!last.ToolResults[1].IsError || last.ToolResults[1].Content != "say something else" {
		t.Errorf("tool results message = %+v", last)
	}
	if m.reqs[0].System != "sys" || m.reqs[0].Messages[0].Text != "review" || len(m.reqs[0].Tools) != 2 || m.reqs[0].ToolChoice.Mode != llm.ChoiceAuto {
		t.Errorf("first request = %+v", m.reqs[0])
	}
	if n := len(res.Transcript.Messages); n != 5 {
		t.Errorf("transcript has %d messages, want 5", n)
	}
	if len(res.Transcript.Turns) != 2 || res.Transcript.Turns[1].ToolCalls != 1 {
		t.Errorf("turn records = %+v", res.Transcript.Turns)
	}
	if strings.Join(events, ",") != "tool,tool,turn,tool,turn,done" {
		t.Errorf("progress events = %v", events)
	}
}

func TestLoopInvalidSubmissionIsCorrected(t *testing.T) {
	t.Parallel()
	bad := strings.Replace(validSubmission, `"severity": "important"`, `"severity": "high"`, 1)
	m := &scripted{next: func(ctx context.Context, turn int, req llm.Request) (*llm.Response, error) {
		if turn == 1 {
			return calls(1, [2]string{ToolSubmit, bad}), nil
		}
		return calls(2, [2]string{ToolSubmit, validSubmission}), nil
	}}
	res := Loop(t.Context(), loopConfig(m))
	if res.Status != review.StatusOK || string(res.Final) != validSubmission {
		t.Fatalf("status %s, err %v, final %s", res.Status, res.Err, res.Final)
	}
	r := m.reqs[1].Messages[len(m.reqs[1].Messages)-1].ToolResults[0]
	if !r.IsError || !strings.Contains(r.Content, `findings[0].severity: "high" is not one of critical, important, suggestion`) {
		t.Errorf("the invalid call's result = %+v", r)
	}
	if res.ToolCalls[ToolSubmit] != 2 {
		t.Errorf("submit calls = %d, want 2", res.ToolCalls[ToolSubmit])
	}
}

func TestLoopForcesTheFinalToolOnTheLastTurn(t *testing.T) {
	t.Parallel()
	m := &scripted{next: func(ctx context.Context, turn int, req llm.Request) (*llm.Response, error) {
		return calls(turn, [2]string{"echo", `{"say": "more"}`}), nil // never submits
	}}
	cfg := loopConfig(m)
	cfg.MaxTurns = 3
	res := Loop(t.Context(), cfg)
	if res.Status != review.StatusFailed || res.Err == nil || !strings.Contains(res.Err.Error(), "turn budget of 3 spent") {
		t.Fatalf("status %s, err %v", res.Status, res.Err)
	}
	for i, want := range []llm.ToolChoice{{Mode: llm.ChoiceAuto}, {Mode: llm.ChoiceAuto}, {Mode: llm.ChoiceTool, Name: ToolSubmit}} {
		if got := m.reqs[i].ToolChoice; got != want {
			t.Errorf("request %d tool choice = %+v, want %+v", i+1, got, want)
		}
	}
	if res.Final != nil || res.Turns != 3 || len(res.Transcript.Messages) != 7 {
		t.Errorf("final %s, turns %d, %d messages: the partial transcript must be kept", res.Final, res.Turns, len(res.Transcript.Messages))
	}
}

func TestLoopNudgesOnceThenFails(t *testing.T) {
	t.Parallel()
	text := &llm.Response{Message: llm.Message{Role: llm.Assistant, Text: "Looks fine to me."}, Stop: llm.StopEndTurn}
	m := &scripted{next: func(ctx context.Context, turn int, req llm.Request) (*llm.Response, error) { return text, nil }}
	res := Loop(t.Context(), loopConfig(m))
	if res.Status != review.StatusFailed || !strings.Contains(res.Err.Error(), "after a reminder") || len(m.reqs) != 2 {
		t.Fatalf("status %s, err %v, %d requests", res.Status, res.Err, len(m.reqs))
	}
	nudge := m.reqs[1].Messages[len(m.reqs[1].Messages)-1]
	if nudge.Role != llm.User || !strings.Contains(nudge.Text, "call "+ToolSubmit) {
		t.Errorf("nudge = %+v", nudge)
	}
	if got := m.reqs[1].ToolChoice; got != (llm.ToolChoice{Mode: llm.ChoiceTool, Name: ToolSubmit}) {
		t.Errorf("the turn after the nudge chose %+v", got)
	}

	// A model that heeds the nudge submits.
	m2 := &scripted{next: func(ctx context.Context, turn int, req llm.Request) (*llm.Response, error) {
		if turn == 1 {
			return text, nil
		}
		return calls(turn, [2]string{ToolSubmit, validSubmission}), nil
	}}
	if res := Loop(t.Context(), loopConfig(m2)); res.Status != review.StatusOK {
		t.Errorf("after a nudge: status %s, err %v", res.Status, res.Err)
	}
}

func TestLoopTimesOut(t *testing.T) {
	t.Parallel()
	m := &scripted{next: func(ctx context.Context, turn int, req llm.Request) (*llm.Response, error) {
		if turn == 1 {
			return calls(1, [2]string{"echo", `{"say": "hi"}`}), nil
		}
		<-ctx.Done() // a model that hangs until the deadline
		return nil, ctx.Err()
	}}
	// In a synctest bubble the deadline passes only once the loop is blocked
	// on the hanging model, so the outcome does not depend on the machine's
	// speed.
	synctest.Test(t, func(t *testing.T) {
		cfg := loopConfig(m)
		cfg.Timeout = 5 * time.Minute
		res := Loop(t.Context(), cfg)
		if res.Status != review.StatusTimedOut || !strings.Contains(res.Err.Error(), "deadline of 5m0s reached after 1 turns") {
			t.Fatalf("status %s, err %v", res.Status, res.Err)
		}
		if res.Turns != 1 || len(res.Transcript.Messages) != 3 || res.ToolCalls["echo"] != 1 {
			t.Errorf("partial transcript lost: turns %d, %d messages, calls %v", res.Turns, len(res.Transcript.Messages), res.ToolCalls)
		}
		if res.Duration != 5*time.Minute {
			t.Errorf("duration %s, want the 5m deadline", res.Duration)
		}
	})

	// A canceled parent is a failure, not a timeout.
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if res := Loop(ctx, loopConfig(m)); res.Status != review.StatusFailed || !strings.Contains(res.Err.Error(), "canceled") {
		t.Errorf("canceled: status %s, err %v", res.Status, res.Err)
	}
}

func TestLoopTokenBudgetForcesTheFinalTool(t *testing.T) {
	t.Parallel()
	// Each turn costs 120 tokens; with a budget of 300 the third turn would
	// cross it, so it forces submit_review.
	obey := &scripted{next: func(ctx context.Context, turn int, req llm.Request) (*llm.Response, error) {
		if req.ToolChoice.Mode == llm.ChoiceTool {
			return calls(turn, [2]string{req.ToolChoice.Name, validSubmission}), nil
		}
		return calls(turn, [2]string{"echo", `{"say": "more"}`}), nil
	}}
	cfg := loopConfig(obey)
	cfg.MaxTokens = 300
	res := Loop(t.Context(), cfg)
	if res.Status != review.StatusOK || res.Turns != 3 {
		t.Fatalf("status %s, err %v, turns %d", res.Status, res.Err, res.Turns)
	}
	if obey.reqs[1].ToolChoice.Mode != llm.ChoiceAuto || obey.reqs[2].ToolChoice != (llm.ToolChoice{Mode: llm.ChoiceTool, Name: ToolSubmit}) {
		t.Errorf("tool choices: %+v, %+v", obey.reqs[1].ToolChoice, obey.reqs[2].ToolChoice)
	}

	// A model that ignores the forcing stops once the budget is spent.
	ignore := &scripted{next: func(ctx context.Context, turn int, req llm.Request) (*llm.Response, error) {
		return calls(turn, [2]string{"echo", `{"say": "more"}`}), nil
	}}
	cfg = loopConfig(ignore)
	cfg.MaxTokens = 300
	res = Loop(t.Context(), cfg)
	if res.Status != review.StatusFailed || !strings.Contains(res.Err.Error(), "token budget of 300 spent (360 used)") || res.Turns != 3 {
		t.Errorf("status %s, err %v, turns %d", res.Status, res.Err, res.Turns)
	}
}

func TestLoopToolFailures(t *testing.T) {
	t.Parallel()
	m := &scripted{next: func(ctx context.Context, turn int, req llm.Request) (*llm.Response, error) {
		switch turn {
		case 1:
			return calls(1, [2]string{"echo", `{"say": "panic"}`}, [2]string{"nope", `{}`}, [2]string{"echo", `{"bad": 1}`}), nil
		default:
			return calls(turn, [2]string{"echo", `{"say": "fatal"}`}), nil
		}
	}}
	res := Loop(t.Context(), loopConfig(m))
	if res.Status != review.StatusFailed || !strings.Contains(res.Err.Error(), "tool echo: disk on fire") {
		t.Fatalf("status %s, err %v", res.Status, res.Err)
	}
	rs := m.reqs[1].Messages[len(m.reqs[1].Messages)-1].ToolResults
	if len(rs) != 3 || !rs[0].IsError || !strings.Contains(rs[0].Content, "internal error (boom)") ||
		!rs[1].IsError || !strings.Contains(rs[1].Content, `no tool "nope"`) ||
		!rs[2].IsError || !strings.Contains(rs[2].Content, `"bad" is not a parameter`) {
		t.Errorf("results = %+v", rs)
	}

	// A model error fails the run with the turn named.
	broken := &scripted{next: func(ctx context.Context, turn int, req llm.Request) (*llm.Response, error) {
		return nil, errors.New("503 overloaded")
	}}
	if res := Loop(t.Context(), loopConfig(broken)); res.Status != review.StatusFailed || res.Err.Error() != "model turn 1: 503 overloaded" {
		t.Errorf("model error: %s %v", res.Status, res.Err)
	}
}

func TestLoopCapsToolResults(t *testing.T) {
	t.Parallel()
	m := &scripted{next: func(ctx context.Context, turn int, req llm.Request) (*llm.Response, error) {
		if turn == 1 {
			return calls(1, [2]string{"echo", fmt.Sprintf(`{"say": %q}`, strings.Repeat("a", 500))}), nil
		}
		return calls(turn, [2]string{ToolSubmit, validSubmission}), nil
	}}
	cfg := loopConfig(m)
	cfg.MaxResultBytes = 100
	Loop(t.Context(), cfg)
	r := m.reqs[1].Messages[2].ToolResults[0].Content
	if len(r) > 150 || !strings.Contains(r, "[result cut at 100 bytes") {
		t.Errorf("result = %q", r)
	}
}

// TestLoopWithReplay drives the loop with the replay adapter on the fixture
// repository, as the demo does.
func TestLoopWithReplay(t *testing.T) {
	t.Parallel()
	pr := fixture(t)
	session := &llm.Session{Provider: "anthropic", Model: "claude-test", Label: "scripted", Turns: []llm.Turn{
		{Response: *calls(1, [2]string{ToolReadFile, `{"path": "main.go", "start": 6, "end": 7}`}, [2]string{ToolBlame, `{"path": "main.go", "start": 6, "end": 7}`})},
		{Response: *calls(2, [2]string{ToolSubmit, validSubmission})},
	}}
	res := Loop(t.Context(), LoopConfig{Model: llm.NewReplay(session), Prompt: "review", Tools: append(RepoTools(pr), SubmitTool()), Final: ToolSubmit})
	if res.Status != review.StatusOK {
		t.Fatalf("status %s, err %v", res.Status, res.Err)
	}
	results := res.Transcript.Messages[2].ToolResults
	if !strings.Contains(results[0].Content, "hello, reviewer") || !strings.Contains(results[1].Content, "[PR]") {
		t.Errorf("results = %+v", results)
	}
}
