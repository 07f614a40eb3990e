package api_test

import (
	"cmp"
	"context"
	"slices"
	"testing"

	"github.com/plaza-gateway/plaza/api/apitest"
	"github.com/plaza-gateway/plaza/supply"
)

// searchNode is a search result with what the order tests compare.
type searchNode struct {
	ID       string `json:"id"`
	Typename string `json:"__typename"`
	Price    *struct {
		Amount int `json:"amount"`
	} `json:"price"`
	Rating float64 `json:"rating"`
}

type searchPage struct {
	Search struct {
		TotalCount int `json:"totalCount"`
		PageInfo   struct {
			HasNextPage     bool    `json:"hasNextPage"`
			HasPreviousPage bool    `json:"hasPreviousPage"`
			StartCursor     *string `json:"startCursor"`
			EndCursor       *string `json:"endCursor"`
		} `json:"pageInfo"`
		Edges []struct {
			Cursor string     `json:"cursor"`
			Node   searchNode `json:"node"`
		} `json:"edges"`
	} `json:"search"`
}

func (p searchPage) ids() []string {
	var out []string
	for _, e := range p.Search.Edges {
		out = append(out, e.Node.ID)
	}
	return out
}

// prices are the page's prices in order, unpriced items skipped.
func (p searchPage) prices() []int {
	var out []int
	for _, e := range p.Search.Edges {
		if e.Node.Price != nil {
			out = append(out, e.Node.Price.Amount)
		}
	}
	return out
}

const orderedSearch = `query($text: String, $vertical: Vertical, $sort: SearchSort, $near: GeoPointInput, $minPrice: Int, $maxPrice: Int,
	$first: Int, $after: String, $last: Int, $before: String) {
	search(text: $text, vertical: $vertical, sort: $sort, near: $near, minPrice: $minPrice, maxPrice: $maxPrice,
		first: $first, after: $after, last: $last, before: $before) {
		totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
		edges { cursor node { __typename
			... on Product { id price { amount } rating }
			... on Store { id rating } ... on Doctor { id rating } ... on Lawyer { id rating } ... on GovService { id rating } } } } }`

// TestSearchSortsAndPriceRange: sorts other than relevance are the index's
// order (priced items by price, unpriced last; best rated first), and a
// price range keeps only priced items within it.
func TestSearchSortsAndPriceRange(t *testing.T) {
	g := startDemo(t)
	search := func(vars map[string]any) searchPage {
		t.Helper()
		p, _ := mustData[searchPage](t, g, apitest.Request{Query: orderedSearch, Variables: vars})
		return p
	}
	t.Run("price, cheapest first, unpriced last", func(t *testing.T) {
		p := search(map[string]any{"vertical": "GROCERY", "sort": "PRICE_LOW_TO_HIGH", "first": 100})
		var prices []int
		seenUnpriced := false
		for _, e := range p.Search.Edges {
			if e.Node.Price == nil {
				seenUnpriced = true
				continue
			}
			if seenUnpriced {
				t.Fatalf("priced %s after an unpriced item", e.Node.ID)
			}
			prices = append(prices, e.Node.Price.Amount)
		}
		if len(prices) < 3 || !slices.IsSorted(prices) {
			t.Fatalf("prices %v, want several ascending", prices)
		}
	})
	t.Run("price, dearest first", func(t *testing.T) {
		prices := search(map[string]any{"text": "milk", "sort": "PRICE_HIGH_TO_LOW", "first": 50}).prices()
		if len(prices) < 2 || !slices.IsSortedFunc(prices, func(a, b int) int { return b - a }) {
			t.Fatalf("prices %v, want several descending", prices)
		}
	})
	t.Run("rating, best first", func(t *testing.T) {
		p := search(map[string]any{"vertical": "MEDICAL", "sort": "RATING", "first": 50})
		var ratings []float64
		for _, e := range p.Search.Edges {
			ratings = append(ratings, e.Node.Rating)
		}
		if len(ratings) < 2 || !slices.IsSortedFunc(ratings, func(a, b float64) int { return cmp.Compare(b, a) }) {
			t.Fatalf("ratings %v, want several descending", ratings)
		}
	})
	t.Run("a price range keeps priced items within it", func(t *testing.T) {
		prices := search(map[string]any{"vertical": "GROCERY", "sort": "PRICE_LOW_TO_HIGH", "first": 100}).prices()
		lo, hi := prices[1], prices[len(prices)-2]
		want := 0
		for _, v := range prices {
			if v >= lo && v <= hi {
				want++
			}
		}
		p := search(map[string]any{"vertical": "GROCERY", "minPrice": lo, "maxPrice": hi, "first": 100})
		if len(p.Search.Edges) != want || p.Search.TotalCount != want {
			t.Fatalf("%d results (total %d), want %d in %d..%d", len(p.Search.Edges), p.Search.TotalCount, want, lo, hi)
		}
		for _, e := range p.Search.Edges {
			if e.Node.Price == nil || e.Node.Price.Amount < lo || e.Node.Price.Amount > hi {
				t.Fatalf("%s %+v outside %d..%d", e.Node.ID, e.Node.Price, lo, hi)
			}
		}
	})
}

