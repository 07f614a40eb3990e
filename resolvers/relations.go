package resolvers

import (
	"github.com/plaza-gateway/plaza/connectors"
	"github.com/plaza-gateway/plaza/gateway"
	"github.com/plaza-gateway/plaza/gid"
	"github.com/plaza-gateway/plaza/graph/model"
)

// relationTable is the prefetch table (see prefetch.go): every field that loads
// another object by key through a request loader. The field resolvers they
// stand for are in fields.go; each relation's key is the key its resolver
// loads, so the resolver is answered from what the prefetch fetched.
//
// To add one: a field resolver that loads through a loader (gqlgen.yml
// `resolver: true`), then an entry here naming the field, the parent's key,
// the loader, and — when the target type has relations of its own — the
// conversion its resolver applies, then a case in TestRelations
// (api/e2e_relations_test.go) counting its calls. A mismatch with the
// schema panics at start-up with the reason.
var relationTable = []relation{
	link[*model.OrderItem, connectors.Product, *model.Product]{
		name: "product", key: func(it *model.OrderItem) (gateway.Key, bool) {
			return gateway.Key{Provider: it.ProviderID, ID: it.ProductID}, it.ProductID != ""
		},
		loader: gateway.Products.Of, conv: toProduct, set: func(it *model.OrderItem, p *model.Product) { it.Product = p }},
	link[*model.Product, connectors.Store, *model.Store]{
		name: "store", key: func(p *model.Product) (gateway.Key, bool) {
			return gateway.Key{Provider: p.ProviderID, ID: p.StoreID}, p.StoreID != ""
		},
		loader: gateway.Stores.Of, conv: toStore, set: func(p *model.Product, s *model.Store) { p.Store = s }},
	link[*model.GroceryOrder, connectors.Store, *model.Store]{
		name: "store", key: func(o *model.GroceryOrder) (gateway.Key, bool) {
			return gateway.Key{Provider: o.ProviderID, ID: o.StoreID}, o.StoreID != ""
		},
		loader: gateway.Stores.Of, conv: toStore},
	// An order's slot is found among its store's slots: the loader is
	// keyed by store.
	link[*model.GroceryOrder, []connectors.DeliverySlot, *model.DeliverySlot]{
		name: "slot", key: func(o *model.GroceryOrder) (gateway.Key, bool) {
			return gateway.Key{Provider: o.ProviderID, ID: o.StoreID}, o.StoreID != ""
		},
		loader: gateway.DeliverySlots.Of},
	link[*model.Store, []connectors.DeliverySlot, []*model.DeliverySlot]{
		name: "deliverySlots", key: func(s *model.Store) (gateway.Key, bool) { return localKey(s.ID, gid.Store) },
		loader: gateway.DeliverySlots.Of},
	link[*model.Doctor, []connectors.AppointmentSlot, []*model.AppointmentSlot]{
		name: "slots", key: func(d *model.Doctor) (gateway.Key, bool) { return localKey(d.ID, gid.Doctor) },
		loader: gateway.AppointmentSlots.Of},
	link[*model.GovService, []connectors.Office, []*model.Office]{
		name: "offices", key: func(s *model.GovService) (gateway.Key, bool) { return localKey(s.ID, gid.GovService) },
		loader: gateway.Offices.Of},
	link[*model.Appointment, connectors.Doctor, *model.Doctor]{
		name: "doctor", key: func(a *model.Appointment) (gateway.Key, bool) {
			return gateway.Key{Provider: a.ProviderID, ID: a.DoctorID}, a.DoctorID != ""
		},
		loader: gateway.Doctors.Of, conv: toDoctor},
	link[*model.Consultation, connectors.Doctor, *model.Doctor]{
		name: "doctor", key: func(c *model.Consultation) (gateway.Key, bool) {
			return gateway.Key{Provider: c.ProviderID, ID: c.DoctorID}, c.DoctorID != ""
		},
		loader: gateway.Doctors.Of, conv: toDoctor},
	link[*model.LegalConsultation, connectors.Lawyer, *model.Lawyer]{
		name: "lawyer", key: func(c *model.LegalConsultation) (gateway.Key, bool) {
			return gateway.Key{Provider: c.ProviderID, ID: c.LawyerID}, c.LawyerID != ""
		},
		loader: gateway.Lawyers.Of},
	link[*model.ServiceApplication, connectors.GovService, *model.GovService]{
		name: "service", key: func(a *model.ServiceApplication) (gateway.Key, bool) {
			return gateway.Key{Provider: a.ProviderID, ID: a.ServiceID}, a.ServiceID != ""
		},
		loader: gateway.Services.Of, conv: toService},
	// An application's office is found among its service's offices: the
	// loader is keyed by service.
	link[*model.ServiceApplication, []connectors.Office, *model.Office]{
		name: "office", key: func(a *model.ServiceApplication) (gateway.Key, bool) {
			return gateway.Key{Provider: a.ProviderID, ID: a.ServiceID}, a.ServiceID != "" && a.OfficeID != ""
		},
		loader: gateway.Offices.Of},
}

// relations is the table, checked and indexed for the walk.
var relations = mustRelations(relationTable...)

// localKey is the loader key of a global ID of kind k.
func localKey(id string, k gid.Kind) (gateway.Key, bool) {
	key, err := decode(id, k)
	return key, err == nil
}
