package ghclient

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-github/v60/github"
)

const testToken = "ghs_16C7e42F292c6912E7710c838347Ae178B4a"

// clock is a fake clock that only moves when slept on, recording sleeps.
type clock struct {
	mu     sync.Mutex
	now    time.Time
	sleeps []time.Duration
}

func newClock() *clock { return &clock{now: time.Unix(1_700_000_000, 0)} }

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *clock) Sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sleeps = append(c.sleeps, d)
	c.now = c.now.Add(d)
	return ctx.Err()
}

func (c *clock) slept() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.sleeps...)
}

// server is a fake GitHub REST API under /api/v3 that answers the routes it
// is given, in order per route, and fails the test on any other.
type server struct {
	t      *testing.T
	srv    *httptest.Server
	mu     sync.Mutex
	routes map[string][]http.HandlerFunc
	calls  map[string]int
}

func newServer(t *testing.T) *server {
	s := &server{t: t, routes: map[string][]http.HandlerFunc{}, calls: map[string]int{}}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key := r.Method + " " + r.URL.Path
		s.mu.Lock()
		hs := s.routes[key]
		n := s.calls[key]
		s.calls[key]++
		s.mu.Unlock()
		if len(hs) == 0 {
			t.Errorf("unexpected request %s", key)
			http.Error(w, `{"message":"Not Found"}`, http.StatusNotFound)
			return
		}
		hs[min(n, len(hs)-1)](w, r)
	}))
	t.Cleanup(s.srv.Close)
	return s
}

// on answers the i-th request to method path with the i-th handler (the
// last one repeats).
func (s *server) on(method, path string, hs ...http.HandlerFunc) {
	s.routes[method+" /api/v3"+path] = hs
}

func (s *server) count(method, path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[method+" /api/v3"+path]
}

func (s *server) client(t *testing.T, c *clock, p Policy) *github.Client {
	t.Helper()
	p.Sleep, p.Now = c.Sleep, c.Now
	gc, err := New(Options{APIURL: s.srv.URL + "/api/v3/", Token: testToken, HTTPClient: s.srv.Client(), Policy: p})
	if err != nil {
		t.Fatal(err)
	}
	return gc
}

func reply(code int, header map[string]string, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		for k, v := range header {
			w.Header().Set(k, v)
		}
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(code)
		io.WriteString(w, body)
	}
}

const (
	repoJSON     = `{"id":1296269,"name":"Hello-World","full_name":"octocat/Hello-World"}`
	commentJSON  = `{"id":1,"body":"hi","html_url":"https://github.com/octocat/Hello-World/issues/1#issuecomment-1"}`
	badGateway   = "<html><body><h1>502 Bad Gateway</h1></body></html>"
	secondaryMsg = `{"message":"You have exceeded a secondary rate limit. Please wait a few minutes before you try again.","documentation_url":"https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits"}`
)

func TestStalledRequestIsDroppedAndRetried(t *testing.T) {
	for _, stall := range []string{"before the headers", "in the body"} {
		t.Run(stall, func(t *testing.T) {
			s := newServer(t)
			stalled := func(w http.ResponseWriter, r *http.Request) {
				if stall == "in the body" {
					w.Header().Set("Content-Type", "application/json")
					w.WriteHeader(http.StatusOK)
					io.WriteString(w, `{"id":1296269,`)
					w.(http.Flusher).Flush()
				}
				<-r.Context().Done() // until the client gives up on it
			}
			s.on("GET", "/repos/octocat/Hello-World", stalled, reply(http.StatusOK, nil, repoJSON))
			c := newClock()
			// A short deadline so the test does not sit out the default.
			gc := s.client(t, c, Policy{Timeout: 200 * time.Millisecond})
			repo, _, err := gc.Repositories.Get(context.Background(), "octocat", "Hello-World")
			if stall == "in the body" {
				// The reply had begun: the caller sees the broken body,
				// and its next call succeeds instead of hanging.
				if err == nil {
					t.Fatalf("a body cut by the deadline decoded: %+v", repo)
				}
				repo, _, err = gc.Repositories.Get(context.Background(), "octocat", "Hello-World")
			}
			if err != nil {
				t.Fatal(err)
			}
			if repo.GetFullName() != "octocat/Hello-World" {
				t.Errorf("repo = %q", repo.GetFullName())
			}
			if got := s.count("GET", "/repos/octocat/Hello-World"); got != 2 {
				t.Errorf("%d requests, want 2 (the stalled one and its retry)", got)
			}
		})
	}
}

