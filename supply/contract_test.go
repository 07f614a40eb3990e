package supply

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"
)

// The contract every backend passes. Each subtest opens an empty index.
func runContract(t *testing.T, open func(t *testing.T) Index) {
	tests := []struct {
		name string
		run  func(t *testing.T, ix Index)
	}{
		{"an upserted item is found with every field it was given", testRoundTrip},
		{"a delete removes the item and leaves a tombstone", testDelete},
		{"an older version never overwrites a newer one", testVersionOrder},
		{"malformed items are rejected one by one and the rest applied", testRejects},
		{"filters on vertical, kind, city and category", testFilters},
		{"facets count every match, not only the page", testFacets},
		{"synonyms and typos find what the words as written miss", testTypos},
		{"name matches come before description matches, and a browse is best rated first", testOrder},
		{"a cursor neither repeats nor skips while the index changes underneath", testCursorStability},
		{"bad queries are refused with ErrBadQuery", testBadQueries},
		{"sorts by price, rating and distance, items without the value last, paged by cursor", testSorts},
		{"a price range keeps only priced items within it, under any sort", testPriceRange},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.run(t, open(t))
		})
	}
}

var ctx = context.Background()

func product(provider, id, name string, v int64) Item {
	return Item{Provider: provider, Kind: KindProduct, ID: id, Name: name, Category: "dairy", Cities: []string{"Hangzhou"},
		Price: 1290, Currency: "CNY", Available: true, Rating: 4.5, Version: v}
}

func mustApply(t *testing.T, ix Index, b Batch) Ack {
	t.Helper()
	ack, err := ix.Apply(ctx, b)
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	return ack
}

func mustSearch(t *testing.T, ix Index, q Query) Page {
	t.Helper()
	p, err := ix.Search(ctx, q)
	if err != nil {
		t.Fatalf("Search(%+v): %v", q, err)
	}
	return p
}

func ids(p Page) []string {
	out := make([]string, len(p.Hits))
	for i, h := range p.Hits {
		out[i] = h.Item.ID
	}
	return out
}

func sorted(s []string) []string { s = slices.Clone(s); slices.Sort(s); return s }

func testRoundTrip(t *testing.T, ix Index) {
	at := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	it := Item{Provider: "freshcart", Kind: KindProduct, ID: "p-1", Name: "Whole Milk", Description: "Fresh pasteurised milk.",
		Category: "dairy", Tags: []string{"milk", "breakfast"}, Cities: []string{"Hangzhou", "Shanghai"}, Geo: &Geo{Lat: 30.25, Lon: 120.17},
		Price: 1290, Currency: "CNY", Available: true, Rating: 4.6, UpdatedAt: at}
	ack := mustApply(t, ix, Batch{Upserts: []Item{it}})
	if ack.Count(Indexed) != 1 {
		t.Fatalf("ack %+v, want one indexed", ack)
	}
	p := mustSearch(t, ix, Query{Text: "milk"})
	if len(p.Hits) != 1 || p.Total != 1 {
		t.Fatalf("hits %v total %d, want p-1 once", ids(p), p.Total)
	}
	got := p.Hits[0].Item
	want := it
	want.Version = at.UnixMicro() // UpdatedAt stands for a missing version
	if got.UpdatedAt.Equal(want.UpdatedAt) {
		got.UpdatedAt = want.UpdatedAt
	}
	if got.Geo == nil || *got.Geo != *want.Geo {
		t.Errorf("geo %v, want %v", got.Geo, want.Geo)
	}
	got.Geo, want.Geo = nil, nil
	if fmt.Sprintf("%+v", got) != fmt.Sprintf("%+v", want) {
		t.Errorf("item\n got %+v\nwant %+v", got, want)
	}
}

