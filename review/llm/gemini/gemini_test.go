package gemini

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
	"time"

	"google.golang.org/genai"

	"github.com/deepreview/deep-review/review"
	"github.com/deepreview/deep-review/review/llm"
)

type reply struct {
	status int
	body   string
}

// fake is a Gemini generateContent endpoint serving scripted replies.
type fake struct {
	t       *testing.T
	path    string
	mu      sync.Mutex
	replies []reply
	bodies  [][]byte
	headers []http.Header
}

func newFake(t *testing.T, model string, replies ...reply) (*fake, *httptest.Server) {
	t.Helper()
	f := &fake{t: t, path: "/v1beta/models/" + model + ":generateContent", replies: replies}
	srv := httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(srv.Close)
	return f, srv
}

func (f *fake) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	defer f.mu.Unlock()
	if r.Method != http.MethodPost || r.URL.Path != f.path {
		f.t.Errorf("request %s %s, want POST %s", r.Method, r.URL.Path, f.path)
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
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
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

func ok(body string) reply { return reply{status: 200, body: body} }

// A Gemini 3 tool turn: two parallel calls without ids, the first carrying
// the thought signature, and finishReason STOP as Gemini reports it.
const toolTurn = `{
  "candidates": [{"content": {"role": "model", "parts": [
      {"functionCall": {"name": "read_file", "args": {"path": "a.go"}}, "thoughtSignature": "c2lnbmF0dXJlLW9uZQ=="},
      {"functionCall": {"name": "grep", "args": {"pattern": "Close(", "glob": null}}}
    ]}, "finishReason": "STOP", "index": 0}],
  "usageMetadata": {"promptTokenCount": 1000, "cachedContentTokenCount": 800, "candidatesTokenCount": 40, "thoughtsTokenCount": 120, "totalTokenCount": 1160},
  "modelVersion": "gemini-3-pro-preview", "responseId": "resp-g1"
}`

const finalTurn = `{
  "candidates": [{"content": {"role": "model", "parts": [
      {"text": "Both readers are closed.", "thoughtSignature": "c2lnbmF0dXJlLXR3bw=="}
    ]}, "finishReason": "STOP", "index": 0}],
  "usageMetadata": {"promptTokenCount": 1200, "candidatesTokenCount": 9, "totalTokenCount": 1209},
  "modelVersion": "gemini-3-pro-preview", "responseId": "resp-g2"
}`

var exhausted = reply{status: 429, body: `{"error": {"code": 429, "message": "You exceeded your current quota, please check your plan and billing details.", "status": "RESOURCE_EXHAUSTED",
  "details": [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "1s"}]}}`}

var unavailable = reply{status: 503, body: `{"error": {"code": 503, "message": "The model is overloaded. Please try again later.", "status": "UNAVAILABLE"}}`}

var tools = []llm.Tool{
	{Name: "read_file", Description: "Read a file.", Schema: json.RawMessage(`{"type":"object","properties":{"path":{"type":"string"}},"required":["path"],"additionalProperties":false}`)},
	{Name: "grep", Description: "Search the repository.", Schema: json.RawMessage(`{"type":"object","properties":{"pattern":{"type":"string"},"glob":{"type":["string","null"]}},"required":["pattern","glob"],"additionalProperties":false}`)},
}

func newModel(t *testing.T, srv *httptest.Server, effort string, retries int) *Model {
	t.Helper()
	m, err := New(Config{Model: "gemini-3-pro-preview", Effort: effort, APIKey: "AIza-test-secret", BaseURL: srv.URL, HTTPClient: srv.Client(),
		MaxRetries: retries, RetryDelay: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func runLoop(t *testing.T, m llm.Model) []*llm.Response {
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
			return out
		}
		results := llm.Message{Role: llm.User}
		for _, c := range resp.Message.ToolCalls {
			results.ToolResults = append(results.ToolResults, llm.ToolResult{CallID: c.ID, Name: c.Name, Content: "result of " + c.Name})
		}
		msgs = append(msgs, results)
	}
	t.Fatal("loop did not end")
	return nil
}

func TestAgentLoopKeepsThoughtSignaturesAndAnswersInOneContent(t *testing.T) {
	f, srv := newFake(t, "gemini-3-pro-preview", ok(toolTurn), exhausted, unavailable, ok(finalTurn))
	resps := runLoop(t, newModel(t, srv, "xhigh", 0))
	if len(resps) != 2 {
		t.Fatalf("turns = %d, want 2", len(resps))
	}
	first := resps[0]
	if first.Stop != llm.StopToolUse || len(first.Message.ToolCalls) != 2 {
		t.Fatalf("first turn: stop %q with %d calls; want tool_use with 2 although finishReason is STOP", first.Stop, len(first.Message.ToolCalls))
	}
	if a, b := first.Message.ToolCalls[0].ID, first.Message.ToolCalls[1].ID; a == "" || a == b {
		t.Errorf("call ids %q and %q, want distinct ids", a, b)
	}
	if got := string(first.Message.ToolCalls[1].Arguments); got != `{"glob":null,"pattern":"Close("}` {
		t.Errorf("arguments = %s", got)
	}
	if want := (review.Tokens{Input: 200, CachedInput: 800, Output: 160, Reasoning: 120}); first.Usage != want {
		t.Errorf("usage = %+v, want %+v", first.Usage, want)
	}
	if last := resps[1]; last.Stop != llm.StopEndTurn || last.Message.Text != "Both readers are closed." {
		t.Errorf("final = %q %q", last.Stop, last.Message.Text)
	}

	reqs := f.requests()
	if len(reqs) != 4 {
		t.Fatalf("requests = %d, want 4 (429 and 503 retried)", len(reqs))
	}
	var contents []struct {
		Role  string            `json:"role"`
		Parts []json.RawMessage `json:"parts"`
	}
	mustUnmarshal(t, reqs[3]["contents"], &contents)
	if len(contents) != 3 {
		t.Fatalf("second turn sends %d contents, want 3", len(contents))
	}
	if contents[1].Role != "model" {
		t.Errorf("role = %q, want model", contents[1].Role)
	}
	wantModel := `[{"functionCall":{"name":"read_file","args":{"path":"a.go"}},"thoughtSignature":"c2lnbmF0dXJlLW9uZQ=="},
		{"functionCall":{"name":"grep","args":{"pattern":"Close(","glob":null}}}]`
	if got, _ := json.Marshal(contents[1].Parts); !jsonEqual(got, []byte(wantModel)) {
		t.Errorf("model content sent back = %s\nwant %s", got, wantModel)
	}
	if contents[2].Role != "user" || len(contents[2].Parts) != 2 {
		t.Fatalf("function responses: role %q with %d parts, want one user content with 2", contents[2].Role, len(contents[2].Parts))
	}
	for i, name := range []string{"read_file", "grep"} {
		want := `{"functionResponse":{"name":"` + name + `","response":{"output":"result of ` + name + `"}}}`
		if !jsonEqual(contents[2].Parts[i], []byte(want)) {
			t.Errorf("response %d = %s, want %s (no made-up id)", i, contents[2].Parts[i], want)
		}
	}
	var gen struct {
		ThinkingConfig struct {
			ThinkingLevel string `json:"thinkingLevel"`
		} `json:"thinkingConfig"`
	}
	mustUnmarshal(t, reqs[0]["generationConfig"], &gen)
	if gen.ThinkingConfig.ThinkingLevel != "HIGH" {
		t.Errorf("thinking level = %q, want HIGH for xhigh: %s", gen.ThinkingConfig.ThinkingLevel, reqs[0]["generationConfig"])
	}
	if !strings.Contains(string(reqs[0]["tools"]), `"parametersJsonSchema"`) {
		t.Errorf("tools = %s, want parametersJsonSchema", reqs[0]["tools"])
	}
	if !strings.Contains(string(reqs[0]["systemInstruction"]), "You are a careful reviewer.") {
		t.Errorf("systemInstruction = %s", reqs[0]["systemInstruction"])
	}
	f.mu.Lock()
	key := f.headers[0].Get("x-goog-api-key")
	f.mu.Unlock()
	if key != "AIza-test-secret" {
		t.Errorf("x-goog-api-key = %q", key)
	}
}

func TestErrorCarriesStatusAndMessage(t *testing.T) {
	_, srv := newFake(t, "gemini-3-pro-preview", exhausted)
	_, err := newModel(t, srv, "", -1).Turn(context.Background(), llm.Request{Messages: []llm.Message{{Role: llm.User, Text: "hi"}}})
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{"gemini:gemini-3-pro-preview", "429", "RESOURCE_EXHAUSTED", "exceeded your current quota"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "AIza-test-secret") {
		t.Errorf("error leaks the key: %q", err)
	}
	var apiErr genai.APIError
	if !errors.As(err, &apiErr) || apiErr.Code != 429 {
		t.Errorf("errors.As genai.APIError = %+v", apiErr)
	}
}

func TestRetriesGiveUpAfterMaxRetries(t *testing.T) {
	f, srv := newFake(t, "gemini-3-pro-preview", unavailable, unavailable, unavailable)
	_, err := newModel(t, srv, "", 2).Turn(context.Background(), llm.Request{Messages: []llm.Message{{Role: llm.User, Text: "hi"}}})
	if err == nil || !strings.Contains(err.Error(), "UNAVAILABLE") {
		t.Fatalf("error = %v", err)
	}
	if n := len(f.requests()); n != 3 {
		t.Errorf("requests = %d, want 3 (2 retries)", n)
	}
}

func TestForcedToolAndRebuiltMessages(t *testing.T) {
	f, srv := newFake(t, "gemini-3-pro-preview", ok(finalTurn))
	msgs := []llm.Message{
		{Role: llm.User, Text: "Review."},
		{Role: llm.Assistant, ToolCalls: []llm.ToolCall{{ID: "toolu_1", Name: "grep", Arguments: json.RawMessage(`{"pattern":"x"}`)}}},
		{Role: llm.User, ToolResults: []llm.ToolResult{{CallID: "toolu_1", Name: "grep", Content: "bad pattern", IsError: true}}},
	}
	_, err := newModel(t, srv, "", 0).Turn(context.Background(), llm.Request{Messages: msgs, Tools: tools,
		ToolChoice: llm.ToolChoice{Mode: llm.ChoiceTool, Name: "grep"}, MaxOutputTokens: 4096})
	if err != nil {
		t.Fatal(err)
	}
	r := f.requests()[0]
	if want := `{"functionCallingConfig":{"mode":"ANY","allowedFunctionNames":["grep"]}}`; !jsonEqual(r["toolConfig"], []byte(want)) {
		t.Errorf("toolConfig = %s, want %s", r["toolConfig"], want)
	}
	want := `[{"role":"user","parts":[{"text":"Review."}]},
		{"role":"model","parts":[{"functionCall":{"id":"toolu_1","name":"grep","args":{"pattern":"x"}}}]},
		{"role":"user","parts":[{"functionResponse":{"id":"toolu_1","name":"grep","response":{"error":"bad pattern"}}}]}]`
	if !jsonEqual(r["contents"], []byte(want)) {
		t.Errorf("contents = %s\nwant %s", r["contents"], want)
	}
	if !strings.Contains(string(r["generationConfig"]), `"maxOutputTokens":4096`) {
		t.Errorf("generationConfig = %s", r["generationConfig"])
	}
	if strings.Contains(string(r["generationConfig"]), "thinkingConfig") {
		t.Errorf("thinking sent without an effort: %s", r["generationConfig"])
	}
}

func TestFinishReasons(t *testing.T) {
	tests := []struct {
		name, body, want string
	}{
		{"max tokens", `{"candidates":[{"content":{"role":"model","parts":[{"text":"partial"}]},"finishReason":"MAX_TOKENS"}]}`, llm.StopMaxTokens},
		{"safety", `{"candidates":[{"finishReason":"SAFETY"}]}`, llm.StopRefusal},
		{"malformed call", `{"candidates":[{"finishReason":"MALFORMED_FUNCTION_CALL"}]}`, llm.StopOther},
		{"prompt blocked", `{"promptFeedback":{"blockReason":"PROHIBITED_CONTENT"}}`, llm.StopRefusal},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, srv := newFake(t, "gemini-3-pro-preview", ok(tt.body))
			resp, err := newModel(t, srv, "", 0).Turn(context.Background(), llm.Request{Messages: []llm.Message{{Role: llm.User, Text: "hi"}}})
			if err != nil {
				t.Fatal(err)
			}
			if resp.Stop != tt.want {
				t.Errorf("stop = %q, want %q", resp.Stop, tt.want)
			}
		})
	}
}

