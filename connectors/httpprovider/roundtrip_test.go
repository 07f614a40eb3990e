package httpprovider

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/plaza-gateway/plaza/connectors"
)

// outcome is one batch item with its error reduced to what a client sees,
// so results of the connector and of the Client can be compared.
type outcome[T any] struct {
	Value T
	Kind  connectors.Kind
	Msg   string
}

func outcomes[T any](res []connectors.Result[T]) []outcome[T] {
	out := make([]outcome[T], len(res))
	for i, r := range res {
		out[i].Value = r.Value
		if r.Err != nil {
			e, _ := connectors.AsError(r.Err)
			out[i].Kind, out[i].Msg = e.Kind, e.Message
		}
	}
	return out
}

// call is one operation run against any connector.
type call struct {
	name string
	run  func(ctx context.Context, c connectors.Connector) (any, error)
}

func viaBatch[C, T any](name string, m func(C, context.Context, []string) ([]connectors.Result[T], error), ids ...string) call {
	return call{name, func(ctx context.Context, c connectors.Connector) (any, error) {
		res, err := m(c.(C), ctx, ids)
		return outcomes(res), err
	}}
}

func via[C, In, Out any](name string, m func(C, context.Context, In) (Out, error), in In) call {
	return call{name, func(ctx context.Context, c connectors.Connector) (any, error) { return m(c.(C), ctx, in) }}
}

var q = connectors.Query{Text: "apple", City: "Shanghai", Category: "fruit", StoreID: "s1", First: 3, After: "c1"}

var roundTrips = []struct {
	vertical connectors.Vertical
	calls    []call
}{
	{connectors.VerticalGrocery, []call{
		viaBatch("Stores", connectors.Grocery.Stores, "s1", "missing-1", "s2"),
		viaBatch("Products", connectors.Grocery.Products, "p1", "p2", "missing-2"),
		viaBatch("Orders", connectors.Grocery.Orders, "o1"),
		viaBatch("DeliverySlots", connectors.Grocery.DeliverySlots, "s1", "closed", "missing-3"),
		via("SearchStores", connectors.Grocery.SearchStores, q),
		via("SearchProducts", connectors.Grocery.SearchProducts, connectors.Query{}),
		via("UserOrders", connectors.Grocery.UserOrders, "u1"),
		via("PlaceOrder", connectors.Grocery.PlaceOrder, connectors.PlaceOrderInput{UserID: "u1", StoreID: "s1", SlotID: "sl1", Items: []connectors.OrderLineItem{{ProductID: "p1", Quantity: 2}}, IdempotencyKey: "k1"}),
		via("PlaceOrder out of stock", connectors.Grocery.PlaceOrder, connectors.PlaceOrderInput{UserID: "u1", StoreID: "s1", Items: []connectors.OrderLineItem{{ProductID: "p1", Quantity: 9}}}),
		via("PlaceOrder without items", connectors.Grocery.PlaceOrder, connectors.PlaceOrderInput{UserID: "u1"}),
		{"CancelOrder", func(ctx context.Context, c connectors.Connector) (any, error) {
			return c.(connectors.Grocery).CancelOrder(ctx, "u1", "o1")
		}},
		{"CancelOrder of another user's order", func(ctx context.Context, c connectors.Connector) (any, error) {
			return c.(connectors.Grocery).CancelOrder(ctx, "u2", "o1")
		}},
		via("PayOrder", connectors.OrderPayer.PayOrder, connectors.PayOrderInput{UserID: "u1", OrderID: "o1", PaymentToken: connectors.PaymentTokenApproved, IdempotencyKey: "k2"}),
		via("PayOrder declined", connectors.OrderPayer.PayOrder, connectors.PayOrderInput{UserID: "u1", OrderID: "o1", PaymentToken: connectors.PaymentTokenDeclined}),
		via("PayOrder of another user's order", connectors.OrderPayer.PayOrder, connectors.PayOrderInput{UserID: "u2", OrderID: "o1", PaymentToken: connectors.PaymentTokenApproved}),
	}},
	{connectors.VerticalMedical, []call{
		viaBatch("Doctors", connectors.Medical.Doctors, "d1", "missing-d"),
		viaBatch("Appointments", connectors.Medical.Appointments, "a1"),
		viaBatch("Consultations", connectors.Medical.Consultations, "c1", "c2"),
		viaBatch("AppointmentSlots", connectors.Medical.AppointmentSlots, "d1", "d2"),
		via("SearchDoctors", connectors.Medical.SearchDoctors, q),
		via("UserAppointments", connectors.Medical.UserAppointments, "u1"),
		via("UserConsultations", connectors.Medical.UserConsultations, "u1"),
		via("BookAppointment", connectors.Medical.BookAppointment, connectors.BookAppointmentInput{UserID: "u1", DoctorID: "d1", SlotID: "as1", Reason: "r", IdempotencyKey: "k2"}),
		via("AskDoctor", connectors.Medical.AskDoctor, connectors.AskDoctorInput{UserID: "u1", Specialty: "skin", Question: "q?", IdempotencyKey: "k3"}),
		{"CancelAppointment", func(ctx context.Context, c connectors.Connector) (any, error) {
			return c.(connectors.AppointmentChanger).CancelAppointment(ctx, "u1", "a1")
		}},
		{"CancelAppointment of another user's", func(ctx context.Context, c connectors.Connector) (any, error) {
			return c.(connectors.AppointmentChanger).CancelAppointment(ctx, "u2", "a1")
		}},
		{"RescheduleAppointment", func(ctx context.Context, c connectors.Connector) (any, error) {
			return c.(connectors.AppointmentChanger).RescheduleAppointment(ctx, "u1", "a1", "as2")
		}},
	}},
	{connectors.VerticalLegal, []call{
		viaBatch("Lawyers", connectors.Legal.Lawyers, "l1", "missing-l", "l2"),
		viaBatch("LegalConsultations", connectors.Legal.LegalConsultations, "lc1"),
		via("SearchLawyers", connectors.Legal.SearchLawyers, q),
		via("UserLegalConsultations", connectors.Legal.UserLegalConsultations, "u1"),
		via("RequestConsultation", connectors.Legal.RequestConsultation, connectors.LegalConsultationInput{UserID: "u1", LawyerID: "l1", Topic: "t", Description: "d", IdempotencyKey: "k4"}),
		{"CancelLegalConsultation", func(ctx context.Context, c connectors.Connector) (any, error) {
			return c.(connectors.LegalConsultationCanceller).CancelLegalConsultation(ctx, "u1", "lc1")
		}},
	}},
	{connectors.VerticalPublicService, []call{
		viaBatch("Services", connectors.PublicService.Services, "g1", "missing-g"),
		viaBatch("Applications", connectors.PublicService.Applications, "ap1"),
		viaBatch("Offices", connectors.PublicService.Offices, "g1", "g2"),
		via("SearchServices", connectors.PublicService.SearchServices, q),
		via("UserApplications", connectors.PublicService.UserApplications, "u1"),
		via("Apply", connectors.PublicService.Apply, connectors.ApplicationInput{UserID: "u1", ServiceID: "g1", OfficeID: "o1", SlotID: "os1", Documents: []string{"photo"}, IdempotencyKey: "k5"}),
		via("Apply without documents", connectors.PublicService.Apply, connectors.ApplicationInput{UserID: "u1", ServiceID: "g1"}),
		{"CancelApplication", func(ctx context.Context, c connectors.Connector) (any, error) {
			return c.(connectors.ApplicationCanceller).CancelApplication(ctx, "u1", "ap1")
		}},
		{"RescheduleApplication", func(ctx context.Context, c connectors.Connector) (any, error) {
			return c.(connectors.ApplicationRescheduler).RescheduleApplication(ctx, "u1", "ap1", "os2")
		}},
		{"RescheduleApplication of another user's", func(ctx context.Context, c connectors.Connector) (any, error) {
			return c.(connectors.ApplicationRescheduler).RescheduleApplication(ctx, "u2", "ap1", "os2")
		}},
	}},
}

