package demo

import (
	"context"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/plaza-gateway/plaza/connectors"
)

// openDeliverySlot returns an upcoming slot of store with room for n orders.
func openDeliverySlot(t *testing.T, g *Grocery, store string, n int) connectors.DeliverySlot {
	t.Helper()
	for _, s := range must(g.DeliverySlots(context.Background(), []string{store}))[0].Value {
		if s.Remaining >= n {
			return s
		}
	}
	t.Fatalf("store %s has no slot with %d places left", store, n)
	return connectors.DeliverySlot{}
}

// storeProducts returns products of store.
func storeProducts(t *testing.T, g *Grocery, store string) []connectors.Product {
	t.Helper()
	return must(g.SearchProducts(context.Background(), connectors.Query{StoreID: store, First: 1000})).Items
}

func product(t *testing.T, g *Grocery, id string) connectors.Product {
	t.Helper()
	r := must(g.Products(context.Background(), []string{id}))[0]
	if r.Err != nil {
		t.Fatal(r.Err)
	}
	return r.Value
}

func slotRemaining(t *testing.T, g *Grocery, store, slotID string) int {
	t.Helper()
	for _, s := range must(g.DeliverySlots(context.Background(), []string{store}))[0].Value {
		if s.ID == slotID {
			return s.Remaining
		}
	}
	t.Fatalf("slot %s not listed", slotID)
	return 0
}

// setStock sets a product's stock, standing in for a run on the shelves.
func setStock(g *Grocery, id string, n int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.products[id].Stock = n
}

