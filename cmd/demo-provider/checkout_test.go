package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plaza-gateway/plaza/connectors"
	"github.com/plaza-gateway/plaza/connectors/httpprovider"
	"github.com/plaza-gateway/plaza/gid"
)

// cheapLine finds a store of c with a minimum order and a free delivery
// slot, and its cheapest product in stock.
func cheapLine(t *testing.T, c *httpprovider.Client) (store connectors.Store, slot string, product connectors.Product) {
	t.Helper()
	ctx := context.Background()
	stores, err := c.SearchStores(ctx, connectors.Query{First: 20})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range stores.Items {
		if s.MinimumOrder == nil || s.MinimumOrder.Amount <= 0 {
			continue
		}
		slots, err := c.DeliverySlots(ctx, []string{s.ID})
		if err != nil || len(slots) != 1 || slots[0].Err != nil {
			t.Fatalf("delivery slots of %s: %v %+v", s.ID, err, slots)
		}
		i := slices.IndexFunc(slots[0].Value, func(sl connectors.DeliverySlot) bool { return sl.Remaining > 0 })
		products, err := c.SearchProducts(ctx, connectors.Query{StoreID: s.ID, First: 100})
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range products.Items {
			if p.Stock > 0 && p.Price.Amount > 0 && p.Price.Amount < s.MinimumOrder.Amount && (product.ID == "" || p.Price.Amount < product.Price.Amount) {
				product = p
			}
		}
		if i >= 0 && product.ID != "" {
			return s, slots[0].Value[i].ID, product
		}
	}
	t.Fatal("no store with a minimum order, a free slot and a product cheaper than the minimum")
	return
}

// TestRunCheckoutFlags runs the grocery provider process with and without
// the flags of `go run .`'s checkout: --minimum-orders refuses an order
// below the store's minimum, --payment-window makes orders wait for
// payment; without them the same order is PLACED at once.
func TestRunCheckoutFlags(t *testing.T) {
	const secret = "s3cret"
	client := func(t *testing.T, args ...string) *httpprovider.Client {
		url, _ := mustRun(t, append([]string{"--vertical", "grocery", "--provider", "freshcart", "--secret", secret}, args...)...)
		c, err := httpprovider.New(httpprovider.Config{ID: "freshcart", Vertical: connectors.VerticalGrocery, BaseURL: url, Secret: secret})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(c.CloseIdleConnections)
		return c
	}
	order := func(c *httpprovider.Client, store, slot, product string, qty int) (connectors.GroceryOrder, error) {
		return c.PlaceOrder(context.Background(), connectors.PlaceOrderInput{UserID: "flags-user", StoreID: store, SlotID: slot,
			Items: []connectors.OrderLineItem{{ProductID: product, Quantity: qty}}})
	}
	t.Run("with --minimum-orders and --payment-window an order below the minimum is refused and one above it waits for payment", func(t *testing.T) {
		c := client(t, "--minimum-orders", "--payment-window", "1h")
		s, slot, p := cheapLine(t, c)
		if _, err := order(c, s.ID, slot, p.ID, 1); connectors.KindOf(err) != connectors.KindBelowMinimum {
			t.Fatalf("one %s (%d) under a minimum of %d: got %v, want BELOW_MINIMUM_ORDER", p.ID, p.Price.Amount, s.MinimumOrder.Amount, err)
		}
		qty := int((s.MinimumOrder.Amount + p.Price.Amount - 1) / p.Price.Amount)
		o, err := order(c, s.ID, slot, p.ID, qty)
		if err != nil || o.Status != connectors.StatusAwaitingPayment || o.PaymentDueBy == nil || time.Until(*o.PaymentDueBy) < 50*time.Minute {
			t.Fatalf("an order at the minimum: %+v %v, want AWAITING_PAYMENT for about an hour", o, err)
		}
		paid, err := c.PayOrder(context.Background(), connectors.PayOrderInput{UserID: "flags-user", OrderID: o.ID, PaymentToken: connectors.PaymentTokenApproved})
		if err != nil || paid.Status != connectors.StatusPlaced {
			t.Fatalf("paying %s: %+v %v, want PLACED", o.ID, paid, err)
		}
	})
	t.Run("without them the same order is placed at once", func(t *testing.T) {
		c := client(t)
		s, slot, p := cheapLine(t, c)
		if o, err := order(c, s.ID, slot, p.ID, 1); err != nil || o.Status != connectors.StatusPlaced {
			t.Fatalf("one %s under the minimum: %+v %v, want PLACED (minimum shown, not enforced)", p.ID, o, err)
		}
	})
}

