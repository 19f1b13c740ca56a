// Command deep-review reviews a pull request with several LLM reviewers in
// parallel and publishes one verified report. It runs as a GitHub Action
// (a container whose entrypoint is this binary) and from a terminal.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
)

func main() {
	err := run(context.Background(), os.Args, os.Getenv, os.Stdout, os.Stderr)
	if err == nil {
		return
	}
	var exit exitError
	if errors.As(err, &exit) {
		if exit.msg != "" {
			fmt.Fprintln(os.Stderr, "deep-review:", exit.msg)
		}
		os.Exit(exit.code)
	}
	fmt.Fprintln(os.Stderr, "deep-review:", err)
	os.Exit(1)
}
