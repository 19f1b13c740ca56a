package publish

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/sethvargo/go-githubactions"

	"github.com/deepreview/deep-review/review"
	"github.com/deepreview/deep-review/review/config"
	"github.com/deepreview/deep-review/review/ghclient"
	"github.com/deepreview/deep-review/review/internal/fakegithub"
	"github.com/deepreview/deep-review/review/internal/fakeresults"
)

// runner is a simulated Actions step: its environment, the files the
// runner reads back, and what the step printed.
type runner struct {
	t       *testing.T
	env     map[string]string
	stdout  bytes.Buffer
	log     bytes.Buffer
	outDir  string
	mu      sync.Mutex
	sleeps  []time.Duration
	clock   time.Time // moves only when slept on
	summary string    // GITHUB_STEP_SUMMARY path
	output  string    // GITHUB_OUTPUT path
}

func newRunner(t *testing.T) *runner {
	t.Helper()
	dir := t.TempDir()
	r := &runner{t: t, outDir: filepath.Join(dir, "deep-review-out")}
	r.summary = filepath.Join(dir, "step_summary")
	r.output = filepath.Join(dir, "output")
	for _, p := range []string{r.summary, r.output} {
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	r.env = map[string]string{
		"GITHUB_ACTIONS":      "true",
		"GITHUB_STEP_SUMMARY": r.summary,
		"GITHUB_OUTPUT":       r.output,
		"GITHUB_REPOSITORY":   "Codertocat/Hello-World",
		"GITHUB_SERVER_URL":   "https://github.com",
		"GITHUB_RUN_ID":       "777",
		"GITHUB_RUN_ATTEMPT":  "1",
	}
	r.writeOutDir(1)
	return r
}

// writeOutDir writes the files the renderer would, with an incompressible
// raw transcript so the zip spans several blocks.
func (r *runner) writeOutDir(round int) {
	r.t.Helper()
	rnd := rand.New(rand.NewPCG(uint64(round), 2))
	noise := make([]byte, 5000)
	for i := range noise {
		noise[i] = byte(rnd.UintN(256))
	}
	files := map[string][]byte{
		"report.md":                 []byte(fmt.Sprintf("# Report round %d\n", round)),
		"comment.md":                []byte("comment"),
		"report.html":               []byte("<html></html>"),
		"report.json":               []byte(`{"schema":1}`),
		"report.sarif":              []byte(`{"version":"2.1.0"}`),
		"raw/claude/transcript.bin": noise,
	}
	for name, data := range files {
		p := filepath.Join(r.outDir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			r.t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			r.t.Fatal(err)
		}
	}
}

func (r *runner) getenv(k string) string { return r.env[k] }

// sleep records d and moves the runner's clock on, at once.
func (r *runner) sleep(ctx context.Context, d time.Duration) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sleeps = append(r.sleeps, d)
	r.clock = r.clock.Add(d)
	return ctx.Err()
}

// now is the runner's clock.
func (r *runner) now() time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.clock
}

func (r *runner) publisher(gh *fakeGitHub, rs *fakeResults) *Publisher {
	p := &Publisher{
		Action:    githubactions.New(githubactions.WithGetenv(r.getenv), githubactions.WithWriter(&r.stdout)),
		Getenv:    r.getenv,
		Sleep:     r.sleep,
		Log:       &r.log,
		blockSize: 1024,
	}
	if gh != nil {
		p.GitHub = ghClient(r.t, gh, ghclient.Policy{Sleep: r.sleep, Now: r.now})
	}
	if rs != nil {
		p.HTTP = rs.Client()
		r.env["ACTIONS_RUNTIME_TOKEN"] = rs.Token
		r.env["ACTIONS_RESULTS_URL"] = rs.URL()
	}
	return p
}

func (r *runner) readSummary() string {
	r.t.Helper()
	b, err := os.ReadFile(r.summary)
	if err != nil {
		r.t.Fatal(err)
	}
	return string(b)
}

// outputs parses GITHUB_OUTPUT in the runner's heredoc format
// (name<<DELIMITER, value lines, DELIMITER) and fails on a key set twice.
func (r *runner) outputs() map[string]string {
	r.t.Helper()
	b, err := os.ReadFile(r.output)
	if err != nil {
		r.t.Fatal(err)
	}
	out := map[string]string{}
	lines := strings.Split(string(b), "\n")
	for i := 0; i < len(lines); i++ {
		if lines[i] == "" {
			continue
		}
		name, delim, ok := strings.Cut(lines[i], "<<")
		if !ok {
			r.t.Fatalf("GITHUB_OUTPUT line %d is not name<<delimiter: %q", i+1, lines[i])
		}
		var value []string
		for i++; i < len(lines) && lines[i] != delim; i++ {
			value = append(value, lines[i])
		}
		if i == len(lines) {
			r.t.Fatalf("output %s: delimiter %s never closes", name, delim)
		}
		if _, dup := out[name]; dup {
			r.t.Errorf("output %s set twice", name)
		}
		out[name] = strings.Join(value, "\n")
	}
	return out
}

