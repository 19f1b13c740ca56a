package git

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
)

// attrMode says where a Repo's reads take gitattributes from. The zero value
// reads them as git does by default: from the working tree and the index.
type attrMode struct {
	// source is the tree-ish given as --attr-source (git 2.40 or newer).
	source string
	// gitDir, when source is empty, is the repository's git directory: the
	// command then runs there as a bare repository, where git 2.39 reads no
	// in-tree .gitattributes at all.
	gitDir string
}

// ReadingAt returns a copy of r whose commands read with the gitattributes
// of the commit rev (the base a pull request targets) instead of those of
// the working tree, so a pull request's own .gitattributes ("*.go -diff",
// a textconv or an external diff driver) cannot change what its diff, blame,
// log or grep show. With git 2.40 or newer every command gets
// --attr-source=rev; older git has no such option, so the commands run as on
// a bare repository, with no in-tree attributes at all ($GIT_DIR/info/attributes,
// the checkout owner's, still applies). An empty rev means no in-tree
// attributes whatever the version.
//
// It runs git twice (its version and the git directory), once per call:
// make the copy once per repository and reuse it. The copy must not be used
// for commands that need a working tree or the index (checkout, apply,
// status); the callers' diff, log, blame, grep, rev-list and cat-file do not.
func (r Repo) ReadingAt(ctx context.Context, rev string) (Repo, error) {
	r.attr = nil
	out, err := r.Output(ctx, "version")
	if err != nil {
		return Repo{}, fmt.Errorf("read git's version: %w", err)
	}
	if rev != "" && supportsAttrSource(out) {
		r.attr = &attrMode{source: rev}
		return r, nil
	}
	dir, err := r.Output(ctx, "rev-parse", "--absolute-git-dir")
	if err != nil {
		return Repo{}, fmt.Errorf("find the git directory of %s: %w", r.Dir, err)
	}
	r.attr = &attrMode{gitDir: dir}
	return r, nil
}

var versionRe = regexp.MustCompile(`^git version (\d+)\.(\d+)`)

// supportsAttrSource reports whether `git version` output names git 2.40
// or newer, the first with --attr-source.
func supportsAttrSource(version string) bool {
	m := versionRe.FindStringSubmatch(version)
	if m == nil {
		return false
	}
	major, _ := strconv.Atoi(m[1])
	minor, _ := strconv.Atoi(m[2])
	return major > 2 || major == 2 && minor >= 40
}

// command returns the directory and arguments a command runs with under
// r's attribute mode.
func (r Repo) command(args []string) (string, []string) {
	switch {
	case r.attr == nil:
		return r.Dir, args
	case r.attr.source != "":
		return r.Dir, append([]string{"--attr-source=" + r.attr.source}, args...)
	default:
		pre := []string{"--git-dir=" + r.attr.gitDir, "-c", "core.bare=true", "-c", "safe.directory=" + r.attr.gitDir}
		return r.attr.gitDir, append(pre, args...)
	}
}
