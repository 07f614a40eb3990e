package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/plaza-gateway/plaza/api"
	"github.com/plaza-gateway/plaza/auth"
	"github.com/plaza-gateway/plaza/catalog"
	"github.com/plaza-gateway/plaza/connectors"
	"github.com/plaza-gateway/plaza/directory"
	"github.com/plaza-gateway/plaza/gateway"
	"github.com/plaza-gateway/plaza/metrics"
	"github.com/plaza-gateway/plaza/resilience"
	"github.com/plaza-gateway/plaza/supply"
)

// BenchmarkCityRouting is issue 14's two routing rows, measured on the
// gateway as the shipped binary wires it (the supply index, the call
// policy and the metrics), over N registered synthetic grocery providers
// (the directory generator's, as bench serve-gateway -generated serves
// them):
//
//   - outside-calls: provider calls made, in searches that name a city,
//     to a provider that does not declare the city (must be 0); calls: all
//     the provider calls those searches made;
//   - series: the plaza_ series the metrics registry exports after them
//     (the same at every N: nothing is labelled by provider).
//
// The index holds the catalogues (2 items each) of at most routedFed of
// the N providers, spread evenly over them: feeding 10^6 catalogues takes
// over ten CPU-minutes, and what is measured here is where the calls go,
// not the index. The searches' cities are those of fed providers, so
// every search completes items. 10^6 runs with PLAZA_BENCH_SCALE=1.
//
//	PLAZA_BENCH_SCALE=1 go test -run '^$' -bench DirectoryRouting -benchtime 1x ./bench
func BenchmarkCityRouting(b *testing.B) {
	sizes := []int{10, 10_000}
	if os.Getenv("PLAZA_BENCH_SCALE") == "1" {
		sizes = append(sizes, 1_000_000)
	}
	for _, n := range sizes {
		b.Run("providers="+strconv.Itoa(n), func(b *testing.B) {
			h, src, obs, cities, m := routedHandler(b, n)
			post := func(city string) {
				body, _ := json.Marshal(map[string]any{"query": docSearchInCity, "variables": map[string]any{"city": city}})
				req := httptest.NewRequest(http.MethodPost, "/query", bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				w := httptest.NewRecorder()
				h.ServeHTTP(w, req)
				if w.Code != http.StatusOK || bytes.Contains(w.Body.Bytes(), []byte(`"errors"`)) {
					b.Fatalf("search in %s: status %d: %.300s", city, w.Code, w.Body)
				}
			}
			r := rand.New(rand.NewPCG(14, 14))
			var outside, calls, searches int
			for b.Loop() {
				for range 50 {
					city := cities[r.IntN(len(cities))]
					called := obs.take()
					post(city)
					called = obs.take()
					searches++
					calls += len(called)
					for _, p := range called {
						if !src.Serves(p, city) {
							outside++
							b.Errorf("a search in %s called %s, which does not serve it", city, p)
						}
					}
				}
			}
			b.ReportMetric(float64(outside), "outside-calls")
			b.ReportMetric(float64(calls)/float64(searches), "calls/search")
			b.ReportMetric(float64(plazaSeries(b, m)), "series")
		})
	}
}

// docSearchInCity is a search page naming a city, with the live fields the
// page completes from providers (price, stock) and the store's name.
const docSearchInCity = `query Search($text: String, $city: String) { search(text: $text, city: $city, first: 20) { totalCount edges { node {
  ... on Product { id name price { amount } stock store { name } } ... on Store { id name } } } } }`

// routedFed bounds the providers whose catalogues the routing benchmark
// indexes.
const routedFed = 10_000

// routedHandler is the gateway's handler over n generated providers (the
// catalogues of at most routedFed of them indexed), their source, the
// observer that records the providers it calls, the cities of the fed
// providers, and the metrics.
func routedHandler(b *testing.B, n int) (http.Handler, *generatedSource, *calledProviders, []string, *metrics.Metrics) {
	b.Helper()
	ctx := context.Background()
	var counted atomic.Int64
	src := newGeneratedSource(n, 2, &counted)
	ix, err := supply.NewMemory()
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = ix.Close() })
	ix.Hold()
	fed := min(n, routedFed)
	stride := n / fed
	cities := map[string]bool{}
	if _, err := catalog.IndexGenerated(ctx, catalog.New(ix, nil), nil, fed, 2, 2, func(_ context.Context, i int) (string, connectors.Catalog, error) {
		g, err := src.grocer(i * stride)
		if err != nil {
			return "", nil, err
		}
		return g.Describe().ID, g, nil
	}); err != nil {
		b.Fatal(err)
	}
	if err := ix.Compact(ctx); err != nil {
		b.Fatal(err)
	}
	for i := range fed {
		for _, c := range directory.Generated(generatedSeed, i*stride, directory.GenerateOptions{}).Cities {
			cities[c] = true
		}
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	m := metrics.New()
	policy := resilience.New(resilience.Config{Defaults: resilience.DefaultProviderConfig()}, resilience.WithLogger(log), resilience.WithObserver(m))
	m.RegisterBreakers(policy)
	obs := &calledProviders{next: m}
	gw := gateway.New(connectors.NewSourceRegistry(src), gateway.WithLogger(log), gateway.WithObserver(obs),
		gateway.WithPolicy(policy), gateway.WithStatus(policy.Status), gateway.WithIndex(ix))
	v, err := auth.NewVerifier(auth.Config{Secret: []byte("bench-secret")})
	if err != nil {
		b.Fatal(err)
	}
	list := make([]string, 0, len(cities))
	for c := range cities {
		list = append(list, c)
	}
	slices.Sort(list)
	return api.New(gw, v, log, api.DefaultConfig(), api.WithMetrics(m.Registry)), src, obs, list, m
}

// calledProviders records the providers the gateway calls, and passes
// each call on to the metrics.
type calledProviders struct {
	next   gateway.Observer
	mu     sync.Mutex
	called []string
}

func (c *calledProviders) ObserveCall(v connectors.Vertical, provider, op string, keys int, d time.Duration, err error) {
	c.mu.Lock()
	c.called = append(c.called, provider)
	c.mu.Unlock()
	c.next.ObserveCall(v, provider, op, keys, d, err)
}

// take returns the providers called since the last take.
func (c *calledProviders) take() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.called
	c.called = nil
	return out
}

// plazaSeries counts the plaza_ series the registry exports (the Go
// runtime's and the process's own left out).
func plazaSeries(b *testing.B, m *metrics.Metrics) int {
	families, err := m.Registry.Gather()
	if err != nil {
		b.Fatal(err)
	}
	n := 0
	for _, f := range families {
		if strings.HasPrefix(f.GetName(), "plaza_") {
			n += len(f.GetMetric())
		}
	}
	return n
}
