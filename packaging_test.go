package main

// Packaging tests: every workflow (ours and the README's) passes actionlint,
// action.yml declares exactly the outputs publish lists, the Dockerfile is a
// pinned multi-stage static build with an exec-form entrypoint, and the
// release and CI workflows keep their contracts. None needs Docker or the
// network.

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"
	dockerfile "github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/rhysd/actionlint"

	"github.com/deepreview/deep-review/review/publish"
)

// pkgThisAction is how users call this repository's action.
const pkgThisAction = "deepreview/deep-review"

// pkgWorkflowDoc is one workflow to lint: a file, or a README snippet whose
// first line is line firstLine of file.
type pkgWorkflowDoc struct {
	file      string
	firstLine int
	content   []byte
}

func (d pkgWorkflowDoc) String() string { return fmt.Sprintf("%s:%d", d.file, d.firstLine) }

var (
	pkgFenceOpen  = regexp.MustCompile("^```ya?ml\\s*$")
	pkgFenceClose = regexp.MustCompile("^```\\s*$")
	pkgOnKey      = regexp.MustCompile(`(?m)^on:`)
	pkgJobsKey    = regexp.MustCompile(`(?m)^jobs:`)
)

// pkgMarkdownWorkflows returns the ```yaml blocks of a Markdown file that
// are whole workflows (a top-level on: and jobs:).
func pkgMarkdownWorkflows(file string, md []byte) []pkgWorkflowDoc {
	var docs []pkgWorkflowDoc
	lines := strings.Split(string(md), "\n")
	for i := 0; i < len(lines); i++ {
		if !pkgFenceOpen.MatchString(lines[i]) {
			continue
		}
		start := i + 1
		end := start
		for end < len(lines) && !pkgFenceClose.MatchString(lines[end]) {
			end++
		}
		body := strings.Join(lines[start:end], "\n") + "\n"
		if pkgOnKey.MatchString(body) && pkgJobsKey.MatchString(body) {
			docs = append(docs, pkgWorkflowDoc{file: file, firstLine: start + 1, content: []byte(body)})
		}
		i = end
	}
	return docs
}

// pkgUsesThisAction matches a step that calls this action by its public name.
var pkgUsesThisAction = regexp.MustCompile(`(?m)^(\s*(?:-\s+)?uses:\s*)` + regexp.QuoteMeta(pkgThisAction) + `@[^\s#]+`)

// pkgAsLocalAction rewrites "uses: deepreview/deep-review@<ref>" to
// "uses: ./". actionlint fetches no remote action (it only knows a built-in
// table of popular ones and skips the rest unchecked); pointed at ./ it
// reads this checkout's action.yml from disk instead, so every with: key and
// every steps.<id>.outputs.<name> is checked against the real action.yml.
// Only the text after "uses:" changes, so lines stay where they were.
func pkgAsLocalAction(content []byte) []byte {
	return pkgUsesThisAction.ReplaceAll(content, []byte("${1}./"))
}

// pkgLint lints one workflow with actionlint as a library: shellcheck and
// pyflakes off (they are external binaries), output discarded, the project
// rooted at root so ./ resolves to root's action.yml. Error lines are moved
// to the document's own file.
func pkgLint(t *testing.T, root string, doc pkgWorkflowDoc) []*actionlint.Error {
	t.Helper()
	proj, err := actionlint.NewProject(root)
	if err != nil {
		t.Fatalf("actionlint project at %s: %v", root, err)
	}
	l, err := actionlint.NewLinter(io.Discard, &actionlint.LinterOptions{
		WorkingDir: root,
		Shellcheck: "", // empty: the shellcheck rule is off
		Pyflakes:   "", // empty: the pyflakes rule is off
	})
	if err != nil {
		t.Fatalf("actionlint: %v", err)
	}
	errs, err := l.Lint(doc.file, pkgAsLocalAction(doc.content), proj)
	if err != nil {
		t.Fatalf("actionlint %s: %v", doc, err)
	}
	for _, e := range errs {
		e.Filepath = doc.file
		e.Line += doc.firstLine - 1
	}
	return errs
}

