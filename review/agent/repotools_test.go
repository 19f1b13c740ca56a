package agent

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/deepreview/deep-review/review"
	"github.com/deepreview/deep-review/review/git"
)

func TestConfinement(t *testing.T) {
	t.Parallel()
	pr := fixture(t)
	writeFile(t, pr.Dir, "gha-creds.json", secret)
	if err := syscall.Mkfifo(filepath.Join(pr.Dir, "fifo"), 0o644); err != nil {
		t.Fatal(err)
	}
	tools := RepoTools(pr)
	read := tool(t, tools, ToolReadFile)
	cases := []struct {
		name    string
		path    string
		refused string // a phrase of the refusal, or "" when the read succeeds
		want    string // a phrase of a successful read
	}{
		{"a plain file is read", "main.go", "", `fmt.Println("hello, reviewer")`},
		{"a ./ prefix is cleaned", "./lib/util.go", "", "func Add"},
		{"a .. that stays inside is cleaned", "lib/../main.go", "", "package main"},
		{"an absolute path is refused", "/etc/passwd", "is absolute", ""},
		{"an absolute path into the checkout is refused", filepath.Join(pr.Dir, "main.go"), "is absolute", ""},
		{"a Windows drive path is refused", `C:\Windows\win.ini`, "is absolute", ""},
		{"a .. escape is refused", "../outside/secret.txt", "leaves the repository", ""},
		{"a deep .. escape is refused", "lib/../../outside/secret.txt", "leaves the repository", ""},
		{"a backslash .. escape is refused", `..\outside\secret.txt`, "leaves the repository", ""},
		{".git/config is refused", ".git/config", "inside .git", ""},
		{".git itself is refused", ".git", "inside .git", ""},
		{".GIT in another case is refused", ".GIT/config", "inside .git", ""},
		{".git reached through .. is refused", "lib/../.git/config", "inside .git", ""},
		{"a nested .git is refused", "vendor/x/.git/config", "inside .git", ""},
		{"a .git with a trailing dot is refused", ".git./config", "inside .git", ""},
		{"an absolute symlink out of the repository is refused", "abs-out", "points outside the repository", ""},
		{"a relative symlink out of the repository is refused", "rel-out", "points outside the repository", ""},
		{"a symlink to .git/config is refused", "cfg", "symlink into .git", ""},
		{"a path through a symlink to .git is refused", "gitdir/config", "symlink into .git", ""},
		{"a path through a symlinked directory outside is refused", "outdir/secret.txt", "points outside the repository", ""},
		{"a symlink loop is refused", "loop-a", "symlink loop", ""},
		{"a symlink inside the repository is read", "inside", "", "[inside is a symlink to lib/util.go]\n   1\tpackage lib"},
		{"a path through a symlinked directory inside is read", "libdir/util.go", "", "func Add"},
		{"a .git hidden by a zero-width joiner is refused", ".g\u200cit/config", "inside .git", ""},
		{"an untracked file a workflow step wrote is unreachable", "gha-creds.json", "does not exist at the PR head", ""},
		{"a FIFO in the checkout is unreachable", "fifo", "does not exist at the PR head", ""},
		{"a file under a file is refused", "main.go/x", "not a directory", ""},
		{"a missing file says so", "nope.go", "does not exist", ""},
		{"a directory says to list it", "lib", "is a directory", ""},
		{"an empty path is refused", "", "path is empty", ""},
		{"the root is refused", ".", "repository root", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			args := fmt.Sprintf(`{"path": %q, "start": null, "end": null}`, c.path)
			got, isErr := call(t, read, args)
			if strings.Contains(got, secret) || strings.Contains(got, "extraheader") {
				t.Fatalf("read_file(%q) leaked the secret: %q", c.path, got)
			}
			if !strings.Contains(c.path, pr.Dir) && strings.Contains(got, pr.Dir) {
				t.Errorf("read_file(%q) shows the checkout's absolute path: %q", c.path, got)
			}
			if c.refused != "" {
				if !isErr || !strings.Contains(got, c.refused) {
					t.Errorf("read_file(%q) = %q (error %v), want an error result containing %q", c.path, got, isErr, c.refused)
				}
				return
			}
			if isErr || !strings.Contains(got, c.want) {
				t.Errorf("read_file(%q) = %q (error %v), want content containing %q", c.path, got, isErr, c.want)
			}
		})
	}
}

