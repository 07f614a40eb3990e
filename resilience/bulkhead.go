package resilience

import (
	"context"
	"time"
)

// bulkhead caps a provider's calls in flight. A nil bulkhead is unlimited.
type bulkhead chan struct{}

func newBulkhead(n int) bulkhead {
	if n <= 0 {
		return nil
	}
	return make(bulkhead, n)
}

// acquire takes a slot, waiting at most wait or until ctx is done, and
// reports whether it got one. Waiting is short on purpose: a caller queued
// behind a slow provider holds a goroutine that the rest of the query needs.
func (b bulkhead) acquire(ctx context.Context, wait time.Duration) bool {
	if b == nil {
		return true
	}
	select {
	case b <- struct{}{}:
		return true
	default:
	}
	if wait <= 0 {
		return false
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case b <- struct{}{}:
		return true
	case <-t.C:
		return false
	case <-ctx.Done():
		return false
	}
}

func (b bulkhead) release() {
	if b != nil {
		<-b
	}
}
