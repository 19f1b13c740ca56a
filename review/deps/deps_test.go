package deps_test

import (
	"archive/tar"
	"context"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/deepreview/deep-review/review/deps"
	"github.com/deepreview/deep-review/review/deps/depstest"
)

// head is the head commit's files, for LoadPins.
type head map[string]string

func (h head) ReadFile(_ context.Context, p string) ([]byte, error) {
	s, ok := h[p]
	if !ok {
		return nil, fmt.Errorf("%s: %w", p, fs.ErrNotExist)
	}
	return []byte(s), nil
}

// sandbox is a cache directory inside a directory of its own, so a test can
// see whether anything was written beside the cache.
type sandbox struct {
	outer, cache string
}

func newSandbox(t *testing.T) sandbox {
	t.Helper()
	outer := t.TempDir()
	cache := filepath.Join(outer, "cache")
	if err := os.Mkdir(cache, 0o755); err != nil {
		t.Fatal(err)
	}
	return sandbox{outer: outer, cache: cache}
}

// checkConfined fails when anything but the cache directory sits in the
// outer directory, or when the cache holds an extracted module although
// none was accepted, or leftover downloads.
func (s sandbox) checkConfined(t *testing.T, wantModules int) {
	t.Helper()
	outer, err := os.ReadDir(s.outer)
	if err != nil {
		t.Fatal(err)
	}
	if len(outer) != 1 || outer[0].Name() != "cache" {
		var names []string
		for _, e := range outer {
			names = append(names, e.Name())
		}
		t.Errorf("beside the cache directory: %v, want only cache", names)
	}
	entries, err := os.ReadDir(s.cache)
	if err != nil {
		t.Fatal(err)
	}
	modules := 0
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "m-") {
			modules++
			continue
		}
		t.Errorf("left in the cache: %s", e.Name())
	}
	if modules != wantModules {
		t.Errorf("cache holds %d modules, want %d", modules, wantModules)
	}
	filepath.WalkDir(s.outer, func(p string, d fs.DirEntry, err error) error {
		if err == nil && strings.Contains(d.Name(), "escape") {
			t.Errorf("an escaping entry was written: %s", p)
		}
		return nil
	})
}

