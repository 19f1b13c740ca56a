package lead

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/deepreview/deep-review/review"
	"github.com/deepreview/deep-review/review/git"
	"github.com/deepreview/deep-review/review/llm"
)

var baseEnv = []string{
	"GIT_AUTHOR_NAME=Base Author", "GIT_AUTHOR_EMAIL=base@example.com",
	"GIT_COMMITTER_NAME=Base Author", "GIT_COMMITTER_EMAIL=base@example.com",
	"GIT_AUTHOR_DATE=2026-01-02T03:04:05Z", "GIT_COMMITTER_DATE=2026-01-02T03:04:05Z",
}

var prEnv = []string{
	"GIT_AUTHOR_NAME=Pat Contributor", "GIT_AUTHOR_EMAIL=pat@example.com",
	"GIT_COMMITTER_NAME=Pat Contributor", "GIT_COMMITTER_EMAIL=pat@example.com",
	"GIT_AUTHOR_DATE=2026-02-03T04:05:06Z", "GIT_COMMITTER_DATE=2026-02-03T04:05:06Z",
}

// baseCache predates the pull request; Set writes a map nothing allocates.
const baseCache = `package cache

import "sync"

type Cache struct {
	mu    sync.Mutex
	items map[string]string
}

func (c *Cache) Get(key string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.items[key]
}

func (c *Cache) Set(key, value string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.items[key] = value
}
`

// headCache adds Delete, which writes the map without the lock (lines 22-25).
const headCache = baseCache + `
// Delete removes key.
func (c *Cache) Delete(key string) {
	delete(c.items, key)
}
`

func gitRun(t *testing.T, dir string, env []string, args ...string) string {
	t.Helper()
	out, err := git.Repo{Dir: dir, Env: env}.Output(context.Background(), args...)
	if err != nil {
		t.Fatalf("git %s: %v", strings.Join(args, " "), err)
	}
	return out
}

