package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
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

// TestIndexLagOnReadyz: the supply index's lag (the oldest catalogue pull
// the instance owes) is on /readyz and in /metrics; past
// PLAZA_INDEX_LAG_BOUND /readyz says degraded (still 200). (That the lag
// clears once a pull is done or given up: catalog's TestSyncerRetries.)
func TestIndexLagOnReadyz(t *testing.T) {
	env := map[string]string{"PLAZA_INDEX_LAG_BOUND": "50ms"}
	_, cfg, err := config.Load(nil, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	m := metrics.New()
	a, err := wire(context.Background(), cfg, func(string) string { return "" }, slog.New(slog.DiscardHandler), m)
	defer a.close()
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a.server)
	defer srv.Close()
	type readyz struct {
		Status       string
		Dependencies map[string]struct{ State, Reason string }
		SupplyIndex  struct {
			LagSeconds float64
			Pending    int
		}
	}
	get := func() readyz {
		resp, err := http.Get(srv.URL + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var r readyz
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("/readyz: %s", resp.Status)
		}
		if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
			t.Fatal(err)
		}
		return r
	}
	lagMetric := func() float64 {
		mfs, err := m.Registry.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, mf := range mfs {
			if mf.GetName() == "plaza_supply_index_lag_seconds" {
				return mf.GetMetric()[0].GetGauge().GetValue()
			}
		}
		t.Fatal("plaza_supply_index_lag_seconds not exported")
		return 0
	}
	eventually(t, "the demo catalogues are in and nothing is owed", func() bool {
		r := get()
		return r.Dependencies["supplyIndex"].State == "ok" && r.SupplyIndex.LagSeconds == 0
	})
	if lagMetric() != 0 {
		t.Errorf("lag metric %v with nothing owed", lagMetric())
	}

	// A provider this instance does not route: the pull is retried with
	// backoff, owed meanwhile.
	a.catalog.syncer.Notify("not-routed-here")
	eventually(t, "/readyz says degraded past the bound", func() bool {
		r := get()
		return r.Status == "degraded" && r.Dependencies["supplyIndex"].State == "down" && r.SupplyIndex.LagSeconds > 0.05 && r.SupplyIndex.Pending == 1
	})
	if r := get(); !strings.Contains(r.Dependencies["supplyIndex"].Reason, "supply index lags") {
		t.Errorf("reason %q", r.Dependencies["supplyIndex"].Reason)
	}
	if lagMetric() <= 0.05 {
		t.Errorf("lag metric %v, want past the bound", lagMetric())
	}
}
