// Package fakegithub is the one fake GitHub the tests of review/pr,
// review/publish and review/cli share: an httptest server speaking GitHub's
// REST API under /api/v3 (as GitHub Enterprise Server mounts it, so a
// hard-coded api.github.com fails) and its GraphQL API at /api/graphql, with
// pull requests, issue comments, reviews and review threads held in memory
// and replies built from real GitHub responses (testdata, copied from the
// shared fixtures). It enforces what GitHub enforces where deep-review can
// trip on it: 422 on comment bodies over 65,536 characters, the inline
// review rules with GitHub's own error sentences, pagination with Link
// headers. Faults (secondary rate limits, 502s) are queued by the test.
//
// A request to a route the fake does not serve is answered 404 and fails
// the test when it ends. Only tests import this package.
package fakegithub

import (
	"embed"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"
)

//go:embed testdata/*.json
var fixtures embed.FS

// BotLogin is the login the fake gives everything the token writes.
const BotLogin = "github-actions[bot]"

// Options configure a fake.
type Options struct {
	// Token is the token every request must carry as "Bearer <token>";
	// a request without it is answered 401 and fails the test.
	Token string
	// Repo, when set ("owner/name"), is the only repository GraphQL
	// knows; other names get GitHub's NOT_FOUND error.
	Repo string
	// WebURL is the base of html_url links, https://github.com if empty.
	WebURL string
}

// Comment is one issue comment.
type Comment struct {
	ID      int64
	Issue   int
	Body    string
	Login   string
	Created time.Time
}

// Fault is a canned error reply, served once.
type Fault struct {
	Status int
	Header map[string]string
	Body   string
}

// SecondaryRateLimit is GitHub's 403 for a secondary rate limit. Its
// Retry-After is 0 because go-github refuses further requests locally until
// the Retry-After it saw has passed on the wall clock, and tests do not wait.
var SecondaryRateLimit = Fault{
	Status: http.StatusForbidden,
	Header: map[string]string{"Retry-After": "0"},
	Body:   `{"message":"You have exceeded a secondary rate limit. Please wait a few minutes before you try again.","documentation_url":"https://docs.github.com/free-pro-team@latest/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits","status":"403"}`,
}

// BadGateway is the HTML 502 GitHub's front end answers.
var BadGateway = Fault{Status: http.StatusBadGateway, Body: "<html><body><h1>502 Bad Gateway</h1></body></html>"}

// TooManyRequests is a 429 with a Retry-After of 7 seconds.
var TooManyRequests = Fault{
	Status: http.StatusTooManyRequests,
	Header: map[string]string{"Retry-After": "7"},
	Body:   `{"message":"API rate limit exceeded","documentation_url":"https://docs.github.com/rest/overview/rate-limits-for-the-rest-api","status":"429"}`,
}

// NotAccessible is the 403 a read-only token meets on a write.
var NotAccessible = Fault{
	Status: http.StatusForbidden,
	Body:   `{"message":"Resource not accessible by integration","documentation_url":"https://docs.github.com/rest/issues/comments#create-an-issue-comment","status":"403"}`,
}

// BodyTooLong is GitHub's 422 for an issue comment over 65,536 characters,
// for a test that wants it on a body the fake would take.
var BodyTooLong = Fault{Status: http.StatusUnprocessableEntity, Body: mustJSON(tooLongBody)}

