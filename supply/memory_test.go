package supply

import (
	"context"
	"fmt"
	"reflect"
	"runtime"
	"runtime/metrics"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/blevesearch/bleve/v2/document"
	index "github.com/blevesearch/bleve_index_api"
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
		ix.head = 2 // chunks of 2, 4, 8, …: searches that stop early
		return compacting{ix}
	})
}

func TestCompactKeepsSearchResults(t *testing.T) {
	ix, err := NewMemory()
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	ix.head = 16 // chunks of 16 to 1024 items: searches that stop early
	items := benchItems(2_000, 7)
	for i := range items {
		if i%7 == 0 {
			items[i].Rating = 4.5 // ties, ordered by key
		}
	}
	for i := range items {
		if i%5 == 3 {
			items[i].Kind = KindStore // a kind filter matching a fifth
		}
	}
	for lo := 0; lo < len(items); lo += 20 { // 100 writes: 100 segments
		mustApply(t, ix, Batch{Upserts: items[lo : lo+20]})
	}
	queries := []Query{{Text: "organic milk", First: 50}, {Text: "chedar", First: 50}, {City: "City 7", First: 50}, {Text: "tea", City: "City 3", Facets: true},
		{Text: "milk", First: 5}, {Text: "tea", First: 40}, {Text: "dairy", First: 3}, {Text: "farms", First: 10}, {Text: "milk", Kinds: []Kind{KindProduct}, First: 400},
		// Texts of several concepts, alone and filtered; the typo pass.
		{Text: "fresh milk", First: 7}, {Text: "milk tea", First: 30}, {Text: "organic milk", Category: "dairy", First: 4},
		{Text: "black tea", Kinds: []Kind{KindStore}, First: 6}, {Text: "mlik", First: 25}, {Text: "frozen bread", City: "City 3"},
		// Browsing: every item, a kind, a category.
		{First: 30}, {Kinds: []Kind{KindStore}, First: 25}, {Category: "dairy", First: 20},
		// Every kind the index holds: no kind filter.
		{Text: "milk", Kinds: []Kind{KindProduct, KindStore, KindDoctor}, First: 20}, {Verticals: []Vertical{"GROCERY"}, First: 20}}
	pages := func(q Query) []string { return pagesOf(t, ix, q) }
	before := make([][]string, len(queries))
	for i, q := range queries {
		before[i] = pages(q)
	}
	if err := ix.Compact(ctx); err != nil {
		t.Fatal(err)
	}
	if len(ix.chunks) != 7 {
		t.Fatalf("Compact wrote %d chunks, want 7 (16 to 1024 items)", len(ix.chunks))
	}
	check := func(when string) {
		t.Helper()
		for i, q := range queries {
			if after := pages(q); !slices.Equal(after, before[i]) {
				t.Errorf("%+v: %s\n%v, before\n%v", q, when, after, before[i])
			}
		}
	}
	check("after Compact")
	// Facets count under the kind filter (Bleve's own search of the
	// filter's query).
	if p := mustSearch(t, ix, Query{Text: "milk", Kinds: []Kind{KindStore}, Facets: true}); p.Total == 0 ||
		!slices.Equal(p.Facets.Kinds, []FacetCount{{Value: string(KindStore), Count: p.Total}}) {
		t.Errorf("stores of milk: %d, kind facets %v", p.Total, p.Facets.Kinds)
	}
	// Writes after the swap go to the new index, and count as much as
	// the chunks: a better match written since Compact still comes first.
	late := product("late", "p-late", "Zanzibar clove", 1)
	mustApply(t, ix, Batch{Upserts: []Item{late}})
	if p := mustSearch(t, ix, Query{Text: "zanzibar"}); len(p.Hits) != 1 {
		t.Fatalf("an item written after Compact is not found: %v", ids(p))
	}
	// The worst rated item, rewritten after Compact into the best milk:
	// found first, as an index never compacted finds it.
	worst := items[0]
	for _, it := range items {
		if it.Rating < worst.Rating {
			worst = it
		}
	}
	worst.Name, worst.Tags, worst.Description, worst.Rating, worst.Version = "Milk", []string{"milk"}, "Milk.", 5, 2
	mustApply(t, ix, Batch{Upserts: []Item{worst}})
	plain, err := NewMemory()
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	mustApply(t, plain, Batch{Upserts: items})
	mustApply(t, plain, Batch{Upserts: []Item{late, worst}})
	for _, q := range queries {
		want := mustSearch(t, plain, q)
		if got := mustSearch(t, ix, q); !slices.Equal(ids(got), ids(want)) || got.Total != want.Total {
			t.Errorf("%+v after a rewrite: %v (total %d), never compacted %v (total %d)", q, ids(got), got.Total, ids(want), want.Total)
		}
	}
	// Items of the ties at 4.5 written again, unchanged: each now ties on
	// score and rating with items still in the chunks, and the order
	// between them is by key, read from the store as the heap and the
	// page's sort compare them (a chunk's candidate holds no key until
	// then).
	var again []Item
	for i := 0; i < len(items); i += 21 {
		it := items[i]
		it.Version = 3
		again = append(again, it)
	}
	mustApply(t, ix, Batch{Upserts: again})
	mustApply(t, plain, Batch{Upserts: again})
	for _, q := range queries {
		if got, want := pages(q), pagesOf(t, plain, q); !slices.Equal(got, want) {
			t.Errorf("%+v after ties were written again:\n%v, never compacted\n%v", q, got, want)
		}
	}
}

