package agent

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/bmatcuk/doublestar/v4"

	"github.com/deepreview/deep-review/review"
	"github.com/deepreview/deep-review/review/git"
)

// Bounds of the repository tools. Each tool's output stays under these; when
// it is cut, the result says so and how to ask for the rest.
const (
	maxReadBytes     = 40_000  // read_file and show_base output per call
	maxLineBytes     = 2_000   // one line of read_file or show_base
	maxFileBytes     = 2 << 20 // larger files get a summary, not bytes
	maxGrepMatches   = 200     // grep result lines
	maxGrepLineBytes = 300     // the text of one grep match
	maxGrepBytes     = 40_000  // grep output
	grepBatchBytes   = 8 << 20 // blobs grep reads per git cat-file, by default
	maxListFiles     = 1_000   // list_files entries
	maxLogCommits    = 30      // git_log commits
	maxBlameBytes    = 40_000  // git_blame output
	maxDiffBytes     = 60_000  // diff output
)

// Tool names.
const (
	ToolReadFile = "read_file"
	ToolGrep     = "grep"
	ToolList     = "list_files"
	ToolGitLog   = "git_log"
	ToolBlame    = "git_blame"
	ToolShowBase = "show_base"
	ToolDiff     = "diff"
	ToolSubmit   = "submit_review"
)

// repo is the state the repository tools share for one pull request.
type repo struct {
	pr  *review.PR
	git git.Repo

	// grepBatch is how many bytes of blobs grep reads per git call.
	grepBatch int64

	mu        sync.Mutex
	tree      *tree
	prCommits map[string]bool
	// attrGit is git reading with the base's attributes (blameGit).
	attrGit *git.Repo
}

// headTree is the head commit's tree, listed on first successful use.
func (r *repo) headTree(ctx context.Context) (*tree, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.tree != nil {
		return r.tree, nil
	}
	if r.pr.Dir == "" {
		return nil, errors.New("the checkout directory is empty; set pr.Dir to the repository")
	}
	t, err := loadTree(ctx, r.git, r.head())
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, err
	}
	r.tree = t
	return t, nil
}

// head is the revision the history tools read.
func (r *repo) head() string {
	if r.pr.HeadSHA != "" {
		return r.pr.HeadSHA
	}
	return "HEAD"
}

// commits is the set of full SHAs of this PR's commits: merge base..head,
// and the commits the PR lists. It is computed once, unless the context
// ended while listing them.
func (r *repo) commits(ctx context.Context) map[string]bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.prCommits != nil {
		return r.prCommits
	}
	set := map[string]bool{}
	for _, c := range r.pr.Commits {
		set[c.SHA] = true
	}
	if r.pr.MergeBase != "" {
		out, err := r.git.Output(ctx, "rev-list", r.pr.MergeBase+".."+r.head())
		if err != nil && ctx.Err() != nil {
			return set
		}
		for _, s := range strings.Fields(out) {
			set[s] = true
		}
	}
	r.prCommits = set
	return set
}

func (r *repo) isPRCommit(ctx context.Context, sha string) bool {
	set := r.commits(ctx)
	if set[sha] {
		return true
	}
	if len(sha) < 40 {
		return false
	}
	for s := range set {
		if len(s) >= 7 && len(s) < len(sha) && strings.HasPrefix(sha, s) {
			return true
		}
	}
	return false
}

// gitErr turns a failed git command into a result the model reads when git
// refused the request (a path not in a commit, a line range past the end),
// and keeps every other failure an error that aborts the run.
func gitErr(ctx context.Context, tool string, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	var ge *git.Error
	if errors.As(err, &ge) {
		msg := strings.TrimSpace(ge.Stderr)
		if i := strings.IndexByte(msg, '\n'); i >= 0 {
			msg = msg[:i]
		}
		msg = strings.TrimPrefix(msg, "fatal: ")
		if msg == "" {
			msg = "git failed"
		}
		return Retry("%s: %s", tool, msg)
	}
	return fmt.Errorf("%s: %w", tool, err)
}

