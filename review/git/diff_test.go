package git

import (
	"reflect"
	"strings"
	"testing"
)

func TestSplitDiffKeepsEveryByteAndNamesEachPart(t *testing.T) {
	t.Parallel()
	diff := "diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+diff --git inside a line\n" +
		"diff --git a/y z b/y z\nnew file mode 100644\n--- /dev/null\n+++ b/y z\n@@ -0,0 +1 @@\n+y\n" +
		"diff --git a/old b/new\nsimilarity index 90%\nrename from old\nrename to new\n" +
		"diff --git a/bin b/bin\nBinary files a/bin and b/bin differ\n" +
		"diff --git a/d b/e b/d b/e\nold mode 100644\nnew mode 100755\n"
	parts := SplitDiff(diff)
	var names []string
	var joined strings.Builder
	for _, p := range parts {
		names = append(names, p.Name())
		joined.WriteString(p.Text)
	}
	if want := []string{"x", "y z", "new", "bin", "d b/e"}; !reflect.DeepEqual(names, want) {
		t.Errorf("names = %q, want %q", names, want)
	}
	if joined.String() != diff {
		t.Errorf("the parts do not add up to the diff")
	}
	if got := parts[2].Paths(); !reflect.DeepEqual(got, []string{"old", "new"}) {
		t.Errorf("rename paths = %q, want old and new", got)
	}
	if parts[3].File == nil || !parts[3].File.IsBinary {
		t.Errorf("the binary part did not parse as binary")
	}
}

func TestReadDiffCutsALongPartAndGoesOn(t *testing.T) {
	t.Parallel()
	big := "diff --git a/big b/big\nnew file mode 100644\n--- /dev/null\n+++ b/big\n@@ -0,0 +1,1000 @@\n" +
		strings.Repeat("+0123456789\n", 1000)
	small := "diff --git a/s b/s\n--- a/s\n+++ b/s\n@@ -1 +1 @@\n-a\n+b\n"
	var got []FileDiff
	err := ReadDiff(strings.NewReader(big+small), 100, func(d FileDiff) error {
		got = append(got, d)
		return nil
	})
	if err != nil || len(got) != 2 {
		t.Fatalf("ReadDiff = %d parts, %v; want 2", len(got), err)
	}
	if !got[0].Cut || len(got[0].Text) != 100 || got[0].Size != int64(len(big)) || got[0].Name() != "big" {
		t.Errorf("big part: cut %v, %d bytes kept of %d, name %q; want cut at 100 of %d, named big", got[0].Cut, len(got[0].Text), got[0].Size, got[0].Name(), len(big))
	}
	if got[1].Cut || got[1].Text != small || got[1].File == nil {
		t.Errorf("small part = %+v, want it whole and parsed", got[1])
	}
}
