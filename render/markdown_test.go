package render

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/deepreview/deep-review/review"
)

func TestGolden(t *testing.T) {
	r, o := fixture(), fixtureOptions()
	golden(t, "report.md.golden", Markdown(r, o))
	golden(t, "comment.md.golden", Comment(r, o))
	js, err := JSON(r)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "report.json.golden", js)
}

func TestMarkdownHasEverySectionInOrder(t *testing.T) {
	got := string(Markdown(fixture(), fixtureOptions()))
	sections := []string{
		"# Deep Review: 20260324-181620-pr-42", "| Date | 2026-03-24 18:16 UTC |", "| Round | 2 (of PR #42) |",
		"| Wall-clock time | 23 min 53 s |",
		"## Executive summary", "## Critical issues", "### C1: ", "## Important issues", "### I1: ", "## Suggestions", "### S1: ",
		"## Design observations", "### Concerns", "### Strengths", "## Testing assessment", "## Documentation assessment",
		"## Commit structure", "## Acknowledged limitations", "## Unresolved feedback", "## Earlier rounds", "### Carried",
		"### Addressed", "### Declined", "## Rejected findings", "## Skipped files", "## Agent performance retro",
		"### Claude (scripted replay)", "### Codex (scripted replay)", "### Gemini (scripted replay)", "### Summary", "| Duration | 10:04 | 7:39 | 1:05 |",
		"**Lead:**", "Codex found the race",
	}
	at := 0
	for _, s := range sections {
		i := strings.Index(got[at:], s)
		if i < 0 {
			t.Fatalf("%q missing or out of order (after byte %d)", s, at)
		}
		at += i + len(s)
	}
}

func TestMarkdownFindingDetail(t *testing.T) {
	got := string(Markdown(fixture(), fixtureOptions()))
	for _, want := range []string{
		"[Claude (scripted replay), Codex (scripted replay)]", // shared finding, both attributed
		"[`client/retry.go:30-33`](https://github.com/acme/widgets/blob/abcdef0123456789abcdef0123456789abcdef01/client/retry.go#L30-L33)",
		"````go\nfunc (c *Client) retry", // excerpt fence longer than the ``` inside it
		"````diff\n--- a/client/retry.go",
		"Severity dissent: suggestion per Claude",
		"Citation corrected",
		"Citation unverified",
		"carried from round 1",
		"**(future)**", "**(in-scope)**",
		"1. Concurrent Wait and Refill under -race (risk: high)", // ranked by risk
		"Rejected: Close exists at line 50",
		"**Failed.** turn 3: 401 bad key " + proseRedacted,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("report.md lacks %q", want)
		}
	}
	for _, bad := range []string{fixtureSecret, "ghp_abcdef", "evil.example/t.png", "pixel.gif", "<img", "<b>", " @octocat", "eyJyb3VuZCI6OTl9", review.MarkerPrefix} {
		if strings.Contains(got, bad) {
			t.Errorf("report.md holds %q", bad)
		}
	}
}

func TestCommentMarkerAndDeclineList(t *testing.T) {
	r := fixture()
	got := string(Comment(r, fixtureOptions()))
	if n := strings.Count(got, review.MarkerPrefix); n != 1 {
		t.Fatalf("comment has %d markers, want 1", n)
	}
	st, ok, err := review.ParseState(got)
	if err != nil || !ok {
		t.Fatalf("ParseState = %v, %v", ok, err)
	}
	if len(st.Lines) != len(r.Findings) {
		t.Errorf("state has decline-line digests for %v, want every finding", st.Lines)
	}
	want := review.StateOf(r)
	want.Lines = st.Lines
	if !reflect.DeepEqual(st, want) {
		t.Errorf("state = %+v, want %+v", st, want)
	}
	if !strings.HasSuffix(got, review.EncodeState(want)+"\n") {
		t.Error("the marker is not at the end")
	}
	if ids := review.DeclinedIDs(got, st.Lines); !reflect.DeepEqual(ids, []string{"S2"}) {
		t.Errorf("DeclinedIDs = %v, want [S2]", ids)
	}
	for _, want := range []string{"- [ ] `C1` ", "- [ ] `I1` ", "<details><summary>Suggestions (1)</summary>", r.Links.Run, r.Links.Artifact, "| Tool calls | 15 | 8 | 1 |"} {
		if !strings.Contains(got, want) {
			t.Errorf("comment lacks %q", want)
		}
	}
	// Critical and important findings are in full, outside any <details>.
	before, _, _ := strings.Cut(got, "<details>")
	for _, want := range []string{"### C1: ", "log.Printf(\"retrying %v\", req.Header)", "### I1: ", "Take the mutex"} {
		if !strings.Contains(before, want) {
			t.Errorf("comment lacks %q before the first <details>", want)
		}
	}
}

