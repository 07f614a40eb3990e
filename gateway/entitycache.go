package gateway

import (
	"context"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/graph-gophers/dataloader/v7"

	"github.com/plaza-gateway/plaza/cache"
	"github.com/plaza-gateway/plaza/connectors"
	"github.com/plaza-gateway/plaza/gid"
)

// CachePolicy says what the cross-request entity cache keeps and for how long.
type CachePolicy struct {
	// TTL is how long an entity is fresh, per GraphQL type. Types without a
	// TTL are not cached. User-owned types (orders, appointments, ...) are
	// never cached: they are personal and change with every mutation.
	TTL map[gid.Kind]time.Duration
	// Grace keeps entries past their TTL to serve when the provider fails
	// (stale-if-error).
	Grace time.Duration
	// Jitter spreads expiries by up to this fraction of the TTL so entries
	// written together do not all expire together.
	Jitter float64
	// NegativeTTL caches "not found" briefly, so a burst of lookups of a
	// missing ID does not reach the provider each time.
	NegativeTTL time.Duration
}

// DefaultCachePolicy returns the production defaults. Stock and slot
// availability change with every order, so those kinds are short-lived and
// mutations invalidate them; catalogue data changes rarely.
func DefaultCachePolicy() CachePolicy {
	return CachePolicy{
		TTL:         defaultTTLs(), // declared per kind in kinds.go
		Grace:       10 * time.Minute,
		Jitter:      0.1,
		NegativeTTL: 5 * time.Second,
	}
}

// EntityCache is the cross-request cache the loaders read through. One is
// shared by every request of a gateway (and, through Redis, by every
// instance); the per-request dataloaders sit in front of it.
type EntityCache struct {
	store   cache.Cache
	codec   cache.Codec
	policy  CachePolicy
	loaders map[gid.Kind]*cache.Loader
	obs     CacheObserver
	// memo keeps decoded entities (a *V) beside their bytes in the
	// in-process tier (nil when the store has none). A memoized entity is
	// shared by every request that reads the entry, as the bytes were, and
	// the loaders hold the pointer itself (got): nothing downstream may
	// modify an entity or its fields, slices or maps in place (the
	// conversion to models copies what it changes).
	memo cache.Memoizer
	// overrides answers per-provider TTLs by type (from the registry config
	// or the directory), swapped whole on reload.
	overrides atomic.Pointer[TTLLookup]
}

// TTLLookup returns provider's TTL override for objects of kind, 0 for none.
type TTLLookup func(provider string, kind gid.Kind) time.Duration

// SetProviderTTLs replaces the per-provider TTL overrides: provider ID ->
// GraphQL type -> TTL. Entries written from then on use them.
func (c *EntityCache) SetProviderTTLs(ttls map[string]map[gid.Kind]time.Duration) {
	c.SetProviderTTLLookup(func(provider string, kind gid.Kind) time.Duration { return ttls[provider][kind] })
}

// SetProviderTTLLookup replaces the per-provider TTL overrides with lookup,
// in O(1): a directory hands over its version's TTLs without a map of
// every provider.
func (c *EntityCache) SetProviderTTLLookup(lookup TTLLookup) {
	c.overrides.Store(&lookup)
}

// keyTTL returns a provider's override for a key "<Type>:<provider>:<id>",
// or 0.
func (c *EntityCache) keyTTL(key string) time.Duration {
	m := c.overrides.Load()
	if m == nil {
		return 0
	}
	kind, rest, ok := strings.Cut(key, ":")
	if !ok {
		return 0
	}
	provider, _, ok := strings.Cut(rest, ":")
	if !ok {
		return 0
	}
	return (*m)(provider, gid.Kind(kind))
}

// CacheObserver is told the cache outcome per type (metrics).
type CacheObserver interface {
	ObserveCache(typ string, hits, misses, stale int)
}

// NewEntityCache returns an entity cache over store (memory, Redis or
// tiered) with policy. obs may be nil.
func NewEntityCache(store cache.Cache, policy CachePolicy, obs CacheObserver) *EntityCache {
	c := &EntityCache{store: store, codec: cache.DefaultCodec, policy: policy, loaders: map[gid.Kind]*cache.Loader{}, obs: obs}
	c.memo, _ = store.(cache.Memoizer)
	jitter := jitterFunc(policy.Jitter)
	for kind, ttl := range policy.TTL {
		c.loaders[kind] = cache.NewLoader(store, ttl, policy.Grace, cache.WithJitter(jitter), cache.WithKeyTTL(c.keyTTL))
	}
	return c
}