func testDelete(t *testing.T, ix Index) {
	mustApply(t, ix, Batch{Upserts: []Item{product("a", "p-1", "Whole Milk", 1), product("a", "p-2", "Skimmed Milk", 1)}})
	ack := mustApply(t, ix, Batch{Deletes: []Ref{{Provider: "a", Kind: KindProduct, ID: "p-1", Version: 2}}})
	if ack.Count(Indexed) != 1 {
		t.Fatalf("delete ack %+v", ack)
	}
	if got := ids(mustSearch(t, ix, Query{Text: "milk"})); !slices.Equal(got, []string{"p-2"}) {
		t.Fatalf("after delete: %v, want [p-2]", got)
	}
	// The tombstone outranks the version it deleted at.
	ack = mustApply(t, ix, Batch{Upserts: []Item{product("a", "p-1", "Whole Milk", 2)}})
	if ack.Count(Superseded) != 1 {
		t.Fatalf("upsert at the deleted version: %+v, want superseded", ack)
	}
	// A delete of an item never seen still orders later pushes.
	mustApply(t, ix, Batch{Deletes: []Ref{{Provider: "a", Kind: KindProduct, ID: "p-9", Version: 5}}})
	mustApply(t, ix, Batch{Upserts: []Item{product("a", "p-9", "Oat Milk", 4)}})
	if got := ids(mustSearch(t, ix, Query{Text: "milk"})); !slices.Equal(got, []string{"p-2"}) {
		t.Fatalf("an upsert older than a delete came back: %v", got)
	}
	mustApply(t, ix, Batch{Upserts: []Item{product("a", "p-1", "Whole Milk", 3)}})
	if got := sorted(ids(mustSearch(t, ix, Query{Text: "milk"}))); !slices.Equal(got, []string{"p-1", "p-2"}) {
		t.Fatalf("a newer upsert after a delete: %v, want p-1 back", got)
	}
}

func testVersionOrder(t *testing.T, ix Index) {
	mustApply(t, ix, Batch{Upserts: []Item{product("a", "p-1", "Whole Milk", 2)}})
	ack := mustApply(t, ix, Batch{Upserts: []Item{product("a", "p-1", "Stale Bread", 1)}})
	if ack.Count(Superseded) != 1 {
		t.Fatalf("older version: %+v, want superseded", ack)
	}
	again := mustApply(t, ix, Batch{Upserts: []Item{product("a", "p-1", "Whole Milk", 2)}})
	if again.Count(Superseded) != 1 {
		t.Fatalf("the same push twice: %+v, want superseded the second time", again)
	}
	if p := mustSearch(t, ix, Query{Text: "bread"}); len(p.Hits) != 0 {
		t.Fatalf("the older version was indexed: %v", ids(p))
	}
	// Within one batch, the highest version wins whatever the order.
	mustApply(t, ix, Batch{Upserts: []Item{product("a", "p-1", "Oat Milk", 5), product("a", "p-1", "Soy Milk", 3)}})
	p := mustSearch(t, ix, Query{Text: "milk"})
	if len(p.Hits) != 1 || p.Hits[0].Item.Name != "Oat Milk" || p.Hits[0].Item.Version != 5 {
		t.Fatalf("after one batch of v5 and v3: %+v, want Oat Milk at 5", p.Hits)
	}
}

func testRejects(t *testing.T, ix Index) {
	good := product("a", "p-1", "Whole Milk", 1)
	bad := func(f func(*Item)) Item { it := product("a", "p-x", "Skimmed Milk", 1); f(&it); return it }
	b := Batch{Upserts: []Item{
		bad(func(it *Item) { it.Kind = "spaceship" }),
		bad(func(it *Item) { it.ID = "" }),
		bad(func(it *Item) { it.Version = 0 }),
		bad(func(it *Item) { it.Name = " " }),
		bad(func(it *Item) { it.Cities = nil }),
		bad(func(it *Item) { it.Provider = "" }),
		good,
	}, Deletes: []Ref{{Provider: "a", Kind: KindProduct, ID: "p-2"}}}
	ack := mustApply(t, ix, b)
	wantErr := []string{`bad item: unknown kind "spaceship"`, "bad item: missing id", "bad item: missing version (a positive version or updatedAt)",
		"bad item: missing name", "bad item: no city", "bad item: missing provider", "", "bad item: missing version (a positive version or updatedAt)"}
	if len(ack.Results) != len(wantErr) {
		t.Fatalf("%d results, want %d", len(ack.Results), len(wantErr))
	}
	for i, r := range ack.Results {
		switch {
		case wantErr[i] == "" && r.Outcome != Indexed:
			t.Errorf("result %d: %+v, want indexed", i, r)
		case wantErr[i] != "" && (r.Outcome != Rejected || !errors.Is(r.Err, ErrBadItem) || r.Err.Error() != wantErr[i]):
			t.Errorf("result %d: %+v, want rejected with %q", i, r, wantErr[i])
		}
	}
	if got := ids(mustSearch(t, ix, Query{Text: "milk"})); !slices.Equal(got, []string{"p-1"}) {
		t.Fatalf("search after a partly bad batch: %v, want only the good item", got)
	}
}