func TestPlaceOrder(t *testing.T) {
	ctx := context.Background()
	g := mustGrocery(t)
	ps := storeProducts(t, g, "s-01")
	other := storeProducts(t, g, "s-02")[0]
	slot := openDeliverySlot(t, g, "s-01", 5)
	line := func(id string, q int) []connectors.OrderLineItem {
		return []connectors.OrderLineItem{{ProductID: id, Quantity: q}}
	}

	t.Run("takes stock and one unit of slot capacity", func(t *testing.T) {
		before, remaining := product(t, g, ps[0].ID).Stock, slotRemaining(t, g, "s-01", slot.ID)
		o := must(g.PlaceOrder(ctx, connectors.PlaceOrderInput{UserID: "u1", StoreID: "s-01", SlotID: slot.ID,
			Items: []connectors.OrderLineItem{{ProductID: ps[0].ID, Quantity: 2}, {ProductID: ps[1].ID, Quantity: 1}, {ProductID: ps[0].ID, Quantity: 1}}}))
		if o.Status != connectors.StatusPlaced || o.UserID != "u1" || len(o.Items) != 2 || o.Items[0].Quantity != 3 {
			t.Fatalf("order = %+v", o)
		}
		if want := 3*ps[0].Price.Amount + ps[1].Price.Amount; o.Total.Amount != want || o.Total.Currency != "CNY" {
			t.Fatalf("total = %+v, want %d CNY", o.Total, want)
		}
		if got := product(t, g, ps[0].ID).Stock; got != before-3 {
			t.Fatalf("stock %d -> %d, want -3", before, got)
		}
		if got := slotRemaining(t, g, "s-01", slot.ID); got != remaining-1 {
			t.Fatalf("slot remaining %d -> %d, want -1", remaining, got)
		}
		if got := must(g.UserOrders(ctx, "u1")); len(got) != 1 || got[0].ID != o.ID {
			t.Fatalf("UserOrders(u1) = %+v", got)
		}
	})

	tests := []struct {
		name string
		in   connectors.PlaceOrderInput
		kind connectors.Kind
		msg  string
	}{
		{"rejects an order without items", connectors.PlaceOrderInput{UserID: "u", StoreID: "s-01", SlotID: slot.ID}, connectors.KindInvalid, "at least one item"},
		{"rejects a zero quantity", connectors.PlaceOrderInput{UserID: "u", StoreID: "s-01", SlotID: slot.ID, Items: line(ps[0].ID, 0)}, connectors.KindInvalid, "quantity"},
		{"rejects a quantity above 100", connectors.PlaceOrderInput{UserID: "u", StoreID: "s-01", SlotID: slot.ID, Items: line(ps[0].ID, 101)}, connectors.KindInvalid, "quantity"},
		{"rejects a missing user", connectors.PlaceOrderInput{StoreID: "s-01", SlotID: slot.ID, Items: line(ps[0].ID, 1)}, connectors.KindInvalid, "userId"},
		{"reports an unknown store", connectors.PlaceOrderInput{UserID: "u", StoreID: "s-99", SlotID: slot.ID, Items: line(ps[0].ID, 1)}, connectors.KindNotFound, "store"},
		{"reports an unknown product", connectors.PlaceOrderInput{UserID: "u", StoreID: "s-01", SlotID: slot.ID, Items: line("p-999999", 1)}, connectors.KindNotFound, "product"},
		{"reports an unknown slot", connectors.PlaceOrderInput{UserID: "u", StoreID: "s-01", SlotID: "ds-nope", Items: line(ps[0].ID, 1)}, connectors.KindNotFound, "slot"},
		{"rejects a product of another store", connectors.PlaceOrderInput{UserID: "u", StoreID: "s-01", SlotID: slot.ID, Items: line(other.ID, 1)}, connectors.KindInvalid, "not sold by store"},
		{"rejects a slot of another store", connectors.PlaceOrderInput{UserID: "u", StoreID: "s-02", SlotID: slot.ID, Items: line(other.ID, 1)}, connectors.KindInvalid, "not a slot of store"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := product(t, g, ps[0].ID).Stock
			_, err := g.PlaceOrder(ctx, tt.in)
			wantKind(t, err, tt.kind)
			if !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("error %q does not mention %q", err, tt.msg)
			}
			if after := product(t, g, ps[0].ID).Stock; after != before {
				t.Fatalf("a rejected order changed stock %d -> %d", before, after)
			}
		})
	}

	t.Run("takes nothing when one line is out of stock", func(t *testing.T) {
		setStock(g, ps[3].ID, 1)
		before, remaining := product(t, g, ps[2].ID).Stock, slotRemaining(t, g, "s-01", slot.ID)
		_, err := g.PlaceOrder(ctx, connectors.PlaceOrderInput{UserID: "u", StoreID: "s-01", SlotID: slot.ID,
			Items: []connectors.OrderLineItem{{ProductID: ps[2].ID, Quantity: 1}, {ProductID: ps[3].ID, Quantity: 2}}})
		wantKind(t, err, connectors.KindConflict)
		if !strings.Contains(err.Error(), "insufficient stock") {
			t.Fatalf("error %q", err)
		}
		if product(t, g, ps[2].ID).Stock != before || slotRemaining(t, g, "s-01", slot.ID) != remaining {
			t.Fatal("a failed order took stock or slot capacity")
		}
	})

	t.Run("sells the last unit to exactly one of 20 concurrent buyers", func(t *testing.T) {
		g := mustGrocery(t)
		p := storeProducts(t, g, "s-04")[0]
		slot := openDeliverySlot(t, g, "s-04", 1)
		setStock(g, p.ID, 1)
		wins, conflicts := race(20, func(i int) error {
			_, err := g.PlaceOrder(ctx, connectors.PlaceOrderInput{UserID: UserID(i + 1), StoreID: "s-04", SlotID: slot.ID, Items: line(p.ID, 1)})
			return err
		})
		if wins != 1 || conflicts != 19 {
			t.Fatalf("%d orders won and %d conflicted, want 1 and 19", wins, conflicts)
		}
		if s := product(t, g, p.ID).Stock; s != 0 {
			t.Fatalf("stock = %d, want 0", s)
		}
	})

	t.Run("fills a delivery slot exactly to capacity under concurrent orders", func(t *testing.T) {
		g := mustGrocery(t)
		p := storeProducts(t, g, "s-05")[0]
		slot := openDeliverySlot(t, g, "s-05", 1)
		setStock(g, p.ID, 1000)
		wins, conflicts := race(slot.Remaining+10, func(i int) error {
			_, err := g.PlaceOrder(ctx, connectors.PlaceOrderInput{UserID: "u", StoreID: "s-05", SlotID: slot.ID, Items: line(p.ID, 1)})
			return err
		})
		if wins != slot.Remaining || conflicts != 10 {
			t.Fatalf("%d won, %d conflicted; slot had %d places", wins, conflicts, slot.Remaining)
		}
		if r := slotRemaining(t, g, "s-05", slot.ID); r != 0 {
			t.Fatalf("remaining = %d, want 0", r)
		}
	})
}

