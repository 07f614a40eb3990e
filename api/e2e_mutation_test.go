package api_test

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/plaza-gateway/plaza/api/apitest"
)

func TestPlaceGroceryOrder(t *testing.T) {
	g := startDemo(t)
	stores := groceryStores(t, g, "Shanghai")
	s := stores[0]
	p := s.Products.Edges[0].Node
	slot := s.DeliverySlots[0].ID

	t.Run("orders from a store's slot and products and takes the stock", func(t *testing.T) {
		before := productStock(t, g, p.ID)
		d, _ := mustData[struct {
			PlaceGroceryOrder struct {
				ID     string `json:"id"`
				Status string `json:"status"`
				Total  struct {
					Amount int `json:"amount"`
				} `json:"total"`
				Items []struct {
					Quantity int `json:"quantity"`
					Price    struct {
						Amount int `json:"amount"`
					} `json:"price"`
					LineTotal struct {
						Amount int `json:"amount"`
					} `json:"lineTotal"`
					Product struct {
						ID string `json:"id"`
					} `json:"product"`
				} `json:"items"`
				Slot  struct{ ID string } `json:"slot"`
				Store struct{ ID string } `json:"store"`
			} `json:"placeGroceryOrder"`
		}](t, g, apitest.Request{User: "demo-3", Query: `mutation($in: PlaceGroceryOrderInput!) { placeGroceryOrder(input: $in) {
			id status total { amount } items { quantity price { amount } lineTotal { amount } product { id } } slot { id } store { id } } }`,
			Variables: orderInput(s.ID, slot, p.ID, 3, "")})
		o := d.PlaceGroceryOrder
		if o.Status != "PLACED" || len(o.Items) != 1 || o.Items[0].Quantity != 3 || o.Items[0].Product.ID != p.ID {
			t.Fatalf("order %+v", o)
		}
		if o.Items[0].LineTotal.Amount != 3*o.Items[0].Price.Amount || o.Total.Amount != o.Items[0].LineTotal.Amount {
			t.Fatalf("totals do not add up: %+v", o)
		}
		if o.Slot.ID != slot || o.Store.ID != s.ID || providerOf(t, o.ID) != providerOf(t, s.ID) {
			t.Fatalf("order %s at slot %s store %s", o.ID, o.Slot.ID, o.Store.ID)
		}
		if after := productStock(t, g, p.ID); after != before-3 {
			t.Fatalf("stock %d after ordering 3 of %d", after, before)
		}
		mine, _ := mustData[struct {
			Me struct {
				Orders conn[idNode] `json:"orders"`
			} `json:"me"`
		}](t, g, apitest.Request{User: "demo-3", Query: `{ me { orders(first: 1) { edges { node { id } } } } }`})
		if n := mine.Me.Orders.nodes(); len(n) != 1 || n[0].ID != o.ID {
			t.Fatalf("newest order of demo-3 is %+v, want %s", n, o.ID)
		}
	})

	other := stores[1]
	if providerOf(t, other.ID) == providerOf(t, s.ID) {
		for _, st := range groceryStores(t, g, "Shenzhen") {
			if providerOf(t, st.ID) != providerOf(t, s.ID) {
				other = st
			}
		}
	}
	var sameProviderStore storeFixture
	for _, st := range append(groceryStores(t, g, "Hangzhou"), stores...) {
		if st.ID != s.ID && providerOf(t, st.ID) == providerOf(t, s.ID) {
			sameProviderStore = st
		}
	}
	if sameProviderStore.ID == "" || providerOf(t, other.ID) == providerOf(t, s.ID) {
		t.Fatal("fixtures need a second store of the same provider and one of another provider")
	}

	bad := []struct {
		name      string
		vars      map[string]any
		code, msg string
	}{
		{"quantity 0", orderInput(s.ID, slot, p.ID, 0, ""), "BAD_USER_INPUT", "quantity must be between 1 and 100, got 0"},
		{"quantity 101", orderInput(s.ID, slot, p.ID, 101, ""), "BAD_USER_INPUT", "quantity must be between 1 and 100, got 101"},
		{"a negative quantity", orderInput(s.ID, slot, p.ID, -2, ""), "BAD_USER_INPUT", "quantity must be between 1 and 100"},
		{"no items", map[string]any{"in": map[string]any{"storeId": s.ID, "slotId": slot, "items": []any{}}}, "BAD_USER_INPUT", "items must not be empty"},
		{"a product of another provider", orderInput(s.ID, slot, other.Products.Edges[0].Node.ID, 1, ""), "BAD_USER_INPUT", "belongs to another provider"},
		{"a product of another store of the same provider", orderInput(s.ID, slot, sameProviderStore.Products.Edges[0].Node.ID, 1, ""), "BAD_USER_INPUT", "is not sold by store"},
		{"a slot of another store", orderInput(s.ID, sameProviderStore.DeliverySlots[0].ID, p.ID, 1, ""), "BAD_USER_INPUT", "is not a slot of store"},
		{"a product the provider does not know", orderInput(s.ID, slot, encodeID("Product", providerOf(t, s.ID), "p-999999"), 1, ""), "NOT_FOUND", "not found"},
		{"a store id given as slot id", orderInput(s.ID, s.ID, p.ID, 1, ""), "BAD_USER_INPUT", "invalid DeliverySlot id"},
		{"a garbage store id", orderInput("nope", slot, p.ID, 1, ""), "BAD_USER_INPUT", "invalid Store id"},
	}
	for _, tt := range bad {
		t.Run(tt.name+" is "+tt.code+" and takes no stock", func(t *testing.T) {
			before := productStock(t, g, p.ID)
			mustFail(t, g, apitest.Request{User: "demo-3", Query: placeOrderMutation, Variables: tt.vars}, tt.code, tt.msg)
			if after := productStock(t, g, p.ID); after != before {
				t.Fatalf("stock %d, was %d", after, before)
			}
		})
	}

	t.Run("ordering more than the stock is CONFLICT", func(t *testing.T) {
		var big struct {
			ID    string
			Stock int
		}
		for _, e := range s.Products.Edges {
			if st := productStock(t, g, e.Node.ID); st < 100 {
				big.ID, big.Stock = e.Node.ID, st
				break
			}
		}
		if big.ID == "" {
			t.Skip("every listed product has 100 or more in stock")
		}
		// The provider's own product id is not shown to the app user.
		r := mustFail(t, g, apitest.Request{User: "demo-3", Query: placeOrderMutation, Variables: orderInput(s.ID, slot, big.ID, big.Stock+1, "")},
			"CONFLICT", fmt.Sprintf("insufficient stock for product: %d left", big.Stock))
		if strings.Contains(string(r.Raw), localOf(t, big.ID)) {
			t.Fatalf("the provider's product id reached the client: %s", r.Raw)
		}
	})

	t.Run("the same idempotency key twice returns the same order and takes stock once", func(t *testing.T) {
		before := productStock(t, g, p.ID)
		req := apitest.Request{User: "demo-4", Query: placeOrderMutation, Variables: orderInput(s.ID, slot, p.ID, 2, "retry-1")}
		first, _ := mustData[placedOrder](t, g, req)
		second, _ := mustData[placedOrder](t, g, req)
		if first.PlaceGroceryOrder.ID != second.PlaceGroceryOrder.ID {
			t.Fatalf("retry made a new order: %s then %s", first.PlaceGroceryOrder.ID, second.PlaceGroceryOrder.ID)
		}
		if after := productStock(t, g, p.ID); after != before-2 {
			t.Fatalf("stock %d after two tries of 2 from %d, want %d", after, before, before-2)
		}
	})

	t.Run("the same key with a different order is BAD_USER_INPUT", func(t *testing.T) {
		mustData[placedOrder](t, g, apitest.Request{User: "demo-5", Query: placeOrderMutation, Variables: orderInput(s.ID, slot, p.ID, 1, "k-2")})
		mustFail(t, g, apitest.Request{User: "demo-5", Query: placeOrderMutation, Variables: orderInput(s.ID, slot, p.ID, 2, "k-2")},
			"BAD_USER_INPUT", "reused with a different request")
	})

	t.Run("another user's idempotency key does not return their order", func(t *testing.T) {
		a, _ := mustData[placedOrder](t, g, apitest.Request{User: "demo-6", Query: placeOrderMutation, Variables: orderInput(s.ID, slot, p.ID, 1, "shared-key")})
		b, _ := mustData[placedOrder](t, g, apitest.Request{User: "demo-7", Query: placeOrderMutation, Variables: orderInput(s.ID, slot, p.ID, 1, "shared-key")})
		if a.PlaceGroceryOrder.ID == b.PlaceGroceryOrder.ID {
			t.Fatalf("demo-7 got demo-6's order %s", a.PlaceGroceryOrder.ID)
		}
	})
}

