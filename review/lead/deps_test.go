package lead

import (
	"context"
	"net/http"
	"os"
	"testing"

	"github.com/deepreview/deep-review/review"
	"github.com/deepreview/deep-review/review/agent"
	"github.com/deepreview/deep-review/review/deps"
	"github.com/deepreview/deep-review/review/llm"
)

func TestVerifyOffersReadDependencyWhenTheHeadPinsDependencies(t *testing.T) {
	t.Parallel()
	pr := fixture(t)
	writeFile(t, pr.Dir, "go.mod", "module example.com/cache\n\ngo 1.22\n")
	gitRun(t, pr.Dir, prEnv, "add", "go.mod")
	gitRun(t, pr.Dir, prEnv, "commit", "-q", "-m", "Add go.mod")
	pr.HeadSHA = gitRun(t, pr.Dir, prEnv, "rev-parse", "HEAD")

	cache, err := os.MkdirTemp(t.TempDir(), "deps-")
	if err != nil {
		t.Fatal(err)
	}
	f, err := deps.NewFetcher(deps.Config{CacheDir: cache, Client: &http.Client{}, Getenv: func(string) string { return "off" }})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, tt := range []struct {
		name    string
		fetcher *deps.Fetcher
		want    bool
	}{
		{"with a fetcher", f, true},
		{"without one", nil, false},
	} {
		m := &fakeModel{}
		l := New(Config{Name: "Lead (Fake)", Identity: llm.Identity{Provider: "fake", Model: "fake-1"}, Model: m, Concurrency: 1, Deps: tt.fetcher})
		if _, err := l.Verify(context.Background(), pr, []review.Finding{excerptOf(deleteRace)}); err != nil {
			t.Fatal(err)
		}
		if got := hasTool(m.requests[0], agent.ToolReadDependency); got != tt.want {
			t.Errorf("%s: read_dependency offered = %v, want %v", tt.name, got, tt.want)
		}
	}
}
