package api_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/plaza-gateway/plaza/api"
	"github.com/plaza-gateway/plaza/api/apitest"
	"github.com/plaza-gateway/plaza/cache"
	"github.com/plaza-gateway/plaza/cache/cachetest"
	"github.com/plaza-gateway/plaza/connectors"
	"github.com/plaza-gateway/plaza/connectors/demo"
	"github.com/plaza-gateway/plaza/connectors/httpprovider"
	"github.com/plaza-gateway/plaza/gateway"
	"github.com/plaza-gateway/plaza/gid"
)

// End-to-end tests of the cross-request cache: real handler over loopback,
// real Redis (cachetest: REDIS_URL, else 127.0.0.1:6379), each test under its
// own key prefix so they run in parallel. Every gateway started here also
// checks, when its test ends, that each key it named in Redis is under its
// prefix and holds no per-user data (see startCached).

func TestEntityCacheFiftyOrders(t *testing.T) {
	t.Parallel()
	req := apitest.Request{User: "demo-1", Debug: true, Query: fiftyOrders}
	for _, tc := range []struct {
		name      string
		l1        bool
		warmTrips int64
	}{
		{"with Redis only, a warm request costs one Redis round trip per loader level", false, 2},
		{"with an L1 in front of Redis, a warm request does not touch Redis", true, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			// A long L1 TTL: this counts round trips, and under -race the cold
			// request can outlast the production 100 ms.
			g := startCached(t, cacheOpts{l1: tc.l1, cache: []cache.Option{cache.WithL1TTL(time.Minute)}})

			coldUse := g.counter.snapshot()
			coldResp := mustQuery(t, g.Gateway, req)
			coldUse = g.counter.snapshot().minus(coldUse)
			var cold fiftyOrdersData
			coldResp.Decode(t, &cold)
			products, stores, items := distinctByProvider(t, cold)
			if len(cold.Me.Orders.Edges) != 50 || len(products) != 2 {
				t.Fatalf("%d orders, %d items from %v: the demo data no longer exercises the cache", len(cold.Me.Orders.Edges), items, products)
			}
			warmUse := g.counter.snapshot()
			warmResp := mustQuery(t, g.Gateway, req)
			warmUse = g.counter.snapshot().minus(warmUse)
			t.Logf("%d items, products %v, stores %v; Redis cold %+v, warm %+v", items, products, stores, coldUse, warmUse)

			t.Run("cold, every product and store is a miss fetched in one call per provider", func(t *testing.T) {
				wantCache(t, coldResp, gateway.CacheCount{Type: "Product", Misses: sum(products)}, gateway.CacheCount{Type: "Store", Misses: sum(stores)})
				assertOneCallPerProvider(t, coldResp, "Products", products)
				assertOneCallPerProvider(t, coldResp, "Stores", stores)
			})
			t.Run("cold, each loader level is one read and one write-back", func(t *testing.T) {
				if coldUse.trips != 4 {
					t.Fatalf("%+v, want 4 round trips (a read and a write pipeline for Products, then for Stores)", coldUse)
				}
			})
			t.Run("warm, every product and store is a hit", func(t *testing.T) {
				wantCache(t, warmResp, gateway.CacheCount{Type: "Product", Hits: sum(products)}, gateway.CacheCount{Type: "Store", Hits: sum(stores)})
			})
			t.Run("warm, only the per-user order lists reach the providers", func(t *testing.T) {
				for _, c := range warmResp.Extensions.Plaza.Calls {
					if c.Operation != "UserOrders" {
						t.Errorf("unexpected call %+v", c)
					}
				}
				assertOneCallPerProvider(t, warmResp, "UserOrders", products)
			})
			t.Run(fmt.Sprintf("warm, %d Redis round trips", tc.warmTrips), func(t *testing.T) {
				if warmUse.trips != tc.warmTrips {
					t.Fatalf("%+v, want %d round trips", warmUse, tc.warmTrips)
				}
			})
			t.Run("warm answers are the cold answers", func(t *testing.T) {
				if !bytes.Equal(coldResp.Data, warmResp.Data) {
					t.Fatalf("data differs:\ncold %s\nwarm %s", coldResp.Data, warmResp.Data)
				}
			})
		})
	}
}