// errView is what a client sees of an error: its kind and message.
func errView(err error) (connectors.Kind, string) {
	if err == nil {
		return "", ""
	}
	e, ok := connectors.AsError(err)
	if !ok {
		return connectors.KindOf(err), ""
	}
	return e.Kind, e.Message
}

func TestRoundTrip(t *testing.T) {
	for _, v := range roundTrips {
		t.Run(string(v.vertical), func(t *testing.T) {
			f := newFake("fake-"+strings.ToLower(string(v.vertical[:3])), v.vertical)
			c := mustClient(t, f.desc, mustServe(t, NewHandler(f, testSecret)).URL)
			for _, cl := range v.calls {
				t.Run(cl.name+" gives what the connector gives", func(t *testing.T) {
					ctx := ctxTimeout(t, 5*time.Second)
					want, wantErr := cl.run(ctx, f)
					got, gotErr := cl.run(ctx, c)
					wk, wm := errView(wantErr)
					gk, gm := errView(gotErr)
					if wk != gk || wm != gm {
						t.Fatalf("error: got %s %q (%v), want %s %q", gk, gm, gotErr, wk, wm)
					}
					if gotErr != nil {
						mustKind(t, gotErr, wk, f.desc.ID)
					}
					if !reflect.DeepEqual(got, want) {
						t.Fatalf("got  %+v\nwant %+v", got, want)
					}
				})
			}
		})
	}
}

