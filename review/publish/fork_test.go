package publish

import (
	"strings"
	"testing"

	"github.com/goccy/go-yaml"
	"github.com/sethvargo/go-githubactions"
)

func TestForkNoticeWarnsAndExplainsPullRequestTarget(t *testing.T) {
	r := newRunner(t)
	if err := writeFile(r.summary, "stale summary from an earlier write\n"); err != nil {
		t.Fatal(err)
	}
	a := githubactions.New(githubactions.WithGetenv(r.getenv), githubactions.WithWriter(&r.stdout))
	res := ForkNotice(a, Fork{Number: 31, HeadRepo: "zzj-bot/gha-ci-playground", BaseRepo: "zhouzhuojie/gha-ci-playground"})
	if res.ExitCode != 0 || len(res.Problems) > 0 {
		t.Errorf("exit %d, problems %q; want a clean exit", res.ExitCode, res.Problems)
	}
	warnings := r.commands("warning")
	if len(warnings) != 1 || !strings.Contains(warnings[0].message, "#31") || !strings.Contains(warnings[0].message, "pull_request_target") {
		t.Errorf("warnings = %+v, want one naming the PR and pull_request_target", warnings)
	}
	s := r.readSummary()
	if strings.Contains(s, "stale summary") {
		t.Errorf("summary was appended to, not replaced")
	}
	for _, want := range []string{"zzj-bot/gha-ci-playground", "read-only token", "No model was called", "never\nruns code from the pull request", ForkWorkflow} {
		if !strings.Contains(s, want) {
			t.Errorf("summary lacks %q:\n%s", want, s)
		}
	}
}

func TestForkWorkflowIsAWorkflow(t *testing.T) {
	var wf struct {
		On struct {
			Target *struct {
				Types []string `yaml:"types"`
			} `yaml:"pull_request_target"`
		} `yaml:"on"`
		Permissions map[string]string `yaml:"permissions"`
		Jobs        map[string]struct {
			Steps []struct {
				Uses string            `yaml:"uses"`
				With map[string]string `yaml:"with"`
			} `yaml:"steps"`
		} `yaml:"jobs"`
	}
	if err := yaml.Unmarshal([]byte(ForkWorkflow), &wf); err != nil {
		t.Fatalf("ForkWorkflow is not YAML: %v", err)
	}
	if wf.On.Target == nil {
		t.Fatal("ForkWorkflow does not trigger on pull_request_target")
	}
	if wf.Permissions["pull-requests"] != "write" || wf.Permissions["contents"] != "read" {
		t.Errorf("permissions = %v, want contents read and pull-requests write", wf.Permissions)
	}
	steps := wf.Jobs["review"].Steps
	if len(steps) != 2 || steps[0].With["persist-credentials"] != "false" || !strings.HasPrefix(steps[1].Uses, "deepreview/deep-review@") {
		t.Errorf("steps = %+v, want a credential-free checkout then deep-review", steps)
	}
}