func TestEntityCacheAcrossInstances(t *testing.T) {
	t.Parallel()
	conns, err := demo.Default()
	if err != nil {
		t.Fatal(err)
	}
	secrets := map[string]string{"freshcart": "freshcart-secret", "greenbasket": "greenbasket-secret"}
	secretOf := func(p string) (string, bool) { s, ok := secrets[p]; return s, ok }
	prefix := cachetest.Prefix(t)
	start := func() *cachedGateway {
		return startCached(t, cacheOpts{prefix: prefix, l1: true, conns: conns, api: []api.Option{api.WithProviderSecrets(secretOf)}})
	}
	a, b := start(), start() // one Redis prefix, one set of providers, two L1s
	f := orderFixture(t, a.Gateway)

	t.Run("an order placed on A is seen by B, which had the product warm", func(t *testing.T) {
		before, _ := readStock(t, b.Gateway, f.product)
		if _, calls := readStock(t, b.Gateway, f.product); calls != 0 {
			t.Fatalf("second read on B made %d Products calls, want 0 (warm)", calls)
		}
		mustQuery(t, a.Gateway, apitest.Request{User: "demo-1", Query: placeOrderMutation, Variables: orderInput(f.store, f.slot, f.product, 2, "")})
		// The mutation invalidated before it answered: the very next read on
		// B must see it (B's L1 was dropped over pub/sub).
		if got, _ := readStock(t, b.Gateway, f.product); got != before-2 {
			t.Fatalf("B reads stock %d right after the order on A, want %d", got, before-2)
		}
	})

	t.Run("a provider invalidation sent to A reaches both instances within 1 s", func(t *testing.T) {
		old, _ := readStock(t, a.Gateway, f.product)
		readStock(t, b.Gateway, f.product)
		// The provider sells stock through its own app: Plaza's caches do not know.
		placeDirect(t, conns, f, 1)
		for _, g := range []*cachedGateway{a, b} {
			if got, calls := readStock(t, g.Gateway, f.product); got != old || calls != 0 {
				t.Fatalf("before the invalidation an instance read stock %d with %d calls, want the cached %d", got, calls, old)
			}
		}
		sent := time.Now()
		if status, body := invalidate(t, a.URL, f.provider, secrets[f.provider], f.product); status != http.StatusNoContent {
			t.Fatalf("invalidate: status %d: %s", status, body)
		}
		for _, inst := range []struct {
			name string
			g    *cachedGateway
		}{{"A", a}, {"B", b}} {
			eventually(t, sent.Add(time.Second), func() bool {
				got, _ := readStock(t, inst.g.Gateway, f.product)
				return got == old-1
			}, "instance %s still serves stock %d 1 s after the invalidation", inst.name, old)
			t.Logf("instance %s serves the new stock %v after the invalidation call", inst.name, time.Since(sent).Round(time.Millisecond))
		}
	})

	t.Run("a provider cannot invalidate another provider's entities", func(t *testing.T) {
		other := "greenbasket"
		if f.provider == other {
			other = "freshcart"
		}
		readStock(t, a.Gateway, f.product)
		status, body := invalidate(t, a.URL, other, secrets[other], f.product)
		if status != http.StatusForbidden || !bytes.Contains(body, []byte(connectors.KindForbidden)) {
			t.Fatalf("status %d: %s, want 403 %s", status, body, connectors.KindForbidden)
		}
		if _, calls := readStock(t, a.Gateway, f.product); calls != 0 {
			t.Fatalf("the refused invalidation dropped the product: %d Products calls", calls)
		}
	})

	t.Run("a bad signature or an unknown provider is refused with 401", func(t *testing.T) {
		for _, c := range []struct{ provider, secret string }{
			{f.provider, "not-the-secret"},
			{"no-such-provider", "anything"},
		} {
			if status, body := invalidate(t, a.URL, c.provider, c.secret, f.product); status != http.StatusUnauthorized {
				t.Errorf("provider %s signing with %q: status %d: %s, want 401", c.provider, c.secret, status, body)
			}
		}
	})

	t.Run("a persisted query registered on A is known to B", func(t *testing.T) {
		query := fmt.Sprintf(`{ node(id: %q) { ... on Product { name } } }`, f.product)
		hash := sha256Hex(query)
		ra := postRaw(t, a.URL, map[string]any{"query": query, "extensions": persisted(hash)})
		rb := postRaw(t, b.URL, map[string]any{"extensions": persisted(hash)})
		if ra.Status != http.StatusOK || len(ra.Errors) > 0 || rb.Status != http.StatusOK || len(rb.Errors) > 0 {
			t.Fatalf("A: %d %s\nB: %d %s", ra.Status, ra.Raw, rb.Status, rb.Raw)
		}
		if !bytes.Equal(ra.Data, rb.Data) || !bytes.Contains(rb.Data, []byte(`"name"`)) {
			t.Fatalf("B answered %s, A answered %s", rb.Data, ra.Data)
		}
		unknown := postRaw(t, b.URL, map[string]any{"extensions": persisted(sha256Hex(query + " "))})
		if len(unknown.Errors) != 1 || unknown.Errors[0].Message != "PersistedQueryNotFound" {
			t.Fatalf("an unregistered hash: %s, want PersistedQueryNotFound", unknown.Raw)
		}
	})
}

