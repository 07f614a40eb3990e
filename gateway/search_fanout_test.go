package gateway_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plaza-gateway/plaza/connectors"
	"github.com/plaza-gateway/plaza/connectors/demo"
	"github.com/plaza-gateway/plaza/gateway"
	"github.com/plaza-gateway/plaza/gid"
)

// recordingGrocery is a demo grocery provider that records the page size
// of every search it is asked for, and can stall (answer only when the
// caller gives up) or answer after a delay.
type recordingGrocery struct {
	connectors.Grocery
	stall bool
	delay time.Duration

	mu     sync.Mutex
	firsts []int
}

func (r *recordingGrocery) wait(ctx context.Context, first int) error {
	r.mu.Lock()
	r.firsts = append(r.firsts, first)
	r.mu.Unlock()
	if r.stall {
		<-ctx.Done()
		return ctx.Err()
	}
	if r.delay > 0 {
		time.Sleep(r.delay)
	}
	return nil
}

func (r *recordingGrocery) SearchProducts(ctx context.Context, q connectors.Query) (connectors.Page[connectors.Product], error) {
	if err := r.wait(ctx, q.First); err != nil {
		return connectors.Page[connectors.Product]{}, err
	}
	return r.Grocery.SearchProducts(ctx, q)
}

func (r *recordingGrocery) SearchStores(ctx context.Context, q connectors.Query) (connectors.Page[connectors.Store], error) {
	if err := r.wait(ctx, q.First); err != nil {
		return connectors.Page[connectors.Store]{}, err
	}
	return r.Grocery.SearchStores(ctx, q)
}

func (r *recordingGrocery) pageSizes() []int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.firsts)
}

// mustGroceries returns n demo grocery providers fan-01, fan-02, ...
func mustGroceries(tb testing.TB, n int) []*recordingGrocery {
	tb.Helper()
	out := make([]*recordingGrocery, n)
	for i := range out {
		g, err := demo.NewGrocery(connectors.Descriptor{ID: fmt.Sprintf("fan-%02d", i+1), Vertical: connectors.VerticalGrocery})
		if err != nil {
			tb.Fatal(err)
		}
		out[i] = &recordingGrocery{Grocery: g}
	}
	return out
}

func mustRegistry(tb testing.TB, gs []*recordingGrocery) *connectors.Registry {
	tb.Helper()
	conns := make([]connectors.Connector, len(gs))
	for i, g := range gs {
		conns[i] = g
	}
	reg, err := connectors.NewRegistry(conns...)
	if err != nil {
		tb.Fatal(err)
	}
	return reg
}

func TestSearchWindowShrinksWithTheFanOut(t *testing.T) {
	tests := []struct {
		name      string
		providers int
		depth     int
		want      int
	}{
		{"asks two providers for the full window", 2, 0, 50},
		{"asks eight providers for the full window", 8, 0, 50},
		{"asks sixteen providers for 400/16 each", 16, 0, 25},
		{"asks 32 providers for the minimum window of 20", 32, 0, 20},
		{"asks 64 providers for the minimum window of 20", 64, 0, 20},
		{"keeps the shrunk window for a second page", 32, 40, 20},
		{"asks for the full window when the page is past the shrunk windows", 32, 1000, 50},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gs := mustGroceries(t, tt.providers)
			g := gateway.New(mustRegistry(t, gs))
			hits, errs := g.Search(context.Background(), gateway.SearchParams{Text: "milk", Depth: tt.depth})
			if len(errs) > 0 || len(hits) == 0 {
				t.Fatalf("%d hits, errors %v", len(hits), errs)
			}
			for _, p := range gs {
				// One call per kind (products, stores): milk needs no rewrite.
				if got := p.pageSizes(); !slices.Equal(got, []int{tt.want, tt.want}) {
					t.Fatalf("%s was asked for pages of %v, want [%d %d]", p.Describe().ID, got, tt.want, tt.want)
				}
			}
		})
	}
}

