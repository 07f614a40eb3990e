package gateway

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/graph-gophers/dataloader/v7"

	"github.com/plaza-gateway/plaza/connectors"
	"github.com/plaza-gateway/plaza/gid"
)

// Key names one object at one provider.
type Key struct {
	Provider string
	ID       string
}

// KeyOf returns the loader key of a decoded global ID.
func KeyOf(id gid.ID) Key { return Key{Provider: id.Provider, ID: id.Local} }

// Loaders are the per-request dataloaders, one per kind of object. They are
// built per operation (never shared between requests: a batch runs with the
// context, and so the user, of its first caller) and snapshot the registry,
// so a reload mid-request does not mix registries.
//
// Each batch reads through the cross-request cache (when configured) and then
// groups what is missing by provider, making one batch call per provider, all
// providers in parallel. For user-owned kinds the batch also checks
// ownership: another user's object reads as NOT_FOUND, so its existence does
// not leak. User-owned kinds are never cached across requests.
type Loaders struct {
	g   *Gateway
	reg *connectors.Registry
	// kinds are the declarations the loaders are built from, and all
	// their loaders, in declaration order: Entity.Of indexes it. A kind's
	// loader (an entityLoader) is built on first use (at): a request uses a
	// few of the declared kinds, a cached list of products two.
	kinds *kindSet
	all   []atomic.Value
}

// Loader loads one kind of object for one request. Every way in (Load,
// LoadMany, Get, Prefetch) shares one memory of what the request fetched, so
// a key is fetched at most once per request whichever way it is asked for:
// the dataloader batches concurrent Loads, Prefetch fetches a whole level at
// once, and a Prefetch of a key another Prefetch is fetching waits for it.
// It also remembers which keys it served stale (from cache, because the
// provider failed), so the response can say so.
type Loader[V any] struct {
	// dl is built on the first Load (see batcher): most requests use a few
	// kinds, or only Prefetch and Get, and every request builds every
	// kind's Loader.
	dlOnce sync.Once
	dl     *dataloader.Loader[Key, V]
	cfg    *Config
	kind   gid.Kind
	stale  sync.Map // Key -> struct{}
	// anyStale is set before the first key is stored in stale: the common
	// request served nothing stale, and a lookup in stale boxes its key.
	anyStale atomic.Bool
	// mu guards what the request fetched: values, and the keys that failed.
	// Plain maps rather than sync.Map: a lookup then boxes no key, on the
	// path every element of a prefetched list takes.
	mu sync.RWMutex
	// values point at the values the batches returned (got): a connectors
	// value of over 128 bytes (a product) would be stored out of line by
	// the map, one allocation per key. A value may be shared with the
	// cross-request cache and other requests: read only.
	values map[Key]*V
	failed map[Key]error
	// inflight holds the keys a Prefetch is fetching now; the channel closes
	// once their results are in values or failed.
	inflight map[Key]chan struct{}
	fetch    func(ctx context.Context, keys []Key) []got[V]
}

// got is one key's outcome of a batch: its value, or the error that failed
// it. A value served from the cross-request cache is the decoded entity the
// cache keeps (see EntityCache.memo), shared with every request reading it,
// not a copy: a cached list of 50 products then costs 50 pointers rather
// than 15 KB of copied structs. It must never be modified.
type got[V any] struct {
	val *V
	err error
}

// prefetched returns what the request fetched for k: its value or error,
// and whether it fetched k at all.
func (l *Loader[V]) prefetched(k Key) (v V, err error, ok bool) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	if p, ok := l.values[k]; ok {
		return *p, nil, true
	}
	err, ok = l.failed[k]
	return v, err, ok
}

// lookup is prefetched, plus the channel of a Prefetch fetching k now.
func (l *Loader[V]) lookup(k Key) (v V, err error, ok bool, wait chan struct{}) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	if p, ok := l.values[k]; ok {
		return *p, nil, true, nil
	}
	if err, ok = l.failed[k]; ok {
		return v, err, true, nil
	}
	return v, nil, false, l.inflight[k]
}

// record keeps the results of one fetch of keys.
func (l *Loader[V]) record(keys []Key, results []got[V]) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.recordLocked(keys, results)
}

