package cache

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/hashicorp/golang-lru/v2/simplelru"
)

var _ Cache = (*Memory)(nil)

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
		entries[i] = Entry{Value: e.value, Found: true, Stale: !now.Before(e.freshUntil)}
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