func TestSearchWithAStalledProvider(t *testing.T) {
	gs := mustGroceries(t, 8)
	stalled := gs[3]
	stalled.stall = true
	cfg := gateway.DefaultConfig()
	cfg.ProviderTimeout = 20 * time.Millisecond
	g := gateway.New(mustRegistry(t, gs), gateway.WithConfig(cfg))
	ctx, stats := gateway.WithStats(context.Background())
	// Products and stores: provider cards come from the registry, not from
	// the providers, and would tell the two rankings below apart.
	params := gateway.SearchParams{Text: "milk", Kinds: []gid.Kind{gid.Product, gid.Store}}
	hits, errs := g.Search(ctx, params)

	t.Run("answers with the other providers' results", func(t *testing.T) {
		from := map[string]bool{}
		for _, h := range hits {
			if h.Kind == gid.Product {
				from[h.Provider] = true
			}
		}
		if len(from) != 7 || from[stalled.Describe().ID] {
			t.Fatalf("products from %v, want the 7 providers that answered", from)
		}
	})
	t.Run("carries one timeout error for the stalled provider, though both its kinds timed out", func(t *testing.T) {
		if len(errs) != 1 {
			t.Fatalf("errors %v, want 1", errs)
		}
		for _, err := range errs {
			e, ok := connectors.AsError(err)
			if !ok || e.Provider != stalled.Describe().ID || e.Kind != connectors.KindTimeout {
				t.Fatalf("error %v, want a timeout of %s", err, stalled.Describe().ID)
			}
		}
	})
	t.Run("records the stalled provider as degraded", func(t *testing.T) {
		want := []gateway.Degraded{{Provider: stalled.Describe().ID, Reason: string(connectors.KindTimeout)}}
		if got := stats.Degraded(); !slices.Equal(got, want) {
			t.Fatalf("degraded %v, want %v", got, want)
		}
	})
	t.Run("ranks the partial answer as if the stalled provider did not exist", func(t *testing.T) {
		healthy := slices.Concat(gs[:3], gs[4:])
		for _, p := range healthy {
			p.stall = false
		}
		want, _ := gateway.New(mustRegistry(t, healthy)).Search(context.Background(), params)
		if got := hitIDs(hits); !slices.Equal(got, hitIDs(want)) {
			t.Fatalf("partial answer ranked\n%v\nwithout the provider\n%v", got, hitIDs(want))
		}
	})
}

func TestSearchOrderDoesNotDependOnWhoAnswersFirst(t *testing.T) {
	gs := mustGroceries(t, 12)
	g := gateway.New(mustRegistry(t, gs))
	var want []string
	for run := range 3 {
		for i, p := range gs {
			// A different provider answers last in every run.
			p.delay = time.Duration((i+run*5)%len(gs)) * 200 * time.Microsecond
		}
		hits, errs := g.Search(context.Background(), gateway.SearchParams{Text: "organic milk"})
		if len(errs) > 0 || len(hits) == 0 {
			t.Fatalf("%d hits, errors %v", len(hits), errs)
		}
		if got := hitIDs(hits); run == 0 {
			want = got
		} else if !slices.Equal(got, want) {
			t.Fatalf("run %d ranked\n%v\nrun 0 ranked\n%v", run, got, want)
		}
	}
}

func hitIDs(hits []gateway.Hit) []string {
	out := make([]string, len(hits))
	for i, h := range hits {
		out[i] = string(h.Kind) + "/" + h.Provider + "/" + h.ID
	}
	return out
}

// A request that names a city calls only the providers whose declared
// coverage includes it (the registry's coverage index), whichever kinds it
// searches; without a city every provider of the vertical is asked.
func TestSearchInACityCallsOnlyItsProviders(t *testing.T) {
	coverage := map[string][]string{
		"cov-a": {"Hangzhou", "Ningbo"},
		"cov-b": {"Ningbo"},
		"cov-c": {"Wenzhou"},
		"cov-d": {"Suzhou"},
	}
	var gs []*recordingGrocery
	for _, id := range []string{"cov-a", "cov-b", "cov-c", "cov-d"} {
		g, err := demo.NewGrocery(connectors.Descriptor{ID: id, Vertical: connectors.VerticalGrocery, Cities: coverage[id]})
		if err != nil {
			t.Fatal(err)
		}
		gs = append(gs, &recordingGrocery{Grocery: g})
	}
	g := gateway.New(mustRegistry(t, gs))
	for _, tc := range []struct {
		name   string
		params gateway.SearchParams
		called string
	}{
		{"a city two providers serve", gateway.SearchParams{City: "Ningbo"}, "cov-a,cov-b"},
		{"the same city in another case", gateway.SearchParams{City: "ningbo", Text: "milk"}, "cov-a,cov-b"},
		{"a city one provider serves, stores only", gateway.SearchParams{City: "Wenzhou", Kinds: []gid.Kind{gid.Store}}, "cov-c"},
		{"a city nobody serves", gateway.SearchParams{City: "Atlantis"}, ""},
		{"no city", gateway.SearchParams{Text: "milk"}, "cov-a,cov-b,cov-c,cov-d"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := make([]int, len(gs))
			for i, p := range gs {
				before[i] = len(p.pageSizes())
			}
			if _, errs := g.Search(context.Background(), tc.params); len(errs) > 0 {
				t.Fatal(errs)
			}
			var called []string
			for i, p := range gs {
				if len(p.pageSizes()) > before[i] {
					called = append(called, p.Describe().ID)
				}
			}
			if got := strings.Join(called, ","); got != tc.called {
				t.Fatalf("called %q, want %q", got, tc.called)
			}
		})
	}
}