// catalog is a small mixed catalogue for filters, facets and order.
func catalog() []Item {
	return []Item{
		{Provider: "freshcart", Kind: KindProduct, ID: "p-1", Name: "Whole Milk", Category: "dairy", Cities: []string{"Hangzhou"}, Rating: 4.2, Version: 1},
		{Provider: "freshcart", Kind: KindProduct, ID: "p-2", Name: "Cheddar Cheese Slices", Category: "dairy", Description: "Mild cheddar for sandwiches.", Cities: []string{"Shanghai"}, Rating: 4.8, Version: 1},
		{Provider: "greenbasket", Kind: KindProduct, ID: "p-3", Name: "Bananas", Category: "produce", Tags: []string{"fruit", "baby food"}, Cities: []string{"Hangzhou"}, Rating: 4.9, Version: 1},
		{Provider: "freshcart", Kind: KindStore, ID: "s-1", Name: "FreshCart Xihu", Tags: []string{"24h", "bakery"}, Cities: []string{"Hangzhou"}, Rating: 4.0, Version: 1},
		{Provider: "mediquick", Kind: KindDoctor, ID: "d-1", Name: "Dr. Chen Jing", Category: "Paediatrics", Description: "Children's fevers and vaccinations.", Cities: []string{"Hangzhou"}, Rating: 4.7, Version: 1},
		{Provider: "mediquick", Kind: KindDoctor, ID: "d-2", Name: "Dr. Li Wei", Category: "Cardiology", Description: "Heart rhythm problems.", Cities: []string{"Beijing"}, Rating: 4.1, Version: 1},
		{Provider: "lexassist", Kind: KindLawyer, ID: "l-1", Name: "Wang Fang", Category: "Family", Description: "A lawyer advising on divorce and child custody.", Cities: []string{"Hangzhou"}, Rating: 4.4, Version: 1},
		{Provider: "govdesk", Kind: KindGovService, ID: "passport-renewal", Name: "Passport Renewal", Category: "Travel", Tags: []string{"passport", "travel"}, Cities: []string{"Hangzhou", "Beijing", "Shanghai"}, Rating: 4.3, Version: 1},
		{Provider: "govdesk", Kind: KindOffice, ID: "o-1", Name: "Hangzhou Xihu Citizen Service Centre", Cities: []string{"Hangzhou"}, Rating: 3.9, Version: 1},
	}
}

