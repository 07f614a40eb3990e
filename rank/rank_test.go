package rank

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
)

// textOnly ranks by text relevance alone, with no length normalisation and
// no diversity, so scores can be computed by hand.
func textOnly() Config {
	c := DefaultConfig()
	c.NameB, c.TagB, c.BodyB = 0, 0, 0
	c.Rating, c.City, c.Popularity, c.Affinity = 0, 0, 0, 0
	c.DiversityPage = 0
	return c
}

func ids(docs []Doc, rs []Result) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = docs[r.Index].ID
	}
	return out
}

func TestBM25(t *testing.T) {
	// idf for a term in 3 of 4 candidates: ln(1 + (4-3+0.5)/(3+0.5)).
	idf3of4 := math.Log(1 + 1.5/3.5)
	// One in four: ln(1 + 3.5/1.5).
	idf1of4 := math.Log(1 + 3.5/1.5)
	sat := func(tf float64) float64 { return tf * 2.2 / (tf + 1.2) } // k1 = 1.2

	corpus := []Doc{
		{ID: "a", Name: "Whole Milk"},
		{ID: "b", Name: "Oat Drink", Tags: []string{"milk alternative"}},
		{ID: "c", Name: "Cheese", Body: "Made from milk.", Tags: []string{"organic"}},
		{ID: "d", Name: "Bread"},
	}
	tests := []struct {
		name  string
		cfg   Config
		text  string
		order []string
		score []float64
	}{
		{
			name:  "weights a match in the name 3, in tags 2, in the body 1, and drops non-matches",
			cfg:   textOnly(),
			text:  "milk",
			order: []string{"a", "b", "c"},
			score: []float64{idf3of4 * sat(3), idf3of4 * sat(2), idf3of4 * sat(1)},
		},
		{
			name:  "adds the concepts and lets the rare term outweigh the common one",
			cfg:   textOnly(),
			text:  "organic milk",
			order: []string{"c", "a", "b"},
			score: []float64{idf1of4*sat(2) + idf3of4*sat(1), idf3of4 * sat(3), idf3of4 * sat(2)},
		},
		{
			name:  "ignores stop words and case and matches plurals",
			cfg:   textOnly(),
			text:  "The MILKS of",
			order: []string{"a", "b", "c"},
			score: []float64{idf3of4 * sat(3), idf3of4 * sat(2), idf3of4 * sat(1)},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rs := New(nil, tt.cfg).Rank(Query{Text: tt.text}, corpus)
			if got := ids(corpus, rs); !slices.Equal(got, tt.order) {
				t.Fatalf("order %v, want %v", got, tt.order)
			}
			for i, r := range rs {
				if math.Abs(r.Text-tt.score[i]) > 1e-9 {
					t.Errorf("%s: text score %.9f, want %.9f", tt.order[i], r.Text, tt.score[i])
				}
			}
		})
	}

	t.Run("prefers the shorter name when both match once (length normalisation)", func(t *testing.T) {
		docs := []Doc{{ID: "long", Name: "Fresh Organic Pasteurised Whole Milk"}, {ID: "short", Name: "Milk"}}
		cfg := textOnly()
		cfg.NameB = 0.3
		// avglen 3: norm(long) = 0.7 + 0.3·5/3 = 1.2, norm(short) = 0.7 + 0.3/3 = 0.8.
		idf := math.Log(1 + 0.5/2.5)
		want := []float64{idf * sat(3/0.8), idf * sat(3/1.2)}
		rs := New(nil, cfg).Rank(Query{Text: "milk"}, docs)
		if got := ids(docs, rs); !slices.Equal(got, []string{"short", "long"}) {
			t.Fatalf("order %v", got)
		}
		for i, r := range rs {
			if math.Abs(r.Text-want[i]) > 1e-9 {
				t.Errorf("text %d = %.9f, want %.9f", i, r.Text, want[i])
			}
		}
	})
}

