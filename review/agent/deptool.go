package agent

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"regexp"
	"strings"
	"sync"

	"github.com/deepreview/deep-review/review"
	"github.com/deepreview/deep-review/review/deps"
	"github.com/deepreview/deep-review/review/git"
)

// ToolReadDependency reads a pinned dependency's source.
const ToolReadDependency = "read_dependency"

// maxManifestBytes bounds go.mod, go.sum and package-lock.json as read.
const maxManifestBytes = 32 << 20

// Actions of read_dependency.
const (
	depRead = "read"
	depGrep = "grep"
	depList = "list"
)

// ReadDependencyParams are read_dependency's arguments.
type ReadDependencyParams struct {
	Ecosystem string  `json:"ecosystem"`
	Name      string  `json:"name"`
	Action    string  `json:"action"`
	Path      *string `json:"path"`
	Start     *int    `json:"start"`
	End       *int    `json:"end"`
	Pattern   *string `json:"pattern"`
	Glob      *string `json:"glob"`
}

// DependencyTools returns read_dependency when f is set and the head has a
// go.mod or package-lock.json at its root, and nothing otherwise (also when
// the head cannot be listed: the review goes on without the tool). The tool
// reads the manifests from the head commit like the repository tools, and
// its files through f, which may be shared by every reviewer and the lead.
func DependencyTools(ctx context.Context, pr *review.PR, f *deps.Fetcher) []Tool {
	if f == nil || pr == nil || pr.Dir == "" {
		return nil
	}
	r := &repo{pr: pr, git: git.Repo{Dir: pr.Dir}, grepBatch: grepBatchBytes}
	args := append([]string{"ls-tree", "-z", "--name-only", r.head(), "--"}, deps.Manifests...)
	out, err := r.git.Run(ctx, args...)
	if err != nil || len(out) == 0 {
		return nil
	}
	var ecosystems []string
	for _, name := range strings.Split(string(out), "\x00") {
		switch name {
		case "go.mod":
			ecosystems = append(ecosystems, deps.Go)
		case "package-lock.json":
			ecosystems = append(ecosystems, deps.NPM)
		}
	}
	if len(ecosystems) == 0 {
		return nil
	}
	d := &depTool{repo: r, fetcher: f}
	return []Tool{d.tool(ecosystems)}
}

// depTool is read_dependency over one PR head.
type depTool struct {
	repo    *repo
	fetcher *deps.Fetcher

	mu   sync.Mutex
	pins *deps.Pins
}

func (d *depTool) tool(ecosystems []string) Tool {
	return NewTool(ToolReadDependency,
		"Read the source of a dependency at exactly the version the PR head pins (Go modules from go.mod and go.sum, replace directives honoured; npm packages from package-lock.json), to check what a function the code calls really does instead of recalling it. "+
			"action read shows one file with line numbers, like read_file (start and end as there); grep searches the dependency's files for an RE2 pattern (path:line:text); list lists its files. "+
			"Paths are relative to the dependency's root (a Go module's root, an npm package's directory). The source is downloaded from the module proxy or the registry and verified against go.sum or the lockfile's integrity; vendored and locally replaced modules are read from the repository. It is never run.",
		map[string]Field{
			"ecosystem": {Description: "Where the dependency is pinned: go (go.mod) or npm (package-lock.json).", Enum: ecosystems},
			"name":      {Description: "A Go module path or a package path inside one (e.g. golang.org/x/sync/errgroup), or an npm package name (e.g. lodash, @types/node)."},
			"action":    {Description: "read a file, grep the files, or list the files.", Enum: []string{depRead, depGrep, depList}},
			"path":      {Description: "read: the file, relative to the dependency's root (e.g. errgroup/errgroup.go, index.js); null otherwise."},
			"start":     {Description: "read: first line (1-based), or null for the first line."},
			"end":       {Description: "read: last line (inclusive), or null for the last line."},
			"pattern":   {Description: "grep: RE2 regular expression matched against each line; null otherwise."},
			"glob":      {Description: "grep and list: only paths matching this glob (** crosses directories; without / it also matches file names), or null for every file."},
		},
		d.run)
}

