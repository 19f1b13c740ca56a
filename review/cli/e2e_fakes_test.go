package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// Fakes of the four provider APIs for the end-to-end test of issue 3
// (providers_e2e_test.go). Each speaks its provider's real wire format and
// scripts the same two-turn review: the first turn reads store.go (Anthropic
// also greps, in parallel), the second submits the review. Which turn a
// request asks for is read from the request itself (how many rounds of tool
// results it carries back), and each fake checks that the client sent back
// what the real API needs: the results matched to their calls, the read_file
// result holding the file's text, and the provider's opaque state (thinking
// signatures, encrypted reasoning) echoed. Faults are scheduled by attempt
// number, before any turn is served.

// e2eQuote is the line every scripted finding cites (store.go:50 at the
// head of the demo repository), and the text the read_file result must hold.
const e2eQuote = "if s.now().After(l.Expires) {"

// e2eFault is one canned HTTP error reply.
type e2eFault struct {
	status int
	header map[string]string
	body   string
}

// e2eAttempt is one request a fake received and the status it answered.
type e2eAttempt struct {
	at     time.Time
	status int
	header http.Header
	body   []byte
}

// e2eWire is one provider's wire format.
type e2eWire interface {
	// path is where the client must POST.
	path() string
	// turn returns the 0-based turn of the script a request asks for, or
	// an error saying what the client sent wrong.
	turn(req map[string]json.RawMessage) (int, error)
	// reply is the scripted 200 reply of a turn.
	reply(turn int) any
	// errorBody is the provider's error body for a request the fake
	// refuses.
	errorBody(msg string) string
}

// e2eProvider is an httptest server for one wire format, with faults by
// attempt number.
type e2eProvider struct {
	t      *testing.T
	name   string
	wire   e2eWire
	faults map[int]e2eFault
	srv    *httptest.Server

	mu       sync.Mutex
	attempts []e2eAttempt
}

func newE2EProvider(t *testing.T, name string, wire e2eWire, faults map[int]e2eFault) *e2eProvider {
	t.Helper()
	p := &e2eProvider{t: t, name: name, wire: wire, faults: faults}
	p.srv = httptest.NewServer(p)
	t.Cleanup(p.srv.Close)
	return p
}

func (p *e2eProvider) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	p.mu.Lock()
	n := len(p.attempts)
	p.attempts = append(p.attempts, e2eAttempt{at: time.Now(), header: r.Header.Clone(), body: body})
	p.mu.Unlock()
	status := p.serve(w, r, n, body)
	p.mu.Lock()
	p.attempts[n].status = status
	p.mu.Unlock()
}

func (p *e2eProvider) serve(w http.ResponseWriter, r *http.Request, n int, body []byte) int {
	refuse := func(status int, format string, args ...any) int {
		msg := fmt.Sprintf(format, args...)
		p.t.Errorf("%s fake, attempt %d: %s", p.name, n+1, msg)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, p.wire.errorBody(msg))
		return status
	}
	if r.Method != http.MethodPost || r.URL.Path != p.wire.path() {
		return refuse(http.StatusNotFound, "%s %s, want POST %s", r.Method, r.URL.Path, p.wire.path())
	}
	if f, ok := p.faults[n]; ok {
		for k, v := range f.header {
			w.Header().Set(k, v)
		}
		if w.Header().Get("Content-Type") == "" {
			w.Header().Set("Content-Type", "application/json")
		}
		w.WriteHeader(f.status)
		io.WriteString(w, f.body)
		return f.status
	}
	var req map[string]json.RawMessage
	if err := json.Unmarshal(body, &req); err != nil {
		return refuse(http.StatusBadRequest, "the body is not a JSON object: %v", err)
	}
	turn, err := p.wire.turn(req)
	if err != nil {
		return refuse(http.StatusBadRequest, "%v", err)
	}
	if turn > 1 {
		return refuse(http.StatusBadRequest, "turn %d asked for; the script ends at turn 2 with submit_review", turn+1)
	}
	data, err := json.Marshal(p.wire.reply(turn))
	if err != nil {
		return refuse(http.StatusInternalServerError, "encode the reply: %v", err)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	w.Write(data)
	return http.StatusOK
}

// log returns the attempts so far.
func (p *e2eProvider) log() []e2eAttempt {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.attempts)
}

// statuses are the status of each attempt, in order.
func (p *e2eProvider) statuses() []int {
	var out []int
	for _, a := range p.log() {
		out = append(out, a.status)
	}
	return out
}

