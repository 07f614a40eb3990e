//go:build unix

package api_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/plaza-gateway/plaza/api/apitest"
	"github.com/plaza-gateway/plaza/connectors"
	"github.com/plaza-gateway/plaza/connectors/demo"
	"github.com/plaza-gateway/plaza/supply"
)

// slowGrocery answers every read after a fixed latency, as a provider over
// the network does (20 ms: the bench harness's provider).
type slowGrocery struct {
	*demo.Grocery
	latency time.Duration
}

func (g slowGrocery) wait(ctx context.Context) {
	select {
	case <-time.After(g.latency):
	case <-ctx.Done():
	}
}

func (g slowGrocery) Products(ctx context.Context, ids []string) ([]connectors.Result[connectors.Product], error) {
	g.wait(ctx)
	return g.Grocery.Products(ctx, ids)
}

func (g slowGrocery) Stores(ctx context.Context, ids []string) ([]connectors.Result[connectors.Store], error) {
	g.wait(ctx)
	return g.Grocery.Stores(ctx, ids)
}

func (g slowGrocery) SearchProducts(ctx context.Context, q connectors.Query) (connectors.Page[connectors.Product], error) {
	g.wait(ctx)
	return g.Grocery.SearchProducts(ctx, q)
}

func (g slowGrocery) SearchStores(ctx context.Context, q connectors.Query) (connectors.Page[connectors.Store], error) {
	g.wait(ctx)
	return g.Grocery.SearchStores(ctx, q)
}

// BenchmarkSearchOverProviders is "search over N providers at 20 ms each,
// c=64": the same search page (products with their live price and their
// store) answered by fanning out to every provider and by the supply index
// with the page completed live, side by side in one run. partial/op counts
// answers with errors (a provider timed out); req/s is the throughput.
//
//	go test -run '^$' -bench SearchOverProviders -count 3 ./api/
func BenchmarkSearchOverProviders(b *testing.B) {
	const n, latency, conc = 32, 20 * time.Millisecond, 64
	conns := make([]connectors.Connector, n)
	for i := range n {
		id := fmt.Sprintf("grocer-%03d", i)
		gr, err := demo.NewGrocery(connectors.Descriptor{ID: id, Name: id, Vertical: connectors.VerticalGrocery, Cities: demo.DefaultCities(), MaxBatch: 100})
		if err != nil {
			b.Fatal(err)
		}
		conns[i] = slowGrocery{Grocery: gr, latency: latency}
	}
	fast := make([]connectors.Connector, n)
	for i, c := range conns {
		fast[i] = c.(slowGrocery).Grocery
	}
	ix := apitest.FedIndex(b, fast)
	const query = `query($text: String) { search(text: $text, first: 20) { edges { node { ... on Product { id name price { amount } store { name } } } } } }`
	for _, mode := range []struct {
		name   string
		fanOut bool
	}{{"fan-out", true}, {"index", false}} {
		b.Run(fmt.Sprintf("%s/providers=%d/c=%d", mode.name, n, conc), func(b *testing.B) {
			var opts apitest.Options
			opts.Connectors, opts.FanOut = conns, mode.fanOut
			if !mode.fanOut {
				opts.Index = ix
			}
			g := apitest.Start(b, opts)
			var partial, total atomic.Int64
			b.SetParallelism((conc + 1) / 2) // GOMAXPROCS is 2 here: 64 goroutines
			start, cpu0 := time.Now(), processCPU(b)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					r := g.Post(apitest.Request{Query: query, Variables: map[string]any{"text": "milk"}})
					total.Add(1)
					if len(r.Errors) > 0 || r.Status != 200 {
						partial.Add(1)
					}
				}
			})
			b.ReportMetric(float64(total.Load())/time.Since(start).Seconds(), "req/s")
			b.ReportMetric(float64(partial.Load())/float64(max(total.Load(), 1)), "partial/op")
			// The process's CPU per search (gateway and in-process
			// providers): on a shared machine, the steadier figure.
			b.ReportMetric(float64((processCPU(b)-cpu0).Microseconds())/1000/float64(max(total.Load(), 1)), "cpu-ms/op")
		})
	}
}

var _ supply.Index = (*supply.Memory)(nil)

func processCPU(tb testing.TB) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
