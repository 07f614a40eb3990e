package api_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/plaza-gateway/plaza/api"
	"github.com/plaza-gateway/plaza/api/apitest"
	"github.com/plaza-gateway/plaza/auth"
	"github.com/plaza-gateway/plaza/connectors"
	"github.com/plaza-gateway/plaza/directory"
	"github.com/plaza-gateway/plaza/events"
	"github.com/plaza-gateway/plaza/gid"
	"github.com/plaza-gateway/plaza/growth"
	"github.com/plaza-gateway/plaza/resolvers"
	"github.com/plaza-gateway/plaza/traffic"
)

// trafficGateway is the growth gateway (freshcart in Hangzhou, greenbasket
// in Ningbo) with the analytics pipeline feeding traffic roll-ups, wired as
// wire.go wires them: recorder -> collector -> store.
type trafficGateway struct {
	*growthGateway
	recorder  *events.Recorder
	collector *traffic.Collector
	store     traffic.Store
}

func startTraffic(t *testing.T, more ...growthOption) *trafficGateway {
	t.Helper()
	store := traffic.NewMemoryStore(nil)
	collector := traffic.NewCollector()
	settings := events.NewMemorySettings()
	if err := settings.SetPersonalization(context.Background(), "opted-out", false); err != nil {
		t.Fatal(err)
	}
	evStore := events.NewMemoryStore(events.MemoryConfig{})
	rec := events.NewRecorder(evStore, events.WithConsent(settings), events.WithSink(collector.Sink()))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = rec.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	keys, err := auth.ParseAPIKeys(testAnalystKey)
	if err != nil {
		t.Fatal(err)
	}
	g := startGrowth(t, append([]growthOption{
		func(*growth.Service) api.Option {
			return api.WithResolverOptions(resolvers.WithTraffic(store),
				resolvers.WithPersonalization(resolvers.Personalization{Recorder: rec, Settings: settings, Analytics: events.NewAnalytics(evStore)}))
		},
		func(*growth.Service) api.Option { return api.WithAPIKeys(keys) }}, more...)...)
	return &trafficGateway{growthGateway: g, recorder: rec, collector: collector, store: store}
}

// rollUp waits for the recorder, then applies the roll-up.
func (g *trafficGateway) rollUp(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := g.recorder.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if err := g.collector.Flush(ctx, g.store); err != nil {
		t.Fatal(err)
	}
}

// shownOf counts the items of each provider a response's edges hold.
func shownOf(t *testing.T, r *apitest.Response, path ...string) map[string]int {
	t.Helper()
	var v any
	if err := json.Unmarshal(r.Data, &v); err != nil || len(r.Errors) > 0 {
		t.Fatalf("%v %+v", err, r.Errors)
	}
	out := map[string]int{}
	var walk func(any)
	walk = func(x any) {
		switch x := x.(type) {
		case map[string]any:
			if id, ok := x["id"].(string); ok {
				if d, err := gid.Decode(id); err == nil {
					out[d.Provider]++
				}
			}
			for _, y := range x {
				walk(y)
			}
		case []any:
			for _, y := range x {
				walk(y)
			}
		}
	}
	walk(v)
	return out
}

const searchMilk = `{ search(text: "milk", city: "Hangzhou", first: 10) { edges { node { ... on Product { id } ... on Store { id } } } } }`