func newFetcher(t *testing.T, s sandbox, env map[string]string, mod func(*deps.Config)) *deps.Fetcher {
	t.Helper()
	cfg := deps.Config{CacheDir: s.cache, Client: &http.Client{}, Getenv: func(k string) string { return env[k] }}
	if mod != nil {
		mod(&cfg)
	}
	f, err := deps.NewFetcher(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func pins(t *testing.T, h head) *deps.Pins {
	t.Helper()
	p, err := deps.LoadPins(context.Background(), h)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// refused asserts err is a refusal whose message holds want.
func refused(t *testing.T, err error, want string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want a refusal saying %q", want)
	}
	if !deps.IsRefusal(err) {
		t.Fatalf("err = %v (%T), want a refusal", err, err)
	}
	if !strings.Contains(err.Error(), want) {
		t.Errorf("refusal = %q, want it to say %q", err, want)
	}
}

const libGo = `package lib

// Parse returns n, or -1 when s is empty.
func Parse(s string) int {
	if s == "" {
		return -1
	}
	return len(s)
}
`

func goHead(mod, sum string) head {
	return head{"go.mod": "module example.com/app\n\ngo 1.22\n\n" + mod, "go.sum": sum}
}

func TestGoModuleIsFetchedVerifiedAndReadAtThePinnedVersion(t *testing.T) {
	t.Parallel()
	proxy := depstest.NewProxy(t)
	old := proxy.AddModule("example.com/lib", "v1.1.0", map[string]string{"lib.go": "package lib\n"})
	h1 := proxy.AddModule("example.com/lib", "v1.2.0", map[string]string{"lib.go": libGo, "sub/sub.go": "package sub\n"})
	if old == h1 {
		t.Fatal("two versions hash alike")
	}
	s := newSandbox(t)
	f := newFetcher(t, s, map[string]string{"GOPROXY": proxy.URL}, nil)
	p := pins(t, goHead("require example.com/lib v1.2.0\n",
		"example.com/lib v1.2.0 "+h1+"\nexample.com/lib v1.2.0/go.mod h1:whatever=\n"))

	// A package path inside the module finds the module.
	m, err := f.Resolve(context.Background(), p, deps.Go, "example.com/lib/sub")
	if err != nil {
		t.Fatal(err)
	}
	if m.Name != "example.com/lib" || m.Version != "v1.2.0" || m.RepoDir != "" {
		t.Errorf("module = %s %s in %q", m.Name, m.Version, m.RepoDir)
	}
	if !strings.Contains(m.Origin, proxy.URL) || !strings.Contains(m.Origin, "go.sum") {
		t.Errorf("origin %q names neither the proxy nor go.sum", m.Origin)
	}
	data, err := m.ReadFile("lib.go")
	if err != nil || string(data) != libGo {
		t.Errorf("lib.go = %q, %v", data, err)
	}
	files, err := m.Files()
	if want := []string{"go.mod", "lib.go", "sub/sub.go"}; err != nil || !slices.Equal(files, want) {
		t.Errorf("files = %v, %v; want %v", files, err, want)
	}
	for _, bad := range []string{"../cache", "/etc/passwd", "sub/../../x"} {
		if _, err := deps.CleanPath(bad); !deps.IsRefusal(err) {
			t.Errorf("CleanPath(%q) = %v, want a refusal", bad, err)
		}
	}
	if _, err := m.ReadFile("../../outside"); err == nil {
		t.Error("ReadFile left the module's directory")
	}

	// A second resolve is served from the cache.
	if _, err := f.Resolve(context.Background(), p, deps.Go, "example.com/lib"); err != nil {
		t.Fatal(err)
	}
	if got, want := proxy.Requests(), []string{"/example.com/lib/@v/v1.2.0.zip"}; !slices.Equal(got, want) {
		t.Errorf("proxy requests = %v, want %v", got, want)
	}
	s.checkConfined(t, 1)
}

func TestGoReplaceDirectivesAndVendorAreHonoured(t *testing.T) {
	t.Parallel()
	proxy := depstest.NewProxy(t)
	h1 := proxy.AddModule("example.com/fork", "v1.5.0", map[string]string{"fork.go": "package fork\n"})
	s := newSandbox(t)
	f := newFetcher(t, s, map[string]string{"GOPROXY": proxy.URL}, nil)
	h := goHead(`require (
	example.com/old v1.0.0
	example.com/local v0.1.0
	example.com/outside v0.1.0
	example.com/ven v0.3.0
)

replace example.com/old v1.0.0 => example.com/fork v1.5.0

replace example.com/local => ./third_party/local

replace example.com/outside => ../sibling
`, "example.com/fork v1.5.0 "+h1+"\n")
	h["vendor/modules.txt"] = "# example.com/ven v0.3.0\n## explicit\nexample.com/ven\n"
	p := pins(t, h)
	ctx := context.Background()

	m, err := f.Resolve(ctx, p, deps.Go, "example.com/old")
	if err != nil {
		t.Fatal(err)
	}
	if m.Name != "example.com/fork" || m.Version != "v1.5.0" || !strings.Contains(m.Origin, "replacing example.com/old v1.0.0") {
		t.Errorf("replaced module = %s %s (%s)", m.Name, m.Version, m.Origin)
	}
	m, err = f.Resolve(ctx, p, deps.Go, "example.com/local/pkg")
	if err != nil || m.RepoDir != "third_party/local" {
		t.Errorf("local replace = %+v, %v; want RepoDir third_party/local", m, err)
	}
	m, err = f.Resolve(ctx, p, deps.Go, "example.com/ven")
	if err != nil || m.RepoDir != "vendor/example.com/ven" {
		t.Errorf("vendored = %+v, %v; want RepoDir vendor/example.com/ven", m, err)
	}
	_, err = f.Resolve(ctx, p, deps.Go, "example.com/outside")
	refused(t, err, "outside the repository")
	_, err = f.Resolve(ctx, p, deps.Go, "example.com/app/internal")
	refused(t, err, "this repository's own module")
	if got := proxy.Requests(); len(got) != 1 {
		t.Errorf("proxy requests = %v, want only the fork's zip", got)
	}
}

func TestGoUnpinnedOrUnverifiableModulesAreRefused(t *testing.T) {
	t.Parallel()
	proxy := depstest.NewProxy(t)
	proxy.AddModule("example.com/nosum", "v1.0.0", map[string]string{"a.go": "package a\n"})
	s := newSandbox(t)
	f := newFetcher(t, s, map[string]string{"GOPROXY": proxy.URL}, nil)
	p := pins(t, goHead("require example.com/nosum v1.0.0\n", ""))
	ctx := context.Background()

	_, err := f.Resolve(ctx, p, deps.Go, "example.com/unknown")
	refused(t, err, "not required by go.mod")
	refused(t, err, "example.com/nosum")
	_, err = f.Resolve(ctx, p, deps.Go, "example.com/nosum")
	refused(t, err, "go.sum at the head has no h1: hash")
	_, err = f.Resolve(ctx, pins(t, head{}), deps.Go, "example.com/nosum")
	refused(t, err, "no go.mod")
	_, err = f.Resolve(ctx, pins(t, head{"go.mod": "this is not go.mod"}), deps.Go, "x")
	refused(t, err, "does not parse")
	_, err = f.Resolve(ctx, p, "cargo", "serde")
	refused(t, err, "not one of")
	if got := proxy.Requests(); len(got) != 0 {
		t.Errorf("proxy requests = %v, want none", got)
	}
	s.checkConfined(t, 0)
}

func TestGoArchiveWithAChecksumMismatchIsNotExtracted(t *testing.T) {
	t.Parallel()
	proxy := depstest.NewProxy(t)
	proxy.AddModule("example.com/lib", "v1.0.0", map[string]string{"lib.go": libGo})
	other := proxy.AddModule("example.com/other", "v1.0.0", map[string]string{"o.go": "package o\n"})
	s := newSandbox(t)
	f := newFetcher(t, s, map[string]string{"GOPROXY": proxy.URL}, nil)
	p := pins(t, goHead("require example.com/lib v1.0.0\n", "example.com/lib v1.0.0 "+other+"\n"))
	_, err := f.Resolve(context.Background(), p, deps.Go, "example.com/lib")
	refused(t, err, "checksum mismatch")
	s.checkConfined(t, 0)
}

func TestGoZipSlipArchiveIsRefusedBeforeAnythingIsWritten(t *testing.T) {
	t.Parallel()
	proxy := depstest.NewProxy(t)
	// The hash is in go.sum, so only the layout check stands between the
	// entry and the file system.
	evil := depstest.RawZip(t,
		[2]string{"example.com/evil@v1.0.0/go.mod", "module example.com/evil\n"},
		[2]string{"example.com/evil@v1.0.0/../../escape.txt", "pwned\n"},
	)
	h1 := proxy.AddZip("example.com/evil", "v1.0.0", []byte("module example.com/evil\n"), evil)
	abs := depstest.RawZip(t, [2]string{"/tmp/escape-abs.txt", "pwned\n"})
	h1abs := proxy.AddZip("example.com/abs", "v1.0.0", []byte("module example.com/abs\n"), abs)
	s := newSandbox(t)
	f := newFetcher(t, s, map[string]string{"GOPROXY": proxy.URL}, nil)
	p := pins(t, goHead("require (\n\texample.com/evil v1.0.0\n\texample.com/abs v1.0.0\n)\n",
		"example.com/evil v1.0.0 "+h1+"\nexample.com/abs v1.0.0 "+h1abs+"\n"))
	_, err := f.Resolve(context.Background(), p, deps.Go, "example.com/evil")
	refused(t, err, "unsafe or invalid layout")
	_, err = f.Resolve(context.Background(), p, deps.Go, "example.com/abs")
	refused(t, err, "unsafe or invalid layout")
	s.checkConfined(t, 0)
	if _, err := os.Stat("/tmp/escape-abs.txt"); err == nil {
		t.Error("/tmp/escape-abs.txt was written")
	}
}

func TestGoOversizedArchiveAndSpentBudgetAreRefused(t *testing.T) {
	t.Parallel()
	proxy := depstest.NewProxy(t)
	// Varied lines, so the zip stays larger than the 4 KiB cap compressed.
	var b strings.Builder
	for i := range 4000 {
		fmt.Fprintf(&b, "var v%d = %q\n", i, fmt.Sprintf("%x", i*7919))
	}
	h1 := proxy.AddModule("example.com/big", "v1.0.0", map[string]string{"big.go": "package big\n" + b.String()})
	small := proxy.AddModule("example.com/small", "v1.0.0", map[string]string{"s.go": "package s\n"})
	s := newSandbox(t)
	p := pins(t, goHead("require (\n\texample.com/big v1.0.0\n\texample.com/small v1.0.0\n)\n",
		"example.com/big v1.0.0 "+h1+"\nexample.com/small v1.0.0 "+small+"\n"))

	f := newFetcher(t, s, map[string]string{"GOPROXY": proxy.URL}, func(c *deps.Config) { c.MaxArchiveBytes = 4 << 10 })
	_, err := f.Resolve(context.Background(), p, deps.Go, "example.com/big")
	refused(t, err, "over the 4096-byte limit")

	g := newFetcher(t, s, map[string]string{"GOPROXY": proxy.URL}, func(c *deps.Config) { c.MaxExtractBytes = 1 << 10 })
	_, err = g.Resolve(context.Background(), p, deps.Go, "example.com/big")
	refused(t, err, "limit once extracted")

	// The run's budget covers every download together.
	r := newFetcher(t, s, map[string]string{"GOPROXY": proxy.URL}, func(c *deps.Config) { c.MaxRunBytes = 8 << 10 })
	_, err = r.Resolve(context.Background(), p, deps.Go, "example.com/big")
	refused(t, err, "budget")
	_, err = r.Resolve(context.Background(), p, deps.Go, "example.com/small")
	refused(t, err, "budget")
	s.checkConfined(t, 0)
}

func TestGOPROXYIsHonoured(t *testing.T) {
	t.Parallel()
	proxy := depstest.NewProxy(t)
	h1 := proxy.AddModule("example.com/lib", "v1.0.0", map[string]string{"lib.go": libGo})
	empty := depstest.NewProxy(t) // knows no module: answers 404
	broken := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "boom", http.StatusInternalServerError)
	}))
	t.Cleanup(broken.Close)
	p := pins(t, goHead("require example.com/lib v1.0.0\n", "example.com/lib v1.0.0 "+h1+"\n"))
	tests := []struct {
		name, goproxy, noproxy string
		want                   string // "" when it is fetched
	}{
		{name: "a 404 falls through a comma to the next proxy", goproxy: empty.URL + "," + proxy.URL},
		{name: "any failure falls through a pipe", goproxy: broken.URL + "|" + proxy.URL},
		{name: "a 500 does not fall through a comma", goproxy: broken.URL + "," + proxy.URL, want: "HTTP 500"},
		{name: "off refuses", goproxy: "off", want: "GOPROXY is off"},
		{name: "off after a miss refuses with the miss", goproxy: empty.URL + ",off", want: "HTTP 404"},
		{name: "direct alone is never used", goproxy: "direct", want: "never fetches from version control"},
		{name: "a file URL is not used", goproxy: "file:///tmp/proxy", want: "not an http(s) URL"},
		{name: "GONOPROXY sends the module to version control", goproxy: proxy.URL, noproxy: "example.com/*", want: "GONOPROXY"},
		{name: "credentials in the URL are dropped, never shown", goproxy: strings.Replace(proxy.URL, "://", "://user:s3cret@", 1)},
		{name: "credentials in a bad entry are not shown", goproxy: "ftp://user:s3cret@host", want: "not an http(s) URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSandbox(t)
			f := newFetcher(t, s, map[string]string{"GOPROXY": tt.goproxy, "GONOPROXY": tt.noproxy}, nil)
			m, err := f.Resolve(context.Background(), p, deps.Go, "example.com/lib")
			if err != nil && strings.Contains(err.Error(), "s3cret") || m != nil && strings.Contains(m.Origin, "s3cret") {
				t.Errorf("a credential leaked: %v %v", err, m)
			}
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				if !strings.Contains(m.Origin, proxy.URL) {
					t.Errorf("origin %q, want the proxy that served it", m.Origin)
				}
				return
			}
			refused(t, err, tt.want)
		})
	}
}

