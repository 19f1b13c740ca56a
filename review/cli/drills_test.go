package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/deepreview/deep-review/review"
	"github.com/deepreview/deep-review/review/agent"
	"github.com/deepreview/deep-review/review/demo"
	"github.com/deepreview/deep-review/review/llm"
	"github.com/deepreview/deep-review/review/publish"
)

// Fault drills: whole action runs (run() under a simulated Actions runner,
// the fake GitHub of action_test.go) in which a provider, GitHub or the
// results service misbehaves. Each drill checks that the run still writes
// and publishes its report, that every reviewer has the status it earned,
// and that no finding of a healthy reviewer is lost. The live reviewers go
// through the real provider adapters (the official SDKs and their retries)
// against httptest servers speaking the providers' wire formats; their
// turns are the demo's scripted sessions. Waits are the real ones the code
// under test chooses, kept short by the faults' Retry-After values.

// drillFault is one canned HTTP error reply.
type drillFault struct {
	status int
	header map[string]string
	body   string
}

func (f drillFault) write(w http.ResponseWriter) {
	for k, v := range f.header {
		w.Header().Set(k, v)
	}
	if w.Header().Get("Content-Type") == "" {
		w.Header().Set("Content-Type", "application/json")
	}
	w.WriteHeader(f.status)
	io.WriteString(w, f.body)
}

// Provider faults as Anthropic and OpenAI send them.
var (
	anthropicRateLimited = drillFault{status: http.StatusTooManyRequests, header: map[string]string{"retry-after": "0", "anthropic-ratelimit-requests-remaining": "0"},
		body: `{"type":"error","error":{"type":"rate_limit_error","message":"Number of request tokens has exceeded your per-minute rate limit"},"request_id":"req_drill_429"}`}
	anthropicOverloaded = drillFault{status: 529, header: map[string]string{"retry-after-ms": "20"},
		body: `{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"},"request_id":"req_drill_529"}`}
	anthropicInternal = drillFault{status: http.StatusInternalServerError, header: map[string]string{"retry-after-ms": "10"},
		body: `{"type":"error","error":{"type":"api_error","message":"Internal server error"},"request_id":"req_drill_500"}`}
	openaiRateLimited = drillFault{status: http.StatusTooManyRequests, header: map[string]string{"retry-after-ms": "20", "x-ratelimit-remaining-requests": "0"},
		body: `{"error":{"message":"Rate limit reached for gpt-6.1-sol in organization org-drill on requests per min (RPM): Limit 500, Used 500, Requested 1.","type":"requests","param":null,"code":"rate_limit_exceeded"}}`}
	openaiServerError = drillFault{status: http.StatusInternalServerError, header: map[string]string{"retry-after": "0"},
		body: `{"error":{"message":"The server had an error while processing your request. Sorry about that!","type":"server_error","param":null,"code":null}}`}
	gatewayError = drillFault{status: http.StatusBadGateway, header: map[string]string{"Content-Type": "text/html", "retry-after-ms": "10"},
		body: "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center></body></html>\n"}
	unavailable = drillFault{status: http.StatusServiceUnavailable, header: map[string]string{"Content-Type": "text/plain", "retry-after": "0"},
		body: "upstream connect error or disconnect/reset before headers. reset reason: overflow\n"}
)

// drillProvider is a fake model API. It serves the scripted turns in order,
// one per successful request, in the wire format of its kind ("anthropic"
// Messages or "openai" Responses), after the faults the schedule names for
// that request. With hangAfter > 0 it serves that many turns and then holds
// every further request until the client gives up.
type drillProvider struct {
	t         *testing.T
	kind      string
	turns     []llm.Message
	fault     func(request, served int) *drillFault
	hangAfter int
	srv       *httptest.Server

	mu       sync.Mutex
	requests int
	served   int
	hung     int
}

func newDrillProvider(t *testing.T, kind string, turns []llm.Message, fault func(request, served int) *drillFault) *drillProvider {
	t.Helper()
	p := &drillProvider{t: t, kind: kind, turns: turns, fault: fault}
	p.srv = httptest.NewServer(p)
	t.Cleanup(p.srv.Close)
	return p
}