func TestRetriesServerHiccupsWithBackoff(t *testing.T) {
	s := newServer(t)
	bad := reply(http.StatusBadGateway, nil, badGateway)
	s.on("GET", "/repos/octocat/Hello-World", bad, reply(http.StatusServiceUnavailable, nil, "{}"), reply(http.StatusGatewayTimeout, nil, "{}"), reply(http.StatusOK, nil, repoJSON))
	c := newClock()
	var logged []string
	gc := s.client(t, c, Policy{Logf: func(f string, a ...any) { logged = append(logged, fmt.Sprintf(f, a...)) }})
	if _, _, err := gc.Repositories.Get(context.Background(), "octocat", "Hello-World"); err != nil {
		t.Fatal(err)
	}
	want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second}
	if got := c.slept(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("slept %v, want %v", got, want)
	}
	if len(logged) != 3 || !strings.Contains(logged[0], "GitHub answered 502") || strings.Contains(strings.Join(logged, "\n"), testToken) {
		t.Errorf("log = %q, want three retries noted without the token", logged)
	}
}

func TestGivesUpAfterTheAttempts(t *testing.T) {
	s := newServer(t)
	s.on("POST", "/repos/octocat/Hello-World/issues/1/comments", reply(http.StatusBadGateway, nil, badGateway))
	c := newClock()
	gc := s.client(t, c, Policy{})
	_, _, err := gc.Issues.CreateComment(context.Background(), "octocat", "Hello-World", 1, &github.IssueComment{Body: github.String("hi")})
	if err == nil || !strings.Contains(err.Error(), "gave up after 5 tries") || StatusOf(err) != http.StatusBadGateway {
		t.Fatalf("err = %v (status %d), want giving up after 5 tries on a 502", err, StatusOf(err))
	}
	if got := s.count("POST", "/repos/octocat/Hello-World/issues/1/comments"); got != DefaultAttempts {
		t.Errorf("%d attempts, want %d", got, DefaultAttempts)
	}
}

func TestSitsOutRateLimits(t *testing.T) {
	c := newClock()
	reset := fmt.Sprint(c.Now().Add(42 * time.Second).Unix())
	for _, tt := range []struct {
		name  string
		first http.HandlerFunc
		wait  time.Duration
	}{
		{"secondary limit with Retry-After", reply(http.StatusForbidden, map[string]string{"Retry-After": "7"}, secondaryMsg), 7 * time.Second},
		{"secondary limit with Retry-After 0", reply(http.StatusForbidden, map[string]string{"Retry-After": "0"}, secondaryMsg), time.Second},
		{"429 with Retry-After", reply(http.StatusTooManyRequests, map[string]string{"Retry-After": "3"}, `{"message":"API rate limit exceeded"}`), 3 * time.Second},
		{"secondary limit naming no time", reply(http.StatusForbidden, nil, secondaryMsg), time.Minute},
		{"primary limit until x-ratelimit-reset", reply(http.StatusForbidden, map[string]string{"X-Ratelimit-Remaining": "0", "X-Ratelimit-Reset": reset, "X-Ratelimit-Limit": "5000"}, `{"message":"API rate limit exceeded for installation ID 1."}`), 42 * time.Second},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t)
			s.on("GET", "/repos/octocat/Hello-World", tt.first, reply(http.StatusOK, nil, repoJSON))
			c := newClock()
			gc := s.client(t, c, Policy{})
			if _, _, err := gc.Repositories.Get(context.Background(), "octocat", "Hello-World"); err != nil {
				t.Fatal(err)
			}
			if got := c.slept(); len(got) != 1 || got[0] != tt.wait {
				t.Errorf("slept %v, want one %v wait", got, tt.wait)
			}
		})
	}
}

func TestDoesNotRetryAnswers(t *testing.T) {
	c := newClock()
	far := fmt.Sprint(c.Now().Add(time.Hour).Unix())
	for _, tt := range []struct {
		name  string
		reply http.HandlerFunc
		check func(error) bool
	}{
		{"a 403 that denies permission", reply(http.StatusForbidden, nil, `{"message":"Resource not accessible by integration"}`),
			func(err error) bool {
				var er *github.ErrorResponse
				return errors.As(err, &er) && er.Response.StatusCode == 403
			}},
		{"a 404", reply(http.StatusNotFound, nil, `{"message":"Not Found"}`),
			func(err error) bool {
				var er *github.ErrorResponse
				return errors.As(err, &er) && er.Response.StatusCode == 404
			}},
		{"a primary limit spent for an hour", reply(http.StatusForbidden, map[string]string{"X-Ratelimit-Remaining": "0", "X-Ratelimit-Reset": far, "X-Ratelimit-Limit": "5000"}, `{"message":"API rate limit exceeded for installation ID 1."}`),
			func(err error) bool { var rl *github.RateLimitError; return errors.As(err, &rl) }},
		{"a Retry-After beyond the longest wait", reply(http.StatusForbidden, map[string]string{"Retry-After": "3600"}, secondaryMsg),
			func(err error) bool { var ab *github.AbuseRateLimitError; return errors.As(err, &ab) }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t)
			s.on("GET", "/repos/octocat/Hello-World", tt.reply)
			c := newClock()
			gc := s.client(t, c, Policy{})
			_, _, err := gc.Repositories.Get(context.Background(), "octocat", "Hello-World")
			if err == nil || !tt.check(err) {
				t.Errorf("err = %v (%T), want go-github's own error for the reply", err, err)
			}
			if n := s.count("GET", "/repos/octocat/Hello-World"); n != 1 || len(c.slept()) != 0 {
				t.Errorf("%d requests, slept %v; want one request and no wait", n, c.slept())
			}
		})
	}
}