// RepoTools are the read-only tools over the pull request's repository
// (pr.Dir, which must hold pr.HeadSHA and pr.MergeBase): read_file, grep,
// list_files, git_log, git_blame, show_base and diff, in that order. Files
// are read from the head commit, whatever is checked out; every path is
// confined to the repository, never reaching .git. The tools are safe for
// concurrent use and may be shared by several loops on the same PR.
func RepoTools(pr *review.PR) []Tool {
	r := &repo{pr: pr, git: git.Repo{Dir: pr.Dir}, grepBatch: grepBatchBytes}
	return []Tool{r.readFileTool(), r.grepTool(), r.listFilesTool(), r.gitLogTool(), r.blameTool(), r.showBaseTool(), r.diffTool()}
}

// ReadFileParams are read_file's arguments.
type ReadFileParams struct {
	Path  string `json:"path"`
	Start *int   `json:"start"`
	End   *int   `json:"end"`
}

func (r *repo) readFileTool() Tool {
	return NewTool(ToolReadFile,
		"Read a file as it is at the PR head, with line numbers. start and end are 1-based and inclusive; null reads from the first line or to the last. Long output is cut with a note saying which lines to ask for next.",
		map[string]Field{
			"path":  {Description: "Path relative to the repository root, e.g. src/main.go."},
			"start": {Description: "First line to read (1-based), or null for the first line."},
			"end":   {Description: "Last line to read (inclusive), or null for the last line."},
		},
		func(ctx context.Context, p ReadFileParams) (string, error) {
			t, err := r.headTree(ctx)
			if err != nil {
				return "", err
			}
			info, err := t.file(ctx, p.Path)
			if err != nil {
				return "", err
			}
			if info.size > maxFileBytes {
				return fmt.Sprintf("%s is a large file (%d bytes, over the %d-byte limit); its content is not shown. It is likely generated or data: review what produces it instead.", info.rel, info.size, maxFileBytes), nil
			}
			data, err := t.read(ctx, info.sha)
			if err != nil {
				return "", err
			}
			if isBinary(data) {
				return fmt.Sprintf("%s is a binary file (%d bytes); its content is not shown.", info.rel, info.size), nil
			}
			text, err := numberLines(info.rel, data, p.Start, p.End)
			if err == nil && info.real != info.rel {
				text = fmt.Sprintf("[%s is a symlink to %s]\n", info.rel, info.real) + text
			}
			return text, err
		})
}

// splitLines splits text into lines without their newlines; a final newline
// does not start another line.
func splitLines(data []byte) []string {
	if len(data) == 0 {
		return nil
	}
	s := strings.TrimSuffix(string(data), "\n")
	return strings.Split(s, "\n")
}

// numberLines renders lines start..end of data with their numbers, cut at
// maxReadBytes with a note naming the lines left.
func numberLines(name string, data []byte, start, end *int) (string, error) {
	lines := splitLines(data)
	n := len(lines)
	if n == 0 {
		return fmt.Sprintf("%s is empty.", name), nil
	}
	s, e, err := lineRange(name, n, start, end)
	if err != nil {
		return "", err
	}
	width := max(4, len(strconv.Itoa(e)))
	var b strings.Builder
	for i := s; i <= e; i++ {
		line := strings.TrimSuffix(lines[i-1], "\r")
		if len(line) > maxLineBytes {
			line = cutUTF8(line, maxLineBytes) + fmt.Sprintf(" [... %d more bytes on this line]", len(line)-maxLineBytes)
		}
		row := fmt.Sprintf("%*d\t%s\n", width, i, line)
		if b.Len()+len(row) > maxReadBytes && i > s {
			fmt.Fprintf(&b, "[cut at %d bytes after line %d of %d; to read on, call again with start %d]\n", b.Len(), i-1, n, i)
			return b.String(), nil
		}
		b.WriteString(row)
	}
	if e == n && data[len(data)-1] != '\n' {
		fmt.Fprintf(&b, "[no newline at end of file after line %d]\n", n)
	}
	switch {
	case e < n:
		fmt.Fprintf(&b, "[lines %d-%d of %d; the next start is %d]\n", s, e, n, e+1)
	case s > 1:
		fmt.Fprintf(&b, "[lines %d-%d of %d]\n", s, e, n)
	}
	return b.String(), nil
}