// TestConfinementOtherTools checks that the other path-taking tools refuse
// what read_file refuses and never print the secret.
func TestConfinementOtherTools(t *testing.T) {
	t.Parallel()
	pr := fixture(t)
	tools := RepoTools(pr)
	for _, name := range []string{ToolBlame, ToolShowBase, ToolGitLog, ToolDiff} {
		for _, p := range []string{"/etc/passwd", "../outside/secret.txt", ".git/config", "a/../.GIT/config"} {
			got, isErr := call(t, tool(t, tools, name), fmt.Sprintf(`{"path": %q}`, p))
			if !isErr {
				t.Errorf("%s(%q) = %q, want an error result", name, p, got)
			}
			if strings.Contains(got, secret) {
				t.Errorf("%s(%q) leaked the secret", name, p)
			}
		}
	}
	// grep reads every tracked file: the links out and into .git are
	// skipped, so the secret never shows.
	got, _ := call(t, tool(t, tools, ToolGrep), `{"pattern": "SECRET|xtrahead", "glob": null}`)
	if strings.Contains(got, secret) || strings.Contains(got, "AUTHORIZATION") {
		t.Fatalf("grep leaked the secret: %q", got)
	}
	if !strings.Contains(got, "No matches") || !strings.Contains(got, "1 binary or very large files not searched") {
		t.Errorf("grep = %q, want no matches and a note of the skipped files", got)
	}
}

// commitAll commits the working tree as a PR commit and moves the head.
func commitAll(t *testing.T, pr *review.PR, subject string) {
	t.Helper()
	gitRun(t, pr.Dir, prEnv, "add", "-A")
	gitRun(t, pr.Dir, prEnv, "commit", "-q", "-m", subject)
	pr.HeadSHA = gitRun(t, pr.Dir, prEnv, "rev-parse", "HEAD")
}

func TestReadFile(t *testing.T) {
	t.Parallel()
	pr := fixture(t)
	writeFile(t, pr.Dir, "huge.txt", strings.Repeat("x", maxFileBytes+1))
	var b strings.Builder
	for i := 1; i <= 3000; i++ {
		fmt.Fprintf(&b, "line %d %s\n", i, strings.Repeat("y", 40))
	}
	writeFile(t, pr.Dir, "long.txt", b.String())
	commitAll(t, pr, "Add large files")
	// The working tree differs from the head: the tools read the head.
	writeFile(t, pr.Dir, "main.go", "package changed\n")
	read := tool(t, RepoTools(pr), ToolReadFile)

	got, _ := call(t, read, `{"path": "main.go", "start": 6, "end": 7}`)
	want := "   6\t\tfmt.Println(\"hello, reviewer\")\n   7\t\tfmt.Println(helper())\n[lines 6-7 of 12; the next start is 8]\n"
	if got != want {
		t.Errorf("read_file range:\ngot  %q\nwant %q", got, want)
	}
	got, _ = call(t, read, `{"path": "main.go", "start": null, "end": null}`)
	if !strings.HasPrefix(got, "   1\tpackage main\n") || !strings.HasSuffix(got, "  12\t}\n") {
		t.Errorf("read_file whole = %q", got)
	}
	got, _ = call(t, read, `{"path": "main.go", "start": 11, "end": 500}`)
	if got != "  11\t\treturn 1\n  12\t}\n[lines 11-12 of 12]\n" {
		t.Errorf("read_file past the end = %q, want it clamped to the last line", got)
	}
	for args, want := range map[string]string{
		`{"path": "main.go", "start": 0, "end": null}`:  "numbered from 1",
		`{"path": "main.go", "start": 5, "end": 3}`:     "before start",
		`{"path": "main.go", "start": 50, "end": null}`: "has 12 lines",
		`{"path": "main.go", "start": "1"}`:             "start: got a JSON string, want an integer",
		`{"path": "main.go", "lines": 3}`:               `"lines" is not a parameter`,
		`{"path": `:                                     "not valid JSON",
	} {
		got, isErr := call(t, read, args)
		if !isErr || !strings.Contains(got, want) {
			t.Errorf("read_file(%s) = %q, want an error result containing %q", args, got, want)
		}
	}

	got, isErr := call(t, read, `{"path": "bin.dat"}`)
	if isErr || !strings.Contains(got, "binary file") || strings.Contains(got, "PK") {
		t.Errorf("read_file(binary) = %q, want a summary", got)
	}

	// A huge file gets a summary; a long one is cut with a note.
	got, _ = call(t, read, `{"path": "huge.txt"}`)
	if !strings.Contains(got, "large file") || len(got) > 500 {
		t.Errorf("read_file(huge) = %.200q, want a short summary", got)
	}
	got, _ = call(t, read, `{"path": "long.txt"}`)
	if len(got) > maxReadBytes+100 {
		t.Errorf("read_file(long) returned %d bytes, over the cap", len(got))
	}
	last := strings.Split(strings.TrimSpace(got), "\n")
	note := last[len(last)-1]
	var cut, after, of, from int
	if _, err := fmt.Sscanf(note, "[cut at %d bytes after line %d of %d; to read on, call again with start %d]", &cut, &after, &of, &from); err != nil || of != 3000 || from != after+1 {
		t.Fatalf("read_file(long) ends with %q, want a cut note", note)
	}
	if prev := last[len(last)-2]; !strings.HasPrefix(strings.TrimSpace(prev), fmt.Sprint(from-1)+"\t") {
		t.Errorf("the note asks for lines from %d but the last line shown is %q", from, prev)
	}
	got, _ = call(t, read, fmt.Sprintf(`{"path": "long.txt", "start": %d, "end": null}`, from))
	if !strings.HasPrefix(strings.TrimSpace(got), fmt.Sprint(from)+"\tline ") {
		t.Errorf("asking for the rest starts with %.40q", got)
	}
}

