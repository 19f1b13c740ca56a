package providers

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/deepreview/deep-review/review/llm"
	"github.com/deepreview/deep-review/review/llm/anthropic"
	"github.com/deepreview/deep-review/review/llm/gemini"
	"github.com/deepreview/deep-review/review/llm/openai"
)

func TestNewErrorsNameTheFix(t *testing.T) {
	tests := []struct {
		spec string
		opts Options
		want string
	}{
		{"anthropic:claude-opus-5-5", Options{}, "anthropic:claude-opus-5-5: no API key; set the anthropic-api-key input or ANTHROPIC_API_KEY"},
		{"openai:gpt-6.1-sol@high", Options{}, "openai:gpt-6.1-sol: no API key; set the openai-api-key input or OPENAI_API_KEY"},
		{"gemini:gemini-3-pro-preview", Options{BaseURL: "http://localhost:1"}, "gemini:gemini-3-pro-preview: no API key; set the gemini-api-key input or GEMINI_API_KEY or GOOGLE_API_KEY"},
		{"openai-compatible:llama3.3", Options{APIKey: "k"}, "openai-compatible:llama3.3: no base URL; set the openai-compatible-base-url input or OPENAI_COMPATIBLE_BASE_URL to the server's root, e.g. http://localhost:11434/v1"},
		{"openai-compatible:llama3.3", Options{BaseURL: "http://localhost:1/v1", API: "responses"}, "openai-compatible:llama3.3: no API key for the Responses API; set the openai-compatible-api-key input or OPENAI_COMPATIBLE_API_KEY"},
		{"openai:gpt-5.5", Options{APIKey: "k", API: "completions"}, `openai:gpt-5.5: unknown API "completions"; use responses or chat`},
		{"replay:demo", Options{}, "replay:demo: replay models come from session files, not from providers.New"},
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			spec, err := llm.ParseSpec(tt.spec)
			if err != nil {
				t.Fatal(err)
			}
			m, err := New(spec, tt.opts)
			if err == nil || err.Error() != tt.want {
				t.Errorf("error = %v\nwant %s", err, tt.want)
			}
			if m != nil {
				t.Errorf("model = %#v, want nil with an error", m)
			}
		})
	}
}

func TestNewPicksTheAdapter(t *testing.T) {
	tests := []struct {
		spec string
		opts Options
		want any
	}{
		{"anthropic:claude-opus-5-5@high", Options{APIKey: "k"}, &anthropic.Model{}},
		{"openai:gpt-6.1-sol", Options{APIKey: "k"}, &openai.Responses{}},
		{"openai:gpt-6.1-sol", Options{APIKey: "k", API: "chat", BaseURL: "https://example.openai.azure.com/openai/v1"}, &openai.Chat{}},
		{"openai-compatible:qwen3", Options{BaseURL: "http://localhost:11434/v1"}, &openai.Chat{}},
		{"openai-compatible:qwen3", Options{APIKey: "k", BaseURL: "http://localhost:8000/v1", API: "responses"}, &openai.Responses{}},
		{"gemini:gemini-3.5-flash@low", Options{APIKey: "k"}, &gemini.Model{}},
	}
	for _, tt := range tests {
		t.Run(tt.spec+" "+tt.opts.API, func(t *testing.T) {
			spec, _ := llm.ParseSpec(tt.spec)
			m, err := New(spec, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if reflect.TypeOf(m) != reflect.TypeOf(tt.want) {
				t.Errorf("model is %T, want %T", m, tt.want)
			}
			id := m.(interface{ Identity() llm.Identity }).Identity()
			if want := (llm.Identity{Provider: spec.Provider, Model: spec.Model, Effort: spec.Effort}); id != want {
				t.Errorf("identity = %+v, want %+v", id, want)
			}
		})
	}
}

// step is one scripted HTTP reply.
type step struct {
	status  int
	headers map[string]string
	body    string
}

// script serves steps in order at path and counts the requests.
func script(t *testing.T, path string, steps ...step) (*httptest.Server, func() int) {
	t.Helper()
	var mu sync.Mutex
	n := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		mu.Lock()
		defer mu.Unlock()
		if r.URL.Path != path {
			t.Errorf("request to %s, want %s", r.URL.Path, path)
			http.Error(w, "not found", http.StatusNotFound)
			return
		}
		if n >= len(steps) {
			t.Errorf("unexpected request %d to %s", n+1, path)
			http.Error(w, "no more", http.StatusInternalServerError)
			return
		}
		s := steps[n]
		n++
		w.Header().Set("Content-Type", "application/json")
		for k, v := range s.headers {
			w.Header().Set(k, v)
		}
		w.WriteHeader(s.status)
		io.WriteString(w, s.body)
	}))
	t.Cleanup(srv.Close)
	return srv, func() int { mu.Lock(); defer mu.Unlock(); return n }
}

