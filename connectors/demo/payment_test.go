package demo

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/plaza-gateway/plaza/connectors"
	"github.com/plaza-gateway/plaza/gid"
)

// manualClock is a clock a test moves by hand.
type manualClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *manualClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *manualClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func TestPayOrder(t *testing.T) {
	ctx := context.Background()
	const window = 15 * time.Minute
	clock := &manualClock{t: ReferenceTime()}
	pub := &recorder{}
	// A step far longer than the test: a paid order stays PLACED while it runs.
	g := mustGrocery(t, WithClock(clock.now), WithPayments(window), WithStatusUpdates(pub, time.Hour))
	ps := storeProducts(t, g, "s-01")
	slot := openDeliverySlot(t, g, "s-01", 10)
	placeAt := func(t *testing.T, user, slotID, productID string) connectors.GroceryOrder {
		t.Helper()
		return must(g.PlaceOrder(ctx, connectors.PlaceOrderInput{UserID: user, StoreID: "s-01", SlotID: slotID,
			Items: []connectors.OrderLineItem{{ProductID: productID, Quantity: 2}}}))
	}
	place := func(t *testing.T, user string) connectors.GroceryOrder { return placeAt(t, user, slot.ID, ps[0].ID) }
	pay := func(user, order, token, key string) (connectors.GroceryOrder, error) {
		return g.PayOrder(ctx, connectors.PayOrderInput{UserID: user, OrderID: order, PaymentToken: token, IdempotencyKey: key})
	}
	status := func(t *testing.T, id string) string {
		t.Helper()
		return must(g.Orders(ctx, []string{id}))[0].Value.Status
	}

	t.Run("a new order waits for payment until its due time, holding stock and slot", func(t *testing.T) {
		stock, remaining := product(t, g, ps[0].ID).Stock, slotRemaining(t, g, "s-01", slot.ID)
		o := place(t, "u1")
		if o.Status != connectors.StatusAwaitingPayment || o.PaymentDueBy == nil || !o.PaymentDueBy.Equal(clock.now().Add(window)) {
			t.Fatalf("order = %s due %v, want AWAITING_PAYMENT due %v", o.Status, o.PaymentDueBy, clock.now().Add(window))
		}
		if product(t, g, ps[0].ID).Stock != stock-2 || slotRemaining(t, g, "s-01", slot.ID) != remaining-1 {
			t.Fatal("placing an unpaid order did not hold its stock and slot")
		}
	})

	t.Run("a declined card charges nothing and leaves the order payable; another card pays it", func(t *testing.T) {
		o := place(t, "u1")
		_, err := pay("u1", o.ID, connectors.PaymentTokenDeclined, "k-declined")
		wantKind(t, err, connectors.KindPaymentDeclined)
		if got := status(t, o.ID); got != connectors.StatusAwaitingPayment {
			t.Fatalf("after a decline the order is %s", got)
		}
		// The decline was not remembered: the same key pays with another card.
		paid, err := pay("u1", o.ID, connectors.PaymentTokenApproved, "k-declined")
		if err != nil {
			t.Fatal(err)
		}
		if paid.Status != connectors.StatusPlaced || paid.PaymentDueBy != nil {
			t.Fatalf("paid order = %s due %v, want PLACED with no due time", paid.Status, paid.PaymentDueBy)
		}
		id := gid.Encode(gid.GroceryOrder, "freshcart", o.ID)
		if got := pub.statuses(id); !slices.Equal(got, []string{connectors.StatusPlaced}) {
			t.Fatalf("published %v, want [PLACED]", got)
		}
	})

	t.Run("a retried payment returns the first and charges once; another payment is CONFLICT", func(t *testing.T) {
		o := place(t, "u1")
		first := must(pay("u1", o.ID, connectors.PaymentTokenApproved, "k1"))
		again := must(pay("u1", o.ID, connectors.PaymentTokenApproved, "k1"))
		if first.ID != again.ID || again.Status != connectors.StatusPlaced {
			t.Fatalf("retry = %+v, want the first payment's order", again)
		}
		_, err := pay("u1", o.ID, connectors.PaymentTokenApproved, "k2")
		wantKind(t, err, connectors.KindConflict)
		_, err = pay("u1", o.ID, connectors.PaymentTokenDeclined, "k1")
		wantKind(t, err, connectors.KindInvalid) // the key reused with another request
	})

	t.Run("refuses what cannot be paid", func(t *testing.T) {
		o := place(t, "u1")
		tests := []struct {
			name               string
			user, order, token string
			want               connectors.Kind
		}{
			{"another user's order", "u2", o.ID, connectors.PaymentTokenApproved, connectors.KindNotFound},
			{"an unknown order", "u1", "o-404", connectors.PaymentTokenApproved, connectors.KindNotFound},
			{"a token the processor does not know", "u1", o.ID, "4242424242424242", connectors.KindInvalid},
			{"no token", "u1", o.ID, "", connectors.KindInvalid},
			{"no user", "", o.ID, connectors.PaymentTokenApproved, connectors.KindInvalid},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				_, err := pay(tt.user, tt.order, tt.token, "")
				wantKind(t, err, tt.want)
			})
		}
		if got := status(t, o.ID); got != connectors.StatusAwaitingPayment {
			t.Fatalf("the order is %s after refused payments", got)
		}
	})

	t.Run("an order unpaid at its due time is cancelled, its stock and slot go back, and it cannot be paid", func(t *testing.T) {
		// A product and slot of its own: the earlier orders expire too.
		own := must(g.DeliverySlots(ctx, []string{"s-01"}))[0].Value
		other := own[len(own)-1]
		stock, remaining := product(t, g, ps[5].ID).Stock, slotRemaining(t, g, "s-01", other.ID)
		o := placeAt(t, "u3", other.ID, ps[5].ID)
		clock.advance(window - time.Second)
		if got := status(t, o.ID); got != connectors.StatusAwaitingPayment {
			t.Fatalf("a second before its due time the order is %s", got)
		}
		clock.advance(time.Second)
		if got := status(t, o.ID); got != connectors.StatusCancelled {
			t.Fatalf("at its due time the order is %s, want CANCELLED", got)
		}
		if product(t, g, ps[5].ID).Stock != stock || slotRemaining(t, g, "s-01", other.ID) != remaining {
			t.Fatal("the expired order's stock or slot did not go back")
		}
		id := gid.Encode(gid.GroceryOrder, "freshcart", o.ID)
		if got := pub.statuses(id); !slices.Equal(got, []string{connectors.StatusCancelled}) {
			t.Fatalf("published %v, want [CANCELLED]", got)
		}
		_, err := pay("u3", o.ID, connectors.PaymentTokenApproved, "")
		wantKind(t, err, connectors.KindConflict)
	})

	t.Run("an unpaid order can be cancelled", func(t *testing.T) {
		o := place(t, "u4")
		if c := must(g.CancelOrder(ctx, "u4", o.ID)); c.Status != connectors.StatusCancelled {
			t.Fatalf("cancelled order is %s", c.Status)
		}
		_, err := pay("u4", o.ID, connectors.PaymentTokenApproved, "")
		wantKind(t, err, connectors.KindConflict)
	})

	t.Run("without the payment step an order is PLACED at once and paying it is CONFLICT", func(t *testing.T) {
		plain := mustGrocery(t, WithClock(clock.now))
		o := must(plain.PlaceOrder(ctx, connectors.PlaceOrderInput{UserID: "u1", StoreID: "s-01", SlotID: openDeliverySlot(t, plain, "s-01", 1).ID,
			Items: []connectors.OrderLineItem{{ProductID: ps[0].ID, Quantity: 1}}}))
		if o.Status != connectors.StatusPlaced || o.PaymentDueBy != nil {
			t.Fatalf("order = %s due %v", o.Status, o.PaymentDueBy)
		}
		_, err := plain.PayOrder(ctx, connectors.PayOrderInput{UserID: "u1", OrderID: o.ID, PaymentToken: connectors.PaymentTokenApproved})
		wantKind(t, err, connectors.KindConflict)
	})
}