func TestPriors(t *testing.T) {
	docs := []Doc{
		{Kind: "P", Provider: "x", ID: "1", Name: "Milk", Rating: 3, Cities: []string{"Beijing"}},
		{Kind: "P", Provider: "x", ID: "2", Name: "Milk", Rating: 5, Cities: []string{"Beijing"}},
		{Kind: "P", Provider: "x", ID: "3", Name: "Milk", Rating: 3, Cities: []string{"Hangzhou"}},
		{Kind: "P", Provider: "x", ID: "4", Name: "Milk", Rating: 3, Cities: []string{"Beijing"}, Popularity: 40},
		{Kind: "P", Provider: "x", ID: "5", Name: "Milk", Rating: 3, Cities: []string{"Beijing"}, Popularity: 10, Affinity: 1},
	}
	cfg := DefaultConfig()
	cfg.DiversityPage = 0
	rs := New(nil, cfg).Rank(Query{Text: "milk", City: "hangzhou"}, docs)
	// Equal text (1.0 each). Base rating 3/5·0.2 = 0.12. Extras: 2 +0.08
	// rating; 3 +0.15 city; 4 +0.15 popularity (40/40); 5 +0.0375 + 0.1.
	want := map[string]float64{"1": 1.12, "2": 1.2, "3": 1.27, "4": 1.27, "5": 1.2575}
	if got := ids(docs, rs); !slices.Equal(got, []string{"3", "4", "5", "2", "1"}) {
		t.Fatalf("order %v", got)
	}
	for _, r := range rs {
		if w := want[docs[r.Index].ID]; math.Abs(r.Score-w) > 1e-9 {
			t.Errorf("%s scores %v, want %v", docs[r.Index].ID, r.Score, w)
		}
	}
}

// TestPenalty: a DEMOTED provider's item loses its share of the score,
// so an equal item of a provider in good standing ranks first.
func TestPenalty(t *testing.T) {
	docs := []Doc{
		{Kind: "P", Provider: "demoted", ID: "1", Name: "Milk", Rating: 5, Penalty: 0.5},
		{Kind: "P", Provider: "good", ID: "2", Name: "Milk", Rating: 3},
	}
	cfg := DefaultConfig()
	cfg.DiversityPage = 0
	rs := New(nil, cfg).Rank(Query{Text: "milk"}, docs)
	if got := ids(docs, rs); !slices.Equal(got, []string{"2", "1"}) {
		t.Fatalf("order %v", got)
	}
	if s := rs[1].Score; math.Abs(s-0.6) > 1e-9 { // (1 + 0.2) × 0.5
		t.Fatalf("penalised score %v, want 0.6", s)
	}
}

// medicalDocs is a small candidate set shaped like the demo providers'.
func medicalDocs() []Doc {
	return []Doc{
		{Kind: "Doctor", Provider: "mediquick", ID: "d1", Name: "Dr. Li Wei", Category: "Paediatrics", Body: "Treats children's fevers, growth checks and vaccinations."},
		{Kind: "Doctor", Provider: "carepoint", ID: "d2", Name: "Dr. Zhang Min", Category: "Paediatrics", Body: "Children's Hospital."},
		{Kind: "Doctor", Provider: "mediquick", ID: "d3", Name: "Dr. Chen Jie", Category: "Cardiology", Body: "High blood pressure, chest pain."},
		{Kind: "Lawyer", Provider: "lexassist", ID: "l1", Name: "Wang Fang", Tags: []string{"Family"}, Body: "Wang Fang is a lawyer at Fang & Partners advising on divorce and child custody."},
		{Kind: "Lawyer", Provider: "justicehub", ID: "l2", Name: "Sun Hao", Tags: []string{"Labour"}, Body: "Sun Hao is a lawyer at Sun Law advising on unfair dismissal."},
		{Kind: "Product", Provider: "freshcart", ID: "p1", Name: "Whole Milk", Category: "dairy", Tags: []string{"milk", "breakfast"}},
		{Kind: "Product", Provider: "greenbasket", ID: "p2", Name: "Greek Yogurt", Category: "dairy"},
		{Kind: "Product", Provider: "greenbasket", ID: "p3", Name: "Silk Scarf", Category: "gifts"},
	}
}