func (l *Loader[V]) recordLocked(keys []Key, results []got[V]) {
	if l.values == nil {
		l.values, l.failed = make(map[Key]*V, len(keys)), map[Key]error{}
	}
	for i, k := range keys {
		switch {
		case i < len(results) && results[i].err != nil:
			l.failed[k] = results[i].err
		case i >= len(results) || results[i].val == nil:
			l.failed[k] = connectors.Errorf(connectors.KindInternal, "%s: no result", l.kind)
		default:
			l.values[k] = results[i].val
		}
	}
}

// Load returns a thunk for k: answered from what the request fetched when
// it has k, after the Prefetch fetching k when there is one, else from the
// dataloader's next batch.
func (l *Loader[V]) Load(ctx context.Context, k Key) dataloader.Thunk[V] {
	v, err, done, wait := l.lookup(k)
	if done {
		return func() (V, error) { return v, err }
	}
	// Not fetched yet: this load may wait for a batch, which the other
	// elements of a list running in order must join.
	willWait(ctx)
	if wait != nil {
		return func() (V, error) { return l.await(ctx, k, wait) }
	}
	return l.batcher().Load(ctx, k)
}

// batcher returns the request's dataloader for this kind, built on first use.
func (l *Loader[V]) batcher() *dataloader.Loader[Key, V] {
	l.dlOnce.Do(func() {
		opts := []dataloader.Option[Key, V]{dataloader.WithWait[Key, V](l.cfg.BatchWait)}
		if l.cfg.BatchCapacity > 0 {
			opts = append(opts, dataloader.WithBatchCapacity[Key, V](l.cfg.BatchCapacity))
		}
		l.dl = dataloader.NewBatchedLoader(func(ctx context.Context, keys []Key) []*dataloader.Result[V] {
			rs := l.fetch(ctx, keys)
			l.record(keys, rs)
			// The dataloader keeps results by value: copies, on this path
			// only (keys no Prefetch fetched).
			out := make([]*dataloader.Result[V], len(keys))
			held := make([]dataloader.Result[V], len(keys))
			for i := range out {
				switch {
				case i < len(rs) && rs[i].err != nil:
					held[i].Error = rs[i].err
				case i >= len(rs) || rs[i].val == nil:
					held[i].Error = connectors.Errorf(connectors.KindInternal, "%s: no result", l.kind)
				default:
					held[i].Data = *rs[i].val
				}
				out[i] = &held[i]
			}
			return out
		}, opts...)
	})
	return l.dl
}

// await waits for the Prefetch fetching k and returns what it fetched.
func (l *Loader[V]) await(ctx context.Context, k Key, wait chan struct{}) (V, error) {
	select {
	case <-wait:
		v, err, _ := l.prefetched(k)
		return v, err
	case <-ctx.Done():
		var zero V
		return zero, ctx.Err()
	}
}

// LoadMany loads keys as Load does (in one batch when they are not fetched
// yet) and returns their values and errors, both in key order.
func (l *Loader[V]) LoadMany(ctx context.Context, keys []Key) ([]V, []error) {
	thunks := make([]dataloader.Thunk[V], len(keys))
	for i, k := range keys {
		thunks[i] = l.Load(ctx, k)
	}
	values, errs := make([]V, len(keys)), make([]error, len(keys))
	for i, t := range thunks {
		values[i], errs[i] = t()
	}
	return values, errs
}

// Get loads k: from what the request fetched when it has k, without the
// dataloader's lock, cache lookup and thunk (the common case: list
// resolvers prefetch the level below them), else through Load.
func (l *Loader[V]) Get(ctx context.Context, k Key) (V, error) {
	if v, err, done := l.prefetched(k); done {
		return v, err
	}
	return l.Load(ctx, k)()
}

// Prefetch fetches keys now, as one batch (one call per provider), and
// keeps the results, so later Loads of those keys are answered from memory.
// Resolvers use it when they know every key of the next level at once (the
// items of a page of orders): the batch then does not depend on the executor
// starting every per-item resolver within the loader's wait window, which a
// busy machine does not guarantee. Keys the request already fetched are not
// fetched again, and keys another Prefetch is fetching are waited for. It
// returns the values found, by key; a key that failed fails the same way on
// Load.
func (l *Loader[V]) Prefetch(ctx context.Context, keys []Key) map[Key]V {
	out := make(map[Key]V, len(keys))
	l.prefetch(ctx, keys, out)
	return out
}