func TestAFetchThatHangsEndsAtItsDeadline(t *testing.T) {
	t.Parallel()
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	}))
	t.Cleanup(hang.Close)
	s := newSandbox(t)
	f := newFetcher(t, s, map[string]string{"GOPROXY": hang.URL}, func(c *deps.Config) { c.FetchTimeout = 50 * time.Millisecond })
	p := pins(t, goHead("require example.com/lib v1.0.0\n", "example.com/lib v1.0.0 h1:x=\n"))
	_, err := f.Resolve(context.Background(), p, deps.Go, "example.com/lib")
	refused(t, err, "took longer than")

	// The caller's own context ending is not the model's to read.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = f.Resolve(ctx, p, deps.Go, "example.com/lib")
	if err == nil || deps.IsRefusal(err) {
		t.Errorf("cancelled: err = %v, want the context's error", err)
	}
}

const indexJS = `'use strict';
// leftPad pads str on the left to len with ch (a space by default).
module.exports = function leftPad(str, len, ch) {
  str = String(str);
  if (!ch && ch !== 0) ch = ' ';
  while (str.length < len) str = ch + str;
  return str;
};
`

func lockHead(entries string) head {
	return head{"package-lock.json": `{
  "name": "app",
  "version": "1.0.0",
  "lockfileVersion": 3,
  "requires": true,
  "packages": {
    "": {"name": "app", "version": "1.0.0", "dependencies": {"left-pad": "^1.3.0"}},
` + entries + `
  }
}`}
}

