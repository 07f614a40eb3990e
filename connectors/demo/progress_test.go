package demo

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/plaza-gateway/plaza/connectors"
	"github.com/plaza-gateway/plaza/gid"
	"github.com/plaza-gateway/plaza/live"
)

// recorder is a live.Publisher that keeps what it was given.
type recorder struct {
	mu      sync.Mutex
	changes []live.Change
}

func (r *recorder) Publish(_ context.Context, c live.Change) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.changes = append(r.changes, c)
	return nil
}

func (r *recorder) statuses(id string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, c := range r.changes {
		if c.ID == id {
			out = append(out, c.Status)
		}
	}
	return out
}

func TestStatusUpdates(t *testing.T) {
	ctx := context.Background()
	const step = 5 * time.Millisecond
	t.Run("moves a new order to DELIVERED one step at a time and publishes each change", func(t *testing.T) {
		pub := &recorder{}
		g, err := NewGrocery(connectors.Descriptor{ID: "freshcart", Name: "FreshCart"}, WithStatusUpdates(pub, step))
		if err != nil {
			t.Fatal(err)
		}
		slot := openDeliverySlot(t, g, "s-01", 1)
		o := must(g.PlaceOrder(ctx, connectors.PlaceOrderInput{UserID: "u1", StoreID: "s-01", SlotID: slot.ID,
			Items: []connectors.OrderLineItem{{ProductID: storeProducts(t, g, "s-01")[0].ID, Quantity: 1}}}))
		id := gid.Encode(gid.GroceryOrder, "freshcart", o.ID)
		waitFor(t, func() bool { return len(pub.statuses(id)) == 3 })
		g.progress.wg.Wait()
		if got, want := pub.statuses(id), []string{"PICKING", "OUT_FOR_DELIVERY", "DELIVERED"}; !slices.Equal(got, want) {
			t.Fatalf("published %v, want %v", got, want)
		}
		if got := must(g.Orders(ctx, []string{o.ID}))[0].Value.Status; got != connectors.StatusDelivered {
			t.Fatalf("order status %s, want DELIVERED", got)
		}
	})
	t.Run("stops moving an order the user cancelled", func(t *testing.T) {
		pub := &recorder{}
		g, err := NewGrocery(connectors.Descriptor{ID: "freshcart", Name: "FreshCart"}, WithStatusUpdates(pub, time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		slot := openDeliverySlot(t, g, "s-01", 1)
		o := must(g.PlaceOrder(ctx, connectors.PlaceOrderInput{UserID: "u1", StoreID: "s-01", SlotID: slot.ID,
			Items: []connectors.OrderLineItem{{ProductID: storeProducts(t, g, "s-01")[0].ID, Quantity: 1}}}))
		must(g.CancelOrder(ctx, "u1", o.ID))
		advance := advanceIn(&g.mu, g.orders, o.ID, func(o *connectors.GroceryOrder) *string { return &o.Status })
		if advance(connectors.StatusPlaced, connectors.StatusPicking) {
			t.Fatal("a cancelled order moved on to PICKING")
		}
	})
	t.Run("moves a booked appointment through CHECKED_IN to COMPLETED", func(t *testing.T) {
		pub := &recorder{}
		m, err := NewMedical(connectors.Descriptor{ID: "mediquick"}, WithStatusUpdates(pub, step))
		if err != nil {
			t.Fatal(err)
		}
		doc := must(m.SearchDoctors(ctx, connectors.Query{First: 1})).Items[0]
		var slotID string
		for _, s := range must(m.AppointmentSlots(ctx, []string{doc.ID}))[0].Value {
			if s.Available {
				slotID = s.ID
				break
			}
		}
		a := must(m.BookAppointment(ctx, connectors.BookAppointmentInput{UserID: "u1", DoctorID: doc.ID, SlotID: slotID, Reason: "check-up"}))
		id := gid.Encode(gid.Appointment, "mediquick", a.ID)
		waitFor(t, func() bool { return len(pub.statuses(id)) == 2 })
		if got, want := pub.statuses(id), []string{"CHECKED_IN", "COMPLETED"}; !slices.Equal(got, want) {
			t.Fatalf("appointment published %v, want %v", got, want)
		}
	})
	t.Run("answers a question asked online one step later, with the answer and its time", func(t *testing.T) {
		pub := &recorder{}
		m, err := NewMedical(connectors.Descriptor{ID: "mediquick"}, WithStatusUpdates(pub, step))
		if err != nil {
			t.Fatal(err)
		}
		c := must(m.AskDoctor(ctx, connectors.AskDoctorInput{UserID: "u1", Specialty: "paediatrics", Question: "A fever since yesterday: what should I do?"}))
		if c.Status != connectors.StatusPending || c.Answer != "" {
			t.Fatalf("a new question is %s with answer %q", c.Status, c.Answer)
		}
		id := gid.Encode(gid.Consultation, "mediquick", c.ID)
		waitFor(t, func() bool { return len(pub.statuses(id)) == 1 })
		m.progress.wg.Wait()
		if got := pub.statuses(id); !slices.Equal(got, []string{"ANSWERED"}) {
			t.Fatalf("consultation published %v, want [ANSWERED]", got)
		}
		got := must(m.Consultations(ctx, []string{c.ID}))[0].Value
		if got.Status != connectors.StatusAnswered || got.Answer == "" || got.AnsweredAt == nil || got.AnsweredAt.Before(got.CreatedAt) {
			t.Fatalf("answered consultation = %+v", got)
		}
	})
	t.Run("moves nothing without WithStatusUpdates", func(t *testing.T) {
		g := mustGrocery(t)
		if g.progress != nil {
			t.Fatal("progress without the option")
		}
	})
}

func waitFor(t *testing.T, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 10s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
