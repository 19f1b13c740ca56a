package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"
)

// exitError ends the program with a code other than 1, or with 1 and no
// further message when the reason was already reported.
type exitError struct {
	code int
	msg  string
}

// Error is the message, or the exit code when there is none.
func (e exitError) Error() string {
	if e.msg != "" {
		return e.msg
	}
	return fmt.Sprintf("exit %d", e.code)
}

const usage = `deep-review reviews a pull request with several LLM reviewers and publishes one report.

Usage:
  deep-review demo [--out-dir DIR] [--fast]            offline, on a bundled fixture with scripted sessions
  deep-review review --base REF --head REF [--dir CHECKOUT] --reviewers SPEC [--out-dir DIR]
  deep-review review --repo OWNER/NAME --pr N [--dir CHECKOUT] [--publish] --reviewers SPEC
  deep-review version

Run 'deep-review COMMAND --help' for a command's flags. Under GitHub Actions
(GITHUB_ACTIONS=true) and with no command, it runs as the action.
`

// Main is the whole program: main calls it with the release version and
// the process's arguments, environment and output, and exits with the code
// it returns. An error is printed to stderr after "deep-review:".
func Main(ctx context.Context, version string, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	err := run(ctx, version, args, getenv, stdout, stderr)
	if err == nil {
		return 0
	}
	var exit exitError
	if errors.As(err, &exit) {
		if exit.msg != "" {
			fmt.Fprintln(stderr, "deep-review:", exit.msg)
		}
		return exit.code
	}
	fmt.Fprintln(stderr, "deep-review:", err)
	return 1
}

// run is the whole program: Main only calls it. Everything it reads from
// the process comes through its arguments, so tests drive it with a map for
// getenv and buffers for output.
func run(ctx context.Context, version string, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	cmd := ""
	if len(args) > 1 {
		cmd = args[1]
	}
	var rest []string
	if len(args) > 2 {
		rest = args[2:]
	}
	switch cmd {
	case "demo":
		return runDemo(ctx, rest, getenv, stdout, stderr)
	case "review":
		return runReviewCommand(ctx, rest, getenv, stdout, stderr)
	case "action":
		return runAction(ctx, rest, getenv, stdout, stderr)
	case "version", "--version":
		fmt.Fprintln(stdout, "deep-review", buildVersion(version))
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	case "":
		if getenv("GITHUB_ACTIONS") == "true" {
			return runAction(ctx, rest, getenv, stdout, stderr)
		}
		fmt.Fprint(stderr, usage)
		return exitError{code: 2, msg: "no command given; try 'deep-review demo'"}
	}
	fmt.Fprint(stderr, usage)
	return exitError{code: 2, msg: fmt.Sprintf("unknown command %q", cmd)}
}

// buildVersion is the release version (version, unless it is "dev"), or the module version and VCS
// revision a plain go build recorded.
func buildVersion(version string) string {
	if version != "dev" {
		return version
	}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return version
	}
	v := info.Main.Version
	for _, s := range info.Settings {
		if s.Key == "vcs.revision" && len(s.Value) >= 12 {
			v += " (" + s.Value[:12] + ")"
		}
	}
	if v == "" || v == "(devel)" {
		return version
	}
	return v
}

// parseFlags parses args with fs, answering --help on stdout without an
// error, and rejecting stray arguments.
func parseFlags(fs *flag.FlagSet, args []string, stdout io.Writer) (help bool, err error) {
	fs.SetOutput(io.Discard)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprintf(stdout, "Usage: deep-review %s [flags]\n\nFlags (every action input is also a flag of the same name):\n", fs.Name())
			fs.SetOutput(stdout)
			fs.PrintDefaults()
			return true, nil
		}
		return false, exitError{code: 2, msg: fmt.Sprintf("%s: %v (see 'deep-review %s --help')", fs.Name(), err, fs.Name())}
	}
	if fs.NArg() > 0 {
		return false, exitError{code: 2, msg: fmt.Sprintf("%s: unexpected argument %q; flags start with --", fs.Name(), strings.Join(fs.Args(), " "))}
	}
	return false, nil
}

// flagsSet lists the flags given explicitly on the command line.
func flagsSet(fs *flag.FlagSet) map[string]bool {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if set["out"] {
		set["out-dir"] = true
	}
	return set
}
