package git

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// newRepo makes a repository with one commit of a.txt and returns it with
// that commit's SHA.
func newRepo(t *testing.T) (Repo, string) {
	t.Helper()
	ctx := context.Background()
	r := Repo{Dir: t.TempDir(), Env: []string{
		"GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com",
		"GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com",
	}}
	if _, err := r.Run(ctx, "-c", "init.defaultBranch=main", "init", "-q"); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(r.Dir, "a.txt"), []byte("one\ntwo\nthree\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Run(ctx, "add", "a.txt"); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Run(ctx, "commit", "-q", "-m", "first"); err != nil {
		t.Fatal(err)
	}
	sha, err := r.Output(ctx, "rev-parse", "HEAD")
	if err != nil {
		t.Fatal(err)
	}
	return r, sha
}

func TestTreeReadsTheCommitNotTheWorkingTree(t *testing.T) {
	r, sha := newRepo(t)
	if err := os.WriteFile(filepath.Join(r.Dir, "a.txt"), []byte("changed\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := Tree{Repo: r, Rev: sha}.ReadFile("a.txt")
	if err != nil || string(got) != "one\ntwo\nthree\n" {
		t.Errorf("ReadFile = %q, %v; want the committed text", got, err)
	}
	for _, p := range []string{"../x", "/etc/passwd", ".git/config", "missing.txt"} {
		if _, err := (Tree{Repo: r, Rev: sha}).ReadFile(p); err == nil {
			t.Errorf("ReadFile(%q) succeeded, want an error", p)
		}
	}
}

func TestCheckPatchUsesAScratchIndex(t *testing.T) {
	r, sha := newRepo(t)
	ctx := context.Background()
	good := "--- a/a.txt\n+++ b/a.txt\n@@ -1,3 +1,3 @@\n one\n-two\n+2\n three\n"
	bad := "--- a/a.txt\n+++ b/a.txt\n@@ -1,3 +1,3 @@\n one\n-zwei\n+2\n three\n"
	if err := r.CheckPatch(ctx, sha, good); err != nil {
		t.Errorf("good patch: %v", err)
	}
	err := r.CheckPatch(ctx, sha, bad)
	if err == nil || !strings.Contains(err.Error(), "patch failed") {
		t.Errorf("bad patch: err = %v, want patch failed", err)
	}
	status, _ := r.Output(ctx, "status", "--porcelain")
	data, _ := os.ReadFile(filepath.Join(r.Dir, "a.txt"))
	if status != "" || string(data) != "one\ntwo\nthree\n" {
		t.Errorf("the checkout changed: status %q, a.txt %q", status, data)
	}
}

func TestRunReportsGitsError(t *testing.T) {
	r, _ := newRepo(t)
	_, err := r.Run(context.Background(), "rev-parse", "--verify", "nope^{commit}")
	var ge *Error
	if err == nil || !strings.Contains(err.Error(), "git rev-parse") {
		t.Fatalf("err = %v", err)
	}
	if e, ok := err.(*Error); ok {
		ge = e
	}
	if ge == nil || ExitCode(err) != 128 {
		t.Errorf("err = %#v, want *Error with exit code 128", err)
	}
}

func TestBatchTreeReadsLikeTree(t *testing.T) {
	r, sha := newRepo(t)
	ctx := context.Background()
	if err := os.MkdirAll(filepath.Join(r.Dir, "dir"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(r.Dir, "dir", "b.txt"), []byte("bee\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(r.Dir, "empty"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Run(ctx, "add", "."); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Run(ctx, "commit", "-q", "-m", "second"); err != nil {
		t.Fatal(err)
	}
	head, _ := r.Output(ctx, "rev-parse", "HEAD")
	b := NewBatchTree(ctx, r, head)
	defer b.Close()
	for path, want := range map[string]string{"a.txt": "one\ntwo\nthree\n", "dir/b.txt": "bee\n", "./dir/../a.txt": "one\ntwo\nthree\n", "empty": ""} {
		got, err := b.ReadFile(path)
		if err != nil || string(got) != want {
			t.Errorf("ReadFile(%q) = %q, %v; want %q", path, got, err, want)
		}
	}
	for _, path := range []string{"missing.txt", "dir", "../x", "/etc/passwd", ".git/config", "a\n.txt"} {
		if _, err := b.ReadFile(path); err == nil {
			t.Errorf("ReadFile(%q) succeeded, want an error", path)
		}
	}
	// A read after errors still works: the process is unharmed by them.
	if got, err := b.ReadFile("a.txt"); err != nil || len(got) == 0 {
		t.Errorf("read after errors: %q, %v", got, err)
	}
	first := NewBatchTree(ctx, r, sha)
	defer first.Close()
	if got, err := first.ReadFile("dir/b.txt"); err == nil {
		t.Errorf("dir/b.txt at the first commit = %q, want missing", got)
	}
	if err := b.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if _, err := b.ReadFile("a.txt"); err == nil {
		t.Error("a read after Close succeeded")
	}
}

func TestBatchTreeGoesOnAfterAMissingPathWithASpace(t *testing.T) {
	r, sha := newRepo(t)
	b := NewBatchTree(context.Background(), r, sha)
	defer b.Close()
	if _, err := b.ReadFile("no such file.txt"); err == nil || !strings.Contains(err.Error(), "not in") {
		t.Errorf("missing path with spaces: err = %v, want not in the commit", err)
	}
	if got, err := b.ReadFile("a.txt"); err != nil || string(got) != "one\ntwo\nthree\n" {
		t.Errorf("read after a missing path with spaces = %q, %v; want a.txt", got, err)
	}
}

func TestStreamReportsGitsErrorAndStopsOnReadsError(t *testing.T) {
	r, sha := newRepo(t)
	ctx := context.Background()
	err := r.Stream(ctx, func(rd io.Reader) error { _, err := io.Copy(io.Discard, rd); return err }, "rev-parse", "--verify", "nope^{commit}")
	if _, ok := err.(*Error); !ok || ExitCode(err) != 128 {
		t.Errorf("failing git: err = %#v, want *Error with exit code 128", err)
	}
	stop := errors.New("enough")
	if err := r.Stream(ctx, func(io.Reader) error { return stop }, "log", "-p", sha); err != stop {
		t.Errorf("read error: err = %v, want it returned as is", err)
	}
}
