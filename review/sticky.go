package review

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// DefaultBotLogin is the login the workflow's GITHUB_TOKEN writes comments
// as: the bot-login input's default, and the author a sticky comment must
// have when no other login is named.
const DefaultBotLogin = "github-actions[bot]"

// CommentHeader is how the sticky comment's first line starts, e.g.
// "## Deep review of #12, round 3: "; the verdict's label follows. The
// renderer writes it and RecogniseSticky checks it.
func CommentHeader(number, round int) string {
	return fmt.Sprintf("## Deep review of #%d, round %d: ", number, round)
}

// PostedComment is one conversation comment of a pull request as the API
// lists it: what RecogniseSticky needs, with no client types.
type PostedComment struct {
	ID      int64
	Login   string
	Body    string
	Created time.Time
	URL     string
}

// StickyTarget is the pull request whose sticky comment is looked for, and
// how it is recognised.
type StickyTarget struct {
	// Repo is "owner/name"; Number the pull request's number.
	Repo   string
	Number int
	// BotLogin is the login our comments are written by, compared without
	// case; it must not be empty.
	BotLogin string
	// Key is the state-key secret; when set, a marker counts only when
	// its HMAC-SHA256 signature under Key verifies.
	Key []byte
}

// Sticky is a comment recognised as our sticky comment, with the state it
// carries, declines ticked since included.
type Sticky struct {
	PostedComment
	State State
}

// Suspect is a comment by the bot login that carries a state marker but is
// not our sticky comment, with the reason. It must be neither read, edited
// nor deleted; callers warn about it.
type Suspect struct {
	PostedComment
	Reason string
}

// RecogniseSticky sorts a pull request's comments into ours and suspects.
// A comment is ours only when all of this holds: its author is the bot
// login; its first line starts with CommentHeader for the target's number
// and the marker's round; the state marker is the last thing in it and its
// only marker; the marker decodes, names the target's repository (without
// case) and number, and, when the target has a Key, carries a signature
// that verifies. Comments by other logins are ignored whatever they hold;
// the bot's comments without a marker are not suspects.
//
// Ours come newest first (by creation time, then by ID), so ours[0] is the
// one to read and edit and the rest are duplicates; suspects keep the
// order of comments.
func RecogniseSticky(comments []PostedComment, t StickyTarget) (ours []Sticky, suspects []Suspect) {
	for _, c := range comments {
		if !strings.EqualFold(c.Login, t.BotLogin) || !strings.Contains(c.Body, MarkerPrefix) {
			continue
		}
		st, err := recognise(c.Body, t)
		if err != nil {
			suspects = append(suspects, Suspect{PostedComment: c, Reason: err.Error()})
			continue
		}
		ours = append(ours, Sticky{PostedComment: c, State: st})
	}
	sort.SliceStable(ours, func(i, j int) bool {
		a, b := ours[i], ours[j]
		if !a.Created.Equal(b.Created) {
			return a.Created.After(b.Created)
		}
		return a.ID > b.ID
	})
	return ours, suspects
}

// recognise checks one body's structure (see RecogniseSticky) and returns
// its state with the ticked declines.
func recognise(body string, t StickyTarget) (State, error) {
	body = strings.ReplaceAll(body, "\r\n", "\n")
	if strings.Count(body, MarkerPrefix) != 1 {
		return State{}, fmt.Errorf("it holds %d state markers, not one", strings.Count(body, MarkerPrefix))
	}
	m, _, err := lastMarker(body)
	if err != nil {
		return State{}, err
	}
	if strings.TrimSpace(body[m.end:]) != "" {
		return State{}, fmt.Errorf("the state marker is not the last block")
	}
	if m.start > 0 && body[m.start-1] != '\n' {
		return State{}, fmt.Errorf("the state marker does not start a line")
	}
	if err := m.verify(t.Key); err != nil {
		return State{}, err
	}
	s, err := m.decode()
	if err != nil {
		return State{}, err
	}
	if s.Repo == "" || !strings.EqualFold(s.Repo, t.Repo) || s.Number != t.Number {
		return State{}, fmt.Errorf("the state marker names %s#%d, not %s#%d", orUnknown(clipRunes(s.Repo, 100)), s.Number, t.Repo, t.Number)
	}
	first, _, _ := strings.Cut(body, "\n")
	if !strings.HasPrefix(first, CommentHeader(t.Number, s.Round)) {
		return State{}, fmt.Errorf("its first line is not deep-review's header for #%d, round %d", t.Number, s.Round)
	}
	addDeclines(&s, body)
	return s, nil
}

func orUnknown(repo string) string {
	if repo == "" {
		return "no repository"
	}
	if strings.ContainsAny(repo, "\r\n") {
		return strconv.Quote(repo)
	}
	return repo
}

// failedMarker ends the line MarkAttemptFailed adds; the sanitiser defuses
// "deep-review:failed" in every text it renders, so only we write it.
const failedMarker = "<!-- deep-review:failed -->"

// MarkAttemptFailed returns our sticky comment's body with one visible line
// after the header saying that the review attempt at headSHA failed and
// why, replacing the line an earlier failed attempt added. The header, the
// rest of the body and the state marker stay exactly as they were, so the
// comment still reads as the last good review. why must be plain, published
// text (no secrets); it is kept to one line without HTML or code spans.
func MarkAttemptFailed(body, headSHA, why string) string {
	body = strings.ReplaceAll(body, "\r\n", "\n")
	first, rest, _ := strings.Cut(body, "\n")
	rest = strings.TrimLeft(rest, "\n")
	if l, after, ok := strings.Cut(rest, "\n"); ok && strings.HasSuffix(l, failedMarker) {
		rest = strings.TrimLeft(after, "\n")
	} else if strings.HasSuffix(rest, failedMarker) {
		rest = ""
	}
	line := fmt.Sprintf("> **The review attempt at `%s` failed**: %s. The review below is the last one that succeeded. %s",
		plainWord(short(headSHA)), plainText(why), failedMarker)
	return first + "\n\n" + line + "\n\n" + rest
}

// plainText keeps s on one line of at most 300 runes with no Markdown or
// HTML that could change the comment's structure.
func plainText(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	s = strings.ReplaceAll(clipRunes(s, 300), "deep-review:", "deep-review ")
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '@':
			b.WriteString("(at)")
		case strings.ContainsRune("\\`*_[]<>|#~!&{}", r):
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < ' ' || r == 0x7f:
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// plainWord keeps the letters and digits of s.
func plainWord(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 128 && (r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return r
		}
		return -1
	}, s)
}

// FailedAttemptReason says why a report's reviewers failed, for
// MarkAttemptFailed: each reviewer's name and status and, when explain is
// not nil, explain of its error (explain must scrub secrets; nil leaves
// error text out, since providers may echo what they were sent).
func FailedAttemptReason(r *Report, explain func(string) string) string {
	if len(r.Reviewers) == 0 {
		return "no reviewer ran"
	}
	var parts []string
	for _, s := range r.Reviewers {
		p := s.Name + " " + s.Status
		if e := strings.TrimSpace(s.Error); e != "" && explain != nil {
			if e = strings.TrimSpace(explain(e)); e != "" {
				p += " (" + clipRunes(strings.Join(strings.Fields(e), " "), 120) + ")"
			}
		}
		parts = append(parts, p)
	}
	return "every reviewer failed: " + strings.Join(parts, "; ")
}
