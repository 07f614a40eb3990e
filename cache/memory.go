package cache

import (
	"bytes"
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
	entries, _ := m.lookup(keys, 0, false)
	return entries, nil
}

// lookup is GetMany that also returns the indexes of the fresh entries whose fresh period ends within soon (none when
// soon is 0): Tiered refreshes those from L2 before they expire.
//
// With keepExpired (Tiered's L1, whose copies have no grace), an expired entry is a miss but stays in the LRU until it
// is replaced, deleted or evicted: the fill of the same bytes from L2 that replaces it then keeps the decoded form a
// reader left with it (setFrom). Otherwise a copy expiring under load (its refresh late on a saturated core) made
// every request then in flight decode each of its entities again.
func (m *Memory) lookup(keys []string, soon time.Duration, keepExpired bool) ([]Entry, []int) {
	entries := make([]Entry, len(keys))
	var due []int
	now := m.now()
	m.mu.Lock()
	for i, k := range keys {
		e, ok := m.lru.Get(k)
		if !ok {
			continue
		}
		if !now.Before(e.keepUntil) {
			if !keepExpired {
				m.lru.Remove(k)
			}
			continue
		}
		fresh := now.Before(e.freshUntil)
		entries[i] = Entry{Value: e.value, Found: true, Stale: !fresh, Decoded: e.decoded}
		if fresh && soon > 0 && e.freshUntil.Sub(now) < soon {
			due = append(due, i)
		}
	}
	m.mu.Unlock()
	m.stats.count(entries)
	return entries, due
}

// SetMany implements Cache. Values are copied, so the caller may reuse its buffers.
func (m *Memory) SetMany(_ context.Context, items []Item) error {
	if err := validate(items); err != nil {
		return err
	}
	m.setFrom(m.now(), items, false, nil)
	return nil
}

// setFrom stores valid items with their TTL counted from now, which may be in the past: Tiered counts an L1 copy's
// life from when it asked L2, so the time spent since (waiting for the lock included) does not lengthen it.
//
// With fromL2 (Tiered filling L1 from an L2 read), the items' values are the bytes that read returned, which no one
// modifies (Cache.GetMany), so they are kept without a copy; and an entry that stays fresh longer than an item would
// is kept: a copy from a later read of L2 (Tiered's refreshes may overlap and return out of order). If held is not
// nil (len(items) long), held[i] receives what items[i]'s key holds afterwards, with the decoded form left with it:
// the reader that filled L1 is served L1's copy, on which its own decoding can be memoized.
func (m *Memory) setFrom(now time.Time, items []Item, fromL2 bool, held []Entry) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i, it := range items {
		freshUntil := now.Add(it.TTL)
		e := memoryEntry{freshUntil: freshUntil, keepUntil: freshUntil.Add(it.Grace)}
		old, ok := m.lru.Peek(it.Key)
		switch {
		case ok && fromL2 && old.freshUntil.After(freshUntil):
			e = old
		case ok && bytes.Equal(old.value, it.Value):
			// The same bytes again (Tiered refreshing its L1 copy from an unchanged L2 value, or replacing an
			// expired copy with it): keep the entry's copy and the decoded form a reader left with it, which is the
			// decoded form of these bytes too. Otherwise every refresh made the next readers decode again.
			e.value, e.decoded = old.value, old.decoded
			m.lru.Add(it.Key, e)
		case fromL2:
			e.value = it.Value
			m.lru.Add(it.Key, e)
		default:
			e.value = append([]byte{}, it.Value...)
			m.lru.Add(it.Key, e)
		}
		if held != nil {
			held[i] = Entry{Value: e.value, Found: true, Decoded: e.decoded}
		}
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
