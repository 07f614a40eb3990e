package supply

import (
	"fmt"
	"slices"
	"testing"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/search/query"
)

// TestPostingsMatchBleveSearchers: over a compacted index whose chunks
// have deleted documents and a segment written since, the postings the
// sorted walks read (postingsOf) find the same documents as Bleve's
// searchers for the same query, walked with next alone and with advance
// jumps of several lengths, across segment boundaries.
func TestPostingsMatchBleveSearchers(t *testing.T) {
	ix, err := NewMemory()
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	ix.head = 16 // chunks of 16 to 1024 items
	items := benchItems(2_000, 11)
	for i := range items {
		if i%4 == 1 {
			items[i].Kind = KindStore
		}
	}
	mustApply(t, ix, Batch{Upserts: items})
	if err := ix.Compact(ctx); err != nil {
		t.Fatal(err)
	}
	// Written again: their documents in the chunks are deleted, and the
	// new ones go to a segment after them.
	var again []Item
	for i := 0; i < len(items); i += 9 {
		it := items[i]
		it.Version = 2
		it.Name += " oat"
		again = append(again, it)
	}
	mustApply(t, ix, Batch{Upserts: again})

	r, release, err := ix.reader()
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	col := &collector{ctx: ctx, m: ix, r: r}
	col.spans()
	if col.sortedEnd == 0 || len(col.segs) < 8 {
		t.Fatalf("%d segments, chunks up to %d: want Compact's chunks and one more", len(col.segs), col.sortedEnd)
	}

	_, milk := textQueries(&plan{concepts: [][]string{{"milk", "dairy"}}}, ix.analyser())
	match, _ := textQueries(&plan{concepts: [][]string{{"oat"}, {"tea"}}}, ix.analyser())
	_, typo := textQueries(&plan{concepts: [][]string{{"chedar"}}, fuzzy: true}, ix.analyser())
	term := func(field, v string) query.Query {
		t := bleve.NewTermQuery(v)
		t.SetField(field)
		return t
	}
	stores := filters(Query{Kinds: []Kind{KindStore}})[0]
	city := filters(Query{City: "City 7"})[0]
	cases := []struct {
		name string
		q    query.Query
		none bool // matches nothing
	}{
		{name: "a term", q: term(fName, "milk")},
		{name: "a term no segment holds", q: term(fName, "zanzibar"), none: true},
		{name: "a field of two terms", q: milk[0]},
		{name: "a description", q: milk[3]},
		{name: "the kind filter", q: stores},
		{name: "a conjunction of concepts", q: match},
		{name: "filters and a text", q: conj([]query.Query{stores, milk[0]})},
		{name: "three filters", q: conj([]query.Query{stores, term(fCategoryKey, "dairy"), milk[3]})},
		{name: "a disjunction inside a conjunction", q: conj([]query.Query{anyOf([]query.Query{city, term(fCity, "city 9")}), milk[0]})},
		{name: "a fuzzy term (Bleve's searcher)", q: typo[0]},
		{name: "match none", q: bleve.NewMatchNoneQuery(), none: true},
	}
	walk := func(p postings, step uint64) (docs []uint64) {
		defer p.close()
		doc, ok, err := p.next()
		for ; ok && err == nil; doc, ok, err = p.next() {
			docs = append(docs, doc)
			if step > 0 {
				// Jump, then go on from where the jump lands.
				if doc, ok, err = p.advance(doc + step); !ok || err != nil {
					break
				}
				docs = append(docs, doc)
			}
		}
		if err != nil {
			t.Fatal(err)
		}
		return docs
	}
	for _, c := range cases {
		for _, step := range []uint64{0, 1, 5, 300} {
			t.Run(fmt.Sprintf("%s/step %d", c.name, step), func(t *testing.T) {
				bp, err := col.searcherPostings(c.q)
				if err != nil {
					t.Fatal(err)
				}
				want := walk(bp, step)
				op, err := col.postingsOf(c.q)
				if err != nil {
					t.Fatal(err)
				}
				got := walk(op, step)
				if !slices.Equal(got, want) {
					t.Fatalf("%d documents, Bleve's searcher %d:\n%v\n%v", len(got), len(want), got, want)
				}
				if step == 0 && !c.none && len(want) == 0 {
					t.Fatal("the case matches nothing: it tests nothing")
				}
			})
		}
	}
}