// annotation is one workflow command the step printed.
type annotation struct {
	level   string
	props   map[string]string
	message string
}

func unescape(s string) string {
	return strings.NewReplacer("%0D", "\r", "%0A", "\n", "%3A", ":", "%2C", ",", "%25", "%").Replace(s)
}

// commands parses the ::level props::message lines the step printed.
func (r *runner) commands(levels ...string) []annotation {
	var out []annotation
	for _, line := range strings.Split(r.stdout.String(), "\n") {
		if !strings.HasPrefix(line, "::") {
			continue
		}
		head, msg, ok := strings.Cut(line[2:], "::")
		if !ok {
			continue
		}
		level, props, _ := strings.Cut(head, " ")
		if !slices.Contains(levels, level) {
			continue
		}
		a := annotation{level: level, props: map[string]string{}, message: unescape(msg)}
		if props != "" {
			for _, kv := range strings.Split(props, ",") {
				k, v, _ := strings.Cut(kv, "=")
				a.props[k] = unescape(v)
			}
		}
		out = append(out, a)
	}
	return out
}

// report builds a report with the given findings and reviewer statuses.
func report(round int, severities []review.Severity, statuses ...string) *review.Report {
	rep := &review.Report{
		Schema:  review.SchemaVersion,
		PR:      review.PR{Repo: "Codertocat/Hello-World", Number: 2, HeadSHA: fmt.Sprintf("%040d", round)},
		Round:   round,
		Verdict: review.Verdict{Decision: review.MergeWithFixes, Reason: "model words", DecidedBy: review.DecidedByRules},
	}
	counts := map[review.Severity]int{}
	for i, s := range severities {
		counts[s]++
		rep.Findings = append(rep.Findings, review.Finding{
			ID:          fmt.Sprintf("%s%d", s.IDPrefix(), counts[s]),
			Severity:    s,
			Title:       fmt.Sprintf("Finding %d drops the error", i),
			File:        fmt.Sprintf("pkg/file%d.go", i),
			StartLine:   10 + i,
			EndLine:     12 + i,
			Explanation: "The error from Close is ignored.",
			Reviewers:   []string{"Claude"},
			Status:      review.FindingNew,
		})
	}
	if len(statuses) == 0 {
		statuses = []string{review.StatusOK}
	}
	for i, st := range statuses {
		rep.Reviewers = append(rep.Reviewers, review.ReviewerStats{
			Name: fmt.Sprintf("Reviewer%d", i), Status: st,
			Tokens: review.Tokens{Input: 1000, CachedInput: 200, Output: 300}, CostUSD: 0.125,
		})
	}
	return rep
}

// commentBody is a sticky comment as the renderer writes it: the header
// line first, the marker naming the test PR last.
func commentBody(round int, text string) []byte {
	st := review.State{Round: round, HeadSHA: "abc", Repo: "Codertocat/Hello-World", Number: 2}
	return []byte(fmt.Sprintf("%sMerge as-is\n\n%s\n\n%s\n", review.CommentHeader(2, round), text, review.EncodeState(st)))
}

func (r *runner) input(rep *review.Report) Input {
	return Input{
		Report:   rep,
		OutDir:   r.outDir,
		Summary:  []byte(fmt.Sprintf("# deep-review round %d\n\nThe summary.\n", rep.Round)),
		Comment:  commentBody(rep.Round, "Findings."),
		Owner:    "Codertocat",
		Repo:     "Hello-World",
		Number:   2,
		BotLogin: botLogin,
		Options:  Options{Summary: true, Comment: true, Artifact: true, Annotations: true, FailOn: config.FailOnNever},
		RunURL:   "https://github.com/Codertocat/Hello-World/actions/runs/777",
	}
}

func publish(t *testing.T, p *Publisher, in Input) Result {
	t.Helper()
	res, err := p.Publish(context.Background(), in)
	if err != nil {
		t.Fatalf("Publish: %v", err)
	}
	return res
}

