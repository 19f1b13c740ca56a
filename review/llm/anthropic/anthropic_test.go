package anthropic

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	sdk "github.com/anthropics/anthropic-sdk-go/v2"

	"github.com/deepreview/deep-review/review"
	"github.com/deepreview/deep-review/review/llm"
)

// reply is one scripted HTTP response.
type reply struct {
	status  int
	headers map[string]string
	body    string
}

// fake is an Anthropic Messages endpoint that serves scripted replies in
// order and keeps every request it saw.
type fake struct {
	t       *testing.T
	mu      sync.Mutex
	replies []reply
	bodies  [][]byte
	headers []http.Header
}

func newFake(t *testing.T, replies ...reply) (*fake, *httptest.Server) {
	t.Helper()
	f := &fake{t: t, replies: replies}
	srv := httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(srv.Close)
	return f, srv
}

func (f *fake) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	defer f.mu.Unlock()
	if r.Method != http.MethodPost || r.URL.Path != "/v1/messages" {
		f.t.Errorf("request %s %s, want POST /v1/messages", r.Method, r.URL.Path)
		http.Error(w, "not found", http.StatusNotFound)
		return
	}
	f.bodies = append(f.bodies, body)
	f.headers = append(f.headers, r.Header.Clone())
	if len(f.replies) == 0 {
		f.t.Errorf("unexpected request %d: %s", len(f.bodies), body)
		http.Error(w, "no more replies", http.StatusInternalServerError)
		return
	}
	rep := f.replies[0]
	f.replies = f.replies[1:]
	w.Header().Set("Content-Type", "application/json")
	for k, v := range rep.headers {
		w.Header().Set(k, v)
	}
	w.WriteHeader(rep.status)
	io.WriteString(w, rep.body)
}

func (f *fake) requests() []map[string]json.RawMessage {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []map[string]json.RawMessage
	for _, b := range f.bodies {
		var m map[string]json.RawMessage
		if err := json.Unmarshal(b, &m); err != nil {
			f.t.Fatalf("request body is not JSON: %v: %s", err, b)
		}
		out = append(out, m)
	}
	return out
}

func ok(body string) reply {
	return reply{status: 200, headers: map[string]string{"request-id": "req_ok"}, body: body}
}

const toolTurn = `{
  "id": "msg_01", "type": "message", "role": "assistant", "model": "claude-opus-5-5",
  "content": [
    {"type": "thinking", "thinking": "I should read both files.", "signature": "sig-AAA111"},
    {"type": "text", "text": "Reading the files."},
    {"type": "tool_use", "id": "toolu_01", "name": "read_file", "input": {"path": "a.go"}},
    {"type": "tool_use", "id": "toolu_02", "name": "read_file", "input": {"path": "b.go"}}
  ],
  "stop_reason": "tool_use", "stop_sequence": null,
  "usage": {"input_tokens": 120, "cache_creation_input_tokens": 2000, "cache_read_input_tokens": 0, "output_tokens": 80,
            "output_tokens_details": {"thinking_tokens": 30}}
}`

const grepTurn = `{
  "id": "msg_02", "type": "message", "role": "assistant", "model": "claude-opus-5-5",
  "content": [
    {"type": "thinking", "thinking": "Now grep.", "signature": "sig-BBB222"},
    {"type": "tool_use", "id": "toolu_03", "name": "grep", "input": {"pattern": "Close\\("}}
  ],
  "stop_reason": "tool_use", "stop_sequence": null,
  "usage": {"input_tokens": 40, "cache_creation_input_tokens": 300, "cache_read_input_tokens": 2000, "output_tokens": 20}
}`

const finalTurn = `{
  "id": "msg_03", "type": "message", "role": "assistant", "model": "claude-opus-5-5",
  "content": [{"type": "text", "text": "Both files close their readers."}],
  "stop_reason": "end_turn", "stop_sequence": null,
  "usage": {"input_tokens": 10, "cache_creation_input_tokens": 100, "cache_read_input_tokens": 2300, "output_tokens": 12}
}`

func overloaded(id string) reply {
	return reply{status: 529, headers: map[string]string{"request-id": id, "retry-after-ms": "5"},
		body: `{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"},"request_id":"` + id + `"}`}
}

