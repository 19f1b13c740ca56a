package agent

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/deepreview/deep-review/review/git"
)

// The file tools read the PR's head commit from git's objects, never the
// working tree: what they show is exactly the head that blame, the diff and
// consolidation's excerpts refer to, whatever is checked out, and nothing a
// workflow step left in the checkout (credentials, FIFOs, untracked files) is
// reachable. Paths are confined lexically (relative, no .. escape, nothing
// under .git), and symlinks are resolved inside the tree by this file, each
// hop checked again: a link that is absolute, leaves the repository, enters
// .git or loops is refused.

// maxLinkHops bounds symlink resolution, as the kernel's ELOOP does.
const maxLinkHops = 40

// cleanPath checks a path the model gave without reading anything: it must
// be relative, stay inside the repository once cleaned and name nothing
// under .git. It returns the cleaned path with forward slashes.
func cleanPath(p string) (string, error) {
	if strings.TrimSpace(p) == "" {
		return "", Retry("path is empty; give a path relative to the repository root, e.g. src/main.go")
	}
	if strings.ContainsRune(p, 0) {
		return "", Retry("path %q holds a NUL byte", p)
	}
	slashed := strings.ReplaceAll(p, `\`, "/")
	if path.IsAbs(slashed) || filepath.IsAbs(p) || filepath.VolumeName(p) != "" || hasDriveLetter(slashed) {
		return "", Retry("path %q is absolute; give a path relative to the repository root, e.g. src/main.go", p)
	}
	c := path.Clean(slashed)
	if c == ".." || strings.HasPrefix(c, "../") {
		return "", Retry("path %q leaves the repository; give a path inside it", p)
	}
	if c == "." {
		return "", Retry("path %q is the repository root, not a file; use list_files to see the files", p)
	}
	if isGitPath(c) {
		return "", Retry("path %q is inside .git, which the tools never read", p)
	}
	return c, nil
}

func hasDriveLetter(p string) bool {
	return len(p) >= 2 && p[1] == ':' && (p[0] >= 'a' && p[0] <= 'z' || p[0] >= 'A' && p[0] <= 'Z')
}

// isGitPath reports whether any element of the slash path p is .git, in any
// case, also with the trailing dots or spaces Windows file systems drop and
// the zero-width characters HFS+ ignores (git's own protectNTFS and
// protectHFS checks).
func isGitPath(p string) bool {
	for _, e := range strings.Split(p, "/") {
		e = strings.Map(dropIgnorable, e)
		if strings.EqualFold(strings.TrimRight(e, ". "), ".git") {
			return true
		}
	}
	return false
}

// dropIgnorable drops the code points HFS+ ignores in file names.
func dropIgnorable(r rune) rune {
	switch {
	case r >= 0x200c && r <= 0x200f, r >= 0x202a && r <= 0x202e, r >= 0x206a && r <= 0x206f, r == 0xfeff:
		return -1
	}
	return r
}

// Git tree entry modes.
const (
	modeLink      = "120000"
	modeSubmodule = "160000"
)

// entry is one path of the head commit's tree.
type entry struct {
	mode string
	typ  string // blob, tree or commit
	sha  string
	size int64 // -1 for trees and submodules
}

func (e entry) isLink() bool { return e.mode == modeLink }

// tree is the head commit's tree, read once: every path with its entry,
// and the sorted paths that are not directories (what git ls-files lists).
type tree struct {
	git     git.Repo
	rev     string
	entries map[string]entry
	files   []string
}

// loadTree lists every path of rev with git ls-tree.
func loadTree(ctx context.Context, repo git.Repo, rev string) (*tree, error) {
	out, err := repo.Run(ctx, "ls-tree", "-r", "-t", "-l", "-z", "--full-tree", rev)
	if err != nil {
		return nil, fmt.Errorf("list the files of %s: %w", rev, err)
	}
	t := &tree{git: repo, rev: rev, entries: map[string]entry{}}
	for _, rec := range bytes.Split(out, []byte{0}) {
		if len(rec) == 0 {
			continue
		}
		meta, name, ok := strings.Cut(string(rec), "\t")
		f := strings.Fields(meta)
		if !ok || len(f) != 4 {
			return nil, fmt.Errorf("list the files of %s: unexpected line %q", rev, rec)
		}
		size, err := strconv.ParseInt(f[3], 10, 64)
		if err != nil {
			size = -1
		}
		t.entries[name] = entry{mode: f[0], typ: f[1], sha: f[2], size: size}
		if f[1] != "tree" {
			t.files = append(t.files, name)
		}
	}
	sort.Strings(t.files)
	return t, nil
}

// resolve confines p to the head tree: the lexical checks of cleanPath,
// then every symlink on the way followed inside the tree and the result
// checked again. It returns the cleaned path as given, the path it resolves
// to and its entry.
func (t *tree) resolve(ctx context.Context, p string) (rel, real string, e entry, err error) {
	rel, err = cleanPath(p)
	if err != nil {
		return "", "", entry{}, err
	}
	cur := rel
	for hops := 0; ; {
		parts := strings.Split(cur, "/")
		next := ""
		for i := range parts {
			prefix := strings.Join(parts[:i+1], "/")
			ent, ok := t.entries[prefix]
			if !ok {
				return "", "", entry{}, Retry("%s does not exist at the PR head; use list_files or grep to find the right path", rel)
			}
			last := i == len(parts)-1
			if ent.isLink() {
				hops++
				if hops > maxLinkHops {
					return "", "", entry{}, Retry("%s cannot be resolved: a symlink loop", rel)
				}
				target, err := t.git.Run(ctx, "cat-file", "blob", ent.sha)
				if err != nil {
					return "", "", entry{}, gitErr(ctx, "read symlink", err)
				}
				to := strings.ReplaceAll(string(target), `\`, "/")
				if path.IsAbs(to) || hasDriveLetter(to) {
					return "", "", entry{}, Retry("%s is a symlink that points outside the repository; the tools read only files inside it", rel)
				}
				next = path.Join(path.Dir(prefix), to, strings.Join(parts[i+1:], "/"))
				break
			}
			if last {
				return rel, cur, ent, nil
			}
			if ent.typ != "tree" {
				return "", "", entry{}, Retry("%s does not exist at the PR head: %s is not a directory", rel, prefix)
			}
		}
		switch {
		case next == ".." || strings.HasPrefix(next, "../"):
			return "", "", entry{}, Retry("%s is a symlink that points outside the repository; the tools read only files inside it", rel)
		case isGitPath(next):
			return "", "", entry{}, Retry("%s is a symlink into .git, which the tools never read", rel)
		case next == ".":
			return "", "", entry{}, Retry("%s is a symlink to the repository root, a directory; use list_files", rel)
		}
		cur = next
	}
}

// fileInfo is what a tool learns about a confined file before reading it.
type fileInfo struct {
	rel, real string
	sha       string
	size      int64
}

// file confines p and refuses directories and submodules.
func (t *tree) file(ctx context.Context, p string) (fileInfo, error) {
	rel, real, e, err := t.resolve(ctx, p)
	if err != nil {
		return fileInfo{}, err
	}
	switch {
	case e.typ == "tree":
		return fileInfo{}, Retry("%s is a directory; use list_files with the glob %q to see its files", rel, rel+"/**")
	case e.mode == modeSubmodule || e.typ != "blob":
		return fileInfo{}, Retry("%s is a submodule; its files are not part of this repository", rel)
	}
	return fileInfo{rel: rel, real: real, sha: e.sha, size: e.size}, nil
}

// read returns a blob's content.
func (t *tree) read(ctx context.Context, sha string) ([]byte, error) {
	data, err := t.git.Run(ctx, "cat-file", "blob", sha)
	if err != nil {
		return nil, gitErr(ctx, "read file", err)
	}
	return data, nil
}

// readBatch streams the blobs of shas through one git cat-file --batch and
// calls fn with each content, in order, until fn returns false.
func (t *tree) readBatch(ctx context.Context, shas []string, fn func(i int, data []byte) bool) error {
	if len(shas) == 0 {
		return nil
	}
	out, err := t.git.RunInput(ctx, []byte(strings.Join(shas, "\n")+"\n"), "cat-file", "--batch")
	if err != nil {
		return gitErr(ctx, "read files", err)
	}
	for i := range shas {
		nl := bytes.IndexByte(out, '\n')
		if nl < 0 {
			return errors.New("read files: git cat-file --batch output ends early")
		}
		f := strings.Fields(string(out[:nl]))
		if len(f) != 3 {
			return fmt.Errorf("read files: unexpected header %q", out[:nl])
		}
		n, err := strconv.Atoi(f[2])
		if err != nil || nl+1+n > len(out) {
			return fmt.Errorf("read files: bad size in %q", out[:nl])
		}
		data := out[nl+1 : nl+1+n]
		out = out[min(len(out), nl+1+n+1):]
		if !fn(i, data) {
			return nil
		}
	}
	return nil
}

// isBinary is git's heuristic: a NUL byte in the first 8000 bytes.
func isBinary(data []byte) bool {
	return bytes.IndexByte(data[:min(len(data), 8000)], 0) >= 0
}