// baseURL is what the provider's base-url input takes.
func (p *drillProvider) baseURL() string {
	if p.kind == "openai" {
		return p.srv.URL + "/v1"
	}
	return p.srv.URL
}

func (p *drillProvider) counts() (requests, served, hung int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.requests, p.served, p.hung
}

func (p *drillProvider) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	io.Copy(io.Discard, r.Body)
	want := "/v1/messages"
	if p.kind == "openai" {
		want = "/v1/responses"
	}
	if r.Method != http.MethodPost || r.URL.Path != want {
		p.t.Errorf("%s fake: %s %s, want POST %s", p.kind, r.Method, r.URL.Path, want)
		http.NotFound(w, r)
		return
	}
	p.mu.Lock()
	n := p.requests
	p.requests++
	var f *drillFault
	if p.fault != nil {
		f = p.fault(n, p.served)
	}
	hang := f == nil && p.hangAfter > 0 && p.served >= p.hangAfter
	turn := p.served
	switch {
	case hang:
		p.hung++
	case f == nil && turn < len(p.turns):
		p.served++
	}
	p.mu.Unlock()
	switch {
	case f != nil:
		f.write(w)
	case hang:
		<-r.Context().Done()
	case turn >= len(p.turns):
		drillFault{status: http.StatusBadRequest, body: `{"type":"error","error":{"type":"invalid_request_error","message":"the drill has no more scripted turns"}}`}.write(w)
	default:
		w.Header().Set("Content-Type", "application/json")
		w.Write(p.reply(turn))
	}
}

// reply is scripted turn i in the provider's wire format.
func (p *drillProvider) reply(i int) []byte {
	msg := p.turns[i]
	var v map[string]any
	if p.kind == "openai" {
		var output []map[string]any
		if msg.Text != "" {
			output = append(output, map[string]any{"type": "message", "id": fmt.Sprintf("msg_%d", i), "status": "completed", "role": "assistant",
				"content": []map[string]any{{"type": "output_text", "text": msg.Text, "annotations": []any{}}}})
		}
		for j, c := range msg.ToolCalls {
			output = append(output, map[string]any{"type": "function_call", "id": fmt.Sprintf("fc_%d_%d", i, j), "call_id": c.ID,
				"name": c.Name, "arguments": string(c.Arguments), "status": "completed"})
		}
		v = map[string]any{"id": fmt.Sprintf("resp_%d", i), "object": "response", "created_at": 1764100000 + i, "status": "completed",
			"model": "gpt-6.1-sol", "error": nil, "incomplete_details": nil, "output": output,
			"usage": map[string]any{"input_tokens": 1500, "input_tokens_details": map[string]any{"cached_tokens": 1000}, "output_tokens": 120,
				"output_tokens_details": map[string]any{"reasoning_tokens": 40}, "total_tokens": 1620}}
	} else {
		var content []map[string]any
		if msg.Text != "" {
			content = append(content, map[string]any{"type": "text", "text": msg.Text})
		}
		for _, c := range msg.ToolCalls {
			content = append(content, map[string]any{"type": "tool_use", "id": c.ID, "name": c.Name, "input": c.Arguments})
		}
		stop := "end_turn"
		if len(msg.ToolCalls) > 0 {
			stop = "tool_use"
		}
		v = map[string]any{"id": fmt.Sprintf("msg_%d", i), "type": "message", "role": "assistant", "model": "claude-opus-5-5",
			"content": content, "stop_reason": stop, "stop_sequence": nil,
			"usage": map[string]any{"input_tokens": 300, "cache_creation_input_tokens": 200, "cache_read_input_tokens": 1000, "output_tokens": 120}}
	}
	b, err := json.Marshal(v)
	if err != nil {
		p.t.Fatal(err)
	}
	return b
}

// drillScript is one demo session's turns and the findings it submits.
type drillScript struct {
	turns    []llm.Message
	findings []review.SubmittedFinding
}

