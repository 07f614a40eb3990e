package gateway_test

import (
	"context"
	"testing"
	"time"

	"github.com/plaza-gateway/plaza/cache"
	"github.com/plaza-gateway/plaza/connectors"
	"github.com/plaza-gateway/plaza/connectors/demo"
	"github.com/plaza-gateway/plaza/gateway"
	"github.com/plaza-gateway/plaza/gid"
)

func TestProviderTTLOverrides(t *testing.T) {
	conns, err := demo.Default()
	if err != nil {
		t.Fatal(err)
	}
	reg, err := connectors.NewRegistry(conns...)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1_700_000_000, 0)
	store := cache.NewMemory(1000, cache.WithClock(func() time.Time { return now }))
	policy := gateway.DefaultCachePolicy()
	policy.Jitter = 0
	ec := gateway.NewEntityCache(store, policy, nil)
	ec.SetProviderTTLs(map[string]map[gid.Kind]time.Duration{"freshcart": {gid.Product: 5 * time.Second}})
	g := gateway.New(reg, gateway.WithCache(ec))

	fresh := gateway.Key{Provider: "freshcart", ID: "p-000001"}
	green := gateway.Key{Provider: "greenbasket", ID: "p-000001"}
	load := func() map[string]int {
		ctx, st := gateway.WithStats(context.Background())
		l := g.NewLoaders()
		gateway.Products.Of(l).Prefetch(ctx, []gateway.Key{fresh, green})
		calls := map[string]int{}
		for _, c := range st.Calls() {
			calls[c.Provider] += c.Keys
		}
		return calls
	}
	if calls := load(); calls["freshcart"] != 1 || calls["greenbasket"] != 1 {
		t.Fatalf("cold load called %v, want one key at each provider", calls)
	}
	now = now.Add(10 * time.Second) // past freshcart's 5 s override, within the default 60 s
	calls := load()
	t.Run("the provider with a shorter TTL is fetched again once it expires", func(t *testing.T) {
		if calls["freshcart"] != 1 {
			t.Fatalf("freshcart keys fetched: %d, want 1", calls["freshcart"])
		}
	})
	t.Run("other providers keep the type's default TTL", func(t *testing.T) {
		if calls["greenbasket"] != 0 {
			t.Fatalf("greenbasket keys fetched: %d, want 0 (still fresh)", calls["greenbasket"])
		}
	})
}
