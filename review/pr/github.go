package pr

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/google/go-github/v60/github"

	"github.com/deepreview/deep-review/review"
	"github.com/deepreview/deep-review/review/ghclient"
	"github.com/deepreview/deep-review/review/git"
)

// API limits GitHub documents for pull requests.
const (
	// MaxAPICommits is how many commits the commits endpoint lists at most.
	MaxAPICommits = 250
	// MaxAPIFiles is how many files the files endpoint lists at most.
	MaxAPIFiles = 3000
)

// perPage is the page size of every listing.
const perPage = 100

// maxCommentPages bounds the listing of comments (10,000 comments).
const maxCommentPages = 100

// GitHubOptions says which pull request to gather and how to reach it.
type GitHubOptions struct {
	// Token authenticates the API calls and git fetches; it is sent only to
	// the API's and the clone URL's hosts and never written to disk.
	Token string
	// APIURL is the REST API ("" is https://api.github.com; anything else is
	// GitHub Enterprise Server, e.g. https://ghe.example.com/api/v3).
	APIURL string
	// GraphQLURL is the GraphQL endpoint; "" derives it from APIURL.
	GraphQLURL string
	// HTTPClient makes every API request; nil is a new http.Client.
	HTTPClient *http.Client

	Owner, Repo string
	Number      int
	// Pull, when set, is this pull request as Open read it: the gather
	// does not fetch it again.
	Pull *Pull

	// Dir is a local checkout of the repository. "" makes a partial clone
	// (--filter=blob:none) into a new directory under CloneDir, which the
	// caller removes (it is PR.Dir). When no checkout can be had the gather
	// fails: reviewers need one. Only with NoClone does the diff come from
	// the API, and the PR then has no Dir (for callers that run no
	// reviewers).
	Dir      string
	CloneDir string
	NoClone  bool
	// CloneURL is where missing commits are fetched from when Dir's origin
	// remote (tried first, for refs/pull/N/head) cannot give them, and what
	// a partial clone clones; "" is the base repository's clone URL as the
	// API gives it.
	CloneURL string

	// BotLogin is the login our sticky comment must be written by ("" is
	// github-actions[bot]).
	BotLogin string
	// StateKey is the state-key secret: when set, only a sticky comment
	// whose marker is signed with it counts as ours (see
	// review.RecogniseSticky). Empty accepts unsigned markers.
	StateKey string
	Filters  Filters
	// FullScope makes every round review the whole pull request; without
	// it a later round focuses on the delta since the head the last round
	// reviewed, when that can be found.
	FullScope bool
	// Limits bound the diff held in memory; the zero value is the defaults.
	Limits Limits

	// Logf receives progress notes and fallbacks worth telling the user
	// (never a secret); nil discards them.
	Logf func(format string, args ...any)
	// Sleep waits out rate limits and backoffs (see ghclient.Policy); nil
	// sleeps for real.
	Sleep func(ctx context.Context, d time.Duration) error
}

// GitHub gathers a pull request from GitHub: its metadata and commits from
// the API, the diff and changed files from local git (Dir, fetching missing
// commits with the token, or a partial clone), the API's diff only when git
// cannot be used, earlier comments by people with their threads' resolution,
// and the previous round's state from our sticky comment. Commits beyond the
// API's 250 come from local git; files beyond the API's 3,000 need a
// checkout. Whatever it falls back on is told through Logf.
func GitHub(ctx context.Context, opts GitHubOptions) (*review.PR, error) {
	if opts.Owner == "" || opts.Repo == "" {
		return nil, fmt.Errorf("repository %q/%q is incomplete; pass --repo OWNER/NAME", opts.Owner, opts.Repo)
	}
	if opts.Number <= 0 {
		return nil, fmt.Errorf("pull request number %d is not positive; pass --pr N", opts.Number)
	}
	m, err := newMatcher(opts.Filters)
	if err != nil {
		return nil, err
	}
	gqlURL := opts.GraphQLURL
	if gqlURL == "" {
		gqlURL = ghclient.GraphQLURL(opts.APIURL)
	}
	var extra []string
	if u, err := url.Parse(gqlURL); err == nil && u.Host != "" {
		extra = append(extra, u.Host)
	}
	c, err := ghclient.New(ghclient.Options{
		APIURL: opts.APIURL, Token: opts.Token, ExtraHosts: extra, HTTPClient: opts.HTTPClient,
		Policy: ghclient.Policy{Sleep: opts.Sleep, Logf: opts.Logf},
	})
	if err != nil {
		return nil, err
	}
	g := &gatherer{opts: opts, c: c, m: m, graphqlURL: gqlURL}
	if g.opts.BotLogin == "" {
		g.opts.BotLogin = review.DefaultBotLogin
	}
	return g.gather(ctx)
}

