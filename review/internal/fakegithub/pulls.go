package fakegithub

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/bluekeyes/go-gitdiff/gitdiff"
)

// Pull requests: GET .../pulls/{n} (JSON, or the diff for
// application/vnd.github.diff), .../commits, .../files, .../comments (the
// review comments of the threads), POST .../reviews with GitHub's
// validation of review comments, GET .../reviews/{id}/comments; and GraphQL
// reviewThreads, addPullRequestReviewThreadReply and resolveReviewThread.
// The diff the reviews are validated against is the one SetDiff gave,
// parsed here independently of the code under test.

// PullSpec describes a pull request for AddPull.
type PullSpec struct {
	Number           int
	Repo             string // "owner/name" of base and head
	Base, Head       string // SHAs
	BaseRef, HeadRef string
	Draft, Fork      bool
}

// Commit is one commit of a pull request.
type Commit struct {
	SHA, Message string
}

// File is one changed file of a pull request.
type File struct {
	Path, Status         string
	Additions, Deletions int
	Patch                string
}

// Review is one posted review.
type Review struct {
	ID       int64
	Body     string
	Event    string
	CommitID string
	Comments int
}

// ReviewComment is one comment of a review thread.
type ReviewComment struct {
	ID       int64
	ReviewID int64
	Login    string
	Body     string
}

// Thread is a review thread; Line is 0 once it is outdated, as GraphQL
// gives null.
type Thread struct {
	ID         string
	Path       string
	Line       int
	StartLine  int
	Resolved   bool
	ResolvedBy string
	Outdated   bool
	Comments   []ReviewComment
}

type pull struct {
	data    map[string]any
	commits []Commit
	files   []File
	head    string
	diff    string
	hunks   map[string][][2]int
	reviews []Review
	threads []*Thread
	refused int
}

// pr is pull request n's state, made empty on first use; s.mu is held.
func (s *Server) pr(n int) *pull {
	p, ok := s.pulls[n]
	if !ok {
		p = &pull{hunks: map[string][][2]int{}}
		s.pulls[n] = p
	}
	return p
}

// AddPull serves a pull request built from the real pulls-get response
// with spec's numbers, SHAs and refs.
func (s *Server) AddPull(spec PullSpec) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var m map[string]any
	b, _ := json.Marshal(s.pullTmpl)
	_ = json.Unmarshal(b, &m)
	m["number"] = spec.Number
	m["draft"] = spec.Draft
	for side, sha := range map[string]string{"head": spec.Head, "base": spec.Base} {
		sm := m[side].(map[string]any)
		sm["sha"] = sha
		sm["ref"] = map[string]string{"head": spec.HeadRef, "base": spec.BaseRef}[side]
		rp := sm["repo"].(map[string]any)
		if spec.Repo != "" {
			rp["full_name"] = spec.Repo
		}
		rp["fork"] = side == "head" && spec.Fork
	}
	p := s.pr(spec.Number)
	p.data, p.head = m, spec.Head
}

// UpdatePull changes pull request n's JSON in place, under the lock.
func (s *Server) UpdatePull(n int, f func(pr map[string]any)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(s.pr(n).data)
}

// Head is pull request n's head SHA.
func (s *Server) Head(n int) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pr(n).head
}

// Push moves pull request n's head to sha, adding the commit, and sets
// the diff the reviews are checked against (SetDiff); an empty diff keeps
// the old one.
func (s *Server) Push(n int, c Commit, diff string) {
	s.mu.Lock()
	p := s.pr(n)
	if p.data != nil {
		p.data["head"].(map[string]any)["sha"] = c.SHA
	}
	p.commits = append(p.commits, c)
	s.mu.Unlock()
	if diff == "" {
		s.mu.Lock()
		diff = p.diff
		s.mu.Unlock()
	}
	s.SetDiff(n, c.SHA, diff)
}

// SetCommits sets pull request n's commits.
func (s *Server) SetCommits(n int, cs []Commit) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pr(n).commits = cs
}

// SetFiles sets pull request n's changed files.
func (s *Server) SetFiles(n int, fs []File) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pr(n).files = fs
}

