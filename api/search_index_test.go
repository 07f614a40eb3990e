package api_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"

	"github.com/plaza-gateway/plaza/api/apitest"
	"github.com/plaza-gateway/plaza/catalog"
	"github.com/plaza-gateway/plaza/connectors"
	"github.com/plaza-gateway/plaza/connectors/demo"
	"github.com/plaza-gateway/plaza/directory"
	"github.com/plaza-gateway/plaza/providers"
	"github.com/plaza-gateway/plaza/supply"
)

// countingGrocery is a demo grocery provider that counts the calls it
// receives (every batch read a page completion can make), and fails its
// product batch when failing is set.
type countingGrocery struct {
	*demo.Grocery
	calls   *atomic.Int64
	failing bool
}

func (g countingGrocery) Products(ctx context.Context, ids []string) ([]connectors.Result[connectors.Product], error) {
	g.calls.Add(1)
	if g.failing {
		return nil, connectors.Errorf(connectors.KindProvider, "products store is down")
	}
	return g.Grocery.Products(ctx, ids)
}

func (g countingGrocery) Stores(ctx context.Context, ids []string) ([]connectors.Result[connectors.Store], error) {
	g.calls.Add(1)
	return g.Grocery.Stores(ctx, ids)
}

func (g countingGrocery) DeliverySlots(ctx context.Context, ids []string) ([]connectors.Result[[]connectors.DeliverySlot], error) {
	g.calls.Add(1)
	return g.Grocery.DeliverySlots(ctx, ids)
}

func (g countingGrocery) SearchProducts(ctx context.Context, q connectors.Query) (connectors.Page[connectors.Product], error) {
	g.calls.Add(1)
	return g.Grocery.SearchProducts(ctx, q)
}

// groceryFleet starts a gateway over n grocery providers whose index holds
// perProvider of each one's products (as `providers generate
// --items-per-provider` would publish), and returns the shared call
// counter (reset after indexing). failing names providers whose product
// batch fails. The providers hold no users' order history (WithUsers(0)):
// search pages never read it, and generating it for 200 providers cost
// most of the fleet's set-up under -race.
func groceryFleet(tb testing.TB, n, perProvider int, failing ...string) (*apitest.Gateway, *atomic.Int64) {
	tb.Helper()
	calls := &atomic.Int64{}
	conns := make([]connectors.Connector, n)
	for i := range n {
		id := fmt.Sprintf("grocer-%03d", i)
		gr, err := demo.NewGrocery(connectors.Descriptor{ID: id, Name: id, Vertical: connectors.VerticalGrocery, Cities: demo.DefaultCities(), MaxBatch: 100}, demo.WithUsers(0))
		if err != nil {
			tb.Fatal(err)
		}
		conns[i] = countingGrocery{Grocery: gr, calls: calls, failing: contains(failing, id)}
	}
	ix, err := supply.NewMemory()
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = ix.Close() })
	pub := firstProducts{in: catalog.New(ix, nil), per: perProvider, seen: map[string]int{}}
	if err := demo.PublishNow(context.Background(), conns, &pub); err != nil {
		tb.Fatal(err)
	}
	g := apitest.Start(tb, apitest.Options{Connectors: conns, Index: ix})
	calls.Store(0)
	return g, calls
}

// firstProducts publishes only each provider's first per products, as a
// provider publishing a catalogue of that size would; with city set, each
// placed in that city whatever cities its provider declares.
type firstProducts struct {
	in   connectors.Publisher
	per  int
	seen map[string]int
	city string
}

