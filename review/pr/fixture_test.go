package pr

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/deepreview/deep-review/review/git"
)

// fixture is a git repository built by a test, with its own identity.
type fixture struct {
	t    *testing.T
	repo git.Repo
}

var testIdentity = []string{
	"GIT_AUTHOR_NAME=Ada Lovelace", "GIT_AUTHOR_EMAIL=ada@example.com",
	"GIT_COMMITTER_NAME=Ada Lovelace", "GIT_COMMITTER_EMAIL=ada@example.com",
	"GIT_AUTHOR_DATE=2026-01-02T03:04:05Z", "GIT_COMMITTER_DATE=2026-01-02T03:04:05Z",
}

// newFixture makes an empty repository on branch main in a temp dir.
func newFixture(t *testing.T) *fixture {
	t.Helper()
	return initFixture(t, t.TempDir())
}

func initFixture(t *testing.T, dir string, extra ...string) *fixture {
	t.Helper()
	f := &fixture{t: t, repo: git.Repo{Dir: dir, Env: testIdentity}}
	f.git(append([]string{"-c", "init.defaultBranch=main", "init", "-q"}, extra...)...)
	return f
}

// git runs git in the fixture and returns its trimmed output.
func (f *fixture) git(args ...string) string {
	f.t.Helper()
	out, err := f.repo.Output(context.Background(), args...)
	if err != nil {
		f.t.Fatalf("fixture: %v", err)
	}
	return out
}

func (f *fixture) write(name, content string) {
	f.t.Helper()
	p := filepath.Join(f.repo.Dir, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		f.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		f.t.Fatal(err)
	}
}

// commit stages everything and commits it, returning the new SHA.
func (f *fixture) commit(msg string) string {
	f.t.Helper()
	f.git("add", "-A")
	f.git("commit", "-q", "--allow-empty", "-m", msg)
	return f.git("rev-parse", "HEAD")
}

// lines makes a file of n numbered lines.
func lines(prefix string, n int) string {
	var b strings.Builder
	for i := 1; i <= n; i++ {
		b.WriteString(prefix)
		b.WriteString(" line ")
		b.WriteString(strings.Repeat("x", i%7))
		b.WriteString("\n")
	}
	return b.String()
}
