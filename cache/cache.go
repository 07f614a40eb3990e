// Package cache is Plaza's cross-request cache: it stores bytes under string keys, for a fresh period (TTL) plus an
// optional stale-if-error period (Grace). It knows nothing about GraphQL or connectors.
//
// Three implementations share one batch-shaped interface, [Cache]:
//
//   - [Memory]: a bounded in-process LRU, safe for concurrent use.
//   - [Redis]: go-redis v9 (single node, Sentinel or Cluster). A Redis outage is never an error for the caller: the
//     cache bypasses Redis (all misses, writes skipped) until a background PING succeeds again.
//   - [Tiered]: a short-lived [Memory] L1 in front of any L2, with cross-instance invalidation over Redis pub/sub.
//
// [Loader] adds stampede protection on top: concurrent misses for one key on one instance cause one fetch.
//
// Keys are used as given by the caller (Redis adds its prefix, "plaza:v1:" by default). They must carry everything
// that shapes the value (entity type, provider, id, and the user where data is personal), e.g.
// "Product:fresh-grocer:123".
//
// # Metrics
//
// [Memory.Stats] and [Redis.Stats] return per-tier totals read from atomic counters, so the hot path does not depend
// on Prometheus. To export them, register one prometheus.CounterFunc per field, for example:
//
//	prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "plaza_cache_hits_total", ConstLabels: prometheus.Labels{"tier": "redis"}},
//		func() float64 { return float64(r.Stats().Hits) })
//
// Per-entity-type counts are the caller's job: it knows which keys it asked for and which came back Found.
package cache

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"
)

// Cache is a batch-shaped byte cache. Implementations are safe for concurrent use.
type Cache interface {
	// GetMany returns one Entry per key, in key order; a miss has Found=false. Duplicate keys are allowed.
	// The returned Values must not be modified: they may be shared with the cache.
	GetMany(ctx context.Context, keys []string) ([]Entry, error)
	// SetMany stores every item for its TTL plus Grace. It returns ErrInvalidTTL, and stores nothing, if any item
	// has TTL <= 0 or Grace < 0. Values are copied or encoded before SetMany returns.
	SetMany(ctx context.Context, items []Item) error
	// DeleteMany removes the keys; missing keys are not an error. It returns ErrUnavailable, wrapped, when it could
	// not reach a shared tier (the keys may still be served from there).
	DeleteMany(ctx context.Context, keys []string) error
}

// Entry is the result of looking up one key.
type Entry struct {
	Value []byte
	Found bool
	// Stale reports that the entry is past its TTL but within its grace period: the caller should refetch, and may
	// serve Value if the fetch fails (stale-if-error).
	Stale bool
	// Decoded is the decoded form of Value that a reader left with the entry in an in-process tier (see Memoizer),
	// nil if none. It is shared by every reader of the entry: it must never be modified.
	Decoded any
}

// Memoizer is an optional capability of a cache with an in-process tier (*Memory, and *Tiered through its L1):
// keeping a reader's decoded form of a value beside the bytes, so that later hits on the entry skip decoding. A hit
// then costs a map lookup instead of a decode and its allocations.
type Memoizer interface {
	// Memoize leaves decoded with key's in-process entry if that entry still holds value (the very bytes a GetMany
	// returned, not a copy); otherwise (the entry was replaced, deleted or expired, or value came from elsewhere)
	// it does nothing, so a decoded form never outlives the bytes it was decoded from. decoded must never be
	// modified afterwards: every later reader shares it.
	Memoize(key string, value []byte, decoded any)
}

// Item is one value to store.
type Item struct {
	Key   string
	Value []byte
	// TTL is how long the value is fresh. It must be positive: every write expires.
	TTL time.Duration
	// Grace is how long the value is kept after TTL, reported as Stale, to be served if the provider fails.
	Grace time.Duration
	// ReadAt is when the value was read from its source (zero: unknown). Tiered stores it in neither tier if it has
	// seen the key invalidated at or after ReadAt: the value may predate the change. Loader sets it.
	ReadAt time.Time
}

// ErrUnavailable is returned, wrapped, by a DeleteMany that could not reach a shared tier: the keys may still hold
// their old values there.
var ErrUnavailable = errors.New("cache: shared tier unavailable")

