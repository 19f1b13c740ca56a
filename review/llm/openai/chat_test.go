package openai

import (
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/deepreview/deep-review/review"
	"github.com/deepreview/deep-review/review/llm"
)

// An Ollama-style tool turn: null content, no usage, and finish_reason
// "stop" although the model called tools.
const chatToolTurn = `{
  "id": "chatcmpl-101", "object": "chat.completion", "created": 1764100000, "model": "qwen3-coder:30b",
  "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": null,
    "tool_calls": [
      {"id": "call_x1", "type": "function", "function": {"name": "read_file", "arguments": "{\"path\":\"a.go\"}"}},
      {"id": "call_x2", "type": "function", "function": {"name": "grep", "arguments": "{\"pattern\":\"TODO\",\"glob\":null}"}}
    ]}}]
}`

const chatFinalTurn = `{
  "id": "chatcmpl-102", "object": "chat.completion", "created": 1764100005, "model": "qwen3-coder:30b",
  "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": "Looks fine."}}],
  "usage": {"prompt_tokens": 900, "completion_tokens": 30, "total_tokens": 930, "prompt_tokens_details": {"cached_tokens": 512}}
}`

func newChat(t *testing.T, srv *httptest.Server, key, effort string) *Chat {
	t.Helper()
	m, err := NewChat(Config{Model: "qwen3-coder:30b", Effort: effort, APIKey: key, BaseURL: srv.URL + "/v1", HTTPClient: srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestChatAgentLoopToleratesLooseServers(t *testing.T) {
	unavailable := reply{status: 503, headers: map[string]string{"retry-after-ms": "5"}, body: `{"error":{"message":"model is loading","type":"server_error","code":null}}`}
	f, srv := newFake(t, "/v1/chat/completions", ok(chatToolTurn), unavailable, ok(chatFinalTurn))
	resps := runLoop(t, newChat(t, srv, "", ""))
	if len(resps) != 2 {
		t.Fatalf("turns = %d, want 2", len(resps))
	}
	first := resps[0]
	if first.Stop != llm.StopToolUse || len(first.Message.ToolCalls) != 2 {
		t.Fatalf("first turn: stop %q with %d calls; tool calls decide, not finish_reason", first.Stop, len(first.Message.ToolCalls))
	}
	if first.Usage != (review.Tokens{}) {
		t.Errorf("usage without a usage object = %+v, want zero", first.Usage)
	}
	if want := (review.Tokens{Input: 388, CachedInput: 512, Output: 30}); resps[1].Usage != want {
		t.Errorf("usage = %+v, want %+v", resps[1].Usage, want)
	}
	if resps[1].Stop != llm.StopEndTurn || resps[1].Message.Text != "Looks fine." {
		t.Errorf("final = %q %q", resps[1].Stop, resps[1].Message.Text)
	}

	reqs := f.requests()
	if len(reqs) != 3 {
		t.Fatalf("requests = %d, want 3 (a 503 retried)", len(reqs))
	}
	for _, k := range []string{"reasoning_effort", "max_tokens", "max_completion_tokens", "tool_choice", "store", "parallel_tool_calls", "temperature"} {
		if v, ok := reqs[0][k]; ok {
			t.Errorf("sends %s = %s although nothing configured it", k, v)
		}
	}
	if strings.Contains(string(reqs[0]["tools"]), "strict") {
		t.Errorf("tools carry strict: %s", reqs[0]["tools"])
	}
	want := `[
	  {"role":"system","content":"You are a careful reviewer."},
	  {"role":"user","content":"Review this change."},
	  {"role":"assistant","tool_calls":[
	    {"id":"call_x1","type":"function","function":{"name":"read_file","arguments":"{\"path\":\"a.go\"}"}},
	    {"id":"call_x2","type":"function","function":{"name":"grep","arguments":"{\"pattern\":\"TODO\",\"glob\":null}"}}]},
	  {"role":"tool","tool_call_id":"call_x1","content":"result for call_x1"},
	  {"role":"tool","tool_call_id":"call_x2","content":"result for call_x2"}]`
	if got := reqs[2]["messages"]; !jsonEqual(got, []byte(want)) {
		t.Errorf("messages = %s\nwant %s", got, want)
	}
	f.mu.Lock()
	auth := f.headers[0].Get("Authorization")
	f.mu.Unlock()
	if auth != "" {
		t.Errorf("Authorization = %q without a key", auth)
	}
}

func TestChatSendsConfiguredParameters(t *testing.T) {
	f, srv := newFake(t, "/v1/chat/completions", ok(chatFinalTurn))
	m := newChat(t, srv, "sk-or-test-secret", "low")
	_, err := m.Turn(context.Background(), llm.Request{Messages: []llm.Message{{Role: llm.User, Text: "submit"}}, Tools: tools,
		ToolChoice: llm.ToolChoice{Mode: llm.ChoiceTool, Name: "grep"}, MaxOutputTokens: 2048})
	if err != nil {
		t.Fatal(err)
	}
	r := f.requests()[0]
	for k, want := range map[string]string{
		"reasoning_effort": `"low"`,
		"max_tokens":       `2048`,
		"tool_choice":      `{"type":"function","function":{"name":"grep"}}`,
	} {
		if got := r[k]; !jsonEqual(got, []byte(want)) {
			t.Errorf("%s = %s, want %s", k, got, want)
		}
	}
	f.mu.Lock()
	auth := f.headers[0].Get("Authorization")
	f.mu.Unlock()
	if auth != "Bearer sk-or-test-secret" {
		t.Errorf("Authorization = %q", auth)
	}
}

func TestChatOnOpenAIItselfLimitsCompletionTokens(t *testing.T) {
	f, srv := newFake(t, "/v1/chat/completions", ok(chatFinalTurn))
	m, err := NewChat(Config{Provider: llm.ProviderOpenAI, Model: "gpt-5.5", APIKey: "k", BaseURL: srv.URL + "/v1", HTTPClient: srv.Client(), MaxOutputTokens: 3000})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Turn(context.Background(), llm.Request{Messages: []llm.Message{{Role: llm.User, Text: "hi"}}}); err != nil {
		t.Fatal(err)
	}
	r := f.requests()[0]
	if got := string(r["max_completion_tokens"]); got != "3000" {
		t.Errorf("max_completion_tokens = %s", got)
	}
	if _, ok := r["max_tokens"]; ok {
		t.Error("max_tokens sent to OpenAI")
	}
}

func TestChatReplies(t *testing.T) {
	tests := []struct {
		name     string
		body     string
		wantStop string
		wantText string
		wantIDs  []string
		wantErr  string
	}{
		{"tool calls without ids or types get ids", `{"id":"c1","choices":[{"index":0,"finish_reason":"tool_calls","message":{"role":"assistant","content":"",
			"tool_calls":[{"function":{"name":"grep","arguments":"{}"}},{"function":{"name":"read_file","arguments":"{\"path\":\"x\"}"}}]}}]}`,
			llm.StopToolUse, "", []string{"call_1", "call_2"}, ""},
		{"finish_reason tool_calls without calls is a plain end", `{"id":"c2","choices":[{"index":0,"finish_reason":"tool_calls","message":{"role":"assistant","content":"done"}}]}`,
			llm.StopEndTurn, "done", nil, ""},
		{"length", `{"id":"c3","choices":[{"index":0,"finish_reason":"length","message":{"role":"assistant","content":"partial"}}]}`,
			llm.StopMaxTokens, "partial", nil, ""},
		{"refusal", `{"id":"c4","choices":[{"index":0,"finish_reason":"stop","message":{"role":"assistant","content":null,"refusal":"I can't help with that."}}]}`,
			llm.StopRefusal, "I can't help with that.", nil, ""},
		{"no choices", `{"id":"c5","choices":[]}`, "", "", nil, "completion c5: no choices"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, srv := newFake(t, "/v1/chat/completions", ok(tt.body))
			resp, err := newChat(t, srv, "", "").Turn(context.Background(), llm.Request{Messages: []llm.Message{{Role: llm.User, Text: "hi"}}})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if resp.Stop != tt.wantStop || resp.Message.Text != tt.wantText {
				t.Errorf("got %q %q, want %q %q", resp.Stop, resp.Message.Text, tt.wantStop, tt.wantText)
			}
			var ids []string
			for _, c := range resp.Message.ToolCalls {
				ids = append(ids, c.ID)
			}
			if strings.Join(ids, ",") != strings.Join(tt.wantIDs, ",") {
				t.Errorf("ids = %v, want %v", ids, tt.wantIDs)
			}
		})
	}
}

// OpenRouter returns reasoning_details that must come back unchanged on
// the next request.
func TestChatEchoesOpenRouterReasoningDetails(t *testing.T) {
	turn := `{"id":"gen-1","choices":[{"index":0,"finish_reason":"tool_calls","message":{"role":"assistant","content":"",
		"reasoning":"thinking...","reasoning_details":[{"type":"reasoning.encrypted","data":"enc-123","id":"tool_1","format":"google-gemini-v1","index":0}],
		"tool_calls":[{"id":"tool_1","type":"function","function":{"name":"grep","arguments":"{\"pattern\":\"x\"}"}}]}}]}`
	f, srv := newFake(t, "/v1/chat/completions", ok(turn), ok(chatFinalTurn))
	runLoop(t, newChat(t, srv, "sk-or-test", ""))
	var msgs []map[string]json.RawMessage
	mustUnmarshal(t, f.requests()[1]["messages"], &msgs)
	want := `[{"type":"reasoning.encrypted","data":"enc-123","id":"tool_1","format":"google-gemini-v1","index":0}]`
	if got := msgs[2]["reasoning_details"]; !jsonEqual(got, []byte(want)) {
		t.Errorf("reasoning_details sent back = %s, want %s", got, want)
	}
	if _, ok := msgs[2]["reasoning"]; ok {
		t.Error("the reasoning text is sent back")
	}
}

func TestChatErrorCarriesServerMessage(t *testing.T) {
	_, srv := newFake(t, "/v1/chat/completions", reply{status: 400, headers: map[string]string{"x-request-id": "req_bad"},
		body: `{"error":{"message":"model \"llama9\" not found, try pulling it first","type":"api_error","param":null,"code":null}}`})
	_, err := newChat(t, srv, "", "").Turn(context.Background(), llm.Request{Messages: []llm.Message{{Role: llm.User, Text: "hi"}}})
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{"openai-compatible:qwen3-coder:30b", "400", "not found, try pulling it first", "req_bad"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}

func TestChatContextLengthErrorMatchesErrContextLength(t *testing.T) {
	t.Parallel()
	_, srv := newFake(t, "/v1/chat/completions", reply{status: 400,
		body: `{"error":{"message":"This model's maximum context length is 400000 tokens. However, your messages resulted in 410000 tokens.","type":"invalid_request_error","param":"messages","code":"context_length_exceeded"}}`})
	m, err := NewChat(Config{Provider: llm.ProviderOpenAI, Model: "gpt-5.5", APIKey: "k", BaseURL: srv.URL + "/v1", HTTPClient: srv.Client(), MaxRetries: -1})
	if err != nil {
		t.Fatal(err)
	}
	_, err = m.Turn(context.Background(), llm.Request{Messages: []llm.Message{{Role: llm.User, Text: "hi"}}})
	if !errors.Is(err, llm.ErrContextLength) {
		t.Errorf("errors.Is(%v, ErrContextLength) = false", err)
	}
}