func TestReadFileSaysWhenTheLastLineHasNoNewline(t *testing.T) {
	t.Parallel()
	pr := fixture(t)
	writeFile(t, pr.Dir, "open.txt", "one\ntwo")
	commitAll(t, pr, "Add a file without a final newline")
	read := tool(t, RepoTools(pr), ToolReadFile)
	got, _ := call(t, read, `{"path": "open.txt", "start": null, "end": null}`)
	if want := "   1\tone\n   2\ttwo\n[no newline at end of file after line 2]\n"; got != want {
		t.Errorf("read_file = %q, want %q", got, want)
	}
	got, _ = call(t, read, `{"path": "open.txt", "start": 1, "end": 1}`)
	if strings.Contains(got, "no newline") {
		t.Errorf("read_file of line 1 = %q: the note belongs to the last line only", got)
	}
	got, _ = call(t, read, `{"path": "main.go", "start": null, "end": null}`)
	if strings.Contains(got, "no newline") {
		t.Errorf("read_file of a file with a final newline = %q", got)
	}
}

func TestGrepContext(t *testing.T) {
	t.Parallel()
	pr := fixture(t)
	writeFile(t, pr.Dir, "ctx.txt", "a\nb\nHIT 1\nc\nHIT 2\nd\ne\nf\ng\nHIT 3\nh\n")
	commitAll(t, pr, "Add a file to grep")
	grep := tool(t, RepoTools(pr), ToolGrep)
	got, isErr := call(t, grep, `{"pattern": "HIT", "glob": "ctx.txt", "context": 1}`)
	want := "ctx.txt-2-b\nctx.txt:3:HIT 1\nctx.txt-4-c\nctx.txt:5:HIT 2\nctx.txt-6-d\n--\nctx.txt-9-g\nctx.txt:10:HIT 3\nctx.txt-11-h\n"
	if isErr || got != want {
		t.Errorf("grep with context 1:\ngot  %q\nwant %q", got, want)
	}
	got, _ = call(t, grep, `{"pattern": "HIT", "glob": "ctx.txt", "context": null}`)
	if want := "ctx.txt:3:HIT 1\nctx.txt:5:HIT 2\nctx.txt:10:HIT 3\n"; got != want {
		t.Errorf("grep without context = %q, want %q", got, want)
	}
	got, _ = call(t, grep, `{"pattern": "HIT", "glob": "ctx.txt", "context": 1000}`)
	if !strings.HasPrefix(got, "ctx.txt-1-a\n") || strings.Count(got, "\n") != 11 {
		t.Errorf("grep with a huge context = %q, want it capped at the file", got)
	}
	if got, isErr := call(t, grep, `{"pattern": "HIT", "glob": null, "context": -1}`); !isErr || !strings.Contains(got, "context is -1") {
		t.Errorf("grep with a negative context = %q", got)
	}
}