func (d *depTool) run(ctx context.Context, p ReadDependencyParams) (string, error) {
	t, err := d.repo.headTree(ctx)
	if err != nil {
		return "", err
	}
	pins, err := d.loadPins(ctx, t)
	if err != nil {
		return "", err
	}
	m, err := d.fetcher.Resolve(ctx, pins, p.Ecosystem, p.Name)
	if err != nil {
		return "", depErr(err)
	}
	src := depFiles(m, t)
	header := fmt.Sprintf("[%s %s: %s]\n", m.Name, m.Version, m.Origin)
	var body string
	switch p.Action {
	case depRead:
		if p.Path == nil {
			return "", Retry("action read needs a path; list the files first")
		}
		body, err = src.readFile(ctx, *p.Path, p.Start, p.End)
	case depGrep:
		if p.Pattern == nil || *p.Pattern == "" {
			return "", Retry("action grep needs a pattern")
		}
		body, err = src.grep(ctx, *p.Pattern, p.Glob)
	case depList:
		body, err = src.list(p.Glob)
	default:
		return "", Retry("action %q is not one of read, grep and list", p.Action)
	}
	if err != nil {
		return "", depErr(err)
	}
	return header + body, nil
}

// loadPins reads the manifests once; a read cut by the context is retried
// on the next call.
func (d *depTool) loadPins(ctx context.Context, t *tree) (*deps.Pins, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.pins != nil {
		return d.pins, nil
	}
	pins, err := deps.LoadPins(ctx, headFiles{t})
	if err != nil {
		return nil, err
	}
	d.pins = pins
	return pins, nil
}

// depErr makes a refusal a result the model reads; other errors abort.
func depErr(err error) error {
	var r *deps.Refusal
	if errors.As(err, &r) {
		return Retry("%s: %s", ToolReadDependency, r.Message)
	}
	return err
}

// headFiles reads manifests from the head tree, confined like read_file.
type headFiles struct{ t *tree }

func (h headFiles) ReadFile(ctx context.Context, p string) ([]byte, error) {
	info, err := h.t.file(ctx, p)
	if err != nil {
		if IsToolError(err) {
			return nil, fmt.Errorf("%s: %w", p, fs.ErrNotExist)
		}
		return nil, err
	}
	if info.size > maxManifestBytes {
		return nil, &deps.Refusal{Message: fmt.Sprintf("%s is %d bytes, over the %d-byte limit for a manifest", p, info.size, maxManifestBytes)}
	}
	return h.t.read(ctx, info.sha)
}

// depSource is a dependency's files: extracted in the cache, or a
// directory of the head tree.
type depSource struct {
	m    *deps.Module
	t    *tree
	name string // for messages: "golang.org/x/sync v0.7.0"
}

func depFiles(m *deps.Module, t *tree) depSource {
	return depSource{m: m, t: t, name: m.Name + " " + m.Version}
}

// files lists the dependency's files, sorted, relative to its root.
func (s depSource) files() ([]string, error) {
	if s.m.RepoDir == "" {
		return s.m.Files()
	}
	prefix := s.m.RepoDir + "/"
	var out []string
	for _, f := range s.t.files {
		if strings.HasPrefix(f, prefix) && s.t.entries[f].typ == "blob" {
			out = append(out, strings.TrimPrefix(f, prefix))
		}
	}
	return out, nil
}

// cleanDepPath confines p to the dependency, as cleanPath does the
// repository.
func cleanDepPath(p string) (string, error) {
	c, err := deps.CleanPath(p)
	if err != nil {
		return "", depErr(err)
	}
	return c, nil
}

// content reads one file: through the head tree's confinement for a
// module in the repository, through the cache's os.Root otherwise. It
// returns nil data with a message for a file that is too large.
func (s depSource) content(ctx context.Context, rel string) (data []byte, note string, err error) {
	if s.m.RepoDir != "" {
		info, err := s.t.file(ctx, s.m.RepoDir+"/"+rel)
		if err != nil {
			if IsToolError(err) {
				return nil, "", Retry("%s does not exist in %s (read from %s); use action list to see its files", rel, s.name, s.m.RepoDir)
			}
			return nil, "", err
		}
		if info.size > maxFileBytes {
			return nil, fmt.Sprintf("%s is a large file (%d bytes, over the %d-byte limit); its content is not shown.", rel, info.size, maxFileBytes), nil
		}
		data, err := s.t.read(ctx, info.sha)
		return data, "", err
	}
	st, err := s.m.Stat(rel)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, "", Retry("%s does not exist in %s; use action list to see its files", rel, s.name)
	case err != nil:
		return nil, "", Retry("%s cannot be read in %s: %v", rel, s.name, err)
	case st.IsDir():
		return nil, "", Retry("%s is a directory in %s; use action list with the glob %q", rel, s.name, rel+"/**")
	case !st.Mode().IsRegular():
		return nil, "", Retry("%s is not a regular file in %s", rel, s.name)
	case st.Size() > maxFileBytes:
		return nil, fmt.Sprintf("%s is a large file (%d bytes, over the %d-byte limit); its content is not shown.", rel, st.Size(), maxFileBytes), nil
	}
	data, err = s.m.ReadFile(rel)
	if err != nil {
		return nil, "", Retry("%s cannot be read in %s: %v", rel, s.name, err)
	}
	return data, "", nil
}

