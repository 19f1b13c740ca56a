package deps

import (
	"archive/zip"
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path"
	"sort"
	"strings"

	"golang.org/x/mod/modfile"
	"golang.org/x/mod/module"
	"golang.org/x/mod/sumdb/dirhash"
	modzip "golang.org/x/mod/zip"
)

// defaultGoProxy is GOPROXY's value when it is unset.
const defaultGoProxy = "https://proxy.golang.org,direct"

// Resolve finds the dependency name of the given ecosystem as the head pins
// it, fetching and verifying it when it is not in the repository. For Go,
// name is a module path or a package path inside a required module; for
// npm, a package name ("lodash", "@types/node") or a lockfile key
// ("node_modules/a/node_modules/b").
func (f *Fetcher) Resolve(ctx context.Context, p *Pins, ecosystem, name string) (*Module, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return nil, refuse("the dependency's name is empty; give a Go module path or an npm package name")
	}
	switch ecosystem {
	case Go:
		return f.resolveGo(ctx, p, name)
	case NPM:
		return f.resolveNPM(ctx, p, name)
	}
	return nil, refuse("ecosystem %q is not one of %q and %q", ecosystem, Go, NPM)
}

func (f *Fetcher) resolveGo(ctx context.Context, p *Pins, name string) (*Module, error) {
	if p.gomodErr != nil {
		return nil, p.gomodErr
	}
	if p.gomod == nil {
		return nil, refuse("the head has no go.mod at its root, so no Go module is pinned")
	}
	if mp := p.gomod.Module; mp != nil && within(name, mp.Mod.Path) {
		return nil, refuse("%s is this repository's own module; read it with read_file", name)
	}
	var req *modfile.Require
	for _, r := range p.gomod.Require {
		if within(name, r.Mod.Path) && (req == nil || len(r.Mod.Path) > len(req.Mod.Path)) {
			req = r
		}
	}
	if req == nil {
		return nil, refuse("%s is not required by go.mod at the head, so no version is pinned; the required modules are: %s", name, requiredList(p.gomod))
	}
	mod := req.Mod
	if p.vendored[mod.Path] {
		return &Module{Ecosystem: Go, Name: mod.Path, Version: mod.Version, RepoDir: "vendor/" + mod.Path,
			Origin: fmt.Sprintf("vendored in this repository at vendor/%s (vendor/modules.txt)", mod.Path)}, nil
	}
	origin := ""
	if rep := replacement(p.gomod, mod); rep != nil {
		if rep.New.Version == "" {
			dir := path.Clean(strings.ReplaceAll(rep.New.Path, `\`, "/"))
			if path.IsAbs(dir) || dir == ".." || strings.HasPrefix(dir, "../") || len(dir) >= 2 && dir[1] == ':' {
				return nil, refuse("go.mod replaces %s with the directory %s, outside the repository; it cannot be read", mod.Path, rep.New.Path)
			}
			if dir == "." {
				return nil, refuse("go.mod replaces %s with the repository root; read it with read_file", mod.Path)
			}
			return &Module{Ecosystem: Go, Name: mod.Path, Version: mod.Version, RepoDir: dir,
				Origin: fmt.Sprintf("replaced by the directory %s of this repository (go.mod replace)", dir)}, nil
		}
		origin = fmt.Sprintf(", replacing %s %s (go.mod replace)", mod.Path, mod.Version)
		mod = rep.New
	}
	sum := p.gosum[mod.Path+" "+mod.Version]
	if sum == "" {
		return nil, refuse("go.sum at the head has no h1: hash for %s %s, so its source cannot be verified and is not read", mod.Path, mod.Version)
	}
	if err := module.Check(mod.Path, mod.Version); err != nil {
		return nil, refuse("%s %s is not a valid module version: %v", mod.Path, mod.Version, err)
	}
	var proxyURL string
	root, err := f.fetchOnce(ctx, "go|"+mod.Path+"@"+mod.Version+"|"+sum, func(ctx context.Context, dir string) error {
		u, err := f.fetchGoZip(ctx, mod, sum, dir)
		proxyURL = u
		return err
	})
	if err != nil {
		return nil, err
	}
	if proxyURL == "" {
		proxyURL = "the Go module proxy"
	} else {
		proxyURL = "the Go module proxy " + proxyURL
	}
	return &Module{Ecosystem: Go, Name: mod.Path, Version: mod.Version, root: root,
		Origin: fmt.Sprintf("fetched from %s, verified against go.sum (%s)%s", proxyURL, sum, origin)}, nil
}

// within reports whether the import path name is mod or inside it.
func within(name, mod string) bool {
	return name == mod || strings.HasPrefix(name, mod+"/")
}

// replacement is go.mod's replace for mod: one naming its version wins over
// one for every version, as the go command decides.
func replacement(f *modfile.File, mod module.Version) *modfile.Replace {
	var any *modfile.Replace
	for _, r := range f.Replace {
		if r.Old.Path != mod.Path {
			continue
		}
		if r.Old.Version == mod.Version {
			return r
		}
		if r.Old.Version == "" {
			any = r
		}
	}
	return any
}

func requiredList(f *modfile.File) string {
	var names []string
	for _, r := range f.Require {
		names = append(names, r.Mod.Path)
	}
	sort.Strings(names)
	if len(names) == 0 {
		return "none"
	}
	if len(names) > 40 {
		names = append(names[:40], fmt.Sprintf("and %d more", len(names)-40))
	}
	return strings.Join(names, ", ")
}

// proxyEntry is one element of GOPROXY: a URL, "direct" or "off", and
// whether any error (|) or only a 404 or 410 (,) falls through to the next.
type proxyEntry struct {
	url     string
	anyFail bool
}

// goProxies parses GOPROXY as the go command does.
func goProxies(v string) []proxyEntry {
	if strings.TrimSpace(v) == "" {
		v = defaultGoProxy
	}
	var out []proxyEntry
	for v != "" {
		i := strings.IndexAny(v, ",|")
		e, sep := v, byte(0)
		if i >= 0 {
			e, sep, v = v[:i], v[i], v[i+1:]
		} else {
			v = ""
		}
		if e = strings.TrimSpace(e); e != "" {
			out = append(out, proxyEntry{url: strings.TrimRight(e, "/"), anyFail: sep == '|'})
		}
	}
	return out
}

// fetchGoZip downloads mod's zip through the proxies GOPROXY lists, checks
// it against sum and its layout, and extracts it into dir. It returns the
// proxy that served it.
func (f *Fetcher) fetchGoZip(ctx context.Context, mod module.Version, sum, dir string) (string, error) {
	getenv := f.cfg.Getenv
	noProxy := getenv("GONOPROXY")
	if noProxy == "" {
		noProxy = getenv("GOPRIVATE")
	}
	if noProxy != "" && module.MatchPrefixPatterns(noProxy, mod.Path) {
		return "", refuse("%s matches GONOPROXY/GOPRIVATE, so it is fetched only from its version control, which read_dependency never does", mod.Path)
	}
	escPath, err := module.EscapePath(mod.Path)
	if err != nil {
		return "", refuse("%s: %v", mod.Path, err)
	}
	escVer, err := module.EscapeVersion(mod.Version)
	if err != nil {
		return "", refuse("%s %s: %v", mod.Path, mod.Version, err)
	}
	var last error
	for _, p := range goProxies(getenv("GOPROXY")) {
		switch p.url {
		case "off":
			if last != nil {
				return "", asRefusal(last)
			}
			return "", refuse("GOPROXY is off, so no module is downloaded")
		case "direct":
			if last != nil {
				return "", refuse("%v; the next GOPROXY entry is direct (version control), which read_dependency never uses", asRefusal(last))
			}
			return "", refuse("GOPROXY names no proxy before direct, and read_dependency never fetches from version control")
		}
		u, err := url.Parse(p.url)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			last = refuse("GOPROXY entry %q is not an http(s) URL", redactURL(p.url))
			continue
		}
		// Credentials in the URL are dropped, never sent nor shown: what
		// the tool says reaches the model and the transcript.
		u.User = nil
		base := u.String()
		err = f.tryGoZip(ctx, base+"/"+escPath+"/@v/"+escVer+".zip", mod, sum, dir)
		if err == nil {
			return base, nil
		}
		var se *statusError
		isStatus := errors.As(err, &se)
		if !isStatus && !IsRefusal(err) {
			return "", err // the cache or the context failed
		}
		// A comma falls through only on "not found"; a pipe on any failure.
		if !(isStatus && se.notFound()) && !p.anyFail {
			return "", asRefusal(err)
		}
		last = err
	}
	if last == nil {
		return "", refuse("GOPROXY lists no proxy")
	}
	return "", asRefusal(last)
}

// tryGoZip fetches one zip into a file of the cache, verifies it and
// unpacks it.
func (f *Fetcher) tryGoZip(ctx context.Context, zipURL string, mod module.Version, sum, dir string) error {
	tmp, err := os.CreateTemp(f.cfg.CacheDir, "dl-*.zip")
	if err != nil {
		return fmt.Errorf("deps: download file: %w", err)
	}
	defer os.Remove(tmp.Name())
	_, err = f.download(ctx, zipURL, f.cfg.MaxArchiveBytes, "", tmp)
	if cerr := tmp.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("deps: write %s: %w", tmp.Name(), cerr)
	}
	if err != nil {
		return err
	}
	got, err := dirhash.HashZip(tmp.Name(), dirhash.Hash1)
	if err != nil {
		return refuse("%s %s from %s is not a valid zip: %v", mod.Path, mod.Version, zipURL, err)
	}
	if got != sum {
		return refuse("checksum mismatch for %s %s: the proxy's zip hashes to %s but go.sum pins %s; it is not read", mod.Path, mod.Version, got, sum)
	}
	// Verified, but the hash only says the zip is what go.sum pins: its
	// layout is checked before a byte is extracted.
	cf, err := modzip.CheckZip(mod, tmp.Name())
	if err == nil {
		err = cf.Err()
	}
	if err != nil {
		return refuse("%s %s has an unsafe or invalid layout and is not extracted: %v", mod.Path, mod.Version, err)
	}
	if err := checkZipSize(tmp.Name(), f.cfg.MaxExtractBytes); err != nil {
		return refuse("%s %s: %v", mod.Path, mod.Version, err)
	}
	if err := modzip.Unzip(dir, mod, tmp.Name()); err != nil {
		return refuse("%s %s could not be extracted: %v", mod.Path, mod.Version, err)
	}
	return nil
}

// checkZipSize refuses a zip whose files add up to more than limit bytes or
// number more than maxArchiveFiles.
func checkZipSize(name string, limit int64) error {
	z, err := zip.OpenReader(name)
	if err != nil {
		return err
	}
	defer z.Close()
	if len(z.File) > maxArchiveFiles {
		return fmt.Errorf("%d files, over the limit of %d", len(z.File), maxArchiveFiles)
	}
	var total uint64
	for _, zf := range z.File {
		total += zf.UncompressedSize64
		if total > uint64(limit) {
			return fmt.Errorf("its files are over the %d-byte limit once extracted", limit)
		}
	}
	return nil
}

// redactURL hides the userinfo of a URL that may not parse.
func redactURL(s string) string {
	if u, err := url.Parse(s); err == nil && u.User != nil {
		u.User = url.User("redacted")
		return u.String()
	}
	if at := strings.LastIndexByte(s, '@'); at >= 0 {
		if i := strings.Index(s, "://"); i >= 0 && i < at {
			return s[:i+3] + "redacted" + s[at:]
		}
	}
	return s
}