func TestMinimumOrder(t *testing.T) {
	ctx := context.Background()
	g := mustGrocery(t, WithMinimumOrders())
	store := must(g.Stores(ctx, []string{"s-01"}))[0].Value
	if store.MinimumOrder == nil {
		t.Fatal("s-01 states no minimum order")
	}
	ps := storeProducts(t, g, "s-01")
	slices.SortFunc(ps, func(a, b connectors.Product) int { return int(a.Price.Amount - b.Price.Amount) })
	cheap := ps[0]
	if cheap.Price.Amount >= store.MinimumOrder.Amount {
		t.Fatalf("the cheapest product %v is not below the minimum %v", cheap.Price, store.MinimumOrder)
	}
	slot := openDeliverySlot(t, g, "s-01", 2)
	order := func(g *Grocery, qty int) (connectors.GroceryOrder, error) {
		return g.PlaceOrder(ctx, connectors.PlaceOrderInput{UserID: "u1", StoreID: "s-01", SlotID: slot.ID,
			Items: []connectors.OrderLineItem{{ProductID: cheap.ID, Quantity: qty}}})
	}
	enough := int((store.MinimumOrder.Amount + cheap.Price.Amount - 1) / cheap.Price.Amount)

	t.Run("an order below the minimum is BELOW_MINIMUM_ORDER, naming the minimum, and takes nothing", func(t *testing.T) {
		stock := product(t, g, cheap.ID).Stock
		_, err := order(g, enough-1)
		wantKind(t, err, connectors.KindBelowMinimum)
		e, _ := connectors.AsError(err)
		if want := "the store's minimum order is " + store.MinimumOrder.String(); len(e.Message) < len(want) || e.Message[:len(want)] != want {
			t.Fatalf("message %q does not start with %q", e.Message, want)
		}
		if product(t, g, cheap.ID).Stock != stock {
			t.Fatal("a refused order took stock")
		}
	})
	t.Run("an order reaching the minimum is placed", func(t *testing.T) {
		o, err := order(g, enough)
		if err != nil {
			t.Fatal(err)
		}
		if o.Total.Amount < store.MinimumOrder.Amount {
			t.Fatalf("total %v below minimum %v", o.Total, store.MinimumOrder)
		}
	})
	t.Run("a provider that does not enforce minimums places a small order", func(t *testing.T) {
		if _, err := order(mustGrocery(t), 1); err != nil {
			t.Fatal(err)
		}
	})
}

func TestMoneyString(t *testing.T) {
	for _, tt := range []struct {
		m    connectors.Money
		want string
	}{{connectors.Money{Amount: 4900, Currency: "CNY"}, "49.00 CNY"}, {connectors.Money{Amount: 5, Currency: "CNY"}, "0.05 CNY"}, {connectors.Money{Amount: -1250, Currency: "EUR"}, "-12.50 EUR"}} {
		if got := tt.m.String(); got != tt.want {
			t.Errorf("%+v = %q, want %q", tt.m, got, tt.want)
		}
	}
}
