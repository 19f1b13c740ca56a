package openai

import (
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"

	sdk "github.com/openai/openai-go/v3"

	"github.com/deepreview/deep-review/review"
	"github.com/deepreview/deep-review/review/llm"
)

const respToolTurn = `{
  "id": "resp_01", "object": "response", "created_at": 1764100000, "status": "completed", "model": "gpt-6.1-sol",
  "error": null, "incomplete_details": null,
  "output": [
    {"type": "reasoning", "id": "rs_01", "summary": [], "encrypted_content": "gAAAAB-encrypted-reasoning-01"},
    {"type": "function_call", "id": "fc_01", "call_id": "call_A", "name": "read_file", "arguments": "{\"path\":\"a.go\"}", "status": "completed"},
    {"type": "function_call", "id": "fc_02", "call_id": "call_B", "name": "grep", "arguments": "{\"pattern\":\"Close(\",\"glob\":null}", "status": "completed"}
  ],
  "usage": {"input_tokens": 1500, "input_tokens_details": {"cached_tokens": 1200}, "output_tokens": 90,
            "output_tokens_details": {"reasoning_tokens": 64}, "total_tokens": 1590}
}`

const respFinalTurn = `{
  "id": "resp_02", "object": "response", "created_at": 1764100010, "status": "completed", "model": "gpt-6.1-sol",
  "error": null, "incomplete_details": null,
  "output": [
    {"type": "reasoning", "id": "rs_02", "summary": [], "encrypted_content": "gAAAAB-encrypted-reasoning-02"},
    {"type": "message", "id": "msg_02", "status": "completed", "role": "assistant",
     "content": [{"type": "output_text", "text": "No issues found.", "annotations": []}]}
  ],
  "usage": {"input_tokens": 1800, "input_tokens_details": {"cached_tokens": 1500}, "output_tokens": 20,
            "output_tokens_details": {"reasoning_tokens": 8}, "total_tokens": 1820}
}`

func rateLimited(after string) reply {
	return reply{status: 429, headers: map[string]string{"retry-after": after, "x-request-id": "req_429"},
		body: `{"error":{"message":"Rate limit reached for gpt-6.1-sol in organization org-x on tokens per min (TPM): Limit 30000, Used 30000, Requested 1800.","type":"tokens","param":null,"code":"rate_limit_exceeded"}}`}
}

var serverError = reply{status: 500, headers: map[string]string{"x-request-id": "req_500", "retry-after-ms": "5"},
	body: `{"error":{"message":"The server had an error while processing your request. Sorry about that!","type":"server_error","param":null,"code":null}}`}