// race runs fn n times at once and counts successes and conflicts; any other
// error is returned as a conflict count of -1 to fail the caller's check.
func race(n int, fn func(i int) error) (wins, conflicts int) {
	var (
		mu    sync.Mutex
		wg    sync.WaitGroup
		start = make(chan struct{})
	)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			err := fn(i)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				wins++
			case connectors.KindOf(err) == connectors.KindConflict:
				conflicts++
			default:
				conflicts = -n
			}
		}()
	}
	close(start)
	wg.Wait()
	return wins, conflicts
}

func TestCancelOrder(t *testing.T) {
	ctx := context.Background()
	g := mustGrocery(t)
	p := storeProducts(t, g, "s-01")[0]
	slot := openDeliverySlot(t, g, "s-01", 1)
	stock, remaining := p.Stock, slot.Remaining
	o := must(g.PlaceOrder(ctx, connectors.PlaceOrderInput{UserID: "demo-7", StoreID: "s-01", SlotID: slot.ID,
		Items: []connectors.OrderLineItem{{ProductID: p.ID, Quantity: 4}}}))

	t.Run("hides another user's order as not found", func(t *testing.T) {
		_, err := g.CancelOrder(ctx, "demo-8", o.ID)
		wantKind(t, err, connectors.KindNotFound)
	})

	t.Run("puts stock and slot capacity back", func(t *testing.T) {
		c := must(g.CancelOrder(ctx, "demo-7", o.ID))
		if c.Status != connectors.StatusCancelled {
			t.Fatalf("status = %s", c.Status)
		}
		if got := product(t, g, p.ID).Stock; got != stock {
			t.Fatalf("stock = %d, want %d", got, stock)
		}
		if got := slotRemaining(t, g, "s-01", slot.ID); got != remaining {
			t.Fatalf("slot remaining = %d, want %d", got, remaining)
		}
		if got := must(g.Orders(ctx, []string{o.ID}))[0].Value.Status; got != connectors.StatusCancelled {
			t.Fatalf("stored status = %s", got)
		}
	})

	t.Run("refuses to cancel twice", func(t *testing.T) {
		_, err := g.CancelOrder(ctx, "demo-7", o.ID)
		wantKind(t, err, connectors.KindConflict)
	})

	t.Run("refuses to cancel a completed order", func(t *testing.T) {
		for _, h := range must(g.UserOrders(ctx, "demo-1")) {
			if h.Status == connectors.StatusCompleted {
				_, err := g.CancelOrder(ctx, "demo-1", h.ID)
				wantKind(t, err, connectors.KindConflict)
				return
			}
		}
		t.Fatal("demo-1 has no completed order")
	})

	t.Run("cancels the placed order from a user's history", func(t *testing.T) {
		for _, h := range must(g.UserOrders(ctx, "demo-3")) {
			if h.Status == connectors.StatusPlaced {
				must(g.CancelOrder(ctx, "demo-3", h.ID))
				return
			}
		}
		t.Fatal("demo-3 has no placed order")
	})

	t.Run("reports an unknown order as not found", func(t *testing.T) {
		_, err := g.CancelOrder(ctx, "demo-7", "o-999999")
		wantKind(t, err, connectors.KindNotFound)
	})
}

// freeAppointmentSlot returns an available upcoming slot of doctor.
func freeAppointmentSlot(t *testing.T, m *Medical, doctor string) connectors.AppointmentSlot {
	t.Helper()
	for _, s := range must(m.AppointmentSlots(context.Background(), []string{doctor}))[0].Value {
		if s.Available {
			return s
		}
	}
	t.Fatalf("doctor %s is fully booked", doctor)
	return connectors.AppointmentSlot{}
}

