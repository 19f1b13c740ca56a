package ghclient

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Policy defaults.
const (
	// DefaultAttempts is the tries of one request, the first included.
	DefaultAttempts = 5
	// DefaultTimeout bounds one attempt, from sending the request to
	// closing the reply's body: a stalled connection is dropped and retried
	// instead of hanging to the job's time limit.
	DefaultTimeout = time.Minute
	// DefaultMaxWait is the longest single wait for a rate limit; a longer
	// one is not sat out and the limit's reply is returned.
	DefaultMaxWait = 5 * time.Minute
	// DefaultMutationGap separates content-creating requests, as GitHub
	// asks of them.
	DefaultMutationGap = time.Second
	// secondaryWait is the wait for a secondary rate limit that names none:
	// GitHub's documentation says at least a minute.
	secondaryWait = time.Minute
	// maxErrorBody is how much of a retried reply's body is kept.
	maxErrorBody = 64 << 10
)

// Policy bounds, spaces and retries the requests of one Transport. Zero
// fields take the defaults above; Sleep and Now are for tests.
type Policy struct {
	// Attempts is the tries of one request, the first included.
	Attempts int
	// Timeout bounds each attempt.
	Timeout time.Duration
	// MaxWait is the longest rate-limit wait sat out.
	MaxWait time.Duration
	// MutationGap is the least time between the starts of two mutations.
	MutationGap time.Duration
	// Sleep waits d or until ctx ends; nil waits on a timer.
	Sleep func(ctx context.Context, d time.Duration) error
	// Now is the clock the mutation gap is measured on; nil is time.Now.
	Now func() time.Time
	// Logf hears of each retry (never a token or a query string); nil
	// discards.
	Logf func(format string, args ...any)
}

// Transport is an http.RoundTripper for the GitHub API. Each attempt has
// Policy.Timeout to answer and deliver its body. It retries, with backoff
// of 1, 2, 4, 8 s (at most 30 s), 502, 503 and 504 replies and transport
// errors (a timed-out attempt included); it sits out rate limits for as
// long as GitHub says — Retry-After, or x-ratelimit-reset when
// x-ratelimit-remaining is 0 (the primary limit), or a minute for a
// secondary limit that names no time — up to Policy.MaxWait. Mutations (any
// method but GET, HEAD and OPTIONS; for GraphQL, mutations but not queries)
// are made one at a time, at least Policy.MutationGap apart. A request whose
// body cannot be rewound is tried once.
type Transport struct {
	base http.RoundTripper
	p    Policy

	// mutating serialises mutations; last is when the latest one was sent
	// (when mutated).
	mutating sync.Mutex
	mutated  bool
	last     time.Time
}

// NewTransport wraps base (nil is http.DefaultTransport) in the policy.
func NewTransport(base http.RoundTripper, p Policy) *Transport {
	if base == nil {
		base = http.DefaultTransport
	}
	if p.Attempts <= 0 {
		p.Attempts = DefaultAttempts
	}
	if p.Timeout <= 0 {
		p.Timeout = DefaultTimeout
	}
	if p.MaxWait <= 0 {
		p.MaxWait = DefaultMaxWait
	}
	if p.MutationGap <= 0 {
		p.MutationGap = DefaultMutationGap
	}
	if p.Sleep == nil {
		p.Sleep = sleep
	}
	if p.Now == nil {
		p.Now = time.Now
	}
	return &Transport{base: base, p: p}
}

// GaveUpError is the error of a request still failing after every attempt.
type GaveUpError struct {
	// Attempts is how many tries were made.
	Attempts int
	// Status is the last reply's HTTP status, 0 after a transport error.
	Status int
	// Err is the last transport error, nil after a reply.
	Err error
}

func (e *GaveUpError) Error() string {
	if e.Status != 0 {
		return fmt.Sprintf("gave up after %d tries: GitHub answered %d %s", e.Attempts, e.Status, http.StatusText(e.Status))
	}
	return fmt.Sprintf("gave up after %d tries: %v", e.Attempts, e.Err)
}