func TestProviderTrafficEndToEnd(t *testing.T) {
	g := startTraffic(t)
	// A signed-in user who allows personalisation, one who opted out, and an
	// anonymous caller search; the opted-out one must count too.
	want := map[string]int{}
	for _, user := range []string{"demo-1", "opted-out", ""} {
		for p, n := range shownOf(t, g.MustPost(apitest.Request{Query: searchMilk, User: user})) {
			want[p] += n
		}
	}
	if want["freshcart"] == 0 || want["greenbasket"] == 0 {
		t.Fatalf("the demo search for milk in Hangzhou should show both providers: %v", want)
	}
	home := shownOf(t, g.MustPost(apitest.Request{Query: `{ home(city: "Hangzhou") { sections { items { node { ... on Product { id } ... on Store { id } ... on Doctor { id } ... on Lawyer { id } ... on GovService { id } } } } } }`, User: "opted-out"}))
	item := g.MustPost(apitest.Request{Query: `{ search(text: "milk", city: "Hangzhou", first: 20) { edges { node { ... on Product { id } } } } }`})
	var firstFresh string
	var items struct {
		Search struct {
			Edges []struct{ Node struct{ ID string } }
		}
	}
	_ = json.Unmarshal(item.Data, &items)
	for _, e := range items.Search.Edges {
		if d, err := gid.Decode(e.Node.ID); err == nil && d.Provider == "freshcart" && firstFresh == "" {
			firstFresh = e.Node.ID
		}
	}
	for p, n := range shownOf(t, item) {
		want[p] += n
	}
	g.MustPost(apitest.Request{Query: `mutation($id: ID!) { reportSearchClick(query: "Milk", itemId: $id, city: "Hangzhou") }`,
		Variables: map[string]any{"id": firstFresh}, User: "opted-out"})
	g.MustPost(apitest.Request{Query: `{ search(text: "qqzzyx durian", city: "Hangzhou") { totalCount } }`})
	g.MustPost(apitest.Request{Query: `{ search(text: "qqzzyx durian", city: "Ningbo") { totalCount } }`})
	g.rollUp(t)

	day := time.Now().UTC().Truncate(24 * time.Hour)
	vars := map[string]any{"from": day.Add(-24 * time.Hour).Format(time.RFC3339), "to": day.Add(24 * time.Hour).Format(time.RFC3339)}
	const view = `query($from: Time!, $to: Time!) { viewerProvider {
		traffic(from: $from, to: $to) { day city searchImpressions homeImpressions clicks orders bookings gmv conversion }
		topQueries(from: $from, to: $to) { query city impressions clicks meanRank bestRank }
		demand(from: $from, to: $to) { query city searches zeroResults lowResults } } }`
	type viewData struct {
		ViewerProvider struct {
			Traffic []struct {
				City                                                    *string
				SearchImpressions, HomeImpressions, Clicks, Orders, Gmv int
				Conversion                                              *float64
			}
			TopQueries []struct {
				Query               string
				City                *string
				Impressions, Clicks int
				MeanRank            *float64
				BestRank            *int
			}
			Demand []struct {
				Query       string
				City        *string
				ZeroResults int
			}
		}
	}
	read := func(provider string) viewData {
		var d viewData
		r := g.as(g.providerToken(t, provider), view, vars)
		if len(r.Errors) > 0 {
			t.Fatalf("%s: %+v", provider, r.Errors)
		}
		if err := json.Unmarshal(r.Data, &d); err != nil {
			t.Fatal(err)
		}
		return d
	}
	fresh, green := read("freshcart"), read("greenbasket")

	t.Run("a provider sees its impressions, the opted-out user's included, clicks and conversion by city", func(t *testing.T) {
		tr := fresh.ViewerProvider.Traffic
		if len(tr) != 1 || tr[0].City == nil || *tr[0].City != "hangzhou" {
			t.Fatalf("freshcart traffic = %+v, want one row for hangzhou", tr)
		}
		if tr[0].SearchImpressions != want["freshcart"] || tr[0].HomeImpressions != home["freshcart"] || tr[0].Clicks != 1 {
			t.Fatalf("freshcart = %+v; want %d search impressions, %d home, 1 click", tr[0], want["freshcart"], home["freshcart"])
		}
		if tr[0].Conversion == nil || *tr[0].Conversion != 0 {
			t.Fatalf("conversion = %v, want 0 (a click, no order)", tr[0].Conversion)
		}
		if g := green.ViewerProvider.Traffic; len(g) != 1 || g[0].SearchImpressions != want["greenbasket"] || g[0].Clicks != 0 {
			t.Fatalf("greenbasket traffic = %+v, want its own %d impressions", g, want["greenbasket"])
		}
	})
	t.Run("top queries say where its items were shown", func(t *testing.T) {
		qs := fresh.ViewerProvider.TopQueries
		if len(qs) != 1 || qs[0].Query != "milk" || qs[0].Impressions != want["freshcart"] || qs[0].Clicks != 1 || qs[0].BestRank == nil || *qs[0].BestRank < 1 {
			t.Fatalf("top queries = %+v", qs)
		}
	})
	t.Run("demand is in the provider's own cities", func(t *testing.T) {
		for name, d := range map[string]viewData{"hangzhou": fresh, "ningbo": green} {
			ds := d.ViewerProvider.Demand
			if len(ds) != 1 || ds[0].Query != "qqzzyx durian" || ds[0].City == nil || *ds[0].City != name || ds[0].ZeroResults != 1 {
				t.Fatalf("demand for the provider in %s = %+v", name, ds)
			}
		}
	})
	t.Run("placement ranks its items now, with reasons", func(t *testing.T) {
		r := g.as(g.providerToken(t, "freshcart"), `{ viewerProvider { placement(query: "milk", city: "Hangzhou", first: 3) {
			totalResults items { id name position score reasons { factor contribution explanation } } } } }`, nil)
		d := growthData(t, r)
		raw, _ := json.Marshal(d)
		pl := d["viewerProvider"].(map[string]any)["placement"].(map[string]any)
		its := pl["items"].([]any)
		if len(its) == 0 || len(its) > 3 || strings.Contains(string(raw), "greenbasket") {
			t.Fatalf("placement = %s", raw)
		}
		first := its[0].(map[string]any)
		var sum float64
		for _, x := range first["reasons"].([]any) {
			if f := x.(map[string]any)["factor"]; f != "serviceLevel" {
				sum += x.(map[string]any)["contribution"].(float64)
			}
		}
		if score := first["score"].(float64); sum < score-1e-9 || first["position"].(float64) < 1 || !strings.Contains(string(raw), `"factor":"text"`) {
			t.Fatalf("reasons add to %v, score %v: %s", sum, score, raw)
		}
		one := growthData(t, g.as(g.providerToken(t, "freshcart"), `query($id: ID!) { viewerProvider { placement(query: "milk", city: "Hangzhou", item: $id) { items { id } } } }`,
			map[string]any{"id": first["id"]}))
		if got := fmt.Sprint(one); !strings.Contains(got, first["id"].(string)) {
			t.Fatalf("placement of its own item = %s", got)
		}
	})
	t.Run("placement of another provider's item is NOT_FOUND", func(t *testing.T) {
		other := gid.Encode(gid.Product, "greenbasket", "p1")
		r := g.as(g.providerToken(t, "freshcart"), `query($id: ID!) { viewerProvider { placement(query: "milk", item: $id) { totalResults } } }`, map[string]any{"id": other})
		if len(r.Errors) != 1 || r.Errors[0].Code() != "NOT_FOUND" {
			t.Fatalf("errors %+v, want NOT_FOUND", r.Errors)
		}
	})
	t.Run("analysts see a provider's exposure as it does; a provider cannot ask for another's", func(t *testing.T) {
		r := g.Post(apitest.Request{Query: `query($from: Time!, $to: Time!) { analytics {
			providerExposure(provider: "freshcart", from: $from, to: $to) { searchImpressions clicks }
			demand(city: "Ningbo", from: $from, to: $to) { query zeroResults } } }`, Variables: vars,
			Header: map[string][]string{"Plaza-Api-Key": {testAnalystKey}}})
		raw, _ := json.Marshal(growthData(t, r))
		wantRaw := fmt.Sprintf(`{"analytics":{"demand":[{"query":"qqzzyx durian","zeroResults":1}],"providerExposure":[{"clicks":1,"searchImpressions":%d}]}}`, want["freshcart"])
		if string(raw) != wantRaw {
			t.Fatalf("analytics = %s\nwant        %s", raw, wantRaw)
		}
		r = g.as(g.providerToken(t, "greenbasket"), `query($from: Time!, $to: Time!) { analytics { providerExposure(provider: "freshcart", from: $from, to: $to) { clicks } } }`, vars)
		if len(r.Errors) != 1 || r.Errors[0].Code() != "UNAUTHENTICATED" || strings.Contains(string(r.Data), "clicks") {
			t.Fatalf("a provider reading analytics: %s %+v, want UNAUTHENTICATED (an analyst API key is required)", r.Data, r.Errors)
		}
	})
	t.Run("bad input is refused, naming the argument", func(t *testing.T) {
		for _, c := range []struct{ name, query, code string }{
			{"to before from", `{ viewerProvider { traffic(from: "2026-12-02T00:00:00Z", to: "2026-12-01T00:00:00Z") { day } } }`, "BAD_USER_INPUT"},
			{"a range over 366 days", `{ viewerProvider { traffic(from: "2024-01-01T00:00:00Z", to: "2026-12-01T00:00:00Z") { day } } }`, "BAD_USER_INPUT"},
			{"limit 0", `{ viewerProvider { topQueries(from: "2026-12-01T00:00:00Z", to: "2026-12-02T00:00:00Z", limit: 0) { query } } }`, "BAD_USER_INPUT"},
			{"first 51", `{ viewerProvider { placement(query: "milk", first: 51) { totalResults } } }`, "BAD_USER_INPUT"},
			{"no credential", `{ viewerProvider { traffic(from: "2026-12-01T00:00:00Z", to: "2026-12-02T00:00:00Z") { day } } }`, "UNAUTHENTICATED"},
		} {
			h := g.providerToken(t, "freshcart")
			if c.code == "UNAUTHENTICATED" {
				h = nil
			}
			r := g.as(h, c.query, nil)
			if len(r.Errors) != 1 || r.Errors[0].Code() != c.code {
				t.Errorf("%s: errors %+v, want %s", c.name, r.Errors, c.code)
			}
		}
	})
}

