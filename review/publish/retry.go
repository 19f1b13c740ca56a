package publish

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-github/v60/github"
)

// Retry bounds.
const (
	// maxAttempts is the tries of one request, the first included.
	maxAttempts = 5
	// maxRateWait is the longest single wait for a rate limit; a longer
	// Retry-After gives up instead.
	maxRateWait = 5 * time.Minute
	// defaultSecondaryWait is the wait for a secondary rate limit that
	// names none: GitHub's documentation says at least a minute.
	defaultSecondaryWait = time.Minute
	// mutationGap separates GitHub mutations, as GitHub asks of
	// content-creating requests.
	mutationGap = time.Second
)

// backoff is the wait before retry n (1-based): 1s, 2s, 4s, 8s, capped at 30s.
func backoff(n int) time.Duration {
	d := time.Second << (n - 1)
	if n < 1 || d > 30*time.Second {
		d = 30 * time.Second
	}
	return d
}

// retryAfter parses a Retry-After header given in seconds.
func retryAfter(h http.Header) (time.Duration, bool) {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0, false
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, false
	}
	return time.Duration(n) * time.Second, true
}

// githubRetry decides whether a failed GitHub request is worth another try
// after attempt tries and how long to wait first. A false return comes with
// the reason folded into err.
func githubRetry(err error, attempt int) (time.Duration, bool, error) {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return 0, false, err
	}
	var rl *github.RateLimitError
	if errors.As(err, &rl) {
		return 0, false, fmt.Errorf("%w (the token's primary rate limit is spent until %v; wait or use another token)", err, rl.Rate.Reset.Time.UTC())
	}
	var abuse *github.AbuseRateLimitError
	if errors.As(err, &abuse) {
		d := defaultSecondaryWait
		if abuse.RetryAfter != nil {
			d = *abuse.RetryAfter
		}
		return rateWait(err, d)
	}
	var er *github.ErrorResponse
	if errors.As(err, &er) && er.Response != nil {
		code := er.Response.StatusCode
		switch {
		case code == http.StatusTooManyRequests, code == http.StatusForbidden && er.Response.Header.Get("Retry-After") != "":
			if d, ok := retryAfter(er.Response.Header); ok {
				return rateWait(err, d)
			}
			if code == http.StatusForbidden {
				return 0, false, err
			}
			return backoff(attempt), true, nil
		case code >= 500:
			return backoff(attempt), true, nil
		}
		return 0, false, err
	}
	// A transport error: the request may not have reached GitHub.
	return backoff(attempt), true, nil
}

// rateWait waits d, at least a second, unless d is longer than maxRateWait.
func rateWait(err error, d time.Duration) (time.Duration, bool, error) {
	if d > maxRateWait {
		return 0, false, fmt.Errorf("%w (GitHub asks to wait %v, longer than the %v deep-review waits)", err, d, maxRateWait)
	}
	if d < time.Second {
		d = time.Second
	}
	return d, true, nil
}

// github calls f, retrying rate limits and server errors with backoff up to
// maxAttempts tries. A mutation first waits out the gap since the previous
// mutation, so mutations are serial and spaced.
func (r *run) github(ctx context.Context, what string, mutation bool, f func(context.Context) error) error {
	for attempt := 1; ; attempt++ {
		if mutation && r.mutated && r.sinceMutation < mutationGap {
			if err := r.sleep(ctx, mutationGap-r.sinceMutation); err != nil {
				return fmt.Errorf("%s: %w", what, err)
			}
		}
		if mutation {
			r.mutated, r.sinceMutation = true, 0
		}
		err := f(ctx)
		if err == nil {
			return nil
		}
		wait, retry, why := githubRetry(err, attempt)
		if !retry {
			return fmt.Errorf("%s: %w", what, why)
		}
		if attempt == maxAttempts {
			return fmt.Errorf("%s: gave up after %d tries: %w", what, attempt, err)
		}
		r.logf("%s: %v; retrying in %v", what, err, wait)
		if err := r.sleep(ctx, wait); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
	}
}
