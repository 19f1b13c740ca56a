// Package deps resolves a dependency of the pull request's head at exactly
// the version the head pins, and reads its files: Go modules from go.mod and
// go.sum (replace directives honoured, vendor/ read from the repository),
// fetched through the Go module proxy GOPROXY names and verified against
// go.sum's h1: hash; npm packages from package-lock.json, fetched from the
// registry and verified against the lockfile's sha512 integrity.
//
// Nothing fetched is ever executed. Archives are checked before anything is
// written and extracted only under the cache directory the caller passes,
// through an os.Root, so no entry can land outside it; every download is
// bounded in bytes and in time, and the whole run in bytes.
//
// A request the model can fix or must accept (an unpinned package, a
// module with no go.sum hash, a refused or failed download) is a *Refusal;
// any other error is the caller's problem (the cache directory failing, the
// context ending).
package deps

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
)

// Defaults of Config's bounds.
const (
	DefaultMaxArchiveBytes = 64 << 20  // one downloaded archive
	DefaultMaxExtractBytes = 256 << 20 // one archive's files once extracted
	DefaultMaxRunBytes     = 512 << 20 // every download of one Fetcher
	DefaultFetchTimeout    = 60 * time.Second
	maxMetadataBytes       = 32 << 20 // a packument or a proxy's answer
	maxArchiveFiles        = 50_000
)

// Ecosystems.
const (
	Go  = "go"
	NPM = "npm"
)

// Config is what a Fetcher needs from its caller.
type Config struct {
	// CacheDir is where archives are downloaded and extracted; it must
	// exist, and the caller owns it (create it with os.MkdirTemp and
	// remove it when the run ends). Nothing is written outside it.
	CacheDir string
	// Client makes every request; nil is http.DefaultClient.
	Client *http.Client
	// Getenv reads GOPROXY, GONOPROXY, GOPRIVATE and npm_config_registry;
	// nil reads nothing, so the defaults apply.
	Getenv func(string) string
	// MaxArchiveBytes bounds one download (DefaultMaxArchiveBytes when 0),
	// MaxExtractBytes its extracted files (DefaultMaxExtractBytes), and
	// MaxRunBytes all downloads together (DefaultMaxRunBytes).
	MaxArchiveBytes int64
	MaxExtractBytes int64
	MaxRunBytes     int64
	// FetchTimeout bounds each request, body included (DefaultFetchTimeout
	// when 0).
	FetchTimeout time.Duration
}

// Fetcher downloads, verifies and extracts dependencies into its cache
// directory, once per module version and hash. It is safe for concurrent
// use, so several reviewers and the lead may share one.
type Fetcher struct {
	cfg Config

	mu      sync.Mutex
	used    int64 // bytes downloaded so far
	entries map[string]*cacheEntry
}

type cacheEntry struct {
	done chan struct{}
	root *os.Root
	err  error
}

// NewFetcher checks cfg and returns a Fetcher over it.
func NewFetcher(cfg Config) (*Fetcher, error) {
	if cfg.CacheDir == "" {
		return nil, errors.New("deps: the cache directory is empty; create one with os.MkdirTemp")
	}
	abs, err := filepath.Abs(cfg.CacheDir)
	if err != nil {
		return nil, fmt.Errorf("deps: cache directory: %w", err)
	}
	if st, err := os.Stat(abs); err != nil || !st.IsDir() {
		return nil, fmt.Errorf("deps: cache directory %s is not a directory", abs)
	}
	cfg.CacheDir = abs
	if cfg.Client == nil {
		cfg.Client = http.DefaultClient
	}
	if cfg.Getenv == nil {
		cfg.Getenv = func(string) string { return "" }
	}
	if cfg.MaxArchiveBytes <= 0 {
		cfg.MaxArchiveBytes = DefaultMaxArchiveBytes
	}
	if cfg.MaxExtractBytes <= 0 {
		cfg.MaxExtractBytes = DefaultMaxExtractBytes
	}
	if cfg.MaxRunBytes <= 0 {
		cfg.MaxRunBytes = DefaultMaxRunBytes
	}
	if cfg.FetchTimeout <= 0 {
		cfg.FetchTimeout = DefaultFetchTimeout
	}
	return &Fetcher{cfg: cfg, entries: map[string]*cacheEntry{}}, nil
}

// Refusal is a request the tool answers with a readable message instead of
// files: the package is not pinned, unverifiable, refused or unreachable.
type Refusal struct {
	Message string
}