func (e *GaveUpError) Unwrap() error { return e.Err }

// StatusOf is the HTTP status a GaveUpError in err's chain ended on, or 0.
func StatusOf(err error) int {
	var g *GaveUpError
	if errors.As(err, &g) {
		return g.Status
	}
	return 0
}

// RoundTrip sends req under the policy.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	mutation := isMutation(req)
	if mutation {
		t.mutating.Lock()
		defer t.mutating.Unlock()
	}
	ctx := req.Context()
	what := req.Method + " " + req.URL.Path
	for attempt := 1; ; attempt++ {
		if mutation {
			if err := t.space(ctx); err != nil {
				return nil, err
			}
		}
		resp, err := t.try(req, attempt)
		if ctx.Err() != nil {
			if resp != nil {
				resp.Body.Close()
			}
			return nil, ctx.Err()
		}
		var wait time.Duration
		var why string
		switch {
		case err != nil:
			if errors.Is(err, errNoRewind) {
				return nil, fmt.Errorf("%s: the request body cannot be sent again", what)
			}
			wait, why = backoff(attempt), err.Error()
		default:
			var retry bool
			wait, retry, why = t.decide(resp)
			if wait == 0 {
				wait = backoff(attempt)
			}
			if !retry {
				if why != "" {
					t.logf("%s: %s", what, why)
				}
				return resp, nil
			}
		}
		if attempt >= t.p.Attempts || (err == nil && req.Body != nil && req.Body != http.NoBody && req.GetBody == nil) {
			if resp != nil {
				resp.Body.Close()
				return nil, &GaveUpError{Attempts: attempt, Status: resp.StatusCode}
			}
			return nil, &GaveUpError{Attempts: attempt, Err: err}
		}
		if resp != nil {
			resp.Body.Close()
		}
		t.logf("%s: %s; retrying in %v (attempt %d of %d)", what, why, wait, attempt+1, t.p.Attempts)
		if err := t.p.Sleep(ctx, wait); err != nil {
			return nil, err
		}
	}
}

var errNoRewind = errors.New("request body cannot be rewound")

// try makes one attempt under its own deadline. A reply worth a retry comes
// with its body read (and the attempt's deadline released); any other reply
// keeps the deadline until its body is closed.
func (t *Transport) try(req *http.Request, attempt int) (*http.Response, error) {
	ctx, cancel := context.WithTimeout(req.Context(), t.p.Timeout)
	r := req.Clone(ctx)
	if attempt > 1 && req.Body != nil && req.Body != http.NoBody {
		if req.GetBody == nil {
			cancel()
			return nil, errNoRewind
		}
		b, err := req.GetBody()
		if err != nil {
			cancel()
			return nil, errNoRewind
		}
		r.Body = b
	}
	resp, err := t.base.RoundTrip(r)
	if err != nil {
		cancel()
		if ctx.Err() == context.DeadlineExceeded && req.Context().Err() == nil {
			return nil, fmt.Errorf("no reply within %v", t.p.Timeout)
		}
		return nil, err
	}
	if retryable(resp.StatusCode) {
		b, rerr := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
		resp.Body.Close()
		cancel()
		if rerr != nil && req.Context().Err() == nil {
			return nil, fmt.Errorf("reading the %d reply: %w", resp.StatusCode, rerr)
		}
		resp.Body = io.NopCloser(bytes.NewReader(b))
		resp.ContentLength = int64(len(b))
		return resp, nil
	}
	resp.Body = &cancelBody{ReadCloser: resp.Body, cancel: cancel}
	return resp, nil
}

// retryable is whether a status may be worth another try; decide says.
func retryable(code int) bool {
	switch code {
	case http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout,
		http.StatusForbidden, http.StatusTooManyRequests:
		return true
	}
	return false
}

