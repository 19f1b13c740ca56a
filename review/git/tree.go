package git

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
)

// Tree reads files as they are in one commit, whatever the working tree
// holds. It implements review.FileReader.
type Tree struct {
	Repo Repo
	Rev  string
	// Ctx bounds each read; nil means context.Background.
	Ctx context.Context
}

// ReadFile returns the file at path in the commit. Paths are relative to the
// repository root; "..", absolute paths and .git are refused.
func (t Tree) ReadFile(path string) ([]byte, error) {
	clean, err := treePath(path)
	if err != nil {
		return nil, err
	}
	ctx := t.Ctx
	if ctx == nil {
		ctx = context.Background()
	}
	return t.Repo.Run(ctx, "cat-file", "blob", t.Rev+":"+clean)
}

// CheckPatch reports whether patch applies to the commit rev, using a
// scratch index so neither the working tree nor the repository's index is
// touched.
func (r Repo) CheckPatch(ctx context.Context, rev, patch string) error {
	f, err := os.CreateTemp("", "deep-review-index-*")
	if err != nil {
		return fmt.Errorf("check patch: %w", err)
	}
	index := f.Name()
	f.Close()
	defer os.Remove(index)
	scratch := r
	scratch.Env = append(append([]string{}, r.Env...), "GIT_INDEX_FILE="+index)
	if _, err := scratch.Run(ctx, "read-tree", rev); err != nil {
		return err
	}
	if !strings.HasSuffix(patch, "\n") {
		patch += "\n"
	}
	if _, err := scratch.RunInput(ctx, []byte(patch), "apply", "--cached", "--check", "-"); err != nil {
		if ge, ok := errors.AsType[*Error](err); ok {
			return errors.New(firstLine(ge.Stderr))
		}
		return err
	}
	return nil
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
