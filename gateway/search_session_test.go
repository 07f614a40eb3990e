package gateway_test

import (
	"context"
	"testing"

	"github.com/plaza-gateway/plaza/cache"
	"github.com/plaza-gateway/plaza/connectors"
	"github.com/plaza-gateway/plaza/connectors/demo"
	"github.com/plaza-gateway/plaza/gateway"
	"github.com/plaza-gateway/plaza/gid"
)

func TestSearchSessionPinsTheOrder(t *testing.T) {
	conns, err := demo.Default()
	if err != nil {
		t.Fatal(err)
	}
	reg, err := connectors.NewRegistry(conns...)
	if err != nil {
		t.Fatal(err)
	}
	g := gateway.New(reg, gateway.WithCache(gateway.NewEntityCache(cache.NewMemory(1000), gateway.DefaultCachePolicy(), nil)))
	ctx := context.Background()
	// A popularity signal that changes between two page requests, as events
	// recorded meanwhile would: the last items of page one become the most
	// popular before page two.
	boost := map[string]float64{}
	params := func(fresh bool) gateway.SearchParams {
		return gateway.SearchParams{Text: "milk", Kinds: []gid.Kind{gid.Product}, Session: "s1", Fresh: fresh,
			Popularity: func(_ gid.Kind, provider, id string) float64 { return boost[provider+"/"+id] }}
	}
	const pageSize = 10
	first, _ := g.Search(ctx, params(true))
	if len(first) < 2*pageSize {
		t.Fatalf("only %d hits", len(first))
	}
	page1 := first[:pageSize]
	for _, h := range first[pageSize : 2*pageSize] {
		boost[h.Provider+"/"+h.ID] = 1000 // would jump onto page one
	}
	t.Run("a later page keeps the first page's order", func(t *testing.T) {
		again, _ := g.Search(ctx, params(false))
		page2 := again[pageSize : 2*pageSize]
		seen := map[string]bool{}
		for _, h := range page1 {
			seen[h.Provider+"/"+h.ID] = true
		}
		for _, h := range page2 {
			if seen[h.Provider+"/"+h.ID] {
				t.Fatalf("%s/%s is on page one and page two", h.Provider, h.ID)
			}
		}
		for i := range first {
			if again[i].ID != first[i].ID || again[i].Provider != first[i].Provider {
				t.Fatalf("position %d moved: %s/%s then %s/%s", i, first[i].Provider, first[i].ID, again[i].Provider, again[i].ID)
			}
		}
	})
	t.Run("a new search ranks afresh", func(t *testing.T) {
		fresh, _ := g.Search(ctx, params(true))
		if boost[fresh[0].Provider+"/"+fresh[0].ID] == 0 {
			t.Fatalf("a fresh search ignored the new popularity: first hit %s/%s", fresh[0].Provider, fresh[0].ID)
		}
	})
	t.Run("without a session the ranking follows the signals", func(t *testing.T) {
		p := params(false)
		p.Session = ""
		hits, _ := g.Search(ctx, p)
		if boost[hits[0].Provider+"/"+hits[0].ID] == 0 {
			t.Fatalf("first hit %s/%s is not one of the boosted", hits[0].Provider, hits[0].ID)
		}
	})
}