var tooLongBody = map[string]any{
	"message": "Validation Failed",
	"errors": []map[string]any{{
		"resource": "IssueComment",
		"code":     "custom",
		"field":    "body",
		"message":  "body is too long (maximum is 65536 characters)",
	}},
	"documentation_url": "https://docs.github.com/rest/issues/comments#create-an-issue-comment",
	"status":            "422",
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

type faultRule struct {
	method, suffix string
	fault          Fault
}

// Route is a handler a test put in front of the fake's own routes.
type Route struct {
	method, path string
	handler      http.HandlerFunc
	calls        int
	queries      []url.Values
}

// Server is a fake GitHub. Its methods are safe for concurrent use.
type Server struct {
	t    testing.TB
	opts Options
	srv  *httptest.Server

	mu       sync.Mutex
	comments []Comment
	nextID   int64
	clock    time.Time
	faults   []faultRule
	calls    []string
	unknown  []string
	routes   []*Route
	tooLong  int
	pulls    map[int]*pull
	open     []map[string]any
	perm     map[string]string
	defPerm  string
	pageSize int

	inflight, maxInflight atomic.Int32

	commentTmpl, pullTmpl, reviewTmpl, reviewCommentTmpl map[string]any
}

// New starts a fake GitHub that lives as long as the test.
func New(t testing.TB, opts Options) *Server {
	t.Helper()
	if opts.WebURL == "" {
		opts.WebURL = "https://github.com"
	}
	s := &Server{
		t: t, opts: opts, nextID: 1000,
		clock:    time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC),
		pulls:    map[int]*pull{},
		perm:     map[string]string{},
		defPerm:  "write",
		pageSize: 100,
	}
	for name, dst := range map[string]*map[string]any{
		"issues-create-comment.json":      &s.commentTmpl,
		"pulls-get.json":                  &s.pullTmpl,
		"pulls-list-reviews.json":         &s.reviewTmpl,
		"pulls-list-review-comments.json": &s.reviewCommentTmpl,
	} {
		*dst = fixture(t, name)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/api/v3/", s.serveREST)
	mux.HandleFunc("/api/graphql", s.serveGraphQL)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if s.scripted(w, r) {
			return
		}
		s.refuse(w, r)
	})
	s.srv = httptest.NewServer(mux)
	t.Cleanup(func() {
		s.srv.Close()
		s.mu.Lock()
		defer s.mu.Unlock()
		if len(s.unknown) > 0 {
			t.Errorf("fake GitHub: requests to routes it does not serve: %v", s.unknown)
		}
	})
	return s
}

// fixture decodes one of the embedded REST responses; a list gives its
// first item.
func fixture(t testing.TB, name string) map[string]any {
	t.Helper()
	data, err := fixtures.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatalf("fixture %s: %v", name, err)
	}
	if list, ok := v.([]any); ok {
		return list[0].(map[string]any)
	}
	return v.(map[string]any)
}

// URL is the server's base URL, without /api/v3.
func (s *Server) URL() string { return s.srv.URL }

// APIURL is the REST base, as GITHUB_API_URL gives it.
func (s *Server) APIURL() string { return s.srv.URL + "/api/v3" }

// GraphQLURL is the GraphQL endpoint, as GITHUB_GRAPHQL_URL gives it.
func (s *Server) GraphQLURL() string { return s.srv.URL + "/api/graphql" }

// Client is an HTTP client for the server.
func (s *Server) Client() *http.Client { return s.srv.Client() }

// ServeHTTP serves a request as the server does, for a test that puts its
// own front before the fake.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.srv.Config.Handler.ServeHTTP(w, r)
}

// Handle puts a test's handler for method and path (under /api/v3) before
// the fake's own routes. Verify fails the test for one never called.
func (s *Server) Handle(method, path string, h http.HandlerFunc) *Route {
	return s.HandleRaw(method, "/api/v3"+path, h)
}

// HandleRaw is Handle with the full path, e.g. /api/graphql.
func (s *Server) HandleRaw(method, path string, h http.HandlerFunc) *Route {
	r := &Route{method: method, path: path, handler: h}
	s.mu.Lock()
	s.routes = append(s.routes, r)
	s.mu.Unlock()
	return r
}

// Verify fails the test for every Handle route never called.
func (s *Server) Verify() {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, rt := range s.routes {
		if rt.calls == 0 {
			s.t.Errorf("expected call %s %s never happened", rt.method, rt.path)
		}
	}
}

// Count is how many requests the route served.
func (r *Route) Count() int { return r.calls }

// Queries are the query strings of the requests the route served.
func (r *Route) Queries() []url.Values { return r.queries }

// Fail queues faults for the next requests with method whose path ends in
// suffix; an empty suffix matches every REST path (not GraphQL).
func (s *Server) Fail(method, suffix string, fs ...Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, f := range fs {
		s.faults = append(s.faults, faultRule{method, suffix, f})
	}
}

