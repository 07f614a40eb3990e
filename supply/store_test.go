package supply

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
	"unsafe"
)

// inSlab reports whether v's bytes lie in one of s's slabs.
func (s *itemStore) inSlab(v string) bool {
	if v == "" {
		return false
	}
	p := uintptr(unsafe.Pointer(unsafe.StringData(v)))
	for _, slab := range s.slabs {
		start := uintptr(unsafe.Pointer(unsafe.SliceData(slab)))
		if p >= start && p < start+uintptr(cap(slab)) {
			return true
		}
	}
	return false
}

// TestItemStoreRoundTrip checks that an item reads back from the store as
// it was written, field by field (every optional part present or not, a
// provider with a slash in it), that tombstones keep their version and
// no item, and that both hold with every key on one hash (the spill map).
func TestItemStoreRoundTrip(t *testing.T) {
	at := time.Date(2026, 12, 6, 5, 4, 3, 210, time.UTC)
	items := []struct {
		name string
		it   Item
	}{
		{"plain", Item{Provider: "freshcart", Kind: KindProduct, ID: "milk-1", Name: "Whole milk", Cities: []string{"Shanghai"}}},
		{"full", Item{Provider: "a/b", Kind: KindDoctor, ID: "dr/7", Name: "Dr Li", Description: strings.Repeat("bio ", 300),
			Category: "Pediatrics", Tags: []string{"children", "", "vaccines"}, Cities: []string{"Beijing", "Tianjin"},
			Geo: &Geo{Lat: 39.9, Lon: -116.4}, Price: 12900, Currency: "CNY", Available: true, Rating: 4.75, UpdatedAt: at}},
		{"no tags, zero rating", Item{Provider: "gov", Kind: KindGovService, ID: "id-card", Name: "ID card", Cities: []string{"X"},
			Rating: 0, Price: 0, Geo: &Geo{}}},
	}
	for _, collide := range []bool{false, true} {
		s := newItemStore()
		s.collide = collide
		for i, tc := range items {
			name, it, v := tc.name, tc.it, int64(i+1)
			key := it.Ref().Key()
			it.Version = v
			if old := s.put(key, &it, v); old != 0 {
				t.Fatalf("%s: a first put replaced %d", name, old)
			}
		}
		tomb := Ref{Provider: "freshcart", Kind: KindProduct, ID: "gone", Version: 9}.Key()
		s.put(tomb, nil, 9)
		for i, tc := range items {
			name, want := tc.name, tc.it
			want.Version = int64(i + 1)
			r, ok := s.item(want.Ref().Key())
			if !ok {
				t.Fatalf("collide %v: %s: not found", collide, name)
			}
			got := s.decode(r, &lists{})
			if !got.UpdatedAt.Equal(want.UpdatedAt) {
				t.Errorf("collide %v: %s: updated %v, want %v", collide, name, got.UpdatedAt, want.UpdatedAt)
			}
			got.UpdatedAt = want.UpdatedAt
			if !reflect.DeepEqual(got, want) {
				t.Errorf("collide %v: %s:\n got %+v\nwant %+v", collide, name, got, want)
			}
			if s.inSlab(got.Provider) || s.inSlab(got.ID) || !s.inSlab(got.Name) {
				t.Errorf("collide %v: %s: the identity must be a copy, the text a view of the slab", collide, name)
			}
			if p, k := s.providerKind(r); p != want.Provider || k != want.Kind {
				t.Errorf("collide %v: %s: provider and kind %q %q", collide, name, p, k)
			}
			if price, rating, geo, hasGeo := s.numbers(r); price != want.Price || rating != want.Rating || hasGeo != (want.Geo != nil) ||
				(hasGeo && geo != *want.Geo) {
				t.Errorf("collide %v: %s: numbers %d %v %v %v", collide, name, price, rating, geo, hasGeo)
			}
		}
		if _, ok := s.item(tomb); ok {
			t.Errorf("collide %v: a tombstone reads as an item", collide)
		}
		if r, ok := s.find(tomb); !ok || s.version(r) != 9 || !s.deleted(r) {
			t.Errorf("collide %v: the tombstone: found %v", collide, ok)
		}
		if _, ok := s.find("freshcart/product/never"); ok {
			t.Errorf("collide %v: a key never written is found", collide)
		}
		if s.live != len(items) {
			t.Errorf("collide %v: %d live, want %d", collide, s.live, len(items))
		}
	}
}