func pkgRepoWorkflows(t *testing.T) []pkgWorkflowDoc {
	t.Helper()
	var docs []pkgWorkflowDoc
	for _, pattern := range []string{".github/workflows/*.yml", ".github/workflows/*.yaml"} {
		files, err := filepath.Glob(pattern)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			docs = append(docs, pkgWorkflowDoc{file: f, firstLine: 1, content: b})
		}
	}
	return docs
}

func TestPackagingWorkflowsPassActionlint(t *testing.T) {
	files := pkgRepoWorkflows(t)
	for _, want := range []string{".github/workflows/ci.yml", ".github/workflows/release.yml"} {
		if !slices.ContainsFunc(files, func(d pkgWorkflowDoc) bool { return d.file == want }) {
			t.Errorf("%s is missing", want)
		}
	}
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	snippets := pkgMarkdownWorkflows("README.md", readme)
	if len(snippets) < 3 {
		t.Errorf("README.md has %d workflow snippets, want the three ready-to-copy ones (pull requests, manual dispatch, nightly)", len(snippets))
	}
	for _, s := range snippets {
		if !pkgUsesThisAction.Match(s.content) {
			t.Errorf("README.md workflow at line %d never calls %s@<ref>", s.firstLine, pkgThisAction)
		}
	}
	for _, doc := range append(files, snippets...) {
		for _, e := range pkgLint(t, ".", doc) {
			t.Errorf("%s:%d:%d: %s [%s]", e.Filepath, e.Line, e.Column, e.Message, e.Kind)
		}
	}
	t.Logf("actionlint checked %d workflow files and %d README snippets", len(files), len(snippets))
}

// TestPackagingWorkflowLintReportsReadmeLines proves the lint can fail: a
// Markdown file whose snippets misuse this action is reported at the
// Markdown's own lines.
func TestPackagingWorkflowLintReportsReadmeLines(t *testing.T) {
	md, err := os.ReadFile("testdata/packaging/bad-workflows.md")
	if err != nil {
		t.Fatal(err)
	}
	snippets := pkgMarkdownWorkflows("bad-workflows.md", md)
	if len(snippets) != 2 {
		t.Fatalf("found %d workflow snippets in bad-workflows.md, want 2 (the shell block and the non-workflow yaml block are not workflows)", len(snippets))
	}
	var got []string
	for _, s := range snippets {
		for _, e := range pkgLint(t, ".", s) {
			got = append(got, fmt.Sprintf("%s:%d: %s", e.Filepath, e.Line, e.Message))
		}
	}
	want := []struct {
		line int
		text string
	}{
		{21, `property "pull-request" is not defined`},                  // an output action.yml lacks
		{26, `input "pr-numbr" is not defined in action "deep-review"`}, // a with: key action.yml lacks
		{34, `label "ubuntu-lastest" is unknown`},                       // a plain workflow mistake
		{38, `"needs" section should not be empty`},                     // and another
		{43, `input "fail-on" is not defined in action "actions`},       // a popular action's inputs are known too
	}
	for _, w := range want {
		prefix := fmt.Sprintf("bad-workflows.md:%d: ", w.line)
		if !slices.ContainsFunc(got, func(g string) bool { return strings.HasPrefix(g, prefix) && strings.Contains(g, w.text) }) {
			t.Errorf("no error %q at line %d; got:\n%s", w.text, w.line, strings.Join(got, "\n"))
		}
	}
	if len(got) != len(want) {
		t.Errorf("got %d errors, want %d:\n%s", len(got), len(want), strings.Join(got, "\n"))
	}
}

// TestPackagingWorkflowLintNeedsNoNetwork: actionlint, as linked here, holds
// no network client at all, so linting cannot reach out whatever a workflow
// says. (The only outside programs it can start are shellcheck and pyflakes,
// which pkgLint leaves off.)
func TestPackagingWorkflowLintNeedsNoNetwork(t *testing.T) {
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command on PATH to list actionlint's dependencies")
	}
	out, err := exec.Command(gobin, "list", "-deps", "github.com/rhysd/actionlint").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps github.com/rhysd/actionlint: %v\n%s", err, out)
	}
	deps := strings.Fields(string(out))
	if !slices.Contains(deps, "github.com/rhysd/actionlint") {
		t.Fatalf("go list printed no actionlint:\n%s", out)
	}
	// Every network client (net/http, a resolver, a raw dial) sits on
	// package net; net/url and net/netip only parse text.
	for _, d := range deps {
		if d == "net" {
			t.Errorf("actionlint now depends on %s: check that linting still makes no network call before upgrading", d)
		}
	}
}

