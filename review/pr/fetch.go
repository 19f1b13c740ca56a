package pr

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"

	"github.com/deepreview/deep-review/review"
	"github.com/deepreview/deep-review/review/git"
)

// authEnv is the environment that hands the token to git for remoteURL, the
// way actions/checkout does (an http extraheader with basic auth for
// x-access-token), through GIT_CONFIG_COUNT: it lives in the environment of
// the commands given it and is never written to .git/config or argv. Entry 0
// repeats the safe.directory review/git sets, since these variables replace
// its. The header is set on the URL-scoped key and reset first, so a
// credential actions/checkout persisted for the same host is replaced rather
// than sent twice. Only http(s) remotes get a token.
func authEnv(dir, remoteURL, token string) []string {
	if token == "" {
		return nil
	}
	u, err := url.Parse(remoteURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil
	}
	key := "http." + u.Scheme + "://" + u.Host + "/.extraheader"
	header := "AUTHORIZATION: basic " + base64.StdEncoding.EncodeToString([]byte("x-access-token:"+token))
	return []string{
		"GIT_CONFIG_COUNT=3",
		"GIT_CONFIG_KEY_0=safe.directory", "GIT_CONFIG_VALUE_0=" + dir,
		"GIT_CONFIG_KEY_1=" + key, "GIT_CONFIG_VALUE_1=",
		"GIT_CONFIG_KEY_2=" + key, "GIT_CONFIG_VALUE_2=" + header,
	}
}

// withEnv is repo with env added for its commands.
func withEnv(repo git.Repo, env []string) git.Repo {
	repo.Env = append(append([]string(nil), repo.Env...), env...)
	return repo
}

// fetchArgs fetch exactly what is named, without tags, submodules or any
// local ref or FETCH_HEAD being written.
var fetchArgs = []string{"fetch", "--quiet", "--no-tags", "--no-write-fetch-head", "--no-recurse-submodules"}

// deepenSteps are how far a shallow checkout is deepened, one step at a time,
// until base and head meet; then it is unshallowed.
var deepenSteps = []int{50, 500, 5000}

// remote is where missing commits are fetched from, with the token.
type remote struct {
	url, token string
}

// fetch fetches revs from the remote into repo, with the token for this
// command only.
func (r remote) fetch(ctx context.Context, repo git.Repo, extra []string, revs ...string) error {
	args := append(append(append([]string(nil), fetchArgs...), extra...), "--", r.url)
	args = append(args, revs...)
	_, err := withEnv(repo, authEnv(repo.Dir, r.url, r.token)).Run(ctx, args...)
	return err
}

// originRemote is the checkout's own origin remote. GitHub serves a pull
// request's head there as refs/pull/N/head, which a checkout of main (the
// scheduled review's) does not hold. The token goes with it only when origin
// is on the same host as apiClone, the clone URL the API names.
func originRemote(ctx context.Context, repo git.Repo, apiClone, token string) (remote, bool) {
	out, err := repo.Output(ctx, "remote", "get-url", "origin")
	if err != nil || out == "" {
		return remote{}, false
	}
	r := remote{url: redactURL(out)}
	if sameHost(r.url, apiClone) {
		r.token = token
	}
	return r, true
}

// sameHost reports whether two http(s) URLs name the same host.
func sameHost(a, b string) bool {
	ua, err1 := url.Parse(a)
	ub, err2 := url.Parse(b)
	return err1 == nil && err2 == nil && ua.Host != "" && strings.EqualFold(ua.Host, ub.Host) &&
		(ua.Scheme == "https" || ua.Scheme == "http") && ua.Scheme == ub.Scheme
}

// fetchPull fetches what repo lacks of pull request number from r: its
// head as refs/pull/N/head, and the base commit. It fails unless both are
// then in repo.
func fetchPull(ctx context.Context, repo git.Repo, r remote, number int, base, head string, logf func(string, ...any)) error {
	var refs []string
	if !repo.HasCommit(ctx, head) {
		refs = append(refs, fmt.Sprintf("refs/pull/%d/head", number))
	}
	if !repo.HasCommit(ctx, base) {
		refs = append(refs, base)
	}
	if len(refs) == 0 {
		return nil
	}
	logf("fetching %d missing commit(s) into %s from the checkout's origin %s (%s)", len(refs), repo.Dir, redactURL(r.url), strings.Join(refs, ", "))
	var extra []string
	if isShallow(ctx, repo) {
		extra = []string{"--depth=1"}
	}
	if err := r.fetch(ctx, repo, extra, refs...); err != nil {
		return fmt.Errorf("fetch %s from %s: %w", strings.Join(refs, ", "), redactURL(r.url), err)
	}
	for _, sha := range []string{base, head} {
		if !repo.HasCommit(ctx, sha) {
			return fmt.Errorf("%s still lacks %s after fetching %s from %s (the pull request moved on?)", repo.Dir, short(sha), strings.Join(refs, ", "), redactURL(r.url))
		}
	}
	return nil
}

