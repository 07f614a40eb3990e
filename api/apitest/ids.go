package apitest

import (
	"context"
	"testing"

	"github.com/plaza-gateway/plaza/connectors"
	"github.com/plaza-gateway/plaza/connectors/demo"
	"github.com/plaza-gateway/plaza/gid"
)

// ProductIDs returns the global IDs of n products of the first demo grocery
// provider: the list the benchmarks ask for.
func ProductIDs(tb testing.TB, n int) []string {
	tb.Helper()
	conns, err := demo.Default()
	if err != nil {
		tb.Fatal(err)
	}
	for _, c := range conns {
		g, ok := c.(connectors.Grocery)
		if !ok {
			continue
		}
		page, err := g.SearchProducts(context.Background(), connectors.Query{First: n})
		if err != nil || len(page.Items) < n {
			tb.Fatalf("%s: %d products, %v", c.Describe().ID, len(page.Items), err)
		}
		ids := make([]string, n)
		for i, p := range page.Items[:n] {
			ids[i] = gid.Encode(gid.Product, c.Describe().ID, p.ID)
		}
		return ids
	}
	tb.Fatal("no grocery provider")
	return nil
}