// pkgAction is the part of action.yml these tests read.
type pkgAction struct {
	Outputs map[string]struct {
		Description string `yaml:"description"`
	} `yaml:"outputs"`
	Runs struct {
		Using string `yaml:"using"`
		Image string `yaml:"image"`
	} `yaml:"runs"`
}

func pkgReadAction(t *testing.T, path string) pkgAction {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var a pkgAction
	if err := yaml.Unmarshal(b, &a); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return a
}

func TestPackagingOutputsMatchActionYML(t *testing.T) {
	set := map[string]bool{}
	for _, name := range slices.Concat(publish.ReviewOutputs, []string{publish.PlanOutput}) {
		set[name] = true
	}
	a := pkgReadAction(t, "action.yml")
	for name := range set {
		o, ok := a.Outputs[name]
		switch {
		case !ok:
			t.Errorf("publish lists output %q, which action.yml does not declare: add it under outputs: with a description", name)
		case strings.TrimSpace(o.Description) == "":
			t.Errorf("action.yml output %q has no description", name)
		}
	}
	for name := range a.Outputs {
		if !set[name] {
			t.Errorf("action.yml declares output %q, which publish.ReviewOutputs and PlanOutput do not list: set it or drop it", name)
		}
	}
	t.Logf("%d outputs set by the code, %d declared in action.yml", len(set), len(a.Outputs))
}

// pkgDockerStage is one FROM ... block of a Dockerfile.
type pkgDockerStage struct {
	from  *dockerfile.Node
	image string // after ARG defaults are substituted
	name  string // the AS name, lowercased
	nodes []*dockerfile.Node
}

// pkgArgs returns a node's arguments (the Next chain).
func pkgArgs(n *dockerfile.Node) []string {
	var out []string
	for a := n.Next; a != nil; a = a.Next {
		out = append(out, a.Value)
	}
	return out
}

var pkgVarRef = regexp.MustCompile(`\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?`)

