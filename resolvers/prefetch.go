package resolvers

import (
	"context"

	"github.com/plaza-gateway/plaza/gateway"
	"github.com/plaza-gateway/plaza/gid"
	"github.com/plaza-gateway/plaza/graph/model"
)

// relation is a field of model M that loads another object by key through a
// request loader: the level below a list of M. When a list resolver has its
// page, prefetchLevel fetches that level for the whole page at once (one
// batch per provider) if the query selects the field, so the per-object
// resolvers are answered from the loaders' memory: each level costs exactly
// one call per provider, whatever the executor's timing, and the elements
// can run in order without goroutines (package listexec).
type relation[M any] struct {
	field string
	key   func(M) (gateway.Key, bool)
	fetch func(ctx context.Context, l *gateway.Loaders, keys []gateway.Key)
}

// prefetchLevel prefetches every relation of objs that the current field's
// selection reaches at path + relation.field.
func prefetchLevel[M any](ctx context.Context, r *Resolver, objs []M, rels []relation[M], path ...string) {
	if len(objs) == 0 {
		return
	}
	l := r.loaders(ctx)
	for _, rel := range rels {
		if !selects(ctx, append(path[:len(path):len(path)], rel.field)...) {
			continue
		}
		keys := make([]gateway.Key, 0, len(objs))
		for _, o := range objs {
			if k, ok := rel.key(o); ok {
				keys = append(keys, k)
			}
		}
		if len(keys) > 0 {
			rel.fetch(ctx, l, keys)
		}
	}
}

// localKey is the loader key of a global ID of kind k.
func localKey(id string, k gid.Kind) (gateway.Key, bool) {
	key, err := decode(id, k)
	return key, err == nil
}

func stores(ctx context.Context, l *gateway.Loaders, keys []gateway.Key) {
	l.Stores.Prefetch(ctx, keys)
}
func deliverySlots(ctx context.Context, l *gateway.Loaders, keys []gateway.Key) {
	l.DeliverySlots.Prefetch(ctx, keys)
}
func doctors(ctx context.Context, l *gateway.Loaders, keys []gateway.Key) {
	l.Doctors.Prefetch(ctx, keys)
}
func lawyers(ctx context.Context, l *gateway.Loaders, keys []gateway.Key) {
	l.Lawyers.Prefetch(ctx, keys)
}
func services(ctx context.Context, l *gateway.Loaders, keys []gateway.Key) {
	l.Services.Prefetch(ctx, keys)
}

// The relations of each model a list resolver returns; the field resolvers
// they stand for are in fields.go.
var (
	orderRelations = []relation[*model.GroceryOrder]{
		{"store", func(o *model.GroceryOrder) (gateway.Key, bool) {
			return gateway.Key{Provider: o.ProviderID, ID: o.StoreID}, o.StoreID != ""
		}, stores},
		{"slot", func(o *model.GroceryOrder) (gateway.Key, bool) {
			return gateway.Key{Provider: o.ProviderID, ID: o.StoreID}, o.StoreID != ""
		}, deliverySlots},
	}
	storeRelations = []relation[*model.Store]{
		{"deliverySlots", func(s *model.Store) (gateway.Key, bool) { return localKey(s.ID, gid.Store) }, deliverySlots},
	}
	doctorRelations = []relation[*model.Doctor]{
		{"slots", func(d *model.Doctor) (gateway.Key, bool) { return localKey(d.ID, gid.Doctor) },
			func(ctx context.Context, l *gateway.Loaders, keys []gateway.Key) {
				l.AppointmentSlots.Prefetch(ctx, keys)
			}},
	}
	govServiceRelations = []relation[*model.GovService]{
		{"offices", func(s *model.GovService) (gateway.Key, bool) { return localKey(s.ID, gid.GovService) },
			func(ctx context.Context, l *gateway.Loaders, keys []gateway.Key) { l.Offices.Prefetch(ctx, keys) }},
	}
	appointmentRelations = []relation[*model.Appointment]{
		{"doctor", func(a *model.Appointment) (gateway.Key, bool) {
			return gateway.Key{Provider: a.ProviderID, ID: a.DoctorID}, a.DoctorID != ""
		}, doctors},
	}
	consultationRelations = []relation[*model.Consultation]{
		{"doctor", func(c *model.Consultation) (gateway.Key, bool) {
			return gateway.Key{Provider: c.ProviderID, ID: c.DoctorID}, c.DoctorID != ""
		}, doctors},
	}
	legalRelations = []relation[*model.LegalConsultation]{
		{"lawyer", func(c *model.LegalConsultation) (gateway.Key, bool) {
			return gateway.Key{Provider: c.ProviderID, ID: c.LawyerID}, c.LawyerID != ""
		}, lawyers},
	}
	applicationRelations = []relation[*model.ServiceApplication]{
		{"service", func(a *model.ServiceApplication) (gateway.Key, bool) {
			return gateway.Key{Provider: a.ProviderID, ID: a.ServiceID}, a.ServiceID != ""
		}, services},
	}
)

// nodesOf returns the nodes of a page of edges.
func nodesOf[E, M any](edges []E, node func(E) M) []M {
	out := make([]M, len(edges))
	for i, e := range edges {
		out[i] = node(e)
	}
	return out
}
