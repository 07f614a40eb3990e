package supply

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/search/query"
)

// TestCollectorMatchesBleve checks the embedded index's own collector
// (field cursors, the union walk, score thresholds, rating tiers, the
// cursor) against Bleve's plain collector: the same matches, scored by
// which field queries hold them, sorted in the index's order, paged.
func TestCollectorMatchesBleve(t *testing.T) {
	ix, err := NewMemory()
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	items := benchItems(3000, 7)
	for i := range items {
		items[i].Cities = []string{fmt.Sprintf("City %d", i%5)} // filters that keep hundreds
		if i%3 == 0 {
			items[i].Kind = KindStore
		}
	}
	mustApply(t, ix, Batch{Upserts: items})
	gone := items[1].Ref()
	gone.Version++
	mustApply(t, ix, Batch{Deletes: []Ref{gone}}) // a deleted item never shows

	all := func(q query.Query) []string {
		req := bleve.NewSearchRequestOptions(q, len(items), 0, false)
		res, err := ix.idx.Search(req)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, h := range res.Hits {
			out = append(out, h.ID)
		}
		return out
	}
	// want is the whole order of q's matches as Bleve finds them.
	want := func(q Query) []Hit {
		q, err := checkQuery(q)
		if err != nil {
			t.Fatal(err)
		}
		filter := filters(q)
		exact, typo := plans(q.Text)
		match := func(p *plan) ([]string, map[string]int) {
			must := slices.Clone(filter)
			scores := map[string]int{}
			if p != nil {
				m, fields := textQueries(p, ix.analyser())
				must = append(must, m)
				for i, fq := range fields {
					for _, id := range all(fq) {
						scores[id] += fieldWeights[scoredFields[i]]
					}
				}
			}
			root := conj(must)
			if root == nil {
				root = bleve.NewMatchAllQuery()
			}
			return all(root), scores
		}
		ids, scores := match(exact)
		if len(ids) == 0 && typo != nil {
			ids, scores = match(typo)
		}
		var hits []Hit
		for _, id := range ids {
			r, ok := ix.store.item(id)
			if !ok {
				t.Fatalf("Bleve matched %s, which the store does not hold", id)
			}
			hits = append(hits, Hit{Item: ix.store.decode(r, &lists{}), Score: scores[id]})
		}
		slices.SortFunc(hits, func(a, b Hit) int {
			return cmp.Or(cmp.Compare(b.Score, a.Score), cmp.Compare(b.Item.Rating, a.Item.Rating),
				strings.Compare(a.Item.Ref().Key(), b.Item.Ref().Key()))
		})
		return hits
	}
	for _, q := range []Query{
		{Text: "cheddar"},
		{Text: "cheddar", City: "City 2"},
		{Text: "organic milk"},
		{Text: "organic milk", Kinds: []Kind{KindStore}},
		{Text: "chedar"},
		{Text: "dairy tea", Category: "dairy"},
		{},
		{City: "City 3"},
		{Kinds: []Kind{KindProduct}},
		{City: "City 1", Category: "bakery"},
	} {
		for _, first := range []int{1, 7, 60} {
			t.Run(fmt.Sprintf("%q city=%q kinds=%v category=%q first=%d", q.Text, q.City, q.Kinds, q.Category, first), func(t *testing.T) {
				q := q
				whole := want(q)
				q.First = first
				var got []Hit
				for page := 0; page < 4; page++ {
					p := mustSearch(t, ix, q)
					if p.Total != min(len(whole), MaxMatches) {
						t.Fatalf("page %d: total %d, want %d", page, p.Total, min(len(whole), MaxMatches))
					}
					got = append(got, p.Hits...)
					if p.NextCursor == "" {
						break
					}
					q.After = p.NextCursor
				}
				if len(whole) > len(got) {
					whole = whole[:len(got)]
				}
				if testing.Verbose() {
					for i := range min(len(got), 5) {
						t.Logf("got %s %d %v want %s %d %v", got[i].Item.Ref().Key(), got[i].Score, got[i].Item.Rating, whole[i].Item.Ref().Key(), whole[i].Score, whole[i].Item.Rating)
					}
				}
				if len(got) == 0 && len(whole) != 0 {
					t.Fatal("no hits")
				}
				for i := range whole {
					if got[i].Item.Ref().Key() != whole[i].Item.Ref().Key() || got[i].Score != whole[i].Score {
						t.Fatalf("hit %d: got %s score %d, want %s score %d", i, got[i].Item.Ref().Key(), got[i].Score,
							whole[i].Item.Ref().Key(), whole[i].Score)
					}
				}
				if len(got) != min(len(whole), 4*first) && len(got) != len(whole) {
					t.Fatalf("got %d hits, want %d", len(got), len(whole))
				}
			})
		}
	}
}

// TestBroadBrowseTotalIsCapped: a browse past MaxMatches items reports
// MaxMatches (as PostgreSQL does) and still pages the best rated first.
func TestBroadBrowseTotalIsCapped(t *testing.T) {
	ix, err := NewMemory()
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	items := benchItems(MaxMatches+500, 11)
	mustApply(t, ix, Batch{Upserts: items})
	best := 0.0
	for _, it := range items {
		best = max(best, it.Rating)
	}
	q := Query{Kinds: []Kind{KindProduct}, First: 50}
	seen := map[string]bool{}
	last := best
	for page := range 3 {
		p := mustSearch(t, ix, q)
		if p.Total != MaxMatches || len(p.Hits) != 50 {
			t.Fatalf("page %d: total %d, %d hits; want %d and 50", page, p.Total, len(p.Hits), MaxMatches)
		}
		if page == 0 && p.Hits[0].Item.Rating != best {
			t.Errorf("first hit rated %v, want the best %v", p.Hits[0].Item.Rating, best)
		}
		for _, h := range p.Hits {
			if seen[h.Item.ID] || h.Item.Rating > last {
				t.Fatalf("page %d: %s (rated %v) repeated or out of order after %v", page, h.Item.ID, h.Item.Rating, last)
			}
			seen[h.Item.ID], last = true, h.Item.Rating
		}
		q.After = p.NextCursor
	}
}