func TestNPMPackageIsFetchedVerifiedAndRead(t *testing.T) {
	t.Parallel()
	reg := depstest.NewRegistry(t)
	integrity := reg.AddPackage("left-pad", "1.3.0", map[string]string{"index.js": indexJS, "lib/x.js": "x\n"})
	reg.AddPackage("left-pad", "1.2.0", map[string]string{"index.js": "old\n"})
	scoped := reg.AddPackage("@acme/util", "2.0.0", map[string]string{"index.js": "exports.x = 1;\n"})
	s := newSandbox(t)
	f := newFetcher(t, s, map[string]string{"npm_config_registry": reg.URL + "/"}, nil)
	p := pins(t, lockHead(fmt.Sprintf(`
    "node_modules/left-pad": {"version": "1.3.0", "resolved": %q, "integrity": %q},
    "node_modules/@acme/util": {"version": "2.0.0", "resolved": %q, "integrity": %q}`,
		reg.TarballURL("left-pad", "1.3.0"), integrity, reg.TarballURL("@acme/util", "2.0.0"), scoped)))
	if got := p.Ecosystems(); !slices.Equal(got, []string{deps.NPM}) {
		t.Errorf("ecosystems = %v", got)
	}
	ctx := context.Background()
	m, err := f.Resolve(ctx, p, deps.NPM, "left-pad")
	if err != nil {
		t.Fatal(err)
	}
	if m.Name != "left-pad" || m.Version != "1.3.0" || !strings.Contains(m.Origin, "integrity") {
		t.Errorf("module = %s %s (%s)", m.Name, m.Version, m.Origin)
	}
	data, err := m.ReadFile("index.js")
	if err != nil || string(data) != indexJS {
		t.Errorf("index.js = %q, %v", data, err)
	}
	files, _ := m.Files()
	if want := []string{"index.js", "lib/x.js", "package.json"}; !slices.Equal(files, want) {
		t.Errorf("files = %v, want %v (package/ stripped)", files, want)
	}
	m, err = f.Resolve(ctx, p, deps.NPM, "@acme/util")
	if err != nil {
		t.Fatal(err)
	}
	if data, _ := m.ReadFile("index.js"); string(data) != "exports.x = 1;\n" {
		t.Errorf("@acme/util index.js = %q", data)
	}
	want := []string{"/left-pad", "/left-pad/-/left-pad-1.3.0.tgz", "/@acme/util", "/@acme/util/-/util-2.0.0.tgz"}
	if got := reg.Requests(); !slices.Equal(got, want) {
		t.Errorf("registry requests = %v, want %v", got, want)
	}
	s.checkConfined(t, 2)
}