func TestGrepAndListFiles(t *testing.T) {
	t.Parallel()
	pr := fixture(t)
	var b strings.Builder
	for range maxGrepMatches + 50 {
		b.WriteString("needle\n")
	}
	writeFile(t, pr.Dir, "many.txt", b.String())
	commitAll(t, pr, "Add many needles")
	tools := RepoTools(pr)
	grep, list := tool(t, tools, ToolGrep), tool(t, tools, ToolList)

	got, _ := call(t, grep, `{"pattern": "func \\w+\\(", "glob": "*.go"}`)
	want := "lib/util.go:4:func Add(a, b int) int { return a + b }\nmain.go:5:func main() {\nmain.go:10:func helper() int {\nnew.go:4:func newThing() {}\n"
	if got != want {
		t.Errorf("grep *.go:\ngot  %q\nwant %q", got, want)
	}
	got, _ = call(t, grep, `{"pattern": "func", "glob": "lib/**"}`)
	if got != "lib/util.go:4:func Add(a, b int) int { return a + b }\n" {
		t.Errorf("grep lib/** = %q", got)
	}
	if got, isErr := call(t, grep, `{"pattern": "(", "glob": null}`); !isErr || !strings.Contains(got, "not a valid RE2") {
		t.Errorf("grep with a bad pattern = %q", got)
	}
	if got, isErr := call(t, grep, `{"pattern": "x", "glob": "[a-"}`); !isErr || !strings.Contains(got, "not a valid pattern") {
		t.Errorf("grep with a bad glob = %q", got)
	}
	// Untracked files are not searched.
	writeFile(t, pr.Dir, "untracked.go", "func hidden() {}\n")
	if got, _ := call(t, grep, `{"pattern": "hidden", "glob": null}`); strings.Contains(got, "untracked.go") {
		t.Errorf("grep searched an untracked file: %q", got)
	}
	// Reading the blobs one per batch finds the same lines.
	small := &repo{pr: pr, git: git.Repo{Dir: pr.Dir}, grepBatch: 1}
	for _, args := range []string{`{"pattern": "func \\w+\\(", "glob": "*.go"}`, `{"pattern": "needle", "glob": null}`} {
		want, _ := call(t, grep, args)
		if got, _ := call(t, small.grepTool(), args); got != want {
			t.Errorf("grep(%s) in batches of one file:\ngot  %.300q\nwant %.300q", args, got, want)
		}
	}
	// The match cap holds and says so.
	got, _ = call(t, grep, `{"pattern": "needle", "glob": null}`)
	if n := strings.Count(got, ":needle\n"); n != maxGrepMatches || !strings.Contains(got, "narrow the pattern") {
		t.Errorf("grep returned %d matches (want %d) and note? %v", n, maxGrepMatches, strings.Contains(got, "narrow"))
	}

	got, _ = call(t, list, `{"glob": "*.go"}`)
	if got != "lib/util.go\nmain.go\nnew.go\n" {
		t.Errorf("list_files *.go = %q", got)
	}
	got, _ = call(t, list, `{"glob": null}`)
	for _, f := range []string{"README.md", "bin.dat", "cfg", "renamed.txt", "many.txt"} {
		if !strings.Contains(got, f+"\n") {
			t.Errorf("list_files lacks %s: %q", f, got)
		}
	}
	if strings.Contains(got, "untracked.go") || strings.Contains(got, ".git/") {
		t.Errorf("list_files lists untracked or .git files: %q", got)
	}
	if got, _ := call(t, list, `{"glob": "*.rs"}`); !strings.Contains(got, "No tracked files match") {
		t.Errorf("list_files *.rs = %q", got)
	}
}

