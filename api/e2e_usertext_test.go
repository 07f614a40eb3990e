package api_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
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
	"github.com/plaza-gateway/plaza/events"
	"github.com/plaza-gateway/plaza/gateway"
	"github.com/plaza-gateway/plaza/gid"
	"github.com/plaza-gateway/plaza/ratelimit"
	"github.com/plaza-gateway/plaza/resolvers"
)

// TestFreeTextArgumentsAreBounded sends one character more than the limit
// in every free-text argument: each gets BAD_USER_INPUT naming the argument
// in extensions.field. Characters are counted, not bytes: 256 two-byte
// characters are accepted.
func TestFreeTextArgumentsAreBounded(t *testing.T) {
	p := startPersonal(t, 0)
	tooLong := strings.Repeat("é", resolvers.MaxTextRunes+1)
	item := gid.Encode(gid.Product, "freshcart", "p-1")
	for _, tc := range []struct {
		name, query, field string
		vars               map[string]any
		user               string
	}{
		{"search text", `query($s: String) { search(text: $s) { totalCount } }`, "text", nil, ""},
		{"search city", `query($s: String) { search(city: $s) { totalCount } }`, "city", nil, ""},
		{"products text", `query($s: String) { products(text: $s) { totalCount } }`, "text", nil, ""},
		{"products category", `query($s: String) { products(category: $s) { totalCount } }`, "category", nil, ""},
		{"doctors city", `query($s: String) { doctors(city: $s) { totalCount } }`, "city", nil, ""},
		{"lawyers text", `query($s: String) { lawyers(text: $s) { totalCount } }`, "text", nil, ""},
		{"govServices text", `query($s: String) { govServices(text: $s) { totalCount } }`, "text", nil, ""},
		{"stores city", `query($s: String) { stores(city: $s) { totalCount } }`, "city", nil, ""},
		{"providers city", `query($s: String) { providers(city: $s) { totalCount } }`, "city", nil, ""},
		{"a store's products text", `query($s: String) { stores(first: 1) { edges { node { products(text: $s) { totalCount } } } } }`, "text", nil, ""},
		{"a service's offices city", `query($s: String) { govServices(first: 1) { edges { node { offices(city: $s) { name } } } } }`, "city", nil, ""},
		{"home city", `query($s: String) { home(city: $s) { city } }`, "city", nil, "demo-1"},
		{"reportSearchClick query", `mutation($s: String!, $id: ID!) { reportSearchClick(query: $s, itemId: $id) }`, "query", map[string]any{"id": item}, ""},
	} {
		t.Run(tc.name+" refuses 257 characters, naming the argument", func(t *testing.T) {
			vars := map[string]any{"s": tooLong}
			for k, v := range tc.vars {
				vars[k] = v
			}
			resp := mustFail(t, p.Gateway, apitest.Request{Query: tc.query, Variables: vars, User: tc.user}, "BAD_USER_INPUT", "too long: 257 characters, at most 256")
			if got := resp.Errors[0].Extensions["field"]; got != tc.field {
				t.Fatalf("extensions.field = %v, want %q", got, tc.field)
			}
		})
	}

	t.Run("search accepts 256 characters and stores the 256-byte normalised form", func(t *testing.T) {
		text := strings.Repeat("É", resolvers.MaxTextRunes) // 512 bytes
		p.MustPost(apitest.Request{Query: `query($s: String) { search(text: $s, first: 1) { totalCount } }`, Variables: map[string]any{"s": text}})
		p.flush(t)
		log, err := p.store.Log(context.Background(), time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
		if err != nil || len(log) == 0 {
			t.Fatalf("log: %d events, %v", len(log), err)
		}
		if got, want := log[len(log)-1].Query, strings.Repeat("é", events.MaxText/2); got != want {
			t.Fatalf("stored query of %d bytes (%.20q…), want %d bytes of é", len(got), got, len(want))
		}
	})
}

// TestAbusiveSearchesBoundRedis drives the real handler, wired as
// server.go wires it with Redis (events, entity cache, persisted queries,
// all under this test's own key prefix), as one anonymous client sending
// searches and clicks of long text as fast as the anonymous rate limit
// lets it for one minute of an injected clock. Redis memory under the
// prefix (MEMORY USAGE of every key, never the shared server's INFO) grows
// by at most 5 MB.
func TestAbusiveSearchesBoundRedis(t *testing.T) {
	if testing.Short() {
		t.Skip("drives a minute of anonymous traffic at the rate limit")
	}
	rdb := cachetest.Redis(t)
	prefix := cachetest.Prefix(t)
	ctx := context.Background()
	if err := rdb.Do(ctx, "MEMORY", "USAGE", "plaza:test:none").Err(); err != nil && err != redis.Nil {
		t.Skipf("this Redis cannot measure memory (MEMORY USAGE: %v)", err)
	}

	clk := &fakeClock{t: time.Now().UTC().Truncate(time.Hour).Add(5 * time.Minute)}
	store, err := events.NewRedisStore(rdb, events.RedisConfig{Prefix: prefix + "ev:", Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	rec := events.NewRecorder(store, events.WithClock(clk.Now), events.WithLogger(slog.New(slog.DiscardHandler)))
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { _ = rec.Run(runCtx); close(done) }()
	t.Cleanup(func() { cancel(); <-done; cleanPrefix(t, rdb, prefix) })
	shared := cache.NewRedis(rdb, cache.WithPrefix(prefix+"c:"), cache.WithTimeout(5*time.Second))
	limits := ratelimit.DefaultConfig()
	g := apitest.Start(t, apitest.Options{
		GatewayOptions: []gateway.Option{gateway.WithObserver(rec),
			gateway.WithCache(gateway.NewEntityCache(shared, gateway.DefaultCachePolicy(), nil))},
		APIOptions: []api.Option{api.WithSharedCache(shared), api.WithRateLimit(ratelimit.New(limits, ratelimit.NewMemory(0, clk.Now), nil)),
			api.WithResolverOptions(resolvers.WithPersonalization(resolvers.Personalization{Recorder: rec, Store: store, Analytics: events.NewAnalytics(store)}))},
	})
	item := gid.Encode(gid.Product, "freshcart", "p-1")

	// What one anonymous client sends: searches and clicks, with 5,000
	// characters (refused), or with the longest accepted text, each one
	// different so that nothing is counted twice.
	kinds := []struct {
		name string
		req  func(i int) apitest.Request
	}{
		{"5,000-character searches", func(i int) apitest.Request {
			return apitest.Request{Query: `query($s: String) { search(text: $s, vertical: LEGAL, first: 1) { totalCount } }`,
				Variables: map[string]any{"s": longText(i, 5000)}}
		}},
		{"5,000-character clicks", func(i int) apitest.Request {
			return apitest.Request{Query: `mutation($s: String!, $id: ID!) { reportSearchClick(query: $s, itemId: $id) }`,
				Variables: map[string]any{"s": longText(i, 5000), "id": item}}
		}},
		{"256-character searches (the longest accepted)", func(i int) apitest.Request {
			return apitest.Request{Query: `query($s: String, $c: String) { search(text: $s, city: $c, vertical: LEGAL, first: 1) { totalCount } }`,
				Variables: map[string]any{"s": longText(i, resolvers.MaxTextRunes), "c": longText(i+1, resolvers.MaxTextRunes)}}
		}},
		{"256-character clicks (the longest accepted)", func(i int) apitest.Request {
			return apitest.Request{Query: `mutation($s: String!, $id: ID!) { reportSearchClick(query: $s, itemId: $id) }`,
				Variables: map[string]any{"s": longText(i, resolvers.MaxTextRunes), "id": item}}
		}},
	}
	before := prefixMemory(t, rdb, prefix)
	var (
		mu            sync.Mutex
		sent, refused int
		spent         = make([]time.Duration, len(kinds))
		next          atomic.Int64
		limited       atomic.Int64
	)
	// One minute at the anonymous limit: every second of the injected clock
	// the client sends, from a few connections at once, until it is refused
	// with 429 (the burst the first second, the rate after).
	for sec := 0; sec < 60 && !t.Failed(); sec++ {
		limited.Store(0)
		var wg sync.WaitGroup
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for limited.Load() == 0 {
					i := int(next.Add(1) - 1)
					k := kinds[i%len(kinds)]
					start := time.Now()
					resp := g.Post(k.req(i))
					mu.Lock()
					spent[i%len(kinds)] += time.Since(start)
					mu.Unlock()
					long := strings.HasPrefix(k.name, "5,000")
					switch {
					case resp.Status == http.StatusTooManyRequests:
						limited.Add(1)
						return
					case resp.Status >= 500:
						t.Errorf("%s: status %d: %s", k.name, resp.Status, resp.Raw)
						limited.Add(1)
						return
					case long && (len(resp.Errors) != 1 || resp.Errors[0].Code() != "BAD_USER_INPUT"):
						t.Errorf("%s: want BAD_USER_INPUT, got %s", k.name, resp.Raw)
					case !long && len(resp.Errors) > 0:
						t.Errorf("%s: want it accepted, got %s", k.name, resp.Raw)
					}
					mu.Lock()
					sent++
					if long {
						refused++
					}
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		clk.Add(time.Second)
	}
	if t.Failed() {
		return
	}
	flushCtx, flushCancel := context.WithTimeout(ctx, 30*time.Second)
	defer flushCancel()
	if err := rec.Flush(flushCtx); err != nil {
		t.Fatal(err)
	}
	if rec.Dropped() != 0 || rec.Failed() != 0 {
		t.Fatalf("the recorder dropped %d and failed %d events: the figure would understate", rec.Dropped(), rec.Failed())
	}
	if want := limits.IP.Burst + 59*limits.IP.Rate; sent != want {
		t.Fatalf("sent %d requests in the minute, want about %d (burst %d, then %d/s)", sent, want, limits.IP.Burst, limits.IP.Rate)
	}
	after := prefixMemory(t, rdb, prefix)
	growth := after - before
	t.Logf("by structure (bytes): %v", prefixMemoryBy(t, rdb, prefix))
	t.Logf("one minute at the anonymous rate limit: %d requests (%d refused as too long, %d stored); Redis under the test's prefix grew by %d bytes (%.2f MB)",
		sent, refused, sent-refused, growth, float64(growth)/1e6)
	t.Logf("time per kind: %v", spent)
	if growth > 5_000_000 {
		t.Fatalf("Redis grew by %d bytes, want at most 5 MB", growth)
	}
}

// longText is n characters of text unique to i: words of mixed case, so
// normalising has something to do, and two-byte characters, so a cut at
// 256 bytes lands inside the text.
func longText(i, n int) string {
	head := []rune(fmt.Sprintf("Abuse %d ", i))
	body := []rune(strings.Repeat("Wörd Déjà VU ", n/13+1))
	return string(append(head, body...)[:n])
}

// prefixMemory is the memory (bytes) of every key under prefix, as Redis
// reports it with MEMORY USAGE (all samples of nested values).
func prefixMemory(tb testing.TB, rdb redis.UniversalClient, prefix string) int64 {
	tb.Helper()
	ctx := context.Background()
	var total int64
	iter := rdb.Scan(ctx, 0, prefix+"*", 1000).Iterator()
	for iter.Next(ctx) {
		n, err := rdb.MemoryUsage(ctx, iter.Val(), 0).Result()
		if err != nil && err != redis.Nil {
			tb.Fatalf("MEMORY USAGE %s: %v", iter.Val(), err)
		}
		total += n
	}
	if err := iter.Err(); err != nil {
		tb.Fatal(err)
	}
	return total
}

// prefixMemoryBy is prefixMemory per kind of key: the events' log stream,
// hourly counters and histories, and the shared cache.
func prefixMemoryBy(tb testing.TB, rdb redis.UniversalClient, prefix string) map[string]int64 {
	tb.Helper()
	ctx := context.Background()
	out := map[string]int64{}
	iter := rdb.Scan(ctx, 0, prefix+"*", 1000).Iterator()
	for iter.Next(ctx) {
		n, _ := rdb.MemoryUsage(ctx, iter.Val(), 0).Result()
		kind, _, _ := strings.Cut(strings.TrimPrefix(iter.Val(), prefix), ":")
		if kind == "ev" {
			rest := strings.TrimPrefix(iter.Val(), prefix+"ev:")
			kind, _, _ = strings.Cut(rest, ":")
			kind = "events " + kind
		} else {
			kind = "cache"
		}
		out[kind] += n
	}
	return out
}

// cleanPrefix deletes the test's keys (they would expire, but only after
// the 90-day retention).
func cleanPrefix(tb testing.TB, rdb redis.UniversalClient, prefix string) {
	tb.Helper()
	ctx := context.Background()
	iter := rdb.Scan(ctx, 0, prefix+"*", 1000).Iterator()
	for iter.Next(ctx) {
		rdb.Del(ctx, iter.Val())
	}
}

// fakeClock is a movable clock for the rate limiter and the events.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}