func TestNPMRefusesWhatItCannotVerifyOrFind(t *testing.T) {
	t.Parallel()
	reg := depstest.NewRegistry(t)
	integrity := reg.AddPackage("left-pad", "1.3.0", map[string]string{"index.js": indexJS})
	other := depstest.Integrity([]byte("something else"))
	s := newSandbox(t)
	f := newFetcher(t, s, map[string]string{"npm_config_registry": reg.URL}, nil)
	p := pins(t, lockHead(fmt.Sprintf(`
    "node_modules/left-pad": {"version": "1.3.0", "integrity": %q},
    "node_modules/nosum": {"version": "1.0.0"},
    "node_modules/sha1only": {"version": "1.0.0", "integrity": "sha1-2jmj7l5rSw0yVb/vlWAYkK/YBwk="},
    "node_modules/gitdep": {"version": "1.0.0", "resolved": "git+ssh://git@github.com/x/y.git#abc"},
    "node_modules/ws": {"resolved": "packages/ws", "link": true},
    "node_modules/escape": {"resolved": "../elsewhere", "link": true},
    "node_modules/a/node_modules/deep": {"version": "1.0.0", "integrity": %q}`, other, integrity)))
	ctx := context.Background()
	tests := []struct{ name, want string }{
		{"left-pad", "checksum mismatch"},
		{"nosum", "no integrity"},
		{"sha1only", "no sha512 digest"},
		{"gitdep", "version-control checkout"},
		{"escape", "not a directory inside the repository"},
		{"unknown", "not in package-lock.json"},
		{"deep", "node_modules/a/node_modules/deep"},
		{"../../etc", "not an npm package name"},
	}
	for _, tt := range tests {
		_, err := f.Resolve(ctx, p, deps.NPM, tt.name)
		refused(t, err, tt.want)
	}
	m, err := f.Resolve(ctx, p, deps.NPM, "ws")
	if err != nil || m.RepoDir != "packages/ws" {
		t.Errorf("a workspace link = %+v, %v; want RepoDir packages/ws", m, err)
	}
	_, err = f.Resolve(ctx, pins(t, head{}), deps.NPM, "left-pad")
	refused(t, err, "no package-lock.json")
	s.checkConfined(t, 0)
}

