package gateway

import (
	"context"
	"sync"

	"github.com/graph-gophers/dataloader/v7"

	"github.com/plaza-gateway/plaza/connectors"
	"github.com/plaza-gateway/plaza/gid"
	"github.com/plaza-gateway/plaza/listexec"
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
	// byKind holds the loaders whose keys are object IDs, for PrefetchByKind.
	byKind map[gid.Kind]prefetcher

	Stores             *Loader[connectors.Store]
	Products           *Loader[connectors.Product]
	Orders             *Loader[connectors.GroceryOrder]
	DeliverySlots      *Loader[[]connectors.DeliverySlot]
	Doctors            *Loader[connectors.Doctor]
	AppointmentSlots   *Loader[[]connectors.AppointmentSlot]
	Appointments       *Loader[connectors.Appointment]
	Consultations      *Loader[connectors.Consultation]
	Lawyers            *Loader[connectors.Lawyer]
	LegalConsultations *Loader[connectors.LegalConsultation]
	Services           *Loader[connectors.GovService]
	Offices            *Loader[[]connectors.Office]
	Applications       *Loader[connectors.ServiceApplication]
}

// Loader is a dataloader for one kind that also remembers which keys it
// served stale (from cache, because the provider failed), so the response
// can say so.
type Loader[V any] struct {
	*dataloader.Loader[Key, V]
	kind  gid.Kind
	stale sync.Map // Key -> struct{}
	// mu guards what Prefetch fetched: values, and the keys that failed
	// (the dataloader can only prime values). Plain maps rather than
	// sync.Map: a lookup then boxes no key, on the path every element of a
	// prefetched list takes.
	mu      sync.RWMutex
	values  map[Key]V
	failed  map[Key]error
	batchFn dataloader.BatchFunc[Key, V]
}

func (l *Loader[V]) prefetchKeys(ctx context.Context, keys []Key) { l.Prefetch(ctx, keys) }

// prefetched returns what Prefetch fetched for k: its value or error, and
// whether it fetched k at all.
func (l *Loader[V]) prefetched(k Key) (v V, err error, ok bool) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	if v, ok := l.values[k]; ok {
		return v, nil, true
	}
	err, ok = l.failed[k]
	return v, err, ok
}

// Load is the dataloader's Load, answering keys whose Prefetch failed with
// that error instead of fetching them again.
func (l *Loader[V]) Load(ctx context.Context, k Key) dataloader.Thunk[V] {
	_, err, done := l.prefetched(k)
	if err != nil {
		return func() (V, error) { var zero V; return zero, err }
	}
	if !done {
		// Not fetched by a prefetch: this load may wait for a batch, which
		// the other elements of a list running in order must join.
		listexec.Miss(ctx)
	}
	return l.Loader.Load(ctx, k)
}

// Get loads k: from what Prefetch fetched when it has k, without the
// dataloader's lock, cache lookup and thunk (the common case: list
// resolvers prefetch the level below them), else through Load.
func (l *Loader[V]) Get(ctx context.Context, k Key) (V, error) {
	if v, err, done := l.prefetched(k); done {
		return v, err
	}
	return l.Load(ctx, k)()
}

// Prefetch fetches keys now, as one batch (one call per provider), and
// primes the loader with the results, so later Loads of those keys are
// answered from memory. Resolvers use it when they know every key of the
// next level at once (the items of a page of orders): the batch then does
// not depend on the executor starting every per-item resolver within the
// loader's wait window, which a busy machine does not guarantee. It returns
// the values found, by key; a key that failed fails the same way on Load.
func (l *Loader[V]) Prefetch(ctx context.Context, keys []Key) map[Key]V {
	seen := make(map[Key]bool, len(keys))
	uniq := make([]Key, 0, len(keys))
	out := make(map[Key]V, len(keys))
	for _, k := range keys {
		if seen[k] {
			continue
		}
		seen[k] = true
		if v, err, done := l.prefetched(k); done {
			// Already fetched by an earlier Prefetch of this request: answer
			// from the loader's memory rather than fetching it again.
			if err == nil {
				out[k] = v
			}
			continue
		}
		uniq = append(uniq, k)
	}
	if len(uniq) == 0 {
		return out
	}
	results := l.batchFn(ctx, uniq)
	l.mu.Lock()
	if l.values == nil {
		l.values, l.failed = make(map[Key]V, len(uniq)), map[Key]error{}
	}
	for i, r := range results {
		if r.Error == nil {
			l.values[uniq[i]] = r.Data
			out[uniq[i]] = r.Data
		} else {
			l.failed[uniq[i]] = r.Error
		}
	}
	l.mu.Unlock()
	for i, r := range results {
		if r.Error == nil {
			l.Prime(ctx, uniq[i], r.Data)
		}
	}
	return out
}

