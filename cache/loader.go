package cache

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
)

// Loader reads a batch through a Cache and fetches what is missing or stale in one call, with two protections:
//
//   - Stampede protection: concurrent Fetch calls on one instance that miss the same key share one fetch of it.
//     Every key is led by at most one in-flight fetch; a caller whose batch overlaps a running fetch waits for those
//     keys and fetches only the rest, still in one call. (golang.org/x/sync/singleflight dedupes one key per call,
//     which would split a batch into one fetch per key, so Loader keeps its own in-flight table.)
//   - Stale-if-error: when the fetch fails, a key whose cached entry is Stale is answered with that value.
//
// A follower receives the leader's result, fetched with the leader's context, so keys must identify everything that
// shapes the value, including the user where data is personal. Use it inside a dataloader batch function; make one
// Loader per kind of value (TTLs differ) and share it across requests.
type Loader struct {
	cache      Cache
	ttl, grace time.Duration
	jitter     func(time.Duration) time.Duration
	keyTTL     func(key string) time.Duration

	mu      sync.Mutex
	flights map[string]*flight
}

// flight is one key being fetched. Its fields are written before done is closed and read only after.
type flight struct {
	done    chan struct{}
	value   []byte
	found   bool
	err     error
	waiters int // callers that joined instead of fetching; guarded by Loader.mu
}

// FetchFunc fetches keys from the source of truth. A key absent from the map does not exist: it is reported as not
// found and not cached. An error fails every key of the call, except a KeyErrors, which fails only the keys it
// names: a batch spanning several sources can then succeed for the healthy ones.
type FetchFunc func(ctx context.Context, keys []string) (map[string][]byte, error)

// KeyErrors is a FetchFunc error that fails some keys only. The values returned with it are used for the others.
type KeyErrors map[string]error

func (e KeyErrors) Error() string {
	for k, err := range e {
		return fmt.Sprintf("cache: fetch failed for %d keys (%s: %v)", len(e), k, err)
	}
	return "cache: fetch failed"
}

// LoaderOption configures NewLoader.
type LoaderOption func(*Loader)

// WithKeyTTL overrides the TTL of some keys (e.g. per source): f returns the
// key's TTL, or 0 for the Loader's own.
func WithKeyTTL(f func(key string) time.Duration) LoaderOption {
	return func(l *Loader) { l.keyTTL = f }
}

// WithJitter lengthens each written TTL by f(ttl), so entries written together do not expire together. nil is
// no jitter.
func WithJitter(f func(time.Duration) time.Duration) LoaderOption {
	return func(l *Loader) { l.jitter = f }
}

// Result is the outcome for one key of Fetch.
type Result struct {
	// Entry is the value. Stale=true means the fetch failed and this is the cached value past its TTL.
	Entry
	// Err is set when the key could not be fetched and no stale value was cached: the fetch's error, or the
	// caller's context error while waiting for another caller's fetch.
	Err error
}

// errFetchPanicked is what followers see when the leader's fetch panicked (the panic continues in the leader).
var errFetchPanicked = errors.New("cache: fetch panicked")

// NewLoader returns a Loader that stores fetched values in c for ttl, plus grace as stale-if-error. It panics if
// ttl <= 0 or grace < 0: every write must expire, and the durations are wiring, not input.
func NewLoader(c Cache, ttl, grace time.Duration, opts ...LoaderOption) *Loader {
	if ttl <= 0 || grace < 0 {
		panic(fmt.Sprintf("cache: NewLoader(ttl %v, grace %v): %v", ttl, grace, ErrInvalidTTL))
	}
	l := &Loader{cache: c, ttl: ttl, grace: grace, flights: make(map[string]*flight)}
	for _, o := range opts {
		o(l)
	}
	return l
}

// Fetch returns one Result per key, in key order. Fresh cache hits are returned as they are; every other key is
// fetched — by this call in one fetch, or by a concurrent call already fetching it — and found values are written
// back to the cache. A cache failure counts as misses.
func (l *Loader) Fetch(ctx context.Context, keys []string, fetch FetchFunc) []Result {
	cached, err := l.cache.GetMany(ctx, keys)
	if err != nil || len(cached) != len(keys) {
		cached = make([]Entry, len(keys))
	}
	results := make([]Result, len(keys))
	var need []string
	var seen map[string]bool // made on the first miss: a batch of hits needs none
	for i, k := range keys {
		results[i].Entry = cached[i]
		if (!cached[i].Found || cached[i].Stale) && !seen[k] {
			if seen == nil {
				seen = make(map[string]bool)
			}
			seen[k] = true
			// A key fetched is kept (in the cache, in the flights): a copy, so
			// that it does not pin the memory of the caller's key, which may
			// be cut from a longer string.
			need = append(need, strings.Clone(k))
		}
	}
	if len(need) == 0 {
		return results
	}

	flights := make(map[string]*flight, len(need))
	var lead []string
	l.mu.Lock()
	for _, k := range need {
		if f, ok := l.flights[k]; ok {
			f.waiters++
			flights[k] = f
			continue
		}
		f := &flight{done: make(chan struct{})}
		l.flights[k] = f
		flights[k] = f
		lead = append(lead, k)
	}
	l.mu.Unlock()
	if len(lead) > 0 {
		l.lead(ctx, lead, flights, fetch)
	}

	for i, k := range keys {
		f, ok := flights[k]
		if !ok {
			continue
		}
		select {
		case <-f.done:
		case <-ctx.Done():
			results[i].Err = ctx.Err()
			continue
		}
		switch {
		case f.err == nil:
			results[i].Entry = Entry{Value: f.value, Found: f.found}
		case cached[i].Found: // stale, kept as is
		default:
			results[i].Err = f.err
		}
	}
	return results
}

// lead fetches keys, writes the found values to the cache, then completes their flights. Writing first means a
// caller arriving after the flight is gone finds the value in the cache instead of fetching again.
func (l *Loader) lead(ctx context.Context, keys []string, flights map[string]*flight, fetch FetchFunc) {
	err := errFetchPanicked
	var vals map[string][]byte
	defer func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		keyErrs, partial := err.(KeyErrors)
		for _, k := range keys {
			f := flights[k]
			delete(l.flights, k)
			f.value, f.found = vals[k]
			switch {
			case partial:
				f.err = keyErrs[k]
			default:
				f.err = err
			}
			close(f.done)
		}
	}()
	readAt := time.Now()
	if c, ok := l.cache.(interface{ clock() time.Time }); ok {
		readAt = c.clock()
	}
	vals, err = fetch(ctx, keys)
	if _, partial := err.(KeyErrors); err != nil && !partial {
		return
	}
	items := make([]Item, 0, len(vals))
	for _, k := range keys {
		if v, ok := vals[k]; ok {
			ttl := l.ttl
			if l.keyTTL != nil {
				if d := l.keyTTL(k); d > 0 {
					ttl = d
				}
			}
			if l.jitter != nil {
				ttl = l.jitter(ttl)
			}
			items = append(items, Item{Key: k, Value: v, TTL: ttl, Grace: l.grace, ReadAt: readAt})
		}
	}
	// A failed write-back only costs a later miss; Redis reports its own failures through Stats and the log.
	_ = l.cache.SetMany(ctx, items)
}
