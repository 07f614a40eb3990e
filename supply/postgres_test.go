package supply

import (
	"context"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/plaza-gateway/plaza/directory/pgtest"
	"github.com/plaza-gateway/plaza/pgmigrate"
)

// openPostgres returns a migrated index in a database of the test's own.
func openPostgres(t *testing.T) *Postgres {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), pgtest.DatabaseURL(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	if _, err := Migrate(context.Background(), pool); err != nil {
		t.Fatal(err)
	}
	return NewPostgres(pool)
}

func TestPostgresContract(t *testing.T) {
	runContract(t, func(t *testing.T) Index { return openPostgres(t) })
}

// A query that names a city reads that city's postings from the
// city-qualified keys (migration 00003), never a scan of every city's
// matches.
func TestPostgresCityQueryUsesTheCityIndex(t *testing.T) {
	ix := openPostgres(t)
	// A country: 40 cities, words spread over the catalogue, so that the
	// planner's statistics make both the city and the words selective.
	words := []string{"milk", "bread", "cheddar", "rice", "tea", "apple", "tofu", "lamb", "noodles", "coffee"}
	var items []Item
	for i := range 4000 {
		it := product("p", fmt.Sprintf("p-%d", i), words[i%len(words)]+" "+words[(i/10)%len(words)], 1)
		it.Category, it.Cities = fmt.Sprintf("aisle %d", i%7), []string{fmt.Sprintf("City %d", i%40)}
		items = append(items, it)
	}
	mustApply(t, ix, Batch{Upserts: items})
	if _, err := ix.pool.Exec(ctx, "ANALYZE supply_items"); err != nil {
		t.Fatal(err)
	}
	exact, typo := plans("milk")
	inCity := &sqlQuery{}
	inCity.filters(Query{City: "City 7"})
	inCity.text(exact)
	_, typoPlan := plans("chedar")
	typoPlan, err := ix.expand(ctx, typoPlan)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(typoPlan.concepts[0], "cheddar") {
		t.Fatalf("chedar expands to %q, want cheddar among them", typoPlan.concepts[0])
	}
	expanded := &sqlQuery{}
	expanded.filters(Query{City: "City 7"})
	expanded.text(typoPlan)
	if typo, err = ix.expand(ctx, typo); err != nil {
		t.Fatal(err)
	}
	typoWords := &sqlQuery{}
	typoWords.filters(Query{City: "City 7"})
	typoWords.text(typo)
	category := &sqlQuery{}
	category.filters(Query{City: "City 7", Category: "Aisle 3", Kinds: []Kind{KindProduct}})
	tests := []struct {
		name  string
		q     *sqlQuery
		index string
		cond  string
	}{
		{"words in a city", inCity, "supply_items_city_keys", "supply_city_keys(cities, tsv, category_key, kind) @>"},
		{"a typo in a city: its expansions' keys", expanded, "supply_items_city_keys", "supply_city_keys(cities, tsv, category_key, kind) @>"},
		{"a word's typo pass in a city: its words and expansions", typoWords, "supply_items_city_keys", "supply_city_keys(cities, tsv, category_key, kind) @>"},
		{"a category in a city", category, "supply_items_city_keys", "supply_city_keys(cities, tsv, category_key, kind) &&"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plan, cond := explainIndexConds(t, ctx, ix.pool, "SELECT id FROM "+tt.q.from()+" WHERE "+strings.Join(tt.q.where, " AND "), tt.q.args...)
			// Only city-qualified keys are read from an index: no index
			// of the country's words or categories.
			if cond == "" || !strings.Contains(plan, tt.index) || strings.Contains(plan, "Seq Scan") ||
				!strings.Contains(cond, tt.cond) || strings.Contains(cond, "tsv @@") ||
				strings.Contains(cond, "category_key =") {
				t.Errorf("plan does not read %s by the city's keys alone:\n%s", tt.index, plan)
			}
		})
	}
}

