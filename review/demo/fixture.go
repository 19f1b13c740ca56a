package demo

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"

	"github.com/deepreview/deep-review/review/git"
)

// step is one commit of the fixture repository: the files of dir laid over
// the tree, committed on branch with subject.
type step struct {
	branch  string
	dir     string
	subject string
	date    string
}

// steps build a repository whose main moved on after the feature branch
// left it, so the merge base is not main's tip.
var steps = []step{
	{"main", "1-base", "Add in-memory link store and redirect handler", "2026-11-02T09:00:00Z"},
	{"link-expiry", "3-expiry", "Expire links after their Expires time", "2026-11-03T10:15:00Z"},
	{"link-expiry", "4-import", "Add bulk import endpoint", "2026-11-03T11:40:00Z"},
	{"link-expiry", "5-janitor", "Remove expired links in the background", "2026-11-04T16:05:00Z"},
	{"main", "2-main-readme", "Document how to run the tests", "2026-11-05T08:30:00Z"},
}

// Fixture names the demo repository's refs.
const (
	BaseRef = "main"
	HeadRef = "link-expiry"
	// Author is the fixture's commit author; the demo's PR is by them.
	Author = "Dana Demo"
)

// BuildRepo writes the fixture repository into dir (which must be empty or
// missing) with fixed authors and dates, so its SHAs are the same on every
// machine.
func BuildRepo(ctx context.Context, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create fixture repo: %w", err)
	}
	repo := git.Repo{Dir: dir}
	if _, err := repo.Run(ctx, "-c", "init.defaultBranch=main", "init", "-q"); err != nil {
		return err
	}
	branches := map[string]bool{"main": true}
	current := "main"
	for _, s := range steps {
		if s.branch != current {
			args := []string{"checkout", "-q", s.branch}
			if !branches[s.branch] {
				args = []string{"checkout", "-q", "-b", s.branch}
				branches[s.branch] = true
			}
			if _, err := repo.Run(ctx, args...); err != nil {
				return err
			}
			current = s.branch
		}
		if err := copyTree(path.Join("testdata/repo", s.dir), dir); err != nil {
			return err
		}
		if _, err := repo.Run(ctx, "add", "-A"); err != nil {
			return err
		}
		commit := repo
		commit.Env = []string{
			"GIT_AUTHOR_NAME=" + Author, "GIT_AUTHOR_EMAIL=dana@example.com", "GIT_AUTHOR_DATE=" + s.date,
			"GIT_COMMITTER_NAME=" + Author, "GIT_COMMITTER_EMAIL=dana@example.com", "GIT_COMMITTER_DATE=" + s.date,
		}
		if _, err := commit.Run(ctx, "commit", "-q", "-m", s.subject); err != nil {
			return err
		}
	}
	_, err := repo.Run(ctx, "checkout", "-q", HeadRef)
	return err
}

// copyTree copies the embedded directory src over dst.
func copyTree(src, dst string) error {
	return fs.WalkDir(files, src, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		data, err := files.ReadFile(p)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			return err
		}
		return os.WriteFile(target, data, 0o644)
	})
}
