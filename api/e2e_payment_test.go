package api_test

import (
	"testing"
	"time"

	"github.com/plaza-gateway/plaza/api/apitest"
	"github.com/plaza-gateway/plaza/connectors"
	"github.com/plaza-gateway/plaza/connectors/demo"
)

// checkoutFixture is a store that enforces its minimum order, with an open
// slot and a product, and the quantity of it that reaches the minimum.
type checkoutFixture struct {
	store, slot, product string
	enough               int
}

func checkoutStore(tb testing.TB, g *apitest.Gateway) checkoutFixture {
	tb.Helper()
	d, _ := mustData[struct {
		Stores conn[struct {
			ID            string
			MinimumOrder  struct{ Amount int64 }
			DeliverySlots []struct {
				ID        string
				Remaining int
			}
			Products conn[struct {
				ID    string
				Stock int
				Price struct{ Amount int64 }
			}]
		}]
	}](tb, g, apitest.Request{Query: `{ stores(city: "Hangzhou", first: 3) { edges { node {
		id minimumOrder { amount } deliverySlots { id remaining }
		products(first: 20) { edges { node { id stock price { amount } } } } } } } }`})
	for _, s := range d.Stores.nodes() {
		for _, sl := range s.DeliverySlots {
			for _, p := range s.Products.nodes() {
				enough := int((s.MinimumOrder.Amount + p.Price.Amount - 1) / p.Price.Amount)
				if sl.Remaining >= 5 && enough > 1 && enough <= 20 && p.Stock >= 3*enough {
					return checkoutFixture{store: s.ID, slot: sl.ID, product: p.ID, enough: enough}
				}
			}
		}
	}
	tb.Fatal("no store with a minimum order, an open slot and a product to reach it")
	return checkoutFixture{}
}

const payOrderMutation = `mutation($in: PayGroceryOrderInput!) {
  payGroceryOrder(input: $in) { id status paymentDueBy }
}`

func payInput(order, token, key string) map[string]any {
	in := map[string]any{"orderId": order, "paymentToken": token}
	if key != "" {
		in["idempotencyKey"] = key
	}
	return map[string]any{"in": in}
}

type paidOrder struct {
	PayGroceryOrder *struct {
		ID           string  `json:"id"`
		Status       string  `json:"status"`
		PaymentDueBy *string `json:"paymentDueBy"`
	} `json:"payGroceryOrder"`
}

func TestCheckoutOverGraphQL(t *testing.T) {
	conns, err := demo.Default(demo.WithPayments(15*time.Minute), demo.WithMinimumOrders())
	if err != nil {
		t.Fatal(err)
	}
	g := apitest.Start(t, apitest.Options{Connectors: conns})
	f := checkoutStore(t, g)
	const user = "demo-5"
	place := func(t *testing.T) string {
		t.Helper()
		d, _ := mustData[struct {
			PlaceGroceryOrder struct {
				ID, Status   string
				PaymentDueBy *time.Time
			}
		}](t, g, apitest.Request{User: user, Query: `mutation($in: PlaceGroceryOrderInput!) { placeGroceryOrder(input: $in) { id status paymentDueBy } }`,
			Variables: orderInput(f.store, f.slot, f.product, f.enough, "")})
		o := d.PlaceGroceryOrder
		if o.Status != "AWAITING_PAYMENT" || o.PaymentDueBy == nil || !o.PaymentDueBy.After(time.Now()) {
			t.Fatalf("placed order = %+v, want AWAITING_PAYMENT due in the future", o)
		}
		return o.ID
	}

	t.Run("an order below the store's minimum is BELOW_MINIMUM_ORDER naming the minimum", func(t *testing.T) {
		mustFail(t, g, apitest.Request{User: user, Query: placeOrderMutation, Variables: orderInput(f.store, f.slot, f.product, f.enough-1, "")},
			string(connectors.KindBelowMinimum), "the store's minimum order is ")
	})

	t.Run("a declined card is PAYMENT_DECLINED and the order stays payable; the approved card pays it", func(t *testing.T) {
		id := place(t)
		mustFail(t, g, apitest.Request{User: user, Query: payOrderMutation, Variables: payInput(id, connectors.PaymentTokenDeclined, "")},
			string(connectors.KindPaymentDeclined), "declined")
		d, _ := mustData[struct{ Node struct{ Status string } }](t, g, apitest.Request{User: user,
			Query: `query($id: ID!) { node(id: $id) { ... on GroceryOrder { status } } }`, Variables: map[string]any{"id": id}})
		if d.Node.Status != "AWAITING_PAYMENT" {
			t.Fatalf("after a declined payment the order is %s", d.Node.Status)
		}
		p, _ := mustData[paidOrder](t, g, apitest.Request{User: user, Query: payOrderMutation, Variables: payInput(id, connectors.PaymentTokenApproved, "pay-1")})
		if p.PayGroceryOrder.Status != "PLACED" || p.PayGroceryOrder.PaymentDueBy != nil {
			t.Fatalf("paid order = %+v, want PLACED with no due time", p.PayGroceryOrder)
		}
		again, _ := mustData[paidOrder](t, g, apitest.Request{User: user, Query: payOrderMutation, Variables: payInput(id, connectors.PaymentTokenApproved, "pay-1")})
		if again.PayGroceryOrder.ID != id || again.PayGroceryOrder.Status != "PLACED" {
			t.Fatalf("a retried payment = %+v", again.PayGroceryOrder)
		}
		mustFail(t, g, apitest.Request{User: user, Query: payOrderMutation, Variables: payInput(id, connectors.PaymentTokenApproved, "pay-2")},
			string(connectors.KindConflict), "already paid")
	})

	t.Run("refuses what cannot be paid", func(t *testing.T) {
		id := place(t)
		tests := []struct {
			name, user, id, token, code, msg string
		}{
			{"another user's order", "demo-6", id, connectors.PaymentTokenApproved, "NOT_FOUND", "not found"},
			{"a blank token", user, id, " ", "BAD_USER_INPUT", "paymentToken is required"},
			{"a token the processor does not know", user, id, "4242424242424242", "BAD_USER_INPUT", "paymentToken is not a payment method"},
			{"an id of another kind", user, f.store, connectors.PaymentTokenApproved, "BAD_USER_INPUT", ""},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				mustFail(t, g, apitest.Request{User: tt.user, Query: payOrderMutation, Variables: payInput(tt.id, tt.token, "")}, tt.code, tt.msg)
			})
		}
		mustFail(t, g, apitest.Request{Query: payOrderMutation, Variables: payInput(id, connectors.PaymentTokenApproved, "")}, "UNAUTHENTICATED", "")
	})

	t.Run("an order of a provider without the payment step is PLACED at once, and paying it is CONFLICT", func(t *testing.T) {
		plain := startDemo(t)
		pf := orderFixture(t, plain)
		d, _ := mustData[placedOrder](t, plain, apitest.Request{User: user, Query: placeOrderMutation, Variables: orderInput(pf.store, pf.slot, pf.product, 1, "")})
		if d.PlaceGroceryOrder.Status != "PLACED" {
			t.Fatalf("order at a provider without payments is %s", d.PlaceGroceryOrder.Status)
		}
		mustFail(t, plain, apitest.Request{User: user, Query: payOrderMutation, Variables: payInput(d.PlaceGroceryOrder.ID, connectors.PaymentTokenApproved, "")},
			"CONFLICT", "already paid")
	})
}
