package ratelimit

import (
	"context"
	"sync"
	"time"

	"github.com/hashicorp/golang-lru/v2/simplelru"
)

// DefaultMemoryKeys bounds the keys an in-process limiter tracks. A key
// evicted under pressure loses its state, which only ever lets its caller
// through sooner; 100k keys cost a few MiB.
const DefaultMemoryKeys = 100_000

// Memory is an in-process GCRA limiter: the same algorithm and answers as
// the Redis store, for one process.
type Memory struct {
	now func() time.Time
	mu  sync.Mutex
	tat *simplelru.LRU[string, time.Time] // theoretical arrival time per key
}

// NewMemory returns a limiter tracking at most maxKeys keys (0: the
// default); now is the clock (nil: time.Now).
func NewMemory(maxKeys int, now func() time.Time) *Memory {
	if maxKeys <= 0 {
		maxKeys = DefaultMemoryKeys
	}
	if now == nil {
		now = time.Now
	}
	lru, _ := simplelru.NewLRU[string, time.Time](maxKeys, nil) // errors only for size <= 0
	return &Memory{now: now, tat: lru}
}

var _ Store = (*Memory)(nil)

// Allow implements Store. It never fails.
func (m *Memory) Allow(_ context.Context, key string, l Limit) (Result, error) {
	if r, ok := allowAll(l); ok {
		return r, nil
	}
	interval := l.interval()
	burst := time.Duration(l.Burst) * interval
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	tat, ok := m.tat.Get(key)
	if !ok || tat.Before(now) {
		tat = now
	}
	next := tat.Add(interval)
	// The request fits if, after it, the bucket is no further ahead of now
	// than the burst allows.
	slack := now.Sub(next.Add(-burst))
	if slack < 0 {
		return Result{RetryAfter: -slack}, nil
	}
	m.tat.Add(key, next)
	return Result{Allowed: true, Remaining: int(slack / interval)}, nil
}