func (f *firstProducts) Publish(ctx context.Context, provider string, b connectors.CatalogBatch) (connectors.CatalogAck, error) {
	var kept []connectors.CatalogItem
	for _, it := range b.Upserts {
		if it.Kind == connectors.CatalogProduct && f.seen[provider] < f.per {
			f.seen[provider]++
			if f.city != "" {
				it.Cities = []string{f.city}
			}
			kept = append(kept, it)
		}
	}
	return f.in.Publish(ctx, provider, connectors.CatalogBatch{Upserts: kept})
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// providerPage is a search page's results and their providers.
type providerPage struct {
	Search conn[struct {
		ID       string `json:"id"`
		Provider struct {
			Key string `json:"key"`
		} `json:"provider"`
	}] `json:"search"`
}

// The most a page can cost: every product completed live, its store, and
// the store's delivery slots (three calls per provider on the page).
const livePageQuery = `query($text: String, $first: Int, $after: String) { search(text: $text, first: $first, after: $after) {
  pageInfo { hasNextPage endCursor }
  edges { node { ... on Product { id price { amount } stock provider { key } store { name deliverySlots { id } } } } }
} }`

func TestSearchPageCallCap(t *testing.T) {
	for _, n := range []int{32, 200} {
		g, calls := groceryFleet(t, n, 20)
		for _, tc := range []struct {
			name string
			vars map[string]any
		}{
			{"browsing", map[string]any{"first": 20}},
			{"searching milk", map[string]any{"text": "milk", "first": 20}},
			{"a page of 10", map[string]any{"first": 10}},
		} {
			t.Run(fmt.Sprintf("%s over %d providers costs at most 20 provider calls per page, nested fields included", tc.name, n), func(t *testing.T) {
				var after any
				for page := range 3 {
					vars := map[string]any{"after": after}
					for k, v := range tc.vars {
						vars[k] = v
					}
					calls.Store(0)
					d, resp := mustData[providerPage](t, g, apitest.Request{Query: livePageQuery, Variables: vars})
					got := calls.Load()
					if len(d.Search.Edges) == 0 {
						t.Fatalf("page %d is empty: %s", page, resp.Raw)
					}
					if got > 20 {
						t.Fatalf("page %d of %d results cost %d provider calls, want at most 20", page, len(d.Search.Edges), got)
					}
					perProvider := map[string]int{}
					for _, e := range d.Search.Edges[:min(10, len(d.Search.Edges))] {
						perProvider[e.Node.Provider.Key]++
					}
					for p, k := range perProvider {
						if k > 5 {
							t.Errorf("page %d: %s holds %d of the first ten", page, p, k)
						}
					}
					t.Logf("page %d: %d results, %d provider calls, %d providers in the first ten", page, len(d.Search.Edges), got, len(perProvider))
					if !d.Search.PageInfo.HasNextPage {
						break
					}
					after = *d.Search.PageInfo.EndCursor
				}
			})
		}
	}
}

func TestSearchCompletionFailure(t *testing.T) {
	const broken = "grocer-001"
	g, _ := groceryFleet(t, 4, 30, broken)
	t.Run("a provider failing during completion loses its items from the page and is listed as degraded", func(t *testing.T) {
		r := g.Post(apitest.Request{Query: livePageQuery, Variables: map[string]any{"first": 20}})
		var d struct {
			Search conn[struct {
				ID    string `json:"id"`
				Price *struct {
					Amount int `json:"amount"`
				} `json:"price"`
				Provider struct {
					Key string `json:"key"`
				} `json:"provider"`
			}] `json:"search"`
		}
		r.Decode(t, &d)
		if len(d.Search.Edges) == 0 {
			t.Fatalf("no results from the healthy providers: %s", r.Raw)
		}
		for _, e := range d.Search.Edges {
			if e.Node.Provider.Key == broken {
				t.Fatalf("an item of %s is shown although its provider failed: %s", broken, r.Raw)
			}
			if e.Node.Price == nil || e.Node.Price.Amount <= 0 {
				t.Fatalf("item %s without its live price: %s", e.Node.ID, r.Raw)
			}
		}
		degraded := r.Extensions.Plaza.Degraded
		if len(degraded) != 1 || degraded[0].Provider != broken || degraded[0].Reason != "PROVIDER_ERROR" {
			t.Fatalf("extensions.plaza.degraded = %+v, want %s PROVIDER_ERROR", degraded, broken)
		}
		if len(r.Errors) != 1 || r.Errors[0].Code() != "PROVIDER_ERROR" || r.Errors[0].Extensions["provider"] != broken {
			t.Fatalf("want one PROVIDER_ERROR naming %s: %s", broken, r.Raw)
		}
	})
}

// downIndex is a supply index whose backend cannot be reached (PostgreSQL
// down): every search fails as the PostgreSQL backend's would.
type downIndex struct{ supply.Index }

func (downIndex) Search(context.Context, supply.Query) (supply.Page, error) {
	return supply.Page{}, errors.New("supply: search: dial tcp 127.0.0.1:5432: connect: connection refused")
}

func TestSearchIndexUnavailable(t *testing.T) {
	g := apitest.Start(t, apitest.Options{Index: downIndex{apitest.DemoIndex(t)}})
	for _, field := range []string{`search(text: "milk")`, `products(text: "milk")`, `stores`, `doctors`, `lawyers`, `govServices`} {
		t.Run(field+" fails with UNAVAILABLE and the rest of the query answers", func(t *testing.T) {
			r := g.Post(apitest.Request{Query: fmt.Sprintf(`{ list: %s { edges { cursor } } providers(first: 1) { totalCount } }`, field)})
			var d struct {
				List      *struct{}                `json:"list"`
				Providers struct{ TotalCount int } `json:"providers"`
			}
			r.Decode(t, &d)
			if d.List != nil || d.Providers.TotalCount != 8 {
				t.Fatalf("want list null and providers answered: %s", r.Raw)
			}
			if len(r.Errors) != 1 || r.Errors[0].Code() != "UNAVAILABLE" || r.Errors[0].Extensions["retryable"] != true {
				t.Fatalf("want one retryable UNAVAILABLE error: %s", r.Raw)
			}
			if msg := r.Errors[0].Message; msg != "search is unavailable: the search index cannot be reached; try again later" {
				t.Fatalf("message %q", msg)
			}
		})
	}
}

// A search that names a city completes its page only from providers that
// declare the city, even when another provider's published items claim it
// (issue 14: a request naming a city never touches a provider outside the
// city's coverage). The city is compared without case, as the index
// compares it.
func TestSearchInACityCallsOnlyItsCoverage(t *testing.T) {
	coverage := map[string][]string{"grocer-in": {"Hangzhou"}, "grocer-out": {"Ningbo"}}
	calls := map[string]*atomic.Int64{}
	var conns []connectors.Connector
	for _, id := range []string{"grocer-in", "grocer-out"} {
		gr, err := demo.NewGrocery(connectors.Descriptor{ID: id, Name: id, Vertical: connectors.VerticalGrocery, Cities: coverage[id], MaxBatch: 100}, demo.WithUsers(0))
		if err != nil {
			t.Fatal(err)
		}
		calls[id] = &atomic.Int64{}
		conns = append(conns, countingGrocery{Grocery: gr, calls: calls[id]})
	}
	ix, err := supply.NewMemory()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ix.Close() })
	if err := demo.PublishNow(context.Background(), conns, &firstProducts{in: catalog.New(ix, nil), city: "Hangzhou", per: 10, seen: map[string]int{}}); err != nil {
		t.Fatal(err)
	}
	g := apitest.Start(t, apitest.Options{Connectors: conns, Index: ix})
	for _, tc := range []struct {
		name, city string
		want       map[string]int // edges per provider
	}{
		{"the city as declared", "Hangzhou", map[string]int{"grocer-in": 10}},
		{"the city in another case", "hANGZHOU", map[string]int{"grocer-in": 10}},
		{"a city whose provider published nothing there", "Ningbo", map[string]int{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, c := range calls {
				c.Store(0)
			}
			d, resp := mustData[providerPage](t, g, apitest.Request{Query: `query($city: String) { search(city: $city, first: 20) {
  pageInfo { hasNextPage endCursor }
  edges { node { ... on Product { id price { amount } stock provider { key } } } } } }`, Variables: map[string]any{"city": tc.city}})
			got := map[string]int{}
			for _, e := range d.Search.Edges {
				got[e.Node.Provider.Key]++
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Fatalf("edges per provider %v, want %v: %s", got, tc.want, resp.Raw)
			}
			for id, c := range calls {
				if n := c.Load(); n > 0 && id != "grocer-in" {
					t.Errorf("%s, outside %s's coverage, was called %d times", id, tc.city, n)
				}
			}
		})
	}
}

