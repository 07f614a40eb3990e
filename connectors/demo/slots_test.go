package demo

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/plaza-gateway/plaza/connectors"
)

// TestSlotsRollForward: a provider that has run for weeks still offers the
// next days' slots of every store, doctor and office, bookable, and holds
// no more than those days (passed slots are forgotten).
func TestSlotsRollForward(t *testing.T) {
	ctx := context.Background()
	for _, weeks := range []int{0, 1, 5} {
		clock := &manualClock{t: ReferenceTime()}
		g := mustGrocery(t, WithClock(clock.now))
		m := mustMedical(t, WithClock(clock.now))
		p := mustPublic(t, WithClock(clock.now))
		clock.advance(time.Duration(weeks) * 7 * 24 * time.Hour)
		now := clock.now()
		// spans checks starts: all upcoming, the last on the day days ahead of now.
		spans := func(t *testing.T, what string, starts []time.Time, days, perDay int) {
			t.Helper()
			if len(starts) == 0 {
				t.Fatalf("%s: no slots after %d weeks", what, weeks)
			}
			for _, s := range starts {
				if !s.After(now) {
					t.Fatalf("%s: slot at %v has started (now %v)", what, s, now)
				}
			}
			if last, want := startOfDay(starts[len(starts)-1]), startOfDay(now).AddDate(0, 0, days); !last.Equal(want) {
				t.Fatalf("%s: last slot on %v, want %v", what, last, want)
			}
			if len(starts) > (days+1)*perDay { // the rest of today, and days more
				t.Fatalf("%s: %d upcoming slots, at most %d expected", what, len(starts), (days+1)*perDay)
			}
		}
		t.Run(fmt.Sprintf("after %d weeks", weeks), func(t *testing.T) {
			ds := must(g.DeliverySlots(ctx, []string{"s-01"}))[0].Value
			var starts []time.Time
			for _, s := range ds {
				starts = append(starts, s.Start)
			}
			spans(t, "delivery", starts, deliveryDays, len(deliveryWindows))
			o := must(g.PlaceOrder(ctx, connectors.PlaceOrderInput{UserID: "u1", StoreID: "s-01", SlotID: ds[len(ds)-1].ID,
				Items: []connectors.OrderLineItem{{ProductID: storeProducts(t, g, "s-01")[0].ID, Quantity: 1}}}))
			if o.SlotID != ds[len(ds)-1].ID {
				t.Fatalf("ordered into %s, want %s", o.SlotID, ds[len(ds)-1].ID)
			}
			g.mu.RLock()
			held := len(g.storeSlots["s-01"])
			g.mu.RUnlock()
			if max := (deliveryDays + 2) * len(deliveryWindows); held > max {
				t.Fatalf("store s-01 holds %d slots after %d weeks, want at most %d", held, weeks, max)
			}

			doctor := must(m.SearchDoctors(ctx, connectors.Query{First: 1})).Items[0].ID
			as := must(m.AppointmentSlots(ctx, []string{doctor}))[0].Value
			starts = starts[:0]
			for _, s := range as {
				starts = append(starts, s.Start)
			}
			spans(t, "appointments", starts, appointmentDays, len(consultationSlotTimes))
			if _, err := m.BookAppointment(ctx, connectors.BookAppointmentInput{UserID: "u1", DoctorID: doctor, SlotID: as[len(as)-1].ID, Reason: "check-up"}); err != nil {
				t.Fatalf("booking a rolled slot: %v", err)
			}

			service := must(p.SearchServices(ctx, connectors.Query{First: 1})).Items[0]
			offices := must(p.Offices(ctx, []string{service.ID}))[0].Value
			starts = starts[:0]
			for _, s := range offices[0].Slots {
				starts = append(starts, s.Start)
			}
			spans(t, "office", starts, officeDays, len(officeSlotTimes))
		})
	}
}
