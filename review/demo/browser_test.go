package demo_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/deepreview/deep-review/render/browsertest"
	"github.com/deepreview/deep-review/review/cli"
)

// TestTheDemosReportInABrowser runs `deep-review demo` and uses the
// report.html it writes in headless Chromium, with the same checks as the
// render tests' rich fixture: it loads from file:// with no console error
// and no network request, every index link lands on its finding, the
// filters work, the copy buttons copy the exact patches and the chart is
// drawn from the report.json beside it.
func TestTheDemosReportInABrowser(t *testing.T) {
	ctx := browsertest.Start(t)
	out := t.TempDir()
	var stdout, stderr bytes.Buffer
	getenv := func(string) string { return "" }
	if code := cli.Main(context.Background(), "dev", []string{"deep-review", "demo", "--fast", "--out-dir", out}, getenv, &stdout, &stderr); code != 0 {
		t.Fatalf("demo exited %d:\n%s", code, stderr.String())
	}
	js, err := os.ReadFile(filepath.Join(out, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	browsertest.CheckAll(t, ctx, filepath.Join(out, "report.html"), js, "demo-report")
}