func TestSpacesMutationsButNotReadsOrGraphQL(t *testing.T) {
	s := newServer(t)
	s.on("POST", "/repos/octocat/Hello-World/issues/1/comments", reply(http.StatusCreated, nil, commentJSON))
	s.on("PATCH", "/repos/octocat/Hello-World/issues/comments/1", reply(http.StatusOK, nil, commentJSON))
	s.on("GET", "/repos/octocat/Hello-World", reply(http.StatusOK, nil, repoJSON))
	s.routes["POST /api/graphql"] = []http.HandlerFunc{reply(http.StatusOK, nil, `{"data":{}}`)}
	c := newClock()
	gc := s.client(t, c, Policy{})
	ctx := context.Background()
	body := &github.IssueComment{Body: github.String("hi")}
	if _, _, err := gc.Issues.CreateComment(ctx, "octocat", "Hello-World", 1, body); err != nil {
		t.Fatal(err)
	}
	if _, _, err := gc.Repositories.Get(ctx, "octocat", "Hello-World"); err != nil {
		t.Fatal(err)
	}
	req, err := gc.NewRequest("POST", GraphQLURL(s.srv.URL+"/api/v3"), map[string]string{"query": "{viewer{login}}"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := gc.Do(ctx, req, nil); err != nil {
		t.Fatal(err)
	}
	if got := c.slept(); len(got) != 0 {
		t.Errorf("slept %v before any second mutation", got)
	}
	if _, _, err := gc.Issues.EditComment(ctx, "octocat", "Hello-World", 1, body); err != nil {
		t.Fatal(err)
	}
	if _, _, err := gc.Issues.EditComment(ctx, "octocat", "Hello-World", 1, body); err != nil {
		t.Fatal(err)
	}
	if got := c.slept(); fmt.Sprint(got) != fmt.Sprint([]time.Duration{DefaultMutationGap, DefaultMutationGap}) {
		t.Errorf("slept %v, want a %v gap before each of the two later mutations", got, DefaultMutationGap)
	}
}

func TestRetriedMutationResendsItsBody(t *testing.T) {
	s := newServer(t)
	var bodies []string
	var mu sync.Mutex
	record := func(next http.HandlerFunc) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			b, _ := io.ReadAll(r.Body)
			mu.Lock()
			bodies = append(bodies, string(b))
			mu.Unlock()
			next(w, r)
		}
	}
	s.on("POST", "/repos/octocat/Hello-World/issues/1/comments",
		record(reply(http.StatusBadGateway, nil, badGateway)), record(reply(http.StatusCreated, nil, commentJSON)))
	c := newClock()
	gc := s.client(t, c, Policy{})
	if _, _, err := gc.Issues.CreateComment(context.Background(), "octocat", "Hello-World", 1, &github.IssueComment{Body: github.String("hello")}); err != nil {
		t.Fatal(err)
	}
	if len(bodies) != 2 || bodies[0] != bodies[1] || !strings.Contains(bodies[1], "hello") {
		t.Errorf("bodies = %q, want the same body twice", bodies)
	}
}

func TestCanceledContextStopsRetrying(t *testing.T) {
	s := newServer(t)
	s.on("GET", "/repos/octocat/Hello-World", reply(http.StatusBadGateway, nil, badGateway))
	ctx, cancel := context.WithCancel(context.Background())
	p := Policy{Sleep: func(context.Context, time.Duration) error { cancel(); return context.Canceled }}
	gc, err := New(Options{APIURL: s.srv.URL + "/api/v3/", HTTPClient: s.srv.Client(), Policy: p})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := gc.Repositories.Get(ctx, "octocat", "Hello-World"); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
	if n := s.count("GET", "/repos/octocat/Hello-World"); n != 1 {
		t.Errorf("%d requests after the cancel, want 1", n)
	}
}

func TestGraphQLMutationsAreSpacedButQueriesAreNot(t *testing.T) {
	tests := []struct {
		body string
		want bool
	}{
		{`{"query":"query($o: String!) { repository(owner: $o) { id } }"}`, false},
		{`{"query":"{ viewer { login } }"}`, false},
		{`{"query":"mutation($id: ID!) { resolveReviewThread(input: {threadId: $id}) { thread { id } } }"}`, true},
		{`not json`, true},
	}
	for _, tt := range tests {
		req, err := http.NewRequest(http.MethodPost, "https://api.github.com/graphql", strings.NewReader(tt.body))
		if err != nil {
			t.Fatal(err)
		}
		if got := isMutation(req); got != tt.want {
			t.Errorf("isMutation(%s) = %v, want %v", tt.body, got, tt.want)
		}
	}
}
