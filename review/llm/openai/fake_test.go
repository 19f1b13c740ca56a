package openai

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/deepreview/deep-review/review/llm"
)

// reply is one scripted HTTP response.
type reply struct {
	status  int
	headers map[string]string
	body    string
}

func ok(body string) reply {
	return reply{status: 200, headers: map[string]string{"x-request-id": "req_ok"}, body: body}
}

// fake is an OpenAI-style endpoint at path that serves scripted replies in
// order and keeps every request body and header it saw.
type fake struct {
	t       *testing.T
	path    string
	mu      sync.Mutex
	replies []reply
	bodies  [][]byte
	headers []http.Header
}

func newFake(t *testing.T, path string, replies ...reply) (*fake, *httptest.Server) {
	t.Helper()
	f := &fake{t: t, path: path, replies: replies}
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

var tools = []llm.Tool{
	{Name: "read_file", Description: "Read a file.", Schema: json.RawMessage(`{"type":"object","properties":{"path":{"type":"string"}},"required":["path"],"additionalProperties":false}`)},
	{Name: "grep", Description: "Search the repository.", Schema: json.RawMessage(`{"type":"object","properties":{"pattern":{"type":"string"},"glob":{"type":["string","null"]}},"required":["pattern"]}`)},
}

// runLoop drives the model as the agent does: answer every tool call of a
// turn in one user message until the model stops calling tools.
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
			results.ToolResults = append(results.ToolResults, llm.ToolResult{CallID: c.ID, Name: c.Name, Content: "result for " + c.ID})
		}
		msgs = append(msgs, results)
	}
	t.Fatal("loop did not end")
	return nil
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
