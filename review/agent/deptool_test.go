package agent

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/deepreview/deep-review/review"
	"github.com/deepreview/deep-review/review/deps"
	"github.com/deepreview/deep-review/review/deps/depstest"
	"github.com/deepreview/deep-review/review/llm"
)

// libParse is the pinned Go dependency's source: Parse returns -1 for an
// empty string, which the PR does not expect.
const libParse = `package lib

// Parse returns the length of s, or -1 when s is empty.
func Parse(s string) int {
	if s == "" {
		return -1
	}
	return len(s)
}
`

// leftPadJS is the pinned npm dependency: it pads but never truncates.
const leftPadJS = `'use strict';
module.exports = leftPad;

function leftPad(str, len, ch) {
  str = String(str);
  if (!ch && ch !== 0) ch = ' ';
  while (str.length < len) str = ch + str;
  return str;
}
`

const depBaseMain = `package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Println(os.Args[1])
}
`

// The PR slices by what Parse returns: an empty argument panics.
const depHeadMain = `package main

import (
	"fmt"
	"os"

	"example.com/lib"
)

func main() {
	name := os.Args[1]
	fmt.Println(name[:lib.Parse(name)-1])
}
`

// The PR expects leftPad to cut codes to five characters.
const depHeadJS = `const leftPad = require('left-pad');

// code is always five characters wide.
exports.code = (id) => leftPad(id, 5, '0');
`

// depServers are the fake module proxy and npm registry of one test.
type depServers struct {
	proxy    *depstest.Proxy
	registry *depstest.Registry
	libSum   string
	padSRI   string
}

func newDepServers(t *testing.T) depServers {
	t.Helper()
	s := depServers{proxy: depstest.NewProxy(t), registry: depstest.NewRegistry(t)}
	s.proxy.AddModule("example.com/lib", "v1.1.0", map[string]string{"lib.go": "package lib\n\nfunc Parse(s string) int { return len(s) }\n"})
	s.libSum = s.proxy.AddModule("example.com/lib", "v1.2.0", map[string]string{"lib.go": libParse, "README.md": "# lib\n"})
	s.padSRI = s.registry.AddPackage("left-pad", "1.3.0", map[string]string{"index.js": leftPadJS})
	s.registry.AddPackage("left-pad", "1.2.0", map[string]string{"index.js": "module.exports = () => '';\n"})
	return s
}

