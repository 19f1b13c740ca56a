package pr

import (
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/deepreview/deep-review/review/internal/fakegithub"
)

// fixturesDir holds real GitHub REST responses (copied from the shared
// fixtures) the fake serves.
const fixturesDir = "testdata/rest"

// fakeGitHub is the shared fake GitHub (review/internal/fakegithub); the
// tests put their own handlers before its routes with on, and verify fails
// a test for a handler never called.
type fakeGitHub = fakegithub.Server

func newFakeGitHub(t *testing.T, token string) *fakeGitHub {
	t.Helper()
	return fakegithub.New(t, fakegithub.Options{Token: token})
}

// writeJSON and paginate answer as GitHub does (the shared fake's).
var (
	writeJSON = fakegithub.WriteJSON
	paginate  = fakegithub.Paginate
)

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
