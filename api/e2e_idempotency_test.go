package api_test

import (
	"bytes"
	"testing"

	"github.com/plaza-gateway/plaza/api/apitest"
	"github.com/plaza-gateway/plaza/cache/cachetest"
	"github.com/plaza-gateway/plaza/connectors/demo"
	"github.com/plaza-gateway/plaza/gateway"
	"github.com/plaza-gateway/plaza/idempotency"
)

// A replayed mutation must be indistinguishable from the first answer: a
// client that retried after a timeout compares or caches what it got.
func TestIdempotentReplayIsByteIdentical(t *testing.T) {
	t.Parallel()
	conns, err := demo.Default()
	if err != nil {
		t.Fatal(err)
	}
	// Two instances over one set of providers and one Redis store, as two
	// gateway processes behind a load balancer.
	store := idempotency.NewRedis(cachetest.Redis(t), cachetest.Prefix(t))
	start := func() *apitest.Gateway {
		return apitest.Start(t, apitest.Options{Connectors: conns, GatewayOptions: []gateway.Option{gateway.WithIdempotency(store)}})
	}
	a, b := start(), start()
	f := orderFixture(t, a)

	// Every field of the order, times included: the demo providers answer
	// createdAt in China Standard Time (+08:00), which a replay decoded in
	// the gateway's local zone used to lose.
	const full = `mutation($in: PlaceGroceryOrderInput!) { placeGroceryOrder(input: $in) {
		id status createdAt total { amount currency } items { quantity price { amount currency } lineTotal { amount } product { id } }
		slot { id } store { id } } }`
	req := apitest.Request{User: "demo-6", Query: full, Variables: orderInput(f.store, f.slot, f.product, 1, "same-bytes-1")}
	first := a.MustPost(req)
	if !bytes.Contains(first.Raw, []byte(`"createdAt":"`)) {
		t.Fatalf("the first answer has no createdAt: %s", first.Raw)
	}
	for _, tc := range []struct {
		name string
		g    *apitest.Gateway
	}{
		{"a replay on the same instance", a},
		{"a replay on another instance sharing Redis", b},
		{"a second replay on the other instance", b},
	} {
		t.Run(tc.name+" returns the first answer's bytes", func(t *testing.T) {
			again := tc.g.MustPost(req)
			if !bytes.Equal(again.Raw, first.Raw) {
				t.Fatalf("replay differs from the first answer:\nfirst  %s\nreplay %s", first.Raw, again.Raw)
			}
		})
	}
}
