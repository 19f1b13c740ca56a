package git

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
)

// BatchTree reads files of one commit through a single long-lived
// `git cat-file --batch`, instead of a git process per file: what a
// consolidation of a thousand findings needs. It implements
// review.FileReader, is safe for concurrent use, and must be closed.
type BatchTree struct {
	repo Repo
	rev  string
	ctx  context.Context

	mu     sync.Mutex
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stdout *bufio.Reader
	err    error
}

// NewBatchTree reads files at rev; the process starts on the first read
// and ends with ctx or Close.
func NewBatchTree(ctx context.Context, repo Repo, rev string) *BatchTree {
	return &BatchTree{repo: repo, rev: rev, ctx: ctx}
}

// ReadFile returns the file at path in the commit, with the same refusals
// as Tree.ReadFile.
func (b *BatchTree) ReadFile(path string) ([]byte, error) {
	clean, err := treePath(path)
	if err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.start(); err != nil {
		return nil, err
	}
	if _, err := io.WriteString(b.stdin, b.rev+":"+clean+"\n"); err != nil {
		return nil, b.fail(fmt.Errorf("read %s: %w", path, err))
	}
	header, err := b.stdout.ReadString('\n')
	if err != nil {
		return nil, b.fail(fmt.Errorf("read %s: %w", path, err))
	}
	// A missing object is echoed back as asked, "<rev>:<path> missing",
	// and the path may hold blanks; a found one is "<oid> <type> <size>".
	if strings.HasSuffix(strings.TrimRight(header, "\n"), " missing") {
		return nil, fmt.Errorf("read %s: not in %s", path, short(b.rev))
	}
	fields := strings.Fields(header)
	if len(fields) != 3 {
		return nil, b.fail(fmt.Errorf("read %s: unexpected cat-file answer %q", path, strings.TrimSpace(header)))
	}
	size, err := strconv.Atoi(fields[2])
	if err != nil {
		return nil, b.fail(fmt.Errorf("read %s: unexpected cat-file answer %q", path, strings.TrimSpace(header)))
	}
	data := make([]byte, size+1) // the content, then a newline
	if _, err := io.ReadFull(b.stdout, data); err != nil {
		return nil, b.fail(fmt.Errorf("read %s: %w", path, err))
	}
	if fields[1] != "blob" {
		return nil, fmt.Errorf("read %s: a %s, not a file", path, fields[1])
	}
	return data[:size], nil
}

// start runs the cat-file process once; a process that failed stays failed.
func (b *BatchTree) start() error {
	if b.err != nil || b.cmd != nil {
		return b.err
	}
	cmd := exec.CommandContext(b.ctx, "git", "cat-file", "--batch")
	cmd.Dir = b.repo.Dir
	cmd.Env = b.repo.env()
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return b.fail(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return b.fail(err)
	}
	if err := cmd.Start(); err != nil {
		return b.fail(fmt.Errorf("git cat-file --batch: %w", err))
	}
	b.cmd, b.stdin, b.stdout = cmd, stdin, bufio.NewReaderSize(stdout, 64<<10)
	return nil
}

func (b *BatchTree) fail(err error) error {
	if b.err == nil {
		b.err = err
	}
	return err
}

// Close ends the cat-file process.
func (b *BatchTree) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.cmd == nil {
		return nil
	}
	b.stdin.Close()
	err := b.cmd.Wait()
	b.cmd = nil
	b.err = fmt.Errorf("read after Close")
	return err
}

// treePath cleans a repository path, refusing what leaves the repository
// or names .git, and what the cat-file protocol cannot carry.
func treePath(path string) (string, error) {
	clean := filepath.ToSlash(filepath.Clean(path))
	switch {
	case filepath.IsAbs(path), clean == "..", strings.HasPrefix(clean, "../"), clean == ".git", strings.HasPrefix(clean, ".git/"):
		return "", fmt.Errorf("read %s: outside the repository", path)
	case strings.ContainsAny(path, "\n\r"):
		return "", fmt.Errorf("read %q: a line break in a path", path)
	}
	return clean, nil
}

func short(rev string) string {
	if len(rev) > 7 {
		return rev[:7]
	}
	return rev
}
