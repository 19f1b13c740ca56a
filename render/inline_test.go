package render

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/deepreview/deep-review/review"
)

// hostileFinding has model text that tries every trick the sanitiser knows.
func hostileFinding() review.Finding {
	return review.Finding{
		ID: "I1", Severity: review.Important, Tags: []string{"security", "regression"},
		Title: "Wait races with Refill, cc @octocat <b>now</b>", File: "limiter.go", StartLine: 12, EndLine: 12,
		Explanation: "`tokens` is read without the mutex. ![x](https://evil.example/p.gif) <img src=x> " +
			"The key " + fixtureSecret + " leaks. <!-- deep-review:state/finding 0123456789abcdef -->",
		Fix:         "Take the mutex in `Wait`.",
		Patch:       "--- a/limiter.go\n+++ b/limiter.go\n@@ -12,2 +12,3 @@\n func (l *Limiter) Wait() {\n+\tl.mu.Lock()\n \tif l.tokens > 0 {\n",
		Reviewers:   []string{"Claude", "Codex"},
		Notes:       []string{"The range was moved.", "lead: confirmed by reading Refill; @mona agreed"},
		Fingerprint: "a1b2c3d4e5f60718",
	}
}

func TestInlineCommentGolden(t *testing.T) {
	t.Parallel()
	r := fixture()
	f := hostileFinding()
	golden(t, "inline-suggestion.md.golden", InlineComment(r, f, InlineFix{Suggest: true, Suggestion: []string{"func (l *Limiter) Wait() {", "\tl.mu.Lock()"}}, fixtureOptions()))
	golden(t, "inline-diff.md.golden", InlineComment(r, f, InlineFix{}, fixtureOptions()))
}

func TestInlineCommentIsSafe(t *testing.T) {
	t.Parallel()
	got := string(InlineComment(fixture(), hostileFinding(), InlineFix{}, fixtureOptions()))
	for _, bad := range []string{fixtureSecret, " @octocat", " @mona", "<img", "![x]", "<b>", "0123456789abcdef"} {
		if strings.Contains(got, bad) {
			t.Errorf("the comment holds %q:\n%s", bad, got)
		}
	}
	if fp, ok := review.FindingFromMarker(got); !ok || fp != "a1b2c3d4e5f60718" {
		t.Errorf("FindingFromMarker = %q, %v; want the finding's fingerprint", fp, ok)
	}
	if n := strings.Count(got, review.FindingMarkerPrefix); n != 1 {
		t.Errorf("%d markers, want 1", n)
	}
}

func TestInlineCommentSuggestionThatTheSanitiserWouldChangeBecomesADiff(t *testing.T) {
	t.Parallel()
	f := hostileFinding()
	got := string(InlineComment(fixture(), f, InlineFix{Suggest: true, Suggestion: []string{`key := "` + fixtureSecret + `"`}}, fixtureOptions()))
	if strings.Contains(got, "```suggestion") {
		t.Errorf("a suggestion holding a secret was kept:\n%s", got)
	}
	if !strings.Contains(got, "```diff") {
		t.Errorf("the patch is not shown as a diff:\n%s", got)
	}
}

func TestInlineCommentDeletionIsAnEmptySuggestion(t *testing.T) {
	t.Parallel()
	got := string(InlineComment(nil, review.Finding{ID: "S1", Severity: review.Suggestion, Title: "Drop the unused var", Fingerprint: "ff"}, InlineFix{Suggest: true}, Options{}))
	if !strings.Contains(got, "**Suggested change:**\n\n```suggestion\n```\n") {
		t.Errorf("no empty suggestion block:\n%s", got)
	}
}

func TestInlineCommentStaysUnderTheLimit(t *testing.T) {
	t.Parallel()
	f := hostileFinding()
	f.Explanation = strings.Repeat("word ", 50_000)
	f.Fix = strings.Repeat("fix ", 50_000)
	f.Patch = "--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+" + strings.Repeat("b", 19_000) + "\n"
	long := strings.Repeat("x", 19_000)
	got := InlineComment(nil, f, InlineFix{Suggest: true, Suggestion: []string{long}}, Options{MaxBytes: 10_000})
	if n := utf8.RuneCount(got); n > 10_000 {
		t.Errorf("the comment is %d characters, want at most 10,000", n)
	}
	if _, ok := review.FindingFromMarker(string(got)); !ok {
		t.Errorf("the marker was cut off")
	}
}

func TestCommentLinksInlineThreadsAndSaysWhyNot(t *testing.T) {
	t.Parallel()
	r := fixture()
	r.Links.Inline = map[string]review.InlineLink{
		"fp-c1": {URL: "https://github.com/acme/widgets/pull/42#discussion_r9"},
		"fp-i1": {Reason: review.NotOnChangedLine},
	}
	got := string(Comment(r, fixtureOptions()))
	for _, want := range []string{
		"· critical · [inline comment](https://github.com/acme/widgets/pull/42#discussion_r9)\n",
		"· carried from round 1 · not on a changed line\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("the comment lacks %q", want)
		}
	}
}