func TestEntityCacheSurvivesRedisCrash(t *testing.T) {
	t.Parallel()
	srv := startRedisProcess(t)
	client := redis.NewClient(&redis.Options{Addr: srv.addr()})
	t.Cleanup(func() { _ = client.Close() })
	// Production timeout; a fast probe so the test is short.
	g := startCached(t, cacheOpts{client: client, cache: []cache.Option{cache.WithTimeout(50 * time.Millisecond), cache.WithProbeInterval(100 * time.Millisecond)}})
	ids := make([]any, 0, 10)
	for _, s := range groceryStores(t, g.Gateway, demo.DefaultCities()[0]) {
		for _, p := range s.Products.nodes() {
			if len(ids) < cap(ids) {
				ids = append(ids, p.ID)
			}
		}
	}
	req := apitest.Request{Debug: true, Query: `query($ids: [ID!]!) { nodes(ids: $ids) { ... on Product { name stock store { name } } } }`,
		Variables: map[string]any{"ids": ids}}
	mustQuery(t, g.Gateway, req)
	if hits := productHits(mustQuery(t, g.Gateway, req)); hits == 0 {
		t.Fatal("no cache hits before the crash: the test proves nothing")
	}

	// Eight clients keep querying through the crash and the restart.
	var ok, failed atomic.Int64
	var firstFailure atomic.Value
	stop := make(chan struct{})
	var wg sync.WaitGroup
	stopClients := sync.OnceFunc(func() { close(stop); wg.Wait() })
	defer stopClients()
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				r, err := post(g.URL, req)
				if err == nil && (r.Status != http.StatusOK || len(r.Errors) > 0) {
					err = fmt.Errorf("status %d: %s", r.Status, r.Raw)
				}
				if err != nil {
					failed.Add(1)
					firstFailure.CompareAndSwap(nil, err.Error())
					continue
				}
				ok.Add(1)
			}
		}()
	}
	progress := func(n int64) func() bool {
		target := ok.Load() + failed.Load() + n
		return func() bool { return ok.Load()+failed.Load() >= target }
	}
	eventually(t, time.Now().Add(15*time.Second), progress(32), "the clients made no progress")

	srv.kill()
	killed := time.Now()
	eventually(t, killed.Add(15*time.Second), func() bool { return readyStatus(t, g.URL) == "degraded" },
		"/readyz does not report the cache degraded after Redis died")
	t.Logf("/readyz degraded %v after the kill", time.Since(killed).Round(time.Millisecond))
	if status := getStatus(t, g.URL+"/healthz"); status != http.StatusOK {
		t.Fatalf("/healthz is %d while Redis is down, want 200", status)
	}
	eventually(t, time.Now().Add(15*time.Second), progress(64), "the clients made no progress while Redis was down")

	srv.start()
	restarted := time.Now()
	eventually(t, restarted.Add(15*time.Second), func() bool { return readyStatus(t, g.URL) == "ready" },
		"/readyz does not report ready after Redis came back")
	t.Logf("/readyz ready %v after the restart", time.Since(restarted).Round(time.Millisecond))
	eventually(t, restarted.Add(15*time.Second), func() bool { return productHits(mustQuery(t, g.Gateway, req)) > 0 },
		"no cache hits after Redis came back")
	t.Logf("cache hits again %v after the restart", time.Since(restarted).Round(time.Millisecond))

	stopClients()
	t.Logf("%d requests served through the crash, %d failed; Redis stats %+v", ok.Load(), failed.Load(), g.redis.Stats())
	if n := failed.Load(); n > 0 {
		t.Fatalf("%d GraphQL requests failed, first: %v", n, firstFailure.Load())
	}
}