func testFilters(t *testing.T, ix Index) {
	mustApply(t, ix, Batch{Upserts: catalog()})
	tests := []struct {
		name string
		q    Query
		want []string
	}{
		{"a city, case-insensitively", Query{City: "hangzhou"}, []string{"d-1", "l-1", "o-1", "p-1", "p-3", "passport-renewal", "s-1"}},
		{"a vertical", Query{Verticals: []Vertical{"MEDICAL"}}, []string{"d-1", "d-2"}},
		{"a kind", Query{Kinds: []Kind{KindStore}}, []string{"s-1"}},
		{"kinds within a vertical", Query{Verticals: []Vertical{"PUBLIC_SERVICE"}, Kinds: []Kind{KindOffice, KindDoctor}}, []string{"o-1"}},
		{"a category", Query{Category: "Dairy"}, []string{"p-1", "p-2"}},
		{"a category and a city", Query{Category: "dairy", City: "Shanghai"}, []string{"p-2"}},
		{"a city of a many-city item", Query{City: "Beijing"}, []string{"d-2", "passport-renewal"}},
		{"text within a city (dairy is a synonym of milk)", Query{Text: "milk", City: "Shanghai"}, []string{"p-2"}},
		{"text outside the city", Query{Text: "bananas", City: "Shanghai"}, nil},
		{"a city nobody serves", Query{City: "Lhasa"}, nil},
		{"a category of a kind in a city", Query{Category: "dairy", City: "Shanghai", Kinds: []Kind{KindProduct}}, []string{"p-2"}},
		{"a category of another kind in the city", Query{Category: "dairy", City: "Shanghai", Kinds: []Kind{KindStore}}, nil},
		{"a category of a vertical in a many-city item's city", Query{Category: "travel", City: "Beijing", Verticals: []Vertical{"PUBLIC_SERVICE"}}, []string{"passport-renewal"}},
		{"words of a many-city item in its city", Query{Text: "passport renewal", City: "Shanghai"}, []string{"passport-renewal"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := mustSearch(t, ix, tt.q)
			if got := sorted(ids(p)); !slices.Equal(got, tt.want) && !(len(got) == 0 && len(tt.want) == 0) {
				t.Errorf("ids %v, want %v", got, tt.want)
			}
			if p.Total != len(tt.want) {
				t.Errorf("total %d, want %d", p.Total, len(tt.want))
			}
		})
	}
}

func testFacets(t *testing.T, ix Index) {
	mustApply(t, ix, Batch{Upserts: catalog()})
	p := mustSearch(t, ix, Query{City: "Hangzhou", First: 2, Facets: true})
	if len(p.Hits) != 2 || p.Total != 7 {
		t.Fatalf("page of %d, total %d; want 2 of 7", len(p.Hits), p.Total)
	}
	want := Facets{
		Verticals:  []FacetCount{{"GROCERY", 3}, {"PUBLIC_SERVICE", 2}, {"LEGAL", 1}, {"MEDICAL", 1}},
		Kinds:      []FacetCount{{"product", 2}, {"doctor", 1}, {"govService", 1}, {"lawyer", 1}, {"office", 1}, {"store", 1}},
		Cities:     []FacetCount{{"hangzhou", 7}, {"beijing", 1}, {"shanghai", 1}},
		Categories: []FacetCount{{"dairy", 1}, {"family", 1}, {"paediatrics", 1}, {"produce", 1}, {"travel", 1}},
		Providers:  []FacetCount{{"freshcart", 2}, {"govdesk", 2}, {"greenbasket", 1}, {"lexassist", 1}, {"mediquick", 1}},
	}
	if fmt.Sprint(p.Facets) != fmt.Sprint(want) {
		t.Errorf("facets\n got %v\nwant %v", p.Facets, want)
	}
	// The second page counts the same.
	p2 := mustSearch(t, ix, Query{City: "Hangzhou", First: 2, After: p.NextCursor, Facets: true})
	if fmt.Sprint(p2.Facets) != fmt.Sprint(want) || p2.Total != 7 {
		t.Errorf("second page: total %d facets %v, want the first page's", p2.Total, p2.Facets)
	}
}