func ok(body string) step { return step{status: 200, body: body} }

// Each provider, built by New against a fake of its wire format, survives
// its provider's retryable errors and completes a two-turn tool loop with
// its usage reported.
func TestEveryProviderCompletesAToolLoopThroughRetries(t *testing.T) {
	tests := []struct {
		spec     string
		path     string
		base     string // appended to the server URL
		steps    []step
		requests int
	}{
		{"anthropic:claude-opus-5-5@high", "/v1/messages", "", []step{
			{529, map[string]string{"retry-after-ms": "10"}, `{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`},
			ok(`{"id":"msg_1","type":"message","role":"assistant","model":"claude-opus-5-5","content":[{"type":"tool_use","id":"toolu_1","name":"grep","input":{"pattern":"x"}}],"stop_reason":"tool_use","usage":{"input_tokens":100,"output_tokens":10}}`),
			{529, map[string]string{"retry-after-ms": "10"}, `{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`},
			ok(`{"id":"msg_2","type":"message","role":"assistant","model":"claude-opus-5-5","content":[{"type":"text","text":"done"}],"stop_reason":"end_turn","usage":{"input_tokens":5,"cache_read_input_tokens":100,"output_tokens":3}}`),
		}, 4},
		{"openai:gpt-6.1-sol@medium", "/v1/responses", "/v1", []step{
			ok(`{"id":"resp_1","object":"response","status":"completed","output":[{"type":"function_call","id":"fc_1","call_id":"call_1","name":"grep","arguments":"{\"pattern\":\"x\"}","status":"completed"}],"usage":{"input_tokens":100,"input_tokens_details":{"cached_tokens":0},"output_tokens":10,"output_tokens_details":{"reasoning_tokens":0},"total_tokens":110}}`),
			{429, map[string]string{"retry-after": "1"}, `{"error":{"message":"Rate limit reached","type":"requests","param":null,"code":"rate_limit_exceeded"}}`},
			ok(`{"id":"resp_2","object":"response","status":"completed","output":[{"type":"message","id":"msg_2","role":"assistant","status":"completed","content":[{"type":"output_text","text":"done","annotations":[]}]}],"usage":{"input_tokens":105,"input_tokens_details":{"cached_tokens":100},"output_tokens":3,"output_tokens_details":{"reasoning_tokens":0},"total_tokens":108}}`),
		}, 3},
		{"openai-compatible:qwen3-coder", "/v1/chat/completions", "/v1", []step{
			ok(`{"id":"c1","object":"chat.completion","choices":[{"index":0,"finish_reason":"stop","message":{"role":"assistant","content":"","tool_calls":[{"id":"call_1","type":"function","function":{"name":"grep","arguments":"{\"pattern\":\"x\"}"}}]}}],"usage":{"prompt_tokens":100,"completion_tokens":10,"total_tokens":110}}`),
			ok(`{"id":"c2","object":"chat.completion","choices":[{"index":0,"finish_reason":"stop","message":{"role":"assistant","content":"done"}}],"usage":{"prompt_tokens":105,"completion_tokens":3,"total_tokens":108}}`),
		}, 2},
		{"gemini:gemini-3.5-flash@low", "/v1beta/models/gemini-3.5-flash:generateContent", "", []step{
			ok(`{"candidates":[{"content":{"role":"model","parts":[{"functionCall":{"name":"grep","args":{"pattern":"x"}},"thoughtSignature":"c2ln"}]},"finishReason":"STOP"}],"usageMetadata":{"promptTokenCount":100,"candidatesTokenCount":10,"totalTokenCount":110}}`),
			{503, nil, `{"error":{"code":503,"message":"The model is overloaded. Please try again later.","status":"UNAVAILABLE"}}`},
			ok(`{"candidates":[{"content":{"role":"model","parts":[{"text":"done"}]},"finishReason":"STOP"}],"usageMetadata":{"promptTokenCount":105,"cachedContentTokenCount":100,"candidatesTokenCount":3,"totalTokenCount":108}}`),
		}, 3},
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			t.Parallel()
			srv, count := script(t, tt.path, tt.steps...)
			spec, err := llm.ParseSpec(tt.spec)
			if err != nil {
				t.Fatal(err)
			}
			m, err := New(spec, Options{APIKey: "test-key", BaseURL: srv.URL + tt.base, HTTPClient: srv.Client()})
			if err != nil {
				t.Fatal(err)
			}
			tool := llm.Tool{Name: "grep", Description: "Search.", Schema: json.RawMessage(`{"type":"object","properties":{"pattern":{"type":"string"}},"required":["pattern"],"additionalProperties":false}`)}
			msgs := []llm.Message{{Role: llm.User, Text: "Review."}}
			first, err := m.Turn(context.Background(), llm.Request{System: "sys", Messages: msgs, Tools: []llm.Tool{tool}})
			if err != nil {
				t.Fatalf("turn 1: %v", err)
			}
			if first.Stop != llm.StopToolUse || len(first.Message.ToolCalls) != 1 {
				t.Fatalf("turn 1: stop %q, %d calls", first.Stop, len(first.Message.ToolCalls))
			}
			c := first.Message.ToolCalls[0]
			msgs = append(msgs, first.Message, llm.Message{Role: llm.User, ToolResults: []llm.ToolResult{{CallID: c.ID, Name: c.Name, Content: "no match"}}})
			last, err := m.Turn(context.Background(), llm.Request{System: "sys", Messages: msgs, Tools: []llm.Tool{tool}})
			if err != nil {
				t.Fatalf("turn 2: %v", err)
			}
			if last.Stop != llm.StopEndTurn || last.Message.Text != "done" {
				t.Errorf("turn 2: %q %q", last.Stop, last.Message.Text)
			}
			if first.Usage.Input != 100 || first.Usage.Output != 10 {
				t.Errorf("turn 1 usage = %+v", first.Usage)
			}
			if total := last.Usage.Input + last.Usage.CachedInput; total != 105 {
				t.Errorf("turn 2 input + cached = %d, want 105 (%+v)", total, last.Usage)
			}
			if n := count(); n != tt.requests {
				t.Errorf("requests = %d, want %d", n, tt.requests)
			}
		})
	}
}

