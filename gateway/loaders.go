package gateway

import (
	"context"
	"sync"

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
// Each batch groups its keys by provider and makes one batch call per
// provider, all providers in parallel. For user-owned kinds the batch also
// checks ownership: another user's object reads as NOT_FOUND, so its
// existence does not leak.
type Loaders struct {
	g   *Gateway
	reg *connectors.Registry

	Stores             *dataloader.Loader[Key, connectors.Store]
	Products           *dataloader.Loader[Key, connectors.Product]
	Orders             *dataloader.Loader[Key, connectors.GroceryOrder]
	DeliverySlots      *dataloader.Loader[Key, []connectors.DeliverySlot]
	Doctors            *dataloader.Loader[Key, connectors.Doctor]
	AppointmentSlots   *dataloader.Loader[Key, []connectors.AppointmentSlot]
	Appointments       *dataloader.Loader[Key, connectors.Appointment]
	Consultations      *dataloader.Loader[Key, connectors.Consultation]
	Lawyers            *dataloader.Loader[Key, connectors.Lawyer]
	LegalConsultations *dataloader.Loader[Key, connectors.LegalConsultation]
	Services           *dataloader.Loader[Key, connectors.GovService]
	Offices            *dataloader.Loader[Key, []connectors.Office]
	Applications       *dataloader.Loader[Key, connectors.ServiceApplication]
}

// NewLoaders returns fresh loaders for one request.
func (g *Gateway) NewLoaders() *Loaders {
	l := &Loaders{g: g, reg: g.Registry()}
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
	// other users read as NOT_FOUND.
	owner func(V) string
}

func newLoader[C connectors.Connector, V any](l *Loaders, e entity[C, V]) *dataloader.Loader[Key, V] {
	opts := []dataloader.Option[Key, V]{dataloader.WithWait[Key, V](l.g.cfg.BatchWait)}
	if l.g.cfg.BatchCapacity > 0 {
		opts = append(opts, dataloader.WithBatchCapacity[Key, V](l.g.cfg.BatchCapacity))
	}
	return dataloader.NewBatchedLoader(func(ctx context.Context, keys []Key) []*dataloader.Result[V] {
		return batch(ctx, l, e, keys)
	}, opts...)
}

// batch answers one loader batch: exactly len(keys) results in key order.
func batch[C connectors.Connector, V any](ctx context.Context, l *Loaders, e entity[C, V], keys []Key) []*dataloader.Result[V] {
	out := make([]*dataloader.Result[V], len(keys))
	byProvider := map[string][]int{}
	var order []string
	for i, k := range keys {
		if _, seen := byProvider[k.Provider]; !seen {
			order = append(order, k.Provider)
		}
		byProvider[k.Provider] = append(byProvider[k.Provider], i)
	}
	user, _ := connectors.UserFrom(ctx)
	fetch := func(provider string) {
		idx := byProvider[provider]
		fail := func(err error) {
			for _, i := range idx {
				out[i] = &dataloader.Result[V]{Error: err}
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
		err := l.g.call(ctx, provider, e.op, len(ids), true, func(ctx context.Context) error {
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
			r := rs[j]
			switch {
			case r.Err != nil:
				out[i] = &dataloader.Result[V]{Error: itemError(provider, e.kind, r.Err)}
			case e.owner != nil && e.owner(r.Value) != user:
				out[i] = &dataloader.Result[V]{Error: connectors.Errorf(connectors.KindNotFound, "%s not found", e.kind)}
			default:
				out[i] = &dataloader.Result[V]{Data: r.Value}
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
