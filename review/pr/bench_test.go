package pr

import (
	"bytes"
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/deepreview/deep-review/review"
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

// hugeFileRepo writes a base commit of one small file and a head commit that
// adds a text file of size bytes beside a small change.
func hugeFileRepo(tb testing.TB, size int) git.Repo {
	tb.Helper()
	repo := git.Repo{Dir: tb.TempDir(), Env: testIdentity}
	ctx := context.Background()
	if _, err := repo.Run(ctx, "-c", "init.defaultBranch=main", "init", "-q"); err != nil {
		tb.Fatal(err)
	}
	line := []byte("a line of a very large generated text file, 60 bytes long..\n")
	huge := bytes.Repeat(line, size/len(line))
	var in bytes.Buffer
	in.Grow(size + 1024)
	fmt.Fprintf(&in, "commit refs/heads/main\ncommitter Ada Lovelace <ada@example.com> 1700000000 +0000\ndata 4\nbase\nM 100644 inline small.go\ndata 10\npackage a\n\n")
	fmt.Fprintf(&in, "commit refs/heads/feature\ncommitter Ada Lovelace <ada@example.com> 1700000000 +0000\ndata 4\nhead\nfrom refs/heads/main\n")
	fmt.Fprintf(&in, "M 100644 inline small.go\ndata 23\npackage a\n\nfunc A() {}\n\n")
	fmt.Fprintf(&in, "M 100644 inline data/huge.txt\ndata %d\n%s\n", len(huge), huge)
	if _, err := repo.RunInput(ctx, in.Bytes(), "fast-import", "--quiet"); err != nil {
		tb.Fatal(err)
	}
	return repo
}

// peakHeap samples the heap in use while fn runs and returns its peak.
func peakHeap(fn func()) uint64 {
	runtime.GC()
	var peak uint64
	done := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		var m runtime.MemStats
		t := time.NewTicker(2 * time.Millisecond)
		defer t.Stop()
		for {
			runtime.ReadMemStats(&m)
			peak = max(peak, m.HeapInuse)
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	fn()
	close(done)
	<-sampled
	return peak
}

// BenchmarkLocalHugeFile gathers a pull request that adds one 60 MB text
// file: the file is skipped as too large and the gather's heap stays far
// below the file's size times the parsing's overhead (under 300 MB).
func BenchmarkLocalHugeFile(b *testing.B) {
	repo := hugeFileRepo(b, 60<<20)
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		var p *review.PR
		var err error
		peak := peakHeap(func() { p, err = Local(ctx, LocalOptions{Dir: repo.Dir, Base: "main", Head: "feature"}) })
		if err != nil {
			b.Fatal(err)
		}
		if i == 0 {
			b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
			b.ReportMetric(float64(len(p.Diff)), "diff-bytes")
			if len(p.Skipped) != 1 || p.Skipped[0].Path != "data/huge.txt" {
				b.Errorf("Skipped = %+v, want data/huge.txt", p.Skipped)
			}
			if peak >= 300<<20 {
				b.Errorf("peak heap %d MB, want under 300 MB", peak>>20)
			}
		}
	}
}