func TestBookAppointment(t *testing.T) {
	ctx := context.Background()
	m := mustMedical(t)

	t.Run("books a slot exactly once under 20 concurrent requests", func(t *testing.T) {
		slot := freeAppointmentSlot(t, m, "d-0005")
		wins, conflicts := race(20, func(i int) error {
			_, err := m.BookAppointment(ctx, connectors.BookAppointmentInput{UserID: UserID(i + 1), DoctorID: "d-0005", SlotID: slot.ID, Reason: "check-up"})
			return err
		})
		if wins != 1 || conflicts != 19 {
			t.Fatalf("%d bookings won and %d conflicted, want 1 and 19", wins, conflicts)
		}
		for _, s := range must(m.AppointmentSlots(ctx, []string{"d-0005"}))[0].Value {
			if s.ID == slot.ID && s.Available {
				t.Fatal("booked slot still available")
			}
		}
	})

	other := freeAppointmentSlot(t, m, "d-0002")
	tests := []struct {
		name string
		in   connectors.BookAppointmentInput
		kind connectors.Kind
	}{
		{"rejects a slot of another doctor", connectors.BookAppointmentInput{UserID: "u", DoctorID: "d-0001", SlotID: other.ID}, connectors.KindInvalid},
		{"reports an unknown doctor", connectors.BookAppointmentInput{UserID: "u", DoctorID: "d-9999", SlotID: other.ID}, connectors.KindNotFound},
		{"reports an unknown slot", connectors.BookAppointmentInput{UserID: "u", DoctorID: "d-0002", SlotID: "as-nope"}, connectors.KindNotFound},
		{"rejects a missing user", connectors.BookAppointmentInput{DoctorID: "d-0002", SlotID: other.ID}, connectors.KindInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := m.BookAppointment(ctx, tt.in)
			wantKind(t, err, tt.kind)
		})
	}
}

func TestAskDoctor(t *testing.T) {
	ctx := context.Background()
	m := mustMedical(t)

	t.Run("routes a question by specialty to a doctor of that specialty", func(t *testing.T) {
		c := must(m.AskDoctor(ctx, connectors.AskDoctorInput{UserID: "u", Specialty: "paediatrician", Question: "My son has a fever"}))
		d := must(m.Doctors(ctx, []string{c.DoctorID}))[0].Value
		if c.Status != connectors.StatusPending || c.Specialty != "Paediatrics" || d.Specialty != "Paediatrics" {
			t.Fatalf("consultation %+v routed to %+v", c, d)
		}
	})

	t.Run("asks the named doctor", func(t *testing.T) {
		c := must(m.AskDoctor(ctx, connectors.AskDoctorInput{UserID: "u", DoctorID: "d-0003", Question: "Is this serious?"}))
		if c.DoctorID != "d-0003" {
			t.Fatalf("asked %s", c.DoctorID)
		}
	})

	tests := []struct {
		name string
		in   connectors.AskDoctorInput
		kind connectors.Kind
	}{
		{"rejects an empty question", connectors.AskDoctorInput{UserID: "u", DoctorID: "d-0001", Question: "  "}, connectors.KindInvalid},
		{"rejects an unknown specialty", connectors.AskDoctorInput{UserID: "u", Specialty: "astrology", Question: "?"}, connectors.KindInvalid},
		{"reports an unknown doctor", connectors.AskDoctorInput{UserID: "u", DoctorID: "d-9999", Question: "?"}, connectors.KindNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := m.AskDoctor(ctx, tt.in)
			wantKind(t, err, tt.kind)
		})
	}
}