// ErrInvalidTTL is returned by SetMany for an item with TTL <= 0 or Grace < 0.
var ErrInvalidTTL = errors.New("cache: TTL must be positive and grace not negative")

// validate rejects a batch containing an item that would never expire or has a negative grace.
func validate(items []Item) error {
	for _, it := range items {
		if it.TTL <= 0 || it.Grace < 0 {
			return fmt.Errorf("key %q: ttl %v grace %v: %w", it.Key, it.TTL, it.Grace, ErrInvalidTTL)
		}
	}
	return nil
}

// Stats are totals since construction. Hits counts fresh entries, Stale entries past TTL within grace, Misses keys
// not found (including keys answered while bypassing). Errors counts failed backend calls (Redis errors, timeouts,
// undecodable values); Bypassed counts operations skipped because the backend was unhealthy.
type Stats struct {
	Hits, Misses, Stale, Errors, Bypassed uint64
}

// counters is the lock-free form of Stats.
type counters struct {
	hits, misses, stale, errors, bypassed atomic.Uint64
}

func (c *counters) snapshot() Stats {
	return Stats{
		Hits:     c.hits.Load(),
		Misses:   c.misses.Load(),
		Stale:    c.stale.Load(),
		Errors:   c.errors.Load(),
		Bypassed: c.bypassed.Load(),
	}
}

// count records the outcome of one GetMany.
func (c *counters) count(entries []Entry) {
	var hits, misses, stale uint64
	for _, e := range entries {
		switch {
		case !e.Found:
			misses++
		case e.Stale:
			stale++
		default:
			hits++
		}
	}
	c.hits.Add(hits)
	c.misses.Add(misses)
	c.stale.Add(stale)
}

// Option configures NewMemory, NewRedis and NewTiered. An option that does not apply to a constructor is ignored.
type Option func(*config)

type config struct {
	now           func() time.Time
	logger        *slog.Logger
	prefix        string
	timeout       time.Duration
	probeInterval time.Duration
	l1TTL         time.Duration
}

func newConfig(opts []Option) config {
	c := config{
		now:    time.Now,
		logger: slog.New(slog.DiscardHandler),
		prefix: "plaza:v1:",
		// A cache lookup that takes longer than a typical provider call is worse than a miss.
		timeout: 50 * time.Millisecond,
		// Frequent enough that a restarted Redis is used again within a second, rare enough to cost nothing.
		probeInterval: 500 * time.Millisecond,
		l1TTL:         DefaultL1TTL,
	}
	for _, o := range opts {
		o(&c)
	}
	return c
}

// WithClock sets the clock used for TTL and grace decisions (default time.Now).
func WithClock(now func() time.Time) Option { return func(c *config) { c.now = now } }

// WithLogger sets the logger for Redis health transitions and invalidation problems (default: discard).
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.logger = l } }

// WithPrefix sets the Redis key prefix (default "plaza:v1:"); it should start with "plaza:". The invalidation
// channel is the prefix followed by "invalidate".
func WithPrefix(p string) Option { return func(c *config) { c.prefix = p } }

// WithTimeout bounds every Redis call (default 50 ms).
func WithTimeout(d time.Duration) Option { return func(c *config) { c.timeout = d } }

// WithProbeInterval sets how often an unhealthy Redis is PINGed, and the heartbeat of the invalidation
// subscription (default 500 ms).
func WithProbeInterval(d time.Duration) Option { return func(c *config) { c.probeInterval = d } }

// DefaultL1TTL is how long Tiered keeps a value in its L1, counted from the moment it asked L2 for it. It is the
// staleness bound of an invalidation: no instance serves a deleted value longer than this after DeleteMany returns,
// even if the pub/sub broadcast is lost or late (see Tiered). 100 ms still absorbs the bursts an L1 is for (a hot
// product read by every request of a page, every loader level of one request) while costing at most one L2 read per
// key per instance per 25 ms (Tiered refreshes a hot key's copy after a quarter of it).
const DefaultL1TTL = 100 * time.Millisecond

// WithL1TTL caps how long Tiered keeps a value in its L1 (default DefaultL1TTL). It is also the bound on how long an
// instance can serve a value deleted on another instance: keep it short.
func WithL1TTL(d time.Duration) Option { return func(c *config) { c.l1TTL = d } }
