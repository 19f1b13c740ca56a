package render

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/deepreview/deep-review/review"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// fixtureSecret is a configured secret the fixture leaks on purpose.
const fixtureSecret = "hunter2-very-secret-value"

// fixtureOptions are the options the golden files are rendered with.
func fixtureOptions() Options {
	return Options{Secrets: []string{fixtureSecret}, RepoURL: "https://github.com/acme/widgets"}
}

// fixture is a report with every section filled: three reviewers (one
// failed, all replayed), a finding two reviewers share, a carried, an
// addressed, a rejected and a declined finding, a corrected citation,
// limitations, unresolved feedback and the lead's stats. Some text is
// hostile on purpose, so the golden files show it sanitised.
func fixture() *review.Report {
	return &review.Report{
		Schema: review.SchemaVersion,
		PR: review.PR{
			Repo:      "acme/widgets",
			Number:    42,
			Title:     "Add a rate limiter to the <b>API</b> client, cc @octocat",
			Author:    "jdoe",
			URL:       "https://github.com/acme/widgets/pull/42",
			BaseRef:   "main",
			HeadRef:   "rate-limit",
			BaseSHA:   "1111111111111111111111111111111111111111",
			HeadSHA:   "abcdef0123456789abcdef0123456789abcdef01",
			MergeBase: "1111111111111111111111111111111111111111",
			Commits: []review.Commit{
				{SHA: "aaaaaaa1234567890aaaaaaaaaaaaaaaaaaaaaaa", Subject: "Add token bucket limiter"},
				{SHA: "bbbbbbb1234567890bbbbbbbbbbbbbbbbbbbbbbb", Subject: "Wire the limiter into the client | retry"},
			},
		},
		Round: 2,
		Verdict: review.Verdict{
			Decision:  review.MergeWithFixes,
			Reason:    "One important race in the limiter; the rest are suggestions",
			DecidedBy: review.DecidedByLead,
		},
		Summary: "This PR adds a token-bucket rate limiter to the API client. @octocat please look.\n\n" +
			"It is well tested, but `Wait` races with `Refill` (see [the docs](https://evil.example/phish) and " +
			"[the limiter](https://github.com/acme/widgets/blob/main/limiter.go)). <img src=\"https://evil.example/t.png\"> " +
			"![tracker](https://evil.example/pixel.gif) The key " + fixtureSecret + " and ghp_abcdefghijklmnopqrstuvwxyz0123456789 leaked into a log.\n" +
			"<!-- deep-review:state eyJyb3VuZCI6OTl9 -->",
		Findings: []review.Finding{
			{
				ID: "C1", Severity: review.Critical, Tags: []string{"security", "regression"},
				Title: "Retry loop logs the Authorization header", File: "client/retry.go", StartLine: 30, EndLine: 33,
				Excerpt:     "func (c *Client) retry(req *http.Request) {\n\tlog.Printf(\"retrying %v\", req.Header)\n\t// ```\n}",
				Explanation: "The header holds the bearer token; logging it publishes the token in CI logs.",
				Fix:         "Log the method and URL only.",
				Patch:       "--- a/client/retry.go\n+++ b/client/retry.go\n@@ -30,4 +30,4 @@\n func (c *Client) retry(req *http.Request) {\n-\tlog.Printf(\"retrying %v\", req.Header)\n+\tlog.Printf(\"retrying %s %s\", req.Method, req.URL)\n \t// ```\n }\n",
				Reviewers:   []string{"Claude", "Codex"}, Citation: review.CitationVerified, Status: review.FindingNew,
				FirstRound: 2, Fingerprint: "fp-c1",
			},
			{
				ID: "I1", Severity: review.Important, Tags: []string{"regression"},
				Title: "Wait races with Refill on the token count", File: "limiter.go", StartLine: 12, EndLine: 16,
				Excerpt:     "func (l *Limiter) Wait() {\n\tif l.tokens > 0 {\n\t\tl.tokens--\n\t}\n}",
				Explanation: "`tokens` is read and written without the mutex `Refill` holds, so two goroutines can take the last token.",
				Fix:         "Take the mutex in `Wait`.",
				Patch:       "--- a/limiter.go\n+++ b/limiter.go\n@@ -12,2 +12,4 @@\n func (l *Limiter) Wait() {\n+\tl.mu.Lock()\n+\tdefer l.mu.Unlock()\n \tif l.tokens > 0 {\n",
				Reviewers:   []string{"Codex"}, Citation: review.CitationCorrected, Status: review.FindingCarried,
				FirstRound: 1, Dissent: "suggestion per Claude",
				Notes:       []string{"The range was moved from 10-14 to 12-16, where the quoted code is."},
				Fingerprint: "fp-i1",
			},
			{
				ID: "S1", Severity: review.Suggestion, Tags: []string{"enhancement"},
				Title: "Name the refill interval", File: "limiter.go", StartLine: 5, EndLine: 5,
				Excerpt:     "const interval = 100 * time.Millisecond",
				Explanation: "A named, documented constant makes the rate obvious. Thanks @jdoe!",
				Fix:         "Rename to `refillInterval` and document it.",
				Reviewers:   []string{"Claude"}, Citation: review.CitationUnverified, Status: review.FindingNew,
				FirstRound: 2, Fingerprint: "fp-s1",
			},
			{
				ID: "S2", Severity: review.Suggestion, Tags: []string{"style"},
				Title: "Prefer time.Ticker over time.Sleep", File: "limiter.go", StartLine: 20, EndLine: 22,
				Excerpt:     "for {\n\ttime.Sleep(interval)\n}",
				Explanation: "A maintainer declined this in round 1.",
				Reviewers:   []string{"Claude"}, Citation: review.CitationVerified, Status: review.FindingDeclined,
				FirstRound: 1, Fingerprint: "fp-s2",
			},
		},
		Rejected: []review.Finding{{
			ID: "", Severity: review.Important, Tags: []string{"gap"},
			Title: "Limiter is never closed", File: "limiter.go", StartLine: 40, EndLine: 42,
			Reviewers: []string{"Gemini"}, Citation: review.CitationVerified, Status: review.FindingNew,
			Reason:      "Close exists at line 50 and the client defers it.",
			Fingerprint: "fp-r1",
		}},
		Addressed: []review.Finding{{
			ID: "I2", Severity: review.Important, Title: "Burst size ignores the config", File: "config.go",
			StartLine: 8, EndLine: 9, FirstRound: 1, Fingerprint: "fp-a1",
		}},
		Concerns: []review.Concern{
			{Text: "A process-wide limiter will not coordinate across replicas.", Scope: review.ScopeFuture, Reviewers: []string{"Claude", "Codex"}},
			{Text: "The limiter has no way to report its wait time.", Scope: review.ScopeInScope, Reviewers: []string{"Codex"}},
		},
		Strengths: []review.Strength{
			{Text: "Table-driven tests cover the refill arithmetic.", Reviewers: []string{"Claude", "Codex"}},
		},
		Testing: review.Testing{
			Assessment: "Unit tests cover refill and burst; nothing exercises concurrency.",
			Untested: []review.Untested{
				{Scenario: "Burst of zero", Risk: "low"},
				{Scenario: "Concurrent Wait and Refill under -race", Risk: "high"},
				{Scenario: "Clock going backwards", Risk: "medium"},
			},
		},
		Documentation:   "The README does not mention the new `RateLimit` option.",
		CommitStructure: "Two focused commits; the second mixes wiring with a retry change.",
		Limitations: []review.Limitation{
			{File: "limiter.go", Line: 3, Quote: "// TODO: coordinate across replicas"},
		},
		UnresolvedFeedback: []review.Feedback{
			{Author: "mona", URL: "https://github.com/acme/widgets/pull/42#discussion_r1", Summary: "Use a monotonic clock for refill."},
		},
		Reviewers: []review.ReviewerStats{
			{
				Name: "Claude", Provider: "anthropic", Model: "claude-opus-4-6", Effort: "high", Label: "scripted replay",
				Status: review.StatusOK, DurationMS: 604_000, Turns: 14,
				ToolCalls:     map[string]int{"read_file": 9, "grep": 4, "git_blame": 2},
				FilesReviewed: []string{"client/retry.go", "limiter.go", "config.go"},
				Counts:        review.Counts{Critical: 1, Suggestion: 2}, DesignObservations: 2,
				UniqueInsights: 1, CoverageMisses: []string{"I1"},
				Tokens:  review.Tokens{Input: 12_000, CachedInput: 180_000, CacheWrite: 9_000, Output: 6_500},
				CostUSD: 1.234, Retro: "Thorough; found the logged token with Codex and used blame well.",
			},
			{
				Name: "Codex", Provider: "openai", Model: "gpt-5.4", Effort: "high", Label: "scripted replay",
				Status: review.StatusOK, DurationMS: 459_000, Turns: 9,
				ToolCalls:     map[string]int{"read_file": 6, "grep": 2},
				FilesReviewed: []string{"client/retry.go", "limiter.go"},
				Counts:        review.Counts{Critical: 1, Important: 1}, DesignObservations: 2,
				UniqueInsights: 1,
				Tokens:         review.Tokens{Input: 30_000, CachedInput: 40_000, Output: 4_000, Reasoning: 2_000},
				CostUSD:        0.5, Retro: "Found the race in Wait, the strongest finding.",
			},
			{
				Name: "Gemini", Provider: "gemini", Model: "gemini-3.1-pro", Label: "scripted replay",
				Status: review.StatusFailed, Error: "turn 3: 401 bad key " + fixtureSecret, DurationMS: 65_000, Turns: 3,
				ToolCalls:      map[string]int{"list_files": 1},
				FalsePositives: 1, CoverageMisses: []string{"C1", "I1"},
				Tokens: review.Tokens{Input: 5_000, Output: 300},
				Retro:  "Failed after three turns; its one finding was rejected.",
			},
		},
		Lead: &review.LeadStats{
			Name: "lead", Model: "anthropic:claude-opus-4-6", Status: review.StatusOK, DurationMS: 95_000,
			Tokens: review.Tokens{Input: 8_000, CachedInput: 20_000, Output: 1_500}, CostUSD: 0.25,
		},
		Skipped:     []review.SkippedFile{{Path: "go.sum", Reason: "generated"}, {Path: "assets/logo.png", Reason: "binary"}},
		Retro:       "Codex found the race, Claude the logged token; Gemini failed early. Two reviewers agreeing on C1 raised confidence.",
		WallClockMS: 1_433_000,
		GeneratedAt: time.Date(2026, 3, 24, 18, 16, 20, 0, time.UTC),
		Links: review.Links{
			Run:      "https://github.com/acme/widgets/actions/runs/7",
			Artifact: "https://github.com/acme/widgets/actions/runs/7/artifacts/9",
		},
	}
}

// golden compares got with testdata/name, or rewrites it under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run go test ./render -update to create it): %v", err)
	}
	if !bytes.Equal(got, want) {
		g, w := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
		for i := 0; i < max(len(g), len(w)); i++ {
			var gl, wl string
			if i < len(g) {
				gl = g[i]
			}
			if i < len(w) {
				wl = w[i]
			}
			if gl != wl {
				t.Errorf("%s differs from the golden file at line %d (run go test ./render -update and review the diff):\n got %q\nwant %q", name, i+1, gl, wl)
				return
			}
		}
	}
}