func TestNPMMaliciousTarballsAreRefusedWithoutWritingOutsideTheCache(t *testing.T) {
	t.Parallel()
	reg := depstest.NewRegistry(t)
	slip := reg.AddTarball("slip", "1.0.0", depstest.TarGz(t,
		depstest.TarEntry{Name: "package/index.js", Body: "ok\n"},
		depstest.TarEntry{Name: "package/../../escape.js", Body: "pwned\n"}))
	abs := reg.AddTarball("abs", "1.0.0", depstest.TarGz(t,
		depstest.TarEntry{Name: "/tmp/escape-npm-abs.js", Body: "pwned\n"}))
	links := reg.AddTarball("links", "1.0.0", depstest.TarGz(t,
		depstest.TarEntry{Name: "package/index.js", Body: "ok\n"},
		depstest.TarEntry{Name: "package/escape-link", Type: tar.TypeSymlink, Linkname: "../../../etc/passwd"},
		depstest.TarEntry{Name: "package/escape-hard", Type: tar.TypeLink, Linkname: "/etc/passwd"}))
	var huge strings.Builder
	for i := range 20000 {
		fmt.Fprintf(&huge, "line %d %x\n", i, i*2654435761)
	}
	big := reg.AddTarball("big", "1.0.0", depstest.TarGz(t, depstest.TarEntry{Name: "package/big.js", Body: huge.String()}))
	s := newSandbox(t)
	f := newFetcher(t, s, map[string]string{"npm_config_registry": reg.URL}, func(c *deps.Config) { c.MaxArchiveBytes = 64 << 10 })
	p := pins(t, lockHead(fmt.Sprintf(`
    "node_modules/slip": {"version": "1.0.0", "integrity": %q},
    "node_modules/abs": {"version": "1.0.0", "integrity": %q},
    "node_modules/links": {"version": "1.0.0", "integrity": %q},
    "node_modules/big": {"version": "1.0.0", "integrity": %q}`, slip, abs, links, big)))
	ctx := context.Background()
	_, err := f.Resolve(ctx, p, deps.NPM, "slip")
	refused(t, err, "leaves the package")
	_, err = f.Resolve(ctx, p, deps.NPM, "abs")
	refused(t, err, "is absolute")
	_, err = f.Resolve(ctx, p, deps.NPM, "big")
	refused(t, err, "over the 65536-byte limit")
	s.checkConfined(t, 0)

	// Links are never created: the package is read without them.
	m, err := f.Resolve(ctx, p, deps.NPM, "links")
	if err != nil {
		t.Fatal(err)
	}
	files, _ := m.Files()
	if !slices.Equal(files, []string{"index.js"}) {
		t.Errorf("files = %v, want only index.js", files)
	}
	s.checkConfined(t, 1)
	if _, err := os.Stat("/tmp/escape-npm-abs.js"); err == nil {
		t.Error("/tmp/escape-npm-abs.js was written")
	}
}