// huge is a report with n long findings of each severity.
func huge(n int) *review.Report {
	r := fixture()
	r.Findings = nil
	long := strings.Repeat("This explanation goes on at length about the defect. ", 60)
	code := strings.Repeat("\tx := compute(a, b, c) // with a long comment to pad it\n", 40)
	for _, s := range severities {
		for i := 1; i <= n; i++ {
			r.Findings = append(r.Findings, review.Finding{
				ID: fmt.Sprintf("%s%d", s.IDPrefix(), i), Severity: s, Tags: []string{"gap"},
				Title: fmt.Sprintf("Finding %d of severity %s", i, s), File: "pkg/file.go", StartLine: i, EndLine: i + 40,
				Excerpt: code, Explanation: long, Fix: long, Patch: "--- a/pkg/file.go\n+++ b/pkg/file.go\n@@ -1 +1 @@\n-" + code + "+" + code,
				Reviewers: []string{"Claude"}, Citation: review.CitationVerified, Status: review.FindingNew, FirstRound: 2,
				Fingerprint: fmt.Sprintf("fp-%s-%d", s, i),
			})
		}
	}
	files := make([]string, 3000)
	for i := range files {
		files[i] = fmt.Sprintf("pkg/sub%d/file%d.go", i/100, i)
	}
	r.Reviewers[0].FilesReviewed = files
	return r
}

func TestMarkdownShortensAHugeReport(t *testing.T) {
	r := huge(300)
	got := Markdown(r, Options{})
	if len(got) > SummaryLimit {
		t.Fatalf("report.md is %d bytes, more than %d", len(got), SummaryLimit)
	}
	s := string(got)
	if !strings.Contains(s, "This report was shortened") || !strings.Contains(s, r.Links.Artifact) {
		t.Error("the shortening note, with the artifact link, is missing")
	}
	// Lower sections go first: critical bodies stay when suggestion bodies
	// are gone.
	if !strings.Contains(s, "### C300: ") || !strings.Contains(s, "### I300: ") {
		t.Error("a critical or important finding is missing")
	}
	js, err := JSON(r)
	if err != nil {
		t.Fatal(err)
	}
	var back review.Report
	if err := json.Unmarshal(js, &back); err != nil {
		t.Fatal(err)
	}
	if len(back.Findings) != 900 {
		t.Errorf("report.json has %d findings, want all 900", len(back.Findings))
	}
}

func TestMarkdownUnderTheLimitIsNotShortened(t *testing.T) {
	got := string(Markdown(fixture(), Options{}))
	if strings.Contains(got, "shortened") {
		t.Error("a small report was shortened")
	}
}

func TestCommentFitsEveryLimit(t *testing.T) {
	r := huge(40)
	marker := len(review.EncodeState(review.StateOf(r)))
	for _, limit := range []int{0, 30_000, marker + 4_000, marker + 600} {
		got := Comment(r, Options{MaxBytes: limit})
		want := limit
		if want == 0 {
			want = CommentLimit
		}
		if len(got) > want {
			t.Errorf("limit %d: comment is %d bytes", limit, len(got))
		}
		st, ok, err := review.ParseState(string(got))
		if err != nil || !ok || st.Round != r.Round || len(st.Fingerprints) != 120 {
			t.Errorf("limit %d: marker parse = %v, %v, round %d, %d fingerprints", limit, ok, err, st.Round, len(st.Fingerprints))
		}
		if !strings.Contains(string(got), "shortened") && !strings.Contains(string(got), "cut off") {
			t.Errorf("limit %d: no shortening note", limit)
		}
		if strings.Count(string(got), "<details>") != strings.Count(string(got), "</details>") {
			t.Errorf("limit %d: unbalanced <details>", limit)
		}
	}
}

