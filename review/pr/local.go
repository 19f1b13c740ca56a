// Package pr gathers a pull request into a review.PR: from local git alone
// (Local) or from GitHub with the local checkout as the source of the diff
// (GitHub). Every git command goes through review/git, so no user or system
// git config is read and the checkout is always marked safe.
package pr

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/deepreview/deep-review/review"
	"github.com/deepreview/deep-review/review/git"
)

// LocalOptions says which local changes to gather.
type LocalOptions struct {
	// Dir is the checkout; "" is the current directory.
	Dir string
	// Base and Head are any revisions git understands (a branch, a tag,
	// origin/main, a SHA). Both are required.
	Base, Head string
	Filters    Filters
	// Limits bound the diff held in memory; the zero value is the defaults.
	Limits Limits
	// Repo is the repository as "OWNER/NAME" (--repo); "" takes it from
	// the origin remote when that is a GitHub URL, else leaves it unknown.
	Repo string
	// ServerURL is a GitHub Enterprise Server (GITHUB_SERVER_URL) whose
	// remotes count as GitHub URLs too; github.com always does.
	ServerURL string
}

// Local gathers the changes from the merge base of Base and Head to Head from
// local git alone, with no network: the commits (oldest first), the changed
// files, the unified diff (no size limit), the skipped files and the candidate
// acknowledged limitations (at most 500). Title and Author come from Head's
// commit; Repo from opts.Repo, else from the origin remote when it is on
// GitHub, else it is "" (unknown: nothing may link to it). The PR is marked
// Local, with no number: it is the range BaseRef..HeadRef.
// PR.Dir is the repository's top-level directory, whatever it has checked out.
func Local(ctx context.Context, opts LocalOptions) (*review.PR, error) {
	m, err := newMatcher(opts.Filters)
	if err != nil {
		return nil, err
	}
	repo, err := openRepo(ctx, opts.Dir)
	if err != nil {
		return nil, err
	}
	if opts.Base == "" {
		return nil, errors.New("the base revision is empty; pass --base with a branch, tag or SHA, e.g. --base origin/main")
	}
	if opts.Head == "" {
		return nil, errors.New("the head revision is empty; pass --head with a branch, tag or SHA, e.g. --head HEAD")
	}
	base, err := resolve(ctx, repo, "--base", opts.Base)
	if err != nil {
		return nil, err
	}
	head, err := resolve(ctx, repo, "--head", opts.Head)
	if err != nil {
		return nil, err
	}
	g, err := gatherGit(ctx, repo, base, head, m, opts.Limits, true)
	if err != nil {
		return nil, err
	}
	name := opts.Repo
	if name == "" {
		name = repoName(ctx, repo, opts.ServerURL)
	}
	p := &review.PR{
		Repo:    name,
		Local:   true,
		BaseRef: opts.Base,
		HeadRef: opts.Head,
		BaseSHA: base,
		HeadSHA: head,
		Dir:     repo.Dir,
	}
	g.fill(p)
	out, err := repo.Output(ctx, "log", "-1", "--no-show-signature", "--format=%s%x00%an", head)
	if err != nil {
		return nil, fmt.Errorf("read head commit %s: %w", head, err)
	}
	p.Title, p.Author, _ = strings.Cut(out, "\x00")
	return p, nil
}

// openRepo finds the top-level directory of the checkout at dir.
func openRepo(ctx context.Context, dir string) (git.Repo, error) {
	if dir == "" {
		dir = "."
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return git.Repo{}, fmt.Errorf("checkout %s: %w", dir, err)
	}
	repo := git.Repo{Dir: abs}
	top, err := repo.Output(ctx, "rev-parse", "--show-toplevel")
	if err != nil {
		return git.Repo{}, fmt.Errorf("%s is not a git checkout; pass --dir with the repository's path: %w", abs, err)
	}
	if top != "" && top != abs {
		repo.Dir = top
	}
	return repo, nil
}

// resolve turns a revision into a commit SHA, or says how to fix it.
func resolve(ctx context.Context, repo git.Repo, flag, ref string) (string, error) {
	sha, err := repo.Output(ctx, "rev-parse", "--verify", "--quiet", "--end-of-options", ref+"^{commit}")
	if err != nil || sha == "" {
		return "", fmt.Errorf("%s %s: not a commit in %s; fetch it (git fetch origin %s) or pass a SHA", flag, ref, repo.Dir, ref)
	}
	return sha, nil
}