func localOf(tb testing.TB, id string) string {
	tb.Helper()
	_, _, l := decodeID(tb, id)
	return l
}

func TestCancelGroceryOrder(t *testing.T) {
	g := startDemo(t)
	s := groceryStores(t, g, "Beijing")[0]
	p := s.Products.Edges[1].Node
	const cancel = `mutation($id: ID!) { cancelGroceryOrder(id: $id) { id status } }`
	before := productStock(t, g, p.ID)
	o, _ := mustData[placedOrder](t, g, apitest.Request{User: "demo-8", Query: placeOrderMutation, Variables: orderInput(s.ID, s.DeliverySlots[2].ID, p.ID, 5, "")})
	id := o.PlaceGroceryOrder.ID
	if productStock(t, g, p.ID) != before-5 {
		t.Fatal("placing did not take the stock")
	}

	t.Run("puts the stock back and marks the order CANCELLED", func(t *testing.T) {
		d, _ := mustData[struct {
			CancelGroceryOrder struct {
				ID     string `json:"id"`
				Status string `json:"status"`
			} `json:"cancelGroceryOrder"`
		}](t, g, apitest.Request{User: "demo-8", Query: cancel, Variables: map[string]any{"id": id}})
		if d.CancelGroceryOrder.ID != id || d.CancelGroceryOrder.Status != "CANCELLED" {
			t.Fatalf("cancel returned %+v", d.CancelGroceryOrder)
		}
		if after := productStock(t, g, p.ID); after != before {
			t.Fatalf("stock %d after cancel, want %d", after, before)
		}
	})
	t.Run("cancelling twice is CONFLICT", func(t *testing.T) {
		mustFail(t, g, apitest.Request{User: "demo-8", Query: cancel, Variables: map[string]any{"id": id}}, "CONFLICT", "can no longer be cancelled")
		if after := productStock(t, g, p.ID); after != before {
			t.Fatalf("stock %d after the second cancel, want %d", after, before)
		}
	})
	t.Run("a malformed order id is BAD_USER_INPUT", func(t *testing.T) {
		mustFail(t, g, apitest.Request{User: "demo-8", Query: cancel, Variables: map[string]any{"id": s.ID}}, "BAD_USER_INPUT", "invalid GroceryOrder id")
	})
	t.Run("an order the provider does not know is NOT_FOUND", func(t *testing.T) {
		mustFail(t, g, apitest.Request{User: "demo-8", Query: cancel, Variables: map[string]any{"id": encodeID("GroceryOrder", providerOf(t, s.ID), "o-999999")}}, "NOT_FOUND", "not found")
	})
}