// PendingFaults lists the faults not served yet.
func (s *Server) PendingFaults() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, f := range s.faults {
		out = append(out, fmt.Sprintf("%s *%s: %d", f.method, f.suffix, f.fault.Status))
	}
	return out
}

// Calls lists the requests served, "METHOD /path", in order.
func (s *Server) Calls() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.calls...)
}

// CallCount is how many requests "METHOD /path" began with prefix.
func (s *Server) CallCount(prefix string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.calls {
		if strings.HasPrefix(c, prefix) {
			n++
		}
	}
	return n
}

// MaxInflight is the most REST requests served at once.
func (s *Server) MaxInflight() int { return int(s.maxInflight.Load()) }

// TooLongRefused is how many comment bodies the fake refused as too long.
func (s *Server) TooLongRefused() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tooLong
}

// SetPermission sets login's permission on the repository; everyone else
// has write.
func (s *Server) SetPermission(login, perm string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if login == "" {
		s.defPerm = perm
		return
	}
	s.perm[login] = perm
}

// SetOpen sets what GET /repos/{o}/{r}/pulls lists.
func (s *Server) SetOpen(prs []map[string]any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.open = prs
}

// Seed adds a comment on an issue written before the run and returns its id.
func (s *Server) Seed(issue int, login, body string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.add(issue, login, body).ID
}

// SeedComment adds a comment with a given id.
func (s *Server) SeedComment(c Comment) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c.Created.IsZero() {
		s.clock = s.clock.Add(time.Minute)
		c.Created = s.clock
	}
	s.comments = append(s.comments, c)
}

func (s *Server) add(issue int, login, body string) Comment {
	s.nextID++
	s.clock = s.clock.Add(time.Minute)
	c := Comment{ID: s.nextID, Issue: issue, Body: body, Login: login, Created: s.clock}
	s.comments = append(s.comments, c)
	return c
}

// Comments is a copy of every issue comment, oldest first.
func (s *Server) Comments() []Comment {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Comment(nil), s.comments...)
}

func (s *Server) json(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	if err := json.NewEncoder(w).Encode(v); err != nil {
		s.t.Error(err)
	}
}

func (s *Server) notFound(w http.ResponseWriter, doc string) {
	s.json(w, http.StatusNotFound, map[string]string{"message": "Not Found", "documentation_url": "https://docs.github.com/rest" + doc, "status": "404"})
}

// refuse answers a route the fake does not serve; the test fails at its end.
func (s *Server) refuse(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.unknown = append(s.unknown, r.Method+" "+r.URL.String())
	s.mu.Unlock()
	s.notFound(w, "")
}

// scripted serves a Handle route; it reports whether there was one.
func (s *Server) scripted(w http.ResponseWriter, r *http.Request) bool {
	s.mu.Lock()
	var found *Route
	for _, rt := range s.routes {
		if rt.method == r.Method && rt.path == r.URL.Path {
			found = rt
			break
		}
	}
	if found != nil {
		found.calls++
		found.queries = append(found.queries, r.URL.Query())
	}
	s.mu.Unlock()
	if found != nil {
		found.handler(w, r)
	}
	return found != nil
}

// authorised checks the token; s.mu is held.
func (s *Server) authorised(w http.ResponseWriter, r *http.Request, doc string) bool {
	if got, want := r.Header.Get("Authorization"), "Bearer "+s.opts.Token; got != want {
		s.t.Errorf("%s %s: Authorization %q, want %q", r.Method, r.URL.Path, got, want)
		s.json(w, http.StatusUnauthorized, map[string]string{"message": "Bad credentials", "documentation_url": doc})
		return false
	}
	return true
}