// lineRange resolves a 1-based inclusive range against a file of n lines.
func lineRange(name string, n int, start, end *int) (int, int, error) {
	s, e := 1, n
	if start != nil {
		s = *start
	}
	if end != nil {
		e = *end
	}
	if s < 1 {
		return 0, 0, Retry("start is %d; lines are numbered from 1", s)
	}
	if end != nil && e < s {
		return 0, 0, Retry("end %d is before start %d", e, s)
	}
	if s > n {
		return 0, 0, Retry("start %d is past the end: %s has %d lines", s, name, n)
	}
	return s, min(e, n), nil
}

// cutUTF8 cuts s to at most n bytes without splitting a character.
func cutUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && n < len(s) && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}

// GrepParams are grep's arguments.
type GrepParams struct {
	Pattern string  `json:"pattern"`
	Glob    *string `json:"glob"`
	Context *int    `json:"context"`
}

// maxGrepContext bounds grep's context lines on each side of a match.
const maxGrepContext = 10

func (r *repo) grepTool() Tool {
	return NewTool(ToolGrep,
		"Search the files of the PR head for a regular expression (RE2 syntax; use (?i) for case-insensitive). Prints path:line:text for each matching line, at most 200, and with context, path-line-text for the lines around them and -- between groups, as grep -C does. Binary and very large files are skipped.",
		map[string]Field{
			"pattern": {Description: "RE2 regular expression matched against each line."},
			"glob":    {Description: "Only search paths matching this glob (** crosses directories, e.g. src/**/*.go; a glob without / also matches file names anywhere, e.g. *.go), or null for every file."},
			"context": {Description: fmt.Sprintf("Lines to show before and after each match (0 to %d), or null for none.", maxGrepContext)},
		},
		func(ctx context.Context, p GrepParams) (string, error) {
			if p.Pattern == "" {
				return "", Retry("pattern is empty; give a regular expression")
			}
			around := 0
			if p.Context != nil {
				if *p.Context < 0 {
					return "", Retry("context is %d; give 0 to %d lines, or null", *p.Context, maxGrepContext)
				}
				around = min(*p.Context, maxGrepContext)
			}
			re, err := regexp.Compile(p.Pattern)
			if err != nil {
				return "", Retry("pattern %q is not a valid RE2 regular expression: %v", p.Pattern, err)
			}
			t, err := r.headTree(ctx)
			if err != nil {
				return "", err
			}
			files, err := t.match(p.Glob)
			if err != nil {
				return "", err
			}
			var b strings.Builder
			matches, skipped, searched := 0, 0, 0
			// Read the blobs in batches of a few megabytes, so memory stays
			// bounded and a search that hits its cap early stops reading.
			var names, shas []string
			var batchBytes int64
			full := false
			flush := func() error {
				err := t.readBatch(ctx, shas, func(i int, data []byte) bool {
					if isBinary(data) {
						skipped++
						return true
					}
					searched++
					full = !grepFile(names[i], data, re, around, &b, &matches)
					return !full
				})
				names, shas, batchBytes = names[:0], shas[:0], 0
				return err
			}
			for _, name := range files {
				e := t.entries[name]
				if e.typ != "blob" || e.isLink() {
					continue // links are searched under their targets' paths
				}
				if e.size > maxFileBytes {
					skipped++
					continue
				}
				names = append(names, name)
				shas = append(shas, e.sha)
				batchBytes += e.size
				if batchBytes >= r.grepBatch {
					if err := flush(); err != nil {
						return "", err
					}
					if full {
						break
					}
				}
			}
			if !full {
				if err := flush(); err != nil {
					return "", err
				}
			}
			if full {
				fmt.Fprintf(&b, "[stopped after %d matches; narrow the pattern or the glob]\n", matches)
			}
			if matches == 0 {
				fmt.Fprintf(&b, "No matches for %q in %d files.\n", p.Pattern, searched)
			}
			if skipped > 0 {
				fmt.Fprintf(&b, "[%d binary or very large files not searched]\n", skipped)
			}
			return b.String(), nil
		})
}