// pkgCheckDockerfile parses a Dockerfile with buildkit's parser and returns
// what keeps it from being a pinned multi-stage static build of this binary
// with git and CA certificates and an exec-form entrypoint.
func pkgCheckDockerfile(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	res, err := dockerfile.Parse(f)
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w", path, err)
	}
	var problems []string
	bad := func(n *dockerfile.Node, format string, a ...any) {
		line := 0
		if n != nil {
			line = n.StartLine
		}
		problems = append(problems, fmt.Sprintf("%s:%d: %s", path, line, fmt.Sprintf(format, a...)))
	}

	globalArgs := map[string]string{}
	var stages []*pkgDockerStage
	for _, n := range res.AST.Children {
		switch kw := strings.ToLower(n.Value); {
		case kw == "from":
			args := pkgArgs(n)
			st := &pkgDockerStage{from: n}
			if len(args) > 0 {
				st.image = pkgVarRef.ReplaceAllStringFunc(args[0], func(ref string) string {
					if v, ok := globalArgs[pkgVarRef.FindStringSubmatch(ref)[1]]; ok {
						return v
					}
					return ref
				})
			}
			if len(args) == 3 && strings.EqualFold(args[1], "as") {
				st.name = strings.ToLower(args[2])
			}
			stages = append(stages, st)
		case len(stages) == 0 && kw == "arg":
			for _, a := range pkgArgs(n) {
				k, v, _ := strings.Cut(a, "=")
				globalArgs[k] = v
			}
		case len(stages) > 0:
			st := stages[len(stages)-1]
			st.nodes = append(st.nodes, n)
		}
	}
	if len(stages) < 2 {
		// The other checks are about the stages' roles; with one stage
		// they would only repeat this.
		bad(nil, "%d stage(s): build in one stage and ship the binary from another (multi-stage)", len(stages))
		return problems, nil
	}

	// Every FROM names a stage built above, scratch, or an image pinned to a
	// tag other than latest (or a digest).
	named := map[string]bool{}
	for _, st := range stages {
		img := strings.ToLower(st.image)
		switch {
		case named[img] || img == "scratch":
		case strings.Contains(img, "$"):
			bad(st.from, "FROM %s: the image depends on an ARG without a default; pin it", st.image)
		case strings.Contains(img, "@sha256:"):
		default:
			tag := ""
			if i := strings.LastIndex(img, ":"); i > strings.LastIndex(img, "/") {
				tag = img[i+1:]
			}
			switch tag {
			case "":
				bad(st.from, "FROM %s: no tag, so it means latest; pin a version tag or a digest", st.image)
			case "latest":
				bad(st.from, "FROM %s: latest moves; pin a version", st.image)
			}
		}
		if st.name != "" {
			named[st.name] = true
		}
	}

	// The build stage: go build, static (CGO_ENABLED=0) and reproducible
	// paths (-trimpath), writing the binary with -o.
	var build *pkgDockerStage
	var binary string
	for _, st := range stages {
		env := ""
		for _, n := range st.nodes {
			switch strings.ToLower(n.Value) {
			case "env":
				// The parser gives key, value, separator for each pair.
				a := pkgArgs(n)
				for i := 0; i+1 < len(a); i += 3 {
					env += " " + a[i] + "=" + a[i+1]
				}
			case "arg":
				env += " " + strings.Join(pkgArgs(n), " ")
			case "run":
				cmd := strings.Join(pkgArgs(n), " ")
				if !strings.Contains(cmd, "go build") {
					continue
				}
				build = st
				ctx := cmd + " " + env
				if !regexp.MustCompile(`\bCGO_ENABLED=0\b`).MatchString(ctx) {
					bad(n, "go build without CGO_ENABLED=0: the binary must be static to run in the final stage")
				}
				if !strings.Contains(cmd, "-trimpath") && !regexp.MustCompile(`GOFLAGS=\S*-trimpath`).MatchString(ctx) {
					bad(n, "go build without -trimpath: build paths would leak into the binary")
				}
				if m := regexp.MustCompile(`\s-o[= ]\s*(\S+)`).FindStringSubmatch(cmd); m != nil {
					binary = m[1]
				}
			}
		}
	}
	final := stages[len(stages)-1]
	if build == nil {
		bad(nil, "no stage runs go build")
	} else if build == final {
		bad(build.from, "go build runs in the final stage: build in its own stage and copy the binary out")
	}

	// The final stage: git and CA certificates installed, the binary copied
	// from the build stage, and an exec-form entrypoint running it.
	var installed []string
	copied := map[string]bool{} // destinations of the binary
	var entry *dockerfile.Node
	for _, n := range final.nodes {
		switch strings.ToLower(n.Value) {
		case "run":
			words := strings.Fields(strings.Join(pkgArgs(n), " "))
			for i, w := range words {
				if (w == "add" && i > 0 && words[i-1] == "apk") || (w == "install" && i > 0 && (words[i-1] == "apt-get" || words[i-1] == "apt")) {
					installed = append(installed, words[i+1:]...)
				}
			}
		case "copy":
			from := ""
			for _, fl := range n.Flags {
				if v, ok := strings.CutPrefix(fl, "--from="); ok {
					from = strings.ToLower(v)
				}
			}
			args := pkgArgs(n)
			if build == nil || from == "" || len(args) < 2 || (from != build.name && from != strconv.Itoa(slices.Index(stages, build))) {
				continue
			}
			dst := args[len(args)-1]
			for _, src := range args[:len(args)-1] {
				if binary != "" && src != binary {
					continue
				}
				if strings.HasSuffix(dst, "/") {
					copied[dst+filepath.Base(src)] = true
				} else {
					copied[dst] = true
				}
			}
		case "entrypoint":
			entry = n
		}
	}
	for _, pkg := range []string{"git", "ca-certificates"} {
		if !slices.Contains(installed, pkg) {
			bad(final.from, "the final stage does not install %s (apk add or apt-get install): the action needs it", pkg)
		}
	}
	if len(copied) == 0 && build != nil {
		bad(final.from, "the final stage copies no binary from the build stage (COPY --from=%s %s ...)", build.name, binary)
	}
	switch {
	case entry == nil:
		bad(final.from, "the final stage has no ENTRYPOINT")
	case !entry.Attributes["json"]:
		bad(entry, "ENTRYPOINT %s is in shell form: use the exec (JSON) form so the binary is PID 1 and gets the arguments", strings.Join(pkgArgs(entry), " "))
	default:
		args := pkgArgs(entry)
		if len(args) == 0 || !copied[args[0]] {
			bad(entry, "ENTRYPOINT %v does not run the binary copied from the build stage (%v)", args, slices.Sorted(func(yield func(string) bool) {
				for k := range copied {
					if !yield(k) {
						return
					}
				}
			}))
		}
	}
	return problems, nil
}