func (r *Refusal) Error() string { return r.Message }

func refuse(format string, args ...any) error {
	return &Refusal{Message: fmt.Sprintf(format, args...)}
}

// IsRefusal reports whether err is (or wraps) a *Refusal.
func IsRefusal(err error) bool {
	var r *Refusal
	return errors.As(err, &r)
}

// Head reads files of the pull request's head commit, confined to the
// repository; a missing file is an error wrapping fs.ErrNotExist.
type Head interface {
	ReadFile(ctx context.Context, path string) ([]byte, error)
}

// Module is one resolved dependency. Exactly one of RepoDir and the
// extracted files is set: a vendored module or a local replacement lives in
// the repository and is read with the repository's own confined tools; a
// fetched one is read with ReadFile and Files.
type Module struct {
	// Ecosystem is Go or NPM.
	Ecosystem string
	// Name and Version are what was read: for a replaced Go module, the
	// replacement's path and version.
	Name    string
	Version string
	// Origin says where the files come from and how they were verified,
	// for the model, e.g. "the Go module proxy https://proxy.golang.org,
	// verified against go.sum".
	Origin string
	// RepoDir, when set, is the module's directory in the repository
	// (slash-separated, relative to its root).
	RepoDir string

	root *os.Root
}

// ReadFile returns the file at the slash path p, relative to the module's
// root. p must be clean and relative (see CleanPath); the read cannot leave
// the extracted directory, even through a symlink.
func (m *Module) ReadFile(p string) ([]byte, error) {
	if m.root == nil {
		return nil, errors.New("deps: module lives in the repository; read it there")
	}
	return m.root.ReadFile(filepath.FromSlash(p))
}

// Stat returns the size of the regular file at p, or an error wrapping
// fs.ErrNotExist (also for a directory, with IsDir set in the info).
func (m *Module) Stat(p string) (fs.FileInfo, error) {
	if m.root == nil {
		return nil, errors.New("deps: module lives in the repository; read it there")
	}
	return m.root.Lstat(filepath.FromSlash(p))
}

