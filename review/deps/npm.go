package deps

import (
	"bytes"
	"context"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"os"
	"path"
	"regexp"
	"sort"
	"strings"
)

// defaultRegistry is the npm registry when npm_config_registry is unset.
const defaultRegistry = "https://registry.npmjs.org"

// lockfile is package-lock.json: lockfile v2 and v3 list every installed
// package under "packages", keyed by its node_modules path; v1 only nests
// "dependencies".
type lockfile struct {
	LockfileVersion int                  `json:"lockfileVersion"`
	Packages        map[string]lockEntry `json:"packages"`
	Dependencies    map[string]lockEntry `json:"dependencies"`
}

type lockEntry struct {
	Name      string `json:"name"` // set for an alias ("npm:real@1")
	Version   string `json:"version"`
	Resolved  string `json:"resolved"`
	Integrity string `json:"integrity"`
	Link      bool   `json:"link"`
}

// npmName is a package name as the registry accepts it.
var npmName = regexp.MustCompile(`^(@[a-zA-Z0-9][a-zA-Z0-9._~-]*/)?[a-zA-Z0-9][a-zA-Z0-9._~-]*$`)

func (f *Fetcher) resolveNPM(ctx context.Context, p *Pins, name string) (*Module, error) {
	if p.lockErr != nil {
		return nil, p.lockErr
	}
	if p.lock == nil {
		return nil, refuse("the head has no package-lock.json at its root, so no npm package is pinned")
	}
	key, e, err := p.lock.find(name)
	if err != nil {
		return nil, err
	}
	pkg := key[strings.LastIndex(key, "node_modules/")+len("node_modules/"):]
	if e.Name != "" {
		pkg = e.Name
	}
	if e.Link {
		dir := path.Clean(strings.ReplaceAll(e.Resolved, `\`, "/"))
		if e.Resolved == "" || path.IsAbs(dir) || dir == ".." || strings.HasPrefix(dir, "../") || dir == "." {
			return nil, refuse("%s links to %q, not a directory inside the repository; it cannot be read", key, e.Resolved)
		}
		return &Module{Ecosystem: NPM, Name: pkg, Version: e.Version, RepoDir: dir,
			Origin: fmt.Sprintf("linked from the directory %s of this repository (package-lock.json)", dir)}, nil
	}
	switch r := e.Resolved; {
	case strings.HasPrefix(r, "file:"):
		return nil, refuse("%s resolves to %s, a file in the repository; read it with read_file", key, r)
	case strings.HasPrefix(r, "git"), strings.Contains(r, "://github.com/") && strings.Contains(r, "#"):
		return nil, refuse("%s resolves to %s, a version-control checkout that read_dependency never fetches", key, r)
	}
	if e.Version == "" {
		return nil, refuse("package-lock.json pins no version for %s", key)
	}
	if !npmName.MatchString(pkg) {
		return nil, refuse("%q is not an npm package name", pkg)
	}
	want, err := sha512Integrity(e.Integrity)
	if err != nil {
		return nil, refuse("%s %s: %v, so its source cannot be verified and is not read", pkg, e.Version, err)
	}
	registry, err := f.registry()
	if err != nil {
		return nil, err
	}
	root, err := f.fetchOnce(ctx, "npm|"+pkg+"@"+e.Version+"|"+e.Integrity, func(ctx context.Context, dir string) error {
		return f.fetchTarball(ctx, registry, pkg, e.Version, want, dir)
	})
	if err != nil {
		return nil, err
	}
	return &Module{Ecosystem: NPM, Name: pkg, Version: e.Version, root: root,
		Origin: fmt.Sprintf("fetched from the npm registry %s, verified against package-lock.json's integrity", registry)}, nil
}

// find looks name up: a lockfile key as given, else the top-level copy.
func (l *lockfile) find(name string) (string, lockEntry, error) {
	if strings.HasPrefix(name, "node_modules/") {
		if e, ok := l.Packages[name]; ok {
			return name, e, nil
		}
		return "", lockEntry{}, refuse("package-lock.json has no entry %q", name)
	}
	if !npmName.MatchString(name) {
		return "", lockEntry{}, refuse("%q is not an npm package name (e.g. lodash or @types/node)", name)
	}
	if len(l.Packages) > 0 {
		key := "node_modules/" + name
		if e, ok := l.Packages[key]; ok {
			return key, e, nil
		}
		var nested []string
		for k := range l.Packages {
			if strings.HasSuffix(k, "/node_modules/"+name) {
				nested = append(nested, k)
			}
		}
		sort.Strings(nested)
		if len(nested) > 0 {
			if len(nested) > 10 {
				nested = append(nested[:10], "...")
			}
			return "", lockEntry{}, refuse("%s is not installed at the top level; package-lock.json has nested copies: %s; pass one of these keys as the name", name, strings.Join(nested, ", "))
		}
		return "", lockEntry{}, refuse("%s is not in package-lock.json at the head, so no version is pinned", name)
	}
	if e, ok := l.Dependencies[name]; ok { // lockfile v1
		return "node_modules/" + name, e, nil
	}
	return "", lockEntry{}, refuse("%s is not in package-lock.json at the head, so no version is pinned", name)
}

// sha512Integrity picks the sha512 digest out of a subresource-integrity
// string ("sha512-<base64> sha1-<base64>").
func sha512Integrity(sri string) ([]byte, error) {
	if strings.TrimSpace(sri) == "" {
		return nil, fmt.Errorf("package-lock.json records no integrity")
	}
	for _, h := range strings.Fields(sri) {
		alg, digest, ok := strings.Cut(h, "-")
		if !ok || alg != "sha512" {
			continue
		}
		if i := strings.IndexByte(digest, '?'); i >= 0 {
			digest = digest[:i] // SRI options
		}
		sum, err := base64.StdEncoding.DecodeString(digest)
		if err != nil || len(sum) != sha512.Size {
			return nil, fmt.Errorf("integrity %q is not a valid sha512 digest", h)
		}
		return sum, nil
	}
	return nil, fmt.Errorf("integrity %q has no sha512 digest (only sha512 is trusted)", sri)
}

// registry is the npm registry's base URL from npm_config_registry.
func (f *Fetcher) registry() (*url.URL, error) {
	v := f.cfg.Getenv("npm_config_registry")
	if v == "" {
		v = f.cfg.Getenv("NPM_CONFIG_REGISTRY")
	}
	if v == "" {
		v = defaultRegistry
	}
	u, err := url.Parse(strings.TrimRight(v, "/"))
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, refuse("npm_config_registry %q is not an http(s) URL", redactURL(v))
	}
	u.User = nil
	return u, nil
}

// packument is the part of a registry's package document read here.
type packument struct {
	Versions map[string]struct {
		Dist struct {
			Tarball   string `json:"tarball"`
			Integrity string `json:"integrity"`
		} `json:"dist"`
	} `json:"versions"`
}

// fetchTarball finds version's tarball in the registry's packument, fetches
// it from the registry's own host, checks its sha512 against want and
// extracts it into dir.
func (f *Fetcher) fetchTarball(ctx context.Context, registry *url.URL, pkg, version string, want []byte, dir string) error {
	docURL := registry.String() + "/" + strings.Replace(pkg, "/", "%2f", 1)
	var doc bytes.Buffer
	if _, err := f.download(ctx, docURL, maxMetadataBytes, "application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8", &doc); err != nil {
		return asRefusal(err)
	}
	var pd packument
	if err := json.Unmarshal(doc.Bytes(), &pd); err != nil {
		return refuse("the registry's document for %s is not valid JSON: %v", pkg, err)
	}
	v, ok := pd.Versions[version]
	if !ok || v.Dist.Tarball == "" {
		return refuse("the registry %s has no version %s of %s", registry, version, pkg)
	}
	tu, err := url.Parse(v.Dist.Tarball)
	if err != nil || tu.Scheme != registry.Scheme || tu.Host != registry.Host {
		return refuse("the registry names the tarball %s for %s %s, not on the registry's host %s; it is not fetched", v.Dist.Tarball, pkg, version, registry.Host)
	}
	tmp, err := os.CreateTemp(f.cfg.CacheDir, "dl-*.tgz")
	if err != nil {
		return fmt.Errorf("deps: download file: %w", err)
	}
	defer os.Remove(tmp.Name())
	h := sha512.New()
	_, err = f.download(ctx, tu.String(), f.cfg.MaxArchiveBytes, "", io.MultiWriter(tmp, h))
	if cerr := tmp.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("deps: write %s: %w", tmp.Name(), cerr)
	}
	if err != nil {
		return asRefusal(err)
	}
	if got := h.Sum(nil); !bytes.Equal(got, want) {
		return refuse("checksum mismatch for %s %s: the tarball hashes to sha512-%s but package-lock.json pins sha512-%s; it is not read",
			pkg, version, base64.StdEncoding.EncodeToString(got), base64.StdEncoding.EncodeToString(want))
	}
	if err := extractTarGz(tmp.Name(), dir, f.cfg.MaxExtractBytes); err != nil {
		if IsRefusal(err) {
			return refuse("%s %s: %v", pkg, version, err)
		}
		return err
	}
	return nil
}