const bookMutation = `mutation($in: BookDoctorAppointmentInput!) { bookDoctorAppointment(input: $in) { id status reason start doctor { id } } }`

func bookInput(doctor, slot, key string) map[string]any {
	in := map[string]any{"doctorId": doctor, "slotId": slot, "reason": "persistent cough"}
	if key != "" {
		in["idempotencyKey"] = key
	}
	return map[string]any{"in": in}
}

type booked struct {
	BookDoctorAppointment *struct {
		ID     string `json:"id"`
		Status string `json:"status"`
		Reason string `json:"reason"`
		Doctor struct {
			ID string `json:"id"`
		} `json:"doctor"`
	} `json:"bookDoctorAppointment"`
}

func TestBookDoctorAppointment(t *testing.T) {
	g := startDemo(t)
	docs := someDoctors(t, g, 20)
	doc := docs[0]
	slot := doc.Slots[0].ID
	var otherProvider doctorFixture
	for _, d := range docs {
		if providerOf(t, d.ID) != providerOf(t, doc.ID) {
			otherProvider = d
		}
	}

	t.Run("books a free slot of the doctor, which then is no longer offered", func(t *testing.T) {
		d, _ := mustData[booked](t, g, apitest.Request{User: "demo-9", Query: bookMutation, Variables: bookInput(doc.ID, slot, "")})
		a := d.BookDoctorAppointment
		if a.Status != "CONFIRMED" || a.Doctor.ID != doc.ID || a.Reason != "persistent cough" {
			t.Fatalf("appointment %+v", a)
		}
		after, _ := mustData[struct {
			Node doctorFixture `json:"node"`
		}](t, g, apitest.Request{Query: `query($id: ID!) { node(id: $id) { ... on Doctor { id slots { id available } } } }`, Variables: map[string]any{"id": doc.ID}})
		if slices.ContainsFunc(after.Node.Slots, func(s struct {
			ID        string `json:"id"`
			Available bool   `json:"available"`
		}) bool {
			return s.ID == slot
		}) {
			t.Fatalf("booked slot %s is still listed as available", slot)
		}
	})
	t.Run("booking the same slot again is CONFLICT", func(t *testing.T) {
		mustFail(t, g, apitest.Request{User: "demo-10", Query: bookMutation, Variables: bookInput(doc.ID, slot, "")}, "CONFLICT", "already booked")
	})
	t.Run("a slot of another doctor is BAD_USER_INPUT", func(t *testing.T) {
		var same doctorFixture
		for _, d := range docs[1:] {
			if providerOf(t, d.ID) == providerOf(t, doc.ID) {
				same = d
				break
			}
		}
		mustFail(t, g, apitest.Request{User: "demo-10", Query: bookMutation, Variables: bookInput(doc.ID, same.Slots[0].ID, "")}, "BAD_USER_INPUT", "is not a slot of doctor")
	})
	t.Run("a slot of another provider's doctor is BAD_USER_INPUT", func(t *testing.T) {
		if otherProvider.ID == "" {
			t.Fatal("no doctor of the other medical provider among the first 20")
		}
		mustFail(t, g, apitest.Request{User: "demo-10", Query: bookMutation, Variables: bookInput(doc.ID, otherProvider.Slots[0].ID, "")}, "BAD_USER_INPUT", "belongs to another provider")
	})
	t.Run("the same idempotency key returns the same appointment", func(t *testing.T) {
		s := doc.Slots[1].ID
		a, _ := mustData[booked](t, g, apitest.Request{User: "demo-11", Query: bookMutation, Variables: bookInput(doc.ID, s, "book-1")})
		b, _ := mustData[booked](t, g, apitest.Request{User: "demo-11", Query: bookMutation, Variables: bookInput(doc.ID, s, "book-1")})
		if a.BookDoctorAppointment.ID != b.BookDoctorAppointment.ID {
			t.Fatalf("retry booked again: %s then %s", a.BookDoctorAppointment.ID, b.BookDoctorAppointment.ID)
		}
	})
}