// SetDiff sets pull request n's head and diff, as a push does: review
// comments are then validated against its hunks.
func (s *Server) SetDiff(n int, head, diff string) {
	files, _, err := gitdiff.Parse(strings.NewReader(diff))
	if err != nil {
		s.t.Fatal(err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.pr(n)
	p.head, p.diff = head, diff
	if p.data != nil {
		p.data["head"].(map[string]any)["sha"] = head
	}
	p.hunks = map[string][][2]int{}
	for _, fl := range files {
		for _, fr := range fl.TextFragments {
			if fr.NewLines > 0 {
				p.hunks[fl.NewName] = append(p.hunks[fl.NewName], [2]int{int(fr.NewPosition), int(fr.NewPosition + fr.NewLines - 1)})
			}
		}
	}
}

// Outdate marks pull request n's open threads whose first comment holds
// substr as outdated, as GitHub does when a push changes their lines.
func (s *Server) Outdate(n int, substr string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range s.pr(n).threads {
		if strings.Contains(t.Comments[0].Body, substr) {
			t.Outdated, t.Line, t.StartLine = true, 0, 0
		}
	}
}

// SeedThread adds a review thread someone opened before the run and
// returns its node id.
func (s *Server) SeedThread(n int, login, path string, line int, body string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addThread(n, login, path, line, 0, body, 0).ID
}

// SetThreadPageSize sets how many threads a reviewThreads page holds
// (GitHub: the query's first, at most 100).
func (s *Server) SetThreadPageSize(size int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pageSize = size
}

func (s *Server) addThread(n int, login, path string, line, start int, body string, reviewID int64) *Thread {
	p := s.pr(n)
	s.nextID++
	nodes := 0
	for _, q := range s.pulls {
		nodes += len(q.threads)
	}
	t := &Thread{
		ID: fmt.Sprintf("PRRT_kwDOAfake%04d", nodes+1), Path: path, Line: line, StartLine: start,
		Comments: []ReviewComment{{ID: s.nextID, ReviewID: reviewID, Login: login, Body: body}},
	}
	p.threads = append(p.threads, t)
	return t
}

// Threads is a deep copy of pull request n's review threads.
func (s *Server) Threads(n int) []Thread {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Thread
	for _, t := range s.pr(n).threads {
		c := *t
		c.Comments = append([]ReviewComment(nil), t.Comments...)
		out = append(out, c)
	}
	return out
}

// Reviews is a copy of pull request n's reviews.
func (s *Server) Reviews(n int) []Review {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Review(nil), s.pr(n).reviews...)
}

// RefusedReviews is how many reviews on pull request n were answered 422.
func (s *Server) RefusedReviews(n int) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pr(n).refused
}

// CommentURL is a review comment's html_url.
func (s *Server) CommentURL(owner, repo string, number int, id int64) string {
	return fmt.Sprintf("%s/%s/%s/pull/%d#discussion_r%d", s.opts.WebURL, owner, repo, number, id)
}

// servePull serves /repos/{o}/{r}/pulls/{n}/rest...; s.mu is held.
func (s *Server) servePull(w http.ResponseWriter, r *http.Request, owner, repo string, number int, rest []string) bool {
	p := s.pr(number)
	get := r.Method == http.MethodGet
	switch {
	case len(rest) == 0 && get:
		if p.data == nil {
			s.notFound(w, "/pulls/pulls#get-a-pull-request")
			return true
		}
		if strings.Contains(r.Header.Get("Accept"), "diff") {
			w.Header().Set("Content-Type", "application/vnd.github.diff; charset=utf-8")
			w.WriteHeader(http.StatusOK)
			fmt.Fprint(w, p.diff)
			return true
		}
		s.json(w, http.StatusOK, p.data)
	case len(rest) == 1 && rest[0] == "commits" && get:
		items := []any{}
		for _, c := range p.commits {
			items = append(items, map[string]any{"sha": c.SHA, "commit": map[string]any{"message": c.Message}})
		}
		s.paginate(w, r, items)
	case len(rest) == 1 && rest[0] == "files" && get:
		items := []any{}
		for _, f := range p.files {
			m := map[string]any{"filename": f.Path, "status": f.Status, "additions": f.Additions, "deletions": f.Deletions, "changes": f.Additions + f.Deletions}
			if f.Patch != "" {
				m["patch"] = f.Patch
			}
			items = append(items, m)
		}
		s.paginate(w, r, items)
	case len(rest) == 1 && rest[0] == "comments" && get:
		items := []any{}
		for _, t := range p.threads {
			for _, c := range t.Comments {
				items = append(items, s.renderReviewComment(owner, repo, number, t, c))
			}
		}
		s.paginate(w, r, items)
	case len(rest) == 1 && rest[0] == "reviews" && r.Method == http.MethodPost:
		s.createReview(w, r, owner, repo, number)
	case len(rest) == 3 && rest[0] == "reviews" && rest[2] == "comments" && get:
		id, _ := strconv.ParseInt(rest[1], 10, 64)
		items := []any{}
		for _, t := range p.threads {
			for _, c := range t.Comments {
				if c.ReviewID == id {
					items = append(items, s.renderReviewComment(owner, repo, number, t, c))
				}
			}
		}
		s.paginate(w, r, items)
	default:
		return false
	}
	return true
}