// A typo pass in a city of words outside ASCII: the vocabulary holds
// them, so a letter dropped still finds the word.
func TestPostgresCityTypoOutsideASCII(t *testing.T) {
	ix := openPostgres(t)
	mustApply(t, ix, Batch{Upserts: []Item{product("a", "p-1", "Crème brûlée", 1), product("a", "p-2", "Whole milk", 1)}})
	for _, text := range []string{"brûlé", "crèmes milk", "brûlée"} {
		if _, err := ix.Search(ctx, Query{Text: text, City: "Hangzhou"}); err != nil {
			t.Errorf("%q in a city: %v", text, err)
		}
	}
	for _, text := range []string{"brûlée", "brûlé", "brlée"} {
		if p := mustSearch(t, ix, Query{Text: text, City: "Hangzhou"}); len(p.Hits) != 1 {
			t.Errorf("%s in a city: %d hits, want 1", text, len(p.Hits))
		}
	}
}

// indexNames lists supply_items' indexes, the primary key's included.
func indexNames(t *testing.T, ix *Postgres) []string {
	t.Helper()
	rows, err := ix.pool.Query(ctx, `SELECT indexdef FROM pg_indexes WHERE tablename IN ('supply_items', 'supply_item_places') ORDER BY indexname`)
	if err != nil {
		t.Fatal(err)
	}
	defs, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return defs
}

// source yields batches, then nil.
func source(batches ...[]Item) func() ([]Item, error) {
	return func() ([]Item, error) {
		if len(batches) == 0 {
			return nil, nil
		}
		b := batches[0]
		batches = batches[1:]
		return b, nil
	}
}

func TestPostgresLoad(t *testing.T) {
	ix := openPostgres(t)
	before := indexNames(t, ix)
	var first, second []Item
	for i := range 300 {
		it := product("load", fmt.Sprintf("p-%d", i), fmt.Sprintf("organic milk %d", i), 2)
		if i < 150 {
			first = append(first, it)
		} else {
			second = append(second, it)
		}
	}
	bad := product("load", "no-name", "", 1)

	t.Run("into an empty index: copied in bulk, its indexes built again as they were", func(t *testing.T) {
		res, err := ix.Load(ctx, source(first, []Item{bad}, second))
		if err != nil {
			t.Fatal(err)
		}
		if want := (LoadResult{Indexed: 300, Rejected: 1, Bulk: true}); res != want {
			t.Fatalf("load: %+v, want %+v", res, want)
		}
		if after := indexNames(t, ix); strings.Join(after, "\n") != strings.Join(before, "\n") {
			t.Fatalf("indexes after the load:\n%s\nwant:\n%s", strings.Join(after, "\n"), strings.Join(before, "\n"))
		}
		page, err := ix.Search(ctx, Query{Text: "milk", City: "Hangzhou", First: 5})
		if err != nil || page.Total != 300 || len(page.Hits) != 5 {
			t.Fatalf("search after the load: %d hits of %d, %v", len(page.Hits), page.Total, err)
		}
		// A browse in the city reads the places the load filled.
		page, err = ix.Search(ctx, Query{City: "Hangzhou", First: 5})
		if err != nil || page.Total != 300 || len(page.Hits) != 5 {
			t.Fatalf("browse after the load: %d hits of %d, %v", len(page.Hits), page.Total, err)
		}
	})
	t.Run("into an index that holds items: applied, older versions superseded", func(t *testing.T) {
		newer := product("load", "p-1", "organic milk renamed", 3)
		older := product("load", "p-2", "stale milk", 1)
		fresh := product("load", "p-new", "fresh milk", 1)
		res, err := ix.Load(ctx, source([]Item{newer, older, fresh, bad}))
		if err != nil {
			t.Fatal(err)
		}
		if want := (LoadResult{Indexed: 2, Superseded: 1, Rejected: 1}); res != want {
			t.Fatalf("load: %+v, want %+v", res, want)
		}
		page, err := ix.Search(ctx, Query{Text: "renamed"})
		if err != nil || len(page.Hits) != 1 || page.Hits[0].Item.ID != "p-1" {
			t.Fatalf("the newer version is not searchable: %+v, %v", page.Hits, err)
		}
		// The places' trigger is enabled again after the bulk load: the
		// new item is browsable.
		if page, err = ix.Search(ctx, Query{City: "Hangzhou", First: 5}); err != nil || page.Total != 301 {
			t.Fatalf("browse after the second load: %d items, %v", page.Total, err)
		}
	})
	t.Run("indexes built on parallel connections: the same indexes, the same answers", func(t *testing.T) {
		ix := openPostgres(t)
		res, err := ix.load(ctx, source(first, []Item{bad}, second), 3)
		if err != nil {
			t.Fatal(err)
		}
		if want := (LoadResult{Indexed: 300, Rejected: 1, Bulk: true}); res != want {
			t.Fatalf("load: %+v, want %+v", res, want)
		}
		if after := indexNames(t, ix); strings.Join(after, "\n") != strings.Join(before, "\n") {
			t.Fatalf("indexes after the load:\n%s\nwant:\n%s", strings.Join(after, "\n"), strings.Join(before, "\n"))
		}
		page, err := ix.Search(ctx, Query{Text: "milk", City: "Hangzhou", First: 5})
		if err != nil || page.Total != 300 || len(page.Hits) != 5 {
			t.Fatalf("search after the load: %d hits of %d, %v", len(page.Hits), page.Total, err)
		}
		dup := product("load", "twice", "twice milk", 1)
		if _, err := openPostgres(t).load(ctx, source([]Item{dup, dup}), 3); err == nil {
			t.Fatal("a load with one item twice succeeded")
		}
	})
	t.Run("a duplicate item in a bulk load fails it whole, the index as it was", func(t *testing.T) {
		ix := openPostgres(t)
		dup := product("load", "twice", "twice milk", 1)
		if _, err := ix.Load(ctx, source([]Item{dup, dup})); err == nil {
			t.Fatal("a load with one item twice succeeded")
		}
		if after := indexNames(t, ix); strings.Join(after, "\n") != strings.Join(before, "\n") {
			t.Fatalf("indexes after the failed load:\n%s", strings.Join(after, "\n"))
		}
		if page, err := ix.Search(ctx, Query{Text: "twice"}); err != nil || page.Total != 0 {
			t.Fatalf("after the failed load: %d items, %v", page.Total, err)
		}
	})
}

