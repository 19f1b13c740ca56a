package pr_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/deepreview/deep-review/review/config"
	"github.com/deepreview/deep-review/review/git"
	"github.com/deepreview/deep-review/review/pr"
)

// fromBase is how the cli reads the config file of a local review: the
// file at the base commit (pr.ReadAt), parsed by config.Parse; nil, nil
// when the base has none.
func fromBase(ctx context.Context, repo git.Repo, rev, path string) (*config.Config, error) {
	if path == "" {
		path = config.DefaultPath
	}
	data, found, err := pr.ReadAt(ctx, repo, rev, path)
	if err != nil || !found {
		return nil, err
	}
	return config.Parse(data, path)
}

// testRepo is a repository whose main branch (the base) holds a config
// naming one reviewer, and whose head branch, checked out, changes it to
// another and raises the budget: what a pull request trying to change its
// own review would do.
func testRepo(t *testing.T) (repo git.Repo, base, head string) {
	t.Helper()
	dir := t.TempDir()
	repo = git.Repo{Dir: dir, Env: []string{
		"GIT_AUTHOR_NAME=Test", "GIT_AUTHOR_EMAIL=test@example.com",
		"GIT_COMMITTER_NAME=Test", "GIT_COMMITTER_EMAIL=test@example.com",
	}}
	ctx := context.Background()
	run := func(args ...string) string {
		t.Helper()
		out, err := repo.Output(ctx, args...)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	write := func(name, content string) {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	run("-c", "init.defaultBranch=main", "init", "-q")
	write(".github/deep-review.yml", "reviewers:\n  - anthropic:claude-opus-5-5@high\nbudgets:\n  max-turns: 20\n")
	write("main.go", "package main\n")
	run("add", ".")
	run("commit", "-q", "-m", "base")
	base = run("rev-parse", "HEAD")
	run("checkout", "-q", "-b", "head")
	write(".github/deep-review.yml", "reviewers:\n  - openai:gpt-5@low\nbudgets:\n  max-turns: 400\nexclude: ['**']\n")
	run("commit", "-q", "-am", "head")
	head = run("rev-parse", "HEAD")
	return repo, base, head
}

func TestReadAtReadsTheConfigAtTheBase(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	repo, base, head := testRepo(t)
	ctx := context.Background()

	t.Run("reads the base's file, not the head's or the working tree's", func(t *testing.T) {
		cfg, err := fromBase(ctx, repo, base, ".github/deep-review.yml")
		if err != nil {
			t.Fatal(err)
		}
		if cfg == nil || len(cfg.Reviewers) != 1 || cfg.Reviewers[0].Spec.String() != "anthropic:claude-opus-5-5@high" || cfg.MaxTurns != 20 || cfg.Exclude != nil {
			t.Errorf("FromBase(base) = %+v, want the base's one anthropic reviewer and 20 turns", cfg)
		}
		// The same call at the head sees the head's file: the revision,
		// not the checkout, decides.
		cfg, err = fromBase(ctx, repo, head, ".github/deep-review.yml")
		if err != nil {
			t.Fatal(err)
		}
		if cfg == nil || cfg.MaxTurns != 400 {
			t.Errorf("FromBase(head) = %+v, want 400 turns", cfg)
		}
	})
	t.Run("an empty path means the default", func(t *testing.T) {
		cfg, err := fromBase(ctx, repo, "main", "")
		if err != nil || cfg == nil || cfg.MaxTurns != 20 {
			t.Errorf("FromBase(main, \"\") = %+v, %v; want the base's config", cfg, err)
		}
	})
	t.Run("a file missing at the base is no config", func(t *testing.T) {
		cfg, err := fromBase(ctx, repo, base, ".github/other.yml")
		if cfg != nil || err != nil {
			t.Errorf("FromBase(missing file) = %+v, %v; want nil, nil", cfg, err)
		}
	})
	t.Run("a missing base commit is an error", func(t *testing.T) {
		_, err := fromBase(ctx, repo, strings.Repeat("ab", 20), ".github/deep-review.yml")
		if err == nil || !strings.Contains(err.Error(), "fetch it first") {
			t.Errorf("FromBase(unknown commit) error = %v, want one saying to fetch it", err)
		}
	})
	t.Run("a path outside the repository is an error", func(t *testing.T) {
		_, err := fromBase(ctx, repo, base, "../etc/passwd")
		if err == nil || !strings.Contains(err.Error(), "outside the repository") {
			t.Errorf("FromBase(../etc/passwd) error = %v, want an outside-the-repository error", err)
		}
	})
	t.Run("a directory is an error, not a missing file", func(t *testing.T) {
		cfg, err := fromBase(ctx, repo, base, ".github")
		if err == nil {
			t.Errorf("FromBase(.github) = %+v, nil; want an error", cfg)
		}
	})
	t.Run("an invalid file at the base names the file and line", func(t *testing.T) {
		bad, err := repo.Output(ctx, "commit-tree", "-p", base, "-m", "bad", mktree(t, repo, ".github/deep-review.yml", "lead: auto\nbudgets:\n  max-turns: many\n"))
		if err != nil {
			t.Fatal(err)
		}
		_, err = fromBase(ctx, repo, bad, ".github/deep-review.yml")
		if err == nil || !strings.HasPrefix(err.Error(), ".github/deep-review.yml:3: budgets.max-turns: ") {
			t.Errorf("FromBase(bad) error = %v, want one at .github/deep-review.yml:3", err)
		}
	})
}

// mktree makes a tree holding one file at path and returns its id.
func mktree(t *testing.T, repo git.Repo, path, content string) string {
	t.Helper()
	ctx := context.Background()
	blob, err := repo.RunInput(ctx, []byte(content), "hash-object", "-w", "--stdin")
	if err != nil {
		t.Fatal(err)
	}
	dir, name := filepath.Split(path)
	tree, err := repo.RunInput(ctx, []byte("100644 blob "+strings.TrimSpace(string(blob))+"\t"+name+"\n"), "mktree")
	if err != nil {
		t.Fatal(err)
	}
	root, err := repo.RunInput(ctx, []byte("040000 tree "+strings.TrimSpace(string(tree))+"\t"+strings.TrimSuffix(dir, "/")+"\n"), "mktree")
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(root))
}
