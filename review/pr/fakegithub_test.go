package pr

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
)

// fixturesDir holds real GitHub REST responses (copied from the shared
// fixtures) the fake serves.
const fixturesDir = "testdata/rest"

// fakeGitHub is a GitHub API on httptest, mounted under /api/v3 as GitHub
// Enterprise Server is, with GraphQL at /api/graphql. Every route is
// registered by the test; a request to any other path fails the test, and
// verify fails it when a registered route was never called.
type fakeGitHub struct {
	t      *testing.T
	srv    *httptest.Server
	token  string
	mu     sync.Mutex
	routes []*route
}

type route struct {
	method, path string
	handler      http.HandlerFunc
	calls        int
	queries      []url.Values
}

func newFakeGitHub(t *testing.T, token string) *fakeGitHub {
	t.Helper()
	f := &fakeGitHub{t: t, token: token}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeGitHub) apiURL() string { return f.srv.URL + "/api/v3" }

// on registers a REST route under /api/v3.
func (f *fakeGitHub) on(method, path string, h http.HandlerFunc) *route {
	return f.onRaw(method, "/api/v3"+path, h)
}

func (f *fakeGitHub) onRaw(method, path string, h http.HandlerFunc) *route {
	r := &route{method: method, path: path, handler: h}
	f.mu.Lock()
	f.routes = append(f.routes, r)
	f.mu.Unlock()
	return r
}

func (f *fakeGitHub) serve(w http.ResponseWriter, r *http.Request) {
	if got, want := r.Header.Get("Authorization"), "Bearer "+f.token; got != want {
		f.t.Errorf("%s %s: Authorization %q, want %q", r.Method, r.URL.Path, got, want)
		writeJSON(w, http.StatusUnauthorized, map[string]any{"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest"})
		return
	}
	f.mu.Lock()
	var found *route
	for _, rt := range f.routes {
		if rt.method == r.Method && rt.path == r.URL.Path {
			found = rt
			break
		}
	}
	if found != nil {
		found.calls++
		found.queries = append(found.queries, r.URL.Query())
	}
	f.mu.Unlock()
	if found == nil {
		f.t.Errorf("unexpected request %s %s", r.Method, r.URL)
		writeJSON(w, http.StatusNotFound, map[string]any{"message": "Not Found", "documentation_url": "https://docs.github.com/rest"})
		return
	}
	found.handler(w, r)
}

// verify fails the test for every registered route never called.
func (f *fakeGitHub) verify() {
	f.t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, rt := range f.routes {
		if rt.calls == 0 {
			f.t.Errorf("expected call %s %s never happened", rt.method, rt.path)
		}
	}
}

func (r *route) count() int { return r.calls }

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// paginate serves one page of items as GitHub does: page and per_page
// query parameters, and a Link header with next, last, first and prev.
func paginate(w http.ResponseWriter, r *http.Request, items []any) {
	q := r.URL.Query()
	page, _ := strconv.Atoi(q.Get("page"))
	if page < 1 {
		page = 1
	}
	per, _ := strconv.Atoi(q.Get("per_page"))
	if per < 1 {
		per = 30
	}
	last := (len(items) + per - 1) / per
	if last < 1 {
		last = 1
	}
	link := func(p int, rel string) string {
		u := url.URL{Scheme: "http", Host: r.Host, Path: r.URL.Path}
		v := url.Values{}
		v.Set("per_page", strconv.Itoa(per))
		v.Set("page", strconv.Itoa(p))
		u.RawQuery = v.Encode()
		return fmt.Sprintf("<%s>; rel=%q", u.String(), rel)
	}
	var links []string
	if page < last {
		links = append(links, link(page+1, "next"), link(last, "last"))
	}
	if page > 1 {
		links = append(links, link(1, "first"), link(page-1, "prev"))
	}
	if len(links) > 0 {
		h := links[0]
		for _, l := range links[1:] {
			h += ", " + l
		}
		w.Header().Set("Link", h)
	}
	start := min((page-1)*per, len(items))
	end := min(start+per, len(items))
	writeJSON(w, http.StatusOK, items[start:end])
}

// loadFixture decodes one of the shared REST fixtures; a list fixture gives
// its first item.
func loadFixture(t *testing.T, name string) map[string]any {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(fixturesDir, name))
	if err != nil {
		t.Fatalf("read fixture: %v", err)
	}
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatalf("fixture %s: %v", name, err)
	}
	if list, ok := v.([]any); ok {
		return list[0].(map[string]any)
	}
	return v.(map[string]any)
}

// clone deep-copies a decoded JSON object.
func clone(t *testing.T, m map[string]any) map[string]any {
	t.Helper()
	data, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func obj(m map[string]any, key string) map[string]any { return m[key].(map[string]any) }

// drain reads a request body, failing the test on error.
func drain(t *testing.T, r io.Reader) []byte {
	t.Helper()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
