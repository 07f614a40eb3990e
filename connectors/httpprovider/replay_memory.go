package httpprovider

import (
	"context"
	"sync"
	"time"
)

// ReplayCache remembers the signatures of accepted requests so that the same
// request sent again within the window is refused.
type ReplayCache interface {
	// Add records a request's MAC and reports whether it was new. An error
	// means the cache could not tell; the verifier then refuses the request
	// (fails closed) with ErrReplayUnavailable.
	Add(ctx context.Context, mac []byte) (fresh bool, err error)
}

// replayTTL is how long a signature must be remembered: a timestamp may be
// up to one window in the future and is accepted until one window in the
// past, so a signature stays acceptable for up to two windows after it is
// first seen.
func replayTTL(window time.Duration) time.Duration { return 2 * window }

// MemoryReplayCache is a ReplayCache for one process: a provider behind a
// single instance, or a gateway without Redis. It remembers signatures for at
// least one rotation period using two generations of maps: a lookup checks
// both, and every period the older one is dropped. That bounds memory by two
// periods of traffic without a sweep over every entry.
type MemoryReplayCache struct {
	mu       sync.Mutex
	now      func() time.Time
	period   time.Duration
	started  time.Time
	cur, old map[[16]byte]struct{}
}

var _ ReplayCache = (*MemoryReplayCache)(nil)

// NewMemoryReplayCache remembers signatures of requests accepted within
// window (DefaultReplayWindow when not positive). now may be nil (time.Now).
func NewMemoryReplayCache(window time.Duration, now func() time.Time) *MemoryReplayCache {
	if window <= 0 {
		window = DefaultReplayWindow
	}
	if now == nil {
		now = time.Now
	}
	return &MemoryReplayCache{now: now, period: replayTTL(window), cur: map[[16]byte]struct{}{}, old: map[[16]byte]struct{}{}}
}

// Add records mac and reports whether it was new; it never fails. Only the
// first 16 bytes of the MAC are kept: enough to make an accidental collision
// impossible in practice, half the memory of the full sum.
func (c *MemoryReplayCache) Add(_ context.Context, mac []byte) (bool, error) {
	var k [16]byte
	copy(k[:], mac)
	now := c.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.started.IsZero() {
		c.started = now
	}
	if now.Sub(c.started) >= c.period {
		c.old, c.cur = c.cur, map[[16]byte]struct{}{}
		if now.Sub(c.started) >= 2*c.period {
			c.old = map[[16]byte]struct{}{}
		}
		c.started = now
	}
	if _, ok := c.cur[k]; ok {
		return false, nil
	}
	if _, ok := c.old[k]; ok {
		return false, nil
	}
	c.cur[k] = struct{}{}
	return true, nil
}