// grepFile appends name's matching lines to b, with around lines of
// context on each side, and reports whether the search may go on (false
// once a cap is reached). Context lines are marked path-N-text, and groups
// that do not touch are separated by "--", as grep -C prints them.
func grepFile(name string, data []byte, re *regexp.Regexp, around int, b *strings.Builder, matches *int) bool {
	lines := splitLines(data)
	shown := -1 // the last line index written
	for i, text := range lines {
		if !re.MatchString(text) {
			continue
		}
		if *matches >= maxGrepMatches {
			return false
		}
		from := max(0, i-around, shown+1)
		if around > 0 && shown >= 0 && from > shown+1 {
			if b.Len()+3 > maxGrepBytes {
				return false
			}
			b.WriteString("--\n")
		}
		for j := from; j <= min(len(lines)-1, i+around); j++ {
			sep := "-"
			if re.MatchString(lines[j]) {
				sep = ":"
				if j > i && *matches >= maxGrepMatches {
					return false
				}
			}
			if j < i && sep == ":" {
				continue // an earlier match, already written
			}
			row := grepRow(name, j+1, sep, lines[j])
			if b.Len()+len(row) > maxGrepBytes {
				return false
			}
			b.WriteString(row)
			shown = j
			if sep == ":" {
				*matches++
			}
		}
	}
	return true
}

func grepRow(name string, line int, sep, text string) string {
	text = strings.TrimSuffix(text, "\r")
	if len(text) > maxGrepLineBytes {
		text = cutUTF8(text, maxGrepLineBytes) + " [...]"
	}
	return name + sep + strconv.Itoa(line) + sep + text + "\n"
}

// match lists the paths of the head tree that are not directories, sorted,
// keeping those that match glob when it is set.
func (t *tree) match(glob *string) ([]string, error) {
	g := ""
	if glob != nil {
		g = strings.TrimPrefix(strings.TrimSpace(*glob), "./")
		if g != "" && !doublestar.ValidatePattern(g) {
			return nil, Retry("glob %q is not a valid pattern", *glob)
		}
	}
	if g == "" {
		return t.files, nil
	}
	var files []string
	for _, name := range t.files {
		if matchGlob(g, name) {
			files = append(files, name)
		}
	}
	return files, nil
}

// matchGlob matches a doublestar glob against a slash path; a glob without a
// slash also matches the path's last element, as .gitignore does.
func matchGlob(glob, name string) bool {
	if doublestar.MatchUnvalidated(glob, name) {
		return true
	}
	if !strings.Contains(glob, "/") {
		base := name[strings.LastIndexByte(name, '/')+1:]
		return doublestar.MatchUnvalidated(glob, base)
	}
	return false
}

// ListFilesParams are list_files' arguments.
type ListFilesParams struct {
	Glob *string `json:"glob"`
}

func (r *repo) listFilesTool() Tool {
	return NewTool(ToolList,
		"List the files of the PR head, sorted, at most 1000.",
		map[string]Field{
			"glob": {Description: "Only list paths matching this glob (** crosses directories, e.g. src/**/*.go; a glob without / also matches file names anywhere), or null for every file."},
		},
		func(ctx context.Context, p ListFilesParams) (string, error) {
			t, err := r.headTree(ctx)
			if err != nil {
				return "", err
			}
			files, err := t.match(p.Glob)
			if err != nil {
				return "", err
			}
			if len(files) == 0 {
				if p.Glob != nil && *p.Glob != "" {
					return fmt.Sprintf("No tracked files match %q.", *p.Glob), nil
				}
				return "The repository tracks no files.", nil
			}
			return fileList(files), nil
		})
}

// fileList is list_files' answer: one path a line, at most maxListFiles,
// with a note on how many more there are.
func fileList(files []string) string {
	var b strings.Builder
	for i, f := range files {
		if i == maxListFiles {
			fmt.Fprintf(&b, "[%d more files not shown; narrow the glob]\n", len(files)-maxListFiles)
			break
		}
		b.WriteString(f)
		b.WriteByte('\n')
	}
	return b.String()
}

// GitLogParams are git_log's arguments.
type GitLogParams struct {
	Path *string `json:"path"`
}

