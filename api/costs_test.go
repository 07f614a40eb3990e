package api

import (
	"slices"
	"testing"

	"github.com/plaza-gateway/plaza/gateway"
	"github.com/plaza-gateway/plaza/gid"
	"github.com/plaza-gateway/plaza/graph"
	"github.com/plaza-gateway/plaza/limits"
)

// TestCosts checks the complexity model derived from the schema and the
// declared kinds: the paged, per-ID and fan-out fields are exactly the ones
// the model priced when it was written by hand, and a kind's weight prices
// the fields returning it.
func TestCosts(t *testing.T) {
	schema := graph.NewExecutableSchema(graph.Config{}).Schema() // what serve runs, generated from schema.graphqls
	guard := limits.New(limits.Config{DefaultFirst: 20, FanOutCost: 50}, nil)
	c := costs(schema, guard, gateway.Kinds())
	f := func(typ, name string) limits.Field { return limits.Field{Type: typ, Name: name} }

	tests := []struct {
		name  string
		field limits.Field
		child int
		args  map[string]any
		want  int
	}{
		{"a page costs 1 + first × its selection", f("Query", "stores"), 3, map[string]any{"first": int64(10)}, 31},
		{"a page without first assumes DefaultFirst", f("Store", "products"), 3, nil, 61},
		{"a page of a user's list is priced the same", f("User", "orders"), 2, map[string]any{"first": int64(5)}, 11},
		{"first below 1 counts as 1", f("Query", "providers"), 4, map[string]any{"first": int64(0)}, 5},
		{"nodes costs 1 + len(ids) × its selection", f("Query", "nodes"), 5, map[string]any{"ids": []any{"a", "b", "c"}}, 16},
		{"search fans out: FanOutCost + first × its selection", f("Query", "search"), 2, map[string]any{"first": int64(10)}, 70},
		{"home fans out with DefaultFirst items", f("Query", "home"), 2, nil, 90},
		{"a field returning a kind of weight 1 costs 1 + its selection", f("Product", "store"), 4, nil, 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cost, ok := c[tt.field]
			if !ok {
				t.Fatalf("%s.%s is not priced", tt.field.Type, tt.field.Name)
			}
			if got := cost(tt.child, tt.args); got != tt.want {
				t.Fatalf("cost = %d, want %d", got, tt.want)
			}
		})
	}

	t.Run("the lists priced per item are the schema's paged, per-ID and fan-out fields", func(t *testing.T) {
		lists := []string{
			"Query.nodes", "Query.providers", "Query.stores", "Query.products", "Query.doctors", "Query.lawyers",
			"Query.govServices", "Query.search", "Query.home", "Store.products",
			"User.orders", "User.appointments", "User.consultations", "User.legalConsultations", "User.applications",
		}
		// The fields whose cost depends on a page size or a number of IDs.
		var got []string
		for field, cost := range c {
			if cost(1, map[string]any{"first": int64(7), "ids": []any{"a", "b", "c"}}) != cost(1, nil) {
				got = append(got, field.Type+"."+field.Name)
			}
		}
		slices.Sort(got)
		slices.Sort(lists)
		if !slices.Equal(got, lists) {
			t.Fatalf("priced lists:\n got %v\nwant %v", got, lists)
		}
	})

	t.Run("a heavier kind makes the fields returning it cost more", func(t *testing.T) {
		kinds := slices.Clone(gateway.Kinds())
		for i := range kinds {
			if kinds[i].Kind == gid.Store {
				kinds[i].Weight = 3
			}
		}
		heavy := costs(schema, guard, kinds)
		for _, field := range []limits.Field{f("Product", "store"), f("GroceryOrder", "store"), f("StoreEdge", "node")} {
			if got := heavy[field](4, nil); got != 7 {
				t.Errorf("%s.%s with Store weighing 3 costs %d, want 7", field.Type, field.Name, got)
			}
		}
		if n := len(heavy); n != len(c) {
			t.Errorf("the weight changes prices, not which fields are priced: %d fields, was %d", n, len(c))
		}
	})
}