func TestPackagingDockerfileIsPinnedStaticAndExecForm(t *testing.T) {
	problems, err := pkgCheckDockerfile("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Error(p)
	}
}

// TestPackagingDockerfileChecksCatchProblems runs the checks on broken
// Dockerfiles, one fault each.
func TestPackagingDockerfileChecksCatchProblems(t *testing.T) {
	tests := map[string]string{
		"single-stage.Dockerfile":     "1 stage(s)",
		"latest.Dockerfile":           "FROM alpine:latest: latest moves",
		"untagged.Dockerfile":         "FROM alpine: no tag",
		"arg-untagged.Dockerfile":     "FROM golang: no tag",
		"cgo.Dockerfile":              "without CGO_ENABLED=0",
		"no-trimpath.Dockerfile":      "without -trimpath",
		"no-git.Dockerfile":           "does not install git",
		"no-ca.Dockerfile":            "does not install ca-certificates",
		"shell-entrypoint.Dockerfile": "shell form",
		"wrong-entrypoint.Dockerfile": "does not run the binary",
		"cross-compile.Dockerfile":    "", // passes: ENV CGO_ENABLED, ARG-built tag, COPY to a folder
	}
	for file, want := range tests {
		t.Run(file, func(t *testing.T) {
			path := filepath.Join("testdata/packaging/dockerfiles", file)
			problems, err := pkgCheckDockerfile(path)
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case want == "" && len(problems) > 0:
				t.Errorf("problems = %q, want none", problems)
			case want != "" && (len(problems) != 1 || !strings.Contains(problems[0], want)):
				t.Errorf("problems = %q, want exactly one containing %q", problems, want)
			}
		})
	}
}

// pkgParseWorkflow parses a workflow file into actionlint's syntax tree.
func pkgParseWorkflow(t *testing.T, path string) *actionlint.Workflow {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	w, errs := actionlint.Parse(b)
	if len(errs) > 0 || w == nil {
		t.Fatalf("%s: %v", path, errs)
	}
	return w
}

// pkgStepUsing returns the job's first step that calls the action prefix@...
func pkgStepUsing(job *actionlint.Job, prefix string) *actionlint.ExecAction {
	for _, s := range job.Steps {
		if a, ok := s.Exec.(*actionlint.ExecAction); ok && a.Uses != nil && strings.HasPrefix(a.Uses.Value, prefix+"@") {
			return a
		}
	}
	return nil
}

func pkgWith(a *actionlint.ExecAction, name string) string {
	if a == nil || a.Inputs[name] == nil || a.Inputs[name].Value == nil {
		return ""
	}
	return a.Inputs[name].Value.Value
}

func pkgPermission(job *actionlint.Job, scope string) string {
	if job == nil || job.Permissions == nil || job.Permissions.Scopes[scope] == nil {
		return ""
	}
	return job.Permissions.Scopes[scope].Value.Value
}