func TestPublishTwoRoundsKeepOneCommentEditedInPlace(t *testing.T) {
	gh, rs, r := newFakeGitHub(t), newFakeResults(t), newRunner(t)
	p := r.publisher(gh, rs)

	res1 := publish(t, p, r.input(report(1, []review.Severity{review.Important})))
	if len(res1.Problems) > 0 || res1.ExitCode != 0 {
		t.Fatalf("round 1: exit %d, problems %q", res1.ExitCode, res1.Problems)
	}
	first := gh.Comments()
	if len(first) != 1 || first[0].Login != botLogin {
		t.Fatalf("round 1 comments = %+v, want one by %s", first, botLogin)
	}
	wantURL := fmt.Sprintf("https://github.com/Codertocat/Hello-World/pull/2#issuecomment-%d", first[0].ID)
	if res1.CommentURL != wantURL {
		t.Errorf("round 1 CommentURL = %q, want %q", res1.CommentURL, wantURL)
	}

	r.writeOutDir(2)
	in2 := r.input(report(2, nil))
	in2.Comment = commentBody(2, "Nothing left.")
	res2 := publish(t, p, in2)
	if len(res2.Problems) > 0 || res2.ExitCode != 0 {
		t.Fatalf("round 2: exit %d, problems %q", res2.ExitCode, res2.Problems)
	}
	second := gh.Comments()
	if len(second) != 1 || second[0].ID != first[0].ID {
		t.Fatalf("round 2 comments = %+v, want comment %d edited in place", second, first[0].ID)
	}
	if second[0].Body != string(in2.Comment) {
		t.Errorf("comment body = %q, want the round 2 comment", second[0].Body)
	}
	if got := gh.CallCount("POST"); got != 1 {
		t.Errorf("created %d comments over two rounds, want 1", got)
	}
	if got := gh.CallCount("PATCH"); got != 1 {
		t.Errorf("edited %d times, want 1", got)
	}
	if res2.CommentURL != wantURL {
		t.Errorf("round 2 CommentURL = %q, want %q", res2.CommentURL, wantURL)
	}
	if want := []string{"deep-review-pr-2-round-1-attempt-1", "deep-review-pr-2-round-2-attempt-1"}; !slices.Equal(rs.Finalized, want) {
		t.Errorf("artifacts = %q, want %q", rs.Finalized, want)
	}

	summary := r.readSummary()
	if strings.Contains(summary, "round 1") || strings.Count(summary, "# deep-review round 2") != 1 {
		t.Errorf("step summary was not replaced by round 2's:\n%s", summary)
	}
	if !strings.Contains(summary, "## What happened") || !strings.Contains(summary, wantURL) {
		t.Errorf("summary lacks the What happened section with the comment link:\n%s", summary)
	}
	if gh.MaxInflight() > 1 {
		t.Errorf("%d GitHub requests ran at once, want one at a time", gh.MaxInflight())
	}
}

func TestPublishDeletesOurDuplicatesAndLeavesOthersAlone(t *testing.T) {
	gh, r := newFakeGitHub(t), newRunner(t)
	oldest := gh.Seed(2, botLogin, string(commentBody(1, "old")))
	for i := range 60 {
		gh.Seed(2, "octocat", fmt.Sprintf("comment %d", i))
	}
	mallory := gh.Seed(2, "mallory", string(commentBody(9, "a marker copied by someone else")))
	ci := gh.Seed(2, botLogin, "CI passed") // ours by login, but no marker
	for i := range 60 {
		gh.Seed(2, "hubot", fmt.Sprintf("later comment %d", i))
	}
	middle := gh.Seed(2, botLogin, string(commentBody(2, "duplicate from a concurrent run")))
	newest := gh.Seed(2, botLogin, string(commentBody(2, "newest")))

	in := r.input(report(3, nil))
	in.Options.Artifact = false
	res := publish(t, r.publisher(gh, nil), in)
	if len(res.Problems) > 0 {
		t.Fatalf("problems: %q", res.Problems)
	}
	byID := map[int64]fakegithub.Comment{}
	for _, c := range gh.Comments() {
		byID[c.ID] = c
	}
	for _, id := range []int64{oldest, middle} {
		if _, ok := byID[id]; ok {
			t.Errorf("duplicate %d of ours was not deleted", id)
		}
	}
	if c, ok := byID[newest]; !ok || c.Body != string(in.Comment) {
		t.Errorf("newest comment of ours %d was not edited in place: %+v", newest, c)
	}
	if c, ok := byID[mallory]; !ok || !strings.Contains(c.Body, "copied by someone else") {
		t.Errorf("mallory's marker comment was touched: %+v", c)
	}
	if _, ok := byID[ci]; !ok {
		t.Errorf("our comment without a marker was deleted")
	}
	if len(byID) != 123 {
		t.Errorf("%d comments left, want 123", len(byID))
	}
	if got := gh.CallCount("GET"); got != 2 {
		t.Errorf("listed %d pages, want 2 (124 comments at 100 a page)", got)
	}
	// Three mutations, each at least a second after the previous one.
	if gaps := count(r.sleeps, ghclient.DefaultMutationGap); gaps != 2 {
		t.Errorf("sleeps = %v, want two %v gaps between three mutations", r.sleeps, ghclient.DefaultMutationGap)
	}
}