func TestNPMTarballOnAnotherHostIsNotFetched(t *testing.T) {
	t.Parallel()
	reg := depstest.NewRegistry(t)
	integrity := reg.AddPackage("left-pad", "1.3.0", map[string]string{"index.js": indexJS})
	reg.SetTarballURL("1.3.0", "http://169.254.169.254/latest/meta-data")
	s := newSandbox(t)
	f := newFetcher(t, s, map[string]string{"npm_config_registry": reg.URL}, nil)
	p := pins(t, lockHead(fmt.Sprintf(`"node_modules/left-pad": {"version": "1.3.0", "integrity": %q}`, integrity)))
	_, err := f.Resolve(context.Background(), p, deps.NPM, "left-pad")
	refused(t, err, "not on the registry's host")
}

func TestConcurrentResolvesFetchOnce(t *testing.T) {
	t.Parallel()
	proxy := depstest.NewProxy(t)
	h1 := proxy.AddModule("example.com/lib", "v1.0.0", map[string]string{"lib.go": libGo})
	s := newSandbox(t)
	f := newFetcher(t, s, map[string]string{"GOPROXY": proxy.URL}, nil)
	p := pins(t, goHead("require example.com/lib v1.0.0\n", "example.com/lib v1.0.0 "+h1+"\n"))
	errs := make(chan error, 8)
	for range 8 {
		go func() {
			m, err := f.Resolve(context.Background(), p, deps.Go, "example.com/lib")
			if err == nil {
				_, err = m.ReadFile("lib.go")
			}
			errs <- err
		}()
	}
	for range 8 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	if got := proxy.Requests(); len(got) != 1 {
		t.Errorf("proxy requests = %v, want one", got)
	}
	s.checkConfined(t, 1)
}
