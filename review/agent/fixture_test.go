package agent

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/deepreview/deep-review/review"
	"github.com/deepreview/deep-review/review/git"
)

// secret is what the fixture's .git/config and the file outside the
// repository hold; no tool result may ever contain it.
const secret = "ghs_SECRETTOKEN0123456789"

var testEnv = []string{
	"GIT_AUTHOR_NAME=Base Author", "GIT_AUTHOR_EMAIL=base@example.com",
	"GIT_COMMITTER_NAME=Base Author", "GIT_COMMITTER_EMAIL=base@example.com",
	"GIT_AUTHOR_DATE=2026-01-02T03:04:05Z", "GIT_COMMITTER_DATE=2026-01-02T03:04:05Z",
}

var prEnv = []string{
	"GIT_AUTHOR_NAME=Pat Contributor", "GIT_AUTHOR_EMAIL=pat@example.com",
	"GIT_COMMITTER_NAME=Pat Contributor", "GIT_COMMITTER_EMAIL=pat@example.com",
	"GIT_AUTHOR_DATE=2026-02-03T04:05:06Z", "GIT_COMMITTER_DATE=2026-02-03T04:05:06Z",
}

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

func symlink(t *testing.T, dir, target, name string) {
	t.Helper()
	if err := os.Symlink(target, filepath.Join(dir, filepath.FromSlash(name))); err != nil {
		t.Fatal(err)
	}
}

const baseMain = `package main

import "fmt"

func main() {
	fmt.Println("hello")
}

func helper() int {
	return 1
}
`

const headMain = `package main

import "fmt"

func main() {
	fmt.Println("hello, reviewer")
	fmt.Println(helper())
}

func helper() int {
	return 1
}
`

// fixture builds a repository in a temporary directory: a base commit on
// main, then a feature branch with the PR's commits, checked out. Outside the
// repository sits a secret file, and .git/config holds a token, as a checkout
// by actions/checkout does.
func fixture(t *testing.T) *review.PR {
	t.Helper()
	root := t.TempDir()
	dir := filepath.Join(root, "repo")
	outside := filepath.Join(root, "outside")
	writeFile(t, outside, "secret.txt", secret+"\n")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	gitRun(t, dir, testEnv, "-c", "init.defaultBranch=main", "init", "-q")
	gitRun(t, dir, testEnv, "config", "http.https://github.com/.extraheader", "AUTHORIZATION: basic "+secret)
	writeFile(t, dir, "main.go", baseMain)
	writeFile(t, dir, "lib/util.go", "package lib\n\n// Add adds.\nfunc Add(a, b int) int { return a + b }\n")
	writeFile(t, dir, "README.md", "# fixture\n\nA small repository.\n")
	writeFile(t, dir, "bin.dat", "PK\x00\x01binary\x00data")
	writeFile(t, dir, "old.txt", "to be renamed\n")
	gitRun(t, dir, testEnv, "add", "-A")
	gitRun(t, dir, testEnv, "commit", "-q", "-m", "Base: hello world")
	base := gitRun(t, dir, testEnv, "rev-parse", "HEAD")

	gitRun(t, dir, testEnv, "checkout", "-q", "-b", "feature")
	writeFile(t, dir, "main.go", headMain)
	writeFile(t, dir, "new.go", "package main\n\n// TODO: handle errors\nfunc newThing() {}\n")
	gitRun(t, dir, prEnv, "mv", "old.txt", "renamed.txt")
	gitRun(t, dir, prEnv, "add", "-A")
	gitRun(t, dir, prEnv, "commit", "-q", "-m", "Greet the reviewer")

	symlink(t, dir, filepath.Join(outside, "secret.txt"), "abs-out")
	symlink(t, dir, "../outside/secret.txt", "rel-out")
	symlink(t, dir, ".git/config", "cfg")
	symlink(t, dir, ".git", "gitdir")
	symlink(t, dir, "lib/util.go", "inside")
	symlink(t, dir, "lib", "libdir")
	symlink(t, dir, outside, "outdir")
	symlink(t, dir, "loop-b", "loop-a")
	symlink(t, dir, "loop-a", "loop-b")
	gitRun(t, dir, prEnv, "add", "-A")
	gitRun(t, dir, prEnv, "commit", "-q", "-m", "Add links")
	head := gitRun(t, dir, prEnv, "rev-parse", "HEAD")

	diff := gitRun(t, dir, nil, "diff", "-M", base+".."+head)
	return &review.PR{
		Repo: "o/fixture", Number: 7, Title: "Greet the reviewer", Author: "pat",
		BaseRef: "main", HeadRef: "feature", BaseSHA: base, HeadSHA: head, MergeBase: base,
		Dir: dir, Diff: diff + "\n",
		Files: []review.ChangedFile{
			{Path: "main.go", Status: "modified", Additions: 2, Deletions: 1},
			{Path: "new.go", Status: "added", Additions: 4},
			{Path: "renamed.txt", OldPath: "old.txt", Status: "renamed"},
		},
	}
}

// tool finds a tool by name.
func tool(t *testing.T, tools []Tool, name string) Tool {
	t.Helper()
	for _, tl := range tools {
		if tl.Name == name {
			return tl
		}
	}
	t.Fatalf("no tool %s", name)
	return Tool{}
}

// call runs a tool and returns its text and whether it was a tool error; a Go
// error fails the test.
func call(t *testing.T, tl Tool, args string) (string, bool) {
	t.Helper()
	out, err := tl.Run(context.Background(), []byte(args))
	if err != nil {
		if errors.As(err, new(*ToolError)) {
			return err.Error(), true
		}
		t.Fatalf("%s(%s): go error %v", tl.Name, args, err)
	}
	return out, false
}