func TestThinkingForGemini2UsesABudget(t *testing.T) {
	tc := thinking("gemini-2.5-pro", "medium")
	if tc == nil || tc.ThinkingBudget == nil || *tc.ThinkingBudget != 8192 || tc.ThinkingLevel != "" {
		t.Errorf("thinking = %+v, want budget 8192", tc)
	}
}

func TestNewRequiresKeyEvenWithBaseURL(t *testing.T) {
	_, err := New(Config{Model: "gemini-3.5-flash", BaseURL: "http://localhost:1"})
	if err == nil || err.Error() != "gemini:gemini-3.5-flash: no API key" {
		t.Errorf("error = %v", err)
	}
}

func mustUnmarshal(t *testing.T, data []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("unmarshal %s: %v", data, err)
	}
}

func jsonEqual(a, b []byte) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	xb, _ := json.Marshal(x)
	yb, _ := json.Marshal(y)
	return bytes.Equal(xb, yb)
}

func TestTooManyInputTokensMatchesErrContextLength(t *testing.T) {
	t.Parallel()
	_, srv := newFake(t, "gemini-3-pro-preview", reply{status: 400, body: `{"error": {"code": 400, "message": "The input token count (1200000) exceeds the maximum number of tokens allowed (1048576).", "status": "INVALID_ARGUMENT"}}`})
	m := newModel(t, srv, "", 0)
	_, err := m.Turn(context.Background(), llm.Request{Messages: []llm.Message{{Role: llm.User, Text: "hi"}}})
	if !errors.Is(err, llm.ErrContextLength) {
		t.Errorf("errors.Is(%v, ErrContextLength) = false", err)
	}
}