func TestGitLogBlameShowBase(t *testing.T) {
	t.Parallel()
	pr := fixture(t)
	tools := RepoTools(pr)

	got, _ := call(t, tool(t, tools, ToolGitLog), `{"path": "main.go"}`)
	lines := strings.Split(strings.TrimSpace(got), "\n")
	if len(lines) != 2 {
		t.Fatalf("git_log main.go = %q, want two commits", got)
	}
	if !strings.HasPrefix(lines[0], "[PR] ") || !strings.Contains(lines[0], "2026-02-03 Pat Contributor: Greet the reviewer") {
		t.Errorf("git_log first line = %q, want the PR's commit marked", lines[0])
	}
	if !strings.HasPrefix(lines[1], "     ") || !strings.Contains(lines[1], "Base Author: Base: hello world") {
		t.Errorf("git_log second line = %q, want the base commit unmarked", lines[1])
	}
	got, _ = call(t, tool(t, tools, ToolGitLog), `{"path": null}`)
	if strings.Count(got, "\n") != 3 {
		t.Errorf("git_log of everything = %q, want three commits", got)
	}

	blame := tool(t, tools, ToolBlame)
	got, isErr := call(t, blame, `{"path": "main.go", "start": 5, "end": 8}`)
	if isErr {
		t.Fatal(got)
	}
	rows := strings.Split(strings.TrimSpace(got), "\n")[1:]
	wantPR := map[int]bool{5: false, 6: true, 7: true, 8: false}
	if len(rows) != 4 {
		t.Fatalf("git_blame 5-8 = %q", got)
	}
	for i, row := range rows {
		n := 5 + i
		if marked := strings.HasPrefix(row, "[PR]"); marked != wantPR[n] {
			t.Errorf("line %d marked %v, want %v: %q", n, marked, wantPR[n], row)
		}
		if !strings.Contains(row, fmt.Sprintf(" %d ", n)) {
			t.Errorf("row %q lacks its line number %d", row, n)
		}
	}
	if !strings.Contains(rows[1], "Pat Contributor\t\tfmt.Println(\"hello, reviewer\")") || !strings.Contains(rows[0], "2026-01-02 Base Author") {
		t.Errorf("git_blame rows lack author, date or text: %q", rows)
	}
	if got, isErr := call(t, blame, `{"path": "missing.go", "start": null, "end": null}`); !isErr || !strings.Contains(got, "missing.go") {
		t.Errorf("git_blame of a missing file = %q", got)
	}
	if got, isErr := call(t, blame, `{"path": "main.go", "start": 40, "end": 50}`); !isErr || !strings.Contains(got, "lines") {
		t.Errorf("git_blame past the end = %q", got)
	}
	// Symlinks are confined as read_file confines them; one inside is
	// blamed through to its target.
	if got, isErr := call(t, blame, `{"path": "abs-out"}`); !isErr || !strings.Contains(got, "outside the repository") {
		t.Errorf("git_blame of a link out = %q", got)
	}
	if got, isErr := call(t, blame, `{"path": "libdir/util.go", "start": 4, "end": 4}`); isErr || !strings.Contains(got, "Blame of lib/util.go") || !strings.Contains(got, "func Add") {
		t.Errorf("git_blame through a linked directory = %q", got)
	}

	show := tool(t, tools, ToolShowBase)
	got, _ = call(t, show, `{"path": "main.go"}`)
	if !strings.Contains(got, "   6\t\tfmt.Println(\"hello\")\n") || strings.Contains(got, "reviewer") {
		t.Errorf("show_base main.go = %q, want the base version", got)
	}
	if got, isErr := call(t, show, `{"path": "new.go"}`); isErr || !strings.Contains(got, "new in this PR") {
		t.Errorf("show_base new.go = %q", got)
	}
	if got, _ := call(t, show, `{"path": "renamed.txt"}`); !strings.Contains(got, "renames it from old.txt") {
		t.Errorf("show_base renamed.txt = %q", got)
	}
	if got, _ := call(t, show, `{"path": "bin.dat"}`); !strings.Contains(got, "binary file") {
		t.Errorf("show_base bin.dat = %q", got)
	}
	if got, isErr := call(t, show, `{"path": "lib"}`); !isErr || !strings.Contains(got, "tree") {
		t.Errorf("show_base of a directory = %q", got)
	}
}