// Kind is the GraphQL type the loader loads.
func (l *Loader[V]) Kind() gid.Kind { return l.kind }

// Stale reports whether k was served from a stale cache entry.
func (l *Loader[V]) Stale(k Key) bool {
	_, ok := l.stale.Load(k)
	return ok
}

// NewLoaders returns fresh loaders for one request.
func (g *Gateway) NewLoaders() *Loaders {
	l := &Loaders{g: g, reg: g.Registry(), byKind: map[gid.Kind]prefetcher{}}
	l.Stores = newLoader(l, entity[connectors.Grocery, connectors.Store]{
		kind: gid.Store, op: "Stores", get: connectors.Grocery.Stores})
	l.Products = newLoader(l, entity[connectors.Grocery, connectors.Product]{
		kind: gid.Product, op: "Products", get: connectors.Grocery.Products})
	l.Orders = newLoader(l, entity[connectors.Grocery, connectors.GroceryOrder]{
		kind: gid.GroceryOrder, op: "Orders", get: connectors.Grocery.Orders,
		owner: func(o connectors.GroceryOrder) string { return o.UserID }})
	l.DeliverySlots = newLoader(l, entity[connectors.Grocery, []connectors.DeliverySlot]{
		kind: gid.DeliverySlot, op: "DeliverySlots", get: connectors.Grocery.DeliverySlots})
	l.Doctors = newLoader(l, entity[connectors.Medical, connectors.Doctor]{
		kind: gid.Doctor, op: "Doctors", get: connectors.Medical.Doctors})
	l.AppointmentSlots = newLoader(l, entity[connectors.Medical, []connectors.AppointmentSlot]{
		kind: gid.AppointmentSlot, op: "AppointmentSlots", get: connectors.Medical.AppointmentSlots})
	l.Appointments = newLoader(l, entity[connectors.Medical, connectors.Appointment]{
		kind: gid.Appointment, op: "Appointments", get: connectors.Medical.Appointments,
		owner: func(a connectors.Appointment) string { return a.UserID }})
	l.Consultations = newLoader(l, entity[connectors.Medical, connectors.Consultation]{
		kind: gid.Consultation, op: "Consultations", get: connectors.Medical.Consultations,
		owner: func(c connectors.Consultation) string { return c.UserID }})
	l.Lawyers = newLoader(l, entity[connectors.Legal, connectors.Lawyer]{
		kind: gid.Lawyer, op: "Lawyers", get: connectors.Legal.Lawyers})
	l.LegalConsultations = newLoader(l, entity[connectors.Legal, connectors.LegalConsultation]{
		kind: gid.LegalConsultation, op: "LegalConsultations", get: connectors.Legal.LegalConsultations,
		owner: func(c connectors.LegalConsultation) string { return c.UserID }})
	l.Services = newLoader(l, entity[connectors.PublicService, connectors.GovService]{
		kind: gid.GovService, op: "Services", get: connectors.PublicService.Services})
	l.Offices = newLoader(l, entity[connectors.PublicService, []connectors.Office]{
		kind: gid.Office, op: "Offices", get: connectors.PublicService.Offices})
	l.Applications = newLoader(l, entity[connectors.PublicService, connectors.ServiceApplication]{
		kind: gid.ServiceApplication, op: "Applications", get: connectors.PublicService.Applications,
		owner: func(a connectors.ServiceApplication) string { return a.UserID }})
	return l
}

// Registry returns the registry snapshot these loaders use.
func (l *Loaders) Registry() *connectors.Registry { return l.reg }

// entity describes how to batch-fetch one kind of object from connectors of
// type C.
type entity[C connectors.Connector, V any] struct {
	kind gid.Kind
	op   string
	get  func(C, context.Context, []string) ([]connectors.Result[V], error)
	// owner, when set, returns the user an object belongs to; objects of
	// other users read as NOT_FOUND, and the kind is never cached.
	owner func(V) string
}