func testTypos(t *testing.T, ix Index) {
	mustApply(t, ix, Batch{Upserts: catalog()})
	tests := []struct {
		text string
		want []string
	}{
		{"whole milk", []string{"p-1"}},
		{"milk whole milk milk", []string{"p-1"}}, // a repeated word matches as once
		{"mlik", []string{"p-1", "p-2"}},          // the lexicon's correction: milk, and its synonym dairy
		{"chedar", []string{"p-2"}},               // one edit from an indexed word
		{"pediatrician", []string{"d-1"}},         // a synonym of the category
		{"attorney divorce", []string{"l-1"}},
		{"heart doctor", []string{"d-2"}},
		{"banana", []string{"p-3"}}, // singular for plural
		{"xylophone", nil},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			if got := sorted(ids(mustSearch(t, ix, Query{Text: tt.text}))); !slices.Equal(got, tt.want) && !(len(got) == 0 && len(tt.want) == 0) {
				t.Errorf("%q: %v, want %v", tt.text, got, tt.want)
			}
		})
	}
	// The same in a city: a city's query reads other postings (the
	// PostgreSQL index's city-qualified keys) and must find the same.
	inCity := []struct {
		text, city string
		want       []string
	}{
		{"mlik", "Hangzhou", []string{"p-1"}},
		{"chedar", "Shanghai", []string{"p-2"}},
		{"chedar", "Hangzhou", nil},
		{"pasport", "Beijing", []string{"passport-renewal"}}, // one city of a many-city item
		{"pediatrician", "Hangzhou", []string{"d-1"}},
		{"heart doctor", "Beijing", []string{"d-2"}},
		{"heart doctor", "Hangzhou", nil},
	}
	for _, tt := range inCity {
		t.Run(tt.text+" in "+tt.city, func(t *testing.T) {
			if got := sorted(ids(mustSearch(t, ix, Query{Text: tt.text, City: tt.city}))); !slices.Equal(got, tt.want) && !(len(got) == 0 && len(tt.want) == 0) {
				t.Errorf("%q in %s: %v, want %v", tt.text, tt.city, got, tt.want)
			}
		})
	}
}

func testOrder(t *testing.T, ix Index) {
	mustApply(t, ix, Batch{Upserts: []Item{
		{Provider: "a", Kind: KindProduct, ID: "desc", Name: "Latte Kit", Description: "Comes with milk frother.", Category: "kitchen", Cities: []string{"Hangzhou"}, Rating: 5, Version: 1},
		{Provider: "a", Kind: KindProduct, ID: "name", Name: "Whole Milk", Category: "drinks", Cities: []string{"Hangzhou"}, Rating: 3.5, Version: 1},
		{Provider: "a", Kind: KindProduct, ID: "tags", Name: "Breakfast Box", Tags: []string{"milk"}, Category: "boxes", Cities: []string{"Hangzhou"}, Rating: 4, Version: 1},
	}})
	p := mustSearch(t, ix, Query{Text: "milk"})
	if got := ids(p); !slices.Equal(got, []string{"name", "tags", "desc"}) {
		t.Errorf("text order %v, want name, tags, then description matches", got)
	}
	if len(p.Hits) == 3 && (p.Hits[0].Score != weightName || p.Hits[1].Score != weightTags || p.Hits[2].Score != weightDescription) {
		t.Errorf("scores %d %d %d, want %d %d %d", p.Hits[0].Score, p.Hits[1].Score, p.Hits[2].Score, weightName, weightTags, weightDescription)
	}
	if got := ids(mustSearch(t, ix, Query{})); !slices.Equal(got, []string{"desc", "tags", "name"}) {
		t.Errorf("browse order %v, want best rated first", got)
	}
}