// Files lists the module's regular files, slash-separated and sorted.
func (m *Module) Files() ([]string, error) {
	if m.root == nil {
		return nil, errors.New("deps: module lives in the repository; list it there")
	}
	var files []string
	err := fs.WalkDir(m.root.FS(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list %s@%s: %w", m.Name, m.Version, err)
	}
	sort.Strings(files)
	return files, nil
}

// CleanPath checks a path inside a dependency: relative, no "..", no NUL
// byte. It returns the cleaned slash path, or a *Refusal.
func CleanPath(p string) (string, error) {
	if strings.TrimSpace(p) == "" {
		return "", refuse("path is empty; give a path relative to the dependency's root, e.g. README.md, or list its files first")
	}
	if strings.ContainsRune(p, 0) {
		return "", refuse("path %q holds a NUL byte", p)
	}
	s := strings.ReplaceAll(p, `\`, "/")
	if path.IsAbs(s) || filepath.IsAbs(p) || len(s) >= 2 && s[1] == ':' {
		return "", refuse("path %q is absolute; give a path relative to the dependency's root", p)
	}
	c := path.Clean(s)
	if c == ".." || strings.HasPrefix(c, "../") {
		return "", refuse("path %q leaves the dependency; give a path inside it", p)
	}
	if c == "." {
		return "", refuse("path %q is the dependency's root, a directory; list its files instead", p)
	}
	return c, nil
}

// fetchOnce runs fill for key once, concurrent callers waiting for it; a
// failure is not kept, so a later call tries again. fill extracts into the
// empty directory it is given, which becomes the cached one on success. The
// root it returns belongs to the Fetcher: callers never close it.
func (f *Fetcher) fetchOnce(ctx context.Context, key string, fill func(ctx context.Context, dir string) error) (*os.Root, error) {
	f.mu.Lock()
	e := f.entries[key]
	if e == nil {
		e = &cacheEntry{done: make(chan struct{})}
		f.entries[key] = e
		f.mu.Unlock()
		var dir string
		dir, e.err = f.fill(ctx, key, fill)
		if e.err == nil {
			if e.root, e.err = os.OpenRoot(dir); e.err != nil {
				e.err = fmt.Errorf("deps: open %s: %w", dir, e.err)
			}
		}
		if e.err != nil {
			f.mu.Lock()
			delete(f.entries, key)
			f.mu.Unlock()
		}
		close(e.done)
	} else {
		f.mu.Unlock()
		select {
		case <-e.done:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return e.root, e.err
}

// Close releases the extracted modules' directories; the files stay in
// the cache directory, which the caller removes.
func (f *Fetcher) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	var errs []error
	for k, e := range f.entries {
		select {
		case <-e.done:
			if e.root != nil {
				errs = append(errs, e.root.Close())
			}
			delete(f.entries, k)
		default: // still being fetched; its owner finishes it
		}
	}
	return errors.Join(errs...)
}

// fill extracts into a scratch directory and renames it into place, so a
// failed or cut extraction never looks complete.
func (f *Fetcher) fill(ctx context.Context, key string, fill func(ctx context.Context, dir string) error) (string, error) {
	sum := sha256.Sum256([]byte(key))
	final := filepath.Join(f.cfg.CacheDir, "m-"+hex.EncodeToString(sum[:12]))
	if st, err := os.Stat(final); err == nil && st.IsDir() {
		return final, nil
	}
	scratch, err := os.MkdirTemp(f.cfg.CacheDir, "tmp-")
	if err != nil {
		return "", fmt.Errorf("deps: scratch directory: %w", err)
	}
	if err := fill(ctx, scratch); err != nil {
		os.RemoveAll(scratch)
		return "", err
	}
	if err := os.Rename(scratch, final); err != nil {
		os.RemoveAll(scratch)
		return "", fmt.Errorf("deps: cache %s: %w", key, err)
	}
	return final, nil
}

// download GETs url into w, at most limit bytes and within the run's
// budget, in one FetchTimeout. A status other than 200 comes back as a
// *statusError. It returns the bytes written.
func (f *Fetcher) download(ctx context.Context, url string, limit int64, accept string, w io.Writer) (int64, error) {
	f.mu.Lock()
	left := f.cfg.MaxRunBytes - f.used
	f.mu.Unlock()
	if left <= 0 {
		return 0, refuse("the run's dependency budget of %d bytes is spent; rely on the repository and your knowledge", f.cfg.MaxRunBytes)
	}
	parent := ctx
	ctx, cancel := context.WithTimeout(ctx, f.cfg.FetchTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, refuse("bad URL %s: %v", url, err)
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp, err := f.cfg.Client.Do(req)
	if err != nil {
		return 0, f.netErr(parent, ctx, url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusGone {
		io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
		return 0, &statusError{url: url, code: resp.StatusCode}
	}
	if resp.StatusCode != http.StatusOK {
		return 0, &statusError{url: url, code: resp.StatusCode}
	}
	if resp.ContentLength > limit {
		return 0, refuse("%s is %d bytes, over the %d-byte limit for one download; it is not fetched", url, resp.ContentLength, limit)
	}
	capBytes := min(limit, left)
	n, err := io.Copy(w, io.LimitReader(resp.Body, capBytes+1))
	f.mu.Lock()
	f.used += n
	f.mu.Unlock()
	if err != nil {
		return n, f.netErr(parent, ctx, url, err)
	}
	if n > capBytes {
		if capBytes < limit {
			return n, refuse("the run's dependency budget of %d bytes is spent while fetching %s; rely on the repository and your knowledge", f.cfg.MaxRunBytes, url)
		}
		return n, refuse("%s is over the %d-byte limit for one download; it is not read", url, limit)
	}
	return n, nil
}

// netErr is a failed request: the caller's context ending aborts, the
// fetch's own deadline and any network failure are readable.
func (f *Fetcher) netErr(parent, ctx context.Context, url string, err error) error {
	if parent.Err() != nil {
		return parent.Err()
	}
	if ctx.Err() != nil {
		return refuse("fetching %s took longer than %s; it is not read", url, f.cfg.FetchTimeout)
	}
	return refuse("fetching %s failed: %v", url, err)
}

// statusError is an HTTP answer other than 200.
type statusError struct {
	url  string
	code int
}

func (e *statusError) Error() string {
	return fmt.Sprintf("fetching %s: HTTP %d %s", e.url, e.code, http.StatusText(e.code))
}

func (e *statusError) notFound() bool {
	return e.code == http.StatusNotFound || e.code == http.StatusGone
}

// asRefusal makes a status error readable; other errors pass unchanged.
func asRefusal(err error) error {
	var se *statusError
	if errors.As(err, &se) {
		return &Refusal{Message: se.Error()}
	}
	return err
}