func TestEntityCacheStaleIfError(t *testing.T) {
	t.Parallel()
	conns, err := demo.Default()
	if err != nil {
		t.Fatal(err)
	}
	var flaky *switchableGrocery
	for i, c := range conns {
		if c.Describe().ID == "freshcart" {
			flaky = &switchableGrocery{Grocery: c.(connectors.Grocery)}
			conns[i] = flaky
		}
	}
	clock := &testClock{t: time.Now()}
	policy := gateway.CachePolicy{
		TTL:   map[gid.Kind]time.Duration{gid.Product: time.Minute, gid.Store: time.Minute},
		Grace: 10 * time.Minute,
	}
	g := startCached(t, cacheOpts{l1: true, conns: conns, policy: &policy, cache: []cache.Option{cache.WithClock(clock.now)}})
	var ids []string
	for _, s := range groceryStores(t, g.Gateway, demo.DefaultCities()[0]) {
		for _, p := range s.Products.nodes() {
			if providerOf(t, p.ID) == "freshcart" {
				ids = append(ids, p.ID)
			}
		}
	}
	if len(ids) < 3 {
		t.Fatalf("want 3 freshcart products, got %d", len(ids))
	}
	const product = `... on Product { name stock store { id name } }`
	req := apitest.Request{Debug: true, Query: `query($a: ID!, $b: ID!) { a: node(id: $a) { ` + product + ` } b: node(id: $b) { ` + product + ` } }`,
		Variables: map[string]any{"a": ids[0], "b": ids[1]}}
	warm := mustQuery(t, g.Gateway, req)
	var warmData map[string]struct {
		Store struct{ ID string } `json:"store"`
	}
	warm.Decode(t, &warmData)
	stores := map[string]bool{warmData["a"].Store.ID: true, warmData["b"].Store.ID: true}
	clock.advance(2 * time.Minute) // past the TTL, within the grace
	flaky.failing.Store(true)

	t.Run("a failing provider's entities past their TTL are served stale and marked", func(t *testing.T) {
		r := mustQuery(t, g.Gateway, req)
		if !bytes.Equal(r.Data, warm.Data) {
			t.Fatalf("stale data %s, want %s", r.Data, warm.Data)
		}
		if got, want := r.Extensions.Plaza.Stale, []string{"a", "a.store", "b", "b.store"}; !slices.Equal(got, want) {
			t.Fatalf("extensions.plaza.stale = %q, want %q", got, want)
		}
		wantCache(t, r, gateway.CacheCount{Type: "Product", Stale: 2}, gateway.CacheCount{Type: "Store", Stale: len(stores)})
		for _, c := range r.Extensions.Plaza.Calls {
			if c.Error != string(connectors.KindProvider) {
				t.Errorf("call %+v, want a failed refetch", c)
			}
		}
	})

	t.Run("nodes(ids:) marks each stale element by its index", func(t *testing.T) {
		r := mustQuery(t, g.Gateway, apitest.Request{Query: `query($ids: [ID!]!) { nodes(ids: $ids) { ` + product + ` } }`,
			Variables: map[string]any{"ids": []any{ids[0], ids[1]}}})
		got := r.Extensions.Plaza.Stale
		if want := []string{"nodes[0]", "nodes[0].store", "nodes[1]", "nodes[1].store"}; !slices.Equal(got, want) {
			t.Fatalf("extensions.plaza.stale = %q, want %q", got, want)
		}
	})

	t.Run("without a cached value the field is null with PROVIDER_ERROR", func(t *testing.T) {
		r, err := post(g.URL, apitest.Request{Query: `query($id: ID!) { node(id: $id) { ... on Product { name } } }`, Variables: map[string]any{"id": ids[2]}})
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(r.Data, []byte(`"node":null`)) || len(r.Errors) != 1 {
			t.Fatalf("want node null and one error: %s", r.Raw)
		}
		if e := r.Errors[0]; e.Code() != string(connectors.KindProvider) || e.Extensions["provider"] != "freshcart" {
			t.Fatalf("error %+v, want PROVIDER_ERROR from freshcart", e)
		}
		if len(r.Extensions.Plaza.Stale) != 0 {
			t.Fatalf("nothing was stale, yet %q", r.Extensions.Plaza.Stale)
		}
	})

	t.Run("once the provider recovers, fresh values replace the stale ones", func(t *testing.T) {
		flaky.failing.Store(false)
		if r := mustQuery(t, g.Gateway, req); len(r.Extensions.Plaza.Stale) != 0 || !bytes.Equal(r.Data, warm.Data) {
			t.Fatalf("after recovery: %s", r.Raw)
		}
		r := mustQuery(t, g.Gateway, req)
		wantCache(t, r, gateway.CacheCount{Type: "Product", Hits: 2}, gateway.CacheCount{Type: "Store", Hits: len(stores)})
	})
}

func TestEntityCacheSearchStores(t *testing.T) {
	t.Parallel()
	g := startCached(t, cacheOpts{})
	req := apitest.Request{Debug: true, Query: searchBoxQuery, Variables: map[string]any{"text": "milk"}}
	cold := mustQuery(t, g.Gateway, req)
	use := g.counter.snapshot()
	warm := mustQuery(t, g.Gateway, req)
	use = g.counter.snapshot().minus(use)
	stores := keysByProvider(cold, "Stores")
	if len(stores) != 2 {
		t.Fatalf("the products found for milk come from %v: the test needs two providers", stores)
	}
	if calls, _ := warm.CallCount("Stores"); calls != 0 || !bytes.Equal(cold.Data, warm.Data) {
		t.Fatalf("warm search made %d Stores calls, or answered differently:\n%s\n%s", calls, cold.Raw, warm.Raw)
	}
	// Warm: one MGET for the page's products (completed live: their price),
	// one for their stores (one level) and one SET pinning the ranked order
	// for the client's next pages (search sessions).
	if calls, per := cold.CallCount("Stores"); calls != len(stores) || use.trips != 3 {
		t.Fatalf("a search page's stores must be one level: cold %d Stores calls %v for stores %v, "+
			"warm %d Redis round trips; want one call per provider and three round trips (products, stores, session pin)", calls, per, stores, use.trips)
	}
}