func TestSynonymsAndTypos(t *testing.T) {
	docs := medicalDocs()
	cfg := DefaultConfig()
	cfg.DiversityPage = 0
	tests := []struct {
		name string
		lex  *Lexicon
		text string
		want []string // the leading results, in order
		none []string // must not be found
	}{
		{"finds paediatricians for a misspelt paediatrician", DefaultLexicon(), "paediatrcian", []string{"d2", "d1"}, []string{"d3", "l1"}},
		{"finds paediatricians for the American spelling", DefaultLexicon(), "pediatrician", []string{"d2", "d1"}, []string{"d3"}},
		{"finds paediatricians for children's doctor", DefaultLexicon(), "children's doctor", []string{"d2", "d1"}, []string{"d3"}},
		{"finds paediatricians (children's) and custody lawyers for child", DefaultLexicon(), "child", []string{"d2", "d1", "l1"}, []string{"d3", "l2"}},
		{"finds paediatricians and custody lawyers for kids", DefaultLexicon(), "kids", []string{"d2", "d1", "l1"}, []string{"d3", "l2"}},
		{"finds lawyers for attorney", DefaultLexicon(), "attorney", []string{"l2", "l1"}, []string{"d1"}},
		{"finds divorce lawyers for separation", DefaultLexicon(), "separation", []string{"l1"}, []string{"l2"}},
		{"finds milk for mlik through the lexicon", DefaultLexicon(), "mlik", []string{"p1"}, []string{"p3"}},
		{"finds milk for mlik from the candidates' own words", nil, "mlik", []string{"p1"}, []string{"p2", "p3"}},
		{"ranks the exact word above its synonym", DefaultLexicon(), "milk", []string{"p1", "p2"}, []string{"p3"}},
		{"does not fuzz a word the candidates contain", nil, "silk", []string{"p3"}, []string{"p1"}},
		{"does not fuzz words shorter than four letters", nil, "mik", nil, []string{"p1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ids(docs, New(tt.lex, cfg).Rank(Query{Text: tt.text}, docs))
			if len(got) < len(tt.want) || !slices.Equal(got[:len(tt.want)], tt.want) {
				t.Fatalf("got %v, want %v first", got, tt.want)
			}
			for _, id := range tt.none {
				if slices.Contains(got, id) {
					t.Fatalf("got %v, which includes %s", got, id)
				}
			}
		})
	}

	t.Run("scores a typo match TypoWeight of an exact one", func(t *testing.T) {
		docs := []Doc{{ID: "milk", Name: "Milk"}, {ID: "bread", Name: "Bread"}}
		r := New(nil, textOnly())
		exact, typo := r.Rank(Query{Text: "milk"}, docs), r.Rank(Query{Text: "mlik"}, docs)
		if len(exact) != 1 || len(typo) != 1 || math.Abs(typo[0].Text-textOnly().TypoWeight*exact[0].Text) > 1e-12 {
			t.Fatalf("exact %+v, typo %+v", exact, typo)
		}
	})
}