func newLoader[C connectors.Connector, V any](l *Loaders, e entity[C, V]) *Loader[V] {
	opts := []dataloader.Option[Key, V]{dataloader.WithWait[Key, V](l.g.cfg.BatchWait)}
	if l.g.cfg.BatchCapacity > 0 {
		opts = append(opts, dataloader.WithBatchCapacity[Key, V](l.g.cfg.BatchCapacity))
	}
	ld := &Loader[V]{kind: e.kind}
	ld.batchFn = func(ctx context.Context, keys []Key) []*dataloader.Result[V] {
		return batch(ctx, l, ld, e, keys)
	}
	ld.Loader = dataloader.NewBatchedLoader(ld.batchFn, opts...)
	if !isPerParent(e.kind) {
		l.byKind[e.kind] = ld
	}
	return ld
}

// batch answers one loader batch: exactly len(keys) results in key order.
func batch[C connectors.Connector, V any](ctx context.Context, l *Loaders, ld *Loader[V], e entity[C, V], keys []Key) []*dataloader.Result[V] {
	fetch := func(ctx context.Context, keys []Key) []result[V] { return fetchDirect(ctx, l, e, keys) }
	var rs []result[V]
	if c := l.g.cache; c != nil && e.owner == nil && c.loaders[e.kind] != nil {
		var stale []bool
		rs, stale = cached(ctx, c, e.kind, keys, fetch)
		for i, s := range stale {
			if s {
				ld.stale.Store(keys[i], struct{}{})
			}
		}
	} else {
		rs = fetch(ctx, keys)
	}
	user, _ := connectors.UserFrom(ctx)
	out := make([]*dataloader.Result[V], len(keys))
	for i, r := range rs {
		switch {
		case r.err != nil:
			out[i] = &dataloader.Result[V]{Error: r.err}
		case e.owner != nil && e.owner(r.value) != user:
			out[i] = &dataloader.Result[V]{Error: connectors.Errorf(connectors.KindNotFound, "%s not found", e.kind)}
		default:
			out[i] = &dataloader.Result[V]{Data: r.value}
		}
	}
	return out
}

// fetchDirect groups keys by provider and makes one batch call per provider,
// all in parallel.
func fetchDirect[C connectors.Connector, V any](ctx context.Context, l *Loaders, e entity[C, V], keys []Key) []result[V] {
	out := make([]result[V], len(keys))
	byProvider := map[string][]int{}
	var order []string
	for i, k := range keys {
		if _, seen := byProvider[k.Provider]; !seen {
			order = append(order, k.Provider)
		}
		byProvider[k.Provider] = append(byProvider[k.Provider], i)
	}
	fetch := func(provider string) {
		idx := byProvider[provider]
		fail := func(err error) {
			for _, i := range idx {
				out[i].err = err
			}
		}
		conn, ok := l.reg.Get(provider)
		c, isC := conn.(C)
		if !ok || !isC {
			fail(connectors.Errorf(connectors.KindNotFound, "%s not found", e.kind))
			return
		}
		ids := make([]string, len(idx))
		for j, i := range idx {
			ids[j] = keys[i].ID
		}
		var rs []connectors.Result[V]
		err := l.g.call(ctx, conn.Describe().Vertical, provider, e.op, len(ids), true, func(ctx context.Context) error {
			var err error
			rs, err = e.get(c, ctx, ids)
			return err
		})
		if err == nil && len(rs) != len(ids) {
			err = providerError(provider, connectors.Errorf(connectors.KindProvider,
				"provider returned %d results for %d ids", len(rs), len(ids)))
		}
		if err != nil {
			fail(err)
			return
		}
		for j, i := range idx {
			if rs[j].Err != nil {
				out[i].err = itemError(provider, e.kind, rs[j].Err)
			} else {
				out[i].value = rs[j].Value
			}
		}
	}
	if len(order) == 1 {
		fetch(order[0])
		return out
	}
	var wg sync.WaitGroup
	for _, p := range order {
		wg.Add(1)
		go func() {
			defer wg.Done()
			fetch(p)
		}()
	}
	wg.Wait()
	return out
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
	var wg sync.WaitGroup
	for kind, ks := range keys {
		ld, ok := l.byKind[kind]
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

// prefetcher is a Loader of any value type, as PrefetchByKind needs it.
type prefetcher interface {
	prefetchKeys(context.Context, []Key)
}

// isPerParent reports whether kind is cached and loaded under its parent's ID
// (slots under a store or doctor, offices under a service).
func isPerParent(kind gid.Kind) bool {
	for _, child := range cachedPerParent {
		if child == kind {
			return true
		}
	}
	return false
}