func jitterFunc(frac float64) func(time.Duration) time.Duration {
	if frac <= 0 {
		return nil
	}
	return func(d time.Duration) time.Duration {
		return d + time.Duration(rand.Float64()*frac*float64(d))
	}
}

// Key is the cache key of one entity. It carries everything that shapes the
// value: type, provider and ID (the Redis tier adds the versioned prefix
// plaza:v1:).
func (c *EntityCache) Key(kind gid.Kind, k Key) string {
	return string(kind) + ":" + k.Provider + ":" + k.ID
}

// Invalidate drops entities from every tier of every instance. Mutations call
// it before they answer, so the next read anywhere sees the change. An Office
// ID (whatever its local part: an office or a service) drops every office
// list of its provider: see epochKinds.
func (c *EntityCache) Invalidate(ctx context.Context, ids ...gid.ID) error {
	if c == nil || len(ids) == 0 {
		return nil
	}
	keys := make([]string, 0, len(ids))
	for _, id := range ids {
		if epochKinds(id.Kind) {
			keys = append(keys, epochKey(id.Kind, id.Provider))
			continue
		}
		keys = append(keys, c.Key(id.Kind, KeyOf(id)))
	}
	slices.Sort(keys)
	return c.store.DeleteMany(ctx, slices.Compact(keys))
}

// epochKinds are kinds whose entries cannot be invalidated by the entity that
// changed. Office lists are cached per service, but a booking changes an
// office's slots, and an office handles many services (28 in the demo data):
// the slot stayed offered under the other 27 for up to 5 minutes. Nothing
// maps an office back to the services listing it without asking every one,
// so these entries are keyed by a per-provider epoch, "<Kind>Epoch:<provider>",
// read with them: deleting the epoch drops all of the provider's lists of
// that kind at once, on every instance. Entries written under an old epoch
// are never read again and expire on their TTL.
//
// The epoch is read through the same cache (an L1 hit on a warm instance:
// no extra Redis round trip), and a fetch that raced the change writes its
// answer under the old epoch, where nobody looks. The price is that one
// application refetches every office list of its provider once.
func epochKinds(kind gid.Kind) bool { return entities.derived().epoch[kind] }

// epochTTL keeps an epoch longer than any entry written under it (TTL plus
// grace), so a live entry never loses its epoch to expiry.
const epochTTL = 2 * time.Hour

func epochKey(kind gid.Kind, provider string) string {
	return string(kind) + "Epoch:" + provider
}

// keysOf returns the cache keys of keys: Key, plus "#<epoch>" for
// epochKinds. An epoch missing from the cache is created (a random token);
// two instances creating one at once cost each other a few misses only.
//
// The keys of a batch are cut from one string built for them all: one
// allocation rather than one per key on the path every cache hit takes.
// They share its memory, so whatever keeps a key beyond the request copies
// it (cache.Loader clones the keys it writes).
func (c *EntityCache) keysOf(ctx context.Context, kind gid.Kind, keys []Key) []string {
	out := make([]string, len(keys))
	n := 0
	for _, k := range keys {
		n += len(kind) + len(k.Provider) + len(k.ID) + 2
	}
	var b strings.Builder
	b.Grow(n)
	for _, k := range keys {
		b.WriteString(string(kind))
		b.WriteByte(':')
		b.WriteString(k.Provider)
		b.WriteByte(':')
		b.WriteString(k.ID)
	}
	all, at := b.String(), 0
	for i, k := range keys {
		end := at + len(kind) + len(k.Provider) + len(k.ID) + 2
		out[i] = all[at:end] // == c.Key(kind, k)
		at = end
	}
	if !epochKinds(kind) {
		return out
	}
	eks := make([]string, 0, len(keys))
	for _, k := range keys {
		eks = append(eks, epochKey(kind, k.Provider))
	}
	slices.Sort(eks)
	eks = slices.Compact(eks) // one per provider in the batch
	entries, err := c.store.GetMany(ctx, eks)
	if err != nil || len(entries) != len(eks) {
		entries = make([]cache.Entry, len(eks))
	}
	epochs := make(map[string]string, len(eks))
	var created []cache.Item
	for i, ek := range eks {
		if entries[i].Found {
			epochs[ek] = string(entries[i].Value)
			continue
		}
		e := strconv.FormatUint(rand.Uint64(), 36)
		epochs[ek] = e
		created = append(created, cache.Item{Key: ek, Value: []byte(e), TTL: epochTTL})
	}
	if len(created) > 0 {
		_ = c.store.SetMany(ctx, created) // best effort: a lost epoch is a later miss
	}
	for i, k := range keys {
		out[i] += "#" + epochs[epochKey(kind, k.Provider)]
	}
	return out
}

