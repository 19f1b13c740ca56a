// Package depstest serves fake package sources for tests: a Go module proxy
// and an npm registry over httptest, speaking the real wire formats (the
// proxy's @v/list, .info, .mod and .zip in golang.org/x/mod/zip's layout;
// the registry's packument and package/-prefixed .tgz). A request for a
// route neither serves fails the test.
package depstest

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"crypto/sha1"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/mod/module"
	"golang.org/x/mod/sumdb/dirhash"
	modzip "golang.org/x/mod/zip"
)

// Proxy is a fake GOPROXY. The zero value is not usable; call NewProxy.
type Proxy struct {
	*httptest.Server
	t testing.TB

	mu       sync.Mutex
	mods     map[string]map[string]*proxyVersion // path -> version -> files
	requests []string
}

type proxyVersion struct {
	mod []byte
	zip []byte
}

// NewProxy starts a proxy that serves nothing yet; it stops with the test.
func NewProxy(t testing.TB) *Proxy {
	p := &Proxy{t: t, mods: map[string]map[string]*proxyVersion{}}
	p.Server = httptest.NewServer(http.HandlerFunc(p.serve))
	t.Cleanup(p.Close)
	return p
}

// AddModule serves path@version with files (slash paths relative to the
// module root; a go.mod is added when missing), zipped as the go command
// zips a module, and returns the go.sum line's h1: hash of the zip.
func (p *Proxy) AddModule(path, version string, files map[string]string) string {
	p.t.Helper()
	if _, ok := files["go.mod"]; !ok {
		files["go.mod"] = "module " + path + "\n\ngo 1.21\n"
	}
	var mf []modzip.File
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		mf = append(mf, memFile{name: name, data: []byte(files[name])})
	}
	var buf bytes.Buffer
	if err := modzip.Create(&buf, module.Version{Path: path, Version: version}, mf); err != nil {
		p.t.Fatalf("zip %s@%s: %v", path, version, err)
	}
	return p.AddZip(path, version, []byte(files["go.mod"]), buf.Bytes())
}

// AddZip serves path@version with the zip bytes as they are, which may break
// every rule of the layout, and returns their h1: hash.
func (p *Proxy) AddZip(path, version string, goMod, zipData []byte) string {
	p.t.Helper()
	p.mu.Lock()
	if p.mods[path] == nil {
		p.mods[path] = map[string]*proxyVersion{}
	}
	p.mods[path][version] = &proxyVersion{mod: goMod, zip: zipData}
	p.mu.Unlock()
	return HashZip(p.t, zipData)
}

// HashZip is the h1: hash go.sum records for a module zip.
func HashZip(t testing.TB, zipData []byte) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "m.zip")
	if err := os.WriteFile(f, zipData, 0o644); err != nil {
		t.Fatal(err)
	}
	h, err := dirhash.HashZip(f, dirhash.Hash1)
	if err != nil {
		t.Fatalf("hash zip: %v", err)
	}
	return h
}

// RawZip builds a zip with the entries as named, in order: for archives a
// module proxy should never serve.
func RawZip(t testing.TB, entries ...[2]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range entries {
		w, err := zw.Create(e[0])
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(e[1]))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// Requests are the paths asked for so far, in order.
func (p *Proxy) Requests() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.requests...)
}

func (p *Proxy) serve(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	p.requests = append(p.requests, r.URL.Path)
	p.mu.Unlock()
	if r.Method != http.MethodGet {
		p.t.Errorf("proxy: %s %s: only GET is served", r.Method, r.URL.Path)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	escPath, file, ok := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/@v/")
	if !ok {
		p.t.Errorf("proxy: GET %s is not a route of the module proxy protocol", r.URL.Path)
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	modPath, err := module.UnescapePath(escPath)
	if err != nil {
		http.Error(w, "bad request: "+err.Error(), http.StatusBadRequest)
		return
	}
	p.mu.Lock()
	versions := p.mods[modPath]
	p.mu.Unlock()
	notFound := func() {
		http.Error(w, "not found: module "+modPath+": no matching versions", http.StatusNotFound)
	}
	if versions == nil {
		notFound()
		return
	}
	if file == "list" {
		var vs []string
		for v := range versions {
			vs = append(vs, v)
		}
		sort.Strings(vs)
		w.Header().Set("Content-Type", "text/plain; charset=UTF-8")
		fmt.Fprint(w, strings.Join(vs, "\n")+"\n")
		return
	}
	ext := filepath.Ext(file)
	version, err := module.UnescapeVersion(strings.TrimSuffix(file, ext))
	if err != nil {
		http.Error(w, "bad request: "+err.Error(), http.StatusBadRequest)
		return
	}
	v := versions[version]
	if v == nil {
		notFound()
		return
	}
	switch ext {
	case ".info":
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]string{"Version": version, "Time": "2026-01-01T00:00:00Z"})
	case ".mod":
		w.Header().Set("Content-Type", "text/plain; charset=UTF-8")
		w.Write(v.mod)
	case ".zip":
		w.Header().Set("Content-Type", "application/zip")
		w.Write(v.zip)
	default:
		p.t.Errorf("proxy: GET %s is not a route of the module proxy protocol", r.URL.Path)
		http.Error(w, "bad request", http.StatusBadRequest)
	}
}

type memFile struct {
	name string
	data []byte
}

func (f memFile) Path() string                { return f.name }
func (f memFile) Lstat() (os.FileInfo, error) { return memInfo{f}, nil }
func (f memFile) Open() (io.ReadCloser, error) {
	return io.NopCloser(bytes.NewReader(f.data)), nil
}

type memInfo struct{ f memFile }