// loadScript reads the demo's scripted session name ("alpha", "bravo",
// "charlie"), with call IDs in the provider's style.
func loadScript(t *testing.T, name string) drillScript {
	t.Helper()
	rs, err := demo.Reviewers()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rs {
		if !strings.EqualFold(r.Name, name) {
			continue
		}
		var s drillScript
		for _, turn := range r.Session.Turns {
			msg := turn.Response.Message
			msg.ToolCalls = slices.Clone(msg.ToolCalls)
			for i, c := range msg.ToolCalls {
				msg.ToolCalls[i].ID = "toolu_" + name + "_" + c.ID
				if c.Name == agent.ToolSubmit {
					var sub review.Submission
					if err := json.Unmarshal(c.Arguments, &sub); err != nil {
						t.Fatalf("session %s: submission: %v", name, err)
					}
					s.findings = sub.Findings
				}
			}
			s.turns = append(s.turns, msg)
		}
		if len(s.findings) == 0 {
			t.Fatalf("session %s submits no findings", name)
		}
		return s
	}
	t.Fatalf("no demo session %q", name)
	return drillScript{}
}

// drillRun is one action run with a live Anthropic reviewer ("Claude",
// bravo's script), a live OpenAI reviewer ("GPT", alpha's script) and a
// replayed one ("Charlie").
type drillRun struct {
	a         *actionEnv
	claude    *drillProvider
	gpt       *drillProvider
	scripts   map[string]drillScript
	stdout    string
	err       error
	outDir    string
	report    review.Report
	published string
}

// newDrillRun prepares the run; claude and gpt may be replaced before run.
func newDrillRun(t *testing.T, claudeFault, gptFault func(request, served int) *drillFault) *drillRun {
	t.Helper()
	d := &drillRun{scripts: map[string]drillScript{
		"Claude": loadScript(t, "bravo"), "GPT": loadScript(t, "alpha"), "Charlie": loadScript(t, "charlie"),
	}}
	d.claude = newDrillProvider(t, "anthropic", d.scripts["Claude"].turns, claudeFault)
	d.gpt = newDrillProvider(t, "openai", d.scripts["GPT"].turns, gptFault)
	sessions, err := filepath.Abs("../demo/testdata/sessions")
	if err != nil {
		t.Fatal(err)
	}
	d.a = newActionEnv(t, "pull_request", "pull_request.opened.json", map[string]string{
		"INPUT_REVIEWERS":          "anthropic:claude-opus-5-5\nopenai:gpt-6.1-sol\nreplay:" + filepath.Join(sessions, "charlie.json"),
		"INPUT_ANTHROPIC-API-KEY":  "sk-ant-drill-0123456789abcdef",
		"INPUT_OPENAI-API-KEY":     "sk-proj-drill-0123456789abcdef",
		"INPUT_ANTHROPIC-BASE-URL": d.claude.baseURL(),
		"INPUT_OPENAI-BASE-URL":    d.gpt.baseURL(),
	})
	d.outDir = d.a.env["INPUT_OUT-DIR"]
	return d
}

// run runs the action and reads what it wrote and published.
func (d *drillRun) run(t *testing.T) {
	t.Helper()
	var stderr string
	d.stdout, stderr, d.err = runCLI(t, d.a.env)
	if d.err != nil {
		t.Fatalf("the run failed: %v\nstdout:\n%s\nstderr:\n%s", d.err, d.stdout, stderr)
	}
	var log strings.Builder
	for _, line := range strings.SplitAfter(d.stdout+stderr, "\n") {
		if !strings.HasPrefix(line, "::add-mask::") { // how a secret is masked
			log.WriteString(line)
		}
	}
	for _, secret := range []string{"sk-ant-drill", "sk-proj-drill", "ghs_faketoken"} {
		if strings.Contains(log.String(), secret) {
			t.Errorf("a secret (%s...) reached the log", secret)
		}
	}
	d.report = readReport(t, d.outDir)
	cs := d.a.comments()
	if len(cs) != 1 {
		t.Fatalf("%d comments on the pull request, want the one report", len(cs))
	}
	d.published = cs[0].Body
}

