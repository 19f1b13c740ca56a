// Command deep-review reviews a pull request with several LLM reviewers in
// parallel and publishes one verified report. It runs as a GitHub Action
// (a container whose entrypoint is this binary) and from a terminal; all of
// it lives in review/cli and the packages it calls.
package main

import (
	"context"
	"os"

	"github.com/deepreview/deep-review/review/cli"
)

// version is set at release build time with -ldflags "-X main.version=v1.2.3".
var version = "dev"

func main() {
	os.Exit(cli.Main(context.Background(), version, os.Args, os.Getenv, os.Stdout, os.Stderr))
}
