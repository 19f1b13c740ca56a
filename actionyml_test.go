package main

// Tests that action.yml, a root file, declares what the code reads and
// sets: every input of config.Inputs with its default.

import (
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"

	"github.com/deepreview/deep-review/review/config"
)

// actionYAML is the part of action.yml these tests read.
type actionYAML struct {
	Inputs map[string]struct {
		Description string  `yaml:"description"`
		Default     *string `yaml:"default"`
	} `yaml:"inputs"`
	Outputs map[string]struct {
		Description string `yaml:"description"`
	} `yaml:"outputs"`
	Runs struct {
		Using string `yaml:"using"`
		Image string `yaml:"image"`
	} `yaml:"runs"`
}

func readActionYAML(t *testing.T) actionYAML {
	t.Helper()
	data, err := os.ReadFile("action.yml")
	if err != nil {
		t.Fatal(err)
	}
	var a actionYAML
	if err := yaml.Unmarshal(data, &a); err != nil {
		t.Fatalf("action.yml: %v", err)
	}
	return a
}

func TestActionYAMLListsEveryInputWithItsDefault(t *testing.T) {
	a := readActionYAML(t)
	var inTable []string
	for _, in := range config.Inputs {
		inTable = append(inTable, in.Name)
		got, ok := a.Inputs[in.Name]
		if !ok {
			t.Errorf("action.yml lacks input %q", in.Name)
			continue
		}
		if strings.TrimSpace(got.Description) == "" {
			t.Errorf("input %q has no description", in.Name)
		}
		want := in.Default
		if in.File {
			// The runner passes a default as if the user had given it,
			// which would hide the config file's value.
			want = ""
		}
		if in.Name == "github-token" {
			want = "${{ github.token }}"
		}
		def := ""
		if got.Default != nil {
			def = *got.Default
		}
		if def != want {
			t.Errorf("input %q: action.yml default %q, flag default %q", in.Name, def, want)
		}
	}
	var inYAML []string
	for name := range a.Inputs {
		inYAML = append(inYAML, name)
	}
	sort.Strings(inTable)
	sort.Strings(inYAML)
	if strings.Join(inTable, ",") != strings.Join(inYAML, ",") {
		t.Errorf("inputs differ:\n table %v\n yaml  %v", inTable, inYAML)
	}
	if a.Runs.Using != "docker" || a.Runs.Image == "" {
		t.Errorf("runs = %+v, want a docker action", a.Runs)
	}
}

func TestActionYAMLListsTheDesignsOutputs(t *testing.T) {
	a := readActionYAML(t)
	for _, name := range []string{"verdict", "critical", "important", "suggestions", "round", "report-json", "report-markdown", "comment-url", "artifact-url", "tokens", "cost-usd", "pull-requests"} {
		if o, ok := a.Outputs[name]; !ok || o.Description == "" {
			t.Errorf("output %q missing or undescribed", name)
		}
	}
}