func TestCommentDropsTitlesFromAnOversizedMarker(t *testing.T) {
	r := huge(150)
	got := Comment(r, Options{})
	if len(got) > CommentLimit {
		t.Fatalf("comment is %d bytes", len(got))
	}
	st, ok, err := review.ParseState(string(got))
	if err != nil || !ok {
		t.Fatalf("ParseState = %v, %v", ok, err)
	}
	if len(st.Fingerprints) != 450 || len(st.IDs) != 450+len(st.Gone) || st.Titles != nil {
		t.Errorf("state has %d fingerprints, %d IDs (%d gone) and %d titles; want 450, 450 and the gone ones, and none", len(st.Fingerprints), len(st.IDs), len(st.Gone), len(st.Titles))
	}
}

func TestJSONRoundTrips(t *testing.T) {
	r := fixture()
	r.Summary = "plain summary" // no secrets, so the round trip is exact
	r.Reviewers[2].Error = "turn 3: 401"
	js, err := JSON(r)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(string(js), "}\n") || !strings.Contains(string(js), "\n  \"schema\": 1,") {
		t.Errorf("report.json is not indented with a trailing newline and schema 1:\n%.200s", js)
	}
	var back review.Report
	if err := json.Unmarshal(js, &back); err != nil {
		t.Fatal(err)
	}
	want := *r
	want.PR = review.PR{Repo: r.PR.Repo, Number: r.PR.Number, Title: r.PR.Title, Author: r.PR.Author, URL: r.PR.URL,
		BaseRef: r.PR.BaseRef, HeadRef: r.PR.HeadRef, BaseSHA: r.PR.BaseSHA, HeadSHA: r.PR.HeadSHA, MergeBase: r.PR.MergeBase, Commits: r.PR.Commits}
	if !reflect.DeepEqual(back, want) {
		t.Errorf("round trip differs:\ngot  %+v\nwant %+v", back, want)
	}
}

func TestJSONScrubsTokensAndMarkers(t *testing.T) {
	r := fixture()
	js, err := JSON(r)
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"ghp_abcdef", "deep-review:state"} {
		if strings.Contains(string(js), bad) {
			t.Errorf("report.json holds %q", bad)
		}
	}
	if !strings.Contains(r.Summary, "ghp_abcdef") {
		t.Error("JSON modified its argument")
	}
}

func TestRedactScrubsConfiguredSecrets(t *testing.T) {
	r := fixture()
	c, err := Redact(r, fixtureOptions())
	if err != nil {
		t.Fatal(err)
	}
	js, err := JSON(c)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(js), fixtureSecret) {
		t.Error("report.json of a redacted report holds the configured secret")
	}
	if !strings.Contains(r.Reviewers[2].Error, fixtureSecret) {
		t.Error("Redact modified its argument")
	}
	if c.Findings[0].Title != r.Findings[0].Title || len(c.Findings) != len(r.Findings) {
		t.Error("Redact changed text without a secret")
	}
}

func TestJSONFieldNames(t *testing.T) {
	js, err := JSON(fixture())
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(js, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"schema", "pr", "round", "verdict", "summary", "findings", "rejected", "addressed", "concerns", "strengths",
		"testing", "documentation", "commit_structure", "limitations", "unresolved_feedback", "reviewers", "wall_clock_ms", "generated_at"} {
		if _, ok := m[k]; !ok {
			t.Errorf("report.json lacks %q", k)
		}
	}
	f := m["findings"].([]any)[0].(map[string]any)
	for _, k := range []string{"id", "severity", "tags", "title", "file", "start_line", "end_line", "excerpt", "explanation", "fix", "patch", "reviewers", "citation", "status", "first_round"} {
		if _, ok := f[k]; !ok {
			t.Errorf("finding lacks %q", k)
		}
	}
}

