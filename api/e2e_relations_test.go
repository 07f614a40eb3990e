package api_test

import (
	"slices"
	"testing"

	"github.com/plaza-gateway/plaza/api/apitest"
	"github.com/plaza-gateway/plaza/gateway"
)

// TestRelations counts, for every relation of the prefetch table
// (resolvers/relations.go) and every root that walks it, the provider calls
// of each level. The loaders' own batches are capped at one key here, so a
// level the prefetch missed costs one call per object and fails the count:
// only the prefetch can fetch a level of many objects in one call per
// provider. Each case checks that its level has a provider with several
// keys, so that it would notice.
func TestRelations(t *testing.T) {
	cfg := gateway.DefaultConfig()
	cfg.BatchCapacity = 1
	g := apitest.Start(t, apitest.Options{GatewayOptions: []gateway.Option{gateway.WithConfig(cfg)}})
	ids := productIDs(t, g, 30)

	for _, tc := range []struct {
		name, user, query string
		vars              map[string]any
		levels            []string // connector operations, each one call per provider
		none              []string // operations that must not be called
	}{
		{name: "OrderItem.product", user: "demo-1",
			query:  `{ me { orders(first: 50) { edges { node { items { product { id name } } } } } } }`,
			levels: []string{"Products"}, none: []string{"Stores", "DeliverySlots"}},
		{name: "OrderItem.product then Product.store", user: "demo-1", query: fiftyOrders,
			levels: []string{"Products", "Stores"}, none: []string{"DeliverySlots"}},
		{name: "GroceryOrder.store", user: "demo-1",
			query:  `{ me { orders(first: 50) { edges { node { id store { id name } } } } } }`,
			levels: []string{"Stores"}, none: []string{"Products", "DeliverySlots"}},
		{name: "GroceryOrder.slot", user: "demo-1",
			query:  `{ me { orders(first: 50) { edges { node { id slot { id start } } } } } }`,
			levels: []string{"DeliverySlots"}, none: []string{"Products", "Stores"}},
		{name: "GroceryOrder.store then Store.deliverySlots, with the products' stores", user: "demo-1",
			query:  `{ me { orders(first: 50) { edges { node { store { deliverySlots { id } } items { product { store { name } } } } } } } }`,
			levels: []string{"Products", "Stores", "DeliverySlots"}},
		{name: "Store.deliverySlots",
			query:  `{ stores(first: 40) { edges { node { id deliverySlots { id remaining } } } } }`,
			levels: []string{"DeliverySlots"}},
		{name: "Product.store below products",
			query:  `{ products(text: "milk", first: 40) { edges { node { id store { id name } } } } }`,
			levels: []string{"Stores"}},
		{name: "Product.store below nodes",
			query: `query($ids: [ID!]!) { nodes(ids: $ids) { id ... on Product { store { id name } } } }`, vars: map[string]any{"ids": ids},
			levels: []string{"Products", "Stores"}},
		{name: "Product.store and Store.deliverySlots below search, through fragments", query: `{ search(text: "fresh", first: 100) { edges { node {
			...P ... on Store { deliverySlots { id } } } } } } fragment P on Product { store { name } }`,
			levels: []string{"Stores", "DeliverySlots"}},
		{name: "Doctor.slots and GovService.offices below search", query: `{ search(first: 100) { edges { node {
			... on Doctor { slots { id } } ... on GovService { offices { id } } } } } }`,
			levels: []string{"AppointmentSlots", "Offices"}},
		{name: "Doctor.slots",
			query:  `{ doctors(first: 40) { edges { node { id slots { id available } } } } }`,
			levels: []string{"AppointmentSlots"}},
		{name: "GovService.offices",
			query:  `{ govServices(first: 40) { edges { node { id offices { id } } } } }`,
			levels: []string{"Offices"}},
		{name: "Appointment.doctor", user: "demo-2",
			query:  `{ me { appointments(first: 50) { edges { node { id doctor { id name } } } } } }`,
			levels: []string{"Doctors"}, none: []string{"AppointmentSlots"}},
		{name: "Appointment.doctor then Doctor.slots", user: "demo-2",
			query:  `{ me { appointments(first: 50) { edges { node { doctor { slots { id } } } } } } }`,
			levels: []string{"Doctors", "AppointmentSlots"}},
		{name: "Consultation.doctor", user: "demo-1",
			query:  `{ me { consultations(first: 50) { edges { node { id doctor { id name } } } } } }`,
			levels: []string{"Doctors"}},
		{name: "LegalConsultation.lawyer", user: "demo-1",
			query:  `{ me { legalConsultations(first: 50) { edges { node { id lawyer { id name } } } } } }`,
			levels: []string{"Lawyers"}},
		{name: "ServiceApplication.service", user: "demo-1",
			query:  `{ me { applications(first: 50) { edges { node { id service { id name } } } } } }`,
			levels: []string{"Services"}, none: []string{"Offices"}},
		{name: "ServiceApplication.service then GovService.offices", user: "demo-1",
			query:  `{ me { applications(first: 50) { edges { node { service { offices { id } } } } } } }`,
			levels: []string{"Services", "Offices"}},
		{name: "ServiceApplication.office and visitSlot", user: "demo-1",
			query:  `{ me { applications(first: 50) { edges { node { id office { id name } visitSlot { id start } } } } } }`,
			levels: []string{"Offices"}, none: []string{"Services"}},
		// The page's products are named from the index (a product's store
		// would complete them live: a second level of Products).
		{name: "the products of the orders the home page infers the city from", user: "demo-1",
			query:  `{ home { city sections { items { node { ... on Product { name } } } } } }`,
			levels: []string{"Products"}},
		{name: "nothing selected below a list calls nothing below it",
			query: `{ stores(first: 40) { edges { node { id name } } } }`, none: []string{"Stores", "DeliverySlots"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, resp := mustData[map[string]any](t, g, apitest.Request{User: tc.user, Debug: true, Query: tc.query, Variables: tc.vars})
			for _, op := range tc.levels {
				n, per := resp.CallCount(op)
				keys := keysByProvider(resp, op)
				if n == 0 || !slices.ContainsFunc(mapValues(keys), func(k int) bool { return k > 1 }) {
					t.Fatalf("%s: %d calls with keys %v: the query no longer has a level of several objects at one provider", op, n, keys)
				}
				for p, calls := range per {
					if calls != 1 {
						t.Errorf("%s: %d calls to %s, want 1 for the whole level (calls per provider %v, keys %v)", op, calls, p, per, keys)
					}
				}
			}
			for _, op := range tc.none {
				if n, _ := resp.CallCount(op); n > 0 {
					t.Errorf("%s: %d calls for a level the query does not select", op, n)
				}
			}
		})
	}
}

// productIDs returns the IDs of n products found by search, from several
// providers and stores.
func productIDs(tb testing.TB, g *apitest.Gateway, n int) []any {
	tb.Helper()
	d, _ := mustData[productsData](tb, g, apitest.Request{Query: productsQuery, Variables: map[string]any{"text": "milk", "first": n}})
	var ids []any
	for _, p := range d.Products.nodes() {
		ids = append(ids, p.ID)
	}
	if len(ids) != n {
		tb.Fatalf("%d products, want %d", len(ids), n)
	}
	return ids
}

func mapValues(m map[string]int) []int {
	out := make([]int, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	return out
}