// decide says whether resp is retried and after how long; why is for the
// log (also when a rate limit is not sat out).
func (t *Transport) decide(resp *http.Response) (wait time.Duration, retry bool, why string) {
	code := resp.StatusCode
	switch code {
	case http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return 0, true, fmt.Sprintf("GitHub answered %d", code)
	case http.StatusForbidden, http.StatusTooManyRequests:
	default:
		return 0, false, ""
	}
	h := resp.Header
	switch {
	case h.Get("Retry-After") != "":
		s, err := strconv.Atoi(strings.TrimSpace(h.Get("Retry-After")))
		if err != nil || s < 0 {
			s = int(secondaryWait / time.Second)
		}
		wait, why = time.Duration(s)*time.Second, "rate limited by GitHub (Retry-After)"
	case h.Get("X-Ratelimit-Remaining") == "0" && h.Get("X-Ratelimit-Reset") != "":
		reset, err := strconv.ParseInt(strings.TrimSpace(h.Get("X-Ratelimit-Reset")), 10, 64)
		if err != nil {
			return 0, false, ""
		}
		wait, why = time.Unix(reset, 0).Sub(t.p.Now()), "rate limited by GitHub (the primary limit is spent)"
	case code == http.StatusTooManyRequests || secondaryBody(resp):
		wait, why = secondaryWait, "rate limited by GitHub (secondary limit)"
	default:
		return 0, false, "" // a 403 that is an answer: no permission
	}
	if wait > t.p.MaxWait {
		return 0, false, fmt.Sprintf("%s: GitHub asks to wait %v, longer than the %v deep-review waits", why, wait.Round(time.Second), t.p.MaxWait)
	}
	return max(wait, time.Second), true, why
}

// secondaryBody reports whether a buffered reply says it is a secondary
// rate limit (GitHub's 403 sometimes carries no header saying so).
func secondaryBody(resp *http.Response) bool {
	b, _ := io.ReadAll(resp.Body)
	resp.Body = io.NopCloser(bytes.NewReader(b))
	return bytes.Contains(bytes.ToLower(b), []byte("secondary rate limit"))
}

// space waits until MutationGap has passed since the last mutation and
// marks this one; the caller holds t.mutating.
func (t *Transport) space(ctx context.Context) error {
	if t.mutated {
		if d := t.p.MutationGap - t.p.Now().Sub(t.last); d > 0 {
			if err := t.p.Sleep(ctx, d); err != nil {
				return err
			}
		}
	}
	t.mutated, t.last = true, t.p.Now()
	return nil
}

func (t *Transport) logf(format string, args ...any) {
	if t.p.Logf != nil {
		t.p.Logf(format, args...)
	}
}

// isMutation reports whether req may create or change content on GitHub.
func isMutation(req *http.Request) bool {
	switch req.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return false
	case http.MethodPost:
		if strings.HasSuffix(req.URL.Path, "/graphql") {
			return graphQLMutation(req)
		}
	}
	return true
}

// graphQLMutation reports whether a GraphQL request's operation is a
// mutation (a reply, a resolution) rather than a query; a body it cannot
// read again counts as a mutation, the safe side.
func graphQLMutation(req *http.Request) bool {
	if req.GetBody == nil {
		return true
	}
	body, err := req.GetBody()
	if err != nil {
		return true
	}
	defer body.Close()
	var op struct {
		Query string `json:"query"`
	}
	if err := json.NewDecoder(io.LimitReader(body, 1<<20)).Decode(&op); err != nil {
		return true
	}
	q := strings.TrimSpace(op.Query)
	return !strings.HasPrefix(q, "query") && !strings.HasPrefix(q, "{")
}

// backoff is the wait before retry n (1-based): 1s, 2s, 4s, 8s, capped at
// 30s.
func backoff(n int) time.Duration {
	if n < 1 || n > 5 {
		return 30 * time.Second
	}
	return min(time.Second<<(n-1), 30*time.Second)
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// cancelBody releases an attempt's deadline when its body is closed.
type cancelBody struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (b *cancelBody) Close() error {
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}