func newResponses(t *testing.T, srv *httptest.Server, effort string, retries int) *Responses {
	t.Helper()
	m, err := NewResponses(Config{Model: "gpt-6.1-sol", Effort: effort, APIKey: "sk-proj-test-secret", BaseURL: srv.URL + "/v1", HTTPClient: srv.Client(), MaxRetries: retries})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestResponsesAgentLoopIsStatelessAndEchoesOutputItems(t *testing.T) {
	f, srv := newFake(t, "/v1/responses", ok(respToolTurn), rateLimited("1"), serverError, ok(respFinalTurn))
	resps := runLoop(t, newResponses(t, srv, "high", 0))
	if len(resps) != 2 {
		t.Fatalf("turns = %d, want 2", len(resps))
	}
	first := resps[0]
	if first.Stop != llm.StopToolUse || len(first.Message.ToolCalls) != 2 {
		t.Fatalf("first turn: stop %q with %d calls, want tool_use with 2", first.Stop, len(first.Message.ToolCalls))
	}
	if c := first.Message.ToolCalls[1]; c.ID != "call_B" || c.Name != "grep" || !jsonEqual(c.Arguments, []byte(`{"pattern":"Close(","glob":null}`)) {
		t.Errorf("second call = %+v", c)
	}
	if want := (review.Tokens{Input: 300, CachedInput: 1200, Output: 90, Reasoning: 64}); first.Usage != want {
		t.Errorf("usage = %+v, want %+v (input excludes cached)", first.Usage, want)
	}
	if last := resps[1]; last.Stop != llm.StopEndTurn || last.Message.Text != "No issues found." {
		t.Errorf("final turn = %q %q", last.Stop, last.Message.Text)
	}

	reqs := f.requests()
	if len(reqs) != 4 {
		t.Fatalf("requests = %d, want 4 (a 429 and a 500 retried)", len(reqs))
	}
	for i, r := range reqs {
		if got := string(r["store"]); got != "false" {
			t.Errorf("request %d store = %s, want false", i+1, got)
		}
		if got := string(r["include"]); got != `["reasoning.encrypted_content"]` {
			t.Errorf("request %d include = %s", i+1, got)
		}
		if _, ok := r["previous_response_id"]; ok {
			t.Errorf("request %d uses server state", i+1)
		}
		if got := string(r["reasoning"]); got != `{"effort":"high"}` {
			t.Errorf("request %d reasoning = %s", i+1, got)
		}
		if got := string(r["instructions"]); got != `"You are a careful reviewer."` {
			t.Errorf("request %d instructions = %s", i+1, got)
		}
	}
	var input []json.RawMessage
	mustUnmarshal(t, reqs[3]["input"], &input)
	if len(input) != 6 {
		t.Fatalf("second turn input has %d items, want user + 3 echoed output items + 2 outputs: %s", len(input), reqs[3]["input"])
	}
	var turn1 struct{ Output []json.RawMessage }
	mustUnmarshal(t, []byte(respToolTurn), &turn1)
	for i, item := range turn1.Output {
		if !jsonEqual(input[1+i], item) {
			t.Errorf("output item %d not echoed verbatim:\n got %s\nwant %s", i, input[1+i], item)
		}
	}
	if !strings.Contains(string(input[1]), "gAAAAB-encrypted-reasoning-01") {
		t.Errorf("encrypted reasoning not sent back: %s", input[1])
	}
	for i, id := range []string{"call_A", "call_B"} {
		var out struct {
			Type   string `json:"type"`
			CallID string `json:"call_id"`
			Output string `json:"output"`
		}
		mustUnmarshal(t, input[4+i], &out)
		if out.Type != "function_call_output" || out.CallID != id || out.Output != "result for "+id {
			t.Errorf("output %d = %s, want function_call_output for %s", i, input[4+i], id)
		}
	}
	var tl []struct {
		Name   string `json:"name"`
		Strict bool   `json:"strict"`
		Type   string `json:"type"`
	}
	mustUnmarshal(t, reqs[0]["tools"], &tl)
	if len(tl) != 2 || tl[0].Type != "function" || !tl[0].Strict || tl[1].Strict {
		t.Errorf("tools = %+v, want read_file strict (its schema qualifies) and grep not", tl)
	}
	f.mu.Lock()
	auth := f.headers[0].Get("Authorization")
	f.mu.Unlock()
	if auth != "Bearer sk-proj-test-secret" {
		t.Errorf("Authorization = %q", auth)
	}
}

func TestResponsesStatuses(t *testing.T) {
	tests := []struct {
		name     string
		body     string
		wantStop string
		wantErr  string
	}{
		{"cut short by max_output_tokens", `{"id":"resp_x","object":"response","status":"incomplete","incomplete_details":{"reason":"max_output_tokens"},
			"output":[{"type":"reasoning","id":"rs_x","summary":[],"encrypted_content":"gAAA"}],
			"usage":{"input_tokens":10,"input_tokens_details":{"cached_tokens":0},"output_tokens":4096,"output_tokens_details":{"reasoning_tokens":4096},"total_tokens":4106}}`,
			llm.StopMaxTokens, ""},
		{"withheld by the content filter", `{"id":"resp_x","object":"response","status":"incomplete","incomplete_details":{"reason":"content_filter"},"output":[],"usage":null}`,
			llm.StopRefusal, ""},
		{"refused", `{"id":"resp_x","object":"response","status":"completed","output":[{"type":"message","id":"msg_x","role":"assistant","status":"completed","content":[{"type":"refusal","refusal":"I can't help with that."}]}]}`,
			llm.StopRefusal, ""},
		{"failed", `{"id":"resp_f","object":"response","status":"failed","error":{"code":"server_error","message":"The model produced invalid content."},"output":[]}`,
			"", "response resp_f: failed: server_error: The model produced invalid content."},
		{"queued", `{"id":"resp_q","object":"response","status":"queued","output":[]}`,
			"", `status "queued"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, srv := newFake(t, "/v1/responses", ok(tt.body))
			resp, err := newResponses(t, srv, "", -1).Turn(context.Background(), llm.Request{Messages: []llm.Message{{Role: llm.User, Text: "hi"}}})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want it to contain %q", err, tt.wantErr)
				}
				if !strings.HasPrefix(err.Error(), "openai:gpt-6.1-sol: ") {
					t.Errorf("error %q does not name the model", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if resp.Stop != tt.wantStop {
				t.Errorf("stop = %q, want %q", resp.Stop, tt.wantStop)
			}
		})
	}
}

func TestResponsesErrorsCarryMessageAndRequestID(t *testing.T) {
	_, srv := newFake(t, "/v1/responses", rateLimited("0"))
	_, err := newResponses(t, srv, "", -1).Turn(context.Background(), llm.Request{Messages: []llm.Message{{Role: llm.User, Text: "hi"}}})
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{"openai:gpt-6.1-sol", "429", "rate_limit_exceeded", "Rate limit reached", "req_429"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "sk-proj-test-secret") {
		t.Errorf("error leaks the key: %q", err)
	}
	var apiErr *sdk.Error
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 429 {
		t.Errorf("errors.As *openai.Error = %v", apiErr)
	}
}

func TestResponsesToolChoiceAndNoEffort(t *testing.T) {
	f, srv := newFake(t, "/v1/responses", ok(respFinalTurn), ok(respFinalTurn))
	m := newResponses(t, srv, "", 0)
	for _, c := range []llm.ToolChoice{{Mode: llm.ChoiceTool, Name: "grep"}, {Mode: llm.ChoiceRequired}} {
		if _, err := m.Turn(context.Background(), llm.Request{Messages: []llm.Message{{Role: llm.User, Text: "submit"}}, Tools: tools, ToolChoice: c, MaxOutputTokens: 5000}); err != nil {
			t.Fatal(err)
		}
	}
	reqs := f.requests()
	for i, want := range []string{`{"type":"function","name":"grep"}`, `"required"`} {
		if got := reqs[i]["tool_choice"]; !jsonEqual(got, []byte(want)) {
			t.Errorf("request %d tool_choice = %s, want %s", i+1, got, want)
		}
		if _, ok := reqs[i]["reasoning"]; ok {
			t.Errorf("request %d sends reasoning without an effort", i+1)
		}
		if got := string(reqs[i]["max_output_tokens"]); got != "5000" {
			t.Errorf("request %d max_output_tokens = %s", i+1, got)
		}
	}
}

func TestResponsesRebuildsMessagesWithoutOpaque(t *testing.T) {
	f, srv := newFake(t, "/v1/responses", ok(respFinalTurn))
	msgs := []llm.Message{
		{Role: llm.User, Text: "Review."},
		{Role: llm.Assistant, Text: "Looking.", ToolCalls: []llm.ToolCall{{ID: "toolu_1", Name: "grep", Arguments: json.RawMessage(`{"pattern":"x"}`)}}},
		{Role: llm.User, ToolResults: []llm.ToolResult{{CallID: "toolu_1", Name: "grep", Content: "no match"}}},
	}
	if _, err := newResponses(t, srv, "", 0).Turn(context.Background(), llm.Request{Messages: msgs, Tools: tools}); err != nil {
		t.Fatal(err)
	}
	want := `[{"role":"user","content":"Review."},{"role":"assistant","content":"Looking."},
		{"type":"function_call","call_id":"toolu_1","name":"grep","arguments":"{\"pattern\":\"x\"}"},
		{"type":"function_call_output","call_id":"toolu_1","output":"no match"}]`
	if got := f.requests()[0]["input"]; !jsonEqual(got, []byte(want)) {
		t.Errorf("input = %s\nwant %s", got, want)
	}
}

func TestInvalidArgumentsBecomeAJSONString(t *testing.T) {
	if got := string(arguments(`{"path": "a.go"`)); got != `"{\"path\": \"a.go\""` {
		t.Errorf("arguments = %s", got)
	}
	if got := string(arguments(``)); got != `{}` {
		t.Errorf("empty arguments = %s", got)
	}
}

func TestNewResponsesRequiresKey(t *testing.T) {
	_, err := NewResponses(Config{Model: "gpt-6.1-sol"})
	if err == nil || err.Error() != "openai:gpt-6.1-sol: no API key" {
		t.Errorf("error = %v", err)
	}
}
