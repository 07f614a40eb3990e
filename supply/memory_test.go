package supply

import (
	"context"
	"reflect"
	"slices"
	"testing"
)

func TestMemoryContract(t *testing.T) {
	runContract(t, func(t *testing.T) Index {
		ix, err := NewMemory()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ix.Close() })
		return ix
	})
}

// compacting is the embedded index compacted after every write, so the
// contract runs on indexes Compact rebuilt (cursors, deletes and versions
// included).
type compacting struct{ *Memory }

func (c compacting) Apply(ctx context.Context, b Batch) (Ack, error) {
	ack, err := c.Memory.Apply(ctx, b)
	if err != nil {
		return ack, err
	}
	return ack, c.Compact(ctx)
}

func TestMemoryContractCompacted(t *testing.T) {
	runContract(t, func(t *testing.T) Index {
		ix, err := NewMemory()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ix.Close() })
		return compacting{ix}
	})
}

func TestCompactKeepsSearchResults(t *testing.T) {
	ix, err := NewMemory()
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	items := benchItems(2_000, 7)
	for lo := 0; lo < len(items); lo += 20 { // 100 writes: 100 segments
		mustApply(t, ix, Batch{Upserts: items[lo : lo+20]})
	}
	queries := []Query{{Text: "organic milk", First: 50}, {Text: "chedar", First: 50}, {City: "City 7", First: 50}, {Text: "tea", City: "City 3", Facets: true}}
	before := make([]Page, len(queries))
	for i, q := range queries {
		before[i] = mustSearch(t, ix, q)
	}
	if err := ix.Compact(ctx); err != nil {
		t.Fatal(err)
	}
	for i, q := range queries {
		after := mustSearch(t, ix, q)
		if !slices.Equal(ids(after), ids(before[i])) || after.Total != before[i].Total || !reflect.DeepEqual(after.Facets, before[i].Facets) {
			t.Errorf("%+v: after Compact %v (total %d), before %v (total %d)", q, ids(after), after.Total, ids(before[i]), before[i].Total)
		}
	}
	// Writes after the swap go to the new index.
	mustApply(t, ix, Batch{Upserts: []Item{product("late", "p-late", "Zanzibar clove", 1)}})
	if p := mustSearch(t, ix, Query{Text: "zanzibar"}); len(p.Hits) != 1 {
		t.Fatalf("an item written after Compact is not found: %v", ids(p))
	}
}
