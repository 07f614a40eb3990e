package gateway_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/plaza-gateway/plaza/cache/cachetest"
	"github.com/plaza-gateway/plaza/connectors"
	"github.com/plaza-gateway/plaza/connectors/demo"
	"github.com/plaza-gateway/plaza/gateway"
	"github.com/plaza-gateway/plaza/idempotency"
)

// countingGrocery counts PlaceOrder calls that reach the provider.
type countingGrocery struct {
	*demo.Grocery
	placed atomic.Int32
}

func (c *countingGrocery) PlaceOrder(ctx context.Context, in connectors.PlaceOrderInput) (connectors.GroceryOrder, error) {
	c.placed.Add(1)
	return c.Grocery.PlaceOrder(ctx, in)
}

func orderInput(t *testing.T, g *demo.Grocery, key string) connectors.PlaceOrderInput {
	t.Helper()
	ctx := context.Background()
	slots, err := g.DeliverySlots(ctx, []string{"s-01"})
	if err != nil || slots[0].Err != nil || len(slots[0].Value) == 0 {
		t.Fatalf("slots: %v %v", err, slots)
	}
	page, err := g.SearchProducts(ctx, connectors.Query{StoreID: "s-01", First: 1})
	if err != nil || len(page.Items) == 0 {
		t.Fatalf("products: %v", err)
	}
	return connectors.PlaceOrderInput{UserID: "demo-7", StoreID: "s-01", SlotID: slots[0].Value[0].ID,
		Items: []connectors.OrderLineItem{{ProductID: page.Items[0].ID, Quantity: 1}}, IdempotencyKey: key}
}

func TestIdempotentMutations(t *testing.T) {
	ctx := context.Background()
	g, err := demo.NewGrocery(connectors.Descriptor{ID: "freshcart", Vertical: connectors.VerticalGrocery})
	if err != nil {
		t.Fatal(err)
	}
	conn := &countingGrocery{Grocery: g}
	reg, err := connectors.NewRegistry(conn)
	if err != nil {
		t.Fatal(err)
	}
	// Two instances sharing one Redis store, as two gateway processes would.
	store := idempotency.NewRedis(cachetest.Redis(t), cachetest.Prefix(t))
	a := gateway.New(reg, gateway.WithIdempotency(store))
	b := gateway.New(reg, gateway.WithIdempotency(store))

	t.Run("a retry on another instance returns the first order and orders nothing new", func(t *testing.T) {
		in := orderInput(t, g, "key-1")
		first, err := a.PlaceOrder(ctx, "freshcart", in)
		if err != nil {
			t.Fatal(err)
		}
		again, err := b.PlaceOrder(ctx, "freshcart", in)
		if err != nil {
			t.Fatal(err)
		}
		if again.ID != first.ID {
			t.Fatalf("retry returned order %s, want %s", again.ID, first.ID)
		}
		if n := conn.placed.Load(); n != 1 {
			t.Fatalf("provider saw %d orders, want 1", n)
		}
	})
	t.Run("the same key with a different request is BAD_USER_INPUT", func(t *testing.T) {
		in := orderInput(t, g, "key-1")
		in.Items[0].Quantity = 2
		_, err := b.PlaceOrder(ctx, "freshcart", in)
		if connectors.KindOf(err) != connectors.KindInvalid {
			t.Fatalf("err = %v, want BAD_USER_INPUT", err)
		}
	})
	t.Run("concurrent requests with one key reach the provider once", func(t *testing.T) {
		before := conn.placed.Load()
		in := orderInput(t, g, "key-2")
		ids := make([]string, 10)
		var wg sync.WaitGroup
		for i := range ids {
			wg.Add(1)
			go func() {
				defer wg.Done()
				gw := a
				if i%2 == 1 {
					gw = b
				}
				o, err := gw.PlaceOrder(ctx, "freshcart", in)
				if err != nil {
					t.Errorf("request %d: %v", i, err)
					return
				}
				ids[i] = o.ID
			}()
		}
		wg.Wait()
		for _, id := range ids {
			if id != ids[0] {
				t.Fatalf("different orders returned: %v", ids)
			}
		}
		if n := conn.placed.Load() - before; n != 1 {
			t.Fatalf("provider saw %d orders, want 1", n)
		}
	})
	t.Run("the same key of another user is a different request", func(t *testing.T) {
		in := orderInput(t, g, "key-1")
		in.UserID = "demo-8"
		o, err := a.PlaceOrder(ctx, "freshcart", in)
		if err != nil {
			t.Fatal(err)
		}
		if o.UserID != "demo-8" {
			t.Fatalf("got another user's order: %+v", o)
		}
	})
	t.Run("an over-long key is refused", func(t *testing.T) {
		in := orderInput(t, g, string(make([]byte, 200)))
		if _, err := a.PlaceOrder(ctx, "freshcart", in); connectors.KindOf(err) != connectors.KindInvalid {
			t.Fatalf("err = %v, want BAD_USER_INPUT", err)
		}
	})
}
