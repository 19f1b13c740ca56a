package demo

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/deepreview/deep-review/review"
	"github.com/deepreview/deep-review/review/git"
)

func TestTheFixtureIsTheSameOnEveryMachine(t *testing.T) {
	ctx := context.Background()
	var heads []string
	for range 2 {
		dir := t.TempDir()
		if err := BuildRepo(ctx, dir); err != nil {
			t.Fatal(err)
		}
		head, err := git.Repo{Dir: dir}.Output(ctx, "rev-parse", HeadRef)
		if err != nil {
			t.Fatal(err)
		}
		heads = append(heads, head)
	}
	if heads[0] != heads[1] {
		t.Errorf("two builds gave heads %s and %s", heads[0], heads[1])
	}
}

func TestScriptedSessionsAreLabelledAndTheirPatchesApply(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	if err := BuildRepo(ctx, dir); err != nil {
		t.Fatal(err)
	}
	repo := git.Repo{Dir: dir}
	reviewers, err := Reviewers()
	if err != nil {
		t.Fatal(err)
	}
	if len(reviewers) != 3 {
		t.Fatalf("%d reviewers, want 3", len(reviewers))
	}
	patches := 0
	for _, r := range reviewers {
		if r.Session.Label != "scripted" || r.Session.Note == "" {
			t.Errorf("%s: label %q, note %q: a scripted session must say so", r.Name, r.Session.Label, r.Session.Note)
		}
		last := r.Session.Turns[len(r.Session.Turns)-1].Response.Message.ToolCalls
		if len(last) != 1 || last[0].Name != "submit_review" {
			t.Fatalf("%s does not end with submit_review", r.Name)
		}
		var s review.Submission
		if err := json.Unmarshal(last[0].Arguments, &s); err != nil {
			t.Fatalf("%s: %v", r.Name, err)
		}
		for _, f := range s.Findings {
			if f.Patch == "" {
				continue
			}
			patches++
			if err := repo.CheckPatch(ctx, HeadRef, f.Patch); err != nil {
				t.Errorf("%s's patch for %q does not apply at the head: %v", r.Name, f.Title, err)
			}
		}
	}
	if patches < 4 {
		t.Errorf("only %d patches checked", patches)
	}
}