func TestRewrite(t *testing.T) {
	lex := DefaultLexicon()
	tests := []struct {
		text, want string
		ok         bool
	}{
		{"attorney", "lawyer", true},
		{"Attorney for divorce", "lawyer divorce", true},
		{"children's doctor", "paediatrics", true},
		{"kids doctor", "paediatrics", true},
		{"kids", "child", true},
		{"children", "child", false},
		{"paediatrcian", "paediatrics", true},
		{"mlik", "milk", true},
		{"identity card", "id card", true},
		{"milk", "milk", false},
		{"lawyer", "lawyer", false},
		{"qqqzzzx", "qqqzzzx", false},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("rewrites %q as %q", tt.text, tt.want), func(t *testing.T) {
			got, ok := lex.Rewrite(tt.text)
			if got != tt.want || ok != tt.ok {
				t.Fatalf("got %q %v, want %q %v", got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestWithinOne(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{"milk", "milk", true},
		{"mlik", "milk", true},  // transposition
		{"milkk", "milk", true}, // insertion
		{"mil", "milk", true},   // deletion
		{"silk", "milk", true},  // substitution
		{"milk", "mikl", true},  // transposition at the end
		{"mlki", "milk", false}, // two transpositions
		{"paediatrcian", "paediatrician", true},
		{"lawyers", "lawyer", true},
		{"lwayers", "lawyer", false}, // transposition plus deletion
		{"ab", "ba", true},
		{"abc", "cab", false},
	}
	for _, tt := range tests {
		if got := withinOne(tt.a, tt.b); got != tt.want {
			t.Errorf("withinOne(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}

// flooded is one provider with 50 slightly better milk products and another
// with 10.
func flooded() []Doc {
	var docs []Doc
	for i := range 50 {
		docs = append(docs, Doc{Kind: "Product", Provider: "big", ID: fmt.Sprintf("b%02d", i), Name: "Milk", Rating: 5})
	}
	for i := range 10 {
		docs = append(docs, Doc{Kind: "Product", Provider: "small", ID: fmt.Sprintf("s%02d", i), Name: "Milk", Rating: 4})
	}
	return docs
}

func TestDiversity(t *testing.T) {
	t.Run("a provider with 50 better items takes at most half of each page of ten", func(t *testing.T) {
		docs := flooded()
		rs := New(nil, DefaultConfig()).Rank(Query{Text: "milk"}, docs)
		if len(rs) != len(docs) {
			t.Fatalf("%d results for %d docs", len(rs), len(docs))
		}
		for block := 0; block < 2; block++ {
			n := 0
			for _, r := range rs[block*10 : block*10+10] {
				if docs[r.Index].Provider == "big" {
					n++
				}
			}
			if n != 5 {
				t.Fatalf("block %d holds %d items of big, want 5: %v", block, n, ids(docs, rs))
			}
		}
		if got := ids(docs, rs[:6]); !slices.Equal(got, []string{"b00", "b01", "b02", "b03", "b04", "s00"}) {
			t.Fatalf("first page starts %v", got)
		}
	})

	t.Run("fills with the big provider once the others run out", func(t *testing.T) {
		docs := flooded()
		rs := New(nil, DefaultConfig()).Rank(Query{Text: "milk"}, docs)
		for _, r := range rs[20:] {
			if docs[r.Index].Provider != "big" {
				t.Fatalf("small item %s after position 20", docs[r.Index].ID)
			}
		}
	})

	tests := []struct {
		name   string
		scores []float64 // provider a: even positions, b: odd (by input order)
		provs  string
		want   string
	}{
		{"keeps the order when no provider exceeds its share", []float64{9, 8, 7, 6}, "abab", "abab"},
		{"moves a comparable item of another provider up", []float64{10, 9.9, 9.8, 6}, "aaab", "aaba"},
		{"does not promote an item below the floor", []float64{10, 9.9, 9.8, 4}, "aaab", "aaab"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			docs := make([]Doc, len(tt.scores))
			rs := make([]Result, len(tt.scores))
			for i, s := range tt.scores {
				docs[i] = Doc{Provider: string(tt.provs[i])}
				rs[i] = Result{Index: i, Score: s}
			}
			out := diversify(rs, docs, 4, 2, 0.5)
			got := ""
			for _, r := range out {
				got += docs[r.Index].Provider
			}
			if got != tt.want {
				t.Fatalf("got %s, want %s", got, tt.want)
			}
		})
	}
}

func TestDeterminism(t *testing.T) {
	docs := flooded()
	docs = append(docs, medicalDocs()...)
	for i := range docs {
		docs[i].Rating = float64(i%5) + 0.5 // many ties in text, some in rating
	}
	r := New(DefaultLexicon(), DefaultConfig())
	key := func(ds []Doc, rs []Result) []string {
		out := make([]string, len(rs))
		for i, x := range rs {
			d := ds[x.Index]
			out[i] = d.Kind + "/" + d.Provider + "/" + d.ID
		}
		return out
	}
	for _, text := range []string{"milk", "", "paediatrics lawyer"} {
		t.Run(fmt.Sprintf("orders %q the same for any order of the candidates", text), func(t *testing.T) {
			want := key(docs, r.Rank(Query{Text: text}, docs))
			rng := rand.New(rand.NewPCG(1, 2))
			for range 20 {
				shuffled := slices.Clone(docs)
				rng.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
				if got := key(shuffled, r.Rank(Query{Text: text}, shuffled)); !slices.Equal(got, want) {
					t.Fatalf("order changed:\n%v\n%v", got, want)
				}
			}
			seen := map[string]bool{}
			for _, k := range want {
				if seen[k] {
					t.Fatalf("%s twice", k)
				}
				seen[k] = true
			}
		})
	}
}

func BenchmarkRank2000(b *testing.B) {
	docs := benchDocs(2000)
	r := New(DefaultLexicon(), DefaultConfig())
	q := Query{Text: "organic mlik", City: "Hangzhou"}
	b.ReportAllocs()
	for b.Loop() {
		if len(r.Rank(q, docs)) == 0 {
			b.Fatal("no results")
		}
	}
}

// benchDocs returns n grocery-like candidates of eight providers.
func benchDocs(n int) []Doc {
	words := []string{"fresh", "organic", "whole", "milk", "bread", "rice", "chicken", "apple", "tea", "coffee", "yogurt", "cheese", "noodles", "tofu"}
	docs := make([]Doc, n)
	for i := range docs {
		w := func(k int) string { return words[(i*7+k*3)%len(words)] }
		docs[i] = Doc{
			Kind: "Product", Provider: fmt.Sprintf("p%d", i%8), ID: fmt.Sprintf("%05d", i),
			Name: w(0) + " " + w(1), Category: w(2), Tags: []string{w(3), w(4) + " " + w(5)},
			Body:   "Delicious " + w(6) + " from the farm, kept chilled and delivered the same day with " + w(7) + ".",
			Cities: []string{"Hangzhou"}, Rating: float64(i%50) / 10, Popularity: float64(i % 13),
		}
	}
	return docs
}

func TestGroupDiversity(t *testing.T) {
	// Twelve products from two providers outscore three lawyers, who still
	// match well enough (at least a quarter of the products' scores).
	var docs []Doc
	var sorted []Result
	for i := range 12 {
		docs = append(docs, Doc{Kind: "Product", Provider: []string{"a", "b"}[i%2], ID: string(rune('a' + i))})
		sorted = append(sorted, Result{Index: i, Score: 10 - float64(i)*0.1})
	}
	for i := range 3 {
		docs = append(docs, Doc{Kind: "Lawyer", Provider: "law", ID: string(rune('x' + i))})
		sorted = append(sorted, Result{Index: 12 + i, Score: 3})
	}
	out := diversifyBy(sorted, docs, groupOf, 10, 7, true, 0.25)
	kinds := map[string]int{}
	for _, r := range out[:10] {
		kinds[docs[r.Index].Kind]++
	}
	if kinds["Product"] != 7 || kinds["Lawyer"] != 3 {
		t.Fatalf("first block %v, want 7 products and 3 lawyers", kinds)
	}
	if len(out) != len(sorted) {
		t.Fatalf("%d results, want %d", len(out), len(sorted))
	}
	t.Run("a browse over four verticals shows each of them in every block of ten", func(t *testing.T) {
		// Doctors and products are far more popular than the rest, so they
		// lead the sorted list; a cap of seven alone would let them fill
		// the block between them.
		var docs []Doc
		var sorted []Result
		add := func(kind string, n int, score float64) {
			for i := range n {
				docs = append(docs, Doc{Kind: kind, Provider: kind, ID: fmt.Sprint(i)})
				sorted = append(sorted, Result{Index: len(sorted), Score: score - float64(i)*0.001})
			}
		}
		add("Doctor", 20, 0.34)
		add("Product", 20, 0.29)
		add("Lawyer", 20, 0.24)
		add("GovService", 20, 0.22)
		out := diversifyBy(sorted, docs, groupOf, 10, 7, true, 0.25)
		// Blocks while every kind has items to spare; later ones fill with
		// what is left.
		for block := range 5 {
			kinds := map[string]int{}
			for _, r := range out[block*10 : block*10+10] {
				kinds[docs[r.Index].Kind]++
			}
			if len(kinds) != 4 {
				t.Fatalf("block %d holds %v, want all four kinds", block, kinds)
			}
			for k, n := range kinds {
				if n > 3 {
					t.Fatalf("block %d holds %d of %s, over the fair share of 3: %v", block, n, k, kinds)
				}
			}
		}
		if first := docs[out[0].Index]; first.Kind != "Doctor" || first.ID != "0" {
			t.Fatalf("the best item moved: first is %s %s", first.Kind, first.ID)
		}
	})
	t.Run("a kind scoring under the floor is not promoted", func(t *testing.T) {
		low := slices.Clone(sorted)
		for i := 12; i < 15; i++ {
			low[i].Score = 1 // under a quarter of every product's score
		}
		out := diversifyBy(low, docs, groupOf, 10, 7, true, 0.25)
		for _, r := range out[:10] {
			if docs[r.Index].Kind != "Product" {
				t.Fatalf("a lawyer scoring 1 was promoted into the first block")
			}
		}
	})
}

func TestPreparedParts(t *testing.T) {
	docs := flooded()
	docs = append(docs, medicalDocs()...)
	for i := range docs {
		docs[i].Rating = float64(i%5) + 0.5
	}
	r := New(DefaultLexicon(), DefaultConfig())
	for _, text := range []string{"milk", "", "paediatrics lawyer", "organic mlik"} {
		q := Query{Text: text, City: "Hangzhou"}
		t.Run(fmt.Sprintf("ranks %q in parts counted concurrently exactly as in one call", text), func(t *testing.T) {
			want := r.Rank(q, slices.Clone(docs))
			pq := r.Prepare(q)
			bounds := []int{0, 1, 7, 7, 20, len(docs)} // an empty part too
			parts := make([]*Counted, len(bounds)-1)
			var wg sync.WaitGroup
			for i := range parts {
				wg.Add(1)
				go func() {
					defer wg.Done()
					parts[i] = pq.Count(slices.Clone(docs[bounds[i]:bounds[i+1]]))
				}()
			}
			wg.Wait()
			if got := pq.Rank(parts...); !slices.Equal(got, want) {
				t.Fatalf("parts ranked\n%v\none call ranked\n%v", got, want)
			}
		})
	}
	t.Run("reads popularity set on the docs after Count", func(t *testing.T) {
		q := Query{Text: "milk"}
		pq := r.Prepare(q)
		part := slices.Clone(docs)
		c := pq.Count(part)
		before := pq.Rank(c)
		for i := range part {
			part[i].Popularity = float64(i % 3) // after Count, as the gateway does
		}
		want := r.Rank(q, slices.Clone(part))
		got := pq.Rank(c)
		if !slices.Equal(got, want) {
			t.Fatalf("popularity set after Count ranked\n%v\nset before ranked\n%v", got, want)
		}
		if slices.Equal(got, before) {
			t.Fatal("popularity changed nothing: the test proves nothing")
		}
	})
}

// BenchmarkRankParts splits the work of ranking 32 providers' answers of 20
// products: count is what runs as each answer arrives (one part), rank what
// remains after the last one.
func BenchmarkRankParts(b *testing.B) {
	docs := benchDocs(640)
	r := New(DefaultLexicon(), DefaultConfig())
	q := Query{Text: "organic mlik", City: "Hangzhou"}
	pq := r.Prepare(q)
	parts := make([]*Counted, 32)
	for i := range parts {
		parts[i] = pq.Count(docs[i*20 : (i+1)*20])
	}
	b.Run("count", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			pq.Count(docs[:20])
		}
	})
	b.Run("rank", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if len(pq.Rank(parts...)) == 0 {
				b.Fatal("no results")
			}
		}
	})
}

// BenchmarkRank400 is the second stage of a search at 10^6 providers: the
// index's 400 candidates for "milk" (its synonym "dairy" matches every
// dairy product), each from its own provider, drawn from the demo
// grocery's dairy shelf as the generated providers' catalogues are: few
// distinct texts, so many scores tie and the ties are broken by identity.
func BenchmarkRank400(b *testing.B) {
	shelf := []struct{ name, tags, body string }{
		{"Whole Milk", "milk,fresh milk,breakfast", "Fresh pasteurised whole milk, kept chilled."},
		{"Skimmed Milk", "milk,low fat,breakfast", "Low-fat skimmed milk for coffee and cereal."},
		{"Plain Yoghurt", "yoghurt,yogurt,probiotic", "Thick set plain yoghurt with live cultures."},
		{"Cheddar Cheese Slices", "cheese,sandwich", "Mild cheddar slices for sandwiches."},
		{"Soy Milk", "soy milk,dairy free,vegan,breakfast", "Fresh soy milk made from non-GMO soybeans."},
		{"Oat Milk", "oat milk,milk alternative,dairy free,vegan", "Barista oat milk that froths well."},
		{"Free-Range Eggs", "eggs,egg,breakfast,protein", "Brown eggs from free-range hens."},
	}
	docs := make([]Doc, 400)
	for i := range docs {
		it := shelf[i*3%len(shelf)]
		docs[i] = Doc{Kind: "Product", Group: "grocery", Provider: fmt.Sprintf("generated-7f3a-%06d", i*7919%1000003), ID: fmt.Sprintf("p-%d", i%2),
			Name: it.name, Category: "dairy", Tags: strings.Split(it.tags, ","), Body: it.body,
			Cities: []string{"Hangzhou"}, Rating: 3 + float64(i*37%21)/10}
	}
	r := New(DefaultLexicon(), DefaultConfig())
	q := Query{Text: "milk"}
	b.ReportAllocs()
	for b.Loop() {
		pq := r.Prepare(q)
		if len(pq.Rank(pq.Count(docs))) != len(docs) {
			b.Fatal("lost candidates")
		}
	}
}

// TestTypoOneLetterLongerOrShorter: a query word one letter longer or
// shorter than a candidate's word (an extra or a missing letter) still
// finds it, as a same-length typo does.
func TestTypoOneLetterLongerOrShorter(t *testing.T) {
	docs := []Doc{
		{Kind: "Product", Provider: "a", ID: "1", Name: "Whole Milk", Body: "Fresh pasteurised milk."},
		{Kind: "Product", Provider: "a", ID: "2", Name: "Cheddar Cheese", Body: "Mild cheddar slices."},
		{Kind: "Product", Provider: "b", ID: "3", Name: "Rice Noodles", Body: "Thin noodles."},
	}
	r := New(nil, DefaultConfig()) // no vocabulary: only the candidates' words correct a typo
	for _, c := range []struct{ q, want string }{
		{"millk", "1"},   // one letter more than "milk"
		{"chese", "2"},   // one letter less than "cheese"
		{"noodels", "3"}, // same length, two letters swapped
	} {
		res := r.Rank(Query{Text: c.q}, docs)
		if len(res) == 0 || docs[res[0].Index].ID != c.want {
			t.Errorf("%q: got %v, want item %s first", c.q, res, c.want)
		}
	}
}