func TestPackagingReleaseWorkflowContract(t *testing.T) {
	w := pkgParseWorkflow(t, ".github/workflows/release.yml")
	var tags []string
	for _, ev := range w.On {
		if wh, ok := ev.(*actionlint.WebhookEvent); ok && wh.Hook.Value == "push" && wh.Tags != nil {
			for _, v := range wh.Tags.Values {
				tags = append(tags, v.Value)
			}
		}
	}
	if len(tags) == 0 || !slices.ContainsFunc(tags, func(s string) bool { return strings.HasPrefix(s, "v") }) {
		t.Errorf("release.yml runs on push tags %v, want version tags v*", tags)
	}
	image, release := w.Jobs["image"], w.Jobs["release"]
	if image == nil || release == nil {
		t.Fatalf("release.yml jobs: want image and release")
	}
	if got := pkgPermission(image, "packages"); got != "write" {
		t.Errorf("image job permissions.packages = %q, want write (push to ghcr.io)", got)
	}
	if got := pkgPermission(release, "contents"); got != "write" {
		t.Errorf("release job permissions.contents = %q, want write (tags and the release)", got)
	}
	if !slices.ContainsFunc(release.Needs, func(s *actionlint.String) bool { return s.Value == "image" }) {
		t.Error("the release job must need the image job: action.yml may point only at a pushed image")
	}
	var releaseSteps []string
	for _, s := range release.Steps {
		if s.ID != nil {
			releaseSteps = append(releaseSteps, s.ID.Value)
		}
	}
	if i, j := slices.Index(releaseSteps, "public-image"), slices.Index(releaseSteps, "point-action"); i < 0 || j < 0 || i > j {
		t.Errorf("release job step ids %v: want public-image (an anonymous pull works) before point-action", releaseSteps)
	}
	for _, a := range []string{"docker/setup-qemu-action", "docker/setup-buildx-action", "docker/login-action", "docker/build-push-action"} {
		if pkgStepUsing(image, a) == nil {
			t.Errorf("the image job has no %s step", a)
		}
	}
	if got := pkgWith(pkgStepUsing(image, "docker/login-action"), "registry"); got != "ghcr.io" {
		t.Errorf("docker/login-action registry = %q, want ghcr.io", got)
	}
	bp := pkgStepUsing(image, "docker/build-push-action")
	platforms := strings.Split(strings.ReplaceAll(pkgWith(bp, "platforms"), " ", ""), ",")
	for _, p := range []string{"linux/amd64", "linux/arm64"} {
		if !slices.Contains(platforms, p) {
			t.Errorf("build-push-action platforms %v lack %s", platforms, p)
		}
	}
	if got := pkgWith(bp, "push"); got != "true" {
		t.Errorf("build-push-action push = %q, want true", got)
	}
	if got := pkgWith(bp, "build-args"); !strings.Contains(got, "VERSION=${{ github.ref_name }}") {
		t.Errorf("build-push-action build-args = %q, want VERSION=${{ github.ref_name }}", got)
	}
	// Every third-party action is pinned at least to a major version.
	for _, job := range w.Jobs {
		for _, s := range job.Steps {
			if a, ok := s.Exec.(*actionlint.ExecAction); ok {
				if !regexp.MustCompile(`@(v\d+(\.\d+)*|[0-9a-f]{40})$`).MatchString(a.Uses.Value) {
					t.Errorf("%s: pin the action to a major version or a commit", a.Uses.Value)
				}
			}
		}
	}
}

// pkgRunStep returns the run script and env of the step with the given id.
func pkgRunStep(t *testing.T, job *actionlint.Job, id string) (string, map[string]string) {
	t.Helper()
	for _, s := range job.Steps {
		if s.ID == nil || s.ID.Value != id {
			continue
		}
		r, ok := s.Exec.(*actionlint.ExecRun)
		if !ok {
			t.Fatalf("step %s runs no script", id)
		}
		if r.Shell == nil || r.Shell.Value != "bash" {
			t.Fatalf("step %s: want shell: bash, which this test runs it with", id)
		}
		env := map[string]string{}
		if s.Env != nil {
			for _, v := range s.Env.Vars {
				env[v.Name.Value] = v.Value.Value
			}
		}
		return r.Run.Value, env
	}
	t.Fatalf("no step with id %s", id)
	return "", nil
}