// prefetch is Prefetch, filling out when it is not nil: node(id:) and
// nodes(ids:) only need the values kept (prefetchKeys), and a map of 50
// products is a tenth of that query's bytes.
//
// A key repeated in keys (the stores of a list of products) is fetched or
// waited for once: the first time it is marked in flight with this call's
// channel, which the next times recognise, without a set of the keys seen.
func (l *Loader[V]) prefetch(ctx context.Context, keys []Key, out map[Key]V) {
	var mine []Key
	var waits []Key
	var done chan struct{}
	l.mu.Lock()
	for _, k := range keys {
		if p, ok := l.values[k]; ok {
			if out != nil {
				out[k] = *p
			}
			continue
		}
		if _, ok := l.failed[k]; ok {
			continue
		}
		// A key in flight is another caller's, or this one's when keys
		// repeat it (marked below): no set of the keys seen is needed.
		// Another caller's key repeated here is waited for once.
		if ch, ok := l.inflight[k]; ok {
			if ch != done && !slices.Contains(waits, k) {
				waits = append(waits, k)
			}
			continue
		}
		if done == nil {
			done = make(chan struct{})
			mine = make([]Key, 0, len(keys))
			if l.inflight == nil {
				l.inflight = make(map[Key]chan struct{}, len(keys))
			}
		}
		l.inflight[k] = done
		mine = append(mine, k)
	}
	var others []chan struct{}
	for _, k := range waits {
		others = append(others, l.inflight[k])
	}
	l.mu.Unlock()
	if len(mine) > 0 {
		results := l.fetchOnce(ctx, mine, done)
		for i, r := range results {
			if out != nil && r.err == nil && r.val != nil {
				out[mine[i]] = *r.val
			}
		}
	}
	for i, k := range waits {
		if v, err := l.await(ctx, k, others[i]); err == nil && out != nil {
			out[k] = v
		}
	}
}

// fetchOnce fetches keys, which this caller marked in flight with done,
// records the results and releases the keys, even if the batch panics (its
// waiters then read an internal error rather than wait forever).
func (l *Loader[V]) fetchOnce(ctx context.Context, keys []Key, done chan struct{}) (results []got[V]) {
	defer func() {
		l.mu.Lock()
		l.recordLocked(keys, results)
		for _, k := range keys {
			delete(l.inflight, k)
		}
		l.mu.Unlock()
		close(done)
	}()
	return l.fetch(ctx, keys)
}

// Kind is the GraphQL type the loader loads.
func (l *Loader[V]) Kind() gid.Kind { return l.kind }

// Stale reports whether k was served from a stale cache entry.
func (l *Loader[V]) Stale(k Key) bool {
	if !l.anyStale.Load() {
		return false
	}
	_, ok := l.stale.Load(k)
	return ok
}

// entityLoader is a Loader of any value type, as routing by kind needs it.
type entityLoader interface {
	prefetchKeys(context.Context, []Key)
	getAny(context.Context, Key) (any, error)
	getRef(context.Context, Key) (any, error)
	loadAny(context.Context, Key) func() (any, error)
	Stale(Key) bool
}

func (l *Loader[V]) prefetchKeys(ctx context.Context, keys []Key) { l.prefetch(ctx, keys, nil) }

func (l *Loader[V]) getAny(ctx context.Context, k Key) (any, error) {
	v, err := l.Get(ctx, k)
	if err != nil {
		return nil, err
	}
	return v, nil
}

// getRef is getAny's value behind a pointer (*V): a fetched value is kept
// behind one already, and a pointer goes into an interface without the copy
// and allocation a value of a connectors type costs.
func (l *Loader[V]) getRef(ctx context.Context, k Key) (any, error) {
	l.mu.RLock()
	p, ok := l.values[k]
	l.mu.RUnlock()
	if ok {
		return p, nil
	}
	v, err := l.Get(ctx, k)
	if err != nil {
		return nil, err
	}
	return &v, nil
}

func (l *Loader[V]) loadAny(ctx context.Context, k Key) func() (any, error) {
	t := l.Load(ctx, k)
	return func() (any, error) { v, err := t(); return v, err }
}

// NewLoaders returns fresh loaders for one request, one per declared kind
// (kinds.go); Products.Of(l) is the products' loader.
func (g *Gateway) NewLoaders() *Loaders { return g.NewLoadersOn(g.Registry()) }

// NewLoadersOn returns fresh loaders for one request over reg, the registry
// the request is pinned to (WithRegistry).
func (g *Gateway) NewLoadersOn(reg *connectors.Registry) *Loaders {
	return newLoaders(g, reg, &entities)
}