// e2eText is every string in a JSON value, joined: the text of a tool
// result however the wire format nests it.
func e2eText(raw json.RawMessage) string {
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return string(raw)
	}
	var b strings.Builder
	var walk func(any)
	walk = func(v any) {
		switch v := v.(type) {
		case string:
			b.WriteString(v)
			b.WriteByte('\n')
		case []any:
			for _, x := range v {
				walk(x)
			}
		case map[string]any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	walk(v)
	return b.String()
}

// e2eField decodes req[key] into v, naming the key on failure.
func e2eField(req map[string]json.RawMessage, key string, v any) error {
	raw, ok := req[key]
	if !ok {
		return fmt.Errorf("the request has no %q", key)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("%q: %v", key, err)
	}
	return nil
}

// e2eModel checks the request names the model.
func e2eModel(req map[string]json.RawMessage, want string) error {
	var model string
	if err := e2eField(req, "model", &model); err != nil {
		return err
	}
	if model != want {
		return fmt.Errorf("model %q, want %q", model, want)
	}
	return nil
}

// e2eReadResult checks a read_file result holds the cited line.
func e2eReadResult(raw json.RawMessage) error {
	if !strings.Contains(e2eText(raw), e2eQuote) {
		return fmt.Errorf("the read_file result does not hold store.go's line %q: %s", e2eQuote, raw)
	}
	return nil
}

// Anthropic Messages: POST /v1/messages.
type e2eAnthropic struct {
	model      string
	submission json.RawMessage
}

func (e2eAnthropic) path() string { return "/v1/messages" }

func (a e2eAnthropic) turn(req map[string]json.RawMessage) (int, error) {
	if err := e2eModel(req, a.model); err != nil {
		return 0, err
	}
	var msgs []struct {
		Role    string          `json:"role"`
		Content json.RawMessage `json:"content"`
	}
	if err := e2eField(req, "messages", &msgs); err != nil {
		return 0, err
	}
	type block struct {
		Type      string          `json:"type"`
		ID        string          `json:"id"`
		ToolUseID string          `json:"tool_use_id"`
		Content   json.RawMessage `json:"content"`
	}
	turn := 0
	var results []block
	for _, m := range msgs {
		var blocks []block
		if json.Unmarshal(m.Content, &blocks) != nil {
			continue // plain string content
		}
		var rs []block
		for _, b := range blocks {
			if b.Type == "tool_result" {
				rs = append(rs, b)
			}
		}
		if len(rs) > 0 {
			if m.Role != "user" {
				return 0, fmt.Errorf("tool results in a %s message", m.Role)
			}
			turn++
			results = rs
		}
	}
	if turn == 1 {
		// Both results of the parallel calls in one user message, in order.
		if len(results) != 2 || results[0].ToolUseID != "toolu_e2e_read" || results[1].ToolUseID != "toolu_e2e_grep" {
			return 0, fmt.Errorf("want the results of toolu_e2e_read and toolu_e2e_grep in one user message, got %+v", results)
		}
		if err := e2eReadResult(results[0].Content); err != nil {
			return 0, err
		}
	}
	return turn, nil
}

// e2eAnthropicUsage is each turn's usage as Anthropic reports it: input
// excludes the cache writes and reads.
var e2eAnthropicUsage = []map[string]int{
	{"input_tokens": 300, "cache_creation_input_tokens": 1200, "cache_read_input_tokens": 0, "output_tokens": 150},
	{"input_tokens": 250, "cache_creation_input_tokens": 300, "cache_read_input_tokens": 1200, "output_tokens": 400},
}

func (a e2eAnthropic) reply(turn int) any {
	content := []map[string]any{
		{"type": "text", "text": "I will read the store and look for other uses of Expires."},
		{"type": "tool_use", "id": "toolu_e2e_read", "name": "read_file", "input": map[string]any{"path": "store.go", "start": nil, "end": nil}},
		{"type": "tool_use", "id": "toolu_e2e_grep", "name": "grep", "input": map[string]any{"pattern": "Expires", "glob": nil}},
	}
	if turn == 1 {
		content = []map[string]any{{"type": "tool_use", "id": "toolu_e2e_submit", "name": "submit_review", "input": a.submission}}
	}
	return map[string]any{
		"id": fmt.Sprintf("msg_e2e_%d", turn+1), "type": "message", "role": "assistant", "model": a.model,
		"content": content, "stop_reason": "tool_use", "stop_sequence": nil, "usage": e2eAnthropicUsage[turn],
	}
}

func (e2eAnthropic) errorBody(msg string) string {
	b, _ := json.Marshal(map[string]any{"type": "error", "error": map[string]any{"type": "invalid_request_error", "message": msg}})
	return string(b)
}

// OpenAI Responses: POST /v1/responses, stateless (the client echoes the
// output items, encrypted reasoning included).
type e2eResponses struct {
	model      string
	submission json.RawMessage
}

func (e2eResponses) path() string { return "/v1/responses" }

func (o e2eResponses) turn(req map[string]json.RawMessage) (int, error) {
	if err := e2eModel(req, o.model); err != nil {
		return 0, err
	}
	var input []struct {
		Type             string          `json:"type"`
		ID               string          `json:"id"`
		CallID           string          `json:"call_id"`
		Output           json.RawMessage `json:"output"`
		EncryptedContent string          `json:"encrypted_content"`
	}
	if err := e2eField(req, "input", &input); err != nil {
		return 0, err
	}
	turn, echoed := 0, false
	for _, it := range input {
		switch it.Type {
		case "function_call_output":
			if it.CallID != "call_e2e_read" {
				return 0, fmt.Errorf("function_call_output for call %q, want call_e2e_read", it.CallID)
			}
			if err := e2eReadResult(it.Output); err != nil {
				return 0, err
			}
			turn++
		case "reasoning":
			echoed = it.ID == "rs_e2e_1" && it.EncryptedContent == "gAAAAB-e2e-encrypted-reasoning"
		}
	}
	if turn == 1 && !echoed {
		return 0, fmt.Errorf("the encrypted reasoning item rs_e2e_1 is not echoed back")
	}
	return turn, nil
}

// e2eResponsesUsage is each turn's usage as the Responses API reports it:
// input includes the cached tokens.
var e2eResponsesUsage = []map[string]any{
	{"input_tokens": 1400, "input_tokens_details": map[string]int{"cached_tokens": 0}, "output_tokens": 90,
		"output_tokens_details": map[string]int{"reasoning_tokens": 30}, "total_tokens": 1490},
	{"input_tokens": 2100, "input_tokens_details": map[string]int{"cached_tokens": 1280}, "output_tokens": 350,
		"output_tokens_details": map[string]int{"reasoning_tokens": 120}, "total_tokens": 2450},
}

func (o e2eResponses) reply(turn int) any {
	output := []map[string]any{
		{"type": "reasoning", "id": "rs_e2e_1", "summary": []any{}, "encrypted_content": "gAAAAB-e2e-encrypted-reasoning"},
		{"type": "function_call", "id": "fc_e2e_1", "call_id": "call_e2e_read", "name": "read_file",
			"arguments": `{"path":"store.go","start":null,"end":null}`, "status": "completed"},
	}
	if turn == 1 {
		output = []map[string]any{{"type": "function_call", "id": "fc_e2e_2", "call_id": "call_e2e_submit", "name": "submit_review",
			"arguments": string(o.submission), "status": "completed"}}
	}
	return map[string]any{
		"id": fmt.Sprintf("resp_e2e_%d", turn+1), "object": "response", "created_at": 1764100000 + turn, "status": "completed",
		"model": o.model, "error": nil, "incomplete_details": nil, "store": false, "output": output, "usage": e2eResponsesUsage[turn],
	}
}

func (e2eResponses) errorBody(msg string) string {
	b, _ := json.Marshal(map[string]any{"error": map[string]any{"message": msg, "type": "invalid_request_error", "param": nil, "code": nil}})
	return string(b)
}

// Gemini generateContent: POST /v1beta/models/MODEL:generateContent.
type e2eGemini struct {
	model      string
	submission json.RawMessage
}

func (g e2eGemini) path() string { return "/v1beta/models/" + g.model + ":generateContent" }

func (g e2eGemini) turn(req map[string]json.RawMessage) (int, error) {
	var contents []struct {
		Role  string `json:"role"`
		Parts []struct {
			FunctionCall     *struct{ Name string } `json:"functionCall"`
			FunctionResponse *struct {
				Name     string          `json:"name"`
				Response json.RawMessage `json:"response"`
			} `json:"functionResponse"`
			ThoughtSignature string `json:"thoughtSignature"`
		} `json:"parts"`
	}
	if err := e2eField(req, "contents", &contents); err != nil {
		return 0, err
	}
	turn, signed := 0, false
	for _, c := range contents {
		responded := false
		for _, p := range c.Parts {
			if p.FunctionCall != nil && p.FunctionCall.Name == "read_file" {
				signed = p.ThoughtSignature == "ZTJlLXNpZ25hdHVyZQ=="
			}
			if p.FunctionResponse == nil {
				continue
			}
			if p.FunctionResponse.Name != "read_file" {
				return 0, fmt.Errorf("functionResponse for %q, want read_file", p.FunctionResponse.Name)
			}
			if err := e2eReadResult(p.FunctionResponse.Response); err != nil {
				return 0, err
			}
			responded = true
		}
		if responded {
			turn++
		}
	}
	if turn == 1 && !signed {
		return 0, fmt.Errorf("the read_file call is not sent back with its thought signature")
	}
	return turn, nil
}

// e2eGeminiUsage is each turn's usageMetadata: the prompt includes the cached
// part, and thoughts are billed as output.
var e2eGeminiUsage = []map[string]int{
	{"promptTokenCount": 1100, "candidatesTokenCount": 30, "thoughtsTokenCount": 200, "totalTokenCount": 1330},
	{"promptTokenCount": 1900, "cachedContentTokenCount": 1024, "candidatesTokenCount": 380, "thoughtsTokenCount": 150, "totalTokenCount": 2430},
}

func (g e2eGemini) reply(turn int) any {
	part := map[string]any{"functionCall": map[string]any{"name": "read_file", "args": map[string]any{"path": "store.go", "start": nil, "end": nil}},
		"thoughtSignature": "ZTJlLXNpZ25hdHVyZQ=="}
	if turn == 1 {
		part = map[string]any{"functionCall": map[string]any{"name": "submit_review", "args": g.submission}}
	}
	return map[string]any{
		"candidates":    []map[string]any{{"content": map[string]any{"role": "model", "parts": []any{part}}, "finishReason": "STOP", "index": 0}},
		"usageMetadata": e2eGeminiUsage[turn], "modelVersion": g.model, "responseId": fmt.Sprintf("resp-e2e-%d", turn+1),
	}
}

func (e2eGemini) errorBody(msg string) string {
	b, _ := json.Marshal(map[string]any{"error": map[string]any{"code": 400, "message": msg, "status": "INVALID_ARGUMENT"}})
	return string(b)
}

// Chat Completions of an OpenAI-compatible server: POST /v1/chat/completions.
// Like many such servers it omits usage details on one turn, and reports
// finish_reason "stop" with empty content on a tool-call turn.
type e2eChat struct {
	model      string
	submission json.RawMessage
}

func (e2eChat) path() string { return "/v1/chat/completions" }

func (c e2eChat) turn(req map[string]json.RawMessage) (int, error) {
	if err := e2eModel(req, c.model); err != nil {
		return 0, err
	}
	var msgs []struct {
		Role       string          `json:"role"`
		ToolCallID string          `json:"tool_call_id"`
		Content    json.RawMessage `json:"content"`
	}
	if err := e2eField(req, "messages", &msgs); err != nil {
		return 0, err
	}
	turn := 0
	for _, m := range msgs {
		if m.Role != "tool" {
			continue
		}
		if m.ToolCallID != "call_e2e_c1" {
			return 0, fmt.Errorf("tool message for %q, want call_e2e_c1", m.ToolCallID)
		}
		if err := e2eReadResult(m.Content); err != nil {
			return 0, err
		}
		turn++
	}
	return turn, nil
}

// e2eChatUsage is each turn's usage: prompt tokens include the cached ones;
// the first turn has no details at all.
var e2eChatUsage = []map[string]any{
	{"prompt_tokens": 900, "completion_tokens": 40, "total_tokens": 940},
	{"prompt_tokens": 1500, "completion_tokens": 320, "total_tokens": 1820, "prompt_tokens_details": map[string]int{"cached_tokens": 512}},
}

func (c e2eChat) reply(turn int) any {
	call := map[string]any{"id": "call_e2e_c1", "type": "function",
		"function": map[string]any{"name": "read_file", "arguments": `{"path":"store.go","start":null,"end":null}`}}
	message := map[string]any{"role": "assistant", "content": nil, "tool_calls": []any{call}}
	finish := "tool_calls"
	if turn == 1 {
		call = map[string]any{"id": "call_e2e_c2", "type": "function",
			"function": map[string]any{"name": "submit_review", "arguments": string(c.submission)}}
		message = map[string]any{"role": "assistant", "content": "", "tool_calls": []any{call}}
		finish = "stop"
	}
	return map[string]any{
		"id": fmt.Sprintf("chatcmpl-e2e-%d", turn+1), "object": "chat.completion", "created": 1764100000 + turn, "model": c.model,
		"choices": []map[string]any{{"index": 0, "finish_reason": finish, "message": message}}, "usage": e2eChatUsage[turn],
	}
}

func (e2eChat) errorBody(msg string) string {
	b, _ := json.Marshal(map[string]any{"error": map[string]any{"message": msg, "type": "invalid_request_error", "param": nil, "code": nil}})
	return string(b)
}