func (i memInfo) Name() string       { return path.Base(i.f.name) }
func (i memInfo) Size() int64        { return int64(len(i.f.data)) }
func (i memInfo) Mode() os.FileMode  { return 0o644 }
func (i memInfo) ModTime() time.Time { return time.Time{} }
func (i memInfo) IsDir() bool        { return false }
func (i memInfo) Sys() any           { return nil }

// Registry is a fake npm registry. The zero value is not usable; call
// NewRegistry.
type Registry struct {
	*httptest.Server
	t testing.TB

	mu       sync.Mutex
	pkgs     map[string]map[string][]byte // name -> version -> tgz
	tarballs map[string]string            // version -> tarball URL override
	requests []string
}

// NewRegistry starts a registry that serves nothing yet; it stops with the
// test.
func NewRegistry(t testing.TB) *Registry {
	r := &Registry{t: t, pkgs: map[string]map[string][]byte{}, tarballs: map[string]string{}}
	r.Server = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.Close)
	return r
}

// TarEntry is one entry of a tarball: a regular file unless Type says
// otherwise.
type TarEntry struct {
	Name     string
	Body     string
	Type     byte // tar.TypeReg when 0
	Linkname string
}

// TarGz builds a gzipped tarball of the entries, in order, as they are
// named (npm's layout puts every file under package/).
func TarGz(t testing.TB, entries ...TarEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for _, e := range entries {
		typ := e.Type
		if typ == 0 {
			typ = tar.TypeReg
		}
		h := &tar.Header{Name: e.Name, Typeflag: typ, Linkname: e.Linkname, Mode: 0o644, Format: tar.FormatPAX}
		if typ == tar.TypeReg {
			h.Size = int64(len(e.Body))
		}
		if typ == tar.TypeDir {
			h.Mode = 0o755
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if typ == tar.TypeReg {
			tw.Write([]byte(e.Body))
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// Integrity is the sha512 subresource integrity of data, as a lockfile
// records it.
func Integrity(data []byte) string {
	sum := sha512.Sum512(data)
	return "sha512-" + base64.StdEncoding.EncodeToString(sum[:])
}

// AddPackage serves name@version as a tarball of files under package/ (a
// package.json is added when missing) and returns its integrity.
func (r *Registry) AddPackage(name, version string, files map[string]string) string {
	r.t.Helper()
	if _, ok := files["package.json"]; !ok {
		files["package.json"] = fmt.Sprintf(`{"name": %q, "version": %q}`+"\n", name, version)
	}
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	var entries []TarEntry
	for _, n := range names {
		entries = append(entries, TarEntry{Name: "package/" + n, Body: files[n]})
	}
	return r.AddTarball(name, version, TarGz(r.t, entries...))
}

// AddTarball serves name@version as the tarball bytes given and returns
// their integrity.
func (r *Registry) AddTarball(name, version string, tgz []byte) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.pkgs[name] == nil {
		r.pkgs[name] = map[string][]byte{}
	}
	r.pkgs[name][version] = tgz
	return Integrity(tgz)
}

// SetTarballURL makes the packument name version's tarball url instead of
// the registry's own.
func (r *Registry) SetTarballURL(version, url string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.tarballs[version] = url
}

// TarballURL is where the registry serves name@version.
func (r *Registry) TarballURL(name, version string) string {
	base := name[strings.LastIndexByte(name, '/')+1:]
	return r.URL + "/" + name + "/-/" + base + "-" + version + ".tgz"
}

// Requests are the paths asked for so far, in order.
func (r *Registry) Requests() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.requests...)
}

func (r *Registry) serve(w http.ResponseWriter, req *http.Request) {
	r.mu.Lock()
	r.requests = append(r.requests, req.URL.Path)
	r.mu.Unlock()
	if req.Method != http.MethodGet {
		r.t.Errorf("registry: %s %s: only GET is served", req.Method, req.URL.Path)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	p := strings.TrimPrefix(req.URL.Path, "/")
	if name, file, ok := strings.Cut(p, "/-/"); ok {
		r.mu.Lock()
		versions := r.pkgs[name]
		r.mu.Unlock()
		base := name[strings.LastIndexByte(name, '/')+1:]
		for v, tgz := range versions {
			if file == base+"-"+v+".tgz" {
				w.Header().Set("Content-Type", "application/octet-stream")
				w.Write(tgz)
				return
			}
		}
		r.t.Errorf("registry: GET %s: no such tarball", req.URL.Path)
		http.Error(w, `{"error":"Not found"}`, http.StatusNotFound)
		return
	}
	r.mu.Lock()
	versions := r.pkgs[p]
	doc := map[string]any{"name": p, "versions": map[string]any{}}
	latest := ""
	for v, tgz := range versions {
		tarball := r.tarballs[v]
		if tarball == "" {
			tarball = r.TarballURL(p, v)
		}
		sha := sha1.Sum(tgz)
		doc["versions"].(map[string]any)[v] = map[string]any{
			"name": p, "version": v,
			"dist": map[string]any{"tarball": tarball, "integrity": Integrity(tgz), "shasum": hex.EncodeToString(sha[:])},
		}
		if v > latest {
			latest = v
		}
	}
	r.mu.Unlock()
	if versions == nil {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprint(w, `{"error":"Not found"}`)
		return
	}
	doc["dist-tags"] = map[string]string{"latest": latest}
	if strings.Contains(req.Header.Get("Accept"), "application/vnd.npm.install-v1+json") {
		w.Header().Set("Content-Type", "application/vnd.npm.install-v1+json")
	} else {
		w.Header().Set("Content-Type", "application/json")
	}
	json.NewEncoder(w).Encode(doc)
}