// fault serves the first queued fault matching the request; s.mu is held.
func (s *Server) fault(w http.ResponseWriter, r *http.Request, graphql bool) bool {
	for i, f := range s.faults {
		if f.method != r.Method || !strings.HasSuffix(r.URL.Path, f.suffix) || (f.suffix == "" && graphql) {
			continue
		}
		s.faults = append(s.faults[:i:i], s.faults[i+1:]...)
		for k, v := range f.fault.Header {
			w.Header().Set(k, v)
		}
		if !strings.HasPrefix(f.fault.Body, "<") {
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
		}
		w.WriteHeader(f.fault.Status)
		io.WriteString(w, f.fault.Body)
		return true
	}
	return false
}

// userOf is a fixture template's user as login: a Bot when the login ends
// in [bot], as GitHub shows App accounts, else a User.
func userOf(tmpl map[string]any, login string) map[string]any {
	user := maps.Clone(tmpl["user"].(map[string]any))
	user["login"] = login
	user["type"] = "User"
	if strings.HasSuffix(login, "[bot]") {
		user["type"] = "Bot"
	}
	return user
}

func (s *Server) renderComment(owner, repo string, c Comment) map[string]any {
	m := maps.Clone(s.commentTmpl)
	m["user"] = userOf(s.commentTmpl, c.Login)
	m["id"] = c.ID
	m["body"] = c.Body
	m["url"] = fmt.Sprintf("%s/api/v3/repos/%s/%s/issues/comments/%d", s.srv.URL, owner, repo, c.ID)
	m["html_url"] = fmt.Sprintf("%s/%s/%s/pull/%d#issuecomment-%d", s.opts.WebURL, owner, repo, c.Issue, c.ID)
	m["issue_url"] = fmt.Sprintf("%s/api/v3/repos/%s/%s/issues/%d", s.srv.URL, owner, repo, c.Issue)
	m["created_at"] = c.Created.Format(time.RFC3339)
	m["updated_at"] = c.Created.Format(time.RFC3339)
	return m
}

func (s *Server) serveREST(w http.ResponseWriter, r *http.Request) {
	n := s.inflight.Add(1)
	defer s.inflight.Add(-1)
	for {
		m := s.maxInflight.Load()
		if n <= m || s.maxInflight.CompareAndSwap(m, n) {
			break
		}
	}
	s.mu.Lock()
	s.calls = append(s.calls, r.Method+" "+r.URL.Path)
	if !s.authorised(w, r, "https://docs.github.com/rest") {
		s.mu.Unlock()
		return
	}
	if s.fault(w, r, false) {
		s.mu.Unlock()
		return
	}
	s.mu.Unlock()
	if s.scripted(w, r) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.route(w, r) {
		s.unknown = append(s.unknown, r.Method+" "+r.URL.String())
		s.notFound(w, "")
	}
}

// route serves the fake's own REST routes; s.mu is held.
func (s *Server) route(w http.ResponseWriter, r *http.Request) bool {
	parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/api/v3/"), "/")
	if len(parts) < 3 || parts[0] != "repos" {
		return false
	}
	owner, repo, rest := parts[1], parts[2], parts[3:]
	get, post := r.Method == http.MethodGet, r.Method == http.MethodPost
	switch {
	case len(rest) == 1 && rest[0] == "pulls" && get:
		items := make([]any, len(s.open))
		for i, p := range s.open {
			items[i] = p
		}
		s.paginate(w, r, items)
	case len(rest) >= 2 && rest[0] == "pulls":
		number, err := strconv.Atoi(rest[1])
		if err != nil {
			return false
		}
		return s.servePull(w, r, owner, repo, number, rest[2:])
	case len(rest) == 3 && rest[0] == "issues" && rest[2] == "comments":
		number, err := strconv.Atoi(rest[1])
		if err != nil {
			return false
		}
		switch {
		case get:
			var items []any
			for _, c := range s.comments {
				if c.Issue == number {
					items = append(items, s.renderComment(owner, repo, c))
				}
			}
			s.paginate(w, r, items)
		case post:
			body, ok := s.body(w, r)
			if !ok {
				return true
			}
			s.json(w, http.StatusCreated, s.renderComment(owner, repo, s.add(number, BotLogin, body)))
		default:
			return false
		}
	case len(rest) == 3 && rest[0] == "issues" && rest[1] == "comments":
		return s.serveComment(w, r, owner, repo, rest[2])
	case len(rest) == 3 && rest[0] == "collaborators" && rest[2] == "permission" && get:
		perm, ok := s.perm[rest[1]]
		if !ok {
			perm = s.defPerm
		}
		s.json(w, http.StatusOK, map[string]any{"permission": perm, "role_name": perm, "user": map[string]any{"login": rest[1], "type": "User"}})
	default:
		return false
	}
	return true
}