// TestRunReportsStatusChanges runs the provider with --status-to a
// gateway's status webhook: a new order's status changes arrive there, in
// order, each signed with the provider's secret.
func TestRunReportsStatusChanges(t *testing.T) {
	const secret = "s3cret"
	verifier := httpprovider.NewRequestVerifier(httpprovider.NewMemoryReplayCache(httpprovider.DefaultReplayWindow, nil))
	var (
		mu      sync.Mutex
		got     []string
		refused []string
	)
	changed := make(chan struct{}, 16)
	gw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if r.Method != http.MethodPost || r.URL.Path != "/providers/freshcart/status" {
			http.NotFound(w, r)
			return
		}
		if _, err := verifier.Verify(r.Context(), r, body, secret); err != nil {
			mu.Lock()
			refused = append(refused, err.Error())
			mu.Unlock()
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		var report struct {
			Changes []struct {
				ID, Status string
				At         time.Time
			}
		}
		if err := json.Unmarshal(body, &report); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		mu.Lock()
		for _, c := range report.Changes {
			got = append(got, c.ID+" "+c.Status)
		}
		mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
		changed <- struct{}{}
	}))
	defer gw.Close()

	url, stop := mustRun(t, "--vertical", "grocery", "--provider", "freshcart", "--secret", secret, "--status-to", gw.URL, "--status-step", "20ms")
	c, err := httpprovider.New(httpprovider.Config{ID: "freshcart", Vertical: connectors.VerticalGrocery, BaseURL: url, Secret: secret})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseIdleConnections()
	s, slot, p := cheapLine(t, c)
	o, err := c.PlaceOrder(context.Background(), connectors.PlaceOrderInput{UserID: "status-user", StoreID: s.ID, SlotID: slot,
		Items: []connectors.OrderLineItem{{ProductID: p.ID, Quantity: 1}}})
	if err != nil {
		t.Fatal(err)
	}
	id := gid.Encode(gid.GroceryOrder, "freshcart", o.ID)
	want := []string{id + " PICKING", id + " OUT_FOR_DELIVERY", id + " DELIVERED"}
	deadline := time.After(10 * time.Second)
	for {
		mu.Lock()
		done := len(got) >= len(want)
		mu.Unlock()
		if done {
			break
		}
		select {
		case <-changed:
		case <-deadline:
			t.Fatalf("after 10s the gateway has %v (refused %v), want %v", got, refused, want)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if !slices.Equal(got, want) || len(refused) > 0 {
		t.Fatalf("the gateway got %v (refused %v), want %v", got, refused, want)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
}

func TestRunRefusesStatusReportsWithoutOneSignedProvider(t *testing.T) {
	for _, args := range [][]string{
		{"--vertical", "grocery", "--provider", "freshcart", "--insecure", "--status-to", "http://127.0.0.1:1"},
		{"--vertical", "grocery", "--providers", "any", "--secret", "s", "--status-to", "http://127.0.0.1:1"},
		{"--vertical", "grocery", "--provider", "freshcart", "--secret", "s", "--status-to", "http://127.0.0.1:1", "--status-step", "0s"},
	} {
		if err := run(context.Background(), append([]string{"--addr", "127.0.0.1:0"}, args...), io.Discard); err == nil || !strings.Contains(err.Error(), "--status-to") {
			t.Errorf("%v: got %v, want a refusal naming --status-to", args, err)
		}
	}
}
