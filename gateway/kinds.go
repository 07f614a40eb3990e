package gateway

import (
	"context"
	"maps"
	"reflect"
	"sync"
	"time"

	"github.com/plaza-gateway/plaza/connectors"
	"github.com/plaza-gateway/plaza/gid"
)

// The entity kinds: every kind of object the gateway loads from providers,
// each declared once, here. Everything done per kind is derived from these
// declarations: the per-request loaders and typed access to them
// (Products.Of(loaders)), `node`/`nodes` routing (Loaders.Node,
// PrefetchByKind), the default cache TTLs (DefaultCachePolicy), invalidation
// (InvalidateForProvider, epochKinds), the gid kinds (gid/kinds_gen.go, generated
// from the Kind fields below by `go generate`) and, through Kinds, the GraphQL
// layer's complexity weights. The GraphQL layer registers each kind's model
// conversion with the conversion itself (resolvers/convert.go).
//
// Adding a kind is one declaration here plus its type in schema.graphqls
// (README: "Adding an entity kind"); resolvers.TestKindsMatchSchema fails,
// naming what is missing, while either side (or the conversion) is missing.
var (
	Stores = declare(Entity[connectors.Grocery, connectors.Store]{
		Kind: gid.Store, Op: "Stores", Get: connectors.Grocery.Stores,
		TTL: 10 * time.Minute, Weight: 1})
	// Stock changes with every order: short-lived, and invalidated by
	// placeGroceryOrder and cancelGroceryOrder.
	Products = declare(Entity[connectors.Grocery, connectors.Product]{
		Kind: gid.Product, Op: "Products", Get: connectors.Grocery.Products,
		TTL: 60 * time.Second, Weight: 1})
	Orders = declare(Entity[connectors.Grocery, connectors.GroceryOrder]{
		Kind: gid.GroceryOrder, Op: "Orders", Get: connectors.Grocery.Orders,
		Owner: func(o connectors.GroceryOrder) string { return o.UserID }, Weight: 1})
	// A store's delivery slots: capacity changes with every order.
	DeliverySlots = declare(Entity[connectors.Grocery, []connectors.DeliverySlot]{
		Kind: gid.DeliverySlot, Op: "DeliverySlots", Get: connectors.Grocery.DeliverySlots,
		TTL: 30 * time.Second, Parent: gid.Store, Weight: 1})
	Doctors = declare(Entity[connectors.Medical, connectors.Doctor]{
		Kind: gid.Doctor, Op: "Doctors", Get: connectors.Medical.Doctors,
		TTL: 10 * time.Minute, Weight: 1})
	// A doctor's slots: a booking takes one.
	AppointmentSlots = declare(Entity[connectors.Medical, []connectors.AppointmentSlot]{
		Kind: gid.AppointmentSlot, Op: "AppointmentSlots", Get: connectors.Medical.AppointmentSlots,
		TTL: 30 * time.Second, Parent: gid.Doctor, Weight: 1})
	Appointments = declare(Entity[connectors.Medical, connectors.Appointment]{
		Kind: gid.Appointment, Op: "Appointments", Get: connectors.Medical.Appointments,
		Owner: func(a connectors.Appointment) string { return a.UserID }, Weight: 1})
	Consultations = declare(Entity[connectors.Medical, connectors.Consultation]{
		Kind: gid.Consultation, Op: "Consultations", Get: connectors.Medical.Consultations,
		Owner: func(c connectors.Consultation) string { return c.UserID }, Weight: 1})
	Lawyers = declare(Entity[connectors.Legal, connectors.Lawyer]{
		Kind: gid.Lawyer, Op: "Lawyers", Get: connectors.Legal.Lawyers,
		TTL: 10 * time.Minute, Weight: 1})
	LegalConsultations = declare(Entity[connectors.Legal, connectors.LegalConsultation]{
		Kind: gid.LegalConsultation, Op: "LegalConsultations", Get: connectors.Legal.LegalConsultations,
		Owner: func(c connectors.LegalConsultation) string { return c.UserID }, Weight: 1})
	Services = declare(Entity[connectors.PublicService, connectors.GovService]{
		Kind: gid.GovService, Op: "Services", Get: connectors.PublicService.Services,
		TTL: time.Hour, Weight: 1})
	// A service's offices and their slots. An office is listed under every
	// service it handles, so an application drops all of the provider's
	// office lists at once (Epoch).
	Offices = declare(Entity[connectors.PublicService, []connectors.Office]{
		Kind: gid.Office, Op: "Offices", Get: connectors.PublicService.Offices,
		TTL: 5 * time.Minute, Parent: gid.GovService, Epoch: true, Weight: 1})
	Applications = declare(Entity[connectors.PublicService, connectors.ServiceApplication]{
		Kind: gid.ServiceApplication, Op: "Applications", Get: connectors.PublicService.Applications,
		Owner: func(a connectors.ServiceApplication) string { return a.UserID }, Weight: 1})
)

// entities are the declarations above, in declaration order: declare adds
// each as the package's variables are initialised, so anything derived from
// them is derived lazily (derived), after initialisation.
var entities kindSet