// A provider ACTIVE in the directory whose connector cannot be built (an
// HTTP endpoint with no signing secret stored) is still an index candidate:
// the search path asks the snapshot (Registry.Callable), never building a
// connector per candidate. Completion cannot call it, so its items are
// dropped from the page, never shown without their live fields, and the
// other provider's items are complete.
func TestSearchDropsItemsOfAnUnresolvableProvider(t *testing.T) {
	sealer, err := directory.NewSealer(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	store := directory.NewMemory(sealer, directory.Policy{Development: true})
	entry := func(id, endpoint string) directory.Provider {
		return directory.Provider{ID: id, Name: id, Vertical: connectors.VerticalGrocery, Cities: []string{"Hangzhou"},
			Lifecycle: directory.Active, Endpoint: endpoint}
	}
	// Port 1 on loopback: nothing answers there, and nothing may try.
	if err := store.Seed([]directory.Provider{entry("grocer-ok", ""), entry("grocer-nosecret", "http://127.0.0.1:1")}); err != nil {
		t.Fatal(err)
	}
	var built atomic.Int64
	embedded := func(d connectors.Descriptor) (connectors.Connector, error) {
		built.Add(1)
		return demo.New(d, demo.WithUsers(0))
	}
	reg := providers.NewDirectory(store, providers.Env{Embedded: embedded}, slog.New(slog.NewTextHandler(io.Discard, nil))).
		View(store.Snapshot()).Registry
	if !reg.Callable("grocer-nosecret") {
		t.Fatal("the ACTIVE provider without a secret is not a candidate: the case under test is not set up")
	}
	// Both providers published ten products each before the search.
	var pubs []connectors.Connector
	for _, id := range []string{"grocer-ok", "grocer-nosecret"} {
		c, err := demo.New(connectors.Descriptor{ID: id, Name: id, Vertical: connectors.VerticalGrocery, Cities: []string{"Hangzhou"}}, demo.WithUsers(0))
		if err != nil {
			t.Fatal(err)
		}
		pubs = append(pubs, c)
	}
	ix, err := supply.NewMemory()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ix.Close() })
	if err := demo.PublishNow(context.Background(), pubs, &firstProducts{in: catalog.New(ix, nil), per: 10, seen: map[string]int{}}); err != nil {
		t.Fatal(err)
	}
	g := apitest.Start(t, apitest.Options{Registry: reg, Index: ix})
	for _, city := range []string{"", "Hangzhou"} {
		t.Run("city="+city, func(t *testing.T) {
			d, resp := mustData[providerPage](t, g, apitest.Request{Query: `query($city: String) { search(city: $city, first: 20) {
  pageInfo { hasNextPage endCursor }
  edges { node { ... on Product { id price { amount } stock provider { key } } } } } }`, Variables: map[string]any{"city": city}})
			got := map[string]int{}
			for _, e := range d.Search.Edges {
				got[e.Node.Provider.Key]++
			}
			if fmt.Sprint(got) != fmt.Sprint(map[string]int{"grocer-ok": 10}) {
				t.Fatalf("edges per provider %v, want grocer-ok's 10 only: %s", got, resp.Raw)
			}
			if len(resp.Errors) != 0 {
				t.Fatalf("errors %s, want none: the items are dropped as gone", resp.Raw)
			}
		})
	}
	if built.Load() != 1 {
		t.Fatalf("%d embedded connectors built, want 1 (grocer-ok's, once)", built.Load())
	}
}