// gitResult is what local git says about base..head.
type gitResult struct {
	mergeBase   string
	commits     []review.Commit
	files       []review.ChangedFile
	skipped     []review.SkippedFile
	diff        string
	limitations []review.Limitation
}

func (g *gitResult) fill(p *review.PR) {
	p.MergeBase = g.mergeBase
	if g.commits != nil {
		p.Commits = g.commits
	}
	p.Files = g.files
	p.Skipped = g.skipped
	p.Diff = g.diff
	p.Limitations = g.limitations
}

// diffArgs make every diff the same whatever the repository's own config
// says: standard prefixes, no external or textconv drivers, renames found.
var diffArgs = []string{"diff", "--no-color", "--no-ext-diff", "--no-textconv", "--no-relative",
	"--src-prefix=a/", "--dst-prefix=b/", "--find-renames"}

func diffCmd(extra ...string) []string {
	return append(append([]string(nil), diffArgs...), extra...)
}

// gatherGit reads everything about base..head from the repository. Both SHAs
// must be present. With commits false the commit list is left nil. Every
// read takes gitattributes from base, never from the checkout the pull
// request may control. The diff is streamed and held within lim: files over
// the per-file limit, or past the total, are listed as skipped.
func gatherGit(ctx context.Context, repo git.Repo, base, head string, m *matcher, lim Limits, commits bool) (*gitResult, error) {
	repo, err := repo.ReadingAt(ctx, base)
	if err != nil {
		return nil, err
	}
	mb, err := repo.Output(ctx, "merge-base", base, head)
	if err != nil || mb == "" {
		return nil, fmt.Errorf("no merge base between base %s and head %s in %s; the histories are unrelated or the clone is too shallow (git fetch --unshallow): %w", short(base), short(head), repo.Dir, err)
	}
	g := &gitResult{mergeBase: mb}
	if commits {
		if g.commits, err = commitRange(ctx, repo, mb, head); err != nil {
			return nil, err
		}
	}
	files, err := changedFiles(ctx, repo, mb, head)
	if err != nil {
		return nil, err
	}
	lim = lim.withDefaults()
	skip := map[string]string{}
	var check []review.ChangedFile
	for _, f := range files {
		if why := m.skip(f.Path); why != "" {
			skip[f.Path] = why
		} else if m.defaults && !f.Binary {
			check = append(check, f.ChangedFile)
		}
	}
	// Files whose diff is surely over the limit are left out of the diff
	// git writes, whatever else skips them.
	var exclude []string
	for _, f := range files {
		if est := f.diffEstimate(); est > lim.MaxFileBytes {
			if skip[f.Path] == "" {
				skip[f.Path] = lim.fileReason(est, true)
			}
			exclude = append(exclude, ":(exclude,literal)"+f.Path)
			if f.OldPath != "" {
				exclude = append(exclude, ":(exclude,literal)"+f.OldPath)
			}
		}
	}
	if len(check) > 0 {
		gen, err := generatedFiles(ctx, repo, mb, head, check)
		if err != nil {
			return nil, err
		}
		for _, name := range gen {
			if skip[name] == "" {
				skip[name] = generatedReason
			}
		}
	}
	c := newCollector(skip, lim, false)
	args := diffCmd(mb, head)
	if len(exclude) > 0 {
		args = append(append(args, "--"), exclude...)
	}
	if err := repo.Stream(ctx, func(r io.Reader) error { return git.ReadDiff(r, lim.MaxFileBytes, c.add) }, args...); err != nil {
		return nil, fmt.Errorf("diff %s..%s: %w", short(mb), short(head), err)
	}
	g.diff, g.limitations = c.result()
	for _, f := range files {
		if why, ok := skip[f.Path]; ok {
			g.skipped = append(g.skipped, review.SkippedFile{Path: f.Path, Reason: why})
			continue
		}
		g.files = append(g.files, f.ChangedFile)
	}
	if g.files == nil {
		g.files = []review.ChangedFile{}
	}
	return g, nil
}

