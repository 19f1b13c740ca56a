package agent

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/deepreview/deep-review/review"
	"github.com/deepreview/deep-review/review/llm"
)

// bigTool answers every call with n bytes, numbered so results differ.
func bigTool(n int) Tool {
	type P struct {
		Say string `json:"say"`
	}
	return NewTool("big", "Big output.", nil, func(ctx context.Context, p P) (string, error) {
		return p.Say + ":" + strings.Repeat("x", n), nil
	})
}

func TestLoopKeepsEachRequestWithinTheContextWindow(t *testing.T) {
	t.Parallel()
	// A scripted model that reads 30 KB per turn and submits only when made to.
	m := &scripted{next: func(ctx context.Context, turn int, req llm.Request) (*llm.Response, error) {
		if req.ToolChoice.Mode == llm.ChoiceTool {
			return calls(turn, [2]string{ToolSubmit, validSubmission}), nil
		}
		return calls(turn, [2]string{"big", fmt.Sprintf(`{"say": "r%d"}`, turn)}), nil
	}}
	cfg := LoopConfig{Model: m, System: "sys", Prompt: "review", Tools: []Tool{bigTool(30_000), SubmitTool()}, Final: ToolSubmit,
		MaxTurns: 40, ContextTokens: 20_000, MaxOutputTokens: 1_000}
	res := Loop(t.Context(), cfg)
	if res.Status != review.StatusOK {
		t.Fatalf("status %s, err %v", res.Status, res.Err)
	}
	fit := fitTokens(cfg.ContextTokens, cfg.MaxOutputTokens)
	shortened := false
	for i, req := range m.reqs {
		if est := estimateTokens(req.System, req.Tools, req.Messages); est > fit {
			t.Errorf("request %d is about %d tokens, over the %d that fit", i+1, est, fit)
		}
		for _, msg := range req.Messages {
			for _, r := range msg.ToolResults {
				if strings.Contains(r.Content, "dropped to keep the conversation within the model's context window") {
					shortened = true
				}
			}
		}
	}
	if !shortened {
		t.Error("no request shortened an old tool result")
	}
	// The newest result always reaches the model whole before the window fills.
	second := m.reqs[1].Messages[len(m.reqs[1].Messages)-1].ToolResults[0].Content
	if !strings.HasPrefix(second, "r1:") || len(second) < 30_000 {
		t.Errorf("the second request's newest result was cut: %d bytes", len(second))
	}
	if len(m.reqs) >= cfg.MaxTurns {
		t.Errorf("%d requests: the window never forced submit_review", len(m.reqs))
	}
	if last := m.reqs[len(m.reqs)-1]; last.ToolChoice.Mode != llm.ChoiceTool {
		t.Errorf("last request's tool choice = %+v, want forced", last.ToolChoice)
	}
	// The transcript keeps every result whole for raw/.
	for _, msg := range res.Transcript.Messages {
		for _, r := range msg.ToolResults {
			if r.Name == "big" && len(r.Content) < 30_000 {
				t.Errorf("transcript result %s was shortened to %d bytes", r.CallID, len(r.Content))
			}
		}
	}
}

// failing is a scripted model that works for okTurns turns, then fails with
// err; a forced turn gets submitSalvage's answer.
func failing(okTurns int, err error, salvageErr error) *scripted {
	return &scripted{next: func(ctx context.Context, turn int, req llm.Request) (*llm.Response, error) {
		switch {
		case turn <= okTurns:
			return calls(turn, [2]string{"big", fmt.Sprintf(`{"say": "r%d"}`, turn)}), nil
		case turn == okTurns+1:
			return nil, err
		case salvageErr != nil:
			return nil, salvageErr
		case req.ToolChoice.Mode == llm.ChoiceTool:
			return calls(turn, [2]string{"big", `{"say": "no"}`}, [2]string{ToolSubmit, validSubmission}), nil
		}
		return nil, errors.New("unexpected unforced turn")
	}}
}

