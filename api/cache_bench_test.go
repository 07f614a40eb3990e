package api_test

import (
	"net/http"
	"testing"

	"github.com/plaza-gateway/plaza/api/apitest"
)

// searchBoxQuery is the app's search box: every provider, every kind, with the
// store of each product (a loader level behind the search fan-out).
const searchBoxQuery = `query($text: String) { search(text: $text, first: 20) { edges { score node {
  __typename
  ... on Product { id name price { amount currency } store { name } }
  ... on Store { id name }
  ... on Doctor { id name }
  ... on Lawyer { id name }
  ... on GovService { id name }
} } } }`

// BenchmarkFiftyOrders drives the real handler over loopback HTTP with the
// "my orders" page (50 orders, their products and stores). redis-trips/op and
// redis-cmds/op are what the gateway asked of Redis per request.
func BenchmarkFiftyOrders(b *testing.B) {
	benchCache(b, apitest.Request{User: "demo-1", Query: fiftyOrders})
}

// BenchmarkSearch is the search box for "milk" across all providers. The
// fan-out itself is not cached (rankings change with stock); the stores of
// the products found are.
func BenchmarkSearch(b *testing.B) {
	benchCache(b, apitest.Request{Query: searchBoxQuery, Variables: map[string]any{"text": "milk"}})
}

func benchCache(b *testing.B, req apitest.Request) {
	for _, tc := range []struct {
		name   string
		cached bool
		l1     bool
	}{
		{"uncached", false, false},
		{"warm-L2", true, false},
		{"warm-L1+L2", true, true},
	} {
		b.Run(tc.name, func(b *testing.B) {
			var g *apitest.Gateway
			var counter *redisCounter
			if tc.cached {
				cg := startCached(b, cacheOpts{l1: tc.l1})
				g, counter = cg.Gateway, cg.counter
			} else {
				g = apitest.Start(b, apitest.Options{})
			}
			req := signedIn(g, req) // sign once, like a client holding a token
			g.MustPost(req)         // warm the cache and the connections
			before := counter.snapshot()
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				r, err := post(g.URL, req)
				if err != nil || r.Status != http.StatusOK || len(r.Errors) > 0 {
					b.Fatalf("err %v, response %s", err, r.Raw)
				}
			}
			b.StopTimer()
			used := counter.snapshot().minus(before)
			b.ReportMetric(float64(used.trips)/float64(b.N), "redis-trips/op")
			b.ReportMetric(float64(used.cmds)/float64(b.N), "redis-cmds/op")
		})
	}
}
