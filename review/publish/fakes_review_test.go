package publish

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/bluekeyes/go-gitdiff/gitdiff"
)

// The fake GitHub's pull request reviews: POST .../pulls/{n}/reviews with
// GitHub's validation of review comments, GET .../reviews/{id}/comments,
// and GraphQL reviewThreads, addPullRequestReviewThreadReply and
// resolveReviewThread at /api/graphql (GitHub Enterprise's path, beside
// /api/v3). The diff it validates against is its own, set by setPR, parsed
// here independently of the code under test.

// ghReview is one posted review.
type ghReview struct {
	ID       int64
	Body     string
	Event    string
	CommitID string
	Comments int
}

// ghReviewComment is one comment of a review thread.
type ghReviewComment struct {
	ID       int64
	ReviewID int64
	Login    string
	Body     string
}

// ghThread is a review thread; Line is 0 once it is outdated, as GraphQL
// gives null.
type ghThread struct {
	ID         string
	Path       string
	Line       int
	StartLine  int
	Resolved   bool
	ResolvedBy string
	Outdated   bool
	Comments   []ghReviewComment
}

type fakePulls struct {
	head     string
	hunks    map[string][][2]int
	reviews  []ghReview
	threads  []*ghThread
	nextNode int
	// pageSize is the reviewThreads page the fake serves (GitHub: first).
	pageSize       int
	reviewTemplate map[string]any
	commentTmpl    map[string]any
	refused        int // 422 replies to review posts
}

func (f *fakeGitHub) pullsState() *fakePulls {
	if f.pulls == nil {
		f.pulls = &fakePulls{pageSize: 100, hunks: map[string][][2]int{}}
		for name, dst := range map[string]*map[string]any{
			"testdata/pulls-list-reviews.json":         &f.pulls.reviewTemplate,
			"testdata/pulls-list-review-comments.json": &f.pulls.commentTmpl,
		} {
			data, err := os.ReadFile(name)
			if err != nil {
				f.t.Fatal(err)
			}
			var list []map[string]any
			if err := json.Unmarshal(data, &list); err != nil {
				f.t.Fatal(err)
			}
			*dst = list[0]
		}
	}
	return f.pulls
}

// setPR sets the pull request's head and diff, as a push does.
func (f *fakeGitHub) setPR(head, diff string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	p := f.pullsState()
	p.head = head
	p.hunks = map[string][][2]int{}
	files, _, err := gitdiff.Parse(strings.NewReader(diff))
	if err != nil {
		f.t.Fatal(err)
	}
	for _, fl := range files {
		for _, fr := range fl.TextFragments {
			if fr.NewLines > 0 {
				p.hunks[fl.NewName] = append(p.hunks[fl.NewName], [2]int{int(fr.NewPosition), int(fr.NewPosition + fr.NewLines - 1)})
			}
		}
	}
}

// outdate marks the open threads whose first comment holds substr as
// outdated, as GitHub does when a push changes their lines.
func (f *fakeGitHub) outdate(substr string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, t := range f.pullsState().threads {
		if strings.Contains(t.Comments[0].Body, substr) {
			t.Outdated, t.Line, t.StartLine = true, 0, 0
		}
	}
}

// seedThread adds a review thread someone opened before the run.
func (f *fakeGitHub) seedThread(login, path string, line int, body string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.addThread(login, path, line, 0, body, 0).ID
}

func (f *fakeGitHub) addThread(login, path string, line, start int, body string, reviewID int64) *ghThread {
	p := f.pullsState()
	p.nextNode++
	f.nextID++
	t := &ghThread{
		ID: fmt.Sprintf("PRRT_kwDOAfake%04d", p.nextNode), Path: path, Line: line, StartLine: start,
		Comments: []ghReviewComment{{ID: f.nextID, ReviewID: reviewID, Login: login, Body: body}},
	}
	p.threads = append(p.threads, t)
	return t
}