func TestLoopSalvagesAReviewerWhoseTurnFails(t *testing.T) {
	t.Parallel()
	tooLong := fmt.Errorf("anthropic:claude-opus-5-5: 400 invalid_request_error: prompt is too long: %w", llm.ErrContextLength)
	storm := errors.New("anthropic:claude-opus-5-5: 529 overloaded_error: Overloaded (after 4 retries)")
	tests := []struct {
		name       string
		model      *scripted
		wantStatus string
		wantReqs   int
		wantErr    string
	}{
		{"a 5xx storm after work is salvaged", failing(2, storm, nil), review.StatusOK, 4, ""},
		{"a context-length error is salvaged", failing(2, tooLong, nil), review.StatusOK, 4, ""},
		{"a context-length error on the first turn is salvaged", failing(0, tooLong, nil), review.StatusOK, 2, ""},
		{"a failure before any work is not salvaged", failing(0, storm, nil), review.StatusFailed, 1, "model turn 1: anthropic"},
		{"a failed salvage fails with the first error", failing(2, storm, errors.New("still down")), review.StatusFailed, 4, "model turn 3: anthropic:claude-opus-5-5: 529"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := LoopConfig{Model: tt.model, System: "sys", Prompt: "review", Tools: []Tool{bigTool(5_000), SubmitTool()}, Final: ToolSubmit, MaxTurns: 10}
			res := Loop(t.Context(), cfg)
			if res.Status != tt.wantStatus {
				t.Fatalf("status %s (err %v), want %s", res.Status, res.Err, tt.wantStatus)
			}
			if len(tt.model.reqs) != tt.wantReqs {
				t.Errorf("%d requests, want %d", len(tt.model.reqs), tt.wantReqs)
			}
			if tt.wantErr != "" && (res.Err == nil || !strings.HasPrefix(res.Err.Error(), tt.wantErr)) {
				t.Errorf("err %v, want it to start %q", res.Err, tt.wantErr)
			}
			if tt.wantStatus != review.StatusOK {
				if res.Salvaged != "" || res.Final != nil {
					t.Errorf("failed run has Salvaged %q, Final %s", res.Salvaged, res.Final)
				}
				return
			}
			if res.Salvaged == "" || string(res.Final) != validSubmission {
				t.Errorf("salvaged %q, final %s", res.Salvaged, res.Final)
			}
			sreq := tt.model.reqs[len(tt.model.reqs)-1]
			if sreq.ToolChoice != (llm.ToolChoice{Mode: llm.ChoiceTool, Name: ToolSubmit}) {
				t.Errorf("salvage tool choice = %+v", sreq.ToolChoice)
			}
			last := sreq.Messages[len(sreq.Messages)-1]
			if !strings.Contains(last.Text, "Call submit_review now") {
				t.Errorf("salvage request's last message = %+v", last)
			}
			for _, msg := range sreq.Messages {
				for _, r := range msg.ToolResults {
					if len(r.Content) > salvageResultBytes+200 {
						t.Errorf("salvage request result %s has %d bytes, want it shortened", r.CallID, len(r.Content))
					}
				}
			}
			if res.ToolCalls["big"] != 2 && tt.wantReqs == 4 {
				t.Errorf("tool calls %v: the salvage turn ran a tool other than submit_review", res.ToolCalls)
			}
		})
	}
}

func TestReviewRecordsASalvagedRun(t *testing.T) {
	t.Parallel()
	pr := fixture(t)
	m := &scripted{next: func(ctx context.Context, turn int, req llm.Request) (*llm.Response, error) {
		switch {
		case turn == 1:
			return calls(turn, [2]string{ToolReadFile, `{"path": "main.go", "start": null, "end": null}`}), nil
		case req.ToolChoice.Mode == llm.ChoiceTool:
			return calls(turn, [2]string{ToolSubmit, validSubmission}), nil
		}
		return nil, errors.New("openai:gpt-5.5: 503: Service Unavailable")
	}}
	res := Review(t.Context(), pr, Config{Name: "r1", Model: m, Identity: llm.Identity{Provider: "openai", Model: "gpt-5.5", Label: "scripted"}})
	if res.Run.Status != review.StatusOK || res.Run.Submission == nil {
		t.Fatalf("status %s, err %s", res.Run.Status, res.Run.Error)
	}
	if !strings.Contains(res.Run.Salvaged, "503") {
		t.Errorf("Run.Salvaged = %q, want the failure named", res.Run.Salvaged)
	}
}