func TestEntityCacheNotFound(t *testing.T) {
	t.Parallel()
	g := startCached(t, cacheOpts{})
	req := apitest.Request{Debug: true, Query: `query($id: ID!) { node(id: $id) { id } }`,
		Variables: map[string]any{"id": encodeID("Product", "freshcart", "no-such-product")}}
	first, second := g.Post(req), g.Post(req)
	if calls, _ := first.CallCount("Products"); calls != 1 {
		t.Fatalf("first lookup made %d Products calls, want 1: %s", calls, first.Raw)
	}
	if calls, _ := second.CallCount("Products"); calls != 0 {
		t.Fatalf("second lookup of a missing product made %d Products calls, want 0 (negative caching): %s", calls, second.Raw)
	}
	if !bytes.Equal(first.Data, second.Data) || fmt.Sprint(first.Errors) != fmt.Sprint(second.Errors) {
		t.Fatalf("answers differ:\n%s\n%s", first.Raw, second.Raw)
	}
	if !bytes.Contains(second.Data, []byte(`"node":null`)) {
		t.Fatalf("a missing product is not null: %s", second.Raw)
	}
}

func TestEntityCacheKeys(t *testing.T) {
	t.Parallel()
	g := startCached(t, cacheOpts{l1: true})
	f := orderFixture(t, g.Gateway)
	g.MustPost(apitest.Request{User: "demo-1", Query: fiftyOrders})
	g.MustPost(apitest.Request{User: "demo-1", Query: placeOrderMutation, Variables: orderInput(f.store, f.slot, f.product, 1, "")})
	g.MustPost(apitest.Request{User: "demo-1", Query: `{ me { orders(first: 5) { edges { node { id items { product { name } } } } } } }`})
	g.MustPost(apitest.Request{Query: searchBoxQuery, Variables: map[string]any{"text": "milk"}})
	query := `{ search(text: "rice", first: 3) { edges { node { __typename } } } }`
	postRaw(t, g.URL, map[string]any{"query": query, "extensions": persisted(sha256Hex(query))})
	g.Post(apitest.Request{Query: `query($id: ID!) { node(id: $id) { id } }`, Variables: map[string]any{"id": encodeID("Product", "freshcart", "nope")}})

	keys := scanKeys(t, cachetest.Redis(t), g.prefix)
	t.Logf("%d keys under %s", len(keys), g.prefix)
	if !strings.HasPrefix(g.prefix, "plaza:") {
		t.Fatalf("prefix %q does not start with plaza:", g.prefix)
	}
	for _, k := range []string{"Product:", "Store:", "DeliverySlot:", "apq:"} {
		if !slices.ContainsFunc(keys, func(s string) bool { return strings.HasPrefix(s, g.prefix+k) }) {
			t.Errorf("no %s key written: the test proves nothing", k)
		}
	}
	checkNoUserData(t, keys)
}

// ---------------------------------------------------------------- helpers

// cacheOpts describe one gateway instance with the cache.
type cacheOpts struct {
	// prefix is shared by the instances of one test; "" gives a fresh one.
	prefix string
	// l1 puts an in-process L1 (cache.Tiered) in front of Redis.
	l1 bool
	// client defaults to a new client of cachetest's Redis.
	client redis.UniversalClient
	// policy defaults to gateway.DefaultCachePolicy.
	policy *gateway.CachePolicy
	cache  []cache.Option
	conns  []connectors.Connector
	api    []api.Option
}

// cachedGateway is a running gateway with the production cache wiring of
// server.go (entity cache, APQ on the same store, readiness of Redis).
type cachedGateway struct {
	*apitest.Gateway
	redis   *cache.Redis
	client  redis.UniversalClient
	counter *redisCounter
	prefix  string
}

func startCached(tb testing.TB, o cacheOpts) *cachedGateway {
	tb.Helper()
	if o.prefix == "" {
		o.prefix = cachetest.Prefix(tb)
	}
	if o.client == nil {
		o.client = cachetest.Redis(tb)
	}
	counter := &redisCounter{}
	o.client.AddHook(counter)
	tb.Cleanup(func() { counter.checkKeys(tb, o.prefix) })
	// A generous Redis timeout unless the test sets one: these tests share two
	// cores under -race, where the production 50 ms is sometimes exceeded and
	// the cache bypasses Redis for a probe interval, turning hits into misses.
	// Bypassing is tested on its own (TestEntityCacheSurvivesRedisCrash).
	opts := append([]cache.Option{cache.WithPrefix(o.prefix), cache.WithTimeout(time.Second)}, o.cache...)
	r := cache.NewRedis(o.client, opts...)
	tb.Cleanup(r.Close)
	var store cache.Cache = r
	if o.l1 {
		tiered := cache.NewTiered(cache.NewMemory(10_000, o.cache...), r, o.cache...)
		tb.Cleanup(tiered.Close)
		select {
		case <-tiered.Ready():
		case <-time.After(5 * time.Second):
			tb.Fatal("the L1 never subscribed to invalidations")
		}
		store = tiered
	}
	policy := gateway.DefaultCachePolicy()
	if o.policy != nil {
		policy = *o.policy
	}
	g := apitest.Start(tb, apitest.Options{
		Connectors:     o.conns,
		GatewayOptions: []gateway.Option{gateway.WithCache(gateway.NewEntityCache(store, policy, nil))},
		APIOptions:     append([]api.Option{api.WithSharedCache(store), api.WithReadiness("cache", r.Healthy)}, o.api...),
	})
	return &cachedGateway{Gateway: g, redis: r, client: o.client, counter: counter, prefix: o.prefix}
}