func (r *repo) gitLogTool() Tool {
	return NewTool(ToolGitLog,
		"Recent commits reachable from the PR head (at most 30, newest first): short SHA, date, author, subject. Commits of this PR are marked [PR].",
		map[string]Field{
			"path": {Description: "Only commits touching this path (a file or directory relative to the repository root), or null for all."},
		},
		func(ctx context.Context, p GitLogParams) (string, error) {
			args := []string{"log", "-n", strconv.Itoa(maxLogCommits + 1), "--date=short", "--format=%H%x09%h%x09%ad%x09%an%x09%s", r.head(), "--"}
			what := "the history"
			if p.Path != nil && strings.TrimSpace(*p.Path) != "" {
				rel, err := cleanPath(*p.Path)
				if err != nil {
					return "", err
				}
				args = append(args, ":(literal)"+rel)
				what = rel
			}
			out, err := r.git.Output(ctx, args...)
			if err != nil {
				return "", gitErr(ctx, ToolGitLog, err)
			}
			if out == "" {
				return fmt.Sprintf("No commits touch %s at the head.", what), nil
			}
			var b strings.Builder
			for i, line := range strings.Split(out, "\n") {
				if i == maxLogCommits {
					fmt.Fprintf(&b, "[older commits not shown]\n")
					break
				}
				f := strings.SplitN(line, "\t", 5)
				if len(f) < 5 {
					continue
				}
				mark := "    "
				if r.isPRCommit(ctx, f[0]) {
					mark = "[PR]"
				}
				fmt.Fprintf(&b, "%s %s %s %s: %s\n", mark, f[1], f[2], f[3], f[4])
			}
			return b.String(), nil
		})
}

// BlameParams are git_blame's arguments.
type BlameParams struct {
	Path  string `json:"path"`
	Start *int   `json:"start"`
	End   *int   `json:"end"`
}

func (r *repo) blameTool() Tool {
	return NewTool(ToolBlame,
		"git blame at the PR head: for each line, the commit, date and author that last changed it. Lines from this PR's commits (merge base..head) are marked [PR]; unmarked lines predate the PR, so a problem on them is pre-existing, not a regression.",
		map[string]Field{
			"path":  {Description: "File path relative to the repository root."},
			"start": {Description: "First line (1-based), or null for the first line."},
			"end":   {Description: "Last line (inclusive), or null for the last line."},
		},
		func(ctx context.Context, p BlameParams) (string, error) {
			t, err := r.headTree(ctx)
			if err != nil {
				return "", err
			}
			// Blame the file a symlink resolves to, confined like read_file.
			info, err := t.file(ctx, p.Path)
			if err != nil {
				return "", err
			}
			if info.size > maxFileBytes {
				return fmt.Sprintf("%s is a large file (%d bytes); its blame is not shown.", info.rel, info.size), nil
			}
			rel := info.real
			args := []string{"blame", "--porcelain", "--no-textconv"}
			if p.Start != nil || p.End != nil {
				s, e := 1, 0
				if p.Start != nil {
					s = *p.Start
				}
				if s < 1 {
					return "", Retry("start is %d; lines are numbered from 1", s)
				}
				rng := strconv.Itoa(s) + ","
				if p.End != nil {
					e = *p.End
					if e < s {
						return "", Retry("end %d is before start %d", e, s)
					}
					rng += strconv.Itoa(e)
				}
				args = append(args, "-L", rng)
			}
			args = append(args, r.head(), "--", rel)
			g, err := r.blameGit(ctx)
			if err != nil {
				return "", err
			}
			out, err := g.Run(ctx, args...)
			if err != nil {
				return "", gitErr(ctx, ToolBlame, err)
			}
			return r.formatBlame(ctx, rel, out)
		})
}

// blameGit is the repository as git_blame reads it: with the base's
// gitattributes, not those of the head the PR controls (see
// git.Repo.ReadingAt). It is set up on first use.
func (r *repo) blameGit(ctx context.Context) (git.Repo, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.attrGit != nil {
		return *r.attrGit, nil
	}
	base := r.pr.BaseSHA
	if base == "" {
		base = r.pr.MergeBase
	}
	g, err := r.git.ReadingAt(ctx, base)
	if err != nil {
		return git.Repo{}, gitErr(ctx, ToolBlame, err)
	}
	r.attrGit = &g
	return g, nil
}

