package gateway

import (
	"context"
	"reflect"
	"time"

	"github.com/plaza-gateway/plaza/connectors"
	"github.com/plaza-gateway/plaza/gid"
)

// entities declares every kind of object the gateway loads from providers,
// once. Everything the gateway does per kind is derived from this table: the
// per-request loaders (NewLoaders), `node`/`nodes` routing (Loaders.Node,
// PrefetchByKind), the default cache TTLs (DefaultCachePolicy), invalidation
// (cachedPerParent, epochKinds) and, through Kinds, the GraphQL layer's
// complexity weights.
//
// Adding a kind is one entry here plus its type in schema.graphqls (and its
// model conversion in resolvers, which any new type needs);
// resolvers.TestKindsMatchSchema fails while either side is missing.
var entities = []declaration{
	Entity[connectors.Grocery, connectors.Store]{
		Kind: gid.Store, Op: "Stores", Get: connectors.Grocery.Stores,
		TTL: 10 * time.Minute, Weight: 1,
		Field: func(l *Loaders) **Loader[connectors.Store] { return &l.Stores }},
	// Stock changes with every order: short-lived, and invalidated by
	// placeGroceryOrder and cancelGroceryOrder.
	Entity[connectors.Grocery, connectors.Product]{
		Kind: gid.Product, Op: "Products", Get: connectors.Grocery.Products,
		TTL: 60 * time.Second, Weight: 1,
		Field: func(l *Loaders) **Loader[connectors.Product] { return &l.Products }},
	Entity[connectors.Grocery, connectors.GroceryOrder]{
		Kind: gid.GroceryOrder, Op: "Orders", Get: connectors.Grocery.Orders,
		Owner: func(o connectors.GroceryOrder) string { return o.UserID }, Weight: 1,
		Field: func(l *Loaders) **Loader[connectors.GroceryOrder] { return &l.Orders }},
	// A store's delivery slots: capacity changes with every order.
	Entity[connectors.Grocery, []connectors.DeliverySlot]{
		Kind: gid.DeliverySlot, Op: "DeliverySlots", Get: connectors.Grocery.DeliverySlots,
		TTL: 30 * time.Second, Parent: gid.Store, Weight: 1,
		Field: func(l *Loaders) **Loader[[]connectors.DeliverySlot] { return &l.DeliverySlots }},
	Entity[connectors.Medical, connectors.Doctor]{
		Kind: gid.Doctor, Op: "Doctors", Get: connectors.Medical.Doctors,
		TTL: 10 * time.Minute, Weight: 1,
		Field: func(l *Loaders) **Loader[connectors.Doctor] { return &l.Doctors }},
	// A doctor's slots: a booking takes one.
	Entity[connectors.Medical, []connectors.AppointmentSlot]{
		Kind: gid.AppointmentSlot, Op: "AppointmentSlots", Get: connectors.Medical.AppointmentSlots,
		TTL: 30 * time.Second, Parent: gid.Doctor, Weight: 1,
		Field: func(l *Loaders) **Loader[[]connectors.AppointmentSlot] { return &l.AppointmentSlots }},
	Entity[connectors.Medical, connectors.Appointment]{
		Kind: gid.Appointment, Op: "Appointments", Get: connectors.Medical.Appointments,
		Owner: func(a connectors.Appointment) string { return a.UserID }, Weight: 1,
		Field: func(l *Loaders) **Loader[connectors.Appointment] { return &l.Appointments }},
	Entity[connectors.Medical, connectors.Consultation]{
		Kind: gid.Consultation, Op: "Consultations", Get: connectors.Medical.Consultations,
		Owner: func(c connectors.Consultation) string { return c.UserID }, Weight: 1,
		Field: func(l *Loaders) **Loader[connectors.Consultation] { return &l.Consultations }},
	Entity[connectors.Legal, connectors.Lawyer]{
		Kind: gid.Lawyer, Op: "Lawyers", Get: connectors.Legal.Lawyers,
		TTL: 10 * time.Minute, Weight: 1,
		Field: func(l *Loaders) **Loader[connectors.Lawyer] { return &l.Lawyers }},
	Entity[connectors.Legal, connectors.LegalConsultation]{
		Kind: gid.LegalConsultation, Op: "LegalConsultations", Get: connectors.Legal.LegalConsultations,
		Owner: func(c connectors.LegalConsultation) string { return c.UserID }, Weight: 1,
		Field: func(l *Loaders) **Loader[connectors.LegalConsultation] { return &l.LegalConsultations }},
	Entity[connectors.PublicService, connectors.GovService]{
		Kind: gid.GovService, Op: "Services", Get: connectors.PublicService.Services,
		TTL: time.Hour, Weight: 1,
		Field: func(l *Loaders) **Loader[connectors.GovService] { return &l.Services }},
	// A service's offices and their slots. An office is listed under every
	// service it handles, so an application drops all of the provider's
	// office lists at once (Epoch).
	Entity[connectors.PublicService, []connectors.Office]{
		Kind: gid.Office, Op: "Offices", Get: connectors.PublicService.Offices,
		TTL: 5 * time.Minute, Parent: gid.GovService, Epoch: true, Weight: 1,
		Field: func(l *Loaders) **Loader[[]connectors.Office] { return &l.Offices }},
	Entity[connectors.PublicService, connectors.ServiceApplication]{
		Kind: gid.ServiceApplication, Op: "Applications", Get: connectors.PublicService.Applications,
		Owner: func(a connectors.ServiceApplication) string { return a.UserID }, Weight: 1,
		Field: func(l *Loaders) **Loader[connectors.ServiceApplication] { return &l.Applications }},
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
	// Field returns where Loaders keeps the kind's typed loader, the
	// handle resolvers load it through.
	Field func(*Loaders) **Loader[V]
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
func Kinds() []KindInfo {
	out := make([]KindInfo, len(entities))
	for i, e := range entities {
		out[i] = e.info()
	}
	return out
}

// declaration is an Entity of any connector and value type.
type declaration interface {
	info() KindInfo
	// build adds the kind's loader to l.
	build(l *Loaders)
}

func (e Entity[C, V]) info() KindInfo {
	return KindInfo{Kind: e.Kind, Value: reflect.TypeFor[V](), Parent: e.Parent, TTL: e.TTL,
		Personal: e.Owner != nil, Epoch: e.Epoch, Weight: e.Weight}
}

func (e Entity[C, V]) build(l *Loaders) {
	ld := newLoader(l, e)
	*e.Field(l) = ld
	if e.Parent == "" {
		l.byKind = append(l.byKind, kindLoader{e.Kind, ld})
	}
}

// derive collects one map from the declarations: pick returns a value and
// whether the kind has one.
func derive[T any](pick func(KindInfo) (gid.Kind, T, bool)) map[gid.Kind]T {
	out := map[gid.Kind]T{}
	for _, e := range entities {
		if k, v, ok := pick(e.info()); ok {
			out[k] = v
		}
	}
	return out
}

// cachedPerParent maps a parent kind to the kind cached under its ID.
var cachedPerParent = derive(func(k KindInfo) (gid.Kind, gid.Kind, bool) { return k.Parent, k.Kind, k.Parent != "" })

// defaultTTLs are the declared TTLs of the cached kinds.
func defaultTTLs() map[gid.Kind]time.Duration {
	return derive(func(k KindInfo) (gid.Kind, time.Duration, bool) { return k.Kind, k.TTL, k.TTL > 0 })
}