// redisCounter is a go-redis hook counting what the gateway asks of Redis:
// round trips (a command sent alone, or a pipeline) and commands. It also
// remembers every key and channel named, so tests can check the key space.
// Connection set-up and health PINGs are not counted: they do not serve a
// request.
type redisCounter struct {
	trips, cmds atomic.Int64
	mu          sync.Mutex
	keys        map[string]string // key -> command that named it
}

var _ redis.Hook = (*redisCounter)(nil)

type redisUse struct{ trips, cmds int64 }

func (u redisUse) minus(v redisUse) redisUse { return redisUse{u.trips - v.trips, u.cmds - v.cmds} }

// snapshot is nil-safe so benchmarks without Redis can share code.
func (c *redisCounter) snapshot() redisUse {
	if c == nil {
		return redisUse{}
	}
	return redisUse{c.trips.Load(), c.cmds.Load()}
}

func (c *redisCounter) DialHook(next redis.DialHook) redis.DialHook { return next }

func (c *redisCounter) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if c.record(cmd) {
			c.trips.Add(1)
		}
		return next(ctx, cmd)
	}
}

func (c *redisCounter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		n := 0
		for _, cmd := range cmds {
			if c.record(cmd) {
				n++
			}
		}
		if n > 0 {
			c.trips.Add(1)
		}
		return next(ctx, cmds)
	}
}

