package demo

import (
	"context"
	"strconv"
	"testing"

	"github.com/plaza-gateway/plaza/connectors"
)

func TestIdempotency(t *testing.T) {
	ctx := context.Background()
	g, m, l, p := mustGrocery(t), mustMedical(t), mustLegal(t), mustPublic(t)
	prod := storeProducts(t, g, "s-01")[0]
	dslot := openDeliverySlot(t, g, "s-01", 3)
	aslot := freeAppointmentSlot(t, m, "d-0001")
	svc := must(p.Services(ctx, []string{"social-security-record"}))[0].Value
	office, oslot := officeFor(t, p, svc.ID)

	// Each case creates once with a key, replays it, replays it with a
	// different request, and reports how many objects the user has.
	tests := []struct {
		name  string
		run   func(key string, variant int) (string, error)
		count func() int
	}{
		{"PlaceOrder", func(key string, v int) (string, error) {
			o, err := g.PlaceOrder(ctx, connectors.PlaceOrderInput{UserID: "idem", StoreID: "s-01", SlotID: dslot.ID,
				Items: []connectors.OrderLineItem{{ProductID: prod.ID, Quantity: 1 + v}}, IdempotencyKey: key})
			return o.ID, err
		}, func() int { return len(must(g.UserOrders(ctx, "idem"))) }},
		{"BookAppointment", func(key string, v int) (string, error) {
			a, err := m.BookAppointment(ctx, connectors.BookAppointmentInput{UserID: "idem", DoctorID: "d-0001", SlotID: aslot.ID,
				Reason: []string{"check-up", "rash"}[v], IdempotencyKey: key})
			return a.ID, err
		}, func() int { return len(must(m.UserAppointments(ctx, "idem"))) }},
		{"AskDoctor", func(key string, v int) (string, error) {
			c, err := m.AskDoctor(ctx, connectors.AskDoctorInput{UserID: "idem", DoctorID: "d-0001",
				Question: []string{"Is this normal?", "Something else"}[v], IdempotencyKey: key})
			return c.ID, err
		}, func() int { return len(must(m.UserConsultations(ctx, "idem"))) }},
		{"RequestConsultation", func(key string, v int) (string, error) {
			c, err := l.RequestConsultation(ctx, connectors.LegalConsultationInput{UserID: "idem", LawyerID: "l-0002",
				Topic: []string{"Lease", "Divorce"}[v], IdempotencyKey: key})
			return c.ID, err
		}, func() int { return len(must(l.UserLegalConsultations(ctx, "idem"))) }},
		{"Apply", func(key string, v int) (string, error) {
			docs := append([]string{}, svc.RequiredDocuments...)
			if v == 1 {
				docs = append(docs, "Photo")
			}
			a, err := p.Apply(ctx, connectors.ApplicationInput{UserID: "idem", ServiceID: svc.ID, OfficeID: office.ID, SlotID: oslot.ID,
				Documents: docs, IdempotencyKey: key})
			return a.ID, err
		}, func() int { return len(must(p.UserApplications(ctx, "idem"))) }},
	}
	for _, tt := range tests {
		t.Run(tt.name+" replays the first result for the same key and request", func(t *testing.T) {
			first, err := tt.run("k1", 0)
			if err != nil {
				t.Fatal(err)
			}
			n := tt.count()
			// A replay must not hit the slot conflict a second booking would.
			again, err := tt.run("k1", 0)
			if err != nil || again != first {
				t.Fatalf("replay = %q, %v; want %q", again, err, first)
			}
			if tt.count() != n {
				t.Fatalf("replay created an object: %d -> %d", n, tt.count())
			}
		})
		t.Run(tt.name+" rejects the same key with a different request", func(t *testing.T) {
			_, err := tt.run("k1", 1)
			wantKind(t, err, connectors.KindInvalid)
		})
	}

	t.Run("keys are per user", func(t *testing.T) {
		a := must(l.RequestConsultation(ctx, connectors.LegalConsultationInput{UserID: "idem-a", LawyerID: "l-0003", Topic: "Visa", IdempotencyKey: "shared"}))
		b := must(l.RequestConsultation(ctx, connectors.LegalConsultationInput{UserID: "idem-b", LawyerID: "l-0003", Topic: "Visa", IdempotencyKey: "shared"}))
		if a.ID == b.ID {
			t.Fatal("two users' requests with one key were merged")
		}
	})

	t.Run("creates anew without a key", func(t *testing.T) {
		a := must(l.RequestConsultation(ctx, connectors.LegalConsultationInput{UserID: "idem-c", LawyerID: "l-0003", Topic: "Visa"}))
		b := must(l.RequestConsultation(ctx, connectors.LegalConsultationInput{UserID: "idem-c", LawyerID: "l-0003", Topic: "Visa"}))
		if a.ID == b.ID {
			t.Fatal("requests without a key were merged")
		}
	})

	t.Run("forgets the oldest key beyond the bound", func(t *testing.T) {
		s := newIdempotency(func(v *int) int { return *v })
		for i := range maxIdempotencyKeys + 1 {
			s.remember("u", strconv.Itoa(i), i, i)
		}
		if len(s.entries) != maxIdempotencyKeys || len(s.order) != maxIdempotencyKeys {
			t.Fatalf("%d entries, %d in order; want %d", len(s.entries), len(s.order), maxIdempotencyKeys)
		}
		if _, ok, _ := s.lookup("u", "0", 0); ok {
			t.Fatal("oldest key still remembered")
		}
	})
}
