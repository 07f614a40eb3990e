package api_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/plaza-gateway/plaza/api/apitest"
	"github.com/plaza-gateway/plaza/gateway"
)

// organicQuery is ambiguous: every grocery category has "Organic" items,
// and their text relevance differs only by name and description length, so
// the engine's signals decide much of the first page.
var organicQuery = map[string]any{"text": "organic", "v": "GROCERY", "first": 20}

func organicSearch(t *testing.T, g *apitest.Gateway, user string) []rankedHit {
	t.Helper()
	d, _ := mustData[rankedData](t, g, apitest.Request{Query: rankedSearchQuery, Variables: organicQuery, User: user})
	if len(d.Search.Edges) < 20 {
		t.Fatalf("only %d results for %v", len(d.Search.Edges), organicQuery)
	}
	return d.Search.nodes()
}

func viewAll(t *testing.T, g *apitest.Gateway, user string, ids []string) {
	t.Helper()
	g.MustPost(apitest.Request{Query: `query($ids: [ID!]!) { nodes(ids: $ids) { id } }`, Variables: map[string]any{"ids": ids}, User: user})
}

func position(hits []rankedHit, id string) int {
	return slices.IndexFunc(hits, func(h rankedHit) bool { return h.ID == id })
}

// inTop counts the hits of category among the first n.
func inTop(hits []rankedHit, n int, category string) int {
	c := 0
	for _, h := range hits[:min(n, len(hits))] {
		if h.Category == category {
			c++
		}
	}
	return c
}

func hitIDs(hits []rankedHit) []string {
	out := make([]string, len(hits))
	for i, h := range hits {
		out[i] = h.ID
	}
	return out
}

func TestSearchRankingSignals(t *testing.T) {
	p := startPersonal(t, 0)
	before := organicSearch(t, p.Gateway, "")

	t.Run("an item many people just used climbs an anonymous search", func(t *testing.T) {
		last := before[len(before)-1]
		for i := range 25 {
			viewAll(t, p.Gateway, fmt.Sprintf("shopper-%d", i), []string{last.ID})
		}
		p.flush(t)
		after := organicSearch(t, p.Gateway, "")
		if pos := position(after, last.ID); pos < 0 || pos >= 10 {
			t.Fatalf("%s %q was 20th, now at %d: want the first page of ten", last.Category, last.Name, pos+1)
		}
	})

	// Pick the category the first page shows least of, among those with at
	// least three results further down, so that there is room to climb.
	base := organicSearch(t, p.Gateway, "")
	var category string
	var lower []string
	for _, c := range []string{"bakery", "beverages", "tea & coffee", "baby", "dairy", "meat", "pantry", "household", "produce"} {
		var ids []string
		for _, h := range base[10:] {
			if h.Category == c {
				ids = append(ids, h.ID)
			}
		}
		if len(ids) >= 3 && (category == "" || inTop(base, 10, c) < inTop(base, 10, category)) {
			category, lower = c, ids
		}
	}
	if category == "" {
		t.Fatalf("no category with three results past the first page: %v", base)
	}
	const fan, quitter = "affinity-fan", "affinity-quitter"
	// Both look at the same items of one category; the quitter then opts
	// out, which drops their history from the engine.
	var history []string
	for _, h := range base {
		if h.Category == category {
			history = append(history, h.ID)
		}
	}
	viewAll(t, p.Gateway, fan, history)
	viewAll(t, p.Gateway, quitter, history)
	p.flush(t)
	p.MustPost(apitest.Request{Query: `mutation { updateSettings(personalization: false) { personalization } }`, User: quitter})
	anon := organicSearch(t, p.Gateway, "")
	fanHits := organicSearch(t, p.Gateway, fan)
	quitHits := organicSearch(t, p.Gateway, quitter)
	t.Logf("%s on the first page of ten: anonymous %d, %s %d, %s %d", category,
		inTop(anon, 10, category), fan, inTop(fanHits, 10, category), quitter, inTop(quitHits, 10, category))

	t.Run("a user whose history is in one category sees more of it on the first page", func(t *testing.T) {
		if got, was := inTop(fanHits, 10, category), inTop(anon, 10, category); got <= was {
			t.Errorf("%s results on the first page: %d for the fan, %d anonymously", category, got, was)
		}
		for _, id := range lower {
			if pf, pa := position(fanHits, id), position(anon, id); pf < 0 || (pa >= 0 && pf > pa) {
				t.Errorf("%s item %s is at %d for the fan, %d anonymously", category, id, pf+1, pa+1)
			}
		}
	})

	t.Run("an opted-out user's results are ranked like an anonymous search", func(t *testing.T) {
		if !slices.Equal(hitIDs(quitHits), hitIDs(anon)) {
			t.Errorf("opted-out user's order\n %v\nanonymous\n %v", hitIDs(quitHits), hitIDs(anon))
		}
	})
}

// BenchmarkSearchSignals measures what the engine's signals add to one
// merged search over the in-process demo providers: the same search with
// no signals, with popularity (one batch lookup), and with popularity and a
// signed-in user's affinity (which also reads their history). The variants
// run within every iteration, in rotating order, so drift in a shared
// machine's load and the cost of going first or last hit them alike; each reports its mean, and the signals their overhead
// over the plain search in percent.
func BenchmarkSearchSignals(b *testing.B) {
	p := startPersonal(b, 0)
	const user = "demo-1" // seeded with orders across categories
	params := gateway.SearchParams{Text: "organic", City: "Hangzhou"}
	ctx := context.Background()
	variants := []struct {
		name   string
		params func() gateway.SearchParams
	}{
		{"plain", func() gateway.SearchParams { return params }},
		{"popularity", func() gateway.SearchParams { return p.home.SearchSignals(params, "", false) }},
		{"personal", func() gateway.SearchParams { return p.home.SearchSignals(params, user, true) }},
	}
	spent := make([]time.Duration, len(variants))
	hits := 0
	for n := 0; b.Loop(); n++ {
		for k := range variants {
			i := (n + k) % len(variants) // each variant takes each turn alike
			v := variants[i]
			start := time.Now()
			h, errs := p.GW.Search(ctx, v.params())
			spent[i] += time.Since(start)
			if len(errs) > 0 || len(h) == 0 {
				b.Fatalf("%s: %d hits, errors %v", v.name, len(h), errs)
			}
			hits = len(h)
		}
	}
	for i, v := range variants {
		b.ReportMetric(float64(spent[i].Microseconds())/float64(b.N), "µs/"+v.name)
		if i > 0 {
			b.ReportMetric(100*(float64(spent[i])/float64(spent[0])-1), "%overhead/"+v.name)
		}
	}
	b.ReportMetric(float64(hits), "hits")
}
