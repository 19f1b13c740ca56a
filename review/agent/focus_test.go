package agent

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/deepreview/deep-review/review"
	"github.com/deepreview/deep-review/review/llm"
	"github.com/deepreview/deep-review/review/llm/anthropic"
)

func TestAssignFocus(t *testing.T) {
	t.Parallel()
	id := func(p, m string) llm.Identity { return llm.Identity{Provider: p, Model: m} }
	in := []Config{
		{Name: "a", Identity: id("anthropic", "claude-opus-5-5")},
		{Name: "b", Identity: id("anthropic", "claude-opus-5-5")},
		{Name: "c", Identity: id("openai", "gpt-5.5")},
		{Name: "d", Identity: id("anthropic", "claude-opus-5-5"), Focus: "correctness and concurrency"},
		{Name: "e", Identity: id("openai", "gpt-5.5"), Focus: "security"},
		{Name: "f", Identity: id("gemini", "gemini-3.5-flash")},
	}
	got := AssignFocus(in)
	want := map[string]string{
		"a": "error handling and resource lifecycle", // d took the first default by hand
		"b": "tests, docs and contracts",
		"c": "correctness and concurrency",
		"d": "correctness and concurrency",
		"e": "security",
		"f": "", // alone on its model
	}
	for _, c := range got {
		if c.Focus != want[c.Name] {
			t.Errorf("%s: focus %q, want %q", c.Name, c.Focus, want[c.Name])
		}
	}
	if in[0].Focus != "" {
		t.Error("AssignFocus modified its argument")
	}
}

// anthropicFake is an Anthropic Messages endpoint that answers every request
// with a submit_review call and keeps each request's system prompt.
type anthropicFake struct {
	t       *testing.T
	mu      sync.Mutex
	systems []string
}

func (f *anthropicFake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/v1/messages" {
		f.t.Errorf("request %s %s, want POST /v1/messages", r.Method, r.URL.Path)
		http.Error(w, "not found", http.StatusNotFound)
		return
	}
	var req struct {
		System []struct {
			Text string `json:"text"`
		} `json:"system"`
	}
	body, _ := io.ReadAll(r.Body)
	if err := json.Unmarshal(body, &req); err != nil {
		f.t.Errorf("request body: %v", err)
	}
	var sys strings.Builder
	for _, b := range req.System {
		sys.WriteString(b.Text)
	}
	f.mu.Lock()
	f.systems = append(f.systems, sys.String())
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	io.WriteString(w, `{"id":"msg_1","type":"message","role":"assistant","model":"claude-opus-5-5",
  "content":[{"type":"tool_use","id":"toolu_1","name":"submit_review","input":`+validSubmission+`}],
  "stop_reason":"tool_use","stop_sequence":null,"usage":{"input_tokens":100,"output_tokens":50}}`)
}

func TestReviewersOnOneModelGetDifferentFocusLines(t *testing.T) {
	t.Parallel()
	pr := fixture(t)
	fake := &anthropicFake{t: t}
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	var reviewers []Config
	for _, name := range []string{"first", "second"} {
		m, err := anthropic.New(anthropic.Config{Model: "claude-opus-5-5", APIKey: "k", BaseURL: srv.URL, HTTPClient: srv.Client(), MaxRetries: -1})
		if err != nil {
			t.Fatal(err)
		}
		reviewers = append(reviewers, Config{Name: name, Model: m, Identity: llm.Identity{Provider: "anthropic", Model: "claude-opus-5-5"}})
	}
	results := ReviewAll(t.Context(), pr, AssignFocus(reviewers), io.Discard, false)
	for _, res := range results {
		if res.Run.Status != review.StatusOK {
			t.Fatalf("%s: %s %s", res.Run.Name, res.Run.Status, res.Run.Error)
		}
	}
	focusLine := func(sys string) string {
		for _, line := range strings.Split(sys, "\n") {
			if strings.Contains(line, "give most of your turns to:") {
				return line
			}
		}
		return ""
	}
	fake.mu.Lock()
	defer fake.mu.Unlock()
	if len(fake.systems) != 2 {
		t.Fatalf("%d requests, want 2", len(fake.systems))
	}
	a, b := focusLine(fake.systems[0]), focusLine(fake.systems[1])
	if a == "" || b == "" || a == b {
		t.Errorf("focus lines %q and %q, want two different ones", a, b)
	}
	got := map[string]bool{results[0].Run.Focus: true, results[1].Run.Focus: true}
	if !got["correctness and concurrency"] || !got["error handling and resource lifecycle"] {
		t.Errorf("Run.Focus = %q, %q", results[0].Run.Focus, results[1].Run.Focus)
	}
}