func writeFile(t *testing.T, dir, name, content string) {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// fixture builds a repository with a base commit on main and one PR commit
// on a feature branch, checked out, and the PR that describes it.
func fixture(t *testing.T) *review.PR {
	t.Helper()
	dir := t.TempDir()
	gitRun(t, dir, baseEnv, "-c", "init.defaultBranch=main", "init", "-q")
	writeFile(t, dir, "cache.go", baseCache)
	gitRun(t, dir, baseEnv, "add", "-A")
	gitRun(t, dir, baseEnv, "commit", "-q", "-m", "Add the cache")
	base := gitRun(t, dir, baseEnv, "rev-parse", "HEAD")
	gitRun(t, dir, prEnv, "checkout", "-q", "-b", "feature")
	writeFile(t, dir, "cache.go", headCache)
	gitRun(t, dir, prEnv, "commit", "-q", "-am", "Add Delete")
	head := gitRun(t, dir, prEnv, "rev-parse", "HEAD")
	return &review.PR{
		Repo: "o/cache", Number: 9, Title: "Add Delete", Author: "pat",
		BaseRef: "main", HeadRef: "feature", BaseSHA: base, HeadSHA: head, MergeBase: base,
		Commits: []review.Commit{{SHA: head, Subject: "Add Delete"}},
		Dir:     dir, Diff: gitRun(t, dir, nil, "diff", base+".."+head) + "\n",
		Files: []review.ChangedFile{{Path: "cache.go", Status: "modified", Additions: 5}},
	}
}

// The findings the tests verify, with the lines they cite in headCache.
var (
	deleteRace = review.Finding{
		Severity: review.Critical, Title: "Delete writes the map without the lock", File: "cache.go", StartLine: 22, EndLine: 25,
		Explanation: "Delete calls delete(c.items, key) without c.mu, racing with Set.", Reviewers: []string{"Alpha", "Bravo"},
		Citation: review.CitationVerified, Dissent: "important per Bravo",
	}
	nilMap = review.Finding{
		Severity: review.Important, Title: "Set writes to a nil map", File: "cache.go", StartLine: 19, EndLine: 19,
		Explanation: "Nothing allocates items, so the first Set panics.", Reviewers: []string{"Alpha"}, Citation: review.CitationVerified,
	}
	getUnlocked = review.Finding{
		Severity: review.Important, Title: "Get reads the map without locking", File: "cache.go", StartLine: 10, EndLine: 14,
		Explanation: "Get does not take the lock.", Reviewers: []string{"Bravo"}, Citation: review.CitationVerified,
	}
)

// excerptOf fills f's excerpt from headCache, as consolidation does.
func excerptOf(f review.Finding) review.Finding {
	lines := strings.Split(headCache, "\n")
	f.Excerpt = strings.Join(lines[f.StartLine-1:f.EndLine], "\n")
	return f
}

// fakeModel is a scripted lead: it answers each request by reading it. A
// verification reads the cited lines and blames them, then judges the
// finding by its title: a title with "without locking" is rejected (Get
// holds the lock), a title with "fails" makes the model error, one with
// "invalid" first sends bad arguments; pre_existing follows the blame's
// [PR] marks. A synthesis writes retros for every reviewer the report names.
// It is safe for concurrent use and counts concurrent turns.
type fakeModel struct {
	// overlap, when > 1, makes each turn wait (up to a second) until that
	// many turns run at once, then hold a little longer, so a pool shows
	// both its parallelism and its bound in peak.
	overlap  int32
	inFlight atomic.Int32
	peak     atomic.Int32
	turns    atomic.Int32

	// synthesis overrides write_synthesis's arguments when set.
	synthesis func(prompt string) map[string]any

	mu       sync.Mutex
	requests []llm.Request
}

var whereRe = regexp.MustCompile(`- Where: (\S+):(\d+)-(\d+)`)

func (m *fakeModel) Turn(ctx context.Context, req llm.Request) (*llm.Response, error) {
	n := m.inFlight.Add(1)
	defer m.inFlight.Add(-1)
	for {
		p := m.peak.Load()
		if n <= p || m.peak.CompareAndSwap(p, n) {
			break
		}
	}
	m.turns.Add(1)
	m.mu.Lock()
	m.requests = append(m.requests, req)
	m.mu.Unlock()
	if m.overlap > 1 {
		deadline := time.Now().Add(time.Second)
		for m.peak.Load() < m.overlap && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
		// Hold the turn a little, so a pool that lets more runs start than
		// it should shows it in the peak.
		time.Sleep(10 * time.Millisecond)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	prompt := req.Messages[0].Text
	if hasTool(req, ToolSynthesis) {
		return m.synthesize(req, prompt)
	}
	return m.verify(req, prompt)
}

func hasTool(req llm.Request, name string) bool {
	for _, t := range req.Tools {
		if t.Name == name {
			return true
		}
	}
	return false
}

func (m *fakeModel) verify(req llm.Request, prompt string) (*llm.Response, error) {
	if strings.Contains(prompt, "fails") {
		return nil, errors.New("503 overloaded")
	}
	where := whereRe.FindStringSubmatch(prompt)
	if where == nil {
		return nil, fmt.Errorf("fake: no finding location in the prompt")
	}
	last := req.Messages[len(req.Messages)-1]
	turn := (len(req.Messages) + 1) / 2
	if turn == 1 {
		return call(turn,
			llm.ToolCall{Name: "read_file", Arguments: args(map[string]any{"path": where[1], "start": atoi(where[2]), "end": atoi(where[3])})},
			llm.ToolCall{Name: "git_blame", Arguments: args(map[string]any{"path": where[1], "start": atoi(where[2]), "end": atoi(where[3])})},
		), nil
	}
	blame := ""
	for _, r := range last.ToolResults {
		if r.Name == "git_blame" {
			blame = r.Content
		}
	}
	if turn == 2 && strings.Contains(prompt, "invalid") {
		return call(turn, llm.ToolCall{Name: ToolVerify, Arguments: args(map[string]any{"accept": true, "severity": "high", "pre_existing": false})}), nil
	}
	if turn == 3 && strings.Contains(prompt, "invalid") {
		if !last.ToolResults[0].IsError || !strings.Contains(last.ToolResults[0].Content, `severity: "high"`) || !strings.Contains(last.ToolResults[0].Content, "missing reason") {
			return nil, fmt.Errorf("fake: want an error result naming severity and reason, got %q", last.ToolResults[0].Content)
		}
		blame = "corrected"
	}
	if blame == "" {
		return nil, fmt.Errorf("fake: no blame result at turn %d", turn)
	}
	v := map[string]any{"accept": true, "severity": "important", "pre_existing": !prLines(blame),
		"reason": fmt.Sprintf("Read %s:%s-%s; the claim holds.", where[1], where[2], where[3])}
	if strings.Contains(prompt, "without locking") {
		v["accept"], v["reason"] = false, "Get takes c.mu at cache.go:11 before reading the map."
	}
	return call(turn, llm.ToolCall{Name: ToolVerify, Arguments: args(v)}), nil
}

// prLines reports whether a git_blame result marks any line as the PR's.
func prLines(blame string) bool {
	for _, line := range strings.Split(blame, "\n") {
		if strings.HasPrefix(line, "[PR]") {
			return true
		}
	}
	return false
}

var reviewerRe = regexp.MustCompile(`(?m)^### (.+)$`)

func (m *fakeModel) synthesize(req llm.Request, prompt string) (*llm.Response, error) {
	var retros []map[string]any
	for _, r := range reviewerRe.FindAllStringSubmatch(prompt, -1) {
		retros = append(retros, map[string]any{"reviewer": r[1], "text": r[1] + " found what it found."})
	}
	v := map[string]any{
		"summary": "The pull request adds Delete to the cache.", "decision": "merge-with-fixes",
		"reason": "Delete races with Set.", "retros": retros, "retro": "Alpha found more than Bravo.",
	}
	if m.synthesis != nil {
		v = m.synthesis(prompt)
	}
	return call(1, llm.ToolCall{Name: ToolSynthesis, Arguments: args(v)}), nil
}

func call(turn int, calls ...llm.ToolCall) *llm.Response {
	for i := range calls {
		calls[i].ID = fmt.Sprintf("call_%d_%d", turn, i)
	}
	return &llm.Response{
		Message: llm.Message{Role: llm.Assistant, ToolCalls: calls},
		Usage:   review.Tokens{Input: 100, Output: 10},
		Stop:    llm.StopToolUse,
	}
}

func args(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

func atoi(s string) int {
	var n int
	fmt.Sscanf(s, "%d", &n)
	return n
}