func count(ds []time.Duration, d time.Duration) int {
	n := 0
	for _, x := range ds {
		if x == d {
			n++
		}
	}
	return n
}

func TestPublishSurvivesRateLimitsAndServerErrors(t *testing.T) {
	gh, r := newFakeGitHub(t), newRunner(t)
	gh.Fail("POST", "", fakegithub.SecondaryRateLimit, fakegithub.BadGateway, fakegithub.TooManyRequests)
	gh.Fail("GET", "", fakegithub.BadGateway)

	in := r.input(report(1, nil))
	in.Options.Artifact = false
	res := publish(t, r.publisher(gh, nil), in)
	if len(res.Problems) > 0 || res.CommentURL == "" {
		t.Fatalf("problems %q, comment URL %q", res.Problems, res.CommentURL)
	}
	if got := len(gh.Comments()); got != 1 {
		t.Errorf("%d comments, want exactly 1", got)
	}
	if got := gh.CallCount("POST"); got != 4 {
		t.Errorf("%d create attempts, want 4 (403, 502, 429, 201)", got)
	}
	if !slices.Contains(r.sleeps, 7*time.Second) {
		t.Errorf("sleeps = %v, want the 429's Retry-After of 7s honoured", r.sleeps)
	}
	if len(r.sleeps) != 4 {
		t.Errorf("sleeps = %v, want one wait per retry (4)", r.sleeps)
	}
}

func TestPublishGivesUpOnEndlessServerErrors(t *testing.T) {
	gh, r := newFakeGitHub(t), newRunner(t)
	for range ghclient.DefaultAttempts {
		gh.Fail("POST", "", fakegithub.BadGateway)
	}
	in := r.input(report(1, nil))
	in.Options.Artifact = false
	res := publish(t, r.publisher(gh, nil), in)
	if got := gh.CallCount("POST"); got != ghclient.DefaultAttempts {
		t.Errorf("%d create attempts, want %d", got, ghclient.DefaultAttempts)
	}
	if len(res.Problems) != 1 || !strings.Contains(res.Problems[0], "gave up") {
		t.Errorf("problems = %q, want one saying it gave up", res.Problems)
	}
	if res.ExitCode != 0 {
		t.Errorf("exit %d, want 0: the summary was still published", res.ExitCode)
	}
	errs := r.commands("error")
	if len(errs) != 1 || !strings.Contains(errs[0].message, "sticky comment") {
		t.Errorf("::error commands = %+v, want one for the comment", errs)
	}
	if s := r.readSummary(); !strings.Contains(s, "**Failed**: sticky comment") {
		t.Errorf("summary does not say the comment failed:\n%s", s)
	}
}

func TestPublishRendersShorterCommentWhenTooLong(t *testing.T) {
	for _, tc := range []struct {
		name      string
		shorter   int // characters of the re-rendered comment
		wantShort bool
	}{
		{name: "the shorter comment is posted", shorter: 100, wantShort: true},
		{name: "a shorter comment still too long is an error", shorter: 70000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			gh, r := newFakeGitHub(t), newRunner(t)
			in := r.input(report(1, nil))
			in.Options.Artifact = false
			in.Comment = commentBody(1, strings.Repeat("é", 70000))
			var budgets []int
			short := commentBody(1, strings.Repeat("s", tc.shorter))
			in.ShorterComment = func(maxChars int) []byte {
				budgets = append(budgets, maxChars)
				return short
			}
			res := publish(t, r.publisher(gh, nil), in)
			if !slices.Equal(budgets, []int{60000}) {
				t.Errorf("ShorterComment budgets = %v, want [60000] (called once)", budgets)
			}
			cs := gh.Comments()
			if tc.wantShort {
				if len(cs) != 1 || cs[0].Body != string(short) || len(res.Problems) > 0 {
					t.Errorf("comments %d, problems %q; want the shorter body posted", len(cs), res.Problems)
				}
				if gh.TooLongRefused() != 1 {
					t.Errorf("GitHub rejected %d bodies, want 1", gh.TooLongRefused())
				}
				return
			}
			if len(cs) != 0 || gh.TooLongRefused() != 2 {
				t.Errorf("comments %d, rejections %d; want none posted after two rejections", len(cs), gh.TooLongRefused())
			}
			if len(res.Problems) != 1 || !strings.Contains(res.Problems[0], "body is too long") {
				t.Errorf("problems = %q, want GitHub's reason", res.Problems)
			}
		})
	}
}