// negative marks a cached "not found". 0xc1 is the one byte MessagePack never
// uses, so no encoded value can be mistaken for it.
var negative = []byte{0xc1}

// cached reads one batch through the cache: one GetMany for the batch, one
// fetch for what is missing or stale (grouped per provider by fetch), values
// written back with the kind's TTL. It reports per-type hits and misses to
// the request's Stats, and for each key whether it was served stale because
// the provider failed (nil when none was).
func cached[V any](ctx context.Context, c *EntityCache, kind gid.Kind, keys []Key, fetch func(ctx context.Context, keys []Key) []result[V]) (out []got[V], stale []bool) {
	loader := c.loaders[kind]
	skeys := c.keysOf(ctx, kind, keys)
	var misses, notFound []string
	rs := loader.Fetch(ctx, skeys, func(ctx context.Context, need []string) (map[string][]byte, error) {
		// Built on a miss only: a batch of hits needs no way back from a
		// cache key to its Key.
		index := make(map[string]Key, len(keys))
		for i, k := range keys {
			index[skeys[i]] = k
		}
		ks := make([]Key, len(need))
		for i, s := range need {
			ks[i] = index[s]
		}
		misses = need
		fetched := fetch(ctx, ks)
		vals := make(map[string][]byte, len(need))
		failed := cache.KeyErrors{}
		for i, r := range fetched {
			switch {
			case r.Error == nil:
				b, err := c.codec.Marshal(r.Data)
				if err != nil {
					failed[need[i]] = err
					continue
				}
				vals[need[i]] = b
			case connectors.KindOf(r.Error) == connectors.KindNotFound:
				notFound = append(notFound, need[i])
			default:
				failed[need[i]] = r.Error
			}
		}
		if len(failed) > 0 {
			return vals, failed
		}
		return vals, nil
	})
	if len(notFound) > 0 && c.policy.NegativeTTL > 0 {
		items := make([]cache.Item, len(notFound))
		for i, k := range notFound {
			items[i] = cache.Item{Key: k, Value: negative, TTL: c.policy.NegativeTTL}
		}
		_ = c.store.SetMany(ctx, items) // best effort: a lost write is a later miss
	}
	out = make([]got[V], len(keys))
	nStale := 0
	for i, r := range rs {
		switch {
		case r.Err != nil:
			out[i].err = r.Err
		case !r.Found || len(r.Value) == 1 && r.Value[0] == negative[0]:
			out[i].err = connectors.Errorf(connectors.KindNotFound, "%s not found", kind)
		default:
			// A hit on an in-process entry that a request decoded before
			// skips decoding: the decoded entity was left with it, and is
			// served as it is (read only), not copied.
			if d, ok := r.Decoded.(*V); ok {
				out[i].val = d
			} else {
				v := new(V)
				if err := c.codec.Unmarshal(r.Value, v); err != nil {
					out[i].err = connectors.Wrap(err, connectors.KindInternal, "cache decode failed")
					continue
				}
				if c.memo != nil {
					c.memo.Memoize(skeys[i], r.Value, v)
				}
				out[i].val = v
			}
			if r.Stale {
				if stale == nil {
					stale = make([]bool, len(keys))
				}
				stale[i] = true
				nStale++
			}
		}
	}
	hits := len(keys) - len(misses)
	StatsFrom(ctx).addCache(string(kind), hits, len(misses)-nStale, nStale)
	if c.obs != nil {
		c.obs.ObserveCache(string(kind), hits, len(misses)-nStale, nStale)
	}
	return out, stale
}

// result is one value or error that fetchDirect fetched: the loader's own
// result type, kept where it was fetched (got points at its Data) rather
// than copied (50 products are 14 KB a copy).
type result[V any] = dataloader.Result[V]