// ensureCommits makes sure repo holds base and head and their merge base,
// fetching what is missing from the remote: the two commits first (at depth 1
// in a shallow clone), then, while the merge base is out of reach of a
// shallow clone, deeper history step by step. It returns the merge base.
func ensureCommits(ctx context.Context, repo git.Repo, r remote, base, head string, logf func(string, ...any)) (string, error) {
	var missing []string
	for _, sha := range []string{base, head} {
		if !repo.HasCommit(ctx, sha) {
			missing = append(missing, sha)
		}
	}
	shallow := isShallow(ctx, repo)
	if len(missing) > 0 {
		if r.url == "" {
			return "", fmt.Errorf("%s lacks commit %s and there is no remote URL to fetch it from", repo.Dir, short(missing[0]))
		}
		logf("fetching %d missing commit(s) into %s", len(missing), repo.Dir)
		var extra []string
		if shallow {
			extra = []string{"--depth=1"}
		}
		if err := r.fetch(ctx, repo, extra, missing...); err != nil {
			return "", fmt.Errorf("fetch %s from %s: %w", short(missing[0]), redactURL(r.url), err)
		}
	}
	for i := 0; ; i++ {
		mb, err := repo.Output(ctx, "merge-base", base, head)
		if err == nil && mb != "" {
			return mb, nil
		}
		if !shallow || r.url == "" || i > len(deepenSteps) {
			return "", fmt.Errorf("no merge base between base %s and head %s in %s; the histories are unrelated or the clone is too shallow (git fetch --unshallow)", short(base), short(head), repo.Dir)
		}
		extra := []string{"--unshallow"}
		if i < len(deepenSteps) {
			extra = []string{"--deepen=" + strconv.Itoa(deepenSteps[i])}
		}
		logf("the checkout is shallow; fetching more history (%s) to find the merge base", extra[0])
		if err := r.fetch(ctx, repo, extra, base, head); err != nil {
			return "", fmt.Errorf("deepen %s from %s: %w", repo.Dir, redactURL(r.url), err)
		}
	}
}

func isShallow(ctx context.Context, repo git.Repo) bool {
	out, err := repo.Output(ctx, "rev-parse", "--is-shallow-repository")
	return err == nil && out == "true"
}

// partialClone clones the remote without blobs (--filter=blob:none) into a
// new temporary directory under parent ("" is the system's). The returned
// repo carries the token in its environment, since any later command on a
// partial clone may fetch blobs; nothing is written to disk but the
// remote's URL.
func partialClone(ctx context.Context, parent string, r remote) (git.Repo, error) {
	dir, err := os.MkdirTemp(parent, "deep-review-clone-")
	if err != nil {
		return git.Repo{}, fmt.Errorf("make a directory for the clone: %w", err)
	}
	repo := git.Repo{Dir: dir}
	repo = withEnv(repo, authEnv(dir, r.url, r.token))
	if _, err := repo.Run(ctx, "clone", "--quiet", "--filter=blob:none", "--no-checkout", "--no-tags", "--", r.url, "."); err != nil {
		os.RemoveAll(dir)
		return git.Repo{}, fmt.Errorf("partial clone of %s: %w", redactURL(r.url), err)
	}
	return repo, nil
}

// fetchHistory fetches, with the token repo carries, the blobs of every
// version of paths in head's history. The reviewers' git blame and
// show_base run without the token, so in a partial clone they must find
// what they read already there instead of fetching it lazily.
func fetchHistory(ctx context.Context, repo git.Repo, head string, paths []string) error {
	if len(paths) == 0 {
		return nil
	}
	// --literal-pathspecs: a changed file named "*" or ":(glob)**" is a
	// name, not a pattern matching every other file's history.
	out, err := repo.Run(ctx, append([]string{"--literal-pathspecs", "rev-list", "--objects", "--missing=print", head, "--"}, paths...)...)
	if err != nil {
		return err
	}
	var missing []string
	for _, line := range strings.Split(string(out), "\n") {
		if oid, ok := strings.CutPrefix(line, "?"); ok && oid != "" {
			missing = append(missing, oid)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	_, err = repo.RunInput(ctx, []byte(strings.Join(missing, "\n")+"\n"),
		"-c", "fetch.negotiationAlgorithm=noop", "fetch", "--quiet", "--no-tags", "--no-write-fetch-head",
		"--recurse-submodules=no", "--filter=blob:none", "--stdin", "origin")
	return err
}

// changedPaths are the paths of files and, for renames, their old paths.
func changedPaths(files []review.ChangedFile) []string {
	var paths []string
	for _, f := range files {
		paths = append(paths, f.Path)
		if f.OldPath != "" {
			paths = append(paths, f.OldPath)
		}
	}
	return paths
}

// redactURL drops any credentials from a URL before it is shown.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return raw
	}
	u.User = nil
	return u.String()
}