func TestAskDoctor(t *testing.T) {
	g := startDemo(t)
	doc := someDoctors(t, g, 1)[0]
	const ask = `mutation($in: AskDoctorInput!) { askDoctor(input: $in) { id status specialty question answer doctor { id } provider { key } } }`
	type asked struct {
		AskDoctor struct {
			ID        string  `json:"id"`
			Status    string  `json:"status"`
			Specialty string  `json:"specialty"`
			Question  string  `json:"question"`
			Answer    *string `json:"answer"`
			Doctor    *struct {
				ID string `json:"id"`
			} `json:"doctor"`
			Provider struct {
				Key string `json:"key"`
			} `json:"provider"`
		} `json:"askDoctor"`
	}
	providers, _ := mustData[struct {
		Providers conn[providerNode] `json:"providers"`
	}](t, g, apitest.Request{Query: `{ providers(vertical: MEDICAL) { edges { node { id key } } } }`})
	medical := providers.Providers.nodes()[0]

	t.Run("asks a chosen doctor", func(t *testing.T) {
		d, _ := mustData[asked](t, g, apitest.Request{User: "demo-12", Query: ask, Variables: map[string]any{"in": map[string]any{
			"doctorId": doc.ID, "specialty": "", "question": "Is a fever of 38.5 for two days a reason to come in?"}}})
		c := d.AskDoctor
		if c.Doctor == nil || c.Doctor.ID != doc.ID || c.Question == "" || c.ID == "" {
			t.Fatalf("consultation %+v", c)
		}
	})
	t.Run("asks a provider for a specialty", func(t *testing.T) {
		d, _ := mustData[asked](t, g, apitest.Request{User: "demo-12", Query: ask, Variables: map[string]any{"in": map[string]any{
			"provider": medical.ID, "specialty": "paediatrics", "question": "My son has a rash after antibiotics."}}})
		if d.AskDoctor.Provider.Key != medical.Key || d.AskDoctor.Specialty == "" {
			t.Fatalf("consultation %+v", d.AskDoctor)
		}
	})
	bad := []struct {
		name      string
		in        map[string]any
		code, msg string
	}{
		{"an empty question", map[string]any{"doctorId": doc.ID, "specialty": "", "question": "  "}, "BAD_USER_INPUT", "question is required"},
		{"neither doctor nor provider", map[string]any{"specialty": "paediatrics", "question": "Hello?"}, "BAD_USER_INPUT", "give doctorId, or provider and specialty"},
		{"a provider without specialty", map[string]any{"provider": medical.ID, "specialty": "", "question": "Hello?"}, "BAD_USER_INPUT", "specialty is required"},
		{"an unknown specialty", map[string]any{"provider": medical.ID, "specialty": "astrology", "question": "Hello?"}, "BAD_USER_INPUT", "unknown specialty"},
		{"a grocery provider", map[string]any{"provider": encodeID("Provider", "freshcart", "freshcart"), "specialty": "paediatrics", "question": "Hello?"}, "NOT_FOUND", "not found"},
	}
	for _, tt := range bad {
		t.Run(tt.name+" is "+tt.code, func(t *testing.T) {
			mustFail(t, g, apitest.Request{User: "demo-12", Query: ask, Variables: map[string]any{"in": tt.in}}, tt.code, tt.msg)
		})
	}
}