type gatherer struct {
	opts       GitHubOptions
	c          *github.Client
	m          *matcher
	graphqlURL string
	// cloned is the partial clone made for this gather, removed again when
	// the gather fails.
	cloned string
	// rem is the remote the head's commits came from.
	rem remote
}

func (g *gatherer) logf(format string, args ...any) {
	if g.opts.Logf != nil {
		g.opts.Logf(format, args...)
	}
}

// call runs one API call, wrapping its error with what; the client's
// transport has already retried and sat out rate limits.
func (g *gatherer) call(ctx context.Context, what string, fn func() (*github.Response, error)) error {
	if _, err := fn(); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

func (g *gatherer) gather(ctx context.Context) (_ *review.PR, err error) {
	defer func() {
		if err != nil && g.cloned != "" {
			os.RemoveAll(g.cloned)
		}
	}()
	o, r, n := g.opts.Owner, g.opts.Repo, g.opts.Number
	var gp *github.PullRequest
	if pl := g.opts.Pull; pl != nil && pl.Owner == o && pl.Repo == r && pl.Number == n {
		gp = pl.gp
	} else {
		err = g.call(ctx, fmt.Sprintf("get pull request %s/%s#%d", o, r, n), func() (resp *github.Response, err error) {
			gp, resp, err = g.c.PullRequests.Get(ctx, o, r, n)
			return resp, err
		})
		if err != nil {
			return nil, err
		}
	}
	p := &review.PR{
		Repo:    o + "/" + r,
		Number:  n,
		Title:   gp.GetTitle(),
		Body:    gp.GetBody(),
		Author:  gp.GetUser().GetLogin(),
		URL:     gp.GetHTMLURL(),
		BaseRef: gp.GetBase().GetRef(),
		HeadRef: gp.GetHead().GetRef(),
		BaseSHA: gp.GetBase().GetSHA(),
		HeadSHA: gp.GetHead().GetSHA(),
		Draft:   gp.GetDraft(),
	}
	if p.BaseSHA == "" || p.HeadSHA == "" {
		return nil, fmt.Errorf("pull request %s/%s#%d: the API gave no base or head SHA", o, r, n)
	}

	local, err := g.fromGit(ctx, p, gp)
	switch {
	case err != nil && !g.opts.NoClone:
		// Reviewers read the repository: a pull request without one
		// cannot be reviewed, and the API's diff would not change that.
		return nil, fmt.Errorf("pull request %s/%s#%d has no checkout to review: %w", o, r, n, err)
	case err != nil:
		g.logf("local git cannot give the diff (%v); using the API's diff", err)
		if err := g.fromAPI(ctx, p, gp); err != nil {
			return nil, err
		}
	}

	total := gp.GetCommits()
	switch {
	case total > MaxAPICommits && local != nil:
		g.logf("pull request has %d commits, more than the API's %d; listing them from local git", total, MaxAPICommits)
		p.Commits, err = commitRange(ctx, *local, p.MergeBase, p.HeadSHA)
		if err != nil {
			return nil, err
		}
	default:
		if total > MaxAPICommits {
			g.logf("pull request has %d commits; without local git only the API's first %d are listed", total, MaxAPICommits)
		}
		if p.Commits, err = g.listCommits(ctx); err != nil {
			return nil, err
		}
	}

	comments, err := g.issueComments(ctx)
	if err != nil {
		return nil, err
	}
	ours, suspects := StickyComments(comments, stickyTarget(o, r, n, g.opts.BotLogin, g.opts.StateKey))
	for _, s := range suspects {
		g.logf("comment %s carries a deep-review state marker but is not deep-review's sticky comment (%s); ignored", s.URL, s.Reason)
	}
	if len(ours) > 0 {
		st := ours[0].State
		p.Previous = &st
	}
	if local != nil {
		fetch := func(ctx context.Context, sha string) error { return g.rem.fetch(ctx, *local, nil, sha) }
		if err := Focus(ctx, *local, p, g.opts.FullScope, fetch); err != nil {
			return nil, err
		}
		if p.DeltaReason != "" {
			g.logf("reviewing the whole pull request: %s", p.DeltaReason)
		}
	}
	p.Comments, err = g.feedback(ctx, p, comments)
	if err != nil {
		return nil, err
	}
	return p, nil
}

// IsFork reports whether the pull request's head lives in another repository
// than its base (a fork, whose workflow runs get a read-only token and no
// secrets under pull_request). A head whose repository was deleted counts
// as a fork.
func IsFork(p *github.PullRequest) bool {
	head, base := p.GetHead().GetRepo(), p.GetBase().GetRepo()
	if head == nil || head.GetFullName() == "" {
		return true
	}
	return !strings.EqualFold(head.GetFullName(), base.GetFullName())
}

// fromGit fills p's diff, files, skipped files, limitations and merge base
// from local git, fetching or cloning what it needs. It returns the
// repository used.
func (g *gatherer) fromGit(ctx context.Context, p *review.PR, gp *github.PullRequest) (*git.Repo, error) {
	rem := remote{url: g.opts.CloneURL, token: g.opts.Token}
	if rem.url == "" {
		rem.url = gp.GetBase().GetRepo().GetCloneURL()
	}
	// Credentials travel in the environment only; a URL carrying some would
	// put them in argv, error messages and .git/config.
	rem.url = redactURL(rem.url)
	var repo git.Repo
	cloned := false
	switch {
	case g.opts.Dir != "":
		var err error
		if repo, err = openRepo(ctx, g.opts.Dir); err != nil {
			return nil, err
		}
	case g.opts.NoClone:
		return nil, errors.New("no checkout given and cloning is off")
	case rem.url == "":
		return nil, errors.New("no checkout given and the API names no clone URL")
	default:
		g.logf("no checkout given; making a partial clone of %s", redactURL(rem.url))
		var err error
		if repo, err = partialClone(ctx, g.opts.CloneDir, rem); err != nil {
			return nil, err
		}
		cloned = true
		g.cloned = repo.Dir
	}
	fail := func(err error) (*git.Repo, error) {
		if cloned {
			os.RemoveAll(repo.Dir)
			g.cloned = ""
		}
		return nil, err
	}
	if !cloned {
		// The checkout's origin serves refs/pull/N/head; the API's clone
		// URL is the fallback for what it cannot give.
		if origin, ok := originRemote(ctx, repo, rem.url, g.opts.Token); ok {
			if err := fetchPull(ctx, repo, origin, p.Number, p.BaseSHA, p.HeadSHA, g.logf); err != nil {
				g.logf("%v; trying %s", err, redactURL(rem.url))
			} else {
				rem = origin
			}
		}
	}
	if _, err := ensureCommits(ctx, repo, rem, p.BaseSHA, p.HeadSHA, g.logf); err != nil {
		return fail(err)
	}
	g.rem = rem
	res, err := gatherGit(ctx, repo, p.BaseSHA, p.HeadSHA, g.m, g.opts.Limits, false)
	if err != nil {
		return fail(err)
	}
	if cloned {
		if _, err := repo.Run(ctx, "checkout", "--quiet", "--detach", p.HeadSHA); err != nil {
			return fail(fmt.Errorf("check out head %s in the clone: %w", short(p.HeadSHA), err))
		}
		if err := fetchHistory(ctx, repo, p.HeadSHA, changedPaths(res.files)); err != nil {
			g.logf("could not fetch the history of the changed files (%v); blame and show_base on them may fail", err)
		}
	}
	res.fill(p)
	p.Dir = repo.Dir
	return &repo, nil
}

// fromAPI fills p's diff, files, skipped files and limitations from the API:
// the files listing, and the pull request's diff, or per-file patches when
// GitHub answers 406 because the diff is too large.
func (g *gatherer) fromAPI(ctx context.Context, p *review.PR, gp *github.PullRequest) error {
	o, r, n := g.opts.Owner, g.opts.Repo, g.opts.Number
	files, err := g.listFiles(ctx, gp.GetChangedFiles())
	if err != nil {
		return err
	}
	var diff string
	err = g.call(ctx, fmt.Sprintf("get the diff of %s/%s#%d", o, r, n), func() (resp *github.Response, err error) {
		diff, resp, err = g.c.PullRequests.GetRaw(ctx, o, r, n, github.RawOptions{Type: github.Diff})
		return resp, err
	})
	if err != nil {
		if statusOf(err) != http.StatusNotAcceptable {
			return err
		}
		g.logf("GitHub refuses the diff of %s/%s#%d as too large (406); building it from per-file patches", o, r, n)
		var missing int
		diff, missing = diffFromPatches(files)
		if missing > 0 {
			g.logf("%d file(s) have no patch from the API (binary or too large); their changes are not in the diff", missing)
		}
	}

	skip := map[string]string{}
	for _, f := range files {
		if why := g.m.skip(f.GetFilename()); why != "" {
			skip[f.GetFilename()] = why
		}
	}
	c := newCollector(skip, g.opts.Limits, g.m.defaults)
	if err := git.ReadDiff(strings.NewReader(diff), c.lim.MaxFileBytes, c.add); err != nil {
		return fmt.Errorf("read the diff of %s/%s#%d: %w", o, r, n, err)
	}
	p.Diff, p.Limitations = c.result()
	for _, f := range files {
		cf := changedFileOf(f)
		if why, ok := skip[cf.Path]; ok {
			p.Skipped = append(p.Skipped, review.SkippedFile{Path: cf.Path, Reason: why})
			continue
		}
		p.Files = append(p.Files, cf)
	}

	var cmp *github.CommitsComparison
	err = g.call(ctx, "compare base and head", func() (resp *github.Response, err error) {
		cmp, resp, err = g.c.Repositories.CompareCommits(ctx, o, r, p.BaseSHA, p.HeadSHA, &github.ListOptions{PerPage: 1})
		return resp, err
	})
	if err != nil {
		g.logf("cannot find the merge base through the API: %v", err)
	} else {
		p.MergeBase = cmp.GetMergeBaseCommit().GetSHA()
	}
	return nil
}

// changedFileOf maps one entry of the files listing.
func changedFileOf(f *github.CommitFile) review.ChangedFile {
	cf := review.ChangedFile{
		Path:      f.GetFilename(),
		OldPath:   f.GetPreviousFilename(),
		Additions: f.GetAdditions(),
		Deletions: f.GetDeletions(),
	}
	switch st := f.GetStatus(); st {
	case "added", "removed", "renamed", "copied":
		cf.Status = st
	default: // modified, changed, unchanged
		cf.Status = "modified"
	}
	cf.Binary = f.Patch == nil && f.GetChanges() == 0 && cf.Status != "renamed"
	return cf
}

// diffFromPatches builds a git-style diff from the files listing's patches,
// and counts the files that have none.
func diffFromPatches(files []*github.CommitFile) (string, int) {
	var b strings.Builder
	missing := 0
	for _, f := range files {
		if f.Patch == nil || f.GetPatch() == "" {
			missing++
			continue
		}
		newName, oldName := f.GetFilename(), f.GetFilename()
		if f.GetPreviousFilename() != "" {
			oldName = f.GetPreviousFilename()
		}
		fmt.Fprintf(&b, "diff --git a/%s b/%s\n", oldName, newName)
		from, to := "a/"+oldName, "b/"+newName
		switch f.GetStatus() {
		case "added":
			b.WriteString("new file mode 100644\n")
			from = "/dev/null"
		case "removed":
			b.WriteString("deleted file mode 100644\n")
			to = "/dev/null"
		case "renamed":
			fmt.Fprintf(&b, "rename from %s\nrename to %s\n", oldName, newName)
		}
		fmt.Fprintf(&b, "--- %s\n+++ %s\n", from, to)
		b.WriteString(f.GetPatch())
		if !strings.HasSuffix(f.GetPatch(), "\n") {
			b.WriteString("\n")
		}
	}
	return b.String(), missing
}

// listFiles pages through the files listing, up to the API's 3,000.
func (g *gatherer) listFiles(ctx context.Context, total int) ([]*github.CommitFile, error) {
	o, r, n := g.opts.Owner, g.opts.Repo, g.opts.Number
	if total > MaxAPIFiles {
		g.logf("pull request changes %d files; the API lists only the first %d, give a checkout for the rest", total, MaxAPIFiles)
	}
	var all []*github.CommitFile
	opt := &github.ListOptions{PerPage: perPage}
	for page := 0; page < MaxAPIFiles/perPage; page++ {
		var files []*github.CommitFile
		var next int
		err := g.call(ctx, fmt.Sprintf("list files of %s/%s#%d", o, r, n), func() (*github.Response, error) {
			var resp *github.Response
			var err error
			files, resp, err = g.c.PullRequests.ListFiles(ctx, o, r, n, opt)
			if resp != nil {
				next = resp.NextPage
			}
			return resp, err
		})
		if err != nil {
			return nil, err
		}
		all = append(all, files...)
		if next == 0 || len(all) >= MaxAPIFiles {
			break
		}
		opt.Page = next
	}
	return all, nil
}

// listCommits pages through the commits listing, up to the API's 250,
// oldest first.
func (g *gatherer) listCommits(ctx context.Context) ([]review.Commit, error) {
	o, r, n := g.opts.Owner, g.opts.Repo, g.opts.Number
	commits := []review.Commit{}
	opt := &github.ListOptions{PerPage: perPage}
	for page := 0; page <= MaxAPICommits/perPage; page++ {
		var list []*github.RepositoryCommit
		var next int
		err := g.call(ctx, fmt.Sprintf("list commits of %s/%s#%d", o, r, n), func() (*github.Response, error) {
			var resp *github.Response
			var err error
			list, resp, err = g.c.PullRequests.ListCommits(ctx, o, r, n, opt)
			if resp != nil {
				next = resp.NextPage
			}
			return resp, err
		})
		if err != nil {
			return nil, err
		}
		for _, rc := range list {
			subject, _, _ := strings.Cut(rc.GetCommit().GetMessage(), "\n")
			commits = append(commits, review.Commit{SHA: rc.GetSHA(), Subject: strings.TrimSpace(subject)})
		}
		if next == 0 {
			break
		}
		opt.Page = next
	}
	return commits, nil
}

// issueComments pages through the pull request's conversation comments.
func (g *gatherer) issueComments(ctx context.Context) ([]*github.IssueComment, error) {
	return listIssueComments(ctx, g.opts.Owner, g.opts.Repo, g.opts.Number, func(what string, fn func() (*github.Response, error)) error {
		return g.call(ctx, what, fn)
	}, g.c)
}

type caller func(what string, fn func() (*github.Response, error)) error

func listIssueComments(ctx context.Context, o, r string, n int, call caller, c *github.Client) ([]*github.IssueComment, error) {
	var all []*github.IssueComment
	opt := &github.IssueListCommentsOptions{ListOptions: github.ListOptions{PerPage: perPage}}
	for page := 0; page < maxCommentPages; page++ {
		var list []*github.IssueComment
		var next int
		err := call(fmt.Sprintf("list comments of %s/%s#%d", o, r, n), func() (*github.Response, error) {
			var resp *github.Response
			var err error
			list, resp, err = c.Issues.ListComments(ctx, o, r, n, opt)
			if resp != nil {
				next = resp.NextPage
			}
			return resp, err
		})
		if err != nil {
			return nil, err
		}
		all = append(all, list...)
		if next == 0 {
			break
		}
		opt.Page = next
	}
	return all, nil
}

// sortComments orders comments by time, then URL, so output is stable.
func sortComments(cs []review.Comment) {
	sort.SliceStable(cs, func(i, j int) bool {
		if cs[i].CreatedAt != cs[j].CreatedAt {
			return cs[i].CreatedAt < cs[j].CreatedAt
		}
		return cs[i].URL < cs[j].URL
	})
}
