package api_test

import (
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/plaza-gateway/plaza/api/apitest"
)

// fiftyOrders is the "my orders" page of the app: 50 orders, every item with
// its product and the product's store. Without batching it would cost one
// product and one store call per item (hundreds).
const fiftyOrders = `{ me { orders(first: 50) { edges { node { items { quantity product { id name store { id name } } } } } } } }`

type fiftyOrdersData struct {
	Me struct {
		Orders conn[struct {
			Items []struct {
				Quantity int `json:"quantity"`
				Product  *struct {
					ID    string `json:"id"`
					Name  string `json:"name"`
					Store *struct {
						ID   string `json:"id"`
						Name string `json:"name"`
					} `json:"store"`
				} `json:"product"`
			} `json:"items"`
		}] `json:"orders"`
	} `json:"me"`
}

// distinctByProvider counts the distinct products and stores per provider
// that a fifty-orders response shows.
func distinctByProvider(tb testing.TB, d fiftyOrdersData) (products, stores map[string]int, items int) {
	tb.Helper()
	ps, ss := map[string]bool{}, map[string]bool{}
	for _, o := range d.Me.Orders.nodes() {
		for _, it := range o.Items {
			items++
			if it.Product == nil || it.Product.Store == nil {
				tb.Fatalf("an item lacks its product or store: %+v", it)
			}
			ps[it.Product.ID], ss[it.Product.Store.ID] = true, true
		}
	}
	products, stores = map[string]int{}, map[string]int{}
	for id := range ps {
		products[providerOf(tb, id)]++
	}
	for id := range ss {
		stores[providerOf(tb, id)]++
	}
	return products, stores, items
}

// keysByProvider sums the keys of op's calls per provider.
func keysByProvider(r *apitest.Response, op string) map[string]int {
	out := map[string]int{}
	for _, c := range r.Extensions.Plaza.Calls {
		if c.Operation == op {
			out[c.Provider] += c.Keys
		}
	}
	return out
}

func TestFiftyOrdersBatching(t *testing.T) {
	g := startDemo(t)
	req := apitest.Request{User: "demo-1", Debug: true, Query: fiftyOrders}
	d, resp := mustData[fiftyOrdersData](t, g, req)
	products, stores, items := distinctByProvider(t, d)
	if len(d.Me.Orders.Edges) != 50 || items < 100 || len(products) != 2 {
		t.Fatalf("%d orders, %d items from %v: the demo data no longer exercises batching", len(d.Me.Orders.Edges), items, products)
	}
	t.Logf("50 orders, %d items, products per provider %v, stores per provider %v", items, products, stores)
	for _, op := range []string{"UserOrders", "Products", "Stores"} {
		n, per := resp.CallCount(op)
		t.Logf("%s: %d calls %v, keys %v", op, n, per, keysByProvider(resp, op))
	}

	t.Run("costs one UserOrders call per grocery provider", func(t *testing.T) {
		assertOneCallPerProvider(t, resp, "UserOrders", products)
	})
	t.Run("costs one Products call per provider carrying every distinct product", func(t *testing.T) {
		assertOneCallPerProvider(t, resp, "Products", products)
		if got := keysByProvider(resp, "Products"); fmt.Sprint(got) != fmt.Sprint(products) {
			t.Fatalf("Products keys %v, want the distinct products %v", got, products)
		}
	})
	t.Run("costs one Stores call per provider carrying every distinct store", func(t *testing.T) {
		assertOneCallPerProvider(t, resp, "Stores", stores)
		if got := keysByProvider(resp, "Stores"); fmt.Sprint(got) != fmt.Sprint(stores) {
			t.Fatalf("Stores keys %v, want the distinct stores %v", got, stores)
		}
	})
	t.Run("makes no other calls", func(t *testing.T) {
		for _, c := range resp.Extensions.Plaza.Calls {
			if !slices.Contains([]string{"UserOrders", "Products", "Stores"}, c.Operation) {
				t.Fatalf("unexpected call %+v", c)
			}
		}
	})

	t.Run("20 concurrent requests each still batch products per provider", func(t *testing.T) {
		const n = 20
		var wg sync.WaitGroup
		resps := make([]*apitest.Response, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				resps[i] = g.Post(req)
			}()
		}
		wg.Wait()
		for i, r := range resps {
			if len(r.Errors) > 0 {
				t.Fatalf("request %d: %s", i, r.Raw)
			}
			var got fiftyOrdersData
			r.Decode(t, &got)
			ps, _, _ := distinctByProvider(t, got)
			if fmt.Sprint(ps) != fmt.Sprint(products) {
				t.Fatalf("request %d saw products %v, want %v", i, ps, products)
			}
			if calls, per := r.CallCount("Products"); calls != len(products) || fmt.Sprint(keysByProvider(r, "Products")) != fmt.Sprint(products) {
				t.Fatalf("request %d: %d Products calls %v with keys %v, want one per provider with %v", i, calls, per, keysByProvider(r, "Products"), products)
			}
		}
	})
}

func assertOneCallPerProvider(tb testing.TB, r *apitest.Response, op string, providers map[string]int) {
	tb.Helper()
	calls, per := r.CallCount(op)
	for p := range providers {
		if per[p] != 1 {
			tb.Errorf("%s: %d calls to %s, want 1 (all calls %v)", op, per[p], p, per)
		}
	}
	if calls != len(providers) {
		tb.Errorf("%s: %d calls in all, want %d", op, calls, len(providers))
	}
}

func TestNodesBatching(t *testing.T) {
	g := startDemo(t)
	var ids []any
	per := map[string]int{}
	for _, text := range []string{"milk", "rice"} {
		d, _ := mustData[productsData](t, g, apitest.Request{Query: productsQuery, Variables: map[string]any{"text": text, "first": 25}})
		for _, p := range d.Products.nodes() {
			ids = append(ids, p.ID)
			per[providerOf(t, p.ID)]++
		}
	}
	if len(ids) != 50 || len(per) != 2 {
		t.Fatalf("want 50 product ids of two providers, got %d from %v", len(ids), per)
	}

	t.Run("nodes() of 50 products from two providers costs one Products call per provider", func(t *testing.T) {
		d, resp := mustData[struct {
			Nodes []*idNode `json:"nodes"`
		}](t, g, apitest.Request{Debug: true, Query: `query($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }`, Variables: map[string]any{"ids": ids}})
		for i, n := range d.Nodes {
			if n == nil || n.ID != ids[i] || n.Typename != "Product" {
				t.Fatalf("nodes[%d] = %+v, want product %s", i, n, ids[i])
			}
		}
		assertOneCallPerProvider(t, resp, "Products", per)
		if calls := len(resp.Extensions.Plaza.Calls); calls != len(per) {
			t.Fatalf("%d calls in all: %+v", calls, resp.Extensions.Plaza.Calls)
		}
	})

	t.Run("without the debug header the calls are not reported", func(t *testing.T) {
		resp := g.MustPost(apitest.Request{Query: `query($ids: [ID!]!) { nodes(ids: $ids) { id } }`, Variables: map[string]any{"ids": ids[:2]}})
		if resp.Extensions.Plaza.Calls != nil {
			t.Fatalf("calls reported without Plaza-Debug: %s", resp.Raw)
		}
	})
}