func testCursorStability(t *testing.T, ix Index) {
	var items []Item
	for i := range 30 {
		it := product("a", fmt.Sprintf("p-%02d", i), "Milk Carton", 1)
		it.Rating = float64(i%5) + 0.5 // ties within each rating, broken by key
		if i%3 == 0 {
			it.Name, it.Description = "Butter", "Made from milk." // a weaker (description) match
		}
		items = append(items, it)
	}
	mustApply(t, ix, Batch{Upserts: items})
	// A text of one concept, of two ("dairy milk": every item, by two
	// scores), filtered, and browsing.
	for round, q := range []Query{{Text: "milk"}, {}, {Text: "dairy milk"}, {Text: "milk", City: "Hangzhou", Kinds: []Kind{KindProduct}}, {Category: "dairy"}} {
		deleteAt := int64(100 * (round + 1))
		text := q.Text
		t.Run(fmt.Sprintf("text %q city %q kinds %v category %q", q.Text, q.City, q.Kinds, q.Category), func(t *testing.T) {
			seen := map[string]int{}
			q.First = 7
			p := mustSearch(t, ix, q)
			for _, id := range ids(p) {
				seen[id]++
			}
			// Underneath: new items that sort before and after the cursor,
			// one unseen item deleted, a seen item's price changed.
			var news []Item
			for i := range 5 {
				it := product("b", fmt.Sprintf("n-%d-%d-%q", i, round, text), "Milk Bottle", 1)
				it.Rating = float64(i)
				news = append(news, it)
			}
			seenItem := items[slices.IndexFunc(items, func(it Item) bool { return it.ID == p.Hits[0].Item.ID })]
			seenItem.Price, seenItem.Version = 999, seenItem.Version+1
			var unseen string
			for _, it := range items {
				if seen[it.ID] == 0 {
					unseen = it.ID
					break
				}
			}
			mustApply(t, ix, Batch{Upserts: append(news, seenItem), Deletes: []Ref{{Provider: "a", Kind: KindProduct, ID: unseen, Version: deleteAt}}})
			for p.NextCursor != "" {
				q.After = p.NextCursor
				p = mustSearch(t, ix, q)
				for _, id := range ids(p) {
					seen[id]++
				}
			}
			for _, it := range items {
				switch {
				case it.ID == unseen && seen[it.ID] != 0:
					t.Errorf("%s was deleted before its page but shown", it.ID)
				case it.ID != unseen && seen[it.ID] != 1:
					t.Errorf("%s shown %d times, want once", it.ID, seen[it.ID])
				}
			}
			// Restore for the next run.
			mustApply(t, ix, Batch{Upserts: []Item{func() Item {
				it := items[slices.IndexFunc(items, func(it Item) bool { return it.ID == unseen })]
				it.Version = deleteAt + 1
				return it
			}()}})
		})
	}
}