// kindSet is a set of declarations. A declaration's index is its place in
// its set, and its loader's place in Loaders.
type kindSet struct {
	list []declaration
	once sync.Once
	d    *derivedKinds
}

// declare adds e to the gateway's kinds and returns the handle its loader
// is reached through (Of).
func declare[C connectors.Connector, V any](e Entity[C, V]) *Entity[C, V] {
	return declareIn(&entities, e)
}

func declareIn[C connectors.Connector, V any](s *kindSet, e Entity[C, V]) *Entity[C, V] {
	h := &e
	h.index = len(s.list)
	s.list = append(s.list, h)
	return h
}

// Entity declares one kind of object, loaded in batches from connectors of
// type C as values of type V.
type Entity[C connectors.Connector, V any] struct {
	// Kind is the kind's GraphQL type name, as global IDs carry it.
	Kind gid.Kind
	// Op names the connector call in metrics and traces (the op label of
	// plaza_connector_calls_total): operators' dashboards depend on it.
	Op string
	// Get is the connector's batch method: one result per ID, in ID order.
	Get func(C, context.Context, []string) ([]connectors.Result[V], error)
	// Owner, when set, makes the kind personal: it returns the user an
	// object belongs to, another user's object reads as NOT_FOUND (its
	// existence does not leak), and the kind is never cached across
	// requests.
	Owner func(V) string
	// TTL is how long the cross-request cache keeps an object by default
	// (operators override it per provider); 0 never caches the kind.
	TTL time.Duration
	// Parent, when set, makes the kind a list cached and loaded under its
	// parent's ID (a store's delivery slots): it has no ID of its own to
	// fetch with `node`, and invalidating the parent invalidates it too.
	Parent gid.Kind
	// Epoch invalidates the kind per provider rather than per key, for
	// lists no key of a change can name (see epochKinds).
	Epoch bool
	// Weight is what one object adds to an operation's complexity, on top
	// of its selection: how much a provider call for it costs relative to
	// the others. 1 is gqlgen's default for any field.
	Weight int

	// index is the declaration's place in its kindSet.
	index int
}

// Of returns the kind's loader in l, typed: gateway.Products.Of(l).Get(ctx, k).
func (e *Entity[C, V]) Of(l *Loaders) *Loader[V] {
	return l.at(e.index).(*Loader[V])
}

// KindInfo is what a declaration tells the layers above the gateway.
type KindInfo struct {
	Kind gid.Kind
	// Value is the connectors type the kind's objects load as.
	Value reflect.Type
	// Parent is set for kinds loaded under their parent's ID.
	Parent   gid.Kind
	TTL      time.Duration
	Personal bool
	Epoch    bool
	Weight   int
}

// Kinds returns every declared kind, in declaration order.
func Kinds() []KindInfo { return entities.infos() }

func (s *kindSet) infos() []KindInfo {
	out := make([]KindInfo, len(s.list))
	for i, e := range s.list {
		out[i] = e.info()
	}
	return out
}

// declaration is an Entity of any connector and value type.
type declaration interface {
	info() KindInfo
	// newLoader returns the kind's loader for l.
	newLoader(l *Loaders) entityLoader
}

func (e *Entity[C, V]) info() KindInfo {
	return KindInfo{Kind: e.Kind, Value: reflect.TypeFor[V](), Parent: e.Parent, TTL: e.TTL,
		Personal: e.Owner != nil, Epoch: e.Epoch, Weight: e.Weight}
}

func (e *Entity[C, V]) newLoader(l *Loaders) entityLoader { return newLoader(l, e) }

// derivedKinds is what the gateway looks up by kind, derived from a set's
// declarations once, on first use.
type derivedKinds struct {
	// routable maps each kind loaded by its own ID (not its parent's) to
	// its index: `node` and `nodes` route through it.
	routable map[gid.Kind]int
	// cachedPerParent maps a parent kind to the kind cached under its ID.
	cachedPerParent map[gid.Kind]gid.Kind
	// epoch holds the kinds invalidated per provider (epochKinds).
	epoch map[gid.Kind]bool
	// ttls are the declared TTLs of the cached kinds.
	ttls map[gid.Kind]time.Duration
}

func (s *kindSet) derived() *derivedKinds {
	s.once.Do(func() {
		d := &derivedKinds{routable: map[gid.Kind]int{}, cachedPerParent: map[gid.Kind]gid.Kind{},
			epoch: map[gid.Kind]bool{}, ttls: map[gid.Kind]time.Duration{}}
		for i, e := range s.list {
			k := e.info()
			if k.Parent == "" {
				d.routable[k.Kind] = i
			} else {
				d.cachedPerParent[k.Parent] = k.Kind
			}
			if k.Epoch {
				d.epoch[k.Kind] = true
			}
			if k.TTL > 0 {
				d.ttls[k.Kind] = k.TTL
			}
		}
		s.d = d
	})
	return s.d
}

// defaultTTLs are the declared TTLs of the cached kinds (a copy: the
// caller's to change).
func defaultTTLs() map[gid.Kind]time.Duration { return maps.Clone(entities.derived().ttls) }
