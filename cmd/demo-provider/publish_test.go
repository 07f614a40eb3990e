package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/plaza-gateway/plaza/catalog"
	"github.com/plaza-gateway/plaza/connectors"
	"github.com/plaza-gateway/plaza/connectors/httpprovider"
	"github.com/plaza-gateway/plaza/supply"
)

// TestRunPublishesOverHTTP runs the provider with --publish-to a gateway's
// push endpoint and --churn: its whole catalogue is indexed at start, and
// the index keeps up with the changes the schedule makes, each item at the
// version the provider serves at GET /v1/catalog.
func TestRunPublishesOverHTTP(t *testing.T) {
	const secret = "s3cret"
	ix, err := supply.NewMemory()
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	verifier := httpprovider.NewRequestVerifier(httpprovider.NewMemoryReplayCache(httpprovider.DefaultReplayWindow, nil))
	mux := http.NewServeMux()
	mux.Handle(catalog.Pattern, catalog.NewHandler(catalog.New(ix, nil), func(p string) []string {
		if p == "freshcart" {
			return []string{secret}
		}
		return nil
	}, verifier, nil))
	gw := httptest.NewServer(mux)
	defer gw.Close()

	url, stop := mustRun(t, "--vertical", "grocery", "--provider", "freshcart", "--secret", secret, "--publish-to", gw.URL, "--churn", "10ms")
	client, err := httpprovider.New(httpprovider.Config{ID: "freshcart", Vertical: connectors.VerticalGrocery, BaseURL: url, Secret: secret})
	if err != nil {
		t.Fatal(err)
	}
	// versions reads the provider's catalogue over the contract.
	versions := func() map[string]int64 {
		out := map[string]int64{}
		for since := ""; ; {
			ch, err := client.CatalogChanges(context.Background(), since, 0)
			if err != nil {
				t.Fatal(err)
			}
			for _, it := range ch.Upserts {
				out["freshcart/"+string(it.Kind)+"/"+it.ID] = it.Version
			}
			if since = ch.Cursor; !ch.More {
				return out
			}
		}
	}
	indexed := func() map[string]int64 {
		out := map[string]int64{}
		for after := ""; ; {
			p, err := ix.Search(context.Background(), supply.Query{First: supply.MaxFirst, After: after})
			if err != nil {
				t.Fatal(err)
			}
			for _, h := range p.Hits {
				out[h.Item.Ref().Key()] = h.Item.Version
			}
			if after = p.NextCursor; after == "" {
				return out
			}
		}
	}
	// behind counts the items the index holds at an older version than
	// snap (the provider keeps changing while the test reads).
	behind := func(snap map[string]int64) int {
		got, n := indexed(), 0
		for k, v := range snap {
			if got[k] < v {
				n++
			}
		}
		return n
	}
	deadline := time.Now().Add(60 * time.Second)
	for ix.Len() < 1000 {
		if time.Now().After(deadline) {
			t.Fatalf("%d items indexed after 60 s, want the catalogue's 1200", ix.Len())
		}
		time.Sleep(50 * time.Millisecond)
	}
	start := versions()
	time.Sleep(300 * time.Millisecond) // the schedule changes a few dozen items
	snap, changed := versions(), 0
	for k, v := range snap {
		if v > start[k] {
			changed++
		}
	}
	if changed == 0 {
		t.Fatal("--churn changed nothing in 300 ms")
	}
	for n := behind(snap); n != 0; n = behind(snap) {
		if time.Now().After(deadline) {
			t.Fatalf("%d items of the index are behind the provider", n)
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("%d items changed on the schedule; the index caught up with every one", changed)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
}
