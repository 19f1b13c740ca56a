package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/deepreview/deep-review/review"
	"github.com/deepreview/deep-review/review/demo"
	"github.com/deepreview/deep-review/review/lead"
	"github.com/deepreview/deep-review/review/llm/anthropic"
)

// The end-to-end test of the lead (issue 6): a local review of the demo
// repository by the three scripted reviewers, led by anthropic:lead-model
// through the real Anthropic adapter and SDK, against an httptest fake of
// the Messages API reached through ANTHROPIC_BASE_URL. The fake reads each
// request to tell a verification run (verify_finding offered, the finding's
// title in the prompt) from the synthesis (write_synthesis offered), and
// answers as testdata/lead-e2e/script.json says. The lead runs findings in
// parallel, so the fake keeps no per-conversation state: every answer is
// derived from the request alone.

const (
	le2eModel = "lead-model"
	le2eKey   = "sk-ant-lead-e2e-7c6b5a4938271605"
)

// le2eJudgement is how the fake lead judges one finding: the repository
// tool it calls first, then verify_finding's arguments.
type le2eJudgement struct {
	Tool        string `json:"tool"`
	Accept      bool   `json:"accept"`
	Severity    string `json:"severity"`
	PreExisting bool   `json:"pre_existing"`
	Reason      string `json:"reason"`
}

// le2eScript is testdata/lead-e2e/script.json.
type le2eScript struct {
	Note       string                   `json:"note"`
	Judgements map[string]le2eJudgement `json:"judgements"`
	Default    struct {
		Tool   string `json:"tool"`
		Reason string `json:"reason"`
	} `json:"default"`
	Synthesis struct {
		Summary     string `json:"summary"`
		Decision    string `json:"decision"`
		Reason      string `json:"reason"`
		RetroPrefix string `json:"retro_prefix"`
		Retro       string `json:"retro"`
	} `json:"synthesis"`
}

func le2eLoadScript(t *testing.T) le2eScript {
	t.Helper()
	data, err := os.ReadFile("testdata/lead-e2e/script.json")
	if err != nil {
		t.Fatal(err)
	}
	var s le2eScript
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		t.Fatalf("testdata/lead-e2e/script.json: %v", err)
	}
	if len(s.Judgements) == 0 || s.Default.Tool == "" || s.Synthesis.Decision == "" {
		t.Fatalf("testdata/lead-e2e/script.json lacks judgements, a default or the synthesis: %+v", s)
	}
	return s
}

// le2eVerification is what the fake saw of one finding's run.
type le2eVerification struct {
	file       string
	start, end int
	given      string          // the severity the reviewers gave
	looked     string          // the repository tool's result, as sent back
	judgement  json.RawMessage // verify_finding's arguments
	calledTool string
}

// le2eLead is the fake Messages API. With fault set it answers every
// request with it.
type le2eLead struct {
	t      *testing.T
	script le2eScript
	fault  *e2eFault
	srv    *httptest.Server

	mu        sync.Mutex
	statuses  []int
	verified  map[string]*le2eVerification // by finding title
	synthesis []string                     // the synthesis prompts
	keyless   int                          // requests without the key
	retries   map[string]int               // requests by the SDK's retry count
}

func newLE2ELead(t *testing.T, script le2eScript, fault *e2eFault) *le2eLead {
	f := &le2eLead{t: t, script: script, fault: fault, verified: map[string]*le2eVerification{}, retries: map[string]int{}}
	f.srv = httptest.NewServer(f)
	t.Cleanup(f.srv.Close)
	return f
}

func (f *le2eLead) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	status := f.serve(w, r, body)
	f.mu.Lock()
	f.statuses = append(f.statuses, status)
	// The SDK sends the key as a bearer token or in x-api-key.
	if !strings.Contains(r.Header.Get("Authorization")+" "+r.Header.Get("X-Api-Key"), le2eKey) {
		f.keyless++
	}
	f.retries[r.Header.Get("X-Stainless-Retry-Count")]++
	f.mu.Unlock()
}

// le2eMessage is one message of a Messages request.
type le2eMessage struct {
	Role    string          `json:"role"`
	Content json.RawMessage `json:"content"`
}

