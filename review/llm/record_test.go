package llm_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/deepreview/deep-review/review"
	"github.com/deepreview/deep-review/review/llm"
	"github.com/deepreview/deep-review/review/llm/openai"
)

// scripted is a Model that returns its responses in order.
type scripted struct {
	resps []*llm.Response
	errs  []error
	n     int
}

func (s *scripted) Turn(ctx context.Context, req llm.Request) (*llm.Response, error) {
	i := s.n
	s.n++
	if i < len(s.errs) && s.errs[i] != nil {
		return nil, s.errs[i]
	}
	return s.resps[i], nil
}

// clock advances by step on every call.
func clock(step time.Duration) func() time.Time {
	t := time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)
	return func() time.Time {
		t = t.Add(step)
		return t
	}
}

var script = []*llm.Response{
	{
		Message: llm.Message{Role: llm.Assistant, Text: "Reading.", Opaque: json.RawMessage(`[{"type":"thinking","signature":"sig"}]`),
			ToolCalls: []llm.ToolCall{{ID: "c1", Name: "read_file", Arguments: json.RawMessage(`{"path":"a.go"}`)}, {ID: "c2", Name: "grep", Arguments: json.RawMessage(`{"pattern":"x"}`)}}},
		Usage: review.Tokens{Input: 10, CachedInput: 100, CacheWrite: 5, Output: 20, Reasoning: 7},
		Stop:  llm.StopToolUse,
	},
	{
		Message: llm.Message{Role: llm.Assistant, Text: "Done."},
		Usage:   review.Tokens{Input: 3, CachedInput: 130, Output: 4},
		Stop:    llm.StopEndTurn,
	},
}

// loop drives m like the agent and returns its responses.
func loop(t *testing.T, m llm.Model) []*llm.Response {
	t.Helper()
	msgs := []llm.Message{{Role: llm.User, Text: "Review."}}
	var out []*llm.Response
	for i := 0; i < 5; i++ {
		resp, err := m.Turn(context.Background(), llm.Request{System: "sys", Messages: msgs})
		if err != nil {
			t.Fatalf("turn %d: %v", i+1, err)
		}
		out = append(out, resp)
		msgs = append(msgs, resp.Message)
		if len(resp.Message.ToolCalls) == 0 {
			return out
		}
		res := llm.Message{Role: llm.User}
		for _, c := range resp.Message.ToolCalls {
			res.ToolResults = append(res.ToolResults, llm.ToolResult{CallID: c.ID, Name: c.Name, Content: "ok"})
		}
		msgs = append(msgs, res)
	}
	t.Fatal("loop did not end")
	return nil
}

func TestRecordingReplaysTheSameConversation(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sessions", "anthropic-claude-opus-5-5.json")
	rec := llm.NewRecorder(&scripted{resps: script}, llm.Identity{Provider: "anthropic", Model: "claude-opus-5-5", Effort: "high"}, path)
	rec.Now = clock(1500 * time.Millisecond)
	live := loop(t, rec)

	s, err := llm.LoadSession(path)
	if err != nil {
		t.Fatal(err)
	}
	if s.Label != "recorded" || s.Provider != "anthropic" || s.Model != "claude-opus-5-5" || s.Effort != "high" {
		t.Errorf("session header = %q %q %q %q", s.Label, s.Provider, s.Model, s.Effort)
	}
	if len(s.Turns) != 2 {
		t.Fatalf("turns = %d, want 2", len(s.Turns))
	}
	if s.Turns[0].DelayMS != 1500 {
		t.Errorf("delay = %d ms, want 1500", s.Turns[0].DelayMS)
	}
	if got := len(s.Turns[1].Request.Messages); got != 3 {
		t.Errorf("second request has %d messages, want 3", got)
	}

	replay := llm.NewReplay(s)
	if got := replay.Identity().Label; got != "recorded replay" {
		t.Errorf("replay label = %q", got)
	}
	replayed := loop(t, replay)
	if !reflect.DeepEqual(normalise(t, replayed), normalise(t, live)) {
		t.Errorf("replayed responses differ from the live ones:\n%s\n%s", normalise(t, replayed), normalise(t, live))
	}
}