func (s *Server) renderReviewComment(owner, repo string, number int, t *Thread, c ReviewComment) map[string]any {
	p := s.pr(number)
	m := maps.Clone(s.reviewCommentTmpl)
	m["user"] = userOf(s.reviewCommentTmpl, c.Login)
	m["id"] = c.ID
	m["pull_request_review_id"] = c.ReviewID
	m["body"] = c.Body
	m["path"] = t.Path
	m["line"] = t.Line
	if t.Outdated {
		m["line"] = nil
	}
	m["side"] = "RIGHT"
	m["commit_id"] = p.head
	m["html_url"] = s.CommentURL(owner, repo, number, c.ID)
	delete(m, "in_reply_to_id")
	if c.ID != t.Comments[0].ID {
		m["in_reply_to_id"] = t.Comments[0].ID
	}
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
func (s *Server) createReview(w http.ResponseWriter, r *http.Request, owner, repo string, number int) {
	p := s.pr(number)
	var req reviewRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		s.json(w, http.StatusBadRequest, map[string]string{"message": "Problems parsing JSON"})
		return
	}
	if req.Event != "COMMENT" {
		s.t.Errorf("review event %q: deep-review only comments", req.Event)
	}
	if req.CommitID != p.head {
		s.t.Errorf("review commit_id %q, want the head %q", req.CommitID, p.head)
	}
	var errs []string
	for _, c := range req.Comments {
		if c.Position != nil {
			s.t.Errorf("comment on %s uses the deprecated position", c.Path)
		}
		if c.Side != "RIGHT" || (c.StartLine != nil && c.StartSide != "RIGHT") {
			s.t.Errorf("comment on %s:%d has side %q, start_side %q; want RIGHT", c.Path, c.Line, c.Side, c.StartSide)
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
		s.json(w, http.StatusUnprocessableEntity, map[string]any{
			"message":           "Unprocessable Entity",
			"errors":            []string{sentence(errs)},
			"documentation_url": "https://docs.github.com/rest/pulls/reviews#create-a-review-for-a-pull-request",
			"status":            "422",
		})
		return
	}
	s.nextID++
	rv := Review{ID: s.nextID, Body: req.Body, Event: req.Event, CommitID: req.CommitID, Comments: len(req.Comments)}
	p.reviews = append(p.reviews, rv)
	for _, c := range req.Comments {
		start := 0
		if c.StartLine != nil {
			start = *c.StartLine
		}
		s.addThread(number, BotLogin, c.Path, c.Line, start, c.Body, rv.ID)
	}
	m := maps.Clone(s.reviewTmpl)
	user := maps.Clone(s.reviewTmpl["user"].(map[string]any))
	user["login"], user["type"] = BotLogin, "Bot"
	m["user"] = user
	m["id"] = rv.ID
	m["body"] = rv.Body
	m["state"] = "COMMENTED"
	m["commit_id"] = rv.CommitID
	m["html_url"] = fmt.Sprintf("%s/%s/%s/pull/%d#pullrequestreview-%d", s.opts.WebURL, owner, repo, number, rv.ID)
	m["submitted_at"] = s.clock.Add(time.Minute).Format(time.RFC3339)
	s.json(w, http.StatusOK, m)
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

// serveGraphQL answers the operations deep-review sends.
func (s *Server) serveGraphQL(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.calls = append(s.calls, r.Method+" "+r.URL.Path)
	if !s.authorised(w, r, "https://docs.github.com/graphql") || s.fault(w, r, true) {
		s.mu.Unlock()
		return
	}
	s.mu.Unlock()
	if s.scripted(w, r) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if r.Method != http.MethodPost {
		s.unknown = append(s.unknown, r.Method+" "+r.URL.Path)
		w.WriteHeader(http.StatusMethodNotAllowed)
		return
	}
	var req struct {
		Query     string         `json:"query"`
		Variables map[string]any `json:"variables"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		s.json(w, http.StatusBadRequest, map[string]string{"message": "Problems parsing JSON"})
		return
	}
	thread := func() (*Thread, int) {
		id, _ := req.Variables["thread"].(string)
		for n, p := range s.pulls {
			for _, t := range p.threads {
				if t.ID == id {
					return t, n
				}
			}
		}
		return nil, 0
	}
	notFound := func(op string) {
		s.json(w, http.StatusOK, map[string]any{
			"data":   map[string]any{op: nil},
			"errors": []map[string]any{{"type": "NOT_FOUND", "path": []string{op}, "message": fmt.Sprintf("Could not resolve to a node with the global id of '%v'", req.Variables["thread"])}},
		})
	}
	owner, name := s.repoParts()
	switch {
	case strings.Contains(req.Query, "addPullRequestReviewThreadReply"):
		t, n := thread()
		if t == nil {
			notFound("addPullRequestReviewThreadReply")
			return
		}
		body, _ := req.Variables["body"].(string)
		s.nextID++
		t.Comments = append(t.Comments, ReviewComment{ID: s.nextID, Login: BotLogin, Body: body})
		s.json(w, http.StatusOK, map[string]any{"data": map[string]any{"addPullRequestReviewThreadReply": map[string]any{
			"comment": map[string]any{"url": s.CommentURL(owner, name, n, s.nextID)},
		}}})
	case strings.Contains(req.Query, "resolveReviewThread"):
		t, _ := thread()
		if t == nil {
			notFound("resolveReviewThread")
			return
		}
		t.Resolved, t.ResolvedBy = true, BotLogin
		s.json(w, http.StatusOK, map[string]any{"data": map[string]any{"resolveReviewThread": map[string]any{
			"thread": map[string]any{"id": t.ID, "isResolved": true},
		}}})
	case strings.Contains(req.Query, "reviewThreads"):
		s.reviewThreads(w, req.Variables)
	default:
		s.unknown = append(s.unknown, "GraphQL "+req.Query)
		s.json(w, http.StatusOK, map[string]any{"errors": []map[string]any{{"message": "unknown operation"}}})
	}
}

// repoParts is Options.Repo split, or Codertocat/Hello-World.
func (s *Server) repoParts() (string, string) {
	if o, n, ok := strings.Cut(s.opts.Repo, "/"); ok {
		return o, n
	}
	return "Codertocat", "Hello-World"
}

func (s *Server) reviewThreads(w http.ResponseWriter, vars map[string]any) {
	if s.opts.Repo != "" && s.opts.Repo != fmt.Sprintf("%v/%v", vars["owner"], vars["name"]) {
		s.json(w, http.StatusOK, map[string]any{
			"data":   map[string]any{"repository": nil},
			"errors": []map[string]any{{"type": "NOT_FOUND", "path": []string{"repository"}, "message": fmt.Sprintf("Could not resolve to a Repository with the name '%v/%v'.", vars["owner"], vars["name"])}},
		})
		return
	}
	num, _ := vars["number"].(float64)
	n := int(num)
	p, ok := s.pulls[n]
	if !ok {
		s.json(w, http.StatusOK, map[string]any{
			"data":   map[string]any{"repository": map[string]any{"pullRequest": nil}},
			"errors": []map[string]any{{"type": "NOT_FOUND", "path": []string{"repository", "pullRequest"}, "message": fmt.Sprintf("Could not resolve to a PullRequest with the number of %d.", n)}},
		})
		return
	}
	owner, name := fmt.Sprint(vars["owner"]), fmt.Sprint(vars["name"])
	start := 0
	if c, ok := vars["cursor"].(string); ok {
		start, _ = strconv.Atoi(strings.TrimPrefix(c, "cursor:"))
	}
	end := min(start+s.pageSize, len(p.threads))
	nodes := []map[string]any{}
	for _, t := range p.threads[start:end] {
		var comments []map[string]any
		for _, c := range t.Comments {
			author := map[string]any{"__typename": "User", "login": c.Login}
			if login, ok := strings.CutSuffix(c.Login, "[bot]"); ok {
				author = map[string]any{"__typename": "Bot", "login": login}
			}
			comments = append(comments, map[string]any{
				"databaseId": c.ID, "author": author, "body": c.Body, "url": s.CommentURL(owner, name, n, c.ID),
			})
		}
		var line any
		if !t.Outdated {
			line = t.Line
		}
		nodes = append(nodes, map[string]any{
			"id": t.ID, "isResolved": t.Resolved, "isOutdated": t.Outdated, "path": t.Path, "line": line,
			"comments": map[string]any{"nodes": comments},
		})
	}
	s.json(w, http.StatusOK, map[string]any{"data": map[string]any{"repository": map[string]any{"pullRequest": map[string]any{
		"reviewThreads": map[string]any{
			"pageInfo": map[string]any{"hasNextPage": end < len(p.threads), "endCursor": "cursor:" + strconv.Itoa(end)},
			"nodes":    nodes,
		},
	}}}})
}