// threadsSnapshot is a deep copy of the threads.
func (f *fakeGitHub) threadsSnapshot() []ghThread {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []ghThread
	for _, t := range f.pullsState().threads {
		c := *t
		c.Comments = append([]ghReviewComment(nil), t.Comments...)
		out = append(out, c)
	}
	return out
}

func (f *fakeGitHub) reviewsSnapshot() []ghReview {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]ghReview(nil), f.pullsState().reviews...)
}

// commentURL is a review comment's html_url.
func commentURL(owner, repo string, number int, id int64) string {
	return fmt.Sprintf("https://github.com/%s/%s/pull/%d#discussion_r%d", owner, repo, number, id)
}

// servePulls serves /repos/{o}/{r}/pulls/{n}/reviews[/{id}/comments];
// f.mu is held.
func (f *fakeGitHub) servePulls(w http.ResponseWriter, r *http.Request, parts []string) {
	owner, repo := parts[1], parts[2]
	number, err := strconv.Atoi(parts[4])
	if err != nil || len(parts) < 6 || parts[5] != "reviews" {
		f.t.Errorf("unexpected request %s %s", r.Method, r.URL.Path)
		f.json(w, http.StatusNotFound, map[string]string{"message": "Not Found"})
		return
	}
	switch {
	case len(parts) == 6 && r.Method == http.MethodPost:
		f.createReview(w, r, owner, repo, number)
	case len(parts) == 8 && parts[7] == "comments" && r.Method == http.MethodGet:
		id, _ := strconv.ParseInt(parts[6], 10, 64)
		var out []map[string]any
		for _, t := range f.pullsState().threads {
			for _, c := range t.Comments {
				if c.ReviewID == id {
					out = append(out, f.renderReviewComment(owner, repo, number, t, c))
				}
			}
		}
		if out == nil {
			out = []map[string]any{}
		}
		f.json(w, http.StatusOK, out)
	default:
		f.t.Errorf("unexpected request %s %s", r.Method, r.URL.Path)
		f.json(w, http.StatusNotFound, map[string]string{"message": "Not Found"})
	}
}

func (f *fakeGitHub) renderReviewComment(owner, repo string, number int, t *ghThread, c ghReviewComment) map[string]any {
	p := f.pullsState()
	m := maps.Clone(p.commentTmpl)
	user := maps.Clone(p.commentTmpl["user"].(map[string]any))
	user["login"] = c.Login
	m["user"] = user
	m["id"] = c.ID
	m["pull_request_review_id"] = c.ReviewID
	m["body"] = c.Body
	m["path"] = t.Path
	m["line"] = t.Line
	m["side"] = "RIGHT"
	m["commit_id"] = p.head
	m["html_url"] = commentURL(owner, repo, number, c.ID)
	delete(m, "in_reply_to_id")
	delete(m, "position")
	if t.StartLine > 0 {
		m["start_line"], m["start_side"] = t.StartLine, "RIGHT"
	} else {
		m["start_line"], m["start_side"] = nil, nil
	}
	return m
}

// reviewRequest is the body of POST .../reviews.
type reviewRequest struct {
	CommitID string `json:"commit_id"`
	Body     string `json:"body"`
	Event    string `json:"event"`
	Comments []struct {
		Path      string `json:"path"`
		Position  *int   `json:"position"`
		Body      string `json:"body"`
		Line      int    `json:"line"`
		Side      string `json:"side"`
		StartLine *int   `json:"start_line"`
		StartSide string `json:"start_side"`
	} `json:"comments"`
}

