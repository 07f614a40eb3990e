package api_test

import (
	"testing"

	"github.com/plaza-gateway/plaza/api/apitest"
)

// TestListLevelsBatch checks that every level below a list costs exactly one
// call per provider, on every execution: the list resolvers prefetch the
// level the query selects (resolvers/prefetch.go) rather than rely on the
// elements' loads meeting in one dataloader window, which timing does not
// guarantee; and the elements, answered from memory, run in order without
// goroutines (package listexec).
func TestListLevelsBatch(t *testing.T) {
	g := startDemo(t)
	for _, tc := range []struct {
		name, user, query string
		ops               []string
	}{
		{"doctors with slots", "", `{ doctors(first: 40) { edges { node { id slots { id } } } } }`, []string{"AppointmentSlots"}},
		{"orders with store and slot", "demo-1", `{ me { orders(first: 50) { edges { node { id store { id } slot { id } } } } } }`, []string{"Stores", "DeliverySlots"}},
		{"stores with delivery slots", "", `{ stores(first: 24) { edges { node { id deliverySlots { id } } } } }`, []string{"DeliverySlots"}},
		{"services with offices", "", `{ govServices(first: 40) { edges { node { id offices { id } } } } }`, []string{"Offices"}},
		{"appointments with doctors", "demo-2", `{ me { appointments(first: 50) { edges { node { id doctor { id name } } } } } }`, []string{"Doctors"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for run := 1; run <= 3; run++ {
				_, resp := mustData[map[string]any](t, g, apitest.Request{User: tc.user, Debug: true, Query: tc.query})
				for _, op := range tc.ops {
					n, per := resp.CallCount(op)
					if n == 0 {
						t.Fatalf("run %d: no %s call: the query no longer exercises an unprefetched level", run, op)
					}
					for p, calls := range per {
						if calls != 1 {
							t.Fatalf("run %d: %d %s calls to %s (per provider %v)", run, calls, op, p, per)
						}
					}
				}
			}
		})
	}
}
