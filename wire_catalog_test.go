package main

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/plaza-gateway/plaza/config"
	"github.com/plaza-gateway/plaza/connectors"
	"github.com/plaza-gateway/plaza/connectors/httpprovider"
	"github.com/plaza-gateway/plaza/metrics"
	"github.com/plaza-gateway/plaza/supply"
)

// TestWiredIndexIsFedByDemoAndPushes: `go run .`'s wiring builds one
// embedded index (app.index), the demo providers fill it at start, and a
// provider's signed push to POST /providers/{id}/catalog on the gateway's
// own handler lands in it; a push signed with another secret does not.
func TestWiredIndexIsFedByDemoAndPushes(t *testing.T) {
	_, cfg, err := config.Load(nil, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	a, err := wire(context.Background(), cfg, func(string) string { return "" }, slog.New(slog.DiscardHandler), metrics.New())
	defer a.close()
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := a.index.(*supply.Memory); !ok {
		t.Fatalf("app.index is %T, want the embedded index without a database", a.index)
	}
	ctx := context.Background()
	deadline := time.Now().Add(60 * time.Second)
	for {
		p, err := a.index.Search(ctx, supply.Query{Text: "paediatrician", First: 1})
		if err == nil && p.Total > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the demo providers' catalogues did not reach app.index: %+v %v", p, err)
		}
		time.Sleep(50 * time.Millisecond)
	}

	srv := httptest.NewServer(a.server)
	defer srv.Close()
	publish := func(secret string) (connectors.CatalogAck, error) {
		pub, err := httpprovider.NewPublisher(httpprovider.Config{ID: "freshcart", Vertical: connectors.VerticalGrocery, BaseURL: srv.URL, Secret: secret})
		if err != nil {
			t.Fatal(err)
		}
		price := connectors.Money{Amount: 4200, Currency: "CNY"}
		return pub.Publish(ctx, "freshcart", connectors.CatalogBatch{Upserts: []connectors.CatalogItem{{Kind: connectors.CatalogProduct,
			ID: "p-wired-1", Name: "Zyzzyva Durian Cake", Category: "Bakery", Cities: []string{"Hangzhou"}, Price: &price, Available: true, Version: 1}}})
	}
	if _, err := publish("not-the-secret"); connectors.KindOf(err) != connectors.KindUnauthenticated {
		t.Errorf("a push with the wrong secret: %v, want UNAUTHENTICATED", err)
	}
	ack, err := publish("dev-secret-freshcart")
	if err != nil || ack.Indexed != 1 {
		t.Fatalf("a signed push: %+v %v", ack, err)
	}
	p, err := a.index.Search(ctx, supply.Query{Text: "zyzzyva"})
	if err != nil || len(p.Hits) != 1 || p.Hits[0].Item.Provider != "freshcart" || p.Hits[0].Item.Price != 4200 {
		t.Fatalf("the pushed item in app.index: %+v %v", p.Hits, err)
	}
}