// TestPackagingReleasePointsActionAtImage runs the release job's rewrite
// script, as GitHub runs a bash step, on copies of action.yml: runs.image
// becomes the docker:// image and nothing else changes, not even an input
// that happens to be named image.
func TestPackagingReleasePointsActionAtImage(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("bash is not installed")
	}
	if _, err := exec.LookPath("awk"); err != nil {
		t.Skip("awk is not installed")
	}
	w := pkgParseWorkflow(t, ".github/workflows/release.yml")
	script, env := pkgRunStep(t, w.Jobs["release"], "point-action")
	if env["IMAGE"] != "${{ needs.image.outputs.image }}:${{ github.ref_name }}" {
		t.Errorf("point-action IMAGE = %q, want the image job's image and the pushed tag", env["IMAGE"])
	}
	const image = "ghcr.io/deepreview/deep-review:v1.2.3"
	for _, src := range []string{"action.yml", "testdata/packaging/action-with-image-input.yml"} {
		t.Run(filepath.Base(src), func(t *testing.T) {
			before, err := os.ReadFile(src)
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "action.yml"), before, 0o644); err != nil {
				t.Fatal(err)
			}
			// git diff at the end of the script: give it a repository.
			gitEnv := append(os.Environ(), "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1")
			if out, err := exec.Command("git", "-c", "init.defaultBranch=main", "init", "-q", dir).CombinedOutput(); err != nil {
				t.Skipf("git init: %v\n%s", err, out)
			}
			cmd := exec.Command(bash, "--noprofile", "--norc", "-eo", "pipefail", "-c", script)
			cmd.Dir = dir
			cmd.Env = append(gitEnv, "IMAGE="+image)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("point-action script: %v\n%s", err, out)
			}
			after, err := os.ReadFile(filepath.Join(dir, "action.yml"))
			if err != nil {
				t.Fatal(err)
			}
			var a pkgAction
			if err := yaml.Unmarshal(after, &a); err != nil {
				t.Fatalf("rewritten action.yml: %v\n%s", err, after)
			}
			if a.Runs.Using != "docker" || a.Runs.Image != "docker://"+image {
				t.Errorf("runs = %+v, want docker with image docker://%s", a.Runs, image)
			}
			bl, al := strings.Split(string(before), "\n"), strings.Split(string(after), "\n")
			if len(bl) != len(al) {
				t.Fatalf("line count %d -> %d: only runs.image may change", len(bl), len(al))
			}
			changed := 0
			for i := range bl {
				if bl[i] != al[i] {
					changed++
					if !strings.Contains(al[i], "image: docker://"+image) {
						t.Errorf("line %d changed: %q -> %q", i+1, bl[i], al[i])
					}
				}
			}
			if changed != 1 {
				t.Errorf("%d lines changed, want 1", changed)
			}
		})
	}
	t.Run("no runs.image", func(t *testing.T) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "action.yml"), []byte("name: x\nruns:\n  using: node24\n  main: index.js\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(bash, "--noprofile", "--norc", "-eo", "pipefail", "-c", script)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "IMAGE="+image)
		out, err := cmd.CombinedOutput()
		if err == nil || !bytes.Contains(out, []byte("::error file=action.yml::no runs.image line")) {
			t.Errorf("want the step to fail with an annotation; err %v, output:\n%s", err, out)
		}
	})
}

func TestPackagingCIWorkflowContract(t *testing.T) {
	w := pkgParseWorkflow(t, ".github/workflows/ci.yml")
	var events []string
	for _, ev := range w.On {
		events = append(events, ev.EventName())
	}
	for _, want := range []string{"push", "pull_request"} {
		if !slices.Contains(events, want) {
			t.Errorf("ci.yml runs on %v, want %s too", events, want)
		}
	}
	var runsCI, setupGo, buildsImage bool
	for _, job := range w.Jobs {
		if a := pkgStepUsing(job, "actions/setup-go"); a != nil && pkgWith(a, "go-version-file") == "go.mod" {
			setupGo = true
		}
		if a := pkgStepUsing(job, "docker/build-push-action"); a != nil && pkgWith(a, "push") == "false" {
			buildsImage = true
		}
		for _, s := range job.Steps {
			if r, ok := s.Exec.(*actionlint.ExecRun); ok && strings.TrimSpace(r.Run.Value) == "bash .ci/run" {
				runsCI = true
			}
		}
	}
	if !setupGo {
		t.Error("ci.yml: no actions/setup-go step with go-version-file: go.mod")
	}
	if !runsCI {
		t.Error("ci.yml: no step runs bash .ci/run")
	}
	if !buildsImage {
		t.Error("ci.yml: no docker/build-push-action step building the image with push: false")
	}
}
