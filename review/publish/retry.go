package publish

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/go-github/v60/github"
)

// Retry bounds.
const (
	// maxAttempts is the tries of one request, the first included.
	maxAttempts = 5
)

// backoff is the wait before retry n (1-based): 1s, 2s, 4s, 8s, capped at 30s.
func backoff(n int) time.Duration {
	d := time.Second << (n - 1)
	if n < 1 || d > 30*time.Second {
		d = 30 * time.Second
	}
	return d
}

// github calls f, wrapping its error with what. The client's transport
// (ghclient) retries, sits out rate limits and spaces mutations; mutation
// says whether f writes, for the reader.
func (r *run) github(ctx context.Context, what string, _ bool, f func(context.Context) error) error {
	err := f(ctx)
	if err == nil {
		return nil
	}
	var rl *github.RateLimitError
	if errors.As(err, &rl) {
		return fmt.Errorf("%s: %w (the token's primary rate limit is spent until %v; wait or use another token)", what, err, rl.Rate.Reset.Time.UTC())
	}
	return fmt.Errorf("%s: %w", what, err)
}
