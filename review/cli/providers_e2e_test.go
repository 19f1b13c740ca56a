package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/deepreview/deep-review/review"
	"github.com/deepreview/deep-review/review/demo"
)

// TestFourLiveProvidersRideOutFaults is the "done when" of issue 3: a local
// review with one reviewer per provider (anthropic, openai, gemini,
// openai-compatible), each through its real adapter and SDK against a fake
// of its API reached through the design's environment names, completes
// with every reviewer ok and its tokens in report.json, although Anthropic
// answers 529 twice, OpenAI 429 with Retry-After: 1 once and Gemini 503
// once on the way.
func TestFourLiveProvidersRideOutFaults(t *testing.T) {
	ctx := context.Background()
	repo := t.TempDir()
	if err := demo.BuildRepo(ctx, repo); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile("testdata/e2e/submission.json")
	if err != nil {
		t.Fatal(err)
	}
	var sub bytes.Buffer
	if err := json.Compact(&sub, raw); err != nil {
		t.Fatalf("testdata/e2e/submission.json: %v", err)
	}
	submission := json.RawMessage(sub.Bytes())

	overloaded := e2eFault{status: 529, header: map[string]string{"retry-after-ms": "50", "request-id": "req_e2e_529"},
		body: `{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"},"request_id":"req_e2e_529"}`}
	rateLimited := e2eFault{status: http.StatusTooManyRequests,
		header: map[string]string{"Retry-After": "1", "x-request-id": "req_e2e_429", "x-ratelimit-remaining-requests": "0"},
		body:   `{"error":{"message":"Rate limit reached for M2 in organization org-e2e on requests per min (RPM): Limit 500, Used 500, Requested 1. Please try again in 1s.","type":"requests","param":null,"code":"rate_limit_exceeded"}}`}
	unavailable := e2eFault{status: http.StatusServiceUnavailable, header: map[string]string{"Content-Type": "application/json; charset=UTF-8"},
		body: `{"error":{"code":503,"message":"The model is overloaded. Please try again later.","status":"UNAVAILABLE"}}`}

	keys := map[string]string{
		"anthropic":         "sk-ant-e2e-9f8e7d6c5b4a3210",
		"openai":            "sk-proj-e2e-0a1b2c3d4e5f6789",
		"gemini":            "AIzaE2E-5e6f7a8b9c0d1e2f",
		"openai-compatible": "sk-compat-e2e-13579bdf2468",
	}
	// Anthropic fails its first two attempts; OpenAI the first attempt of
	// its second turn (so the retry resends a conversation with echoed
	// state); Gemini its first attempt.
	//
	// Claude's submission also quotes the Anthropic key back (as a model
	// quoting a leaked key from the PR would): it must not be written
	// anywhere either.
	echoed := json.RawMessage(strings.Replace(string(submission), `"explanation":"`, `"explanation":"`+keys["anthropic"]+` `, 1))
	if bytes.Equal(echoed, submission) {
		t.Fatal("testdata/e2e/submission.json has no finding explanation to put the key in")
	}
	claude := newE2EProvider(t, "anthropic", e2eAnthropic{"M1", echoed}, map[int]e2eFault{0: overloaded, 1: overloaded})
	gpt := newE2EProvider(t, "openai", e2eResponses{"M2", submission}, map[int]e2eFault{1: rateLimited})
	gemini := newE2EProvider(t, "gemini", e2eGemini{"M3", submission}, map[int]e2eFault{0: unavailable})
	compat := newE2EProvider(t, "openai-compatible", e2eChat{"M4", submission}, nil)

	env := map[string]string{
		"ANTHROPIC_BASE_URL":         claude.srv.URL,
		"OPENAI_BASE_URL":            gpt.srv.URL + "/v1",
		"GOOGLE_GEMINI_BASE_URL":     gemini.srv.URL,
		"OPENAI_COMPATIBLE_BASE_URL": compat.srv.URL + "/v1",
		"ANTHROPIC_API_KEY":          keys["anthropic"],
		"OPENAI_API_KEY":             keys["openai"],
		"GEMINI_API_KEY":             keys["gemini"],
		"OPENAI_COMPATIBLE_API_KEY":  keys["openai-compatible"],
	}
	out := filepath.Join(t.TempDir(), "out")
	start := time.Now()
	stdout, stderr, err := runCLI(t, env, "review", "--base", "main", "--head", "link-expiry", "--dir", repo,
		"--reviewers", "anthropic:M1,openai:M2,gemini:M3,openai-compatible:M4", "--lead", "none", "--out-dir", out)
	took := time.Since(start)
	if err != nil {
		t.Fatalf("review: %v\nstdout:\n%s\nstderr:\n%s", err, stdout, stderr)
	}
	t.Logf("review took %s", took.Round(time.Millisecond))

	// Every fault was met and retried: the attempts are exactly the
	// scripted faults followed by the two turns.
	fakes := []struct {
		p    *e2eProvider
		key  string
		want []int
	}{
		{claude, keys["anthropic"], []int{529, 529, 200, 200}},
		{gpt, keys["openai"], []int{200, 429, 200}},
		{gemini, keys["gemini"], []int{503, 200, 200}},
		{compat, keys["openai-compatible"], []int{200, 200}},
	}
	for _, f := range fakes {
		got := f.p.statuses()
		t.Logf("%s: attempts %v", f.p.name, got)
		if !slices.Equal(got, f.want) {
			t.Errorf("%s answered %v, want %v", f.p.name, got, f.want)
		}
		for i, a := range f.p.log() {
			h := a.header
			if auth := h.Get("Authorization") + h.Get("X-Api-Key") + h.Get("X-Goog-Api-Key"); !strings.Contains(auth, f.key) {
				t.Errorf("%s attempt %d does not carry the key from the environment", f.p.name, i+1)
			}
		}
	}
	// A retry resends the very request that was refused, and waits as
	// long as the Retry-After asked.
	if log := claude.log(); len(log) >= 3 && (!bytes.Equal(log[0].body, log[1].body) || !bytes.Equal(log[1].body, log[2].body)) {
		t.Error("anthropic: the retries after the 529s do not resend the same request")
	}
	if log := gpt.log(); len(log) == 3 {
		if !bytes.Equal(log[1].body, log[2].body) {
			t.Error("openai: the retry after the 429 does not resend the same request")
		}
		if wait := log[2].at.Sub(log[1].at); wait < 900*time.Millisecond {
			t.Errorf("openai: retried %s after a 429 with Retry-After: 1", wait)
		} else {
			t.Logf("openai: retried %s after the 429", wait.Round(time.Millisecond))
		}
	}

	r := readReport(t, out)
	// Usage as each fake reported it, normalised: input excludes cached
	// and cache-write tokens; Gemini bills thoughts as output.
	want := map[string]struct {
		provider, model string
		tokens          review.Tokens
	}{
		// input 300+250, cache writes 1200+300, cache reads 0+1200, output 150+400.
		"Claude": {"anthropic", "M1", review.Tokens{Input: 550, CachedInput: 1200, CacheWrite: 1500, Output: 550}},
		// input (1400-0)+(2100-1280), cached 1280, output 90+350 of which reasoning 30+120.
		"GPT": {"openai", "M2", review.Tokens{Input: 2220, CachedInput: 1280, Output: 440, Reasoning: 150}},
		// prompt (1100-0)+(1900-1024), cached 1024, output (30+200)+(380+150), thoughts 200+150.
		"Gemini": {"gemini", "M3", review.Tokens{Input: 1976, CachedInput: 1024, Output: 760, Reasoning: 350}},
		// prompt 900+(1500-512), cached 512, completion 40+320.
		"M4": {"openai-compatible", "M4", review.Tokens{Input: 1888, CachedInput: 512, Output: 360}},
	}
	if len(r.Reviewers) != len(want) {
		t.Errorf("%d reviewers in report.json, want %d: %+v", len(r.Reviewers), len(want), r.Reviewers)
	}
	for _, s := range r.Reviewers {
		w, ok := want[s.Name]
		if !ok {
			t.Errorf("unexpected reviewer %q", s.Name)
			continue
		}
		t.Logf("%s (%s:%s): %s, %d turns, tokens %+v", s.Name, s.Provider, s.Model, s.Status, s.Turns, s.Tokens)
		if s.Status != review.StatusOK || s.Error != "" {
			t.Errorf("reviewer %s: status %q, error %q; want ok", s.Name, s.Status, s.Error)
		}
		if s.Provider != w.provider || s.Model != w.model {
			t.Errorf("reviewer %s is %s:%s, want %s:%s", s.Name, s.Provider, s.Model, w.provider, w.model)
		}
		if s.Tokens != w.tokens {
			t.Errorf("reviewer %s: tokens %+v, want %+v", s.Name, s.Tokens, w.tokens)
		}
		if s.Turns != 2 || s.ToolCalls["read_file"] != 1 || !slices.Contains(s.FilesReviewed, "store.go") {
			t.Errorf("reviewer %s: %d turns, tool calls %v, files %v; want 2 turns that read store.go", s.Name, s.Turns, s.ToolCalls, s.FilesReviewed)
		}
		if s.Name == "Claude" && s.ToolCalls["grep"] != 1 {
			t.Errorf("Claude's tool calls %v do not count the grep made in parallel with read_file", s.ToolCalls)
		}
	}

	// The one finding all four submitted, attributed to each of them.
	var found bool
	for _, f := range r.Findings {
		if f.File != "store.go" || f.StartLine != 50 {
			continue
		}
		found = true
		for name := range want {
			if !slices.Contains(f.Reviewers, name) {
				t.Errorf("the store.go:50 finding is not attributed to %s: %v", name, f.Reviewers)
			}
		}
		if !strings.Contains(f.Excerpt, "After(l.Expires)") {
			t.Errorf("the finding's excerpt is not the cited line: %q", f.Excerpt)
		}
	}
	if !found {
		t.Errorf("no finding on store.go:50 in report.json: %+v", r.Findings)
	}
	if !strings.Contains(stdout, "Verdict: ") {
		t.Errorf("stdout has no verdict:\n%s", stdout)
	}

	// The keys reach the providers only: not the terminal, not a file of
	// the report folder (raw transcripts included).
	leaks := map[string]string{"stdout": stdout, "stderr": stderr}
	files := 0
	err = filepath.WalkDir(out, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		leaks[path] = string(data)
		files++
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 9 { // report.md, comment.md, report.html, report.json, report.sarif, raw/ x4
		t.Errorf("the out dir holds %d files, want the five reports and four raw transcripts", files)
	}
	for where, text := range leaks {
		for provider, key := range keys {
			if strings.Contains(text, key) {
				t.Errorf("the %s key appears in %s", provider, where)
			}
		}
	}
}