// createReview validates a review as GitHub does and stores it with a
// thread per comment. A refused review stores nothing: GitHub takes a
// review whole or not at all.
func (f *fakeGitHub) createReview(w http.ResponseWriter, r *http.Request, owner, repo string, number int) {
	p := f.pullsState()
	var req reviewRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		f.json(w, http.StatusBadRequest, map[string]string{"message": "Problems parsing JSON"})
		return
	}
	if req.Event != "COMMENT" {
		f.t.Errorf("review event %q: deep-review only comments", req.Event)
	}
	if req.CommitID != p.head {
		f.t.Errorf("review commit_id %q, want the head %q", req.CommitID, p.head)
	}
	var errs []string
	for _, c := range req.Comments {
		if c.Position != nil {
			f.t.Errorf("comment on %s uses the deprecated position", c.Path)
		}
		if c.Side != "RIGHT" || (c.StartLine != nil && c.StartSide != "RIGHT") {
			f.t.Errorf("comment on %s:%d has side %q, start_side %q; want RIGHT", c.Path, c.Line, c.Side, c.StartSide)
		}
		if utf8.RuneCountInString(c.Body) > 65536 {
			errs = append(errs, "Pull request review thread body is too long (maximum is 65536 characters)")
		}
		hunk := -1
		for i, h := range p.hunks[c.Path] {
			if h[0] <= c.Line && c.Line <= h[1] {
				hunk = i
			}
		}
		if hunk < 0 {
			errs = append(errs, "Pull request review thread line must be part of the diff", "Pull request review thread diff hunk can't be blank")
			continue
		}
		if c.StartLine != nil {
			h := p.hunks[c.Path][hunk]
			switch {
			case *c.StartLine >= c.Line:
				errs = append(errs, "Pull request review thread start line must precede the end line.")
			case *c.StartLine < h[0]:
				errs = append(errs, "Pull request review thread start line must be part of the same hunk as the line.")
			}
		}
	}
	if len(errs) > 0 {
		p.refused++
		f.json(w, http.StatusUnprocessableEntity, map[string]any{
			"message":           "Unprocessable Entity",
			"errors":            []string{sentence(errs)},
			"documentation_url": "https://docs.github.com/rest/pulls/reviews#create-a-review-for-a-pull-request",
			"status":            "422",
		})
		return
	}
	f.nextID++
	rv := ghReview{ID: f.nextID, Body: req.Body, Event: req.Event, CommitID: req.CommitID, Comments: len(req.Comments)}
	p.reviews = append(p.reviews, rv)
	for _, c := range req.Comments {
		start := 0
		if c.StartLine != nil {
			start = *c.StartLine
		}
		f.addThread(botLogin, c.Path, c.Line, start, c.Body, rv.ID)
	}
	m := maps.Clone(p.reviewTemplate)
	user := maps.Clone(p.reviewTemplate["user"].(map[string]any))
	user["login"], user["type"] = botLogin, "Bot"
	m["user"] = user
	m["id"] = rv.ID
	m["body"] = rv.Body
	m["state"] = "COMMENTED"
	m["commit_id"] = rv.CommitID
	m["html_url"] = fmt.Sprintf("https://github.com/%s/%s/pull/%d#pullrequestreview-%d", owner, repo, number, rv.ID)
	m["submitted_at"] = f.clock.Add(time.Minute).Format(time.RFC3339)
	f.json(w, http.StatusOK, m)
}

// sentence joins messages as GitHub's validation errors do: "a and b",
// "a, b, and c".
func sentence(ms []string) string {
	var uniq []string
	for _, m := range ms {
		dup := false
		for _, u := range uniq {
			dup = dup || u == m
		}
		if !dup {
			uniq = append(uniq, m)
		}
	}
	switch len(uniq) {
	case 1:
		return uniq[0]
	case 2:
		return uniq[0] + " and " + uniq[1]
	}
	return strings.Join(uniq[:len(uniq)-1], ", ") + ", and " + uniq[len(uniq)-1]
}

