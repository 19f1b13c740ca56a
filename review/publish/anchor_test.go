package publish

import (
	"bytes"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/bluekeyes/go-gitdiff/gitdiff"

	"github.com/deepreview/deep-review/review"
)

// testdata/inline holds real git output: pr.diff is the pull request (it
// changes Div's body and appends Max to calc.go), calc.go.head the file at
// its head, and each *.patch a reviewer's fix made with git diff against
// that head (git apply --check accepts every one).

func readTestdata(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile("testdata/inline/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func prHunks(t *testing.T) Hunks {
	t.Helper()
	return ParseHunks(readTestdata(t, "pr.diff"))
}

func TestParseHunksKeepsTheRightSideOfEveryHunk(t *testing.T) {
	t.Parallel()
	got := prHunks(t)
	want := Hunks{"calc.go": {{4, 11}, {18, 28}}}
	if len(got) != 1 || !slices.Equal(got["calc.go"], want["calc.go"]) {
		t.Fatalf("hunks = %v, want %v", got, want)
	}
}

func TestAnchor(t *testing.T) {
	t.Parallel()
	h := prHunks(t)
	tests := []struct {
		name       string
		path       string
		start, end int
		want       LineRange
		ok         bool
	}{
		{"a changed line anchors as it is", "calc.go", 7, 7, LineRange{7, 7}, true},
		{"a context line of a hunk anchors", "calc.go", 5, 6, LineRange{5, 6}, true},
		{"a range running out of a hunk is narrowed to it", "calc.go", 9, 14, LineRange{9, 11}, true},
		{"a range across two hunks keeps the larger part", "calc.go", 10, 22, LineRange{18, 22}, true},
		{"a line between the hunks does not anchor", "calc.go", 14, 15, LineRange{}, false},
		{"a file the diff does not touch does not anchor", "other.go", 1, 3, LineRange{}, false},
		{"an end before the start is the start line", "calc.go", 20, 3, LineRange{20, 20}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := h.Anchor(tt.path, tt.start, tt.end)
			if got != tt.want || ok != tt.ok {
				t.Errorf("Anchor(%s, %d, %d) = %v, %v; want %v, %v", tt.path, tt.start, tt.end, got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestSuggestionForRealPatches(t *testing.T) {
	t.Parallel()
	h := prHunks(t)
	tests := []struct {
		name  string
		patch string
		want  Suggestion
	}{
		{"a one-line replacement", "replace.patch", Suggestion{LineRange{8, 8}, []string{"\treturn q, nil // b != 0"}}},
		{"a multi-line range replaced by one line", "multi.patch", Suggestion{LineRange{24, 27}, []string{"\treturn max(a, b)"}}},
		{"additions only repeat the line before them", "add.patch", Suggestion{LineRange{6, 6}, []string{
			"func Div(a, b int) (int, error) {", "\tif b == 0 {", "\t\treturn 0, errors.New(\"division by zero\")", "\t}",
		}}},
		{"deletions only suggest nothing in their place", "del.patch", Suggestion{LineRange{20, 20}, nil}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			patch := readTestdata(t, tt.patch)
			f := review.Finding{File: "calc.go", Patch: patch, PatchChecked: true}
			got, ok := SuggestionFor(f, h)
			if !ok {
				t.Fatalf("SuggestionFor(%s) = false, want a suggestion", tt.patch)
			}
			if got.Lines != tt.want.Lines || !slices.Equal(got.Replacement, tt.want.Replacement) {
				t.Fatalf("SuggestionFor(%s) = %#v, want %#v", tt.patch, got, tt.want)
			}
			// Committing the suggestion must give what applying the patch gives.
			head := readTestdata(t, "calc.go.head")
			if got, want := applySuggestion(head, got), applyPatch(t, head, patch); got != want {
				t.Errorf("the suggestion gives\n%s\nthe patch gives\n%s", got, want)
			}
		})
	}
}

func TestSuggestionForRefusesWhatIsNotExact(t *testing.T) {
	t.Parallel()
	h := prHunks(t)
	tests := []struct {
		name string
		f    review.Finding
	}{
		{"a patch not checked to apply", review.Finding{File: "calc.go", Patch: readTestdata(t, "replace.patch")}},
		{"a patch on lines outside the hunks", review.Finding{File: "calc.go", Patch: readTestdata(t, "outside.patch"), PatchChecked: true}},
		{"a patch of two hunks", review.Finding{File: "calc.go", Patch: readTestdata(t, "two.patch"), PatchChecked: true}},
		{"a patch of another file", review.Finding{File: "main.go", Patch: readTestdata(t, "replace.patch"), PatchChecked: true}},
		{"a patch of two files", review.Finding{File: "calc.go", Patch: readTestdata(t, "replace.patch") + strings.ReplaceAll(readTestdata(t, "replace.patch"), "calc.go", "more.go"), PatchChecked: true}},
		{"no patch", review.Finding{File: "calc.go", PatchChecked: true}},
		{"a patch that does not parse", review.Finding{File: "calc.go", Patch: "@@ nonsense", PatchChecked: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if s, ok := SuggestionFor(tt.f, h); ok {
				t.Errorf("SuggestionFor = %#v, want none", s)
			}
		})
	}
}

// applySuggestion replaces the suggestion's lines as GitHub's "Commit
// suggestion" does.
func applySuggestion(file string, s Suggestion) string {
	lines := strings.SplitAfter(file, "\n")
	var b strings.Builder
	for _, l := range lines[:s.Lines.Start-1] {
		b.WriteString(l)
	}
	for _, l := range s.Replacement {
		b.WriteString(l + "\n")
	}
	for _, l := range lines[s.Lines.End:] {
		b.WriteString(l)
	}
	return b.String()
}

func applyPatch(t *testing.T, file, patch string) string {
	t.Helper()
	files, _, err := gitdiff.Parse(strings.NewReader(patch))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := gitdiff.Apply(&out, strings.NewReader(file), files[0]); err != nil {
		t.Fatal(err)
	}
	return out.String()
}

// TestParseHunksKeepsTheFilesThatParseWhenOneDoesNot pins that the hunks
// come from review/git's one diff parser, file by file: a part go-gitdiff
// refuses (here a hunk header that miscounts its lines) costs that file its
// anchors, not every file its inline comments.
func TestParseHunksKeepsTheFilesThatParseWhenOneDoesNot(t *testing.T) {
	t.Parallel()
	broken := "diff --git a/broken.go b/broken.go\n--- a/broken.go\n+++ b/broken.go\n@@ -1,3 +1,3 @@\n-a\n+b\n"
	got := ParseHunks(broken + readTestdata(t, "pr.diff"))
	want := Hunks{"calc.go": {{4, 11}, {18, 28}}}
	if len(got) != 1 || !slices.Equal(got["calc.go"], want["calc.go"]) {
		t.Fatalf("hunks = %v, want %v", got, want)
	}
}
