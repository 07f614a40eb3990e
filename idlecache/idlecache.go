// Package idlecache holds per-key runtime state (a provider's circuit
// breaker, a host's connection pool) that is created on a key's first use,
// kept in a bounded LRU and dropped once idle, so the memory it takes
// follows the keys in use, not the number of keys that exist.
//
// An entry is "in use" between Acquire and Release. An entry in use is never
// dropped: a call in flight keeps the state it started with and releases it
// to the same place (a bulkhead slot, a breaker outcome). So the cache may
// hold more than Max entries while more than Max keys are in use at once;
// what bounds those is the concurrency of the callers (admission,
// bulkheads), and the cache shrinks back under Max as they finish.
//
// No goroutine runs per entry or per cache: idle entries are swept by the
// callers of Acquire, at most twice per IdleAfter, starting from the least
// recently used end, so a sweep costs what it drops.
package idlecache

import (
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/golang-lru/v2/simplelru"
)

// DefaultMax is the default bound on entries.
const DefaultMax = 4096

// Config configures a Cache.
type Config[K comparable, V any] struct {
	// New builds the state of a key on its first use. Required.
	New func(K) V
	// Drop, if set, is told about every entry the cache lets go of (evicted
	// past Max, idle, or removed), after the cache's lock is released. An
	// entry still in use when removed with Remove or RemoveIf is dropped
	// too: its callers finish on it.
	Drop func(K, V)
	// Max bounds the entries not in use (default DefaultMax).
	Max int
	// IdleAfter drops an entry not acquired for this long. Zero: entries
	// leave only past Max.
	IdleAfter time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Entry is one key's state. Value is set once, before the entry is shared.
type Entry[V any] struct {
	Value V
	inUse atomic.Int32
	used  atomic.Int64 // unix nanoseconds of the last Acquire
}

// Release ends one use begun by Acquire.
func (e *Entry[V]) Release() { e.inUse.Add(-1) }

// Cache is a bounded, idle-evicting map from K to per-key state. Build it
// with New; it is safe for concurrent use.
type Cache[K comparable, V any] struct {
	cfg Config[K, V]

	mu        sync.Mutex
	lru       *simplelru.LRU[K, *Entry[V]]
	nextSweep int64 // unix nanoseconds
}

// dropped is an entry let go of under the lock, told to Drop after it.
type dropped[K comparable, V any] struct {
	k K
	v V
}

// New returns an empty cache.
func New[K comparable, V any](cfg Config[K, V]) *Cache[K, V] {
	if cfg.Max <= 0 {
		cfg.Max = DefaultMax
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	// The LRU orders entries; the bound is the cache's own (in-use entries
	// are never evicted), so the LRU's is never reached.
	lru, _ := simplelru.NewLRU[K, *Entry[V]](math.MaxInt, nil)
	return &Cache[K, V]{cfg: cfg, lru: lru}
}

// Acquire returns k's entry, creating it on first use, and marks it in use
// until Release. It may drop idle or least recently used entries first.
func (c *Cache[K, V]) Acquire(k K) *Entry[V] {
	now := c.cfg.Now().UnixNano()
	var out []dropped[K, V]
	c.mu.Lock()
	e, ok := c.lru.Get(k)
	if !ok {
		out = c.makeRoom(now, out)
		e = &Entry[V]{Value: c.cfg.New(k)}
		c.lru.Add(k, e)
	}
	e.inUse.Add(1)
	e.used.Store(now)
	if ok && c.cfg.IdleAfter > 0 && now >= c.nextSweep {
		out = c.sweep(now, out) // after e is marked used: it is not idle
	}
	c.mu.Unlock()
	c.drop(out)
	return e
}

// Peek returns k's state if the cache holds it, without creating it or
// counting a use.
func (c *Cache[K, V]) Peek(k K) (V, bool) {
	c.mu.Lock()
	e, ok := c.lru.Peek(k)
	c.mu.Unlock()
	if !ok {
		var zero V
		return zero, false
	}
	return e.Value, true
}

// Len is the number of entries held.
func (c *Cache[K, V]) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Len()
}

// Each calls f on every entry held, under the cache's lock: f must be
// quick and must not call the cache.
func (c *Cache[K, V]) Each(f func(K, V)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, k := range c.lru.Keys() {
		if e, ok := c.lru.Peek(k); ok {
			f(k, e.Value)
		}
	}
}

// RemoveIf drops every entry whose key and state match, in use or not (its
// callers finish on it), e.g. the state of providers whose settings changed.
// It visits every entry: at most Max plus those in use.
func (c *Cache[K, V]) RemoveIf(match func(K, V) bool) {
	var out []dropped[K, V]
	c.mu.Lock()
	for _, k := range c.lru.Keys() {
		if e, ok := c.lru.Peek(k); ok && match(k, e.Value) {
			c.lru.Remove(k)
			out = append(out, dropped[K, V]{k, e.Value})
		}
	}
	c.mu.Unlock()
	c.drop(out)
}

// Remove drops k's entry, in use or not (its callers finish on it), if its
// state matches; a caller that saw stale state drops exactly what it saw,
// not a fresh entry another caller has put in its place.
func (c *Cache[K, V]) Remove(k K, match func(V) bool) {
	var out []dropped[K, V]
	c.mu.Lock()
	if e, ok := c.lru.Peek(k); ok && match(e.Value) {
		c.lru.Remove(k)
		out = append(out, dropped[K, V]{k, e.Value})
	}
	c.mu.Unlock()
	c.drop(out)
}

// makeRoom drops idle entries when a sweep is due, then least recently used
// ones not in use until a new entry fits under Max. Entries in use that it
// meets at the old end are moved to the new end (they are being used), at
// most once each.
func (c *Cache[K, V]) makeRoom(now int64, out []dropped[K, V]) []dropped[K, V] {
	if c.cfg.IdleAfter > 0 && now >= c.nextSweep {
		out = c.sweep(now, out)
	}
	for skipped := 0; c.lru.Len() >= c.cfg.Max && skipped < c.lru.Len(); {
		k, e, _ := c.lru.GetOldest()
		if e.inUse.Load() > 0 {
			c.lru.Get(k)
			skipped++
			continue
		}
		c.lru.Remove(k)
		out = append(out, dropped[K, V]{k, e.Value})
	}
	return out
}

// sweep drops, from the old end, the entries not in use that have not been
// acquired for IdleAfter, and schedules the next sweep half an IdleAfter
// away (an idle entry lives at most 1.5 IdleAfter while the cache is used).
func (c *Cache[K, V]) sweep(now int64, out []dropped[K, V]) []dropped[K, V] {
	idle := int64(c.cfg.IdleAfter)
	c.nextSweep = now + idle/2
	for skipped := 0; skipped < c.lru.Len(); {
		k, e, ok := c.lru.GetOldest()
		if !ok || now-e.used.Load() < idle {
			break // the rest were used more recently
		}
		if e.inUse.Load() > 0 {
			c.lru.Get(k)
			skipped++
			continue
		}
		c.lru.Remove(k)
		out = append(out, dropped[K, V]{k, e.Value})
	}
	return out
}

func (c *Cache[K, V]) drop(out []dropped[K, V]) {
	if c.cfg.Drop == nil {
		return
	}
	for _, d := range out {
		c.cfg.Drop(d.k, d.v)
	}
}