func TestDiff(t *testing.T) {
	t.Parallel()
	pr := fixture(t)
	diff := tool(t, RepoTools(pr), ToolDiff)
	got, _ := call(t, diff, `{"path": null}`)
	if got != pr.Diff {
		t.Errorf("diff of everything differs from pr.Diff")
	}
	got, _ = call(t, diff, `{"path": "main.go"}`)
	if !strings.HasPrefix(got, "diff --git a/main.go b/main.go\n") || !strings.Contains(got, "+\tfmt.Println(helper())") || strings.Contains(got, "new.go") {
		t.Errorf("diff main.go = %q", got)
	}
	if got, _ := call(t, diff, `{"path": "old.txt"}`); !strings.Contains(got, "rename to renamed.txt") {
		t.Errorf("diff by the old path of a rename = %q", got)
	}
	if got, isErr := call(t, diff, `{"path": "README.md"}`); !isErr || !strings.Contains(got, "not changed by this PR") || !strings.Contains(got, "main.go") {
		t.Errorf("diff of an unchanged file = %q", got)
	}
	big := *pr
	big.Diff = "diff --git a/x b/x\n" + strings.Repeat("+"+strings.Repeat("z", 99)+"\n", 1000)
	got, _ = call(t, tool(t, RepoTools(&big), ToolDiff), `{"path": null}`)
	if len(got) > maxDiffBytes+200 || !strings.Contains(got, "[cut at") {
		t.Errorf("a large diff is %d bytes, want it cut with a note", len(got))
	}
}

func TestToolsNeedACheckout(t *testing.T) {
	t.Parallel()
	pr := fixture(t)
	pr.Dir = filepath.Join(t.TempDir(), "gone")
	_, err := tool(t, RepoTools(pr), ToolReadFile).Run(t.Context(), []byte(`{"path": "main.go"}`))
	if err == nil || errors.As(err, new(*ToolError)) {
		t.Errorf("read_file without a checkout = %v, want a Go error that aborts the run", err)
	}
	if _, statErr := os.Stat(pr.Dir); statErr == nil {
		t.Fatal("the checkout should not exist")
	}
}

func TestBlameOfACommitWithAHugeSubject(t *testing.T) {
	t.Parallel()
	pr := fixture(t)
	subject := strings.Repeat("a very long subject ", (3<<20)/20) // past any line buffer
	msg := filepath.Join(t.TempDir(), "msg")
	if err := os.WriteFile(msg, []byte(subject+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	writeFile(t, pr.Dir, "long.go", "package main\n\nvar long = 1\n")
	gitRun(t, pr.Dir, prEnv, "add", "long.go")
	gitRun(t, pr.Dir, prEnv, "commit", "-q", "-F", msg)
	pr.HeadSHA = gitRun(t, pr.Dir, nil, "rev-parse", "HEAD")
	got, isErr := call(t, tool(t, RepoTools(pr), ToolBlame), `{"path": "long.go"}`)
	if isErr || strings.Contains(got, "is empty") || !strings.Contains(got, "var long = 1") || strings.Count(got, "\n[PR]") != 3 {
		t.Errorf("git_blame after a commit with a %d-byte subject = %.300q", len(subject), got)
	}
}

func TestBlameIgnoresThePRsGitattributes(t *testing.T) {
	t.Parallel()
	pr := fixture(t)
	// A textconv driver the PR names: the checkout's config defines it, as
	// a hostile or careless repository might; blame must show the lines.
	gitRun(t, pr.Dir, nil, "config", "diff.upper.textconv", "tr a-z A-Z <")
	writeFile(t, pr.Dir, ".gitattributes", "*.go diff=upper\n")
	gitRun(t, pr.Dir, prEnv, "add", ".gitattributes")
	gitRun(t, pr.Dir, prEnv, "commit", "-q", "-m", "attributes")
	pr.HeadSHA = gitRun(t, pr.Dir, nil, "rev-parse", "HEAD")
	got, isErr := call(t, tool(t, RepoTools(pr), ToolBlame), `{"path": "main.go", "start": 6, "end": 6}`)
	if isErr || !strings.Contains(got, `fmt.Println("hello, reviewer")`) {
		t.Errorf("git_blame with a textconv attribute = %q, want the real line", got)
	}
}