func TestPublishUploadsZipOfOutDir(t *testing.T) {
	for _, snake := range []bool{false, true} {
		t.Run(fmt.Sprintf("snake_case replies %v", snake), func(t *testing.T) {
			gh, rs, r := newFakeGitHub(t), newFakeResults(t), newRunner(t)
			rs.Snake = snake
			rs.FailCreates = 1
			res := publish(t, r.publisher(gh, rs), r.input(report(1, nil)))
			if len(res.Problems) > 0 {
				t.Fatalf("problems: %q", res.Problems)
			}
			if len(rs.Uploads) != 1 || len(rs.Finalized) != 1 {
				t.Fatalf("uploads %d, finalized %d; want 1 each", len(rs.Uploads), len(rs.Finalized))
			}
			if rs.BlockPuts < 2 {
				t.Errorf("%d blocks, want several at a 1 KiB block size", rs.BlockPuts)
			}
			assertZipOfDir(t, rs.Uploads[0], r.outDir)
			for _, a := range rs.BlobAuth {
				if a != "" {
					t.Errorf("blob store got an Authorization header")
				}
			}
			want := "https://github.com/Codertocat/Hello-World/actions/runs/777/artifacts/4242"
			if res.ArtifactURL != want {
				t.Errorf("ArtifactURL = %q, want %q", res.ArtifactURL, want)
			}
			if got := r.outputs()["artifact-url"]; got != want {
				t.Errorf("artifact-url output = %q, want %q", got, want)
			}
			if !slices.Contains(r.sleeps, time.Second) {
				t.Errorf("sleeps = %v, want a 1s backoff after the 500", r.sleeps)
			}

			// The signed URL is masked before use and appears nowhere else.
			masked := false
			for _, line := range strings.Split(r.stdout.String(), "\n") {
				if strings.HasPrefix(line, "::add-mask::") && strings.Contains(line, fakeresults.BlobSig) {
					masked = true
					continue
				}
				if strings.Contains(line, fakeresults.BlobSig) {
					t.Errorf("signed URL printed: %q", line)
				}
			}
			if !masked {
				t.Errorf("signed URL never masked; stdout:\n%s", r.stdout.String())
			}
			for name, s := range map[string]string{"log": r.log.String(), "summary": r.readSummary(), "outputs": fmt.Sprint(r.outputs())} {
				if strings.Contains(s, fakeresults.BlobSig) {
					t.Errorf("signed URL leaked into the %s", name)
				}
				if strings.Contains(s, rs.Token) {
					t.Errorf("runtime token leaked into the %s", name)
				}
			}
		})
	}
}

// assertZipOfDir checks that data is a zip holding exactly the files of dir.
func assertZipOfDir(t *testing.T, data []byte, dir string) {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatalf("upload is not a zip: %v", err)
	}
	got := map[string][]byte{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		got[f.Name] = b
	}
	want := map[string][]byte{}
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		b, _ := os.ReadFile(p)
		want[filepath.ToSlash(rel)] = b
		return nil
	})
	if len(got) != len(want) {
		t.Errorf("zip holds %d files, out dir %d", len(got), len(want))
	}
	for name, b := range want {
		if !bytes.Equal(got[name], b) {
			t.Errorf("zip entry %s differs from the out dir's file", name)
		}
	}
}

func TestPublishRetriesArtifactNameCollisionNever(t *testing.T) {
	// A re-run of the same round gets a new attempt number and so a new name.
	rs, r := newFakeResults(t), newRunner(t)
	p := r.publisher(nil, rs)
	in := r.input(report(1, nil))
	in.Options.Comment = false
	publish(t, p, in)
	r.env["GITHUB_RUN_ATTEMPT"] = "2"
	res := publish(t, p, in)
	if len(res.Problems) > 0 {
		t.Fatalf("problems on re-run: %q", res.Problems)
	}
	if want := []string{"deep-review-pr-2-round-1-attempt-1", "deep-review-pr-2-round-1-attempt-2"}; !slices.Equal(rs.Finalized, want) {
		t.Errorf("artifacts = %q, want %q", rs.Finalized, want)
	}
}