// collector keeps the parts of a diff that are reviewed: not skipped, each
// within the per-file limit and all within the total, and collects the
// candidate limitations of the parts it keeps. Parts it leaves out for their
// size are added to skip with the reason.
type collector struct {
	skip      map[string]string
	lim       Limits
	generated bool
	b         strings.Builder
	lims      []review.Limitation
}

// newCollector keeps parts not named in skip; with generated set, it also
// skips parts whose first added lines say "Code generated ... DO NOT EDIT".
func newCollector(skip map[string]string, lim Limits, generated bool) *collector {
	return &collector{skip: skip, lim: lim.withDefaults(), generated: generated}
}

func (c *collector) add(d git.FileDiff) error {
	name := d.Name()
	if _, ok := c.skip[name]; ok {
		return nil
	}
	switch {
	case d.Cut || d.Size > c.lim.MaxFileBytes:
		if name != "" {
			c.skip[name] = c.lim.fileReason(d.Size, false)
		}
		return nil
	case c.generated && name != "" && generatedInDiff(d.File):
		c.skip[name] = generatedReason
		return nil
	case int64(c.b.Len())+d.Size > c.lim.MaxDiffBytes:
		if name != "" {
			c.skip[name] = c.lim.totalReason()
		}
		return nil
	}
	c.b.WriteString(d.Text)
	if len(c.lims) < maxLimitations {
		c.lims = append(c.lims, limitations(d.File)...)
	}
	return nil
}

func (c *collector) result() (string, []review.Limitation) {
	return c.b.String(), c.lims[:min(len(c.lims), maxLimitations)]
}

// commitRange lists the commits of from..to, oldest first.
func commitRange(ctx context.Context, repo git.Repo, from, to string) ([]review.Commit, error) {
	out, err := repo.Run(ctx, "log", "--no-show-signature", "--no-color", "--reverse", "--format=%H%x00%s", from+".."+to)
	if err != nil {
		return nil, fmt.Errorf("list commits %s..%s: %w", short(from), short(to), err)
	}
	commits := []review.Commit{}
	for _, line := range strings.Split(strings.TrimRight(string(out), "\n"), "\n") {
		sha, subject, ok := strings.Cut(line, "\x00")
		if !ok {
			continue
		}
		commits = append(commits, review.Commit{SHA: sha, Subject: subject})
	}
	return commits, nil
}

// changedFile is a changed file with the sizes of its two blobs (0 when a
// side is absent or was not measured).
type changedFile struct {
	review.ChangedFile
	oldSize, newSize int64
}

// diffEstimate is a lower bound of the size of the file's diff, in bytes:
// the whole blob for an added or removed text file, nothing for a binary
// one, which git shows in a line. For a modified file a diff can be as small
// as one changed line of a huge file, so nothing is assumed; its diff is cut
// while it is read instead.
func (f changedFile) diffEstimate() int64 {
	switch {
	case f.Binary:
		return 0
	case f.Status == "added":
		return f.newSize + int64(f.Additions)
	case f.Status == "removed":
		return f.oldSize + int64(f.Deletions)
	}
	return 0
}

// changedFiles lists the files of from..to with their status, line counts,
// binary flag, rename source and blob sizes, in git's order.
func changedFiles(ctx context.Context, repo git.Repo, from, to string) ([]changedFile, error) {
	raw, err := repo.Run(ctx, diffCmd("--raw", "--no-abbrev", "-z", from, to)...)
	if err != nil {
		return nil, fmt.Errorf("list changed files %s..%s: %w", short(from), short(to), err)
	}
	num, err := repo.Run(ctx, diffCmd("--numstat", "-z", from, to)...)
	if err != nil {
		return nil, fmt.Errorf("count changed lines %s..%s: %w", short(from), short(to), err)
	}
	files, oids, err := parseRaw(raw)
	if err != nil {
		return nil, err
	}
	counts, err := parseNumstat(num)
	if err != nil {
		return nil, err
	}
	sizes, err := blobSizes(ctx, repo, oids)
	if err != nil {
		return nil, err
	}
	for i := range files {
		files[i].oldSize, files[i].newSize = sizes[oids[i][0]], sizes[oids[i][1]]
		c, ok := counts[files[i].Path]
		if !ok {
			continue
		}
		files[i].Additions, files[i].Deletions, files[i].Binary = c.add, c.del, c.binary
	}
	return files, nil
}

