package api_test

import (
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/plaza-gateway/plaza/api/apitest"
	"github.com/plaza-gateway/plaza/connectors/demo"
	"github.com/plaza-gateway/plaza/gateway"
)

// TestBookingIntoThePastIsRefused: ordering, booking or applying into a
// slot that has started is BAD_USER_INPUT naming input.slotId, with the
// provider's words ("has already started"). The gateway and the demo
// providers share a clock the test moves.
func TestBookingIntoThePastIsRefused(t *testing.T) {
	var nowNs atomic.Int64
	nowNs.Store(demo.ReferenceTime().UnixNano())
	clock := func() time.Time { return time.Unix(0, nowNs.Load()) }
	conns, err := demo.Default(demo.WithClock(clock))
	if err != nil {
		t.Fatal(err)
	}
	g := apitest.Start(t, apitest.Options{Connectors: conns, GatewayOptions: []gateway.Option{gateway.WithClock(clock)}})

	store := groceryStores(t, g, "Hangzhou")[0]
	doctor := someDoctors(t, g, 1)[0]
	svc := someService(t, g, "residence permit")
	// The first slots of each start the morning after ReferenceTime; move
	// past them all.
	nowNs.Store(demo.ReferenceTime().Add(36 * time.Hour).UnixNano())

	refused := func(t *testing.T, req apitest.Request) {
		t.Helper()
		resp := g.Post(req)
		if len(resp.Errors) != 1 {
			t.Fatalf("want one error, got %s", resp.Raw)
		}
		e := resp.Errors[0]
		if e.Code() != "BAD_USER_INPUT" || e.Extensions["field"] != "input.slotId" || !strings.Contains(e.Message, "has already started") {
			t.Fatalf("got %s %v %q, want BAD_USER_INPUT on input.slotId", e.Code(), e.Extensions["field"], e.Message)
		}
	}
	t.Run("a delivery slot that has started", func(t *testing.T) {
		refused(t, apitest.Request{User: "demo-30", Query: placeOrderMutation,
			Variables: orderInput(store.ID, store.DeliverySlots[0].ID, store.Products.Edges[0].Node.ID, 1, "")})
	})
	t.Run("an appointment slot that has started", func(t *testing.T) {
		refused(t, apitest.Request{User: "demo-30", Query: `mutation($in: BookDoctorAppointmentInput!) { bookDoctorAppointment(input: $in) { id } }`,
			Variables: map[string]any{"in": map[string]any{"doctorId": doctor.ID, "slotId": doctor.Slots[0].ID, "reason": "check-up"}}})
	})
	t.Run("an office slot that has started", func(t *testing.T) {
		o := svc.Offices[0]
		refused(t, apitest.Request{User: "demo-30", Query: applyMutation,
			Variables: map[string]any{"in": map[string]any{"serviceId": svc.ID, "officeId": o.ID, "slotId": o.Slots[0].ID, "documents": svc.RequiredDocuments}}})
	})
	t.Run("an upcoming slot is still bookable", func(t *testing.T) {
		fresh := groceryStores(t, g, "Hangzhou")[0]
		d, _ := mustData[placedOrder](t, g, apitest.Request{User: "demo-30", Query: placeOrderMutation,
			Variables: orderInput(fresh.ID, fresh.DeliverySlots[0].ID, fresh.Products.Edges[0].Node.ID, 1, "")})
		if d.PlaceGroceryOrder == nil || d.PlaceGroceryOrder.Status != "PLACED" {
			t.Fatalf("order %+v", d.PlaceGroceryOrder)
		}
	})
}

// TestStoreOpenNow: openNow reads the store's hours in its city's zone
// (Asia/Shanghai for the demo cities) at the gateway's clock, whatever the
// server's zone: 23:30 in Hangzhou is 15:30 UTC, when a store open 08:00 to
// 22:00 is closed there.
func TestStoreOpenNow(t *testing.T) {
	var nowNs atomic.Int64
	clock := func() time.Time { return time.Unix(0, nowNs.Load()) }
	g := apitest.Start(t, apitest.Options{GatewayOptions: []gateway.Option{gateway.WithClock(clock)}})
	cst := time.FixedZone("CST", 8*3600)
	type store struct {
		OpeningHours []struct {
			Opens  string `json:"opens"`
			Closes string `json:"closes"`
		} `json:"openingHours"`
		OpenNow *bool `json:"openNow"`
	}
	query := apitest.Request{Query: `{ stores(first: 12) { edges { node { openingHours { opens closes } openNow } } } }`}
	for _, tc := range []struct {
		at      time.Time
		hhmm    string
		allOpen bool
	}{
		{time.Date(2026, 12, 7, 23, 30, 0, 0, cst).UTC(), "23:30", false},
		{time.Date(2026, 12, 7, 12, 0, 0, 0, cst).UTC(), "12:00", true},
	} {
		nowNs.Store(tc.at.UnixNano())
		d, _ := mustData[struct {
			Stores conn[store] `json:"stores"`
		}](t, g, query)
		open, closed := 0, 0
		for _, s := range d.Stores.nodes() {
			h := s.OpeningHours[0]
			want := h.Opens <= tc.hhmm && tc.hhmm < h.Closes
			if s.OpenNow == nil || *s.OpenNow != want {
				t.Fatalf("at %s Hangzhou time a store open %s-%s: openNow %v, want %v", tc.hhmm, h.Opens, h.Closes, s.OpenNow, want)
			}
			if want {
				open++
			} else {
				closed++
			}
		}
		if tc.allOpen && closed > 0 || !tc.allOpen && (open == 0 || closed == 0) {
			t.Fatalf("at %s: %d open, %d closed", tc.hhmm, open, closed)
		}
	}
}