var tools = []llm.Tool{
	{Name: "read_file", Description: "Read a file.", Schema: json.RawMessage(`{"type":"object","properties":{"path":{"type":"string"}},"required":["path"],"additionalProperties":false}`)},
	{Name: "grep", Description: "Search the repository.", Schema: json.RawMessage(`{"type":"object","properties":{"pattern":{"type":"string"}},"required":["pattern"],"additionalProperties":false}`)},
}

func newModel(t *testing.T, srv *httptest.Server, effort string) *Model {
	t.Helper()
	m, err := New(Config{Model: "claude-opus-5-5", Effort: effort, APIKey: "sk-ant-test-secret", BaseURL: srv.URL, HTTPClient: srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// runLoop drives the model as the agent does: answer every tool call of a
// turn in one user message until the model stops calling tools.
func runLoop(t *testing.T, m llm.Model) ([]*llm.Response, []llm.Message) {
	t.Helper()
	msgs := []llm.Message{{Role: llm.User, Text: "Review this change."}}
	var out []*llm.Response
	for i := 0; i < 10; i++ {
		resp, err := m.Turn(context.Background(), llm.Request{System: "You are a careful reviewer.", Messages: msgs, Tools: tools})
		if err != nil {
			t.Fatalf("turn %d: %v", i+1, err)
		}
		out = append(out, resp)
		msgs = append(msgs, resp.Message)
		if len(resp.Message.ToolCalls) == 0 {
			return out, msgs
		}
		results := llm.Message{Role: llm.User}
		for _, c := range resp.Message.ToolCalls {
			results.ToolResults = append(results.ToolResults, llm.ToolResult{CallID: c.ID, Name: c.Name, Content: "contents of " + string(c.Arguments)})
		}
		msgs = append(msgs, results)
	}
	t.Fatal("loop did not end")
	return nil, nil
}

func TestAgentLoopRoundTripsThinkingAndAnswersAllCallsInOneMessage(t *testing.T) {
	f, srv := newFake(t, ok(toolTurn), overloaded("req_529a"), ok(grepTurn), ok(finalTurn))
	resps, _ := runLoop(t, newModel(t, srv, "high"))

	if got := len(resps); got != 3 {
		t.Fatalf("turns = %d, want 3", got)
	}
	first := resps[0]
	if first.Stop != llm.StopToolUse || len(first.Message.ToolCalls) != 2 {
		t.Fatalf("first turn: stop %q, %d calls; want tool_use with 2 parallel calls", first.Stop, len(first.Message.ToolCalls))
	}
	if got, want := first.Message.ToolCalls[1], (llm.ToolCall{ID: "toolu_02", Name: "read_file", Arguments: json.RawMessage(`{"path": "b.go"}`)}); got.ID != want.ID || got.Name != want.Name || !jsonEqual(got.Arguments, want.Arguments) {
		t.Errorf("second call = %+v, want %+v", got, want)
	}
	if first.Message.Text != "Reading the files." {
		t.Errorf("text = %q", first.Message.Text)
	}
	if want := (review.Tokens{Input: 120, CacheWrite: 2000, Output: 80, Reasoning: 30}); first.Usage != want {
		t.Errorf("usage = %+v, want %+v", first.Usage, want)
	}
	if want := (review.Tokens{Input: 40, CachedInput: 2000, CacheWrite: 300, Output: 20}); resps[1].Usage != want {
		t.Errorf("second usage = %+v, want %+v", resps[1].Usage, want)
	}
	if last := resps[2]; last.Stop != llm.StopEndTurn || last.Message.Text != "Both files close their readers." {
		t.Errorf("final = %q %q", last.Stop, last.Message.Text)
	}

	reqs := f.requests()
	if len(reqs) != 4 {
		t.Fatalf("requests = %d, want 4 (one 529 retried)", len(reqs))
	}
	// The second request (and its retry) carry the first turn back.
	var msgs []struct {
		Role    string            `json:"role"`
		Content []json.RawMessage `json:"content"`
	}
	mustUnmarshal(t, reqs[2]["messages"], &msgs)
	if len(msgs) != 3 {
		t.Fatalf("second turn sends %d messages, want 3", len(msgs))
	}
	var thinking struct{ Type, Thinking, Signature string }
	mustUnmarshal(t, msgs[1].Content[0], &thinking)
	if thinking.Type != "thinking" || thinking.Signature != "sig-AAA111" || thinking.Thinking != "I should read both files." {
		t.Errorf("thinking block sent back as %s", msgs[1].Content[0])
	}
	if msgs[2].Role != "user" || len(msgs[2].Content) != 2 {
		t.Fatalf("tool results: role %s with %d blocks, want one user message with 2 results", msgs[2].Role, len(msgs[2].Content))
	}
	for i, id := range []string{"toolu_01", "toolu_02"} {
		var block struct {
			Type      string `json:"type"`
			ToolUseID string `json:"tool_use_id"`
		}
		mustUnmarshal(t, msgs[2].Content[i], &block)
		if block.Type != "tool_result" || block.ToolUseID != id {
			t.Errorf("result %d = %s, want tool_result for %s", i, msgs[2].Content[i], id)
		}
	}
	var thinkingCfg struct{ Type string }
	mustUnmarshal(t, reqs[0]["thinking"], &thinkingCfg)
	if thinkingCfg.Type != "adaptive" {
		t.Errorf("thinking = %s, want adaptive", reqs[0]["thinking"])
	}
	if got := string(reqs[0]["output_config"]); got != `{"effort":"high"}` {
		t.Errorf("output_config = %s", got)
	}
	f.mu.Lock()
	h := f.headers[0]
	f.mu.Unlock()
	if h.Get("anthropic-version") == "" {
		t.Error("no anthropic-version header")
	}
	if got := h.Get("Authorization") + h.Get("X-Api-Key"); !strings.Contains(got, "sk-ant-test-secret") {
		t.Errorf("the key is not sent: %q", got)
	}
}

// Consecutive requests of one review must share a byte-identical prefix
// (tools, system, earlier messages) ending in a cache breakpoint, or the
// prompt cache misses every turn.
func TestConsecutiveRequestsShareCachedPrefix(t *testing.T) {
	f, srv := newFake(t, ok(toolTurn), ok(grepTurn), ok(finalTurn))
	runLoop(t, newModel(t, srv, ""))
	reqs := f.requests()
	if len(reqs) != 3 {
		t.Fatalf("requests = %d, want 3", len(reqs))
	}
	for i := 1; i < len(reqs); i++ {
		prev, cur := reqs[i-1], reqs[i]
		for _, k := range []string{"tools", "system", "model", "max_tokens"} {
			if !bytes.Equal(prev[k], cur[k]) {
				t.Errorf("request %d %s differs from request %d:\n%s\n%s", i+1, k, i, cur[k], prev[k])
			}
		}
		var pm, cm []json.RawMessage
		mustUnmarshal(t, prev["messages"], &pm)
		mustUnmarshal(t, cur["messages"], &cm)
		if len(cm) != len(pm)+2 {
			t.Fatalf("request %d has %d messages, want %d", i+1, len(cm), len(pm)+2)
		}
		for j := range pm {
			if !bytes.Equal(pm[j], cm[j]) {
				t.Errorf("request %d message %d is not byte-identical:\n%s\n%s", i+1, j+1, cm[j], pm[j])
			}
		}
		if got := string(cur["cache_control"]); got != `{"type":"ephemeral"}` {
			t.Errorf("request %d cache_control = %s, want the automatic breakpoint", i+1, got)
		}
	}
	if !strings.Contains(string(reqs[0]["system"]), `"cache_control":{"type":"ephemeral"}`) {
		t.Errorf("system has no breakpoint: %s", reqs[0]["system"])
	}
	if _, ok := reqs[0]["thinking"]; ok {
		t.Errorf("thinking sent without an effort: %s", reqs[0]["thinking"])
	}
}

func TestForcedToolChoiceTurnsThinkingOffForItsToolLoop(t *testing.T) {
	f, srv := newFake(t, ok(grepTurn), ok(grepTurn), ok(grepTurn), ok(finalTurn))
	m := newModel(t, srv, "xhigh")
	msgs := []llm.Message{{Role: llm.User, Text: "Submit now."}}
	turn := func(choice llm.ToolChoice) {
		t.Helper()
		resp, err := m.Turn(context.Background(), llm.Request{Messages: msgs, Tools: tools, ToolChoice: choice})
		if err != nil {
			t.Fatal(err)
		}
		msgs = append(msgs, resp.Message)
		if len(resp.Message.ToolCalls) > 0 {
			msgs = append(msgs, llm.Message{Role: llm.User, ToolResults: []llm.ToolResult{{CallID: resp.Message.ToolCalls[0].ID, Name: "grep", Content: "x"}}})
		}
	}
	turn(llm.ToolChoice{Mode: llm.ChoiceTool, Name: "grep"})
	turn(llm.ToolChoice{Mode: llm.ChoiceRequired})
	turn(llm.ToolChoice{}) // the same tool loop: thinking stays off
	msgs = append(msgs, llm.Message{Role: llm.Assistant, Text: "Done."}, llm.Message{Role: llm.User, Text: "A new question."})
	turn(llm.ToolChoice{}) // a new turn: thinking is back

	reqs := f.requests()
	for i, want := range []struct{ choice, thinking string }{
		{`{"name":"grep","type":"tool"}`, `{"type":"disabled"}`},
		{`{"type":"any"}`, `{"type":"disabled"}`},
		{``, `{"type":"disabled"}`},
		{``, `{"type":"adaptive"}`},
	} {
		if got := string(reqs[i]["tool_choice"]); want.choice != "" && !jsonEqual(json.RawMessage(got), json.RawMessage(want.choice)) || want.choice == "" && got != "" {
			t.Errorf("request %d tool_choice = %s, want %s", i+1, got, want.choice)
		}
		if got := string(reqs[i]["thinking"]); got != want.thinking {
			t.Errorf("request %d thinking = %s, want %s", i+1, got, want.thinking)
		}
		if got := string(reqs[i]["output_config"]); got != `{"effort":"xhigh"}` {
			t.Errorf("request %d output_config = %s", i+1, got)
		}
	}
}

func TestErrorsCarryMessageAndRequestID(t *testing.T) {
	tests := []struct {
		name   string
		reply  reply
		status int
		want   []string
	}{
		{"overloaded", overloaded("req_overload"), 529, []string{"529", "overloaded_error", "Overloaded", "req_overload"}},
		{"rate limited", reply{status: 429, headers: map[string]string{"request-id": "req_429", "retry-after": "0"},
			body: `{"type":"error","error":{"type":"rate_limit_error","message":"Number of request tokens has exceeded your per-minute rate limit"}}`},
			429, []string{"429", "rate_limit_error", "per-minute rate limit", "req_429"}},
		{"bad request", reply{status: 400, headers: map[string]string{"request-id": "req_400"},
			body: `{"type":"error","error":{"type":"invalid_request_error","message":"messages.1.content.0: unexpected tool_use_id"}}`},
			400, []string{"400", "invalid_request_error", "unexpected tool_use_id", "req_400"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f, srv := newFake(t, tt.reply)
			m, err := New(Config{Model: "claude-opus-5-5", APIKey: "sk-ant-test-secret", BaseURL: srv.URL, HTTPClient: srv.Client(), MaxRetries: -1})
			if err != nil {
				t.Fatal(err)
			}
			_, err = m.Turn(context.Background(), llm.Request{Messages: []llm.Message{{Role: llm.User, Text: "hi"}}})
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "sk-ant-test-secret") {
				t.Errorf("error leaks the key: %q", err)
			}
			var apiErr *sdk.Error
			if !errors.As(err, &apiErr) || apiErr.StatusCode != tt.status {
				t.Errorf("errors.As *anthropic.Error = %v", apiErr)
			}
			if n := len(f.requests()); n != 1 {
				t.Errorf("requests = %d, want 1 with retries off", n)
			}
		})
	}
}

func TestRetriesOverloadedAndRateLimitThenSucceeds(t *testing.T) {
	rate := reply{status: 429, headers: map[string]string{"retry-after": "1"},
		body: `{"type":"error","error":{"type":"rate_limit_error","message":"rate limited"}}`}
	unavailable := reply{status: 503, headers: map[string]string{"retry-after-ms": "5"},
		body: `{"type":"error","error":{"type":"api_error","message":"service unavailable"}}`}
	f, srv := newFake(t, overloaded("a"), overloaded("b"), rate, unavailable, ok(finalTurn))
	resp, err := newModel(t, srv, "").Turn(context.Background(), llm.Request{Messages: []llm.Message{{Role: llm.User, Text: "hi"}}})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Message.Text != "Both files close their readers." {
		t.Errorf("text = %q", resp.Message.Text)
	}
	if n := len(f.requests()); n != 5 {
		t.Errorf("requests = %d, want 5", n)
	}
}

func TestLargeMaxTokensWorkWithoutStreaming(t *testing.T) {
	f, srv := newFake(t, ok(finalTurn))
	m := newModel(t, srv, "")
	if _, err := m.Turn(context.Background(), llm.Request{Messages: []llm.Message{{Role: llm.User, Text: "hi"}}, MaxOutputTokens: 128000}); err != nil {
		t.Fatalf("max_tokens 128000: %v", err)
	}
	if got := string(f.requests()[0]["max_tokens"]); got != "128000" {
		t.Errorf("max_tokens = %s", got)
	}
}

func TestMessagesWithoutOpaqueAreRebuilt(t *testing.T) {
	f, srv := newFake(t, ok(finalTurn))
	msgs := []llm.Message{
		{Role: llm.User, Text: "Review."},
		{Role: llm.Assistant, Text: "Looking.", ToolCalls: []llm.ToolCall{{ID: "call_9", Name: "grep", Arguments: json.RawMessage(`{"pattern":"x"}`)}, {ID: "call_10", Name: "grep", Arguments: json.RawMessage(`{"pattern":"y"}`)}}},
		{Role: llm.User, ToolResults: []llm.ToolResult{{CallID: "call_9", Name: "grep", Content: "no match", IsError: true}, {CallID: "call_10", Name: "grep"}}},
	}
	if _, err := newModel(t, srv, "").Turn(context.Background(), llm.Request{Messages: msgs, Tools: tools}); err != nil {
		t.Fatal(err)
	}
	got := string(f.requests()[0]["messages"])
	for _, want := range []string{`"type":"tool_use"`, `"id":"call_9"`, `"tool_use_id":"call_9"`, `"is_error":true`, `"text":"no match"`, `{"tool_use_id":"call_10","type":"tool_result"}`} {
		if !strings.Contains(got, want) {
			t.Errorf("messages lack %s: %s", want, got)
		}
	}
}

func TestNewRequiresKeyAndModel(t *testing.T) {
	if _, err := New(Config{Model: "claude-opus-5-5"}); err == nil || !strings.Contains(err.Error(), "no API key") {
		t.Errorf("missing key: %v", err)
	}
	if _, err := New(Config{APIKey: "k"}); err == nil {
		t.Error("missing model: no error")
	}
}

func mustUnmarshal(t *testing.T, data []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("unmarshal %s: %v", data, err)
	}
}

func jsonEqual(a, b json.RawMessage) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	xb, _ := json.Marshal(x)
	yb, _ := json.Marshal(y)
	return bytes.Equal(xb, yb)
}