// serveGraphQL answers the three operations deep-review sends.
func (f *fakeGitHub) serveGraphQL(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, r.Method+" "+r.URL.Path)
	if got := r.Header.Get("Authorization"); got != "Bearer "+ghToken {
		f.json(w, http.StatusUnauthorized, map[string]string{"message": "Bad credentials", "documentation_url": "https://docs.github.com/graphql"})
		return
	}
	if r.Method != http.MethodPost {
		f.t.Errorf("GraphQL %s, want POST", r.Method)
		w.WriteHeader(http.StatusMethodNotAllowed)
		return
	}
	var req struct {
		Query     string         `json:"query"`
		Variables map[string]any `json:"variables"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		f.json(w, http.StatusBadRequest, map[string]string{"message": "Problems parsing JSON"})
		return
	}
	p := f.pullsState()
	threadByID := func() *ghThread {
		id, _ := req.Variables["thread"].(string)
		for _, t := range p.threads {
			if t.ID == id {
				return t
			}
		}
		return nil
	}
	notFound := func(op string) {
		f.json(w, http.StatusOK, map[string]any{
			"data":   map[string]any{op: nil},
			"errors": []map[string]any{{"type": "NOT_FOUND", "path": []string{op}, "message": fmt.Sprintf("Could not resolve to a node with the global id of '%v'", req.Variables["thread"])}},
		})
	}
	switch {
	case strings.Contains(req.Query, "addPullRequestReviewThreadReply"):
		t := threadByID()
		if t == nil {
			notFound("addPullRequestReviewThreadReply")
			return
		}
		body, _ := req.Variables["body"].(string)
		f.nextID++
		t.Comments = append(t.Comments, ghReviewComment{ID: f.nextID, Login: botLogin, Body: body})
		f.json(w, http.StatusOK, map[string]any{"data": map[string]any{"addPullRequestReviewThreadReply": map[string]any{
			"comment": map[string]any{"url": commentURL("Codertocat", "Hello-World", 2, f.nextID)},
		}}})
	case strings.Contains(req.Query, "resolveReviewThread"):
		t := threadByID()
		if t == nil {
			notFound("resolveReviewThread")
			return
		}
		t.Resolved, t.ResolvedBy = true, botLogin
		f.json(w, http.StatusOK, map[string]any{"data": map[string]any{"resolveReviewThread": map[string]any{
			"thread": map[string]any{"id": t.ID, "isResolved": true},
		}}})
	case strings.Contains(req.Query, "reviewThreads"):
		f.reviewThreads(w, req.Variables)
	default:
		f.t.Errorf("unexpected GraphQL operation: %s", req.Query)
		f.json(w, http.StatusOK, map[string]any{"errors": []map[string]any{{"message": "unknown operation"}}})
	}
}

func (f *fakeGitHub) reviewThreads(w http.ResponseWriter, vars map[string]any) {
	p := f.pullsState()
	if vars["owner"] != "Codertocat" || vars["name"] != "Hello-World" || vars["number"] != float64(2) {
		f.json(w, http.StatusOK, map[string]any{
			"data":   map[string]any{"repository": nil},
			"errors": []map[string]any{{"type": "NOT_FOUND", "path": []string{"repository"}, "message": fmt.Sprintf("Could not resolve to a Repository with the name '%v/%v'.", vars["owner"], vars["name"])}},
		})
		return
	}
	start := 0
	if c, ok := vars["cursor"].(string); ok {
		start, _ = strconv.Atoi(strings.TrimPrefix(c, "cursor:"))
	}
	end := min(start+p.pageSize, len(p.threads))
	nodes := []map[string]any{}
	for _, t := range p.threads[start:end] {
		c := t.Comments[0]
		author := map[string]any{"__typename": "User", "login": c.Login}
		if login, ok := strings.CutSuffix(c.Login, "[bot]"); ok {
			author = map[string]any{"__typename": "Bot", "login": login}
		}
		var line any
		if !t.Outdated {
			line = t.Line
		}
		nodes = append(nodes, map[string]any{
			"id": t.ID, "isResolved": t.Resolved, "isOutdated": t.Outdated, "path": t.Path, "line": line,
			"comments": map[string]any{"nodes": []map[string]any{{
				"author": author, "body": c.Body, "url": commentURL("Codertocat", "Hello-World", 2, c.ID),
			}}},
		})
	}
	f.json(w, http.StatusOK, map[string]any{"data": map[string]any{"repository": map[string]any{"pullRequest": map[string]any{
		"reviewThreads": map[string]any{
			"pageInfo": map[string]any{"hasNextPage": end < len(p.threads), "endCursor": "cursor:" + strconv.Itoa(end)},
			"nodes":    nodes,
		},
	}}}})
}