func TestLoopCostCapForcesTheFinalTool(t *testing.T) {
	t.Parallel()
	// Each scripted turn reports 100 input and 20 output tokens; at $10 and
	// $50 per million that is $0.002 a turn. Under a $0.005 cap a second
	// free turn and the submit after it ($0.006) would cross the cap, so
	// submit_review is forced on the second turn and the run ends at
	// $0.004, within the cap.
	price := func(tk review.Tokens) (float64, bool) {
		return llm.Cost("priced-model", tk, map[string]llm.Price{"priced-model": {Input: 10, Output: 50}})
	}
	obey := &scripted{next: func(ctx context.Context, turn int, req llm.Request) (*llm.Response, error) {
		if req.ToolChoice.Mode == llm.ChoiceTool {
			return calls(turn, [2]string{req.ToolChoice.Name, validSubmission}), nil
		}
		return calls(turn, [2]string{"echo", `{"say": "more"}`}), nil
	}}
	var forced []string
	cfg := loopConfig(obey)
	cfg.MaxCostUSD, cfg.Price = 0.005, price
	cfg.Progress = func(p Progress) {
		if p.Event == EventForce {
			forced = append(forced, p.Text)
		}
	}
	res := Loop(t.Context(), cfg)
	if res.Status != review.StatusOK || res.Turns != 2 {
		t.Fatalf("status %s, err %v, turns %d", res.Status, res.Err, res.Turns)
	}
	if obey.reqs[0].ToolChoice.Mode != llm.ChoiceAuto || obey.reqs[1].ToolChoice.Mode != llm.ChoiceTool {
		t.Errorf("tool choices: %+v, %+v", obey.reqs[0].ToolChoice, obey.reqs[1].ToolChoice)
	}
	if len(forced) != 1 || !strings.Contains(forced[0], "cost cap nearly reached: $0.0020 of $0.0050") {
		t.Errorf("force events = %q", forced)
	}
	if spent, _ := price(res.Tokens); spent > cfg.MaxCostUSD {
		t.Errorf("the run spent $%.4f, over its $%.4f cap", spent, cfg.MaxCostUSD)
	}

	// A model that ignores the forcing stops once the cap is spent.
	ignore := &scripted{next: func(ctx context.Context, turn int, req llm.Request) (*llm.Response, error) {
		return calls(turn, [2]string{"echo", `{"say": "more"}`}), nil
	}}
	cfg = loopConfig(ignore)
	cfg.MaxCostUSD, cfg.Price = 0.005, price
	res = Loop(t.Context(), cfg)
	if res.Status != review.StatusFailed || res.Err == nil || !strings.Contains(res.Err.Error(), "cost cap of $0.0050 spent ($0.0060 estimated)") || res.Turns != 3 {
		t.Errorf("status %s, err %v, turns %d", res.Status, res.Err, res.Turns)
	}

	// An unknown price leaves the run unbounded by cost.
	free := &scripted{next: obey.next}
	cfg = loopConfig(free)
	cfg.MaxCostUSD = 0.005
	cfg.Price = func(review.Tokens) (float64, bool) { return 0, false }
	cfg.MaxTurns = 5
	if res := Loop(t.Context(), cfg); res.Status != review.StatusOK || res.Turns != 5 {
		t.Errorf("unknown price: status %s, turns %d, want 5 turns", res.Status, res.Turns)
	}
}