func TestMinimalReportRendersInEveryFormat(t *testing.T) {
	r := &review.Report{Round: 1, PR: review.PR{Repo: "o/r", Number: 1},
		Verdict: review.Verdict{Decision: review.Merge, Reason: "no findings", DecidedBy: review.DecidedByRules}}
	md := string(Markdown(r, Options{}))
	for _, want := range []string{"## Critical issues\n\nNone.", "## Suggestions\n\nNone.", "None: this is the first round.", "No reviewer ran.", "**Merge as-is**"} {
		if !strings.Contains(md, want) {
			t.Errorf("report.md lacks %q", want)
		}
	}
	c := string(Comment(r, Options{}))
	if _, ok, err := review.ParseState(c); !ok || err != nil {
		t.Errorf("comment marker: %v, %v", ok, err)
	}
	if strings.Contains(c, "Decline findings") {
		t.Error("a comment without findings has a decline list")
	}
	if _, err := HTML(r, Options{}); err != nil {
		t.Error(err)
	}
	out, err := SARIF(r, Options{})
	if err != nil {
		t.Fatal(err)
	}
	validateSARIF(t, out)
}

func TestALaterRoundSaysWhatItReviewedAndWhatIsNew(t *testing.T) {
	r := fixture()
	for i := range r.Findings {
		if r.Findings[i].Status == review.FindingNew {
			r.Findings[i].PreExistingInPR = true
			break
		}
	}
	r.Scope = &review.Scope{Mode: review.ScopeDelta, From: "0123456789abcdef", Rebased: true, Files: []string{"limiter.go"}}
	got := string(Markdown(r, Options{}))
	for _, want := range []string{
		"This round reviewed the delta since `0123456`, the commit the last reviewed head became after a rebase (matched by patch id): 1 file changed",
		"### New",
		"on code the last push did not touch (pre-existing in this PR)",
		"· pre-existing in this PR",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("report.md lacks %q", want)
		}
	}
	r.Scope = &review.Scope{Mode: review.ScopeFull, Reason: "history was rewritten: 1 of the 2 reviewed commits have no matching patch at the new head"}
	if got := string(Markdown(r, Options{})); !strings.Contains(got, "This round reviewed the whole pull request: history was rewritten") {
		t.Error("a full round does not say why it reviewed the whole pull request")
	}
}

func TestPreExistingIssuesHaveTheirOwnSection(t *testing.T) {
	r := &review.Report{Round: 1, PR: review.PR{Repo: "o/r", Number: 1},
		Verdict: review.Verdict{Decision: review.Merge, Reason: "no findings", DecidedBy: review.DecidedByLead},
		PreExisting: []review.Finding{{ID: "P1", Severity: review.Important, Title: "Set writes to a nil map", File: "cache.go", StartLine: 19, EndLine: 19,
			Excerpt: "c.items[key] = value", Reviewers: []string{"Alpha"}, Notes: []string{"lead: blame shows cache.go:19 predates the PR"}}},
		Reviewers: []review.ReviewerStats{{Name: "Alpha", Model: "m", Status: review.StatusOK, Focus: "tests, docs and contracts", Salvaged: "model turn 3: 503"}},
	}
	for name, out := range map[string]string{"report.md": string(Markdown(r, Options{})), "comment": string(Comment(r, Options{}))} {
		for _, want := range []string{"Pre-existing issues this PR touches", "`P1` **Set writes to a nil map**", "(important)", "Lead: blame shows cache.go:19 predates the PR", "c.items[key] = value", "**Salvaged.**"} {
			if !strings.Contains(out, want) {
				t.Errorf("%s lacks %q", name, want)
			}
		}
	}
	if md := string(Markdown(r, Options{})); !strings.Contains(md, "- Focus: tests, docs and contracts") {
		t.Error("report.md's retro lacks the reviewer's focus")
	}
}