func (s *Server) serveComment(w http.ResponseWriter, r *http.Request, owner, repo, idText string) bool {
	id, err := strconv.ParseInt(idText, 10, 64)
	if err != nil {
		return false
	}
	i := -1
	for j, c := range s.comments {
		if c.ID == id {
			i = j
		}
	}
	if r.Method != http.MethodPatch && r.Method != http.MethodDelete {
		return false
	}
	if i < 0 {
		s.notFound(w, "/issues/comments")
		return true
	}
	if s.comments[i].Login != BotLogin {
		s.json(w, http.StatusForbidden, map[string]string{"message": "Resource not accessible by integration", "documentation_url": "https://docs.github.com/rest/issues/comments", "status": "403"})
		return true
	}
	if r.Method == http.MethodDelete {
		s.comments = append(s.comments[:i], s.comments[i+1:]...)
		w.WriteHeader(http.StatusNoContent)
		return true
	}
	body, ok := s.body(w, r)
	if !ok {
		return true
	}
	s.comments[i].Body = body
	s.json(w, http.StatusOK, s.renderComment(owner, repo, s.comments[i]))
	return true
}

// body reads {"body": ...} and replies 422 as GitHub does when it is over
// 65,536 characters.
func (s *Server) body(w http.ResponseWriter, r *http.Request) (string, bool) {
	var req struct {
		Body *string `json:"body"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.Body == nil {
		s.json(w, http.StatusUnprocessableEntity, map[string]any{"message": "Invalid request.\n\n\"body\" wasn't supplied.", "documentation_url": "https://docs.github.com/rest/issues/comments", "status": "422"})
		return "", false
	}
	if utf8.RuneCountInString(*req.Body) > 65536 {
		s.tooLong++
		s.json(w, http.StatusUnprocessableEntity, tooLongBody)
		return "", false
	}
	return *req.Body, true
}

// paginate serves one page of items as GitHub does: page and per_page
// (at most 100) query parameters and a Link header with next, last, first
// and prev.
func (s *Server) paginate(w http.ResponseWriter, r *http.Request, items []any) {
	Paginate(w, r, items)
}

// Paginate serves one page of items as GitHub does, for Handle routes.
func Paginate(w http.ResponseWriter, r *http.Request, items []any) {
	perPage, page := 30, 1
	if v, err := strconv.Atoi(r.URL.Query().Get("per_page")); err == nil && v > 0 {
		perPage = min(v, 100)
	}
	if v, err := strconv.Atoi(r.URL.Query().Get("page")); err == nil && v > 0 {
		page = v
	}
	last := max((len(items)+perPage-1)/perPage, 1)
	start := min((page-1)*perPage, len(items))
	out := items[start:min(start+perPage, len(items))]
	if out == nil {
		out = []any{}
	}
	link := func(p int, rel string) string {
		q := url.Values{}
		for k, v := range r.URL.Query() {
			q[k] = v
		}
		q.Set("per_page", strconv.Itoa(perPage))
		q.Set("page", strconv.Itoa(p))
		u := url.URL{Scheme: "http", Host: r.Host, Path: r.URL.Path, RawQuery: q.Encode()}
		return fmt.Sprintf("<%s>; rel=%q", u.String(), rel)
	}
	var links []string
	if page < last {
		links = append(links, link(page+1, "next"), link(last, "last"))
	}
	if page > 1 {
		links = append(links, link(1, "first"), link(page-1, "prev"))
	}
	if len(links) > 0 {
		w.Header().Set("Link", strings.Join(links, ", "))
	}
	WriteJSON(w, http.StatusOK, out)
}

// WriteJSON writes v as a JSON reply, for Handle routes.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
