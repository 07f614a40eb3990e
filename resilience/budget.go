package resilience

import (
	"sync"
	"sync/atomic"
	"time"
)

// retryBudget is a provider's token bucket for retries. Every call earns
// ratio tokens (capped at burst), every retry spends one, so over any stretch
// of time retries stay under ratio x calls plus what the floor adds. The
// floor is a second bucket that refills with time at minPerSecond up to one
// second's worth (at least one token), so a provider that has seen little
// traffic can still retry. Tokens are counted in thousandths so the bound is
// exact, not subject to float rounding.
type retryBudget struct {
	perCall int64 // milli-tokens earned per call
	burst   int64 // cap on earned milli-tokens
	earned  atomic.Int64

	mu        sync.Mutex
	floorRate float64 // milli-tokens per nanosecond
	floorCap  int64
	floor     int64
	last      time.Time
}

const milli = 1000

func newRetryBudget(c ProviderConfig, now time.Time) *retryBudget {
	b := &retryBudget{
		perCall: int64(c.RetryRatio * milli),
		burst:   int64(c.RetryBurst * milli),
		last:    now,
	}
	if c.MinRetriesPerSecond > 0 {
		b.floorRate = c.MinRetriesPerSecond * milli / float64(time.Second)
		b.floorCap = max(milli, int64(c.MinRetriesPerSecond*milli))
		b.floor = b.floorCap // a cold provider may retry at once
	}
	return b
}

// deposit records one call.
func (b *retryBudget) deposit() {
	if b.perCall <= 0 {
		return
	}
	for {
		old := b.earned.Load()
		if old >= b.burst {
			return
		}
		if b.earned.CompareAndSwap(old, min(old+b.perCall, b.burst)) {
			return
		}
	}
}

// spend takes one retry token and reports whether there was one.
func (b *retryBudget) spend(now time.Time) bool {
	for {
		old := b.earned.Load()
		if old < milli {
			break
		}
		if b.earned.CompareAndSwap(old, old-milli) {
			return true
		}
	}
	if b.floorCap == 0 {
		return false
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if elapsed := now.Sub(b.last); elapsed > 0 {
		b.floor = min(b.floorCap, b.floor+int64(float64(elapsed)*b.floorRate))
		b.last = now
	}
	if b.floor < milli {
		return false
	}
	b.floor -= milli
	return true
}
