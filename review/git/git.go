// Package git runs the git command line on one repository, the same way
// everywhere: no user or system config is read, output is in English, and
// the checkout is marked safe so a container running as another user than
// the checkout's owner does not stop on "dubious ownership".
package git

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
)

// Repo is a git checkout (or bare repository) at Dir.
type Repo struct {
	// Dir is the repository's top-level directory.
	Dir string
	// Env is added to the environment of every git command, after the
	// defaults, e.g. an author identity for tests that commit.
	Env []string

	// attr is where reads take gitattributes from; nil is git's default.
	// ReadingAt sets it.
	attr *attrMode
}

// Error is a git command that exited non-zero, with what it printed.
type Error struct {
	Args   []string
	Stderr string
	Err    error
}

func (e *Error) Error() string {
	msg := strings.TrimSpace(e.Stderr)
	if msg == "" {
		msg = e.Err.Error()
	}
	return fmt.Sprintf("git %s: %s", strings.Join(e.Args, " "), msg)
}

func (e *Error) Unwrap() error { return e.Err }

// Run runs git with args in the repository and returns its standard output.
func (r Repo) Run(ctx context.Context, args ...string) ([]byte, error) {
	return r.RunInput(ctx, nil, args...)
}

// RunInput is Run with stdin.
func (r Repo) RunInput(ctx context.Context, stdin []byte, args ...string) ([]byte, error) {
	dir, full := r.command(args)
	cmd := exec.CommandContext(ctx, "git", full...)
	cmd.Dir = dir
	cmd.Env = r.env()
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("git %s: %w", strings.Join(args, " "), ctx.Err())
		}
		return nil, &Error{Args: args, Stderr: stderr.String(), Err: err}
	}
	return stdout.Bytes(), nil
}

// maxStderr bounds what Stream keeps of git's standard error.
const maxStderr = 64 << 10

// Stream runs git with args and hands its standard output to read as it is
// produced, so output of any size is never held whole. When read returns an
// error, git is stopped and that error is returned; otherwise a failing git
// is an *Error, as with Run.
func (r Repo) Stream(ctx context.Context, read func(io.Reader) error, args ...string) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	dir, full := r.command(args)
	cmd := exec.CommandContext(ctx, "git", full...)
	cmd.Dir = dir
	cmd.Env = r.env()
	stderr := &capped{max: maxStderr}
	cmd.Stderr = stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return fmt.Errorf("git %s: %w", strings.Join(args, " "), err)
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("git %s: %w", strings.Join(args, " "), err)
	}
	readErr := read(stdout)
	if readErr != nil {
		cancel()
	}
	// Drain what read left, so git is not blocked writing and exits.
	_, _ = io.Copy(io.Discard, stdout)
	waitErr := cmd.Wait()
	switch {
	case readErr != nil:
		return readErr
	case waitErr != nil && ctx.Err() != nil:
		return fmt.Errorf("git %s: %w", strings.Join(args, " "), ctx.Err())
	case waitErr != nil:
		return &Error{Args: args, Stderr: stderr.String(), Err: waitErr}
	}
	return nil
}

// capped keeps the first max bytes written to it.
type capped struct {
	max int
	b   bytes.Buffer
}

func (c *capped) Write(p []byte) (int, error) {
	if room := c.max - c.b.Len(); room > 0 {
		c.b.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

func (c *capped) String() string { return c.b.String() }

// Output is Run with the output as a string, trailing newline removed.
func (r Repo) Output(ctx context.Context, args ...string) (string, error) {
	out, err := r.Run(ctx, args...)
	return strings.TrimRight(string(out), "\n"), err
}

// HasCommit reports whether the repository holds the commit rev.
func (r Repo) HasCommit(ctx context.Context, rev string) bool {
	_, err := r.Run(ctx, "cat-file", "-e", rev+"^{commit}")
	return err == nil
}

// ExitCode is the exit code of a failed git command, or -1.
func ExitCode(err error) int {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	return -1
}

// env is the process environment with git's config isolated: the user's and
// the system's config files are not read, so a developer's aliases or a
// runner's settings cannot change what deep-review sees.
func (r Repo) env() []string {
	env := make([]string, 0, len(os.Environ())+10)
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "GIT_") {
			continue
		}
		env = append(env, kv)
	}
	env = append(env,
		"GIT_CONFIG_NOSYSTEM=1",
		"GIT_CONFIG_GLOBAL=/dev/null",
		"GIT_TERMINAL_PROMPT=0",
		"LC_ALL=C",
		"GIT_CONFIG_COUNT=1",
		"GIT_CONFIG_KEY_0=safe.directory",
		"GIT_CONFIG_VALUE_0="+r.Dir,
	)
	return append(env, r.Env...)
}