// pagesOf is every page of q over ix, in order, with the totals and
// facets (at most six pages).
func pagesOf(t *testing.T, ix *Memory, q Query) (out []string) {
	t.Helper()
	for {
		p := mustSearch(t, ix, q)
		out = append(out, fmt.Sprint(ids(p), p.Total, p.Facets))
		if p.NextCursor == "" || len(out) == 6 {
			return out
		}
		q.After = p.NextCursor
	}
}

func TestHoldDefersIndexingToCompact(t *testing.T) {
	held, err := NewMemory()
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	plain, err := NewMemory()
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	items := benchItems(1_000, 11)
	before := product("early", "p-early", "Zanzibar clove", 1)
	before.Category = "spices" // not a dairy product: "milk" does not find it
	for _, ix := range []*Memory{held, plain} {
		mustApply(t, ix, Batch{Upserts: []Item{before}})
	}
	held.Hold()
	for _, ix := range []*Memory{held, plain} {
		for lo := 0; lo < len(items); lo += 100 {
			if ack := mustApply(t, ix, Batch{Upserts: items[lo : lo+100]}); ack.Count(Indexed) != 100 {
				t.Fatalf("a push of 100 items acknowledged %d indexed", ack.Count(Indexed))
			}
		}
	}
	if ack := mustApply(t, held, Batch{Upserts: items[:10]}); ack.Count(Superseded) != 10 {
		t.Errorf("a held index took a second push of the same versions: %+v", ack)
	}
	q := Query{Text: "milk", First: 50}
	if p := mustSearch(t, held, q); len(p.Hits) != 0 {
		t.Errorf("a held index found %d items pushed during the hold before Compact: %v", len(p.Hits), ids(p))
	}
	if p := mustSearch(t, held, Query{Text: "zanzibar"}); len(p.Hits) != 1 {
		t.Errorf("a held index lost an item indexed before the hold: %v", ids(p))
	}
	del := Batch{Deletes: []Ref{{Provider: before.Provider, Kind: before.Kind, ID: before.ID, Version: 2}}}
	for _, ix := range []*Memory{held, plain} {
		mustApply(t, ix, del)
	}
	if p := mustSearch(t, held, Query{Text: "zanzibar"}); len(p.Hits) != 0 {
		t.Errorf("a held index returns an item deleted during the hold: %v", ids(p))
	}
	if err := held.Compact(ctx); err != nil {
		t.Fatal(err)
	}
	for _, q := range []Query{q, {Text: "chedar", First: 50}, {City: "City 7", First: 50}, {Text: "tea", City: "City 3", Facets: true}, {Text: "zanzibar"}} {
		got, want := mustSearch(t, held, q), mustSearch(t, plain, q)
		if !slices.Equal(ids(got), ids(want)) || got.Total != want.Total || !reflect.DeepEqual(got.Facets, want.Facets) {
			t.Errorf("%+v: held then compacted %v (total %d), fed item by item %v (total %d)", q, ids(got), got.Total, ids(want), want.Total)
		}
	}
	// Compact ended the hold: a push is searchable at once.
	mustApply(t, held, Batch{Upserts: []Item{product("late", "p-late", "Quokka clove", 1)}})
	if p := mustSearch(t, held, Query{Text: "quokka"}); len(p.Hits) != 1 {
		t.Errorf("an item pushed after Compact is not found: %v", ids(p))
	}
}