// record counts cmd and notes the keys it names, unless it is connection
// housekeeping.
func (c *redisCounter) record(cmd redis.Cmder) bool {
	name, args := cmd.Name(), cmd.Args()
	switch name {
	case "ping", "hello", "client", "auth", "select":
		return false
	}
	c.cmds.Add(1)
	var keys []any
	switch {
	case name == "mget" || name == "del" || name == "unlink" || name == "exists":
		keys = args[1:]
	case len(args) > 1: // set, get, publish (its channel), and anything else keyed by its first argument
		keys = args[1:2]
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.keys == nil {
		c.keys = map[string]string{}
	}
	for _, k := range keys {
		c.keys[fmt.Sprint(k)] = name
	}
	return true
}

// checkKeys fails tb if any key or channel the gateway named is outside
// prefix, or holds per-user data.
func (c *redisCounter) checkKeys(tb testing.TB, prefix string) {
	tb.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	keys := make([]string, 0, len(c.keys))
	for k, cmd := range c.keys {
		if !strings.HasPrefix(k, prefix) || !strings.HasPrefix(k, "plaza:") {
			tb.Errorf("%s named key %q outside the prefix %q", strings.ToUpper(cmd), k, prefix)
		}
		keys = append(keys, k)
	}
	checkNoUserData(tb, keys)
}

// userKinds are the kinds that belong to one user: never cached.
var userKinds = []gid.Kind{gid.GroceryOrder, gid.Appointment, gid.Consultation, gid.LegalConsultation, gid.ServiceApplication, gid.User}

func checkNoUserData(tb testing.TB, keys []string) {
	tb.Helper()
	for _, k := range keys {
		for _, kind := range userKinds {
			if strings.Contains(k, ":"+string(kind)+":") {
				tb.Errorf("per-user data in Redis: %q", k)
			}
		}
		if strings.Contains(k, "demo-") {
			tb.Errorf("a user id in a Redis key: %q", k)
		}
	}
}

func scanKeys(tb testing.TB, client redis.UniversalClient, prefix string) []string {
	tb.Helper()
	var keys []string
	it := client.Scan(context.Background(), 0, prefix+"*", 1000).Iterator()
	for it.Next(context.Background()) {
		keys = append(keys, it.Val())
	}
	if err := it.Err(); err != nil {
		tb.Fatalf("scan: %v", err)
	}
	return keys
}

func sum(m map[string]int) (n int) {
	for _, v := range m {
		n += v
	}
	return n
}

// wantCache checks extensions.plaza.cache for the given types.
func wantCache(tb testing.TB, r *apitest.Response, want ...gateway.CacheCount) {
	tb.Helper()
	for _, w := range want {
		i := slices.IndexFunc(r.Extensions.Plaza.Cache, func(c gateway.CacheCount) bool { return c.Type == w.Type })
		if i < 0 || r.Extensions.Plaza.Cache[i] != w {
			tb.Errorf("cache counts %+v, want %+v", r.Extensions.Plaza.Cache, w)
		}
	}
}

func productHits(r *apitest.Response) int {
	for _, c := range r.Extensions.Plaza.Cache {
		if c.Type == "Product" {
			return c.Hits
		}
	}
	return 0
}

// readStock reads a product's stock through node(id:) and says how many
// Products calls it cost (0: served from the cache).
func readStock(tb testing.TB, g *apitest.Gateway, id string) (stock, calls int) {
	tb.Helper()
	r := mustQuery(tb, g, apitest.Request{Debug: true, Query: `query($id: ID!) { node(id: $id) { ... on Product { stock } } }`, Variables: map[string]any{"id": id}})
	var d struct {
		Node struct {
			Stock int `json:"stock"`
		} `json:"node"`
	}
	r.Decode(tb, &d)
	calls, _ = r.CallCount("Products")
	return d.Node.Stock, calls
}

// fixture is what an order needs: a store, an open slot and a product with
// stock, as global IDs.
type fixture struct{ provider, store, slot, product string }

func orderFixture(tb testing.TB, g *apitest.Gateway) fixture {
	tb.Helper()
	for _, s := range groceryStores(tb, g, demo.DefaultCities()[0]) {
		for _, sl := range s.DeliverySlots {
			for _, p := range s.Products.nodes() {
				if sl.Remaining >= 3 && p.Stock >= 5 {
					return fixture{provider: providerOf(tb, s.ID), store: s.ID, slot: sl.ID, product: p.ID}
				}
			}
		}
	}
	tb.Fatal("no store with an open slot and a product in stock")
	return fixture{}
}

// placeDirect orders at the provider itself, bypassing Plaza, as the
// provider's own app would.
func placeDirect(tb testing.TB, conns []connectors.Connector, f fixture, qty int) {
	tb.Helper()
	local := func(s string) string {
		id, err := gid.Decode(s)
		if err != nil {
			tb.Fatal(err)
		}
		return id.Local
	}
	for _, c := range conns {
		if c.Describe().ID == f.provider {
			_, err := c.(connectors.Grocery).PlaceOrder(context.Background(), connectors.PlaceOrderInput{
				UserID: demo.UserID(2), StoreID: local(f.store), SlotID: local(f.slot),
				Items: []connectors.OrderLineItem{{ProductID: local(f.product), Quantity: qty}},
			})
			if err != nil {
				tb.Fatalf("order at %s: %v", f.provider, err)
			}
			return
		}
	}
	tb.Fatalf("no provider %s", f.provider)
}

// invalidate posts ids to /providers/{provider}/invalidate signed with
// secret, as a provider does.
func invalidate(tb testing.TB, baseURL, provider, secret string, ids ...string) (int, []byte) {
	tb.Helper()
	status, _, body := invalidateWithHeader(tb, baseURL, provider, secret, ids...)
	return status, body
}

// invalidateWithHeader is invalidate, also returning the response header.
func invalidateWithHeader(tb testing.TB, baseURL, provider, secret string, ids ...string) (int, http.Header, []byte) {
	tb.Helper()
	body, _ := json.Marshal(map[string]any{"ids": ids})
	path := "/providers/" + provider + "/invalidate"
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	nonce := rand.Text()
	req, _ := http.NewRequest(http.MethodPost, baseURL+path, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(httpprovider.HeaderTimestamp, ts)
	req.Header.Set(httpprovider.HeaderNonce, nonce)
	req.Header.Set(httpprovider.HeaderSignature, httpprovider.SignV2(secret, ts, nonce, http.MethodPost, path, "", body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatalf("invalidate: %v", err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, out
}

func sha256Hex(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

func persisted(hash string) map[string]any {
	return map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": hash}}
}

// postRaw posts any JSON body to /query (apitest.Request always carries a
// query; APQ requests may not).
func postRaw(tb testing.TB, baseURL string, body any) *apitest.Response {
	tb.Helper()
	r, err := post(baseURL, body)
	if err != nil {
		tb.Fatal(err)
	}
	return r
}

// signedIn turns req.User into the bearer token a client would hold.
func signedIn(g *apitest.Gateway, req apitest.Request) apitest.Request {
	if req.User != "" {
		req.Header = req.Header.Clone()
		if req.Header == nil {
			req.Header = http.Header{}
		}
		req.Header.Set("Authorization", "Bearer "+g.Token(req.User))
		req.User = ""
	}
	return req
}

// mustQuery posts req and fails tb on any error. Unlike g.MustPost it fails
// the calling (sub)test, not the test that started g.
func mustQuery(tb testing.TB, g *apitest.Gateway, req apitest.Request) *apitest.Response {
	tb.Helper()
	r, err := post(g.URL, signedIn(g, req))
	if err == nil && (r.Status != http.StatusOK || len(r.Errors) > 0) {
		err = fmt.Errorf("status %d: %s", r.Status, r.Raw)
	}
	if err != nil {
		tb.Fatal(err)
	}
	return r
}

// post is postRaw for goroutines: it returns the error instead of failing.
// An apitest.Request body also sends its Header and Debug flag (its User
// must already be turned into an Authorization header: see signedIn).
func post(baseURL string, body any) (*apitest.Response, error) {
	var header http.Header
	if req, ok := body.(apitest.Request); ok {
		header = req.Header
	}
	b, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	hr, err := http.NewRequest(http.MethodPost, baseURL+"/query", bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	hr.Header.Set("Content-Type", "application/json")
	for k, vs := range header {
		hr.Header[k] = vs
	}
	if req, ok := body.(apitest.Request); ok && req.Debug {
		hr.Header.Set(api.DebugHeader, "calls")
	}
	resp, err := http.DefaultClient.Do(hr)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	out := &apitest.Response{Status: resp.StatusCode, Raw: raw}
	if err := json.Unmarshal(raw, out); err != nil {
		return nil, fmt.Errorf("status %d, not JSON: %w: %s", resp.StatusCode, err, raw)
	}
	return out, nil
}

func getStatus(tb testing.TB, url string) int {
	tb.Helper()
	resp, err := http.Get(url)
	if err != nil {
		tb.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	return resp.StatusCode
}

func readyStatus(tb testing.TB, baseURL string) string {
	tb.Helper()
	resp, err := http.Get(baseURL + "/readyz")
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Status string `json:"status"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		tb.Fatal(err)
	}
	return body.Status
}

// eventually polls cond until it holds, failing tb at deadline.
func eventually(tb testing.TB, deadline time.Time, cond func() bool, format string, args ...any) {
	tb.Helper()
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf(format, args...)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// switchableGrocery is a grocery provider whose entity lookups can be made
// to fail, as an outage at the provider would.
type switchableGrocery struct {
	connectors.Grocery
	failing atomic.Bool
}

// CatalogChanges publishes the wrapped provider's catalogue, so the index
// search reads holds it.
func (s *switchableGrocery) CatalogChanges(ctx context.Context, since string, first int) (connectors.CatalogChanges, error) {
	return s.Grocery.(connectors.Catalog).CatalogChanges(ctx, since, first)
}

var errProviderDown = errors.New("provider down (test)")

func (g *switchableGrocery) Products(ctx context.Context, ids []string) ([]connectors.Result[connectors.Product], error) {
	if g.failing.Load() {
		return nil, errProviderDown
	}
	return g.Grocery.Products(ctx, ids)
}

func (g *switchableGrocery) Stores(ctx context.Context, ids []string) ([]connectors.Result[connectors.Store], error) {
	if g.failing.Load() {
		return nil, errProviderDown
	}
	return g.Grocery.Stores(ctx, ids)
}

// testClock is a clock the test moves.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *testClock) set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

func (c *testClock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// redisProcess is a redis-server owned by one test, on a loopback port that
// survives restarts.
type redisProcess struct {
	tb   testing.TB
	port int
	cmd  *exec.Cmd
}

func startRedisProcess(tb testing.TB) *redisProcess {
	tb.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		tb.Skip("redis-server is not on PATH: skipping the test that kills and restarts its own Redis")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	p := &redisProcess{tb: tb, port: l.Addr().(*net.TCPAddr).Port}
	_ = l.Close()
	p.start()
	tb.Cleanup(p.kill)
	return p
}

func (p *redisProcess) addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(p.port)) }

// start runs redis-server (again) on the port and waits until it answers.
func (p *redisProcess) start() {
	p.tb.Helper()
	p.cmd = exec.Command("redis-server", "--port", strconv.Itoa(p.port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", p.tb.TempDir())
	if err := p.cmd.Start(); err != nil {
		p.tb.Fatalf("start redis-server: %v", err)
	}
	c := redis.NewClient(&redis.Options{Addr: p.addr(), MaxRetries: -1, DialTimeout: 100 * time.Millisecond})
	defer c.Close()
	eventually(p.tb, time.Now().Add(5*time.Second), func() bool {
		return c.Ping(context.Background()).Err() == nil
	}, "redis-server on %s does not answer PING", p.addr())
}

// kill stops the server with SIGKILL, as a crash would.
func (p *redisProcess) kill() {
	if p.cmd == nil {
		return
	}
	_ = p.cmd.Process.Kill()
	_ = p.cmd.Wait()
	p.cmd = nil
}
