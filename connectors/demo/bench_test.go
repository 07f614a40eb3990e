package demo

import (
	"context"
	"fmt"
	"testing"

	"github.com/plaza-gateway/plaza/connectors"
)

func BenchmarkProducts50(b *testing.B) {
	g := mustGrocery(b)
	ids := make([]string, 50)
	for i := range ids {
		ids[i] = fmt.Sprintf("p-%06d", 1+i*23)
	}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		res, err := g.Products(ctx, ids)
		if err != nil || len(res) != len(ids) || res[49].Err != nil {
			b.Fatalf("Products: %v, %d results", err, len(res))
		}
	}
}

func BenchmarkSearchProducts(b *testing.B) {
	g := mustGrocery(b)
	ctx := context.Background()
	q := connectors.Query{Text: "organic milk", City: "Hangzhou"}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := g.SearchProducts(ctx, q); err != nil {
			b.Fatal(err)
		}
	}
}
