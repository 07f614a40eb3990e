package catalog_test

import (
	"context"
	"testing"
	"time"

	"github.com/plaza-gateway/plaza/catalog"
	"github.com/plaza-gateway/plaza/connectors"
	"github.com/plaza-gateway/plaza/supply"
)

// TestAppliedHearsEachBatchThatReachesTheIndex: merchant growth's
// catalogue freshness hears every applied push, and nothing of a refused
// one.
func TestAppliedHearsEachBatchThatReachesTheIndex(t *testing.T) {
	ix, err := supply.NewMemory()
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	var heard []string
	in := catalog.New(ix, nil, catalog.WithApplied(func(_ context.Context, provider string, at time.Time) {
		if at.IsZero() {
			t.Error("applied without a time")
		}
		heard = append(heard, provider)
	}))
	ctx := context.Background()
	if _, err := in.Publish(ctx, "mart", connectors.CatalogBatch{Upserts: []connectors.CatalogItem{item("p-1", 1)}}); err != nil {
		t.Fatal(err)
	}
	big := connectors.CatalogBatch{Upserts: make([]connectors.CatalogItem, connectors.MaxCatalogBatch+1)}
	if _, err := in.Publish(ctx, "mart", big); err == nil {
		t.Fatal("an oversized push was accepted")
	}
	if len(heard) != 1 || heard[0] != "mart" {
		t.Fatalf("heard %v, want one applied batch of mart", heard)
	}
}