func (s depSource) readFile(ctx context.Context, p string, start, end *int) (string, error) {
	rel, err := cleanDepPath(p)
	if err != nil {
		return "", err
	}
	data, note, err := s.content(ctx, rel)
	if err != nil || note != "" {
		return note, err
	}
	if isBinary(data) {
		return fmt.Sprintf("%s is a binary file (%d bytes); its content is not shown.", rel, len(data)), nil
	}
	return numberLines(rel, data, start, end)
}

func (s depSource) list(glob *string) (string, error) {
	files, err := s.matching(glob)
	if err != nil {
		return "", err
	}
	if len(files) == 0 {
		return fmt.Sprintf("No files of %s match.\n", s.name), nil
	}
	return fileList(files), nil
}

func (s depSource) matching(glob *string) ([]string, error) {
	files, err := s.files()
	if err != nil {
		return nil, err
	}
	t := &tree{files: files}
	return t.match(glob)
}

func (s depSource) grep(ctx context.Context, pattern string, glob *string) (string, error) {
	re, err := regexp.Compile(pattern)
	if err != nil {
		return "", Retry("pattern %q is not a valid RE2 regular expression: %v", pattern, err)
	}
	files, err := s.matching(glob)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	matches, skipped, searched := 0, 0, 0
	full := false
	if s.m.RepoDir != "" {
		// In the repository: the blobs through one git cat-file, links
		// left out as grep leaves them (they are searched under their
		// targets' paths).
		var names, shas []string
		for _, f := range files {
			e := s.t.entries[s.m.RepoDir+"/"+f]
			if e.typ != "blob" || e.isLink() {
				continue
			}
			if e.size > maxFileBytes {
				skipped++
				continue
			}
			names, shas = append(names, f), append(shas, e.sha)
		}
		files = nil
		err := s.t.readBatch(ctx, shas, func(i int, data []byte) bool {
			if isBinary(data) {
				skipped++
				return true
			}
			searched++
			full = !grepDepFile(names[i], data, re, &b, &matches)
			return !full
		})
		if err != nil {
			return "", err
		}
	}
	for _, f := range files {
		if err := ctx.Err(); err != nil {
			return "", err
		}
		data, note, err := s.content(ctx, f)
		if err != nil && !IsToolError(err) {
			return "", err
		}
		if err != nil || note != "" || isBinary(data) {
			skipped++
			continue
		}
		searched++
		if !grepDepFile(f, data, re, &b, &matches) {
			full = true
			break
		}
	}
	if full {
		fmt.Fprintf(&b, "[stopped after %d matches; narrow the pattern or the glob]\n", matches)
	}
	if matches == 0 {
		fmt.Fprintf(&b, "No matches for %q in %d files.\n", pattern, searched)
	}
	if skipped > 0 {
		fmt.Fprintf(&b, "[%d binary or very large files not searched]\n", skipped)
	}
	return b.String(), nil
}

// grepDepFile appends name's matching lines to b as grep prints them and
// reports whether the search may go on.
func grepDepFile(name string, data []byte, re *regexp.Regexp, b *strings.Builder, matches *int) bool {
	for i, text := range splitLines(data) {
		if !re.MatchString(text) {
			continue
		}
		if *matches >= maxGrepMatches {
			return false
		}
		text = strings.TrimSuffix(text, "\r")
		if len(text) > maxGrepLineBytes {
			text = cutUTF8(text, maxGrepLineBytes) + " [...]"
		}
		row := fmt.Sprintf("%s:%d:%s\n", name, i+1, text)
		if b.Len()+len(row) > maxGrepBytes {
			return false
		}
		b.WriteString(row)
		*matches++
	}
	return true
}
