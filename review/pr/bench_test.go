package pr

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"github.com/deepreview/deep-review/review/git"
)

// largeRepo writes, with git fast-import, a base commit of files files and a
// head commit that rewrites lines lines in each, so the diff is
// files*lines*2 changed lines.
func largeRepo(tb testing.TB, files, lines int) git.Repo {
	tb.Helper()
	repo := git.Repo{Dir: tb.TempDir(), Env: testIdentity}
	ctx := context.Background()
	if _, err := repo.Run(ctx, "-c", "init.defaultBranch=main", "init", "-q"); err != nil {
		tb.Fatal(err)
	}
	var in bytes.Buffer
	commit := func(branch, msg, from string, version int) {
		fmt.Fprintf(&in, "commit refs/heads/%s\ncommitter Ada Lovelace <ada@example.com> 1700000000 +0000\ndata %d\n%s\n", branch, len(msg), msg)
		if from != "" {
			fmt.Fprintf(&in, "from %s\n", from)
		}
		for f := 0; f < files; f++ {
			var body bytes.Buffer
			for l := 0; l < lines; l++ {
				if version > 0 && l%3 == 0 {
					fmt.Fprintf(&body, "// TODO: line %d of file %d, rewritten\n", l, f)
				} else {
					fmt.Fprintf(&body, "line %d of file %d\n", l, f)
				}
			}
			fmt.Fprintf(&in, "M 100644 inline pkg%02d/file%04d.go\ndata %d\n%s\n", f%50, f, body.Len(), body.Bytes())
		}
	}
	commit("main", "base", "", 0)
	commit("feature", "head", "refs/heads/main", 1)
	if _, err := repo.RunInput(ctx, in.Bytes(), "fast-import", "--quiet"); err != nil {
		tb.Fatal(err)
	}
	return repo
}

// BenchmarkLocalLargePR gathers a pull request of 3,000 files and about
// 100,000 changed lines.
func BenchmarkLocalLargePR(b *testing.B) {
	repo := largeRepo(b, 3000, 51)
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		p, err := Local(ctx, LocalOptions{Dir: repo.Dir, Base: "main", Head: "feature"})
		if err != nil {
			b.Fatal(err)
		}
		if i == 0 {
			b.ReportMetric(float64(p.Additions()+p.Deletions()), "changed-lines")
			b.ReportMetric(float64(len(p.Diff)), "diff-bytes")
			b.ReportMetric(float64(len(p.Limitations)), "limitations")
		}
	}
}