func newLoaders(g *Gateway, reg *connectors.Registry, kinds *kindSet) *Loaders {
	return &Loaders{g: g, reg: reg, kinds: kinds, all: make([]atomic.Value, len(kinds.list))}
}

// at returns the loader of the kind declared at i, building it on first
// use; concurrent first uses agree on one.
func (l *Loaders) at(i int) entityLoader {
	if v := l.all[i].Load(); v != nil {
		return v.(entityLoader)
	}
	if ld := l.kinds.list[i].newLoader(l); l.all[i].CompareAndSwap(nil, ld) {
		return ld
	}
	return l.all[i].Load().(entityLoader)
}

// byKind returns the loader of a kind loaded by its own ID, for node
// routing; false for other kinds (those loaded under their parent, and
// kinds not declared).
func (l *Loaders) byKind(kind gid.Kind) (entityLoader, bool) {
	i, ok := l.kinds.derived().routable[kind]
	if !ok {
		return nil, false
	}
	return l.at(i), true
}

// Node loads the object id names, for `node(id:)`: its value (a connectors
// type), and whether it was served stale. Kinds loaded under their parent
// (slots, offices) are INVALID here: they have no ID of their own to load.
func (l *Loaders) Node(ctx context.Context, id gid.ID) (v any, stale bool, err error) {
	return l.node(ctx, id, entityLoader.getAny)
}

// NodeRef is Node with the value behind a pointer (a *connectors.Product
// for a product), for callers that only read it: nodes(ids:) converts each
// element to its model without copying the value into an interface.
func (l *Loaders) NodeRef(ctx context.Context, id gid.ID) (v any, stale bool, err error) {
	return l.node(ctx, id, entityLoader.getRef)
}

func (l *Loaders) node(ctx context.Context, id gid.ID, get func(entityLoader, context.Context, Key) (any, error)) (v any, stale bool, err error) {
	ld, ok := l.byKind(id.Kind)
	if !ok {
		return nil, false, connectors.Errorf(connectors.KindInvalid, "a %s id cannot be fetched with node; fetch its parent", id.Kind)
	}
	k := KeyOf(id)
	v, err = get(ld, ctx, k)
	return v, err == nil && ld.Stale(k), err
}

// Registry returns the registry snapshot these loaders use.
func (l *Loaders) Registry() *connectors.Registry { return l.reg }

func newLoader[C connectors.Connector, V any](l *Loaders, e *Entity[C, V]) *Loader[V] {
	ld := &Loader[V]{kind: e.Kind, cfg: &l.g.cfg}
	ld.fetch = func(ctx context.Context, keys []Key) []got[V] {
		return batch(ctx, l, ld, e, keys)
	}
	return ld
}

// batch answers one loader batch: exactly len(keys) results in key order.
func batch[C connectors.Connector, V any](ctx context.Context, l *Loaders, ld *Loader[V], e *Entity[C, V], keys []Key) []got[V] {
	fetch := func(ctx context.Context, keys []Key) []result[V] { return fetchDirect(ctx, l, e, keys) }
	if c := l.g.cache; c != nil && e.Owner == nil && c.loaders[e.Kind] != nil {
		out, stale := cached(ctx, c, e.Kind, keys, fetch)
		for i, s := range stale {
			if s {
				ld.anyStale.Store(true)
				ld.stale.Store(keys[i], struct{}{})
			}
		}
		return out
	}
	rs := fetch(ctx, keys)
	user, _ := connectors.UserFrom(ctx)
	// The loader holds the results where they were fetched.
	out := make([]got[V], len(keys))
	for i := range rs {
		switch r := &rs[i]; {
		case r.Error != nil:
			out[i].err = r.Error
		case e.Owner != nil && e.Owner(r.Data) != user:
			out[i].err = connectors.Errorf(connectors.KindNotFound, "%s not found", e.Kind)
		default:
			out[i].val = &r.Data
		}
	}
	return out
}