func (s depServers) fetcher(t *testing.T) (*deps.Fetcher, string) {
	t.Helper()
	outer := t.TempDir()
	cache, err := os.MkdirTemp(outer, "deps-")
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"GOPROXY": s.proxy.URL, "npm_config_registry": s.registry.URL}
	f, err := deps.NewFetcher(deps.Config{CacheDir: cache, Client: &http.Client{}, Getenv: func(k string) string { return env[k] }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f, outer
}

// depFixture is a repository whose base pins example.com/lib v1.2.0 in
// go.mod and go.sum and left-pad 1.3.0 in package-lock.json, and whose PR
// calls lib.Parse and leftPad. A vendored module and a local replacement
// live in the repository, one with a symlink out of it.
func depFixture(t *testing.T, s depServers) *review.PR {
	t.Helper()
	root := t.TempDir()
	dir := filepath.Join(root, "repo")
	writeFile(t, root, "outside/secret.txt", secret+"\n")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	gitRun(t, dir, testEnv, "-c", "init.defaultBranch=main", "init", "-q")
	writeFile(t, dir, "go.mod", `module example.com/app

go 1.22

require (
	example.com/lib v1.2.0
	example.com/local v0.1.0
)

replace example.com/local => ./third_party/local
`)
	writeFile(t, dir, "go.sum", "example.com/lib v1.2.0 "+s.libSum+"\nexample.com/lib v1.2.0/go.mod h1:unused=\n")
	writeFile(t, dir, "third_party/local/local.go", "package local\n\n// Local is replaced in.\nfunc Local() {}\n")
	writeFile(t, dir, "main.go", depBaseMain)
	writeFile(t, dir, "package-lock.json", fmt.Sprintf(`{
  "name": "app",
  "lockfileVersion": 3,
  "requires": true,
  "packages": {
    "": {"name": "app", "dependencies": {"left-pad": "1.3.0"}},
    "node_modules/left-pad": {"version": "1.3.0", "resolved": %q, "integrity": %q, "license": "WTFPL"}
  }
}
`, s.registry.TarballURL("left-pad", "1.3.0"), s.padSRI))
	writeFile(t, dir, "code.js", "exports.code = (id) => String(id);\n")
	gitRun(t, dir, testEnv, "add", "-A")
	gitRun(t, dir, testEnv, "commit", "-q", "-m", "Base: pin lib and left-pad")
	base := gitRun(t, dir, testEnv, "rev-parse", "HEAD")

	gitRun(t, dir, testEnv, "checkout", "-q", "-b", "feature")
	writeFile(t, dir, "main.go", depHeadMain)
	writeFile(t, dir, "code.js", depHeadJS)
	symlink(t, dir, "../../outside/secret.txt", "third_party/local/out")
	gitRun(t, dir, prEnv, "add", "-A")
	gitRun(t, dir, prEnv, "commit", "-q", "-m", "Use lib.Parse and leftPad")
	head := gitRun(t, dir, prEnv, "rev-parse", "HEAD")
	// The working tree drifts from the head: the tool must not see it.
	writeFile(t, dir, "go.sum", "example.com/lib v1.2.0 h1:tampered=\n")
	return &review.PR{
		Repo: "o/app", Number: 9, Title: "Use lib.Parse and leftPad", Author: "pat",
		BaseRef: "main", HeadRef: "feature", BaseSHA: base, HeadSHA: head, MergeBase: base,
		Dir: dir, Diff: gitRun(t, dir, nil, "diff", base+".."+head) + "\n",
		Files: []review.ChangedFile{
			{Path: "main.go", Status: "modified"},
			{Path: "code.js", Status: "modified"},
		},
	}
}

func TestReadDependencyIsOfferedOnlyWithAManifestAndAFetcher(t *testing.T) {
	t.Parallel()
	s := newDepServers(t)
	f, _ := s.fetcher(t)
	if got := DependencyTools(t.Context(), fixture(t), f); len(got) != 0 {
		t.Errorf("a head without go.mod or package-lock.json got %d tools", len(got))
	}
	pr := depFixture(t, s)
	if got := DependencyTools(t.Context(), pr, nil); len(got) != 0 {
		t.Errorf("no fetcher, yet %d tools", len(got))
	}
	tools := DependencyTools(t.Context(), pr, f)
	if len(tools) != 1 || tools[0].Name != ToolReadDependency {
		t.Fatalf("tools = %v", tools)
	}
	var schema struct {
		Properties map[string]struct {
			Enum []string `json:"enum"`
		} `json:"properties"`
	}
	if err := json.Unmarshal(tools[0].Schema, &schema); err != nil {
		t.Fatal(err)
	}
	if got := schema.Properties["ecosystem"].Enum; strings.Join(got, ",") != "go,npm" {
		t.Errorf("ecosystem enum = %v, want go,npm", got)
	}
}

func TestReadDependencyReadsGrepsAndListsConfined(t *testing.T) {
	t.Parallel()
	s := newDepServers(t)
	f, outer := s.fetcher(t)
	pr := depFixture(t, s)
	rd := tool(t, DependencyTools(t.Context(), pr, f), ToolReadDependency)

	out, isErr := call(t, rd, `{"ecosystem":"go","name":"example.com/lib","action":"read","path":"lib.go","start":null,"end":null,"pattern":null,"glob":null}`)
	header := "[example.com/lib v1.2.0: fetched from the Go module proxy " + s.proxy.URL + ", verified against go.sum (" + s.libSum + ")]\n"
	want, _ := numberLines("lib.go", []byte(libParse), nil, nil)
	if isErr || out != header+want {
		t.Errorf("read lib.go = %q (error %v), want\n%s%s", out, isErr, header, want)
	}
	out, isErr = call(t, rd, `{"ecosystem":"go","name":"example.com/lib","action":"grep","path":null,"start":null,"end":null,"pattern":"return -1","glob":"*.go"}`)
	if isErr || !strings.HasSuffix(out, "lib.go:6:\t\treturn -1\n") {
		t.Errorf("grep = %q", out)
	}
	out, isErr = call(t, rd, `{"ecosystem":"go","name":"example.com/lib","action":"list","path":null,"start":null,"end":null,"pattern":null,"glob":null}`)
	if isErr || !strings.HasSuffix(out, "]\nREADME.md\ngo.mod\nlib.go\n") {
		t.Errorf("list = %q", out)
	}
	out, isErr = call(t, rd, `{"ecosystem":"npm","name":"left-pad","action":"read","path":"index.js","start":7,"end":7,"pattern":null,"glob":null}`)
	if isErr || !strings.Contains(out, "   7\t  while (str.length < len) str = ch + str;\n") {
		t.Errorf("read index.js = %q", out)
	}

	// A local replacement is read from the head commit, formatted exactly
	// as read_file formats the same file.
	out, isErr = call(t, rd, `{"ecosystem":"go","name":"example.com/local","action":"read","path":"local.go","start":null,"end":null,"pattern":null,"glob":null}`)
	rf, _ := call(t, tool(t, RepoTools(pr), ToolReadFile), `{"path":"third_party/local/local.go","start":null,"end":null}`)
	if isErr || !strings.HasPrefix(out, "[example.com/local v0.1.0: replaced by the directory third_party/local") || !strings.HasSuffix(out, "]\n"+rf) {
		t.Errorf("local replace read = %q, want read_file's %q", out, rf)
	}

	refusals := []struct{ args, want string }{
		{`{"ecosystem":"go","name":"example.com/local","action":"read","path":"out","start":null,"end":null,"pattern":null,"glob":null}`, "does not exist"},
		{`{"ecosystem":"go","name":"example.com/lib","action":"read","path":"../../../outside/secret.txt","start":null,"end":null,"pattern":null,"glob":null}`, "leaves the dependency"},
		{`{"ecosystem":"go","name":"example.com/lib","action":"read","path":"/etc/passwd","start":null,"end":null,"pattern":null,"glob":null}`, "absolute"},
		{`{"ecosystem":"go","name":"example.com/lib","action":"read","path":"nope.go","start":null,"end":null,"pattern":null,"glob":null}`, "does not exist"},
		{`{"ecosystem":"go","name":"example.com/unpinned","action":"list","path":null,"start":null,"end":null,"pattern":null,"glob":null}`, "not required by go.mod"},
		{`{"ecosystem":"npm","name":"lodash","action":"list","path":null,"start":null,"end":null,"pattern":null,"glob":null}`, "not in package-lock.json"},
		{`{"ecosystem":"go","name":"example.com/lib","action":"read","path":null,"start":null,"end":null,"pattern":null,"glob":null}`, "needs a path"},
		{`{"ecosystem":"go","name":"example.com/lib","action":"grep","path":null,"start":null,"end":null,"pattern":"(","glob":null}`, "not a valid RE2"},
	}
	for _, r := range refusals {
		out, isErr := call(t, rd, r.args)
		if !isErr || !strings.Contains(out, r.want) || strings.Contains(out, secret) {
			t.Errorf("%s = %q (error %v), want a tool error saying %q", r.args, out, isErr, r.want)
		}
	}
	// Nothing landed beside the cache directory.
	entries, _ := os.ReadDir(outer)
	if len(entries) != 1 || !strings.HasPrefix(entries[0].Name(), "deps-") {
		t.Errorf("beside the cache: %v", entries)
	}
}

// quoteLine finds the numbered line holding text in a read_file-style
// result and returns its number and its text after the tab.
func quoteLine(result, text string) (int, string, bool) {
	re := regexp.MustCompile(`(?m)^ *(\d+)\t(.*` + regexp.QuoteMeta(text) + `.*)$`)
	m := re.FindStringSubmatch(result)
	if m == nil {
		return 0, "", false
	}
	var n int
	fmt.Sscan(m[1], &n)
	return n, m[2], true
}

// depReviewer is a scripted reviewer (a test's llm.Model, not a live model):
// it reads a dependency's file with read_dependency, finds the line that
// decides the bug in what came back, and submits a finding on the PR's
// line that cites it.
func depReviewer(readArgs, needle, file string, line int, quote, title string) *scripted {
	return &scripted{next: func(ctx context.Context, turn int, req llm.Request) (*llm.Response, error) {
		if turn == 1 {
			return calls(1, [2]string{ToolReadDependency, readArgs}), nil
		}
		last := req.Messages[len(req.Messages)-1]
		var result string
		for _, r := range last.ToolResults {
			if r.Name == ToolReadDependency && !r.IsError {
				result = r.Content
			}
		}
		header, _, _ := strings.Cut(result, "\n")
		n, text, ok := quoteLine(result, needle)
		if !ok {
			return calls(turn, [2]string{ToolSubmit, `{"summary":"The dependency could not be read.","verdict":"merge"}`}), nil
		}
		var args struct {
			Name string `json:"name"`
			Path string `json:"path"`
		}
		json.Unmarshal([]byte(readArgs), &args)
		cite := fmt.Sprintf("%s %s:%d says `%s` %s", args.Name, args.Path, n, strings.TrimSpace(text), header)
		sub := map[string]any{
			"summary": "The PR relies on a dependency behaving otherwise than its pinned source does.",
			"verdict": "merge-with-fixes",
			"findings": []map[string]any{{
				"severity": "important", "tags": []string{"regression"}, "title": title,
				"file": file, "start_line": line, "end_line": line, "quote": quote,
				"explanation": "The pinned dependency's source shows it: " + cite + ".",
				"fix":         "Handle what the dependency really returns.", "patch": "",
			}},
			"concerns": []any{}, "strengths": []string{}, "testing": map[string]any{"assessment": "", "untested": []string{}},
			"documentation": "", "commit_structure": "", "limitations": []any{}, "unresolved_feedback": []string{}, "files_reviewed": []string{file},
		}
		raw, _ := json.Marshal(sub)
		return calls(turn, [2]string{ToolSubmit, string(raw)}), nil
	}}
}

func TestAScriptedReviewerCitesAPinnedDependencyItRead(t *testing.T) {
	t.Parallel()
	s := newDepServers(t)
	f, outer := s.fetcher(t)
	pr := depFixture(t, s)
	tests := []struct {
		name, readArgs, needle, file string
		line                         int
		quote, title, cite           string
	}{
		{
			name:     "go module from the proxy",
			readArgs: `{"ecosystem":"go","name":"example.com/lib","action":"read","path":"lib.go","start":null,"end":null,"pattern":null,"glob":null}`,
			needle:   "return -1", file: "main.go", line: 12,
			quote: "\tfmt.Println(name[:lib.Parse(name)-1])",
			title: "An empty name slices with -2 and panics",
			cite:  "example.com/lib lib.go:6 says `return -1` [example.com/lib v1.2.0: fetched from the Go module proxy",
		},
		{
			name:     "npm package from the registry",
			readArgs: `{"ecosystem":"npm","name":"left-pad","action":"read","path":"index.js","start":null,"end":null,"pattern":null,"glob":null}`,
			needle:   "while (str.length < len)", file: "code.js", line: 4,
			quote: "exports.code = (id) => leftPad(id, 5, '0');",
			title: "leftPad never cuts a long id to five characters",
			cite:  "left-pad index.js:7 says `while (str.length < len) str = ch + str;` [left-pad 1.3.0: fetched from the npm registry",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := depReviewer(tt.readArgs, tt.needle, tt.file, tt.line, tt.quote, tt.title)
			res := Review(t.Context(), pr, Config{
				Name: "scripted", Identity: llm.Identity{Provider: "test", Model: "scripted", Label: "scripted"},
				Model: m, Deps: f,
			})
			r := res.Run
			if r.Status != review.StatusOK || r.Submission == nil {
				t.Fatalf("run = %+v", r)
			}
			if r.ToolCalls[ToolReadDependency] != 1 {
				t.Errorf("tool calls = %v", r.ToolCalls)
			}
			offered := false
			for _, tl := range m.reqs[0].Tools {
				offered = offered || tl.Name == ToolReadDependency
			}
			if !offered {
				t.Error("read_dependency was not offered to the reviewer")
			}
			fs := r.Submission.Findings
			if len(fs) != 1 || !strings.Contains(fs[0].Explanation, tt.cite) {
				t.Fatalf("findings = %+v, want one citing %q", fs, tt.cite)
			}
			if fs[0].File != tt.file || fs[0].StartLine != tt.line {
				t.Errorf("finding at %s:%d, want %s:%d", fs[0].File, fs[0].StartLine, tt.file, tt.line)
			}
		})
	}
	entries, _ := os.ReadDir(outer)
	if len(entries) != 1 {
		t.Errorf("beside the cache: %v", entries)
	}
}

func TestReadDependencyGrepsAModuleInTheRepository(t *testing.T) {
	t.Parallel()
	s := newDepServers(t)
	f, _ := s.fetcher(t)
	pr := depFixture(t, s)
	rd := tool(t, DependencyTools(t.Context(), pr, f), ToolReadDependency)
	out, isErr := call(t, rd, `{"ecosystem":"go","name":"example.com/local","action":"grep","path":null,"start":null,"end":null,"pattern":"func|secret|ghs_","glob":null}`)
	want := "[example.com/local v0.1.0: replaced by the directory third_party/local of this repository (go.mod replace)]\nlocal.go:4:func Local() {}\n"
	if isErr || out != want {
		t.Errorf("grep = %q, want %q", out, want)
	}
	out, _ = call(t, rd, `{"ecosystem":"go","name":"example.com/local","action":"list","path":null,"start":null,"end":null,"pattern":null,"glob":null}`)
	if !strings.HasSuffix(out, "]\nlocal.go\nout\n") {
		t.Errorf("list = %q, want local.go and the link out", out)
	}
}