// zeroOID is git's name for the absent side of an added or removed file.
const zeroOID = "0000000000000000000000000000000000000000"

// parseRaw parses `git diff --raw --no-abbrev -z`: each file's status and
// paths, and its old and new blob names ("" for an absent side).
func parseRaw(out []byte) ([]changedFile, [][2]string, error) {
	tok := splitZ(out)
	files := []changedFile{}
	var oids [][2]string
	for i := 0; i < len(tok); {
		meta := strings.Fields(tok[i])
		if len(meta) != 5 || !strings.HasPrefix(meta[0], ":") || i+1 >= len(tok) {
			return nil, nil, fmt.Errorf("parse git diff --raw: unexpected %q", tok[i])
		}
		st := meta[4]
		var cf review.ChangedFile
		switch st[0] {
		case 'R', 'C':
			if i+2 >= len(tok) {
				return nil, nil, fmt.Errorf("parse git diff --raw: %s without a new path", st)
			}
			cf = review.ChangedFile{Path: tok[i+2], OldPath: tok[i+1], Status: "renamed"}
			if st[0] == 'C' {
				cf.Status = "copied"
			}
			i += 3
		case 'A':
			cf = review.ChangedFile{Path: tok[i+1], Status: "added"}
			i += 2
		case 'D':
			cf = review.ChangedFile{Path: tok[i+1], Status: "removed"}
			i += 2
		default: // M, T (type change), U, X
			cf = review.ChangedFile{Path: tok[i+1], Status: "modified"}
			i += 2
		}
		var pair [2]string
		modes := [2]string{strings.TrimPrefix(meta[0], ":"), meta[1]}
		for j, oid := range meta[2:4] {
			if oid != zeroOID && isBlobMode(modes[j]) {
				pair[j] = oid
			}
		}
		files = append(files, changedFile{ChangedFile: cf})
		oids = append(oids, pair)
	}
	return files, oids, nil
}

// isBlobMode reports whether a git file mode is a file or a symlink
// (10xxxx, 120000), not a submodule (160000) or nothing (000000).
func isBlobMode(mode string) bool {
	return strings.HasPrefix(mode, "10") || mode == "120000"
}

// blobSizes measures the blobs with one git cat-file --batch-check.
func blobSizes(ctx context.Context, repo git.Repo, oids [][2]string) (map[string]int64, error) {
	var in bytes.Buffer
	for _, p := range oids {
		for _, oid := range p {
			if oid != "" {
				in.WriteString(oid + "\n")
			}
		}
	}
	sizes := map[string]int64{}
	if in.Len() == 0 {
		return sizes, nil
	}
	out, err := repo.RunInput(ctx, in.Bytes(), "cat-file", "--batch-check=%(objectname) %(objectsize)")
	if err != nil {
		return nil, fmt.Errorf("measure the changed files: %w", err)
	}
	for _, line := range strings.Split(string(out), "\n") {
		oid, size, ok := strings.Cut(line, " ")
		if n, err := strconv.ParseInt(size, 10, 64); ok && err == nil {
			sizes[oid] = n
		}
	}
	return sizes, nil
}

type lineCount struct {
	add, del int
	binary   bool
}

// parseNumstat parses `git diff --numstat -z`, keyed by the new path.
func parseNumstat(out []byte) (map[string]lineCount, error) {
	tok := splitZ(out)
	counts := map[string]lineCount{}
	for i := 0; i < len(tok); i++ {
		fields := strings.SplitN(tok[i], "\t", 3)
		if len(fields) != 3 {
			return nil, fmt.Errorf("parse git numstat: unexpected %q", tok[i])
		}
		name := fields[2]
		if name == "" { // a rename: old and new path follow
			if i+2 >= len(tok) {
				return nil, fmt.Errorf("parse git numstat: rename without paths")
			}
			name = tok[i+2]
			i += 2
		}
		var c lineCount
		if fields[0] == "-" && fields[1] == "-" {
			c.binary = true
		} else {
			c.add, _ = strconv.Atoi(fields[0])
			c.del, _ = strconv.Atoi(fields[1])
		}
		counts[name] = c
	}
	return counts, nil
}

