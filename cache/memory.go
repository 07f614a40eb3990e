package cache

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/hashicorp/golang-lru/v2/simplelru"
)

var (
	_ Cache    = (*Memory)(nil)
	_ Memoizer = (*Memory)(nil)
)

// Memory is a bounded in-process LRU cache with per-entry expiry. Expired entries are dropped when read or evicted
// by newer ones. It is safe for concurrent use; its methods never return an error other than ErrInvalidTTL.
type Memory struct {
	now   func() time.Time
	stats counters

	// A plain LRU under one mutex (rather than golang-lru's locking wrapper) so a batch takes the lock once and an
	// expired entry can be removed without racing a concurrent overwrite.
	mu  sync.Mutex
	lru *simplelru.LRU[string, memoryEntry]
}

type memoryEntry struct {
	value                 []byte
	decoded               any // see Memoize
	freshUntil, keepUntil time.Time
}

// NewMemory returns a cache holding at most size entries. It panics if size < 1, like make with a negative length:
// the size is wiring, not input. Options used: WithClock.
func NewMemory(size int, opts ...Option) *Memory {
	cfg := newConfig(opts)
	lru, err := simplelru.NewLRU[string, memoryEntry](size, nil)
	if err != nil {
		panic(fmt.Sprintf("cache: NewMemory(%d): %v", size, err))
	}
	return &Memory{now: cfg.now, lru: lru}
}

// GetMany implements Cache.
func (m *Memory) GetMany(_ context.Context, keys []string) ([]Entry, error) {
	entries := make([]Entry, len(keys))
	now := m.now()
	m.mu.Lock()
	for i, k := range keys {
		e, ok := m.lru.Get(k)
		if !ok {
			continue
		}
		if !now.Before(e.keepUntil) {
			m.lru.Remove(k)
			continue
		}
		entries[i] = Entry{Value: e.value, Found: true, Stale: !now.Before(e.freshUntil), Decoded: e.decoded}
	}
	m.mu.Unlock()
	m.stats.count(entries)
	return entries, nil
}

// SetMany implements Cache. Values are copied, so the caller may reuse its buffers.
func (m *Memory) SetMany(_ context.Context, items []Item) error {
	if err := validate(items); err != nil {
		return err
	}
	m.setFrom(m.now(), items)
	return nil
}

// setFrom stores valid items with their TTL counted from now, which may be in the past: Tiered counts an L1 copy's
// life from when it asked L2, so the time spent since (waiting for the lock included) does not lengthen it.
func (m *Memory) setFrom(now time.Time, items []Item) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, it := range items {
		freshUntil := now.Add(it.TTL)
		m.lru.Add(it.Key, memoryEntry{
			value:      append([]byte{}, it.Value...),
			freshUntil: freshUntil,
			keepUntil:  freshUntil.Add(it.Grace),
		})
	}
}

// Memoize implements Memoizer. The entry keeps its place in the LRU order and its expiry.
func (m *Memory) Memoize(key string, value []byte, decoded any) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.lru.Peek(key)
	if !ok || !sameBytes(e.value, value) {
		return
	}
	e.decoded = decoded
	m.lru.Add(key, e) // replaces the entry in place (and marks it used, as the read that decoded it did)
}

// sameBytes reports whether a and b are the same slice of the same array, not merely equal bytes: the entry still
// holds what the caller read.
func sameBytes(a, b []byte) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0])
}

// DeleteMany implements Cache.
func (m *Memory) DeleteMany(_ context.Context, keys []string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, k := range keys {
		m.lru.Remove(k)
	}
	return nil
}

// Purge removes every entry.
func (m *Memory) Purge() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.lru.Purge()
}

// Stats returns hit, miss and stale totals (Errors and Bypassed stay zero).
func (m *Memory) Stats() Stats { return m.stats.snapshot() }