// expect checks each reviewer's status, and that every finding of a
// reviewer that ended ok is in the report (same file, attributed to it) and
// that the published comment carries the report.
func (d *drillRun) expect(t *testing.T, statuses map[string]string) {
	t.Helper()
	got := map[string]string{}
	for _, s := range d.report.Reviewers {
		got[s.Name] = s.Status
	}
	for name, want := range statuses {
		if got[name] != want {
			t.Errorf("reviewer %s: status %q, want %q (reviewers %v)", name, got[name], want, got)
		}
		if want != review.StatusOK {
			continue
		}
		for _, sf := range d.scripts[name].findings {
			if !slices.ContainsFunc(d.report.Findings, func(f review.Finding) bool {
				return f.File == sf.File && slices.Contains(f.Reviewers, name)
			}) {
				t.Errorf("%s's finding %q (%s) is not in the report", name, sf.Title, sf.File)
			}
		}
	}
	state, found, err := review.ParseState(d.published)
	if !found || err != nil || state.Round != 1 || len(state.Fingerprints) != len(d.report.Findings) {
		t.Errorf("the published comment's state: %+v, found %v, err %v; want round 1 with %d findings", state, found, err, len(d.report.Findings))
	}
	for name := range statuses {
		if !strings.Contains(d.published, name) {
			t.Errorf("the published comment does not name reviewer %s", name)
		}
	}
	if out := d.a.outputs(t); !strings.Contains(out["comment-url"], "#issuecomment-") {
		t.Errorf("comment-url output = %q", out["comment-url"])
	}
}