func splitZ(out []byte) []string {
	out = bytes.TrimSuffix(out, []byte{0})
	if len(out) == 0 {
		return nil
	}
	return strings.Split(string(out), "\x00")
}

// grepBatch bounds the paths given to one git grep.
const grepBatch = 200

// generatedFiles returns the files whose first lines carry the
// "Code generated ... DO NOT EDIT" marker: at head, or at the merge base for
// removed files. It reads with git grep, one process per batch of paths.
func generatedFiles(ctx context.Context, repo git.Repo, mb, head string, files []review.ChangedFile) ([]string, error) {
	byRev := map[string][]string{}
	for _, f := range files {
		rev := head
		if f.Status == "removed" {
			rev = mb
		}
		byRev[rev] = append(byRev[rev], f.Path)
	}
	var gen []string
	seen := map[string]bool{}
	for _, rev := range []string{head, mb} {
		paths := byRev[rev]
		for len(paths) > 0 {
			n := min(len(paths), grepBatch)
			batch := paths[:n]
			paths = paths[n:]
			args := []string{"grep", "--no-color", "-I", "-n", "-z", "--basic-regexp",
				"-e", "Code generated .* DO NOT EDIT", rev, "--"}
			for _, p := range batch {
				args = append(args, ":(literal)"+p)
			}
			out, err := repo.Run(ctx, args...)
			if err != nil {
				if git.ExitCode(err) == 1 { // no match
					continue
				}
				return nil, fmt.Errorf("look for generated files at %s: %w", short(rev), err)
			}
			for _, line := range strings.Split(string(out), "\n") {
				parts := strings.SplitN(line, "\x00", 3)
				if len(parts) < 3 {
					continue
				}
				n, err := strconv.Atoi(parts[1])
				name := strings.TrimPrefix(parts[0], rev+":")
				if err != nil || n > generatedLines || seen[name] {
					continue
				}
				seen[name] = true
				gen = append(gen, name)
			}
		}
	}
	return gen, nil
}

// repoName is "owner/name" from the origin remote when it is a GitHub URL,
// or "" when the repository is not known to be on GitHub.
func repoName(ctx context.Context, repo git.Repo, serverURL string) string {
	u, err := repo.Output(ctx, "config", "--get", "remote.origin.url")
	if err != nil {
		return ""
	}
	var hosts []string
	if su, err := url.Parse(serverURL); err == nil && su.Hostname() != "" {
		hosts = append(hosts, su.Hostname())
	}
	return nameFromURL(u, hosts...)
}

// nameFromURL turns a GitHub remote URL (https, ssh or scp-like, on
// github.com or one of the GitHub Enterprise hosts given) into
// "owner/name", and any other URL or path into "". Any credentials in the
// URL are dropped.
func nameFromURL(raw string, hosts ...string) string {
	raw = strings.TrimSpace(raw)
	var host, p string
	if u, err := url.Parse(raw); err == nil && len(u.Scheme) > 1 {
		host, p = u.Hostname(), u.Path
	} else if i := strings.Index(raw, ":"); i > 1 && !strings.Contains(raw[:i], "/") {
		host, p = raw[:i], raw[i+1:] // git@github.com:owner/name.git
		if at := strings.LastIndex(host, "@"); at >= 0 {
			host = host[at+1:]
		}
	}
	known := false
	for _, h := range append([]string{"github.com", "www.github.com", "ssh.github.com"}, hosts...) {
		known = known || strings.EqualFold(host, h)
	}
	if !known {
		return ""
	}
	p = strings.TrimSuffix(strings.TrimSuffix(strings.Trim(p, "/"), "/"), ".git")
	parts := strings.Split(p, "/")
	if len(parts) != 2 || parts[0] == "" || parts[1] == "" || parts[0] == "." || parts[0] == ".." || parts[1] == "." || parts[1] == ".." {
		return ""
	}
	return parts[0] + "/" + parts[1]
}

func short(sha string) string {
	if len(sha) > 12 {
		return sha[:12]
	}
	return sha
}