// fetchDirect groups keys by provider and makes one batch call per provider,
// all providers in parallel.
//
// When every key is at one provider, the connector's results are the
// batch's, in key order: they are handed back in place (asResults) rather
// than copied value by value into a slice of their own (50 products: 14 KB
// allocated and copied per list).
func fetchDirect[C connectors.Connector, V any](ctx context.Context, l *Loaders, e *Entity[C, V], keys []Key) []result[V] {
	if len(keys) > 0 && oneProvider(keys) {
		provider := keys[0].Provider
		ids := make([]string, len(keys))
		for i, k := range keys {
			ids[i] = k.ID
		}
		rs, err := fetchProvider(ctx, l, e, provider, ids)
		if err != nil {
			out := make([]result[V], len(keys))
			for i := range out {
				out[i].Error = err
			}
			return out
		}
		out := asResults(rs)
		for i := range out {
			if out[i].Error != nil {
				var zero V
				out[i] = result[V]{Data: zero, Error: itemError(provider, e.Kind, out[i].Error)}
			}
		}
		return out
	}
	byProvider := map[string][]int{}
	var order []string
	for i, k := range keys {
		if _, seen := byProvider[k.Provider]; !seen {
			order = append(order, k.Provider)
		}
		byProvider[k.Provider] = append(byProvider[k.Provider], i)
	}
	out := make([]result[V], len(keys))
	var wg sync.WaitGroup
	for _, p := range order {
		wg.Add(1)
		go func() {
			defer wg.Done()
			idx := byProvider[p]
			ids := make([]string, len(idx))
			for j, i := range idx {
				ids[j] = keys[i].ID
			}
			rs, err := fetchProvider(ctx, l, e, p, ids)
			for j, i := range idx {
				switch {
				case err != nil:
					out[i].Error = err
				case rs[j].Err != nil:
					out[i].Error = itemError(p, e.Kind, rs[j].Err)
				default:
					out[i].Data = rs[j].Value
				}
			}
		}()
	}
	wg.Wait()
	return out
}

// oneProvider reports whether every key is at the provider of the first.
func oneProvider(keys []Key) bool {
	for _, k := range keys[1:] {
		if k.Provider != keys[0].Provider {
			return false
		}
	}
	return true
}

// fetchProvider makes the batch call for ids at provider: exactly len(ids)
// results, in the order of ids, or the error of the call as a whole.
func fetchProvider[C connectors.Connector, V any](ctx context.Context, l *Loaders, e *Entity[C, V], provider string, ids []string) ([]connectors.Result[V], error) {
	conn, ok := l.reg.Get(provider)
	c, isC := conn.(C)
	if !ok || !isC {
		return nil, connectors.Errorf(connectors.KindNotFound, "%s not found", e.Kind)
	}
	var rs []connectors.Result[V]
	err := l.g.call(ctx, conn.Describe().Vertical, provider, e.Op, len(ids), true, func(ctx context.Context) error {
		var err error
		rs, err = e.Get(c, ctx, ids)
		return err
	})
	if err == nil && len(rs) != len(ids) {
		err = providerError(provider, connectors.Errorf(connectors.KindProvider,
			"provider returned %d results for %d ids", len(rs), len(ids)))
	}
	if err != nil {
		return nil, err
	}
	return rs, nil
}

// asResults views a connector's results as the loader's: the two types are
// the same struct (the value, then the error) under other field names,
// which TestResultLayout holds them to. The connector hands its slice over:
// nothing else refers to it.
func asResults[V any](rs []connectors.Result[V]) []result[V] {
	return unsafe.Slice((*result[V])(unsafe.Pointer(unsafe.SliceData(rs))), len(rs))
}

// itemError normalises a per-item error. NOT_FOUND keeps a generic message
// (the provider's own text may echo data); other kinds are provider errors.
func itemError(provider string, kind gid.Kind, err error) error {
	if connectors.KindOf(err) == connectors.KindNotFound {
		return connectors.Errorf(connectors.KindNotFound, "%s not found", kind)
	}
	return providerError(provider, err)
}

// PrefetchByKind prefetches keys of several kinds at once (nodes(ids:)), one
// batch per kind, the kinds in parallel. Kinds without a loader are ignored.
func (l *Loaders) PrefetchByKind(ctx context.Context, keys map[gid.Kind][]Key) {
	if len(keys) == 1 {
		// One kind (a list of products): nothing to run beside it, so on
		// this goroutine rather than a new one.
		for kind, ks := range keys {
			if ld, ok := l.byKind(kind); ok && len(ks) > 0 {
				ld.prefetchKeys(ctx, ks)
			}
		}
		return
	}
	var wg sync.WaitGroup
	for kind, ks := range keys {
		ld, ok := l.byKind(kind)
		if !ok || len(ks) == 0 {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			ld.prefetchKeys(ctx, ks)
		}()
	}
	wg.Wait()
}
