package git

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

var testDiffArgs = []string{"diff", "--no-color", "--no-ext-diff", "--src-prefix=a/", "--dst-prefix=b/"}

// commitFile writes name with text and commits it, returning the new SHA.
func commitFile(t *testing.T, r Repo, name, text, msg string) string {
	t.Helper()
	ctx := context.Background()
	if err := os.WriteFile(filepath.Join(r.Dir, name), []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Run(ctx, "add", name); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Run(ctx, "commit", "-q", "-m", msg); err != nil {
		t.Fatal(err)
	}
	sha, err := r.Output(ctx, "rev-parse", "HEAD")
	if err != nil {
		t.Fatal(err)
	}
	return sha
}

// branchRepo makes main with one commit and a feature branch with two
// commits on top (b.txt, c.txt), checked out; it returns the base and the
// feature's head.
func branchRepo(t *testing.T) (Repo, string, string) {
	t.Helper()
	r, base := newRepo(t)
	run(t, r, "checkout", "-q", "-b", "feature")
	commitFile(t, r, "b.txt", "b1\nb2\nb3\n", "add b")
	head := commitFile(t, r, "c.txt", "c1\nc2\n", "add c")
	return r, base, head
}

func run(t *testing.T, r Repo, args ...string) string {
	t.Helper()
	out, err := r.Output(context.Background(), args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestFindDeltaAfterAPushOnTop(t *testing.T) {
	r, base, reviewed := branchRepo(t)
	head := commitFile(t, r, "b.txt", "b1\nB2\nb3\nb4\n", "fix b")
	d, err := FindDelta(context.Background(), r, reviewed, base, head, testDiffArgs)
	if err != nil {
		t.Fatal(err)
	}
	if d.From != reviewed || d.Rebased {
		t.Errorf("From = %s, Rebased = %v; want the reviewed head, not rebased", d.From, d.Rebased)
	}
	if !slices.Equal(d.Files, []string{"b.txt"}) {
		t.Errorf("Files = %v, want [b.txt]", d.Files)
	}
	if got, want := d.Touched["b.txt"], []LineRange{{2, 2}, {4, 4}}; !slices.Equal(got, want) {
		t.Errorf("Touched[b.txt] = %v, want %v", got, want)
	}
	if !strings.Contains(d.Diff, "+B2") || strings.Contains(d.Diff, "c.txt") {
		t.Errorf("Diff holds the wrong change:\n%s", d.Diff)
	}
}

func TestFindDeltaAfterARebaseMatchesByPatchID(t *testing.T) {
	r, base, reviewed := branchRepo(t)
	ctx := context.Background()
	run(t, r, "checkout", "-q", "main")
	newBase := commitFile(t, r, "z.txt", "z\n", "main moves on")
	run(t, r, "checkout", "-q", "feature")
	run(t, r, "rebase", "-q", "main")
	rebased := run(t, r, "rev-parse", "HEAD")
	if rebased == reviewed {
		t.Fatal("the rebase kept the same head")
	}
	head := commitFile(t, r, "c.txt", "c1\nC2\n", "fix c")
	d, err := FindDelta(ctx, r, reviewed, newBase, head, testDiffArgs)
	if err != nil {
		t.Fatal(err)
	}
	if !d.Rebased || d.From != rebased {
		t.Errorf("From = %s, Rebased = %v; want the rebased counterpart %s", d.From, d.Rebased, rebased)
	}
	if !slices.Equal(d.Files, []string{"c.txt"}) {
		t.Errorf("Files = %v, want only the file changed after the rebase", d.Files)
	}
	_ = base
}

func TestFindDeltaRefusesRewrittenHistory(t *testing.T) {
	r, base, reviewed := branchRepo(t)
	run(t, r, "reset", "-q", "--hard", base)
	commitFile(t, r, "b.txt", "something else\n", "add b differently")
	head := commitFile(t, r, "c.txt", "c1\nc2\n", "add c")
	_, err := FindDelta(context.Background(), r, reviewed, base, head, testDiffArgs)
	if nd, ok := errors.AsType[*NoDeltaError](err); !ok || !strings.Contains(nd.Reason, "history was rewritten") {
		t.Errorf("err = %v, want a NoDeltaError saying the history was rewritten", err)
	}
}

func TestFindDeltaWithoutTheReviewedHead(t *testing.T) {
	r, base, head := branchRepo(t)
	_, err := FindDelta(context.Background(), r, strings.Repeat("a", 40), base, head, testDiffArgs)
	if nd, ok := errors.AsType[*NoDeltaError](err); !ok || !strings.Contains(nd.Reason, "not in the repository") {
		t.Errorf("err = %v, want a NoDeltaError saying the head is missing", err)
	}
}
