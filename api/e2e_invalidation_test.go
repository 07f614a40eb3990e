package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/plaza-gateway/plaza/api"
	"github.com/plaza-gateway/plaza/api/apitest"
	"github.com/plaza-gateway/plaza/cache"
	"github.com/plaza-gateway/plaza/cache/cachetest"
	"github.com/plaza-gateway/plaza/connectors"
	"github.com/plaza-gateway/plaza/connectors/demo"
)

// TestMutationInvalidatesWhatItChanged runs every (mutation, affected read) pair of the audit in
// gateway/mutations.go: the read is warm in both instances' caches (L1 over the shared Redis), the mutation runs on
// A, the very next read on A shows the change, and so does B's first read one L1 TTL later (the staleness bound; the
// pub/sub broadcast usually makes it sooner).
func TestMutationInvalidatesWhatItChanged(t *testing.T) {
	t.Parallel()
	conns, err := demo.Default()
	if err != nil {
		t.Fatal(err)
	}
	prefix := cachetest.Prefix(t)
	start := func() *cachedGateway {
		return startCached(t, cacheOpts{prefix: prefix, l1: true, conns: conns})
	}
	a, b := start(), start()
	f := orderFixture(t, a.Gateway)
	doc := someDoctors(t, a.Gateway, 1)[0]
	lawyer := someLawyer(t, a.Gateway)
	svc, other, office := sharedOffice(t, a.Gateway)

	order := func(t *testing.T, user string) string {
		t.Helper()
		d, _ := mustData[placedOrder](t, a.Gateway, apitest.Request{User: user, Query: placeOrderMutation,
			Variables: orderInput(f.store, f.slot, f.product, 1, "")})
		return d.PlaceGroceryOrder.ID
	}
	cancel := func(t *testing.T, user, id string) {
		t.Helper()
		mustQuery(t, a.Gateway, apitest.Request{User: user, Query: `mutation($id: ID!) { cancelGroceryOrder(id: $id) { id } }`,
			Variables: map[string]any{"id": id}})
	}
	stock := read{op: "Products", query: `query($id: ID!) { node(id: $id) { ... on Product { v: stock } } }`, id: f.product}
	remaining := read{op: "DeliverySlots", query: `query($id: ID!) { node(id: $id) { ... on Store { deliverySlots { id remaining } } } }`,
		id: f.store, pick: func(raw json.RawMessage) any { return field(t, raw, "deliverySlots", f.slot, "remaining") }}
	doctorSlot := doc.Slots[0].ID
	slotOpen := read{op: "AppointmentSlots", query: `query($id: ID!) { node(id: $id) { ... on Doctor { slots(onlyAvailable: false) { id available } } } }`,
		id: doc.ID, pick: func(raw json.RawMessage) any { return field(t, raw, "slots", doctorSlot, "available") }}
	officeSlot := func(service string) read {
		return read{op: "Offices", query: `query($id: ID!) { node(id: $id) { ... on GovService { offices { id slots(onlyAvailable: false) { id available } } } } }`,
			id: service, pick: func(raw json.RawMessage) any { return officeSlotAvailable(t, raw, office.id, office.slot) }}
	}
	mine := func(list string) read {
		return read{user: "demo-21", query: fmt.Sprintf(`{ me { v: %s(first: 1) { edges { node { id } } } } }`, list), uncached: true,
			pick: func(raw json.RawMessage) any { return string(raw) }}
	}

	var placed string
	for _, tc := range []struct {
		mutation, read string
		r              read
		setup          func(t *testing.T)
		mutate         func(t *testing.T)
		want           func(before any) any
	}{
		{"placeGroceryOrder", "the product's stock", stock, nil,
			func(t *testing.T) { order(t, "demo-20") }, func(v any) any { return v.(float64) - 1 }},
		{"placeGroceryOrder", "the remaining capacity of the store's slot", remaining, nil,
			func(t *testing.T) { order(t, "demo-20") }, func(v any) any { return v.(float64) - 1 }},
		{"cancelGroceryOrder", "the product's stock", stock, func(t *testing.T) { placed = order(t, "demo-20") },
			func(t *testing.T) { cancel(t, "demo-20", placed) }, func(v any) any { return v.(float64) + 1 }},
		{"cancelGroceryOrder", "the remaining capacity of the store's slot", remaining, func(t *testing.T) { placed = order(t, "demo-20") },
			func(t *testing.T) { cancel(t, "demo-20", placed) }, func(v any) any { return v.(float64) + 1 }},
		{"bookDoctorAppointment", "the doctor's slot", slotOpen, nil,
			func(t *testing.T) {
				mustQuery(t, a.Gateway, apitest.Request{User: "demo-20", Query: bookMutation, Variables: bookInput(doc.ID, doctorSlot, "")})
			}, func(any) any { return false }},
		{"applyForGovService", "the office's slot under the service applied for", officeSlot(svc.ID), nil,
			func(t *testing.T) { apply(t, a.Gateway, svc, office.id, office.slot) }, func(any) any { return false }},
		{"applyForGovService", "the same office's slot under another service it handles", officeSlot(other), nil,
			func(t *testing.T) { apply(t, a.Gateway, svc, office.id, office.nextSlot) }, nil},
		{"askDoctor", "the user's consultations", mine("consultations"), nil,
			func(t *testing.T) {
				mustQuery(t, a.Gateway, apitest.Request{User: "demo-21", Query: `mutation($in: AskDoctorInput!) { askDoctor(input: $in) { id } }`,
					Variables: map[string]any{"in": map[string]any{"doctorId": doc.ID, "specialty": "", "question": "Is this rash serious?"}}})
			}, nil},
		{"requestLegalConsultation", "the user's legal consultations", mine("legalConsultations"), nil,
			func(t *testing.T) {
				mustQuery(t, a.Gateway, apitest.Request{User: "demo-21", Query: `mutation($in: RequestLegalConsultationInput!) { requestLegalConsultation(input: $in) { id } }`,
					Variables: map[string]any{"in": map[string]any{"lawyerId": lawyer, "topic": "lease", "description": "My landlord keeps the deposit."}}})
			}, nil},
	} {
		t.Run(fmt.Sprintf("%s on A shows in %s, on A at once and on B within the L1 TTL", tc.mutation, tc.read), func(t *testing.T) {
			if tc.setup != nil {
				tc.setup(t)
			}
			if tc.mutation == "applyForGovService" && tc.want == nil {
				// The slot taken here is the office's next one: check it is open under the other service first.
				tc.r.pick = func(raw json.RawMessage) any { return officeSlotAvailable(t, raw, office.id, office.nextSlot) }
				tc.want = func(any) any { return false }
			}
			before := tc.r.get(t, b)
			tc.r.get(t, a)
			if !tc.r.uncached {
				// The read is now in B's cache: prove it, or the pair proves nothing.
				if again, calls := tc.r.getCounting(t, b); calls != 0 || again != before {
					t.Fatalf("second read on B: %v with %d %s calls, want the cached %v", again, calls, tc.r.op, before)
				}
			}
			tc.mutate(t)
			// A dropped its own copies before answering; B's L1 copy is gone within the bound even if the
			// broadcast is late (cache.Tiered), and Redis no longer has it.
			afterA := tc.r.get(t, a)
			time.Sleep(cache.DefaultL1TTL)
			afterB := tc.r.get(t, b)
			for _, got := range []struct {
				where string
				v     any
			}{{"on A right after", afterA}, {"on B one L1 TTL after", afterB}} {
				switch {
				case tc.want != nil:
					if want := tc.want(before); got.v != want {
						t.Fatalf("read %s %s: %v, want %v (was %v)", got.where, tc.mutation, got.v, want, before)
					}
				case got.v == before:
					t.Fatalf("read %s %s is unchanged: %v", got.where, tc.mutation, got.v)
				}
			}
		})
	}
}