// TestEventsWithoutACityTakeTheProvidersCity: an order placed with a
// delivery address counts in the address's city; a click the client sent
// without a city counts in its provider's city when the directory lists
// one (greenbasket: Ningbo), from the snapshot the gateway holds, with no
// provider call; a provider in several cities leaves it without one.
func TestEventsWithoutACityTakeTheProvidersCity(t *testing.T) {
	var key [32]byte
	_, _ = rand.Read(key[:])
	sealer, _ := directory.NewSealer(key[:])
	dir := directory.NewMemory(sealer, directory.Policy{Development: true})
	if err := dir.Seed([]directory.Provider{
		{ID: "freshcart", Vertical: connectors.VerticalGrocery, Name: "FreshCart", Cities: []string{"Hangzhou", "Shanghai"}},
		{ID: "greenbasket", Vertical: connectors.VerticalGrocery, Name: "Green Basket", Cities: []string{"Ningbo"}},
	}); err != nil {
		t.Fatal(err)
	}
	g := startTraffic(t, func(*growth.Service) api.Option { return api.WithResolverOptions(resolvers.WithDirectory(dir, nil)) })
	store := freshcartStore(t, g.Gateway)
	in := orderInput(store.ID, store.DeliverySlots[0].ID, store.Products.Edges[0].Node.ID, 1, "")
	in["in"].(map[string]any)["deliveryAddress"] = map[string]any{"line": "1 West Lake Road", "city": "Hangzhou"}
	if r := g.Post(apitest.Request{User: "demo-42", Query: placeOrderMutation, Variables: in}); len(r.Errors) > 0 {
		t.Fatalf("order: %+v", r.Errors)
	}
	for _, item := range []string{gid.Encode(gid.Product, "greenbasket", "p-1"), gid.Encode(gid.Product, "freshcart", "p-1")} {
		g.MustPost(apitest.Request{Query: `mutation($id: ID!) { reportSearchClick(query: "milk", itemId: $id) }`,
			Variables: map[string]any{"id": item}, User: "demo-42"})
	}
	g.rollUp(t)
	day := time.Now().UTC().Truncate(24 * time.Hour)
	rows := func(provider string) string {
		r := g.as(g.providerToken(t, provider), `query($from: Time!, $to: Time!) { viewerProvider { traffic(from: $from, to: $to) { city clicks orders } } }`,
			map[string]any{"from": day.Add(-24 * time.Hour).Format(time.RFC3339), "to": day.Add(24 * time.Hour).Format(time.RFC3339)})
		if len(r.Errors) > 0 {
			t.Fatalf("%s: %+v", provider, r.Errors)
		}
		return string(r.Data)
	}
	if got, want := rows("greenbasket"), `{"viewerProvider":{"traffic":[{"city":"ningbo","clicks":1,"orders":0}]}}`; got != want {
		t.Errorf("greenbasket (Ningbo only) %s, want %s", got, want)
	}
	if got := rows("freshcart"); !strings.Contains(got, `{"city":"hangzhou","clicks":0,"orders":1}`) || !strings.Contains(got, `{"city":null,"clicks":1,"orders":0}`) {
		t.Errorf("freshcart %s, want the order in hangzhou (its address) and the click without a city (two cities)", got)
	}
}