// TestItemStoreRewrite checks that a rewrite keeps every key's latest
// record and drops the replaced ones, that items read before it stay as
// they were, and that the order it is given is the records' order.
func TestItemStoreRewrite(t *testing.T) {
	for _, collide := range []bool{false, true} {
		s := newItemStore()
		s.collide = collide
		key := func(i int) string { return fmt.Sprintf("p/product/%d", i) }
		put := func(i int, v int64, name string) {
			it := Item{Provider: "p", Kind: KindProduct, ID: fmt.Sprint(i), Name: name, Cities: []string{"c"}, Version: v}
			s.put(key(i), &it, v)
		}
		for i := range 50 {
			put(i, 1, "first")
		}
		r, _ := s.item(key(7))
		before := s.decode(r, &lists{})
		for i := range 50 {
			put(i, 2, "second")
		}
		s.put(key(3), nil, 3)
		if s.dead == 0 {
			t.Fatalf("collide %v: replaced records not counted", collide)
		}
		live := s.bytes
		order := []string{key(9), key(8), key(3), "p/product/none"}
		moved := s.rewrite(order)
		if s.dead != 0 || s.bytes != live {
			t.Errorf("collide %v: after the rewrite %d dead, %d live bytes, want 0 and %d", collide, s.dead, s.bytes, live)
		}
		if before.Name != "first" || before.ID != "7" {
			t.Errorf("collide %v: an item read before the rewrite changed: %+v", collide, before)
		}
		for i := range 50 {
			r, ok := s.find(key(i))
			if !ok {
				t.Fatalf("collide %v: %s lost", collide, key(i))
			}
			if i == 3 {
				if !s.deleted(r) || s.version(r) != 3 {
					t.Errorf("collide %v: the tombstone of %s lost", collide, key(i))
				}
				continue
			}
			if it := s.decode(r, &lists{}); it.Name != "second" || it.Version != 2 || it.ID != fmt.Sprint(i) {
				t.Errorf("collide %v: %s reads %+v", collide, key(i), it)
			}
		}
		r9, _ := s.find(key(9))
		r8, _ := s.find(key(8))
		if r9 != refOf(0, 1) || r8 <= r9 {
			t.Errorf("collide %v: the order given is not the records' order: %d, %d", collide, r9, r8)
		}
		if len(moved) != 50 {
			t.Errorf("collide %v: %d records moved, want 50", collide, len(moved))
		}
	}
}

// TestMemoryRewritesReplacedItems checks that the embedded index drops
// the records of replaced items once they outweigh the live ones, and
// that searches over Compact's chunks still read the right items after.
func TestMemoryRewritesReplacedItems(t *testing.T) {
	defer func(v int64) { rewriteAfter = v }(rewriteAfter)
	rewriteAfter = 4 << 10
	ix, err := NewMemory()
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	ix.head = 4
	ctx := context.Background()
	var b Batch
	for i := range 40 {
		b.Upserts = append(b.Upserts, product("p", fmt.Sprint(i), fmt.Sprintf("Quokka milk %d", i), 1))
	}
	mustApply(t, ix, b)
	if err := ix.Compact(ctx); err != nil {
		t.Fatal(err)
	}
	for v := int64(2); v < 200; v++ {
		it := product("p", "5", fmt.Sprintf("Quokka milk 5 v%d %s", v, strings.Repeat("x", 200)), v)
		mustApply(t, ix, Batch{Upserts: []Item{it}})
	}
	if ix.store.dead > ix.store.bytes+rewriteAfter+1<<10 {
		t.Errorf("%d dead bytes beside %d live: never rewritten", ix.store.dead, ix.store.bytes)
	}
	check := func(when string) {
		t.Helper()
		p := mustSearch(t, ix, Query{Text: "quokka", First: 50})
		if len(p.Hits) != 40 || p.Total != 40 {
			t.Fatalf("%s: %d hits of %d, want 40", when, len(p.Hits), p.Total)
		}
		for _, h := range p.Hits {
			want := "Quokka milk " + h.Item.ID
			if h.Item.ID == "5" {
				want = "Quokka milk 5 v199 " + strings.Repeat("x", 200)
			}
			if h.Item.Name != want {
				t.Errorf("%s: %s reads %q, want %q", when, h.Item.ID, h.Item.Name, want)
			}
		}
	}
	check("after the rewrites")
	// A Compact that fails after rewriting the store leaves the chunks
	// in use pointing at the moved records.
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if err := ix.Compact(cancelled); err == nil {
		t.Fatal("Compact with a cancelled context succeeded")
	}
	check("after a failed Compact")
}