func testBadQueries(t *testing.T, ix Index) {
	mustApply(t, ix, Batch{Upserts: catalog()})
	first := mustSearch(t, ix, Query{City: "Hangzhou", First: 1})
	tests := []struct {
		name string
		q    Query
		want string
	}{
		{"a page too large", Query{First: MaxFirst + 1}, "bad query: first 1001 outside 0..1000"},
		{"a negative page", Query{First: -1}, "bad query: first -1 outside 0..1000"},
		{"an unknown kind", Query{Kinds: []Kind{"spaceship"}}, `bad query: unknown kind "spaceship"`},
		{"an unknown vertical", Query{Verticals: []Vertical{"FOOD"}}, `bad query: unknown vertical "FOOD"`},
		{"a cursor that is not one", Query{After: "not-a-cursor"}, "bad query: after is not a cursor of this index"},
		{"a cursor of another query", Query{City: "Beijing", After: first.NextCursor}, "bad query: after is a cursor of another query"},
		{"a cursor of another sort", Query{City: "Hangzhou", Sort: SortRating, After: first.NextCursor}, "bad query: after is a cursor of another query"},
		{"an unknown sort", Query{Sort: "cheapest"}, `bad query: unknown sort "cheapest"`},
		{"distance without a point", Query{Sort: SortDistance}, "bad query: sorting by distance needs a point to measure from"},
		{"a point off the globe", Query{Sort: SortDistance, Near: &Geo{Lat: 91}}, "bad query: near is outside the globe"},
		{"a negative price bound", Query{MinPrice: ptr[int64](-1)}, "bad query: a price bound is negative"},
		{"an empty price range", Query{MinPrice: ptr[int64](500), MaxPrice: ptr[int64](100)}, "bad query: minPrice 500 is above maxPrice 100"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ix.Search(ctx, tt.q)
			if !errors.Is(err, ErrBadQuery) || err.Error() != tt.want {
				t.Errorf("error %v, want %q", err, tt.want)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

// sortCatalog: six products in Hangzhou with prices, ratings and places
// (West Lake, the railway station, Xiaoshan airport), one unpriced and
// one without geo.
func sortCatalog() []Item {
	at := func(lat, lon float64) *Geo { return &Geo{Lat: lat, Lon: lon} }
	mk := func(id string, price int64, rating float64, g *Geo) Item {
		return Item{Provider: "freshcart", Kind: KindProduct, ID: id, Name: "Milk " + id, Category: "dairy", Cities: []string{"Hangzhou"},
			Price: price, Currency: "CNY", Rating: rating, Geo: g, Version: 1}
	}
	return []Item{
		mk("a", 1290, 4.0, at(30.2590, 120.1490)), // by the lake
		mk("b", 590, 4.8, at(30.2920, 120.2130)),  // east station, ~7 km
		mk("c", 2500, 3.5, at(30.2350, 120.4340)), // airport, ~28 km
		mk("d", 0, 4.9, at(30.2600, 120.1500)),    // unpriced, by the lake
		mk("e", 990, 4.5, nil),                    // no geo
		mk("f", 590, 4.2, at(30.2700, 120.1600)),  // same price as b
	}
}

func testSorts(t *testing.T, ix Index) {
	mustApply(t, ix, Batch{Upserts: sortCatalog()})
	lake := &Geo{Lat: 30.2590, Lon: 120.1480}
	tests := []struct {
		name string
		q    Query
		want []string
	}{
		{"price, cheapest first, ties by key, unpriced last", Query{Sort: SortPriceAsc}, []string{"b", "f", "e", "a", "c", "d"}},
		{"price, dearest first, unpriced last", Query{Sort: SortPriceDesc}, []string{"c", "a", "e", "b", "f", "d"}},
		{"rating, best first", Query{Sort: SortRating}, []string{"d", "b", "e", "f", "a", "c"}},
		{"distance from the lake, no geo last", Query{Sort: SortDistance, Near: lake}, []string{"a", "d", "f", "b", "c", "e"}},
		{"text and a sort", Query{Text: "milk", Sort: SortPriceAsc}, []string{"b", "f", "e", "a", "c", "d"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := mustSearch(t, ix, tt.q)
			if got := ids(p); !slices.Equal(got, tt.want) {
				t.Errorf("ids %v, want %v", got, tt.want)
			}
			// Pages of two follow the same order, neither repeating nor skipping.
			var paged []string
			q := tt.q
			q.First = 2
			for range 10 {
				p := mustSearch(t, ix, q)
				paged = append(paged, ids(p)...)
				if p.NextCursor == "" {
					break
				}
				q.After = p.NextCursor
			}
			if !slices.Equal(paged, tt.want) {
				t.Errorf("paged %v, want %v", paged, tt.want)
			}
		})
	}
}

func testPriceRange(t *testing.T, ix Index) {
	mustApply(t, ix, Batch{Upserts: sortCatalog()})
	tests := []struct {
		name string
		q    Query
		want []string
	}{
		{"both bounds, inclusive", Query{MinPrice: ptr[int64](590), MaxPrice: ptr[int64](1290)}, []string{"a", "b", "e", "f"}},
		{"only a ceiling leaves the unpriced out", Query{MaxPrice: ptr[int64](990)}, []string{"b", "e", "f"}},
		{"only a floor", Query{MinPrice: ptr[int64](1000)}, []string{"a", "c"}},
		{"a floor of zero still means priced", Query{MinPrice: ptr[int64](0)}, []string{"a", "b", "c", "e", "f"}},
		{"with text", Query{Text: "milk", MaxPrice: ptr[int64](600)}, []string{"b", "f"}},
		{"with a sort", Query{Sort: SortPriceDesc, MaxPrice: ptr[int64](1000)}, []string{"b", "e", "f"}},
		{"nothing in range", Query{MinPrice: ptr[int64](3000)}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := mustSearch(t, ix, tt.q)
			if got := sorted(ids(p)); !slices.Equal(got, tt.want) && !(len(got) == 0 && len(tt.want) == 0) {
				t.Errorf("ids %v, want %v", got, tt.want)
			}
			if p.Total != len(tt.want) {
				t.Errorf("total %d, want %d", p.Total, len(tt.want))
			}
		})
	}
}