// read is one GraphQL read of an affected value: the query's field "v", or what pick takes from the node.
type read struct {
	op, query, id, user string
	uncached            bool // personal data: never cached, read live
	pick                func(json.RawMessage) any
}

func (r read) getCounting(t *testing.T, g *cachedGateway) (any, int) {
	t.Helper()
	req := apitest.Request{User: r.user, Debug: true, Query: r.query, Variables: map[string]any{}}
	if r.id != "" {
		req.Variables["id"] = r.id
	}
	resp := mustQuery(t, g.Gateway, req)
	calls, _ := resp.CallCount(r.op)
	var d struct {
		Node json.RawMessage `json:"node"`
		Me   json.RawMessage `json:"me"`
	}
	resp.Decode(t, &d)
	raw := d.Node
	if raw == nil {
		raw = d.Me
	}
	if r.pick != nil {
		return r.pick(raw), calls
	}
	var v struct{ V any }
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("decode %s: %v", raw, err)
	}
	return v.V, calls
}

func (r read) get(t *testing.T, g *cachedGateway) any {
	t.Helper()
	v, _ := r.getCounting(t, g)
	return v
}

// field finds, in the list named list of raw, the element whose id is id and returns its field name.
func field(t *testing.T, raw json.RawMessage, list, id, name string) any {
	t.Helper()
	var m map[string][]map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("decode %s: %v", raw, err)
	}
	for _, e := range m[list] {
		if e["id"] == id {
			return e[name]
		}
	}
	t.Fatalf("no %s %s in %s", list, id, raw)
	return nil
}