func normalise(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestRecorderKeepsWhatWasSentWhenTheCallerReusesSlices(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.json")
	rec := llm.NewRecorder(&scripted{resps: script}, llm.Identity{Provider: "openai", Model: "gpt-5.5"}, path)
	msgs := make([]llm.Message, 1, 8)
	msgs[0] = llm.Message{Role: llm.User, Text: "first"}
	if _, err := rec.Turn(context.Background(), llm.Request{Messages: msgs}); err != nil {
		t.Fatal(err)
	}
	msgs[0].Text = "changed afterwards"
	if _, err := rec.Turn(context.Background(), llm.Request{Messages: msgs}); err != nil {
		t.Fatal(err)
	}
	s, err := llm.LoadSession(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Turns[0].Request.Messages[0].Text; got != "first" {
		t.Errorf("recorded request = %q, want what was sent", got)
	}
}

func TestRecorderSkipsFailedTurnsAndReportsWriteErrors(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "s.json")
	boom := errors.New("529 overloaded")
	rec := llm.NewRecorder(&scripted{resps: []*llm.Response{nil, script[1]}, errs: []error{boom}}, llm.Identity{Provider: "anthropic", Model: "m"}, path)
	if _, err := rec.Turn(context.Background(), llm.Request{}); !errors.Is(err, boom) {
		t.Fatalf("error = %v, want the model's", err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("a failed turn wrote the file: %v", err)
	}
	if _, err := rec.Turn(context.Background(), llm.Request{}); err != nil {
		t.Fatal(err)
	}
	s, err := llm.LoadSession(path)
	if err != nil || len(s.Turns) != 1 {
		t.Fatalf("session = %+v, %v; want the one good turn", s, err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("directory holds %d entries, want only the session (no temp files)", len(entries))
	}

	blocker := filepath.Join(dir, "file")
	os.WriteFile(blocker, nil, 0o644)
	bad := llm.NewRecorder(&scripted{resps: script}, llm.Identity{Provider: "anthropic", Model: "m"}, filepath.Join(blocker, "s.json"))
	if _, err := bad.Turn(context.Background(), llm.Request{}); err == nil || !strings.Contains(err.Error(), "record turn 1") {
		t.Errorf("error = %v, want a recording error", err)
	}
}

// A recording of a real adapter holds the conversation and never the key.
func TestRecordingOfALiveAdapterHoldsNoSecret(t *testing.T) {
	const key = "sk-live-secret-0123456789"
	replies := []string{
		`{"id":"c1","object":"chat.completion","choices":[{"index":0,"finish_reason":"tool_calls","message":{"role":"assistant","content":null,
			"tool_calls":[{"id":"call_1","type":"function","function":{"name":"read_file","arguments":"{\"path\":\"a.go\"}"}}]}}],
			"usage":{"prompt_tokens":50,"completion_tokens":5,"total_tokens":55}}`,
		`{"id":"c2","object":"chat.completion","choices":[{"index":0,"finish_reason":"stop","message":{"role":"assistant","content":"Fine."}}],
			"usage":{"prompt_tokens":70,"completion_tokens":2,"total_tokens":72}}`,
	}
	n := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		if r.Header.Get("Authorization") != "Bearer "+key {
			t.Errorf("Authorization = %q", r.Header.Get("Authorization"))
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, replies[n])
		n++
	}))
	defer srv.Close()
	m, err := openai.NewChat(openai.Config{Model: "llama", APIKey: key, BaseURL: srv.URL + "/v1", HTTPClient: srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "s.json")
	live := loop(t, llm.NewRecorder(m, m.Identity(), path))
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{key, srv.URL} {
		if strings.Contains(string(data), secret) {
			t.Errorf("recording contains %q", secret)
		}
	}
	s, err := llm.ParseSession(data)
	if err != nil {
		t.Fatal(err)
	}
	if got := loop(t, llm.NewReplay(s)); normalise(t, got) != normalise(t, live) {
		t.Errorf("replay differs:\n%s\n%s", normalise(t, got), normalise(t, live))
	}
	if s.Turns[1].Response.Usage.Input != 70 {
		t.Errorf("recorded usage = %+v", s.Turns[1].Response.Usage)
	}
}
