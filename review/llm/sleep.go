package llm

import (
	"context"
	"time"
)

// sleep waits ms milliseconds or until ctx is done.
func sleep(ctx context.Context, ms int64) error {
	t := time.NewTimer(time.Duration(ms) * time.Millisecond)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
