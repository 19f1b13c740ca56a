package pr

import (
	"fmt"
	"path"
	"strings"

	"github.com/bmatcuk/doublestar/v4"
)

// Filters choose which changed files reviewers see. A file is reviewed when it
// matches an Include pattern (or Include is empty), matches no Exclude
// pattern, and, unless NoDefaults is set, is neither vendored nor generated.
// Every file left out is listed in PR.Skipped with the reason. The zero value
// reviews everything but vendored and generated files.
//
// Patterns are doublestar globs matched against the slash-separated path from
// the repository root ("src/**/*.go"). A pattern without a slash also matches
// the file's base name at any depth ("*.pb.go"), and a pattern ending in a
// slash matches everything below that directory ("docs/").
type Filters struct {
	Include []string
	Exclude []string
	// NoDefaults turns off the default exclusion of vendored, lock and
	// generated files: vendor/, node_modules/, third_party/, *.pb.go,
	// *_generated.go, lock files such as go.sum or package-lock.json, and
	// files whose first lines say "Code generated ... DO NOT EDIT".
	NoDefaults bool
}

// defaultExcludes are the patterns, with their reasons, skipped unless
// Filters.NoDefaults is set: vendored trees, generated code and lock files.
var defaultExcludes = []struct{ Pattern, Reason string }{
	{"vendor/", "vendored"},
	{"node_modules/", "vendored"},
	{"third_party/", "vendored"},
	{"*.pb.go", "generated"},
	{"*_generated.go", "generated"},
	{"*.pb.gw.go", "generated"},
	{"go.sum", "lock file"},
	{"package-lock.json", "lock file"},
	{"npm-shrinkwrap.json", "lock file"},
	{"yarn.lock", "lock file"},
	{"pnpm-lock.yaml", "lock file"},
	{"Cargo.lock", "lock file"},
	{"Gemfile.lock", "lock file"},
	{"poetry.lock", "lock file"},
	{"Pipfile.lock", "lock file"},
	{"composer.lock", "lock file"},
	{"uv.lock", "lock file"},
	{"bun.lockb", "lock file"},
}

// generatedLines is how many first lines of a file may carry the
// "Code generated ... DO NOT EDIT" marker.
const generatedLines = 10

// matcher is a validated Filters.
type matcher struct {
	include, exclude []string
	defaults         bool
}

func newMatcher(f Filters) (*matcher, error) {
	m := &matcher{defaults: !f.NoDefaults}
	for _, p := range f.Include {
		if err := checkPattern("include", p); err != nil {
			return nil, err
		}
		m.include = append(m.include, p)
	}
	for _, p := range f.Exclude {
		if err := checkPattern("exclude", p); err != nil {
			return nil, err
		}
		m.exclude = append(m.exclude, p)
	}
	return m, nil
}

func checkPattern(kind, p string) error {
	if strings.TrimSpace(p) == "" {
		return fmt.Errorf("%s pattern is empty; remove it or write a glob such as \"docs/**\"", kind)
	}
	if !doublestar.ValidatePattern(strings.TrimSuffix(p, "/")) {
		return fmt.Errorf("%s pattern %q is not a valid glob; see https://github.com/bmatcuk/doublestar#patterns", kind, p)
	}
	return nil
}

// match reports whether the glob p matches the file at name.
func match(p, name string) bool {
	if strings.HasSuffix(p, "/") {
		dir := strings.TrimSuffix(p, "/")
		if !strings.Contains(dir, "/") {
			// "vendor/" matches a vendor directory at any depth.
			dir = "**/" + dir
		}
		ok, _ := doublestar.Match(dir+"/**", name)
		return ok
	}
	if ok, _ := doublestar.Match(p, name); ok {
		return true
	}
	if !strings.Contains(p, "/") {
		ok, _ := doublestar.Match(p, path.Base(name))
		return ok
	}
	return false
}

// skip returns why the file at name is left out of the review, or "".
func (m *matcher) skip(name string) string {
	if len(m.include) > 0 {
		in := false
		for _, p := range m.include {
			if match(p, name) {
				in = true
				break
			}
		}
		if !in {
			return "matches no include pattern"
		}
	}
	for _, p := range m.exclude {
		if match(p, name) {
			return fmt.Sprintf("excluded by pattern %q", p)
		}
	}
	if m.defaults {
		for _, d := range defaultExcludes {
			if match(d.Pattern, name) {
				return fmt.Sprintf("%s (default exclude %q)", d.Reason, d.Pattern)
			}
		}
	}
	return ""
}

// generatedReason is the skip reason of a file marked as generated.
const generatedReason = `generated (marked "Code generated ... DO NOT EDIT")`

// isGeneratedLine reports whether a line carries the generated-code marker
// (https://go.dev/s/generatedcode, used by many other generators too).
func isGeneratedLine(line string) bool {
	i := strings.Index(line, "Code generated ")
	return i >= 0 && strings.Contains(line[i:], "DO NOT EDIT")
}