func TestPublishSkipsArtifactWithoutRuntimeToken(t *testing.T) {
	r := newRunner(t)
	in := r.input(report(1, nil))
	in.Options.Comment = false
	res := publish(t, r.publisher(nil, nil), in)
	if res.ExitCode != 0 || len(res.Problems) > 0 {
		t.Fatalf("exit %d, problems %q; a skip is not a failure", res.ExitCode, res.Problems)
	}
	notices := r.commands("notice")
	if len(notices) != 1 || !strings.Contains(notices[0].message, r.outDir) || !strings.Contains(notices[0].message, "actions/upload-artifact") {
		t.Errorf("notices = %+v, want one naming %s and actions/upload-artifact", notices, r.outDir)
	}
	if r.outputs()["artifact-url"] != "" {
		t.Errorf("artifact-url set without an upload")
	}
}

func TestPublishExitCode(t *testing.T) {
	crit, imp, sug := review.Critical, review.Important, review.Suggestion
	for _, tc := range []struct {
		name     string
		failOn   config.FailOn
		findings []review.Severity
		statuses []string
		want     int
		reason   string
	}{
		{name: "fail-on never passes with a critical finding", failOn: config.FailOnNever, findings: []review.Severity{crit}, want: 0},
		{name: "an empty fail-on means never", failOn: "", findings: []review.Severity{crit}, want: 0},
		{name: "fail-on critical fails on a critical finding", failOn: config.FailOnCritical, findings: []review.Severity{crit, sug}, want: 1, reason: "fail-on is critical"},
		{name: "fail-on critical passes on important findings", failOn: config.FailOnCritical, findings: []review.Severity{imp, sug}, want: 0},
		{name: "fail-on important fails on an important finding", failOn: config.FailOnImportant, findings: []review.Severity{imp}, want: 1, reason: "fail-on is important"},
		{name: "fail-on important fails on a critical finding", failOn: config.FailOnImportant, findings: []review.Severity{crit}, want: 1, reason: "fail-on is important"},
		{name: "fail-on important passes on suggestions", failOn: config.FailOnImportant, findings: []review.Severity{sug, sug}, want: 0},
		{name: "an unknown fail-on fails and says so", failOn: "always", want: 1, reason: `fail-on "always"`},
		{name: "every reviewer failed", failOn: config.FailOnNever, statuses: []string{review.StatusFailed, review.StatusTimedOut}, want: 1, reason: "every reviewer failed"},
		{name: "one reviewer of two failed", failOn: config.FailOnNever, statuses: []string{review.StatusFailed, review.StatusOK}, want: 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRunner(t)
			in := r.input(report(1, tc.findings, tc.statuses...))
			in.Options = Options{Summary: true, FailOn: tc.failOn}
			res := publish(t, r.publisher(nil, nil), in)
			if res.ExitCode != tc.want {
				t.Errorf("exit %d, want %d (problems %q)", res.ExitCode, tc.want, res.Problems)
			}
			if tc.reason == "" {
				return
			}
			errs := r.commands("error")
			if len(errs) != 1 || !strings.Contains(errs[0].message, tc.reason) {
				t.Errorf("::error commands = %+v, want one containing %q", errs, tc.reason)
			}
			if s := r.readSummary(); !strings.Contains(s, tc.reason) {
				t.Errorf("summary does not give the reason %q:\n%s", tc.reason, s)
			}
		})
	}
}

func TestPublishFailsWhenNothingCouldBePublished(t *testing.T) {
	gh, r := newFakeGitHub(t), newRunner(t)
	gh.Fail("POST", "", fakegithub.NotAccessible)
	in := r.input(report(1, nil))
	in.Options = Options{Comment: true}
	res := publish(t, r.publisher(gh, nil), in)
	if res.ExitCode != 1 {
		t.Errorf("exit %d, want 1", res.ExitCode)
	}
	errs := r.commands("error")
	if len(errs) != 2 || !strings.Contains(errs[0].message, "Resource not accessible by integration") || !strings.Contains(errs[1].message, "nothing could be published") {
		t.Errorf("::error commands = %+v, want the comment's reason and then nothing published", errs)
	}
}

