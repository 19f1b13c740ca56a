package pr

import (
	"github.com/deepreview/deep-review/review/git"
	"reflect"
	"strings"
	"testing"

	"github.com/deepreview/deep-review/review"
)

func TestLimitationsOnAddedLines(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		file string
		line string
		want string // "" when the line is no candidate
	}{
		{"a Go line comment with TODO", "a.go", "x := 1 // TODO: drop this", "TODO: drop this"},
		{"a block comment continuation", "a.c", " * FIXME: leaks on error", "FIXME: leaks on error"},
		{"a closed block comment", "a.c", "/* XXX: racy */", "XXX: racy"},
		{"a shell comment after code", "run.sh", "sleep 1 # HACK: wait for the port", "HACK: wait for the port"},
		{"a Python comment", "a.py", "# Not tested on Windows.", "Not tested on Windows."},
		{"an SQL comment", "q.sql", "-- known limitation: no NULLs", "known limitation: no NULLs"},
		{"an HTML comment", "a.html", "<!-- not supported in IE -->", "not supported in IE"},
		{"prose in Markdown", "README.md", "- Known limitations: single node only", "Known limitations: single node only"},
		{"a string literal is code, not a comment", "a.go", `return errors.New("not supported")`, ""},
		{"a URL is not a comment", "a.go", `u := "https://example.com/not tested"`, ""},
		{"lowercase todo is a word, not a marker", "a.go", "// todo list handling", ""},
		{"a decrement is not an SQL comment", "a.go", "i-- ; notSupported()", ""},
		{"a comment without a marker", "a.go", "// returns the sum", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			diff := "diff --git a/" + tt.file + " b/" + tt.file + "\n--- a/" + tt.file + "\n+++ b/" + tt.file +
				"\n@@ -10,2 +10,3 @@\n context\n+" + tt.line + "\n context\n"
			parts := git.SplitDiff(diff)
			if len(parts) != 1 || parts[0].File == nil {
				t.Fatalf("the test diff does not parse: %q", diff)
			}
			got := limitations(parts[0].File)
			var want []review.Limitation
			if tt.want != "" {
				want = []review.Limitation{{File: tt.file, Line: 11, Quote: tt.want}}
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("limitations = %+v, want %+v", got, want)
			}
		})
	}
}

func TestLimitationsIgnoreContextAndRemovedLines(t *testing.T) {
	t.Parallel()
	diff := "diff --git a/a.go b/a.go\n--- a/a.go\n+++ b/a.go\n@@ -1,3 +1,4 @@\n" +
		" // TODO: old, context\n-// FIXME: removed\n+// fine now\n // XXX: old too\n+x := 1 // HACK: new\n"
	got := limitations(git.SplitDiff(diff)[0].File)
	want := []review.Limitation{{File: "a.go", Line: 4, Quote: "HACK: new"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("limitations = %+v, want %+v", got, want)
	}
}

func TestSplitDiffKeepsEveryByte(t *testing.T) {
	t.Parallel()
	diff := "diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+diff --git inside a line\n" +
		"diff --git a/y z b/y z\nnew file mode 100644\n--- /dev/null\n+++ b/y z\n@@ -0,0 +1 @@\n+y\n" +
		"diff --git a/bin b/bin\nBinary files a/bin and b/bin differ\n"
	parts := git.SplitDiff(diff)
	var names []string
	var joined strings.Builder
	for _, p := range parts {
		names = append(names, p.Name())
		joined.WriteString(p.Text)
	}
	if want := []string{"x", "y z", "bin"}; !reflect.DeepEqual(names, want) {
		t.Errorf("names = %q, want %q", names, want)
	}
	if joined.String() != diff {
		t.Errorf("the parts do not add up to the diff")
	}
	if parts[2].File == nil || !parts[2].File.IsBinary {
		t.Errorf("the binary part did not parse as binary")
	}
}