// runOf is a reviewer's run record from raw/.
func (d *drillRun) rawRecord(t *testing.T, name string) publish.RawRecord {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(d.outDir, "raw", publish.FileName(name)+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var rec publish.RawRecord
	if err := json.Unmarshal(data, &rec); err != nil {
		t.Fatalf("raw record of %s: %v", name, err)
	}
	return rec
}

// schedule fails the requests listed with their faults.
func schedule(faults map[int]drillFault) func(request, served int) *drillFault {
	return func(request, _ int) *drillFault {
		if f, ok := faults[request]; ok {
			return &f
		}
		return nil
	}
}

func TestDrillProviderStormsAreRiddenOut(t *testing.T) {
	t.Parallel()
	// Claude's first turn meets a 429, a 529 and a 500 before it is
	// answered, and its third a 502; GPT's first a 429, a 500 and a 503,
	// its fourth a 502. Each storm is shorter than the SDKs' four retries.
	d := newDrillRun(t,
		schedule(map[int]drillFault{0: anthropicRateLimited, 1: anthropicOverloaded, 2: anthropicInternal, 5: gatewayError}),
		schedule(map[int]drillFault{0: openaiRateLimited, 1: openaiServerError, 2: unavailable, 6: gatewayError}))
	d.run(t)
	d.expect(t, map[string]string{"Claude": review.StatusOK, "GPT": review.StatusOK, "Charlie": review.StatusOK})
	for _, p := range []*drillProvider{d.claude, d.gpt} {
		requests, served, _ := p.counts()
		if served != len(p.turns) || requests != served+4 {
			t.Errorf("%s fake: %d requests for %d turns, want every turn served after the 4 faults", p.kind, requests, served)
		}
	}
}

func TestDrillStormLongerThanTheRetriesFailsOnlyThatReviewer(t *testing.T) {
	t.Parallel()
	d := newDrillRun(t, func(int, int) *drillFault { return &anthropicOverloaded }, nil)
	d.run(t)
	d.expect(t, map[string]string{"Claude": review.StatusFailed, "GPT": review.StatusOK, "Charlie": review.StatusOK})
	requests, served, _ := d.claude.counts()
	if served != 0 || requests != 5 {
		t.Errorf("anthropic fake: %d requests, %d served; want the first try and 4 retries, none served", requests, served)
	}
	for _, s := range d.report.Reviewers {
		if s.Name == "Claude" && !strings.Contains(s.Error, "529") && !strings.Contains(strings.ToLower(s.Error), "overloaded") {
			t.Errorf("Claude's error does not say it was overloaded: %q", s.Error)
		}
	}
	if !strings.Contains(d.published, "failed") {
		t.Errorf("the published comment does not say a reviewer failed:\n%.2000s", d.published)
	}
}

func TestDrillHangingReviewerTimesOut(t *testing.T) {
	t.Parallel()
	d := newDrillRun(t, nil, nil)
	d.claude.hangAfter = 1 // answers its first turn, then never again
	d.a.env["INPUT_REVIEWER-TIMEOUT"] = "3s"
	d.run(t)
	d.expect(t, map[string]string{"Claude": review.StatusTimedOut, "GPT": review.StatusOK, "Charlie": review.StatusOK})
	if _, served, hung := d.claude.counts(); served != 1 || hung == 0 {
		t.Errorf("anthropic fake: served %d, held %d requests; want 1 served, then a hang", served, hung)
	}
	rec := d.rawRecord(t, "Claude")
	if rec.Run.Status != review.StatusTimedOut || !strings.Contains(rec.Run.Error, "deadline") {
		t.Errorf("raw run: status %q, error %q", rec.Run.Status, rec.Run.Error)
	}
	// The partial transcript: the first message, the first turn's calls
	// and their results.
	first := d.scripts["Claude"].turns[0]
	msgs := rec.Transcript.Messages
	if len(msgs) < 3 || len(msgs[1].ToolCalls) != len(first.ToolCalls) || len(msgs[2].ToolResults) != len(first.ToolCalls) {
		t.Errorf("the partial transcript has %d messages, want the first turn's %d calls and their results", len(msgs), len(first.ToolCalls))
	}
}

func TestDrillMalformedToolArguments(t *testing.T) {
	t.Parallel()
	// GPT sends broken arguments three times, then its script: it must
	// get error results it can act on, and recover. Claude never sends a
	// valid call: it must fail cleanly within the turn budget.
	broken := []string{`{"path": "store.go"`, `{"path": 7, "start": "one"}`, `{"file": "store.go"}`}
	// What each error result must name, so the model can fix its call.
	explains := []string{"argument", "path", "parameter"}
	var gptTurns []llm.Message
	for i, args := range broken {
		gptTurns = append(gptTurns, llm.Message{Role: llm.Assistant, Text: "Reading store.go.",
			ToolCalls: []llm.ToolCall{{ID: fmt.Sprintf("call_broken_%d", i), Name: agent.ToolReadFile, Arguments: json.RawMessage(args)}}})
	}
	var claudeTurns []llm.Message
	for i := 0; i < 12; i++ {
		name, args := agent.ToolReadFile, `{"path": ["store.go"]}`
		if i >= 3 {
			name, args = agent.ToolSubmit, `{"summary": 42, "verdict": "ship it"}`
		}
		claudeTurns = append(claudeTurns, llm.Message{Role: llm.Assistant,
			ToolCalls: []llm.ToolCall{{ID: fmt.Sprintf("toolu_bad_%d", i), Name: name, Arguments: json.RawMessage(args)}}})
	}
	d := newDrillRun(t, nil, nil)
	d.gpt.turns = append(gptTurns, d.scripts["GPT"].turns...)
	d.claude.turns = claudeTurns
	d.a.env["INPUT_MAX-TURNS"] = "10"
	d.run(t)
	d.expect(t, map[string]string{"Claude": review.StatusFailed, "GPT": review.StatusOK, "Charlie": review.StatusOK})

	gpt := d.rawRecord(t, "GPT")
	for i := range broken {
		res := gpt.Transcript.Messages[2+2*i].ToolResults
		if len(res) != 1 || !res[0].IsError || !strings.Contains(res[0].Content, explains[i]) {
			t.Errorf("broken call %d: result %+v, want an error result that names the %s", i+1, res, explains[i])
		}
	}
	claude := d.rawRecord(t, "Claude")
	if claude.Run.Turns != 10 || !strings.Contains(claude.Run.Error, "turn budget of 10") || claude.Run.Submission != nil {
		t.Errorf("Claude: %d turns, error %q; want the 10-turn budget spent without a submission", claude.Run.Turns, claude.Run.Error)
	}
	errors := 0
	for _, m := range claude.Transcript.Messages {
		for _, r := range m.ToolResults {
			if r.IsError {
				errors++
			}
		}
	}
	if errors != 10 {
		t.Errorf("Claude got %d error results, want one for each of its 10 calls", errors)
	}
}

// githubFaults puts faults in front of the action's fake GitHub: the first
// requests that match a rule get its faults, in order; every other request
// goes to the fake.
type githubFaults struct {
	mu    sync.Mutex
	rules []githubFaultRule
	hits  map[string]int
}

type githubFaultRule struct {
	method, suffix string
	faults         []drillFault
}

// secondaryRateLimit is GitHub's 403 for a secondary rate limit. Its
// Retry-After is 0: go-github refuses further requests locally until the
// Retry-After it saw has passed on the wall clock, and a drill does not wait
// minutes.
var secondaryRateLimit = drillFault{status: http.StatusForbidden,
	header: map[string]string{"Retry-After": "0", "X-GitHub-Request-Id": "C0DE:1234:5678"},
	body:   `{"message":"You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID C0DE:1234:5678.","documentation_url":"https://docs.github.com/free-pro-team@latest/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits","status":"403"}`}

func (g *githubFaults) front(t *testing.T, a *actionEnv) {
	t.Helper()
	g.hits = map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		g.mu.Lock()
		for i := range g.rules {
			rule := &g.rules[i]
			if len(rule.faults) > 0 && r.Method == rule.method && strings.HasSuffix(r.URL.Path, rule.suffix) {
				f := rule.faults[0]
				rule.faults = rule.faults[1:]
				g.hits[rule.method+" "+rule.suffix]++
				g.mu.Unlock()
				f.write(w)
				return
			}
		}
		g.mu.Unlock()
		a.gh.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	a.env["GITHUB_API_URL"] = srv.URL + "/api/v3"
	a.env["GITHUB_GRAPHQL_URL"] = srv.URL + "/api/graphql"
}

func (g *githubFaults) left() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	var out []string
	for _, r := range g.rules {
		if len(r.faults) > 0 {
			out = append(out, fmt.Sprintf("%s %s (%d)", r.method, r.suffix, len(r.faults)))
		}
	}
	return out
}