// TestMemoryLiveCounts checks the item cap's read: each provider's live
// items, through upserts, replacements, deletes of live and unknown items,
// and a hold (the count is the items', not Bleve's, which a hold leaves
// behind until Compact).
func TestMemoryLiveCounts(t *testing.T) {
	ix, err := NewMemory()
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	del := func(provider, id string, v int64) Ref {
		return Ref{Provider: provider, Kind: KindProduct, ID: id, Version: v}
	}
	steps := []struct {
		name  string
		hold  bool
		b     Batch
		a, b2 int // live items of providers a and b after the step
		// whether items 1 and 3 of providers a and b are live after it
		a13, b13 [2]bool
	}{
		{"new items", false, Batch{Upserts: []Item{product("a", "1", "tea", 1), product("a", "2", "tea", 1), product("b", "1", "tea", 1)}},
			2, 1, [2]bool{true, false}, [2]bool{true, false}},
		{"a replacement and a superseded change", false, Batch{Upserts: []Item{product("a", "1", "milk", 2), product("a", "2", "milk", 1)}},
			2, 1, [2]bool{true, false}, [2]bool{true, false}},
		{"a delete, and one of an unknown item", false, Batch{Deletes: []Ref{del("a", "1", 3), del("b", "9", 1)}},
			1, 1, [2]bool{false, false}, [2]bool{true, false}},
		{"an item back after its delete, and one deleted in its own push", false, Batch{
			Upserts: []Item{product("a", "1", "tea", 4), product("b", "2", "tea", 1)}, Deletes: []Ref{del("b", "2", 2)}},
			2, 1, [2]bool{true, false}, [2]bool{true, false}},
		{"held: new items and a delete", true, Batch{Upserts: []Item{product("a", "3", "tea", 1), product("b", "3", "tea", 1)},
			Deletes: []Ref{del("b", "1", 2)}}, 3, 1, [2]bool{true, true}, [2]bool{false, true}},
	}
	for _, st := range steps {
		if st.hold {
			ix.Hold()
		}
		mustApply(t, ix, st.b)
		for provider, want := range map[string]struct {
			n   int
			l13 [2]bool
		}{"a": {st.a, st.a13}, "b": {st.b2, st.b13}} {
			n, live, err := ix.Live(ctx, provider, []Ref{del(provider, "1", 1), del(provider, "3", 1)})
			if err != nil {
				t.Fatal(err)
			}
			if n != want.n || live[0] != want.l13[0] || live[1] != want.l13[1] {
				t.Errorf("%s: provider %s: %d live %v, want %d %v", st.name, provider, n, live, want.n, want.l13)
			}
		}
	}
}

