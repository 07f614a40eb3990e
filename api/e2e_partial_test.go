package api_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/plaza-gateway/plaza/api/apitest"
	"github.com/plaza-gateway/plaza/connectors"
	"github.com/plaza-gateway/plaza/connectors/demo"
)

// secretFailure is what the broken provider says. It stands for the
// personal or medical detail a provider's error can carry, which must never
// reach a client.
const secretFailure = "db timeout reading patient record of Zhang Wei (ID 330102)"

// brokenGrocery is a demo grocery provider whose reads fail.
type brokenGrocery struct {
	*demo.Grocery
}

var errBroken = errors.New(secretFailure)

func (brokenGrocery) SearchProducts(context.Context, connectors.Query) (connectors.Page[connectors.Product], error) {
	return connectors.Page[connectors.Product]{}, errBroken
}

func (brokenGrocery) SearchStores(context.Context, connectors.Query) (connectors.Page[connectors.Store], error) {
	return connectors.Page[connectors.Store]{}, errBroken
}

func (brokenGrocery) UserOrders(context.Context, string) ([]connectors.GroceryOrder, error) {
	return nil, errBroken
}

func (brokenGrocery) Products(context.Context, []string) ([]connectors.Result[connectors.Product], error) {
	return nil, errBroken
}

// startWithBroken starts a gateway over the demo providers with the one
// named broken.
func startWithBroken(tb testing.TB, broken string) *apitest.Gateway {
	tb.Helper()
	conns, err := demo.Default()
	if err != nil {
		tb.Fatal(err)
	}
	// The index holds every catalogue as published before the provider
	// broke: its items are found, and fail when the page is completed.
	ix := apitest.DemoIndex(tb)
	for i, c := range conns {
		if c.Describe().ID == broken {
			gr, err := demo.NewGrocery(c.Describe())
			if err != nil {
				tb.Fatal(err)
			}
			conns[i] = brokenGrocery{gr}
		}
	}
	return apitest.Start(tb, apitest.Options{Connectors: conns, Index: ix})
}

func TestPartialData(t *testing.T) {
	const broken, healthy = "greenbasket", "freshcart"
	g := startWithBroken(t, broken)

	assertProviderError := func(t *testing.T, r *apitest.Response) {
		t.Helper()
		if len(r.Errors) == 0 {
			t.Fatalf("no error reported: %s", r.Raw)
		}
		for _, e := range r.Errors {
			if e.Code() != "PROVIDER_ERROR" || e.Extensions["provider"] != broken {
				t.Fatalf("error %q code %s provider %v, want PROVIDER_ERROR from %s", e.Message, e.Code(), e.Extensions["provider"], broken)
			}
		}
		if strings.Contains(string(r.Raw), "patient record") || strings.Contains(string(r.Raw), "Zhang Wei") {
			t.Fatalf("the provider's raw error reached the client: %s", r.Raw)
		}
		degraded := r.Extensions.Plaza.Degraded
		if len(degraded) != 1 || degraded[0].Provider != broken || degraded[0].Reason != "PROVIDER_ERROR" {
			t.Fatalf("extensions.plaza.degraded = %+v, want %s", degraded, broken)
		}
	}

	t.Run("search returns the healthy provider's results and names the failed one", func(t *testing.T) {
		r := g.Post(apitest.Request{Query: liveSearchQuery, Variables: map[string]any{"text": "milk", "v": "GROCERY", "first": 50}})
		assertProviderError(t, r)
		var d searchData
		r.Decode(t, &d)
		if len(d.Search.Edges) == 0 {
			t.Fatal("no results from the healthy provider")
		}
		for _, h := range d.Search.nodes() {
			if h.Typename != "Provider" && h.Provider.Key != healthy {
				t.Fatalf("result %s %s from %s", h.Typename, h.Name, h.Provider.Key)
			}
		}
		if r.Errors[0].Message != "provider greenbasket failed" {
			t.Fatalf("message %q", r.Errors[0].Message)
		}
	})

	t.Run("me.orders returns the healthy provider's orders plus an error", func(t *testing.T) {
		r := g.Post(apitest.Request{User: "demo-1", Query: `{ me { orders(first: 100) { totalCount edges { node { id } } } } }`})
		assertProviderError(t, r)
		var d struct {
			Me struct {
				Orders conn[idNode] `json:"orders"`
			} `json:"me"`
		}
		r.Decode(t, &d)
		if len(d.Me.Orders.Edges) == 0 || d.Me.Orders.TotalCount != len(d.Me.Orders.Edges) {
			t.Fatalf("%d orders, totalCount %d", len(d.Me.Orders.Edges), d.Me.Orders.TotalCount)
		}
		for _, o := range d.Me.Orders.nodes() {
			if p := providerOf(t, o.ID); p != healthy {
				t.Fatalf("order %s from %s", o.ID, p)
			}
		}
	})

	t.Run("a product of the failed provider is null with its own error, the healthy one is returned", func(t *testing.T) {
		good := encodeID("Product", healthy, "p-000001")
		bad := encodeID("Product", broken, "p-000001")
		r := g.Post(apitest.Request{Query: `query($ids: [ID!]!) { nodes(ids: $ids) { id } }`, Variables: map[string]any{"ids": []any{good, bad}}})
		if want := `{"nodes":[{"id":"` + good + `"},null]}`; string(r.Data) != want {
			t.Fatalf("data %s, want %s", r.Data, want)
		}
		if len(r.Errors) != 1 || r.Errors[0].Code() != "PROVIDER_ERROR" || r.Errors[0].Extensions["provider"] != broken || len(r.Errors[0].Path) != 2 {
			t.Fatalf("errors %s", r.Raw)
		}
		if strings.Contains(string(r.Raw), "patient record") {
			t.Fatalf("the provider's raw error reached the client: %s", r.Raw)
		}
	})

	t.Run("queries that do not touch the failed provider report nothing degraded", func(t *testing.T) {
		r := g.MustPost(apitest.Request{Query: searchQuery, Variables: map[string]any{"v": "LEGAL", "first": 5}})
		if len(r.Extensions.Plaza.Degraded) != 0 {
			t.Fatalf("degraded %+v", r.Extensions.Plaza.Degraded)
		}
	})
}