type blameInfo struct {
	author string
	date   string
}

// formatBlame renders git blame --porcelain output one line per source
// line, marking the lines whose commit is one of the PR's.
func (r *repo) formatBlame(ctx context.Context, rel string, out []byte) (string, error) {
	infos := map[string]*blameInfo{}
	var b strings.Builder
	mb := r.pr.MergeBase
	if len(mb) > 7 {
		mb = mb[:7]
	}
	if mb == "" {
		mb = "unknown"
	}
	fmt.Fprintf(&b, "Blame of %s at the head. [PR] marks lines from this PR's commits (merge base %s..head); unmarked lines predate the PR.\n", rel, mb)
	var sha string
	var final int
	lines := 0
	// Lines are cut from the output as it is: a header line (a commit's
	// summary, an author) may be of any length, which a bufio.Scanner
	// would stop at.
	for rest := out; len(rest) > 0; {
		var raw []byte
		raw, rest, _ = bytes.Cut(rest, []byte{'\n'})
		line := string(raw)
		if strings.HasPrefix(line, "\t") {
			text := line[1:]
			if strings.IndexByte(text, 0) >= 0 {
				return fmt.Sprintf("%s is a binary file; blame is not shown.", rel), nil
			}
			if len(text) > maxLineBytes {
				text = cutUTF8(text, maxLineBytes) + " [...]"
			}
			info := infos[sha]
			if info == nil {
				info = &blameInfo{}
			}
			mark := "    "
			if r.isPRCommit(ctx, sha) {
				mark = "[PR]"
			}
			short := sha
			if len(short) > 8 {
				short = short[:8]
			}
			row := fmt.Sprintf("%s %5d %s %s %s\t%s\n", mark, final, short, info.date, info.author, text)
			if b.Len()+len(row) > maxBlameBytes && lines > 0 {
				fmt.Fprintf(&b, "[cut at %d bytes; ask for lines from %d]\n", b.Len(), final)
				return b.String(), nil
			}
			b.WriteString(row)
			lines++
			continue
		}
		f := strings.Fields(line)
		if len(f) >= 3 && isHex(f[0]) && len(f[0]) >= 40 {
			sha = f[0]
			final, _ = strconv.Atoi(f[2])
			if infos[sha] == nil {
				infos[sha] = &blameInfo{}
			}
			continue
		}
		key, val, _ := strings.Cut(line, " ")
		if info := infos[sha]; info != nil {
			switch key {
			case "author":
				info.author = val
			case "author-time":
				if t, err := strconv.ParseInt(val, 10, 64); err == nil {
					info.date = time.Unix(t, 0).UTC().Format("2006-01-02")
				}
			}
		}
	}
	if lines == 0 {
		return fmt.Sprintf("%s is empty at the head.", rel), nil
	}
	return b.String(), nil
}

func isHex(s string) bool {
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return s != ""
}

// ShowBaseParams are show_base's arguments.
type ShowBaseParams struct {
	Path string `json:"path"`
}