// le2eBlock is one content block of a message (or, by its name, one tool
// of the request).
type le2eBlock struct {
	Type      string          `json:"type"`
	Text      string          `json:"text"`
	ID        string          `json:"id"`
	Name      string          `json:"name"`
	ToolUseID string          `json:"tool_use_id"`
	IsError   bool            `json:"is_error"`
	Content   json.RawMessage `json:"content"`
}

func (f *le2eLead) serve(w http.ResponseWriter, r *http.Request, body []byte) int {
	refuse := func(status int, format string, args ...any) int {
		msg := fmt.Sprintf(format, args...)
		f.t.Errorf("fake lead: %s", msg)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, e2eAnthropic{}.errorBody(msg))
		return status
	}
	if r.Method != http.MethodPost || r.URL.Path != "/v1/messages" {
		return refuse(http.StatusNotFound, "%s %s, want POST /v1/messages", r.Method, r.URL.Path)
	}
	if f.fault != nil {
		for k, v := range f.fault.header {
			w.Header().Set(k, v)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(f.fault.status)
		io.WriteString(w, f.fault.body)
		return f.fault.status
	}
	var req map[string]json.RawMessage
	if err := json.Unmarshal(body, &req); err != nil {
		return refuse(http.StatusBadRequest, "the body is not a JSON object: %v", err)
	}
	if err := e2eModel(req, le2eModel); err != nil {
		return refuse(http.StatusBadRequest, "%v", err)
	}
	var tools []le2eBlock
	if err := e2eField(req, "tools", &tools); err != nil {
		return refuse(http.StatusBadRequest, "%v", err)
	}
	var msgs []le2eMessage
	if err := e2eField(req, "messages", &msgs); err != nil {
		return refuse(http.StatusBadRequest, "%v", err)
	}
	if len(msgs) == 0 || msgs[0].Role != "user" {
		return refuse(http.StatusBadRequest, "the conversation does not open with the user's prompt")
	}
	prompt := e2eText(msgs[0].Content)
	// The rounds of tool results sent back so far, and the last of them.
	turn := 0
	var results []le2eBlock
	for _, m := range msgs {
		var blocks []le2eBlock
		if json.Unmarshal(m.Content, &blocks) != nil {
			continue
		}
		var rs []le2eBlock
		for _, b := range blocks {
			if b.Type == "tool_result" {
				rs = append(rs, b)
			}
		}
		if len(rs) > 0 {
			turn++
			results = rs
		}
	}
	offered := func(name string) bool {
		return slices.ContainsFunc(tools, func(t le2eBlock) bool { return t.Name == name })
	}
	var reply any
	var err error
	switch {
	case offered(lead.ToolSynthesis):
		reply, err = f.synthesize(prompt, turn)
	case offered(lead.ToolVerify):
		reply, err = f.verify(prompt, turn, results)
	default:
		err = fmt.Errorf("the request offers neither %s nor %s: %+v", lead.ToolVerify, lead.ToolSynthesis, tools)
	}
	if err != nil {
		return refuse(http.StatusBadRequest, "%v", err)
	}
	data, err := json.Marshal(reply)
	if err != nil {
		return refuse(http.StatusInternalServerError, "encode the reply: %v", err)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("request-id", "req_lead_e2e")
	w.WriteHeader(http.StatusOK)
	w.Write(data)
	return http.StatusOK
}

var (
	le2eTitle    = regexp.MustCompile(`kind="finding-title">\n(.*)\n`)
	le2eWhere    = regexp.MustCompile(`(?m)^- Where: (\S+):(\d+)-(\d+)`)
	le2eGiven    = regexp.MustCompile(`(?m)^- Severity given: (\w+)`)
	le2eExcerpt  = regexp.MustCompile(`kind="excerpt">\n\s*\d+  (.*)\n`)
	le2eReviewer = regexp.MustCompile(`(?m)^### (.+)$`)
)

// le2eUsage is each reply's usage: the first turn of a run writes the
// cache, the second reads it.
var le2eUsage = map[string]map[string]int{
	"look":      {"input_tokens": 2100, "cache_creation_input_tokens": 1500, "cache_read_input_tokens": 0, "output_tokens": 60},
	"judge":     {"input_tokens": 700, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 1500, "output_tokens": 140},
	"synthesis": {"input_tokens": 5200, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0, "output_tokens": 900},
}

// le2eReply is a Messages reply that calls one tool.
func le2eReply(id, usage, tool string, input any) map[string]any {
	return map[string]any{
		"id": "msg_" + id, "type": "message", "role": "assistant", "model": le2eModel,
		"content": []map[string]any{
			{"type": "text", "text": "Checking the claim against the code."},
			{"type": "tool_use", "id": "toolu_" + id, "name": tool, "input": input},
		},
		"stop_reason": "tool_use", "stop_sequence": nil, "usage": le2eUsage[usage],
	}
}

// verify scripts one finding's run: look at the cited lines with the
// script's tool, then call verify_finding.
func (f *le2eLead) verify(prompt string, turn int, results []le2eBlock) (any, error) {
	m := le2eTitle.FindStringSubmatch(prompt)
	where := le2eWhere.FindStringSubmatch(prompt)
	given := le2eGiven.FindStringSubmatch(prompt)
	if m == nil || where == nil || given == nil {
		return nil, fmt.Errorf("the verification prompt lacks the finding's title, place or severity:\n%s", prompt)
	}
	title := m[1]
	j, scripted := f.script.Judgements[title]
	if !scripted {
		j = le2eJudgement{Tool: f.script.Default.Tool, Accept: true, Severity: given[1], Reason: f.script.Default.Reason}
	}
	start, _ := strconv.Atoi(where[2])
	end, _ := strconv.Atoi(where[3])
	// The tool_use id names the finding: parallel runs never share one.
	id := fmt.Sprintf("lead_%s_%d", where[1], start)
	id = strings.NewReplacer("/", "_", ".", "_").Replace(id)
	switch turn {
	case 0:
		f.mu.Lock()
		if _, dup := f.verified[title]; dup {
			f.mu.Unlock()
			return nil, fmt.Errorf("%q is verified twice", title)
		}
		f.verified[title] = &le2eVerification{file: where[1], start: start, end: end, given: given[1], calledTool: j.Tool}
		f.mu.Unlock()
		return le2eReply(id+"_look", "look", j.Tool, map[string]any{"path": where[1], "start": start, "end": end}), nil
	case 1:
		if len(results) != 1 || results[0].ToolUseID != "toolu_"+id+"_look" {
			return nil, fmt.Errorf("%q: want the one result of toolu_%s_look, got %+v", title, id, results)
		}
		text := e2eText(results[0].Content)
		if results[0].IsError {
			return nil, fmt.Errorf("%q: %s answered with an error: %s", title, j.Tool, text)
		}
		// The tool result holds the cited code, as read from the head.
		if ex := le2eExcerpt.FindStringSubmatch(prompt); ex != nil && !strings.Contains(text, strings.TrimSpace(ex[1])) {
			return nil, fmt.Errorf("%q: the %s result lacks the cited line %q:\n%s", title, j.Tool, ex[1], text)
		}
		args, _ := json.Marshal(map[string]any{"accept": j.Accept, "severity": j.Severity, "pre_existing": j.PreExisting, "reason": j.Reason})
		f.mu.Lock()
		if v := f.verified[title]; v != nil {
			v.looked, v.judgement = text, args
		}
		f.mu.Unlock()
		return le2eReply(id+"_judge", "judge", lead.ToolVerify, json.RawMessage(args)), nil
	}
	return nil, fmt.Errorf("%q: turn %d asked for; verify_finding ended the run at turn 2 (did it answer with an error?)", title, turn+1)
}

// synthesize scripts the synthesis: one write_synthesis call with a retro
// for each reviewer the prompt names.
func (f *le2eLead) synthesize(prompt string, turn int) (any, error) {
	if turn > 0 {
		return nil, fmt.Errorf("synthesis turn %d asked for; write_synthesis should have ended it (did it answer with an error?)", turn+1)
	}
	_, reviewers, ok := strings.Cut(prompt, "## Reviewers")
	if !ok {
		return nil, fmt.Errorf("the synthesis prompt has no reviewers section:\n%s", prompt)
	}
	s := f.script.Synthesis
	var retros []map[string]string
	for _, m := range le2eReviewer.FindAllStringSubmatch(reviewers, -1) {
		retros = append(retros, map[string]string{"reviewer": m[1], "text": s.RetroPrefix + m[1] + "."})
	}
	f.mu.Lock()
	f.synthesis = append(f.synthesis, prompt)
	f.mu.Unlock()
	return le2eReply("lead_synthesis", "synthesis", lead.ToolSynthesis, map[string]any{
		"summary": s.Summary, "decision": s.Decision, "reason": s.Reason, "retros": retros, "retro": s.Retro,
	}), nil
}

// le2eReview reviews the demo repository's link-expiry branch with the
// three scripted reviewers, led by anthropic:lead-model at fake.
func le2eReview(t *testing.T, fake *le2eLead) (review.Report, string, string) {
	t.Helper()
	repo := t.TempDir()
	if err := demo.BuildRepo(context.Background(), repo); err != nil {
		t.Fatal(err)
	}
	var specs []string
	for _, name := range []string{"alpha", "bravo", "charlie"} {
		p, err := filepath.Abs(filepath.Join("..", "demo", "testdata", "sessions", name+".json"))
		if err != nil {
			t.Fatal(err)
		}
		specs = append(specs, "replay:"+p)
	}
	out := filepath.Join(t.TempDir(), "out")
	env := map[string]string{"ANTHROPIC_BASE_URL": fake.srv.URL, "ANTHROPIC_API_KEY": le2eKey}
	start := time.Now()
	stdout, stderr, err := runCLI(t, env, "review", "--dir", repo, "--base", "main", "--head", "link-expiry",
		"--reviewers", strings.Join(specs, ","), "--lead", "anthropic:"+le2eModel, "--out-dir", out)
	if err != nil {
		t.Fatalf("review: %v\nstdout:\n%s\nstderr:\n%s", err, stdout, stderr)
	}
	t.Logf("review took %s", time.Since(start).Round(time.Millisecond))
	md, err := os.ReadFile(filepath.Join(out, "report.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"report.json", "report.md", "report.html", "comment.md"} {
		data, err := os.ReadFile(filepath.Join(out, f))
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(data), le2eKey) || strings.Contains(stdout+stderr, le2eKey) {
			t.Errorf("the lead's API key appears in %s or the terminal", f)
		}
	}
	return readReport(t, out), string(md), stdout
}

// le2eBlamesPR reports whether a git_blame result marks a line as the
// PR's.
func le2eBlamesPR(blame string) bool {
	for _, line := range strings.Split(blame, "\n") {
		if strings.HasPrefix(line, "[PR]") {
			return true
		}
	}
	return false
}

// le2eFind returns the finding titled title, or nil.
func le2eFind(fs []review.Finding, title string) *review.Finding {
	for i := range fs {
		if fs[i].Title == title {
			return &fs[i]
		}
	}
	return nil
}

// TestLeadVerifiesThroughAFakeAnthropicAPI: the lead rejects a pre-existing
// finding, downgrades a critical one to important, accepts the rest, and
// its synthesis decides the verdict and writes every retro.
func TestLeadVerifiesThroughAFakeAnthropicAPI(t *testing.T) {
	script := le2eLoadScript(t)
	fake := newLE2ELead(t, script, nil)
	r, md, stdout := le2eReview(t, fake)

	const (
		rejectedTitle   = "Redirect targets are never validated"
		downgradedTitle = "Links stored without an expiry are reported as expired"
	)
	rejectedJ, downgradedJ := script.Judgements[rejectedTitle], script.Judgements[downgradedTitle]
	if rejectedJ.Accept || !downgradedJ.Accept || downgradedJ.Severity != string(review.Important) {
		t.Fatalf("testdata/lead-e2e/script.json must reject %q and accept %q as important", rejectedTitle, downgradedTitle)
	}

	fake.mu.Lock()
	statuses := slices.Clone(fake.statuses)
	verified := fake.verified
	synthesis := slices.Clone(fake.synthesis)
	keyless := fake.keyless
	fake.mu.Unlock()
	t.Logf("fake lead: %d requests, %d verification runs, %d synthesis", len(statuses), len(verified), len(synthesis))

	// Every finding was verified once, in two turns, and one synthesis
	// turn followed: nothing else was asked.
	n := len(r.Findings) + len(r.Rejected)
	if len(verified) != n || len(synthesis) != 1 || len(statuses) != 2*n+1 {
		t.Errorf("the fake served %d requests, %d verification runs and %d synthesis turns for %d findings; want %d, %d and 1",
			len(statuses), len(verified), len(synthesis), n, 2*n+1, n)
	}
	for i, s := range statuses {
		if s != http.StatusOK {
			t.Errorf("request %d answered %d", i+1, s)
		}
	}
	if keyless > 0 {
		t.Errorf("%d requests did not carry ANTHROPIC_API_KEY in x-api-key", keyless)
	}
	for _, f := range append(slices.Clone(r.Findings), r.Rejected...) {
		v := verified[f.Title]
		if v == nil {
			t.Errorf("%s %q was never verified", f.ID, f.Title)
		} else if v.judgement == nil {
			t.Errorf("%s %q: the lead never sent the %s result back", f.ID, f.Title, v.calledTool)
		}
	}
	// Blame against the merge base tells the two apart, as the script's
	// reasons claim: the redirect predates the PR, the expiry check is the
	// PR's own.
	if v := verified[rejectedTitle]; v != nil && (v.calledTool != "git_blame" || le2eBlamesPR(v.looked) || !strings.Contains(v.looked, "Blame of handler.go")) {
		t.Errorf("the blame of %s:%d-%d should show no line of the PR:\n%s", v.file, v.start, v.end, v.looked)
	}
	if v := verified[downgradedTitle]; v != nil {
		if !le2eBlamesPR(v.looked) {
			t.Errorf("the blame of %s:%d-%d should mark the PR's lines:\n%s", v.file, v.start, v.end, v.looked)
		}
		if v.given != string(review.Critical) {
			t.Errorf("%q reached the lead as %s, want critical (the strictest reviewer's grade)", downgradedTitle, v.given)
		}
	}

	// The rejected finding is a false positive with the lead's reason.
	if len(r.Rejected) != 1 || r.Rejected[0].Title != rejectedTitle {
		t.Fatalf("rejected = %+v, want only %q", r.Rejected, rejectedTitle)
	}
	rej := r.Rejected[0]
	if rej.Reason != rejectedJ.Reason {
		t.Errorf("the rejection's reason is %q, want the lead's %q", rej.Reason, rejectedJ.Reason)
	}
	if le2eFind(r.Findings, rejectedTitle) != nil {
		t.Errorf("%q is both rejected and kept", rejectedTitle)
	}
	for _, s := range r.Reviewers {
		want := 0
		if slices.Contains(rej.Reviewers, s.Name) {
			want = 1
		}
		if s.FalsePositives != want {
			t.Errorf("reviewer %s: %d false positives, want %d (the rejected finding was raised by %v)", s.Name, s.FalsePositives, want, rej.Reviewers)
		}
	}
	if len(rej.Reviewers) == 0 {
		t.Error("the rejected finding names no reviewer")
	}

	// The downgraded finding: important now, the reviewers' grades kept as
	// the dissent, the lead's reason noted, marked a regression.
	down := le2eFind(r.Findings, downgradedTitle)
	if down == nil {
		t.Fatalf("%q is not among the findings: %+v", downgradedTitle, r.Findings)
	}
	if down.Severity != review.Important {
		t.Errorf("%q is %s, want important", downgradedTitle, down.Severity)
	}
	if !strings.Contains(down.Dissent, "critical") {
		t.Errorf("%q's dissent %q does not keep the critical grade", downgradedTitle, down.Dissent)
	}
	if !slices.Contains(down.Notes, "lead: "+downgradedJ.Reason) || !slices.ContainsFunc(down.Notes, func(n string) bool {
		return strings.Contains(n, "settled the severity at important")
	}) {
		t.Errorf("%q's notes %q lack the lead's reason or the settled severity", downgradedTitle, down.Notes)
	}
	if !slices.Contains(down.Tags, "regression") {
		t.Errorf("%q's tags %v lack regression", downgradedTitle, down.Tags)
	}
	// The others stand as the reviewers graded them.
	for _, f := range r.Findings {
		if v := verified[f.Title]; v != nil && f.Title != downgradedTitle && string(f.Severity) != v.given {
			t.Errorf("%s %q is %s, though the lead accepted it as %s", f.ID, f.Title, f.Severity, v.given)
		}
		if slices.ContainsFunc(f.Notes, func(n string) bool { return strings.HasPrefix(n, "not verified") }) {
			t.Errorf("%s %q says it was not verified: %q", f.ID, f.Title, f.Notes)
		}
	}
	if c := r.Counts(); c.Critical != 0 {
		t.Errorf("%d critical findings remain after the downgrade", c.Critical)
	}

	// The synthesis read the settled report (the rejection with its
	// reason) and decided the verdict.
	if len(synthesis) == 1 && (!strings.Contains(synthesis[0], "Rejected on verification") || !strings.Contains(synthesis[0], rejectedTitle)) {
		t.Errorf("the synthesis prompt does not list the rejected finding:\n%s", synthesis[0])
	}
	syn := script.Synthesis
	want := review.Verdict{Decision: review.Decision(syn.Decision), Reason: syn.Reason, DecidedBy: review.DecidedByLead}
	if r.Verdict != want {
		t.Errorf("verdict = %+v, want %+v", r.Verdict, want)
	}
	if r.Summary != syn.Summary {
		t.Errorf("summary = %q, want the lead's", r.Summary)
	}
	if r.Retro != syn.Retro {
		t.Errorf("retro = %q, want the lead's", r.Retro)
	}
	names := []string{}
	for _, s := range r.Reviewers {
		names = append(names, s.Name)
		if want := syn.RetroPrefix + s.Name + "."; s.Retro != want {
			t.Errorf("reviewer %s's retro is %q, want the lead's %q", s.Name, s.Retro, want)
		}
	}
	if !slices.Equal(names, []string{"Alpha", "Bravo", "Charlie"}) {
		t.Errorf("reviewers = %v, want Alpha, Bravo, Charlie", names)
	}

	// The lead's own cost: every reply's usage, summed.
	if r.Lead == nil {
		t.Fatal("report.json has no lead stats")
	}
	sum := func(key string) int64 {
		return int64(n*(le2eUsage["look"][key]+le2eUsage["judge"][key]) + le2eUsage["synthesis"][key])
	}
	wantTokens := review.Tokens{Input: sum("input_tokens"), CachedInput: sum("cache_read_input_tokens"),
		CacheWrite: sum("cache_creation_input_tokens"), Output: sum("output_tokens")}
	t.Logf("lead: %s, %s, %d ms, tokens %+v, $%.4f", r.Lead.Name, r.Lead.Status, r.Lead.DurationMS, r.Lead.Tokens, r.Lead.CostUSD)
	if r.Lead.Status != review.StatusOK || r.Lead.Error != "" || r.Lead.Tokens != wantTokens || r.Lead.Tokens.Total() == 0 {
		t.Errorf("lead stats %+v, want ok with tokens %+v", *r.Lead, wantTokens)
	}
	if !strings.Contains(r.Lead.Model, le2eModel) {
		t.Errorf("the lead's model is %q, want %s", r.Lead.Model, le2eModel)
	}

	// report.md and the terminal say who decided.
	if !strings.Contains(md, "decided by the lead") || !strings.Contains(md, syn.Reason) {
		t.Errorf("report.md does not give the lead's verdict:\n%s", md)
	}
	// (report.md escapes the reason's brackets; its end is plain text.)
	if _, tail, _ := strings.Cut(rejectedJ.Reason, "]"); !strings.Contains(md, tail) || !strings.Contains(md, rejectedTitle) {
		t.Errorf("report.md does not give the rejected finding with the lead's reason %q", tail)
	}
	if !strings.Contains(stdout, "decided by lead") || !strings.Contains(stdout, "1 rejected") {
		t.Errorf("stdout = %s", stdout)
	}
}

// TestFailingLeadFallsBackToTheRules: the lead's API answers every request
// 500; the review still succeeds, the rules decide, every finding stands
// with a note that the lead did not verify it, and the report says so.
func TestFailingLeadFallsBackToTheRules(t *testing.T) {
	script := le2eLoadScript(t)
	down := &e2eFault{status: http.StatusInternalServerError,
		header: map[string]string{"retry-after-ms": "0", "request-id": "req_lead_e2e_500"},
		body:   `{"type":"error","error":{"type":"api_error","message":"Internal server error"},"request_id":"req_lead_e2e_500"}`}
	fake := newLE2ELead(t, script, down)
	r, md, stdout := le2eReview(t, fake)

	fake.mu.Lock()
	statuses := slices.Clone(fake.statuses)
	retries := maps.Clone(fake.retries)
	fake.mu.Unlock()
	// Each run's first turn was tried and retried, then given up: one run
	// per finding and one for the synthesis.
	n := len(r.Findings)
	if want := (anthropic.DefaultMaxRetries + 1) * (n + 1); len(statuses) != want {
		t.Errorf("the fake was asked %d times, want %d (%d runs of %d attempts)", len(statuses), want, n+1, anthropic.DefaultMaxRetries+1)
	}
	for k := 0; k <= anthropic.DefaultMaxRetries; k++ {
		if got := retries[strconv.Itoa(k)]; got != n+1 {
			t.Errorf("%d requests with x-stainless-retry-count %d, want one per run (%d)", got, k, n+1)
		}
	}
	if slices.ContainsFunc(statuses, func(s int) bool { return s != http.StatusInternalServerError }) {
		t.Errorf("statuses %v, want every one 500", statuses)
	}
	t.Logf("fake lead: %d requests, every one answered 500; by retry count %v", len(statuses), retries)

	if n == 0 || len(r.Rejected) != 0 {
		t.Fatalf("%d findings, %d rejected: a failed lead must keep every finding", n, len(r.Rejected))
	}
	// Every finding the reviewers raised stands, as the rules grade it.
	if c := r.Counts(); c.Critical == 0 {
		t.Errorf("no critical finding: the reviewers' grade of the expiry regression was not kept")
	}
	for _, title := range []string{"Redirect targets are never validated", "Links stored without an expiry are reported as expired"} {
		if le2eFind(r.Findings, title) == nil {
			t.Errorf("%q is not kept", title)
		}
	}
	for _, f := range r.Findings {
		if !slices.ContainsFunc(f.Notes, func(n string) bool {
			return strings.HasPrefix(n, "not verified by the lead: ") && strings.Contains(n, "500")
		}) {
			t.Errorf("%s %q has no note that the lead did not verify it (with the 500): %q", f.ID, f.Title, f.Notes)
		}
	}
	for _, s := range r.Reviewers {
		if s.FalsePositives != 0 {
			t.Errorf("reviewer %s has %d false positives with no lead to reject anything", s.Name, s.FalsePositives)
		}
		if strings.HasPrefix(s.Retro, script.Synthesis.RetroPrefix) {
			t.Errorf("reviewer %s has the lead's retro though the synthesis failed", s.Name)
		}
	}

	// The rules decide, and say the lead failed.
	if r.Verdict.DecidedBy != review.DecidedByRules || r.Verdict.Decision != review.RulesVerdict(r.Findings).Decision {
		t.Errorf("verdict = %+v, want the rules' %+v", r.Verdict, review.RulesVerdict(r.Findings))
	}
	if !strings.Contains(r.Verdict.Reason, "The lead's synthesis failed") {
		t.Errorf("the verdict's reason %q does not say the lead failed", r.Verdict.Reason)
	}
	if r.Lead == nil || r.Lead.Status != review.StatusFailed || r.Lead.Error == "" {
		t.Errorf("lead stats = %+v, want failed with the error", r.Lead)
	}
	if !strings.Contains(md, "The lead's synthesis failed") || !strings.Contains(md, "not verified by the lead") ||
		!strings.Contains(md, "decided by the rules: the lead did not settle it") || strings.Contains(md, "no lead") {
		t.Errorf("report.md does not say the lead failed, or says there was none:\n%s", md)
	}
	if !strings.Contains(stdout, "decided by rules") {
		t.Errorf("stdout = %s", stdout)
	}
}
