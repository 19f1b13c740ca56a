package git

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// hidingRepo commits, on top of newRepo's first commit, a Go file together
// with a .gitattributes that marks Go files as binary, and leaves the
// checkout at that head.
func hidingRepo(t *testing.T) (r Repo, base, head string) {
	t.Helper()
	ctx := context.Background()
	r, base = newRepo(t)
	for name, text := range map[string]string{".gitattributes": "*.go -diff\n", "a.go": "package a\n\nfunc Hidden() {}\n"} {
		if err := os.WriteFile(filepath.Join(r.Dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := r.Run(ctx, "add", "."); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Run(ctx, "commit", "-q", "-m", "hide"); err != nil {
		t.Fatal(err)
	}
	head, _ = r.Output(ctx, "rev-parse", "HEAD")
	return r, base, head
}

func TestReadingAtIgnoresTheHeadsGitattributes(t *testing.T) {
	r, base, head := hidingRepo(t)
	ctx := context.Background()
	if out, _ := r.Output(ctx, "diff", base, head, "--", "a.go"); !strings.Contains(out, "Binary files") {
		t.Fatalf("the fixture does not hide a.go from a plain diff: %q", out)
	}
	view, err := r.ReadingAt(ctx, base)
	if err != nil {
		t.Fatal(err)
	}
	diff, err := view.Output(ctx, "diff", base, head, "--", "a.go")
	if err != nil || !strings.Contains(diff, "+func Hidden() {}") {
		t.Errorf("diff = %q, %v; want the Go code as text", diff, err)
	}
	num, err := view.Output(ctx, "diff", "--numstat", base, head, "--", "a.go")
	if err != nil || num != "3\t0\ta.go" {
		t.Errorf("numstat = %q, %v; want 3 added lines", num, err)
	}
	grep, err := view.Output(ctx, "grep", "-I", "-n", "Hidden", head, "--", "a.go")
	if err != nil || !strings.Contains(grep, "a.go:3:func Hidden") {
		t.Errorf("grep -I = %q, %v; want the match", grep, err)
	}
	var streamed strings.Builder
	err = view.Stream(ctx, func(rd io.Reader) error {
		_, err := io.Copy(&streamed, rd)
		return err
	}, "log", "-p", "--format=%s", base+".."+head)
	if err != nil || !strings.Contains(streamed.String(), "+func Hidden() {}") {
		t.Errorf("log -p = %q, %v; want the Go code as text", streamed.String(), err)
	}
}

func TestAttrSourceNeedsGit240(t *testing.T) {
	t.Parallel()
	for v, want := range map[string]bool{
		"git version 2.39.5":                  false,
		"git version 2.40.0":                  true,
		"git version 2.47.1.windows.1":        true,
		"git version 3.0.0":                   true,
		"git version 1.99.9":                  false,
		"not git":                             false,
		"git version 2.4.0 (Apple Git-1.2.3)": false,
	} {
		if got := supportsAttrSource(v); got != want {
			t.Errorf("supportsAttrSource(%q) = %v, want %v", v, got, want)
		}
	}
	r := Repo{Dir: "/repo", attr: &attrMode{source: "abc"}}
	if dir, args := r.command([]string{"diff", "x"}); dir != "/repo" || !reflect.DeepEqual(args, []string{"--attr-source=abc", "diff", "x"}) {
		t.Errorf("command with --attr-source = %s %q", dir, args)
	}
}
