package agent

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// checkout is the repository's working tree as the tools may see it: paths
// are relative to its root, and nothing outside it or under .git is reachable,
// even through symlinks.
type checkout struct {
	// dir is the root with its own symlinks resolved.
	dir string
}

func newCheckout(dir string) (*checkout, error) {
	if dir == "" {
		return nil, errors.New("checkout directory is empty; set pr.Dir to the repository's working tree")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("checkout %s: %w", dir, err)
	}
	real, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return nil, fmt.Errorf("checkout %s: %w", dir, err)
	}
	return &checkout{dir: real}, nil
}

// cleanPath checks a path the model gave without touching the file system:
// it must be relative, stay inside the checkout once cleaned and name nothing
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

// resolve confines p to the checkout: the lexical checks of cleanPath, then
// every symlink resolved and the result checked again, so a link out of the
// repository or into .git is refused. It returns the cleaned path as given
// and the resolved path relative to the root.
func (c *checkout) resolve(p string) (rel, real string, err error) {
	rel, err = cleanPath(p)
	if err != nil {
		return "", "", err
	}
	resolved, err := filepath.EvalSymlinks(filepath.Join(c.dir, filepath.FromSlash(rel)))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return "", "", Retry("%s does not exist in the checkout; use list_files or grep to find the right path", rel)
		}
		return "", "", Retry("%s cannot be resolved (%s); it may be a symlink loop", rel, describeFSError(err))
	}
	r, err := filepath.Rel(c.dir, resolved)
	if err != nil || r == ".." || strings.HasPrefix(r, ".."+string(filepath.Separator)) || filepath.IsAbs(r) {
		return "", "", Retry("%s is a symlink that points outside the repository; the tools read only files inside it", rel)
	}
	r = filepath.ToSlash(r)
	if isGitPath(r) {
		return "", "", Retry("%s is a symlink into .git, which the tools never read", rel)
	}
	return rel, r, nil
}

// describeFSError is an error's message without the absolute paths it
// carries, so a tool result never shows where the checkout lives.
func describeFSError(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	var le *os.LinkError
	if errors.As(err, &le) {
		return le.Err.Error()
	}
	return "unreadable"
}

// fileInfo is what a tool learns about a confined file before reading it.
type fileInfo struct {
	rel, real string
	size      int64
	binary    bool
}

// open confines p, refuses directories and anything but a regular file,
// asks allow (when set) about the resolved path, and returns the file open for
// reading through an os.Root, so the file opened is the one checked even if
// the tree changed in between, with its size and whether it looks binary.
func (c *checkout) open(p string, allow func(real string) error) (*os.File, fileInfo, error) {
	rel, real, err := c.resolve(p)
	if err != nil {
		return nil, fileInfo{}, err
	}
	root, err := os.OpenRoot(c.dir)
	if err != nil {
		return nil, fileInfo{}, fmt.Errorf("open checkout: %w", err)
	}
	defer root.Close()
	name := filepath.FromSlash(real)
	// Lstat before opening: the resolved path holds no symlink, and a FIFO
	// or device must never be opened, since opening one can block.
	st, err := root.Lstat(name)
	if err != nil {
		return nil, fileInfo{}, Retry("%s cannot be read: %s", rel, describeFSError(err))
	}
	if st.IsDir() {
		return nil, fileInfo{}, Retry("%s is a directory; use list_files with the glob %q to see its files", rel, rel+"/**")
	}
	if !st.Mode().IsRegular() {
		return nil, fileInfo{}, Retry("%s is not a regular file", rel)
	}
	if allow != nil {
		if err := allow(real); err != nil {
			return nil, fileInfo{}, err
		}
	}
	f, err := root.Open(name)
	if err != nil {
		return nil, fileInfo{}, Retry("%s cannot be read: %s", rel, describeFSError(err))
	}
	if st, err = f.Stat(); err != nil || !st.Mode().IsRegular() {
		f.Close()
		return nil, fileInfo{}, Retry("%s cannot be read", rel)
	}
	info := fileInfo{rel: rel, real: real, size: st.Size()}
	head := make([]byte, 8000)
	n, err := io.ReadFull(f, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		f.Close()
		return nil, fileInfo{}, Retry("%s cannot be read: %s", rel, describeFSError(err))
	}
	info.binary = isBinary(head[:n])
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		f.Close()
		return nil, fileInfo{}, fmt.Errorf("rewind %s: %w", rel, err)
	}
	return f, info, nil
}

// isBinary is git's heuristic: a NUL byte in the first 8000 bytes.
func isBinary(head []byte) bool {
	return strings.IndexByte(string(head), 0) >= 0
}

// dropIgnorable drops the code points HFS+ ignores in file names.
func dropIgnorable(r rune) rune {
	switch {
	case r >= 0x200c && r <= 0x200f, r >= 0x202a && r <= 0x202e, r >= 0x206a && r <= 0x206f, r == 0xfeff:
		return -1
	}
	return r
}
