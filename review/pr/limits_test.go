package pr

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/deepreview/deep-review/review"
)

func TestLocalReadsThePRsCodeWhatEverItsGitattributesSay(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.write("a.go", "package a\n")
	f.commit("base")
	f.git("checkout", "-q", "-b", "feature")
	f.write(".gitattributes", "*.go -diff\n")
	f.write("a.go", "package a\n\n// TODO: hidden from the reviewers\nfunc Evil() {}\n")
	f.write("logo.png", "\x89PNG\r\n\x1a\n\x00\x00\x00binary")
	f.commit("hide the code") // the checkout stays at the head, as in the Action

	got, err := Local(context.Background(), LocalOptions{Dir: f.repo.Dir, Base: "main", Head: "feature"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(got.Diff, "+func Evil() {}") || strings.Contains(got.Diff, "Binary files a/a.go") {
		t.Errorf("the diff hides a.go behind the PR's .gitattributes:\n%s", got.Diff)
	}
	if !strings.Contains(got.Diff, "Binary files /dev/null and b/logo.png differ") {
		t.Errorf("a real binary file is no longer shown as binary:\n%s", got.Diff)
	}
	for _, cf := range got.Files {
		if cf.Path == "a.go" && (cf.Binary || cf.Additions != 3) {
			t.Errorf("a.go = %+v, want 3 added text lines", cf)
		}
	}
	if want := []review.Limitation{{File: "a.go", Line: 3, Quote: "TODO: hidden from the reviewers"}}; !reflect.DeepEqual(got.Limitations, want) {
		t.Errorf("Limitations = %+v, want %+v", got.Limitations, want)
	}
}

func TestLocalSkipsFilesOverTheLimitsWithTheReason(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.write("grows.txt", "one line\n")
	f.write("small.go", "package a\n")
	f.commit("base")
	f.git("checkout", "-q", "-b", "feature")
	f.write("aaa/big.txt", strings.Repeat("a big file line\n", 3<<20/16)) // 3 MiB, added
	f.write("grows.txt", "one line\n"+strings.Repeat("a modified file grows\n", 200))
	f.write("small.go", "package a\n\nfunc A() {}\n")
	f.write("zz/after.txt", strings.Repeat("past the total\n", 150))
	f.commit("grow")

	got, err := Local(context.Background(), LocalOptions{Dir: f.repo.Dir, Base: "main", Head: "feature"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Skipped) != 1 || got.Skipped[0].Path != "aaa/big.txt" || !strings.Contains(got.Skipped[0].Reason, "too large") {
		t.Errorf("with the default limits Skipped = %+v, want aaa/big.txt, too large", got.Skipped)
	}
	if strings.Contains(got.Diff, "a big file line") || !strings.Contains(got.Diff, "+func A() {}") {
		t.Errorf("the diff holds the big file, or lacks the others")
	}

	// A modified file's diff is cut while it is read; the total is kept in git's order.
	got, err = Local(context.Background(), LocalOptions{Dir: f.repo.Dir, Base: "main", Head: "feature",
		Limits: Limits{MaxFileBytes: 3000, MaxDiffBytes: 2000}})
	if err != nil {
		t.Fatal(err)
	}
	reasons := map[string]string{}
	for _, s := range got.Skipped {
		reasons[s.Path] = s.Reason
	}
	if len(reasons) != 3 || !strings.Contains(reasons["grows.txt"], "per file") || !strings.Contains(reasons["zz/after.txt"], "total") {
		t.Errorf("Skipped = %+v, want big.txt and grows.txt over the per-file limit and zz/after.txt past the total", got.Skipped)
	}
	var files []string
	for _, cf := range got.Files {
		files = append(files, cf.Path)
	}
	if !reflect.DeepEqual(files, []string{"small.go"}) || !strings.Contains(got.Diff, "+func A() {}") || len(got.Diff) > 2000 {
		t.Errorf("Files = %q, diff of %d bytes; want small.go alone within the total", files, len(got.Diff))
	}
}

func TestFetchHistoryTakesPathsLiterally(t *testing.T) {
	t.Parallel()
	src := newFixture(t)
	src.write("[x].txt", "literal v1\n")
	src.write("x.txt", "matched by the glob [x].txt\n")
	src.commit("base")
	src.write("[x].txt", "literal v2\n")
	head := src.commit("change")
	remote := bareRemote(t, src, head)
	clone := cloneOf(t, "file://"+remote, "--filter=blob:none", "--no-checkout")
	ctx := context.Background()
	if err := fetchHistory(ctx, clone.repo, head, []string{"[x].txt"}); err != nil {
		t.Fatal(err)
	}
	missing := clone.git("rev-list", "--objects", "--missing=print", head, "--", ":(literal)[x].txt")
	if strings.Contains(missing, "\n?") || strings.HasPrefix(missing, "?") {
		t.Errorf("blobs of [x].txt still missing after fetchHistory:\n%s", missing)
	}
	// x.txt matches [x].txt as a glob: its blob must not have been fetched.
	other := clone.git("rev-list", "--objects", "--missing=print", head, "--", ":(literal)x.txt")
	if !strings.HasPrefix(other, "?") && !strings.Contains(other, "\n?") {
		t.Errorf("fetchHistory fetched x.txt, which only the glob [x].txt matches:\n%s", other)
	}
}