func TestPublishReplacesOversizedSummaryWithNote(t *testing.T) {
	r := newRunner(t)
	in := r.input(report(1, nil))
	in.Options = Options{Summary: true}
	in.Summary = bytes.Repeat([]byte("x"), MaxSummaryBytes+1)
	res := publish(t, r.publisher(nil, nil), in)
	s := r.readSummary()
	if len(s) > MaxSummaryBytes || strings.Contains(s, "xxxx") {
		t.Errorf("summary is %d bytes, want the short note instead of the report", len(s))
	}
	if !strings.Contains(s, "too large for a job summary") || !strings.Contains(s, r.outDir) {
		t.Errorf("summary note does not explain:\n%s", s)
	}
	if len(res.Problems) != 1 || !strings.Contains(res.Problems[0], "limit") {
		t.Errorf("problems = %q, want one about the limit", res.Problems)
	}
}

func TestPublishAnnotatesTopFindings(t *testing.T) {
	r := newRunner(t)
	var sev []review.Severity
	for range 12 {
		sev = append(sev, review.Critical)
	}
	sev = append(sev, review.Important, review.Suggestion, review.Important)
	rep := report(1, sev)
	rep.Findings[0].Explanation = strings.Repeat("ü", 5000)
	rep.Findings[1].Title = "Close: errors, lost"
	rep.Findings = append(rep.Findings, review.Finding{ID: "S9", Severity: review.Suggestion, Title: "declined", Status: review.FindingDeclined})
	in := r.input(rep)
	in.Options = Options{Annotations: true}
	publish(t, r.publisher(nil, nil), in)

	got := map[string]int{}
	var more []annotation
	for _, a := range r.commands("error", "warning", "notice") {
		if a.props["file"] == "" {
			more = append(more, a)
			continue
		}
		got[a.level]++
		if n := utf8.RuneCountInString(a.message); n > maxAnnotationChars {
			t.Errorf("annotation message is %d characters, over %d", n, maxAnnotationChars)
		}
	}
	if want := map[string]int{"error": 10, "warning": 2, "notice": 1}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("annotations by level = %v, want %v", got, want)
	}
	if len(more) != 1 || more[0].level != "notice" || !strings.Contains(more[0].message, "2 more") {
		t.Errorf("summary annotations = %+v, want one notice counting 2 more", more)
	}
	first := r.commands("error")[0]
	want := map[string]string{"file": "pkg/file0.go", "line": "10", "endLine": "12", "title": "C1: Finding 0 drops the error"}
	if fmt.Sprint(first.props) != fmt.Sprint(want) {
		t.Errorf("first annotation fields = %v, want %v", first.props, want)
	}
	if second := r.commands("error")[1]; second.props["title"] != "C2: Close: errors, lost" {
		t.Errorf("title with : and , = %q, want it escaped and restored", second.props["title"])
	}
}

func TestPublishOutputsOnlyEnumsNumbersPathsAndURLs(t *testing.T) {
	r := newRunner(t)
	rep := report(3, []review.Severity{review.Critical, review.Important, review.Important, review.Suggestion})
	rep.Verdict.Decision = "merge\n_GitHubActionsFileCommandDelimeter_\nevil=1"
	in := r.input(rep)
	in.Options = Options{Summary: true}
	publish(t, r.publisher(nil, nil), in)
	want := map[string]string{
		"verdict":         "",
		"critical":        "1",
		"important":       "2",
		"suggestions":     "1",
		"round":           "3",
		"report-json":     filepath.Join(r.outDir, "report.json"),
		"report-markdown": filepath.Join(r.outDir, "report.md"),
		"comment-url":     "",
		"artifact-url":    "",
		"review-url":      "",
		"inline-comments": "",
		"tokens":          "1500",
		"cost-usd":        "0.1250",
	}
	if got := r.outputs(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("outputs =\n%v\nwant\n%v", got, want)
	}

	rep.Verdict.Decision = review.Rework
	r2 := newRunner(t)
	publish(t, r2.publisher(nil, nil), r2.input(rep))
	if got := r2.outputs()["verdict"]; got != "rework" {
		t.Errorf("verdict output = %q, want rework", got)
	}
}

func TestPublishOutsideActionsWritesNothingAndSucceeds(t *testing.T) {
	r := newRunner(t)
	r.env = map[string]string{}
	res := publish(t, r.publisher(nil, nil), r.input(report(1, nil)))
	if res.ExitCode != 0 || len(res.Problems) > 0 {
		t.Errorf("exit %d, problems %q; want a clean local run", res.ExitCode, res.Problems)
	}
	if s := r.readSummary(); s != "" {
		t.Errorf("summary written without GITHUB_STEP_SUMMARY: %q", s)
	}
}

func TestPublishRejectsMissingReport(t *testing.T) {
	r := newRunner(t)
	if _, err := r.publisher(nil, nil).Publish(context.Background(), Input{}); err == nil {
		t.Error("Publish without a report succeeded")
	}
}

