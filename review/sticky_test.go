package review

import (
	"strings"
	"testing"
	"time"
)

func stickyBody(s State) string {
	return CommentHeader(s.Number, s.Round) + "Merge as-is\n\nThe review.\n\n" + EncodeState(s) + "\n"
}

func TestRecogniseStickyTrustsOnlyOurWholeStructure(t *testing.T) {
	good := State{Round: 2, HeadSHA: "h", Repo: "Acme/Widgets", Number: 7}
	target := StickyTarget{Repo: "acme/widgets", Number: 7, BotLogin: "github-actions[bot]"}
	at := func(m int) time.Time { return time.Date(2026, 1, 1, 0, m, 0, 0, time.UTC) }
	other := good
	other.Repo = "acme/other"
	legacy := good
	legacy.Repo, legacy.Number = "", 0
	comments := []PostedComment{
		{ID: 1, Login: "github-actions[bot]", Body: stickyBody(good), Created: at(1)},
		{ID: 2, Login: "mallory", Body: stickyBody(good), Created: at(2)},
		{ID: 3, Login: "github-actions[bot]", Body: "Thanks for the PR!\n\n" + EncodeState(good), Created: at(3)},
		{ID: 4, Login: "github-actions[bot]", Body: stickyBody(other), Created: at(4)},
		{ID: 5, Login: "github-actions[bot]", Body: stickyBody(legacy), Created: at(5)},
		{ID: 6, Login: "github-actions[bot]", Body: stickyBody(good) + "\nGreetings from the greeter.\n", Created: at(6)},
		{ID: 7, Login: "github-actions[bot]", Body: CommentHeader(7, 9) + "x\n\n" + EncodeState(good), Created: at(7)},
		{ID: 8, Login: "GitHub-Actions[bot]", Body: strings.ReplaceAll(stickyBody(good), "\n", "\r\n"), Created: at(8)},
		{ID: 9, Login: "github-actions[bot]", Body: "CI passed", Created: at(9)},
	}
	ours, suspects := RecogniseSticky(comments, target)
	if len(ours) != 2 || ours[0].ID != 8 || ours[1].ID != 1 || ours[0].State.Round != 2 {
		t.Errorf("ours = %+v, want comments 8 then 1", ours)
	}
	var ids []int64
	for _, s := range suspects {
		ids = append(ids, s.ID)
		if s.Reason == "" {
			t.Errorf("suspect %d has no reason", s.ID)
		}
	}
	if want := []int64{3, 4, 5, 6, 7}; !equalIDs(ids, want) {
		t.Errorf("suspects = %v, want %v", ids, want)
	}

	key := []byte("s3cret")
	signed, err := SignMarker(stickyBody(good), key)
	if err != nil {
		t.Fatal(err)
	}
	forged, _ := SignMarker(stickyBody(good), []byte("guess"))
	target.Key = key
	ours, suspects = RecogniseSticky([]PostedComment{
		{ID: 1, Login: "github-actions[bot]", Body: signed, Created: at(1)},
		{ID: 2, Login: "github-actions[bot]", Body: forged, Created: at(2)},
		{ID: 3, Login: "github-actions[bot]", Body: stickyBody(good), Created: at(3)},
	}, target)
	if len(ours) != 1 || ours[0].ID != 1 || len(suspects) != 2 {
		t.Errorf("with a key: ours %+v, suspects %+v; want only the signed comment 1", ours, suspects)
	}
}

func equalIDs(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestMarkAttemptFailedKeepsTheReviewAndItsMarker(t *testing.T) {
	s := State{Round: 3, HeadSHA: "h", Repo: "o/r", Number: 7}
	body := stickyBody(s)
	once := MarkAttemptFailed(body, "abc1234def", "every reviewer failed: Claude failed (401 `bad` key <b>)")
	twice := MarkAttemptFailed(once, "fff0000aaa", "every reviewer failed: Claude timed-out")
	for _, got := range []string{once, twice} {
		ours, suspects := RecogniseSticky([]PostedComment{{ID: 1, Login: "bot", Body: got}}, StickyTarget{Repo: "o/r", Number: 7, BotLogin: "bot"})
		if len(ours) != 1 || len(suspects) != 0 || ours[0].State.Round != 3 {
			t.Errorf("a marked comment is no longer ours: %+v %+v\n%s", ours, suspects, got)
		}
		if !strings.HasSuffix(got, "The review.\n\n"+EncodeState(s)+"\n") || !strings.HasPrefix(got, CommentHeader(7, 3)+"Merge as-is\n\n") {
			t.Errorf("the review around the line changed:\n%s", got)
		}
	}
	if !strings.Contains(once, "attempt at `abc1234` failed") || strings.Contains(once, "<b>") || strings.Contains(once, "`bad`") {
		t.Errorf("first failure line:\n%s", once)
	}
	if strings.Count(twice, failedMarker) != 1 || !strings.Contains(twice, "`fff0000`") || strings.Contains(twice, "abc1234") {
		t.Errorf("a second failure did not replace the first line:\n%s", twice)
	}
}
