package publish

import (
	"errors"
	"fmt"
	"os"

	"github.com/sethvargo/go-githubactions"
)

// Fork is a pull request from a fork, seen under the pull_request event.
type Fork struct {
	Number int
	// HeadRepo is the fork ("someone/project"); BaseRepo the repository the
	// pull request targets.
	HeadRepo, BaseRepo string
}

// ForkWorkflow is a ready-to-copy workflow that reviews pull requests from
// forks under pull_request_target.
const ForkWorkflow = `name: deep-review
on:
  pull_request_target:
    types: [opened, synchronize, reopened, ready_for_review]
permissions:
  contents: read
  pull-requests: write
concurrency:
  group: deep-review-${{ github.event.pull_request.number }}
  cancel-in-progress: true
jobs:
  review:
    runs-on: ubuntu-latest
    steps:
      # deep-review reads the pull request's files and never runs them.
      # Add no step here that builds, installs or runs the checked-out code.
      - uses: actions/checkout@v4
        with:
          ref: ${{ github.event.pull_request.head.sha }}
          fetch-depth: 0
          persist-credentials: false
      - uses: deepreview/deep-review@v1
        with:
          anthropic-api-key: ${{ secrets.ANTHROPIC_API_KEY }}
`

// ForkNotice explains, instead of reviewing, a fork pull request under
// pull_request: GitHub gives such runs a read-only token and no secrets,
// so the caller makes no model calls. It writes a warning and a job summary
// (replacing what this step wrote) with a workflow that reviews forks under
// pull_request_target. The result's ExitCode is always 0; a summary that
// could not be written is in Problems.
func ForkNotice(a *githubactions.Action, f Fork) Result {
	from := "a fork"
	if f.HeadRepo != "" {
		from = "the fork " + f.HeadRepo
	}
	a.Warningf("deep-review skipped pull request #%d: it comes from %s and runs under the pull_request event, which gets a read-only token and no secrets, so no reviewer could run. Review forks under pull_request_target; the job summary shows how.", f.Number, from)

	var res Result
	path := a.Getenv("GITHUB_STEP_SUMMARY")
	if path == "" {
		return res
	}
	summary := fmt.Sprintf(`# deep-review: pull request #%d was not reviewed

This pull request comes from %s. Under the `+"`pull_request`"+` event GitHub runs
workflows for fork pull requests with a read-only token and without secrets, so
deep-review has no model API key and cannot comment. No model was called.

To review pull requests from forks, run deep-review under `+"`pull_request_target`"+`.
That event runs the workflow from the base branch with the repository's secrets
and a token that can comment. It is safe for deep-review because deep-review never
runs code from the pull request: it only reads the files, and the checkout below
keeps no credentials. Do not add steps that build or run the checked-out code to
this job.

`+"```yaml\n%s```"+`
`, f.Number, from, ForkWorkflow)
	err := os.Truncate(path, 0)
	if err == nil || errors.Is(err, os.ErrNotExist) {
		err = fileCommand(func() { a.AddStepSummary(summary) })
	}
	if err != nil {
		msg := fmt.Sprintf("write the job summary: %v", err)
		a.Errorf("%s", msg)
		res.Problems = append(res.Problems, msg)
	}
	return res
}