func officeSlotAvailable(t *testing.T, raw json.RawMessage, office, slot string) any {
	t.Helper()
	var s struct {
		Offices []struct {
			ID    string `json:"id"`
			Slots []struct {
				ID        string `json:"id"`
				Available bool   `json:"available"`
			} `json:"slots"`
		} `json:"offices"`
	}
	if err := json.Unmarshal(raw, &s); err != nil {
		t.Fatalf("decode %s: %v", raw, err)
	}
	for _, o := range s.Offices {
		for _, sl := range o.Slots {
			if o.ID == office && sl.ID == slot {
				return sl.Available
			}
		}
	}
	t.Fatalf("no slot %s of office %s in %s", slot, office, raw)
	return nil
}

type officeFixture struct{ id, slot, nextSlot string }

// sharedOffice finds an office handling two services, with two open slots: the service to apply for, the other
// service's id, and the office.
func sharedOffice(tb testing.TB, g *apitest.Gateway) (serviceFixture, string, officeFixture) {
	tb.Helper()
	d, _ := mustData[struct {
		GovServices conn[serviceFixture] `json:"govServices"`
	}](tb, g, apitest.Request{Query: `{ govServices(first: 50) { edges { node { id name requiredDocuments offices { id slots { id } } } } } }`})
	seen := map[string]serviceFixture{}
	for _, s := range d.GovServices.nodes() {
		for _, o := range s.Offices {
			if first, ok := seen[o.ID]; ok && len(o.Slots) >= 2 {
				for _, fo := range first.Offices {
					if fo.ID == o.ID {
						return first, s.ID, officeFixture{id: o.ID, slot: o.Slots[0].ID, nextSlot: o.Slots[1].ID}
					}
				}
			}
			seen[o.ID] = s
		}
	}
	tb.Fatal("no office handles two services in the demo data")
	return serviceFixture{}, "", officeFixture{}
}

func apply(t *testing.T, g *apitest.Gateway, svc serviceFixture, office, slot string) {
	t.Helper()
	mustQuery(t, g, apitest.Request{User: "demo-20", Query: applyMutation, Variables: map[string]any{"in": map[string]any{
		"serviceId": svc.ID, "officeId": office, "slotId": slot, "documents": svc.RequiredDocuments}}})
}

// TestInvalidateWhileRedisIsDown shows what a provider gets when the delete cannot reach Redis: not a 204 (the old
// value would come back with Redis), but 503 with Retry-After, and a 204 again once Redis is back.
func TestInvalidateWhileRedisIsDown(t *testing.T) {
	t.Parallel()
	srv := startRedisProcess(t)
	client := redis.NewClient(&redis.Options{Addr: srv.addr()})
	t.Cleanup(func() { _ = client.Close() })
	conns, err := demo.Default()
	if err != nil {
		t.Fatal(err)
	}
	secrets := map[string]string{"freshcart": "freshcart-secret", "greenbasket": "greenbasket-secret"}
	g := startCached(t, cacheOpts{client: client, l1: true, conns: conns,
		cache: []cache.Option{cache.WithTimeout(200 * time.Millisecond), cache.WithProbeInterval(50 * time.Millisecond)},
		api:   []api.Option{api.WithProviderSecrets(func(p string) (string, bool) { s, ok := secrets[p]; return s, ok })}})
	f := orderFixture(t, g.Gateway)

	if status, body := invalidate(t, g.URL, f.provider, secrets[f.provider], f.product); status != http.StatusNoContent {
		t.Fatalf("with Redis up: status %d: %s, want 204", status, body)
	}
	srv.kill()
	status, header, body := invalidateWithHeader(t, g.URL, f.provider, secrets[f.provider], f.product)
	if status != http.StatusServiceUnavailable || header.Get("Retry-After") != "1" || !bytes.Contains(body, []byte(connectors.KindUnavailable)) {
		t.Fatalf("with Redis down: status %d, Retry-After %q: %s; want 503, Retry-After 1, %s", status, header.Get("Retry-After"), body, connectors.KindUnavailable)
	}
	srv.start()
	eventually(t, time.Now().Add(5*time.Second), func() bool {
		status, _ := invalidate(t, g.URL, f.provider, secrets[f.provider], f.product)
		return status == http.StatusNoContent
	}, "the invalidation is still refused after Redis came back")
}