func TestPublishRendersCommentWithArtifactLink(t *testing.T) {
	gh, rs, r := newFakeGitHub(t), newFakeResults(t), newRunner(t)
	in := r.input(report(1, nil))
	in.Comment = nil
	var calls []string
	in.RenderComment = func(links review.Links, maxChars int) []byte {
		calls = append(calls, fmt.Sprintf("%s %s %d", links.Run, links.Artifact, maxChars))
		if maxChars == 0 {
			return commentBody(1, strings.Repeat("x", 70000))
		}
		return commentBody(1, "artifact: "+links.Artifact)
	}
	res := publish(t, r.publisher(gh, rs), in)
	if len(res.Problems) > 0 {
		t.Fatalf("problems: %q", res.Problems)
	}
	const run, artifact = "https://github.com/Codertocat/Hello-World/actions/runs/777", "https://github.com/Codertocat/Hello-World/actions/runs/777/artifacts/4242"
	want := []string{run + " " + artifact + " 0", run + " " + artifact + " 60000"}
	if !slices.Equal(calls, want) {
		t.Errorf("RenderComment calls = %q, want %q", calls, want)
	}
	if cs := gh.Comments(); len(cs) != 1 || !strings.Contains(cs[0].Body, "artifact: "+artifact) {
		t.Errorf("comment does not link the artifact: %+v", cs)
	}
}

func TestPublishArtifactRetriesBlobFailuresWithoutLeakingTheURL(t *testing.T) {
	for _, tc := range []struct {
		name   string
		fails  []int
		wantOK bool
	}{
		{name: "a 503 and a dropped connection are retried", fails: []int{http.StatusServiceUnavailable, 0}, wantOK: true},
		{name: "a 403 is not retried", fails: []int{http.StatusForbidden}},
		{name: "dropped connections give up after the bound", fails: []int{0, 0, 0, 0, 0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rs, r := newFakeResults(t), newRunner(t)
			rs.BlobFails = tc.fails
			in := r.input(report(1, nil))
			in.Options = Options{Artifact: true, Summary: true}
			res := publish(t, r.publisher(nil, rs), in)
			if ok := len(res.Problems) == 0; ok != tc.wantOK {
				t.Fatalf("problems = %q, want success %v", res.Problems, tc.wantOK)
			}
			if tc.wantOK {
				assertZipOfDir(t, rs.Uploads[0], r.outDir)
			} else if len(rs.Finalized) != 0 {
				t.Errorf("finalized after a failed upload")
			}
			for name, s := range map[string]string{"log": r.log.String(), "summary": r.readSummary(), "problems": fmt.Sprint(res.Problems)} {
				if strings.Contains(s, fakeresults.BlobSig) {
					t.Errorf("signed URL leaked into the %s: %s", name, s)
				}
			}
		})
	}
}

func TestPublishReportsArtifactNameCollision(t *testing.T) {
	rs, r := newFakeResults(t), newRunner(t)
	rs.Names = []string{"deep-review-pr-2-round-1-attempt-1"}
	in := r.input(report(1, nil))
	in.Options = Options{Artifact: true, Summary: true}
	res := publish(t, r.publisher(nil, rs), in)
	if len(res.Problems) != 1 || !strings.Contains(res.Problems[0], "HTTP 409: already_exists") {
		t.Errorf("problems = %q, want the 409 already_exists", res.Problems)
	}
	if len(r.sleeps) != 0 {
		t.Errorf("a 409 was retried: sleeps %v", r.sleeps)
	}
}

func TestPublishCreatesACommentWhenOursVanished(t *testing.T) {
	gh, r := newFakeGitHub(t), newRunner(t)
	gone := gh.Seed(2, botLogin, string(commentBody(1, "deleted by a maintainer mid-run")))
	gh.Fail("PATCH", "", fakegithub.Fault{Status: http.StatusNotFound, Body: `{"message":"Not Found","documentation_url":"https://docs.github.com/rest/issues/comments#update-an-issue-comment","status":"404"}`})
	in := r.input(report(2, nil))
	in.Options = Options{Comment: true}
	res := publish(t, r.publisher(gh, nil), in)
	if len(res.Problems) > 0 {
		t.Fatalf("problems: %q", res.Problems)
	}
	cs := gh.Comments()
	if len(cs) != 2 || cs[1].ID == gone || cs[1].Body != string(in.Comment) {
		t.Errorf("comments = %+v, want a new comment with the round 2 body", cs)
	}
}
