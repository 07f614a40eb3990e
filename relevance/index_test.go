package relevance_test

import (
	"context"
	"encoding/json"
	"github.com/plaza-gateway/plaza/catalog"
	"os"
	"testing"

	"github.com/plaza-gateway/plaza/connectors"
	"github.com/plaza-gateway/plaza/connectors/demo"
	"github.com/plaza-gateway/plaza/gateway"
	"github.com/plaza-gateway/plaza/gid"
	"github.com/plaza-gateway/plaza/relevance"
	"github.com/plaza-gateway/plaza/supply"
)

// twoStage answers a judged query the way search and the lists do with the
// supply index: gateway.SearchIndex (the index's candidates, re-ranked by
// package rank).
func twoStage(g *gateway.Gateway, ix supply.Index) func(relevance.Query) ([]relevance.Item, error) {
	return func(q relevance.Query) ([]relevance.Item, error) {
		p := gateway.SearchParams{Text: q.Text, City: q.City, Category: q.Category}
		if q.Vertical != "" {
			p.Verticals = []connectors.Vertical{connectors.Vertical(q.Vertical)}
		}
		for _, k := range q.Kinds {
			p.Kinds = append(p.Kinds, gid.Kind(k))
		}
		hits, err := g.SearchIndex(context.Background(), ix, p)
		if err != nil {
			return nil, err
		}
		out := make([]relevance.Item, 0, relevance.K)
		for _, h := range hits[:min(relevance.K, len(hits))] {
			it := h.Value.(*supply.Item)
			cats := []string{it.Category}
			if it.Kind == supply.KindLawyer {
				cats = it.Tags // the practice areas lead the published tags
			}
			out = append(out, relevance.Item{Kind: string(h.Kind), Vertical: string(h.Vertical), Provider: it.Provider,
				ID: it.ID, Name: it.Name, Categories: cats, Tags: it.Tags, Cities: it.Cities, Rating: it.Rating})
		}
		return out, nil
	}
}

// mustDemoIndex is the embedded index fed with the demo catalogues the way
// `go run .` feeds it (demo.PublishNow through the ingest).
func mustDemoIndex(t *testing.T, conns []connectors.Connector) *supply.Memory {
	t.Helper()
	ix, err := supply.NewMemory()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ix.Close() })
	if err := demo.PublishNow(context.Background(), conns, catalog.New(ix, nil)); err != nil {
		t.Fatalf("indexing the demo catalogue: %v", err)
	}
	return ix
}

// The index's two-stage ranking must rank the judged set at least as well
// as the fan-out it replaces (the committed baseline, measured before the
// index existed).
func TestTwoStageOverTheIndex(t *testing.T) {
	set, err := relevance.Demo()
	if err != nil {
		t.Fatal(err)
	}
	conns, corpus := demoCorpus(t)
	reg, err := connectors.NewRegistry(conns...)
	if err != nil {
		t.Fatal(err)
	}
	got, err := relevance.Evaluate(set, corpus, twoStage(gateway.New(reg), mustDemoIndex(t, conns)))
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(baselineFile)
	if err != nil {
		t.Fatal(err)
	}
	var want baseline
	if err := json.Unmarshal(data, &want); err != nil {
		t.Fatal(err)
	}
	for _, q := range set.Queries {
		if got.Queries[q.ID] < want.Queries[q.ID] {
			t.Logf("NDCG@10 %-26s index %.4f < fan-out %.4f", q.ID, got.Queries[q.ID], want.Queries[q.ID])
		}
	}
	t.Logf("two-stage NDCG@10 mean %.4f, fan-out baseline %.4f", got.Mean, want.Mean)
	if got.Mean < want.Mean {
		t.Errorf("two-stage NDCG@10 %.4f is below the fan-out baseline %.4f", got.Mean, want.Mean)
	}
}

// The re-ranking depth (PLAZA_SEARCH_CANDIDATES) bounds how many of the
// index's matches a search ranks, and a page reaching deeper still gets
// what it needs.
func TestRerankDepth(t *testing.T) {
	conns, _ := demoCorpus(t)
	reg, err := connectors.NewRegistry(conns...)
	if err != nil {
		t.Fatal(err)
	}
	ix := mustDemoIndex(t, conns)
	browse := gateway.SearchParams{} // every item matches: more than any depth below
	all, err := gateway.New(reg).SearchIndex(context.Background(), ix, browse)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) <= 40 {
		t.Fatalf("the demo index browsed to %d items: too few to tell the depths apart", len(all))
	}
	tests := []struct {
		name       string
		candidates int // 0: the default
		depth      int
		want       int
	}{
		{"the default", 0, 0, min(len(all), gateway.IndexCandidates)},
		{"twenty", 20, 0, 20},
		{"twenty, a page reaching to 40", 20, 40, 41},
		{"forty", 40, 0, 40},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := gateway.DefaultConfig()
			if tt.candidates > 0 {
				cfg.IndexCandidates = tt.candidates
			}
			p := browse
			p.Depth = tt.depth
			hits, err := gateway.New(reg, gateway.WithConfig(cfg)).SearchIndex(context.Background(), ix, p)
			if err != nil {
				t.Fatal(err)
			}
			if len(hits) != tt.want {
				t.Fatalf("%d hits ranked, want %d", len(hits), tt.want)
			}
		})
	}
}