// TestDocBuilderMatchesMapping checks that docBuilder makes the fields
// the mapping makes of an item (MapDocument over the map the index used
// to hand Bleve), term for term once analysed.
func TestDocBuilderMatchesMapping(t *testing.T) {
	m := indexMapping()
	docs, err := newDocBuilder(m)
	if err != nil {
		t.Fatal(err)
	}
	items := append(benchItems(30, 5),
		Item{Provider: "p", Kind: KindDoctor, ID: "d-1", Name: "Dr. Li's clinic", Description: "", Category: " Paediatrics ",
			Cities: []string{"Hangzhou", " shanghai ", "Hangzhou"}, Rating: 5, Version: 1},
		Item{Provider: "p", Kind: KindStore, ID: "s-1", Name: "The shop", Tags: []string{"Open late", "24h"}, Cities: []string{"Suzhou"}, Version: 1})
	terms := func(doc *document.Document) []string {
		var out []string
		doc.VisitFields(func(f index.Field) {
			if f.Name() == fPrice {
				return
			}
			f.Analyze()
			for term, tf := range f.AnalyzedTokenFrequencies() {
				out = append(out, fmt.Sprintf("%s %v %d/%d %q %q", f.Name(), f.ArrayPositions(), f.Options(), f.AnalyzedLength(), f.Value(), term)+fmt.Sprint(tf.Frequency()))
			}
			if len(f.AnalyzedTokenFrequencies()) == 0 {
				out = append(out, fmt.Sprintf("%s %v %d/%d %q none", f.Name(), f.ArrayPositions(), f.Options(), f.AnalyzedLength(), f.Value()))
			}
		})
		slices.Sort(out)
		return out
	}
	for _, it := range items {
		cities := make([]string, len(it.Cities))
		for i, c := range it.Cities {
			cities[i] = norm(c)
		}
		want := document.NewDocument("k")
		if err := m.MapDocument(want, map[string]any{
			fName: it.Name, fCategory: it.Category, fTags: strings.Join(it.Tags, " . "), fDescription: it.Description,
			fKind: string(it.Kind), fProvider: it.Provider, fCity: cities,
			fCategoryKey: norm(it.Category), fRatingTier: strconv.Itoa(ratingTier(it.Rating)),
		}); err != nil {
			t.Fatal(err)
		}
		if got, want := terms(docs.doc("k", &it)), terms(want); !slices.Equal(got, want) {
			t.Errorf("%s: fields\n%v\nwant (the mapping's)\n%v", it.ID, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
}

// TestHeapEstimateIsCloseToWhatTheIndexHolds checks HeapBytes and
// ScanBytes against the runtime's count of the live heap and its scanned
// part. gctune.Follow leaves HeapBytes less ScanBytes out of the
// collector's pacing: too high, it would leave out bytes the collector
// marks every cycle and run it after every few MB the requests allocate.
func TestHeapEstimateIsCloseToWhatTheIndexHolds(t *testing.T) {
	ctx := context.Background()
	heapNow := func() (live, scan int64) {
		// Twice: Bleve pools its segment builders, and a pool's objects
		// outlive one collection.
		runtime.GC()
		runtime.GC()
		s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}, {Name: "/gc/scan/heap:bytes"}}
		metrics.Read(s)
		return int64(s[0].Value.Uint64()), int64(s[1].Value.Uint64())
	}
	const n = 20_000
	m, err := NewMemory()
	if err != nil {
		t.Fatal(err)
	}
	items := benchItems(n, 1)
	for _, held := range []bool{true, false} {
		if held {
			m.Hold()
		}
		for lo := 0; lo < n; lo += 1000 {
			if _, err := m.Apply(ctx, Batch{Upserts: items[lo : lo+1000]}); err != nil {
				t.Fatal(err)
			}
		}
		if held {
			if err := m.Compact(ctx); err != nil {
				t.Fatal(err)
			}
			// Newer versions of every other item, pushed one batch at a time.
			for i := range items {
				items[i].Version++
			}
			items = items[:n/2]
		}
	}
	items = nil
	// What the index holds is the heap with it less the heap without it,
	// measured back to back: a difference with the heap before it was
	// built also counted what other tests of the process left to the
	// collector meanwhile (a retired index, closed a minute after its
	// Compact), and under load it came out at a tenth of the index.
	live, scan := heapNow()
	heapBytes, scanBytes := m.HeapBytes(), m.ScanBytes()
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	m = nil
	live0, scan0 := heapNow()
	live, scan = live-live0, scan-scan0
	t.Logf("HeapBytes %d of %d held (%.2f), ScanBytes %d of %d scanned (%.2f)",
		heapBytes, live, float64(heapBytes)/float64(live), scanBytes, scan, float64(scanBytes)/float64(scan))
	// Low, not high: the old items Compact's chunks still hold are not
	// counted, nor the maps' spare slots.
	if heapBytes > live || heapBytes < live*55/100 {
		t.Errorf("HeapBytes %d, the index holds %d: want 55-100%% of it", heapBytes, live)
	}
	unscanned, est := live-scan, heapBytes-scanBytes
	if est > unscanned || est < unscanned/2 {
		t.Errorf("HeapBytes less ScanBytes %d, the index holds %d unscanned: want 50-100%% of it", est, unscanned)
	}
}

// TestCommonWordPassesOverLightMatchesAsAFullScanWould: a word in every
// item's description and, in fewer, in heavier fields. Past MaxMatches,
// a search over Compact's chunks passes over the matches that only the
// light fields hold (unionWalk.raise); its pages must be those of an
// index never compacted, which walks every match.
func TestCommonWordPassesOverLightMatchesAsAFullScanWould(t *testing.T) {
	items := benchItems(4_000, 11)
	for i := range items {
		it := &items[i]
		it.Description = "Fresh from the milk farms. " + it.Description
		switch {
		case i%97 == 0:
			it.Name, it.Category, it.Tags = "Milk "+it.Name, "milk", []string{"milk"}
		case i%13 == 0:
			it.Name = "Milk " + it.Name
		case i%11 == 0:
			it.Tags = append(it.Tags, "milk")
		}
		if i%7 == 0 {
			it.Rating = 4.5 // ties, ordered by key
		}
	}
	compacted, plain := mustMemory(t), mustMemory(t)
	compacted.head = 16 // chunks of 16 to 1024 items
	for lo := 0; lo < len(items); lo += 500 {
		mustApply(t, compacted, Batch{Upserts: items[lo : lo+500]})
		mustApply(t, plain, Batch{Upserts: items[lo : lo+500]})
	}
	if err := compacted.Compact(ctx); err != nil {
		t.Fatal(err)
	}
	// Written since Compact, and so read whole: a light match among them
	// is still found.
	late := product("late", "p-late", "Oat drink", 1)
	late.Description, late.Rating = "milk", 5
	mustApply(t, compacted, Batch{Upserts: []Item{late}})
	mustApply(t, plain, Batch{Upserts: []Item{late}})
	for _, q := range []Query{{Text: "milk", First: 50}, {Text: "milk", First: 5}, {Text: "milk", First: 400},
		{Text: "milk", City: "City 7", First: 10}, {Text: "milk", Kinds: []Kind{KindProduct}, First: 30}} {
		for page := 0; page < 6; page++ {
			want, got := mustSearch(t, plain, q), mustSearch(t, compacted, q)
			if !slices.Equal(ids(got), ids(want)) || got.Total != want.Total {
				t.Fatalf("%+v, page %d: %v (total %d), never compacted %v (total %d)", q, page+1, ids(got), got.Total, ids(want), want.Total)
			}
			if want.NextCursor == "" {
				break
			}
			q.After = want.NextCursor
		}
	}
}

func mustMemory(t *testing.T) *Memory {
	t.Helper()
	m, err := NewMemory()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}