func TestClientForwardsContext(t *testing.T) {
	f := newFake("fwd", connectors.VerticalGrocery)
	c := mustClient(t, f.desc, mustServe(t, NewHandler(f, testSecret)).URL, func(cfg *Config) { cfg.Timeout = 700 * time.Millisecond })

	t.Run("sends the user, and the deadline shortened to the client's timeout", func(t *testing.T) {
		ctx := connectors.WithUser(ctxTimeout(t, time.Minute), "u-42")
		if _, err := c.Stores(ctx, []string{"s1"}); err != nil {
			t.Fatal(err)
		}
		if f.lastUser != "u-42" {
			t.Fatalf("provider saw user %q", f.lastUser)
		}
		if f.deadline <= 0 || f.deadline > 700*time.Millisecond {
			t.Fatalf("provider saw deadline %v, want within (0, 700ms]", f.deadline)
		}
	})
	t.Run("sends the caller's deadline when it is the shorter one", func(t *testing.T) {
		if _, err := c.Stores(ctxTimeout(t, 250*time.Millisecond), []string{"s1"}); err != nil {
			t.Fatal(err)
		}
		if f.deadline <= 0 || f.deadline > 250*time.Millisecond {
			t.Fatalf("provider saw deadline %v, want within (0, 250ms]", f.deadline)
		}
	})
	t.Run("sends the input's idempotency key", func(t *testing.T) {
		in := connectors.PlaceOrderInput{UserID: "u1", StoreID: "s1", Items: []connectors.OrderLineItem{{ProductID: "p1", Quantity: 1}}, IdempotencyKey: "idem-7"}
		if _, err := c.PlaceOrder(ctxTimeout(t, time.Second), in); err != nil {
			t.Fatal(err)
		}
		if f.lastKey != "idem-7" {
			t.Fatalf("provider saw key %q", f.lastKey)
		}
	})
	t.Run("health and the remote descriptor", func(t *testing.T) {
		if err := c.Health(ctxTimeout(t, time.Second)); err != nil {
			t.Fatal(err)
		}
		d, err := c.RemoteDescriptor(ctxTimeout(t, time.Second))
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(d, f.desc) {
			t.Fatalf("got %+v, want %+v", d, f.desc)
		}
	})
	t.Run("a failing health check is reported with its kind", func(t *testing.T) {
		f.mu.Lock()
		f.fail = connectors.Errorf(connectors.KindUnavailable, "down for maintenance")
		f.mu.Unlock()
		defer func() { f.mu.Lock(); f.fail = nil; f.mu.Unlock() }()
		e := mustKind(t, c.Health(ctxTimeout(t, time.Second)), connectors.KindUnavailable, "fwd")
		if e.Message != "down for maintenance" || !e.Retryable {
			t.Fatalf("got %+v", e)
		}
	})
}

func TestMaxBatch(t *testing.T) {
	f := newFake("split", connectors.VerticalGrocery)
	c := mustClient(t, f.desc, mustServe(t, NewHandler(f, testSecret)).URL, func(cfg *Config) { cfg.MaxBatch = 3 })
	ids := []string{"p1", "p2", "missing-3", "p4", "p5", "p6", "p7", "p8"}

	res, err := c.Products(ctxTimeout(t, 5*time.Second), ids)
	if err != nil {
		t.Fatal(err)
	}
	t.Run("splits 8 ids into 3 calls of at most 3", func(t *testing.T) {
		calls := f.batchCalls()
		if len(calls) != 3 {
			t.Fatalf("got %d calls: %v", len(calls), calls)
		}
		n := 0
		for _, b := range calls {
			if len(b) > 3 {
				t.Fatalf("call of %d ids: %v", len(b), b)
			}
			n += len(b)
		}
		if n != len(ids) {
			t.Fatalf("calls carried %d ids, want %d", n, len(ids))
		}
	})
	t.Run("reassembles the results in request order", func(t *testing.T) {
		for i, id := range ids {
			if id == "missing-3" {
				if connectors.KindOf(res[i].Err) != connectors.KindNotFound {
					t.Fatalf("result %d: %v", i, res[i].Err)
				}
				continue
			}
			if res[i].Err != nil || res[i].Value.ID != id {
				t.Fatalf("result %d: got %+v, want id %s", i, res[i], id)
			}
		}
	})
	t.Run("makes no call for an empty batch", func(t *testing.T) {
		before := len(f.batchCalls())
		res, err := c.Products(ctxTimeout(t, time.Second), nil)
		if err != nil || len(res) != 0 || len(f.batchCalls()) != before {
			t.Fatalf("got %v %v", res, err)
		}
	})
}

// BenchmarkClientProducts measures one batch of 50 products through a real
// loopback listener: encoding, signing, the handler and strict decoding.
func BenchmarkClientProducts(b *testing.B) {
	f := newFake("bench", connectors.VerticalGrocery)
	c := mustClient(b, f.desc, mustServe(b, NewHandler(f, testSecret)).URL)
	ids := make([]string, 50)
	for i := range ids {
		ids[i] = "p" + string(rune('a'+i%26)) + string(rune('a'+i/26))
	}
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		res, err := c.Products(ctx, ids)
		if err != nil || len(res) != 50 {
			b.Fatal(res, err)
		}
	}
}