func TestRequestConsultation(t *testing.T) {
	ctx := context.Background()
	l := mustLegal(t)

	t.Run("creates a pending consultation with the lawyer", func(t *testing.T) {
		c := must(l.RequestConsultation(ctx, connectors.LegalConsultationInput{UserID: "u", LawyerID: "l-0001", Topic: "Divorce", Description: "How are assets split?"}))
		if c.Status != connectors.StatusPending || c.LawyerID != "l-0001" {
			t.Fatalf("consultation = %+v", c)
		}
		if got := must(l.LegalConsultations(ctx, []string{c.ID}))[0].Value; got.Topic != "Divorce" {
			t.Fatalf("stored %+v", got)
		}
	})

	t.Run("reports an unknown lawyer", func(t *testing.T) {
		_, err := l.RequestConsultation(ctx, connectors.LegalConsultationInput{UserID: "u", LawyerID: "l-9999", Topic: "x"})
		wantKind(t, err, connectors.KindNotFound)
	})

	t.Run("rejects a missing topic", func(t *testing.T) {
		_, err := l.RequestConsultation(ctx, connectors.LegalConsultationInput{UserID: "u", LawyerID: "l-0001"})
		wantKind(t, err, connectors.KindInvalid)
	})
}

// officeFor returns an office handling service and one of its free slots.
func officeFor(t *testing.T, p *PublicService, service string) (connectors.Office, connectors.OfficeSlot) {
	t.Helper()
	for _, o := range must(p.Offices(context.Background(), []string{service}))[0].Value {
		for _, s := range o.Slots {
			if s.Available {
				return o, s
			}
		}
	}
	t.Fatalf("no free office slot for %s", service)
	return connectors.Office{}, connectors.OfficeSlot{}
}

func TestApply(t *testing.T) {
	ctx := context.Background()
	p := mustPublic(t)
	svc := must(p.Services(ctx, []string{"passport-application"}))[0].Value
	office, slot := officeFor(t, p, svc.ID)

	t.Run("lists the missing required documents", func(t *testing.T) {
		_, err := p.Apply(ctx, connectors.ApplicationInput{UserID: "u", ServiceID: svc.ID, OfficeID: office.ID, SlotID: slot.ID, Documents: svc.RequiredDocuments[:1]})
		wantKind(t, err, connectors.KindInvalid)
		for _, d := range svc.RequiredDocuments[1:] {
			if !strings.Contains(err.Error(), d) {
				t.Fatalf("error %q does not list %q", err, d)
			}
		}
	})

	t.Run("takes a slot exactly once under 20 concurrent applications", func(t *testing.T) {
		docs := []string{}
		for _, d := range svc.RequiredDocuments {
			docs = append(docs, " "+strings.ToUpper(d)+" ")
		}
		wins, conflicts := race(20, func(i int) error {
			_, err := p.Apply(ctx, connectors.ApplicationInput{UserID: UserID(i + 1), ServiceID: svc.ID, OfficeID: office.ID, SlotID: slot.ID, Documents: docs})
			return err
		})
		if wins != 1 || conflicts != 19 {
			t.Fatalf("%d applications won and %d conflicted, want 1 and 19", wins, conflicts)
		}
	})

	t.Run("rejects an office that does not handle the service", func(t *testing.T) {
		handles := map[string]bool{}
		for _, o := range must(p.Offices(ctx, []string{svc.ID}))[0].Value {
			handles[o.ID] = true
		}
		for _, oid := range slices.Sorted(maps.Keys(p.offices)) {
			if !handles[oid] {
				_, err := p.Apply(ctx, connectors.ApplicationInput{UserID: "u", ServiceID: svc.ID, OfficeID: oid, SlotID: officeSlotID(oid, slot.Start), Documents: svc.RequiredDocuments})
				wantKind(t, err, connectors.KindInvalid)
				return
			}
		}
		t.Fatal("every office handles passports: the test data no longer covers this case")
	})

	t.Run("reports an unknown service, office or slot", func(t *testing.T) {
		for _, in := range []connectors.ApplicationInput{
			{UserID: "u", ServiceID: "moon-visa", OfficeID: office.ID, SlotID: slot.ID},
			{UserID: "u", ServiceID: svc.ID, OfficeID: "of-99", SlotID: slot.ID},
			{UserID: "u", ServiceID: svc.ID, OfficeID: office.ID, SlotID: "os-nope", Documents: svc.RequiredDocuments},
		} {
			_, err := p.Apply(ctx, in)
			wantKind(t, err, connectors.KindNotFound)
		}
	})
}