func TestRequestLegalConsultation(t *testing.T) {
	g := startDemo(t)
	lawyer := someLawyer(t, g)
	const req = `mutation($in: RequestLegalConsultationInput!) { requestLegalConsultation(input: $in) { id status topic lawyer { id } } }`
	t.Run("requests a consultation with the lawyer", func(t *testing.T) {
		d, _ := mustData[struct {
			RequestLegalConsultation struct {
				ID     string `json:"id"`
				Status string `json:"status"`
				Topic  string `json:"topic"`
				Lawyer struct {
					ID string `json:"id"`
				} `json:"lawyer"`
			} `json:"requestLegalConsultation"`
		}](t, g, apitest.Request{User: "demo-13", Query: req, Variables: map[string]any{"in": map[string]any{
			"lawyerId": lawyer, "topic": "Unpaid overtime", "description": "Three months of overtime not paid."}}})
		c := d.RequestLegalConsultation
		if c.Lawyer.ID != lawyer || c.Topic != "Unpaid overtime" || c.Status == "" {
			t.Fatalf("consultation %+v", c)
		}
		mine, _ := mustData[struct {
			Me struct {
				LegalConsultations conn[idNode] `json:"legalConsultations"`
			} `json:"me"`
		}](t, g, apitest.Request{User: "demo-13", Query: `{ me { legalConsultations(first: 1) { edges { node { id } } } } }`})
		if n := mine.Me.LegalConsultations.nodes(); len(n) != 1 || n[0].ID != c.ID {
			t.Fatalf("newest legal consultation %+v, want %s", n, c.ID)
		}
	})
	t.Run("an empty topic is BAD_USER_INPUT", func(t *testing.T) {
		mustFail(t, g, apitest.Request{User: "demo-13", Query: req, Variables: map[string]any{"in": map[string]any{"lawyerId": lawyer, "topic": "", "description": "x"}}},
			"BAD_USER_INPUT", "topic is required")
	})
	t.Run("a doctor id as lawyer is BAD_USER_INPUT", func(t *testing.T) {
		mustFail(t, g, apitest.Request{User: "demo-13", Query: req, Variables: map[string]any{"in": map[string]any{"lawyerId": someDoctors(t, g, 1)[0].ID, "topic": "t", "description": "x"}}},
			"BAD_USER_INPUT", "invalid Lawyer id")
	})
}

const applyMutation = `mutation($in: ApplyForGovServiceInput!) { applyForGovService(input: $in) { id status documents service { id } } }`