// The SDKs read ambient variables unless told not to; none may leak in.
func TestEnvironmentDoesNotLeakIntoClients(t *testing.T) {
	for k, v := range map[string]string{
		"ANTHROPIC_API_KEY": "env-key", "ANTHROPIC_BASE_URL": "http://env.invalid", "ANTHROPIC_AUTH_TOKEN": "env-token",
		"OPENAI_API_KEY": "env-key", "OPENAI_BASE_URL": "http://env.invalid/v1", "OPENAI_ORG_ID": "org-env", "OPENAI_PROJECT_ID": "proj-env",
		"OPENAI_CUSTOM_HEADERS": "X-Env: leaked",
		"GEMINI_API_KEY":        "env-key", "GOOGLE_API_KEY": "env-key", "GOOGLE_GEMINI_BASE_URL": "http://env.invalid", "GOOGLE_GENAI_USE_VERTEXAI": "true",
	} {
		t.Setenv(k, v)
	}
	bodies := map[string]string{
		"/v1/messages":                     `{"id":"m","type":"message","role":"assistant","content":[{"type":"text","text":"hi"}],"stop_reason":"end_turn","usage":{"input_tokens":1,"output_tokens":1}}`,
		"/v1/responses":                    `{"id":"r","object":"response","status":"completed","output":[{"type":"message","id":"m","role":"assistant","status":"completed","content":[{"type":"output_text","text":"hi","annotations":[]}]}]}`,
		"/v1/chat/completions":             `{"id":"c","choices":[{"index":0,"finish_reason":"stop","message":{"role":"assistant","content":"hi"}}]}`,
		"/v1beta/models/g:generateContent": `{"candidates":[{"content":{"role":"model","parts":[{"text":"hi"}]},"finishReason":"STOP"}]}`,
	}
	var mu sync.Mutex
	var seen []http.Header
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		mu.Lock()
		seen = append(seen, r.Header.Clone())
		mu.Unlock()
		body, ok := bodies[r.URL.Path]
		if !ok {
			t.Errorf("request to %s", r.URL.Path)
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, body)
	}))
	defer srv.Close()
	for _, tt := range []struct{ spec, base string }{
		{"anthropic:a", ""}, {"openai:o", "/v1"}, {"openai-compatible:c", "/v1"}, {"gemini:g", ""},
	} {
		spec, _ := llm.ParseSpec(tt.spec)
		m, err := New(spec, Options{APIKey: "opt-key", BaseURL: srv.URL + tt.base, HTTPClient: srv.Client()})
		if err != nil {
			t.Fatal(err)
		}
		resp, err := m.Turn(context.Background(), llm.Request{Messages: []llm.Message{{Role: llm.User, Text: "hi"}}})
		if err != nil {
			t.Fatalf("%s: %v", tt.spec, err)
		}
		if resp.Message.Text != "hi" {
			t.Errorf("%s: text %q", tt.spec, resp.Message.Text)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != 4 {
		t.Fatalf("requests = %d, want 4", len(seen))
	}
	for i, h := range seen {
		for name, vals := range h {
			for _, v := range vals {
				if strings.Contains(v, "env-") || strings.Contains(v, "leaked") {
					t.Errorf("request %d header %s = %q comes from the environment", i+1, name, v)
				}
			}
		}
		if got := h.Get("Authorization") + h.Get("X-Api-Key") + h.Get("X-Goog-Api-Key"); !strings.Contains(got, "opt-key") {
			t.Errorf("request %d does not carry the given key: %v", i+1, h)
		}
	}
}