// The vocabulary's words and variants (migration 00006) are those Go
// makes of the same doc and word (docWords, variants): the query looks up
// Go's variants of a term among SQL's variants of the words.
func TestPostgresVocabularyAgreesWithGo(t *testing.T) {
	ix := openPostgres(t)
	docs := []string{
		"whole milk . dairy",
		"crème brûlée, l’eau; 北京烤鸭 free-range 2x",
		"  leading and trailing  ",
		"",
		"...",
		"upper ABC splits x-ray a1b2",
		"naïve café — déjà vu",
		"supercalifragilisticexpialidocious1234 " + strings.Repeat("z", 32) + " " + strings.Repeat("y", 33),
		"tab\tnew\nline and_underscore",
		"emoji 🍰cake ß",
	}
	for _, doc := range docs {
		var got []string
		if err := ix.pool.QueryRow(ctx, `SELECT coalesce(array_agg(w), '{}') FROM supply_doc_words($1) AS w`, doc).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if want := docWords(doc); !slices.Equal(got, want) && len(got)+len(want) > 0 {
			t.Errorf("words of %q: SQL %q, Go %q", doc, got, want)
		}
		for _, w := range docWords(doc) {
			var got []string
			if err := ix.pool.QueryRow(ctx, `SELECT array_agg(v) FROM supply_variants($1) AS v`, w).Scan(&got); err != nil {
				t.Fatal(err)
			}
			if want := variants(w); !slices.Equal(sorted(got), sorted(want)) {
				t.Errorf("variants of %q: SQL %q, Go %q", w, sorted(got), sorted(want))
			}
		}
	}
}