func TestAnOversizedPromptMatchesErrContextLength(t *testing.T) {
	t.Parallel()
	_, srv := newFake(t, reply{status: 400, headers: map[string]string{"request-id": "req_big"},
		body: `{"type":"error","error":{"type":"invalid_request_error","message":"prompt is too long: 215000 tokens > 200000 maximum"}}`},
		reply{status: 400, headers: map[string]string{"request-id": "req_bad"},
			body: `{"type":"error","error":{"type":"invalid_request_error","message":"messages.1.content.0: unexpected tool_use_id"}}`})
	m, err := New(Config{Model: "claude-opus-5-5", APIKey: "k", BaseURL: srv.URL, HTTPClient: srv.Client(), MaxRetries: -1})
	if err != nil {
		t.Fatal(err)
	}
	req := llm.Request{Messages: []llm.Message{{Role: llm.User, Text: "hi"}}}
	if _, err := m.Turn(context.Background(), req); !errors.Is(err, llm.ErrContextLength) {
		t.Errorf("prompt too long: errors.Is(%v, ErrContextLength) = false", err)
	}
	if _, err := m.Turn(context.Background(), req); err == nil || errors.Is(err, llm.ErrContextLength) {
		t.Errorf("other bad request: error %v matches ErrContextLength", err)
	}
}