func (r *repo) showBaseTool() Tool {
	return NewTool(ToolShowBase,
		"Show a file as it was at the merge base (before this PR), with line numbers, or say that the PR adds it.",
		map[string]Field{
			"path": {Description: "File path relative to the repository root."},
		},
		func(ctx context.Context, p ShowBaseParams) (string, error) {
			rel, err := cleanPath(p.Path)
			if err != nil {
				return "", err
			}
			mb := r.pr.MergeBase
			if mb == "" {
				return "", Retry("the merge base is unknown in this run, so show_base cannot answer; use git_log and git_blame instead")
			}
			obj := mb + ":" + rel
			typ, err := r.git.Output(ctx, "cat-file", "-t", obj)
			if err != nil {
				if ctx.Err() != nil {
					return "", ctx.Err()
				}
				for _, f := range r.pr.Files {
					if f.Path == rel && f.OldPath != "" && f.OldPath != rel {
						return fmt.Sprintf("%s does not exist at the merge base: this PR renames it from %s; call show_base with that path.", rel, f.OldPath), nil
					}
				}
				return fmt.Sprintf("%s is new in this PR: it does not exist at the merge base %s.", rel, short(mb)), nil
			}
			if typ != "blob" {
				return "", Retry("%s is a %s at the merge base, not a file", rel, typ)
			}
			size, err := r.git.Output(ctx, "cat-file", "-s", obj)
			if err != nil {
				return "", gitErr(ctx, ToolShowBase, err)
			}
			if n, _ := strconv.ParseInt(size, 10, 64); n > maxFileBytes {
				return fmt.Sprintf("%s at the merge base is a large file (%d bytes); its content is not shown.", rel, n), nil
			}
			data, err := r.git.Run(ctx, "cat-file", "blob", obj)
			if err != nil {
				return "", gitErr(ctx, ToolShowBase, err)
			}
			if isBinary(data) {
				return fmt.Sprintf("%s at the merge base is a binary file (%d bytes); its content is not shown.", rel, len(data)), nil
			}
			text, err := numberLines(rel, data, nil, nil)
			if err != nil {
				return "", err
			}
			return fmt.Sprintf("%s at the merge base %s:\n%s", rel, short(mb), text), nil
		})
}

func short(sha string) string {
	if len(sha) > 7 {
		return sha[:7]
	}
	return sha
}

// DiffParams are diff's arguments.
type DiffParams struct {
	Path *string `json:"path"`
}

func (r *repo) diffTool() Tool {
	return NewTool(ToolDiff,
		"The PR's unified diff from the merge base to the head, whole or for one path. Long output is cut with a note.",
		map[string]Field{
			"path": {Description: "Only the diff of this file (its new or old path), or null for the whole diff."},
		},
		func(ctx context.Context, p DiffParams) (string, error) {
			diff := r.pr.Diff
			if p.Path == nil || strings.TrimSpace(*p.Path) == "" {
				if diff == "" {
					return "The PR's diff is empty.", nil
				}
				return capText(diff, maxDiffBytes, fmt.Sprintf("the diff has %d bytes over %d files; call diff with one path", len(diff), len(splitDiff(diff)))), nil
			}
			rel, err := cleanPath(*p.Path)
			if err != nil {
				return "", err
			}
			files := splitDiff(diff)
			for _, f := range files {
				if f.touches(rel) {
					return capText(f.text, maxDiffBytes, "read the file with read_file for the rest"), nil
				}
			}
			names := make([]string, 0, len(files))
			for i, f := range files {
				if i == 30 {
					names = append(names, fmt.Sprintf("and %d more", len(files)-30))
					break
				}
				names = append(names, f.name)
			}
			if len(names) == 0 {
				return "", Retry("%s is not changed by this PR; the diff is empty", rel)
			}
			return "", Retry("%s is not changed by this PR; the changed files are: %s", rel, strings.Join(names, ", "))
		})
}

// capText cuts s at n bytes on a line boundary and says so.
func capText(s string, n int, hint string) string {
	if len(s) <= n {
		return s
	}
	cut := strings.LastIndexByte(s[:n], '\n') + 1
	if cut == 0 {
		cut = len(cutUTF8(s, n))
	}
	return s[:cut] + fmt.Sprintf("\n[cut at %d bytes; %s]\n", cut, hint)
}

// fileDiff is one file's part of a unified diff.
type fileDiff struct {
	name  string   // the new path, or the old one for a deletion
	paths []string // every path the part names
	text  string
}

func (f fileDiff) touches(p string) bool {
	for _, q := range f.paths {
		if q == p {
			return true
		}
	}
	return false
}

// splitDiff cuts a git diff into its files with the gather's parser
// (git.SplitDiff, go-gitdiff), so the tool and the gather agree on every
// part's paths.
func splitDiff(diff string) []fileDiff {
	parts := git.SplitDiff(diff)
	files := make([]fileDiff, len(parts))
	for i, p := range parts {
		files[i] = fileDiff{name: p.Name(), paths: p.Paths(), text: p.Text}
	}
	return files
}