func TestDrillGitHubFaultsDuringGatherAndPublish(t *testing.T) {
	t.Parallel()
	d := newDrillRun(t, nil, nil)
	g := &githubFaults{rules: []githubFaultRule{
		{"GET", "/pulls/2", []drillFault{secondaryRateLimit}},
		{"POST", "/issues/2/comments", []drillFault{gatewayError, secondaryRateLimit}},
	}}
	g.front(t, d.a)
	d.run(t)
	d.expect(t, map[string]string{"Claude": review.StatusOK, "GPT": review.StatusOK, "Charlie": review.StatusOK})
	if left := g.left(); len(left) > 0 {
		t.Errorf("faults never served (the run took another path): %v", left)
	}
}

func TestDrillGitHub502DuringGather(t *testing.T) {
	t.Parallel()
	d := newDrillRun(t, nil, nil)
	g := &githubFaults{rules: []githubFaultRule{
		{"GET", "/issues/2/comments", []drillFault{gatewayError}},
		{"GET", "/issues/2/comments", []drillFault{gatewayError}},
	}}
	g.front(t, d.a)
	d.run(t)
	d.expect(t, map[string]string{"Claude": review.StatusOK, "GPT": review.StatusOK, "Charlie": review.StatusOK})
	if left := g.left(); len(left) > 0 {
		t.Errorf("faults never served (the run took another path): %v", left)
	}
}

func TestDrillResultsServiceFailsOnce(t *testing.T) {
	t.Parallel()
	d := newDrillRun(t, nil, nil)
	rs := d.a.results
	rs.FailCreates = 1
	d.run(t)
	d.expect(t, map[string]string{"Claude": review.StatusOK, "GPT": review.StatusOK, "Charlie": review.StatusOK})
	rs.Mu.Lock()
	defer rs.Mu.Unlock()
	if rs.Creates != 2 || len(rs.Finalized) != 1 {
		t.Errorf("results service: %d CreateArtifact calls, %d finalized; want a retry after the failure and one artifact", rs.Creates, len(rs.Finalized))
	}
	if url := d.a.outputs(t)["artifact-url"]; !strings.Contains(url, "/actions/runs/77/artifacts/") {
		t.Errorf("artifact-url output = %q", url)
	}
}