// Every word one edit from a vocabulary word (a letter dropped, doubled,
// replaced or added) expands to it, and a word two edits away (letters
// swapped) does not: what Bleve's FuzzyQuery of fuzziness 1 finds.
func TestPostgresTypoExpandsToTheWord(t *testing.T) {
	ix := openPostgres(t)
	v := &scaleVocabulary
	var words []string
	for _, l := range [][]string{v.productWords, v.productNouns, v.aisles, v.specialties, v.practices, v.services, scaleSurnames} {
		words = append(words, l...)
	}
	var items []Item
	for i, w := range words {
		items = append(items, product("v", fmt.Sprintf("p-%d", i), w, 1))
	}
	mustApply(t, ix, Batch{Upserts: items})
	tested := 0
	for _, w := range words {
		w = docWords(strings.ToLower(w))[0]
		var typos []string
		for i := 1; i < len(w)-1; i++ {
			typos = append(typos, w[:i]+w[i+1:], w[:i]+w[i:i+1]+w[i:], w[:i]+"x"+w[i+1:], w[:i]+"q"+w[i:])
		}
		for _, typo := range typos {
			if !fuzzyTerm(typo) || typo == w {
				continue
			}
			tested++
			pl, err := ix.expand(ctx, &plan{concepts: [][]string{{typo}}, fuzzy: true})
			if err != nil {
				t.Fatal(err)
			}
			if got := pl.concepts[0]; !slices.Contains(got, w) {
				t.Errorf("%q expands to %q, want %q among them", typo, got[1:], w)
			}
		}
		if len(w) >= 5 {
			swapped := w[:1] + w[2:3] + w[1:2] + w[3:]
			if swapped == w {
				continue
			}
			pl, err := ix.expand(ctx, &plan{concepts: [][]string{{swapped}}, fuzzy: true})
			if err != nil {
				t.Fatal(err)
			}
			if slices.Contains(pl.concepts[0][1:], w) {
				t.Errorf("%q (two edits) expands to %q", swapped, w)
			}
		}
	}
	if tested < 100 {
		t.Fatalf("only %d typos: the test checks little", tested)
	}
}