func TestApplyForGovService(t *testing.T) {
	g := startDemo(t)
	svc := someService(t, g, "residence permit")
	office := svc.Offices[0]
	input := func(slot string, docs []string) map[string]any {
		return map[string]any{"in": map[string]any{"serviceId": svc.ID, "officeId": office.ID, "slotId": slot, "documents": docs}}
	}
	if len(svc.RequiredDocuments) < 2 || len(office.Slots) < 2 {
		t.Fatalf("service %s: documents %v, %d slots", svc.Name, svc.RequiredDocuments, len(office.Slots))
	}

	t.Run("missing documents is BAD_USER_INPUT naming them", func(t *testing.T) {
		mustFail(t, g, apitest.Request{User: "demo-14", Query: applyMutation, Variables: input(office.Slots[0].ID, svc.RequiredDocuments[:1])},
			"BAD_USER_INPUT", "missing required documents: "+strings.Join(svc.RequiredDocuments[1:], ", "))
	})
	t.Run("applies with every required document", func(t *testing.T) {
		d, _ := mustData[struct {
			ApplyForGovService struct {
				ID        string   `json:"id"`
				Status    string   `json:"status"`
				Documents []string `json:"documents"`
				Service   struct {
					ID string `json:"id"`
				} `json:"service"`
			} `json:"applyForGovService"`
		}](t, g, apitest.Request{User: "demo-14", Query: applyMutation, Variables: input(office.Slots[0].ID, svc.RequiredDocuments)})
		a := d.ApplyForGovService
		if a.Service.ID != svc.ID || a.Status != "PENDING" || !slices.Equal(a.Documents, svc.RequiredDocuments) {
			t.Fatalf("application %+v", a)
		}
	})
	t.Run("the same office slot again is CONFLICT", func(t *testing.T) {
		mustFail(t, g, apitest.Request{User: "demo-15", Query: applyMutation, Variables: input(office.Slots[0].ID, svc.RequiredDocuments)}, "CONFLICT", "already taken")
	})
	t.Run("a slot id of the wrong kind is BAD_USER_INPUT", func(t *testing.T) {
		mustFail(t, g, apitest.Request{User: "demo-15", Query: applyMutation, Variables: input(office.ID, svc.RequiredDocuments)}, "BAD_USER_INPUT", "invalid OfficeSlot id")
	})
}

// TestConcurrentMutations drives races through the HTTP handler: the
// provider must take the last unit or slot exactly once.
func TestConcurrentMutations(t *testing.T) {
	const racers = 20
	g := startDemo(t)

	t.Run("20 orders for the last unit: one succeeds, the rest CONFLICT, stock ends at 0", func(t *testing.T) {
		s := groceryStores(t, g, "Guangzhou")[0]
		p := s.Products.Edges[0].Node
		// Drain the product down to one unit with orders on distinct slots.
		slotIdx := 0
		for stock := productStock(t, g, p.ID); stock > 1; stock = productStock(t, g, p.ID) {
			mustData[placedOrder](t, g, apitest.Request{User: "demo-20", Query: placeOrderMutation,
				Variables: orderInput(s.ID, s.DeliverySlots[slotIdx].ID, p.ID, min(100, stock-1), "")})
			slotIdx++
		}
		if got := productStock(t, g, p.ID); got != 1 {
			t.Fatalf("stock %d after draining, want 1", got)
		}
		slot := s.DeliverySlots[len(s.DeliverySlots)-1]
		results := race(t, racers, func(i int) *apitest.Response {
			return g.Post(apitest.Request{User: fmt.Sprintf("demo-%d", 21+i), Query: placeOrderMutation, Variables: orderInput(s.ID, slot.ID, p.ID, 1, "")})
		})
		assertOneWinner(t, results, "placeGroceryOrder")
		if got := productStock(t, g, p.ID); got != 0 {
			t.Fatalf("final stock %d, want 0", got)
		}
	})

	t.Run("20 bookings of one slot: exactly one wins", func(t *testing.T) {
		doc := someDoctors(t, g, 1)[0]
		slot := doc.Slots[len(doc.Slots)-1].ID
		results := race(t, racers, func(i int) *apitest.Response {
			return g.Post(apitest.Request{User: fmt.Sprintf("demo-%d", 21+i), Query: bookMutation, Variables: bookInput(doc.ID, slot, "")})
		})
		assertOneWinner(t, results, "bookDoctorAppointment")
	})
}

// race runs f n times at once and returns the responses.
func race(tb testing.TB, n int, f func(i int) *apitest.Response) []*apitest.Response {
	tb.Helper()
	out := make([]*apitest.Response, n)
	var start, done sync.WaitGroup
	start.Add(1)
	for i := range n {
		done.Add(1)
		go func() {
			defer done.Done()
			start.Wait()
			out[i] = f(i)
		}()
	}
	start.Done()
	done.Wait()
	return out
}

func assertOneWinner(tb testing.TB, results []*apitest.Response, field string) {
	tb.Helper()
	wins := 0
	for _, r := range results {
		switch {
		case len(r.Errors) == 0:
			wins++
		case len(r.Errors) == 1 && r.Errors[0].Code() == "CONFLICT":
			if want := `{"` + field + `":null}`; string(r.Data) != want {
				tb.Fatalf("a loser got data %s", r.Data)
			}
		default:
			tb.Fatalf("unexpected response %d: %s", r.Status, r.Raw)
		}
	}
	if wins != 1 {
		tb.Fatalf("%d of %d succeeded, want exactly 1", wins, len(results))
	}
}