// TestSearchByDistance: DISTANCE orders by distance from `near`, items
// without a location last.
func TestSearchByDistance(t *testing.T) {
	ix := apitest.DemoIndex(t)
	page, err := ix.Search(context.Background(), supply.Query{Kinds: []supply.Kind{supply.KindStore}, First: 10})
	if err != nil || len(page.Hits) < 3 {
		t.Fatalf("stores in the demo index: %v, %v", page.Hits, err)
	}
	// Place three stores at 1, 10 and 100 km north of the point, in
	// reverse key order, so the distance (not the key) decides.
	var placed []supply.Item
	for i, km := range []float64{100, 10, 1} {
		it := page.Hits[i].Item
		it.Version++
		it.Geo = &supply.Geo{Lat: 30 + km/111.2, Lon: 120}
		placed = append(placed, it)
	}
	if _, err := ix.Apply(context.Background(), supply.Batch{Upserts: placed}); err != nil {
		t.Fatal(err)
	}
	g := apitest.Start(t, apitest.Options{Index: ix})
	p, _ := mustData[searchPage](t, g, apitest.Request{Query: `query { search(vertical: GROCERY, sort: DISTANCE, near: {lat: 30, lon: 120}, first: 100) {
		edges { node { ... on Store { id name } ... on Product { id } } } } }`})
	if len(p.Search.Edges) < 4 {
		t.Fatalf("%d results", len(p.Search.Edges))
	}
	for i, want := range []string{placed[2].ID, placed[1].ID, placed[0].ID} {
		if _, _, local := decodeID(t, p.Search.Edges[i].Node.ID); local != want {
			t.Fatalf("position %d is %s, want %s (nearest first)", i, local, want)
		}
	}
}

// TestSearchPagesBackward: last/before walks back over the pages first/after
// served, and hasPreviousPage is true exactly where a page precedes.
func TestSearchPagesBackward(t *testing.T) {
	g := startDemo(t)
	search := func(vars map[string]any) searchPage {
		t.Helper()
		vars["text"] = "milk"
		p, _ := mustData[searchPage](t, g, apitest.Request{Query: orderedSearch, Variables: vars})
		return p
	}
	first := search(map[string]any{"first": 2})
	second := search(map[string]any{"first": 2, "after": *first.Search.PageInfo.EndCursor})
	if first.Search.PageInfo.HasPreviousPage || !second.Search.PageInfo.HasPreviousPage || len(second.Search.Edges) != 2 {
		t.Fatalf("forward pages %+v / %+v", first.Search.PageInfo, second.Search.PageInfo)
	}
	back := search(map[string]any{"last": 2, "before": *second.Search.PageInfo.StartCursor})
	if !slices.Equal(back.ids(), first.ids()) {
		t.Fatalf("back from page 2: %v, want page 1 %v", back.ids(), first.ids())
	}
	if back.Search.PageInfo.HasPreviousPage || !back.Search.PageInfo.HasNextPage {
		t.Fatalf("back page info %+v", back.Search.PageInfo)
	}
	// Without before, last takes the end of the list forward paging reaches.
	var all []string
	vars := map[string]any{"first": 50}
	for range 40 {
		p := search(vars)
		all = append(all, p.ids()...)
		if !p.Search.PageInfo.HasNextPage {
			break
		}
		vars = map[string]any{"first": 50, "after": *p.Search.PageInfo.EndCursor}
	}
	tail := search(map[string]any{"last": 1})
	if len(tail.Search.Edges) != 1 || tail.ids()[0] != all[len(all)-1] || tail.Search.PageInfo.HasNextPage || !tail.Search.PageInfo.HasPreviousPage {
		t.Fatalf("last 1 without before: %v %+v, want the list's last %s", tail.ids(), tail.Search.PageInfo, all[len(all)-1])
	}
}

// TestSearchOrderBadInput: every malformed order, range or page is
// BAD_USER_INPUT naming its argument.
func TestSearchOrderBadInput(t *testing.T) {
	g := startDemo(t)
	first, _ := mustData[searchPage](t, g, apitest.Request{Query: orderedSearch, Variables: map[string]any{"text": "milk", "first": 2}})
	for _, tc := range []struct {
		name  string
		vars  map[string]any
		field string
		msg   string
	}{
		{"an empty price range", map[string]any{"minPrice": 500, "maxPrice": 100}, "minPrice", "minPrice 500 is above maxPrice 100"},
		{"a negative floor", map[string]any{"minPrice": -1}, "minPrice", "minPrice must not be negative"},
		{"a negative ceiling", map[string]any{"maxPrice": -5}, "maxPrice", "maxPrice must not be negative"},
		{"distance without a point", map[string]any{"sort": "DISTANCE"}, "near", "DISTANCE needs near"},
		{"a point off the globe", map[string]any{"sort": "DISTANCE", "near": map[string]any{"lat": 95, "lon": 0}}, "near", "is not on Earth"},
		{"forward and backward at once", map[string]any{"first": 2, "last": 2}, "last", "not both"},
		{"a negative last", map[string]any{"last": -1}, "last", "last must be 0 to"},
		{"a before cursor of another query", map[string]any{"text": "bread", "last": 2, "before": *first.Search.PageInfo.EndCursor}, "before", "belongs to another query"},
		{"a before that is no cursor", map[string]any{"last": 2, "before": "nope"}, "before", "invalid cursor"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := mustFail(t, g, apitest.Request{Query: orderedSearch, Variables: tc.vars}, "BAD_USER_INPUT", tc.msg)
			if r.Errors[0].Extensions["field"] != tc.field {
				t.Fatalf("field %v, want %s", r.Errors[0].Extensions["field"], tc.field)
			}
		})
	}
}