// A word pushed through Apply, or loaded in bulk, is typo-searchable at
// once: the vocabulary is filled in the same transaction.
func TestPostgresVocabularyFilledByApplyAndLoad(t *testing.T) {
	vocabulary := func(t *testing.T, ix *Postgres) (words, vs int) {
		t.Helper()
		if err := ix.pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM supply_words), (SELECT count(*) FROM supply_word_variants)`).Scan(&words, &vs); err != nil {
			t.Fatal(err)
		}
		return words, vs
	}
	// expect is the vocabulary's size for items: Go's words and variants.
	expect := func(items []Item) (words, vs int) {
		set := wordSet{}
		for i := range items {
			set.add(itemRow(&items[i])[22].(string))
		}
		for w := range set {
			vs += len(variants(w))
		}
		return len(set), vs
	}
	items := []Item{product("a", "p-1", "Marzipan Stollen", 1), product("a", "p-2", "Gruyère fondue", 1)}
	items[1].Description = "Melted cheese, for two."
	check := func(t *testing.T, ix *Postgres) {
		t.Helper()
		if w, v := vocabulary(t, ix); w == 0 {
			t.Fatal("an empty vocabulary")
		} else if ew, ev := expect(items); w != ew || v != ev {
			t.Errorf("vocabulary of %d words, %d variants; want %d, %d", w, v, ew, ev)
		}
		for _, tt := range []struct{ text, city, want string }{
			{"marzipam", "", "p-1"}, {"stolen", "Hangzhou", "p-1"}, {"gruyere", "", "p-2"}, {"fonde", "Hangzhou", "p-2"},
			{"mellted", "", "p-2"},
		} {
			if got := ids(mustSearch(t, ix, Query{Text: tt.text, City: tt.city})); !slices.Equal(got, []string{tt.want}) {
				t.Errorf("%q in %q: %v, want %s", tt.text, tt.city, got, tt.want)
			}
		}
	}
	t.Run("apply", func(t *testing.T) {
		ix := openPostgres(t)
		mustApply(t, ix, Batch{Upserts: items})
		check(t, ix)
		// Pushed again, and deleted: the words stay (a stale word only
		// expands a typo to a phrase that matches nothing).
		mustApply(t, ix, Batch{Upserts: items[:1]})
		mustApply(t, ix, Batch{Deletes: []Ref{{Provider: "a", Kind: KindProduct, ID: "p-2", Version: 2}}})
		if got := mustSearch(t, ix, Query{Text: "fonde"}); len(got.Hits) != 0 {
			t.Errorf("a deleted item's word found: %v", ids(got))
		}
		if w, _ := vocabulary(t, ix); w != func() int { w, _ := expect(items); return w }() {
			t.Errorf("%d words after a delete", w)
		}
	})
	t.Run("load", func(t *testing.T) {
		ix := openPostgres(t)
		res, err := ix.Load(ctx, source(items))
		if err != nil || !res.Bulk {
			t.Fatalf("load: %+v, %v", res, err)
		}
		check(t, ix)
	})
	t.Run("migrated down past 00006 and up again: backfilled, deleted items' words left out", func(t *testing.T) {
		ix := openPostgres(t)
		mustApply(t, ix, Batch{Upserts: append(slices.Clone(items), product("a", "gone", "Zabaglione", 1))})
		mustApply(t, ix, Batch{Deletes: []Ref{{Provider: "a", Kind: KindProduct, ID: "gone", Version: 2}}})
		sub, err := fs.Sub(migrations, "migrations")
		if err != nil {
			t.Fatal(err)
		}
		m, err := pgmigrate.New(ix.pool, sub, migrationTable, migrationLockID)
		if err != nil {
			t.Fatal(err)
		}
		defer m.Close()
		if _, err := m.DownTo(ctx, 5); err != nil {
			t.Fatal(err)
		}
		var tables int
		if err := ix.pool.QueryRow(ctx, `SELECT count(*) FROM pg_tables WHERE tablename LIKE 'supply_word%'`).Scan(&tables); err != nil || tables != 0 {
			t.Fatalf("%d vocabulary tables after 00006's Down, %v", tables, err)
		}
		if defs := strings.Join(indexNames(t, ix), "\n"); !strings.Contains(defs, "supply_items_trgm") || !strings.Contains(defs, "supply_items_city_trigrams") {
			t.Fatalf("00007's Down did not build the trigram indexes again:\n%s", defs)
		}
		if _, err := m.Up(ctx); err != nil {
			t.Fatal(err)
		}
		if defs := strings.Join(indexNames(t, ix), "\n"); strings.Contains(defs, "trgm") || strings.Contains(defs, "trigram") {
			t.Fatalf("trigram indexes after 00007:\n%s", defs)
		}
		check(t, ix)
	})
}

// A text query walks the rank-tier keys (migration 00005 across the
// country, 00009 in a city) and scores exactly the first MaxCandidates of
// its matches in the tier order, as reading every match and sorting them
// would: whatever the words, the city, the category or the kinds, and
// only because the walk reads every group that holds one of them (one
// group fewer answers otherwise).
func TestPostgresTierWalk(t *testing.T) {
	ix := openPostgres(t)
	// More matches than MaxCandidates, over every rating of one decimal
	// from 3.0 to 5.0, so the walk stops inside the order.
	nouns := []string{"milk", "milk", "milk", "bread", "tea"}
	adjectives := []string{"whole", "skimmed", "organic"}
	var items []Item
	for i := range 4000 {
		it := product(fmt.Sprintf("p%d", i%97), fmt.Sprintf("p-%d", i), adjectives[i%3]+" "+nouns[i%5], 1)
		it.Rating = 3 + float64(i%21)/10
		it.Category = []string{"Dairy", "Bakery"}[(i/5)%2]
		// Every item is also in the capital, which then holds more
		// matches than MaxCandidates.
		it.Cities = []string{fmt.Sprintf("City %d", i%40), "Capital"}
		if i%7 == 0 {
			it.Kind = KindStore
		}
		items = append(items, it)
	}
	mustApply(t, ix, Batch{Upserts: items})
	if _, err := ix.pool.Exec(ctx, "ANALYZE supply_items"); err != nil {
		t.Fatal(err)
	}
	// brute is the candidates read from every match, no tier key, and the
	// tier group of the last of them.
	brute := func(t *testing.T, q Query) (keys []string, last int) {
		var s sqlQuery
		s.filters(q)
		exact, _ := plans(q.Text)
		s.text(exact)
		rows, err := ix.pool.Query(ctx, "SELECT key, supply_tier_group(supply_tier(rating, key)) FROM "+s.from()+" WHERE "+
			strings.Join(s.where, " AND ")+fmt.Sprintf(" ORDER BY supply_tier(rating, key), rating DESC, key LIMIT %d", MaxCandidates), s.args...)
		if err != nil {
			t.Fatal(err)
		}
		var key string
		if _, err := pgx.ForEachRow(rows, []any{&key, &last}, func() error { keys = append(keys, key); return nil }); err != nil {
			t.Fatal(err)
		}
		return keys, last
	}
	// differs says how Search's candidates differ from want; "" when they
	// are the same rows, in the index's order.
	differs := func(t *testing.T, q Query, want []string) string {
		q.First = MaxFirst
		page := mustSearch(t, ix, q)
		var got []string
		for _, h := range page.Hits {
			got = append(got, h.Item.Ref().Key())
		}
		if !slices.IsSortedFunc(page.Hits, func(a, b Hit) int { return compareHits(&a, &b) }) {
			return "hits out of the index's order"
		}
		if page.Total != len(want) || !slices.Equal(sorted(got), sorted(want)) {
			return fmt.Sprintf("%d candidates (total %d), want %d; %d in common", len(got), page.Total, len(want),
				len(want)-len(slices.DeleteFunc(slices.Clone(want), func(k string) bool { return slices.Contains(got, k) })))
		}
		return ""
	}
	tests := []struct {
		name string
		q    Query
		// full: more matches than MaxCandidates.
		full bool
	}{
		{"a common word", Query{Text: "milk"}, true},
		{"two words", Query{Text: "whole milk"}, true},
		{"a word in a category", Query{Text: "milk", Category: "dairy"}, true},
		{"a word of some kinds", Query{Text: "milk", Kinds: []Kind{KindStore}}, false},
		{"a rare word", Query{Text: "organic tea"}, false},
		{"no match", Query{Text: "zyzzyva"}, false},
		{"a common word in a city", Query{Text: "milk", City: "Capital"}, true},
		{"two words in a city", Query{Text: "whole milk", City: "capital"}, true},
		{"a word in a category in a city", Query{Text: "milk", Category: "Dairy", City: "Capital"}, true},
		{"a word of some kinds in a city", Query{Text: "milk", Kinds: []Kind{KindStore}, City: "Capital"}, false},
		{"a word in a small city", Query{Text: "milk", City: "City 3"}, false},
		{"a rare word in a city", Query{Text: "organic tea", City: "City 9"}, false},
		{"no match in a city", Query{Text: "zyzzyva", City: "Capital"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want, last := brute(t, tt.q)
			if full := len(want) == MaxCandidates; full != tt.full {
				t.Fatalf("%d matches: the case does not test what it says", len(want))
			}
			if d := differs(t, tt.q, want); d != "" {
				t.Errorf("Search(%q): %s", tt.q.Text, d)
			}
			if len(want) == 0 {
				return
			}
			// The walk stopped before the group of the last candidate.
			defer func(g int) { tierGroups = g }(tierGroups)
			tierGroups = last
			if d := differs(t, tt.q, want); d == "" {
				t.Errorf("Search(%q) with the walk stopped before group %d: the same candidates", tt.q.Text, last)
			}
		})
	}
}

// The walk reads the tier keys' index, not a word's list of the country.
func TestPostgresTierWalkUsesTheTierIndexes(t *testing.T) {
	ix := openPostgres(t)
	words := []string{"milk", "bread", "cheddar", "rice", "tea", "apple", "tofu", "lamb", "noodles", "coffee"}
	var items []Item
	for i := range 4000 {
		it := product("p", fmt.Sprintf("p-%d", i), words[i%len(words)]+" "+words[(i/10)%len(words)], 1)
		it.Rating = float64(i%51) / 10
		it.Cities = []string{[]string{"Hangzhou", "Shanghai", "Chengdu"}[i%3]}
		items = append(items, it)
	}
	mustApply(t, ix, Batch{Upserts: items})
	if _, err := ix.pool.Exec(ctx, "ANALYZE supply_items"); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		q    Query
		// typo: the typo pass, its expansions words of the vocabulary.
		typo bool
		// index and the functions of its conditions, category: a
		// condition on the category's keys.
		index, words, terms string
		category            bool
	}{
		{"across the country", Query{Text: "milk tea", Category: "Dairy"}, false,
			"supply_items_tier_keys", "supply_tier_words(tier_group", "supply_tier_terms(tier_group", true},
		{"a typo across the country", Query{Text: "chedar"}, true,
			"supply_items_tier_keys", "supply_tier_words(tier_group", "", false},
		{"in a city", Query{Text: "milk tea", Category: "Dairy", City: "Hangzhou"}, false,
			"supply_items_city_tier_keys", "supply_city_tier_words(tier_group", "supply_city_tier_terms(tier_group", true},
		{"a typo in a city", Query{Text: "chedar", City: "Hangzhou"}, true,
			"supply_items_city_tier_keys", "supply_city_tier_words(tier_group", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pl, typo := plans(tt.q.Text)
			if tt.typo {
				var err error
				if pl, err = ix.expand(ctx, typo); err != nil {
					t.Fatal(err)
				}
			}
			src, w := walked(tt.q, pl)
			if w == nil {
				t.Fatal("no walk")
			}
			plan, cond := explainIndexConds(t, ctx, ix.pool, "SELECT id FROM "+src, w.args...)
			bad := !strings.Contains(plan, tt.index+" ") || strings.Contains(plan, "Seq Scan on supply_items") ||
				!strings.Contains(cond, tt.words) || strings.Contains(cond, "tsv @@") || strings.Contains(cond, "category_key =") ||
				strings.Contains(cond, "cities @>") || strings.Contains(plan, "supply_city_keys(")
			if tt.category {
				bad = bad || !strings.Contains(cond, tt.terms)
			}
			if bad {
				t.Errorf("the walk does not read %s by the group's keys alone:\n%s", tt.index, plan)
			}
		})
	}
	if page := mustSearch(t, ix, Query{Text: "chedar"}); page.Total != 760 {
		t.Errorf("chedar: %d matches, want cheddar's 760", page.Total)
	}
	if page := mustSearch(t, ix, Query{Text: "chedar", City: "Chengdu"}); page.Total != 255 {
		t.Errorf("chedar in Chengdu: %d matches, want cheddar's 255", page.Total)
	}
}

// explainIndexConds returns the plan of query with sequential scans
// disabled, and its Index Cond lines (empty when no index is read). At a
// test's size a sequential read is cheapest; the question is which index
// serves the query when the table is a country.
func explainIndexConds(t *testing.T, ctx context.Context, pool *pgxpool.Pool, query string, args ...any) (plan, cond string) {
	t.Helper()
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, "SET LOCAL enable_seqscan = off"); err != nil {
		t.Fatal(err)
	}
	rows, err := tx.Query(ctx, "EXPLAIN "+query, args...)
	if err != nil {
		t.Fatal(err)
	}
	lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	var conds []string
	for _, l := range lines {
		if strings.Contains(l, "Index Cond") {
			conds = append(conds, l)
		}
	}
	return strings.Join(lines, "\n"), strings.Join(conds, "\n")
}

// A browse in a city reads the items' places (migration 00008): every
// page, its cursor and the total are those of the embedded index, whose
// order is the contract, over ratings with many ties, several kinds,
// categories and many-city items, after updates and deletes that the
// trigger must carry over; and a page and a count read a places index.
func TestPostgresCityBrowse(t *testing.T) {
	pg := openPostgres(t)
	mem, err := NewMemory()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { mem.Close() })
	var items []Item
	for i := range 1500 {
		it := product(fmt.Sprintf("p%d", i%13), fmt.Sprintf("i-%04d", i), "Item", 1)
		it.Rating = 3 + float64(i%67)/33 // 3.0 to 5.0, several ratings a band, ties across providers
		if i%5 == 0 {
			it.Rating = 4.5 // a band of many ties, broken by key
		}
		it.Category = []string{"Dairy", "Bakery", "Produce"}[(i/3)%3]
		it.Cities = []string{[]string{"Hangzhou", "Shanghai", "Beijing"}[i%3]}
		if i%11 == 0 {
			it.Cities = append(it.Cities, "Chengdu")
		}
		if i%4 == 0 {
			it.Kind, it.Category = KindStore, ""
		}
		it.Price = int64(100 + i%50*10)
		items = append(items, it)
	}
	// Then changes the places must follow: a new rating, city, category
	// or price; a new name only (places unchanged); a city listed twice;
	// deletes.
	var changes Batch
	for i := 0; i < len(items); i += 7 {
		it := items[i]
		it.Version = 2
		switch i % 5 {
		case 0:
			it.Rating = 5 - it.Rating/2
		case 1:
			it.Cities = []string{"Shanghai", "shanghai", "Chengdu"}
		case 2:
			it.Category = "Dairy"
		case 3:
			it.Price += 150
		case 4:
			it.Name = "Renamed"
		}
		changes.Upserts = append(changes.Upserts, it)
	}
	for i := 3; i < len(items); i += 10 {
		changes.Deletes = append(changes.Deletes, Ref{Provider: items[i].Provider, Kind: items[i].Kind, ID: items[i].ID, Version: 3})
	}
	for _, ix := range []Index{pg, mem} {
		mustApply(t, ix, Batch{Upserts: items})
		mustApply(t, ix, changes)
	}
	if _, err := pg.pool.Exec(ctx, "VACUUM ANALYZE supply_items, supply_item_places"); err != nil {
		t.Fatal(err)
	}
	lo, hi := int64(200), int64(400)
	tests := []struct {
		name string
		q    Query
	}{
		{"a city", Query{City: "Hangzhou"}},
		{"a category in a city", Query{City: "Shanghai", Category: "dairy"}},
		{"a category of a kind in a city", Query{City: "Beijing", Category: "Produce", Kinds: []Kind{KindProduct}}},
		{"a kind in a city", Query{City: "Hangzhou", Kinds: []Kind{KindStore}}},
		{"kinds of a vertical in a many-city item's city", Query{City: "Chengdu", Verticals: []Vertical{"GROCERY"}}},
		{"by rating", Query{City: "Shanghai", Sort: SortRating}},
		{"priced", Query{City: "Hangzhou", MinPrice: &lo, MaxPrice: &hi}},
		{"a kind of another vertical", Query{City: "Hangzhou", Kinds: []Kind{KindDoctor}}},
		{"a city without items", Query{City: "Lhasa", Category: "dairy"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var pages int
			pgq, memq := tt.q, tt.q
			pgq.First, memq.First = 40, 40
			for {
				got, want := mustSearch(t, pg, pgq), mustSearch(t, mem, memq)
				if !slices.Equal(ids(got), ids(want)) || got.Total != want.Total || (got.NextCursor == "") != (want.NextCursor == "") {
					t.Fatalf("page %d: %d hits %v… total %d, want %d hits %v… total %d", pages, len(got.Hits), head(ids(got)), got.Total,
						len(want.Hits), head(ids(want)), want.Total)
				}
				pages++
				if got.NextCursor == "" {
					break
				}
				pgq.After, memq.After = got.NextCursor, want.NextCursor
			}
			if none := tt.q.City == "Lhasa" || slices.Contains(tt.q.Kinds, KindDoctor); none == (pages > 1) {
				t.Errorf("%d page: the case does not page", pages)
			}
		})
	}
	// The page and the count read one range of a places index.
	for _, q := range []Query{{City: "Shanghai", Category: "dairy"}, {City: "Shanghai", Kinds: []Kind{KindStore}}} {
		s := sqlQuery{browse: true}
		s.filters(q)
		page := s.browsePage(strings.Join(s.where, " AND "), "0::float8", "", 21)
		count, args := s.browseCount(q)
		for _, st := range []struct {
			sql  string
			args []any
		}{{page, s.args}, {count, args}} {
			plan, cond := explainIndexConds(t, ctx, pg.pool, st.sql, st.args...)
			if !strings.Contains(plan, "supply_item_places_") || !strings.Contains(cond, "city =") {
				t.Errorf("%+v does not read a places index by city:\n%s", q, plan)
			}
		}
	}
}

// head is the first few of ids, for a failure's message.
func head(ids []string) []string { return ids[:min(len(ids), 5)] }
