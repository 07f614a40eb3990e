package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/plaza-gateway/plaza/catalog"
	"github.com/plaza-gateway/plaza/connectors"
	"github.com/plaza-gateway/plaza/connectors/demo"
	"github.com/plaza-gateway/plaza/connectors/httpprovider"
	"github.com/plaza-gateway/plaza/directory"
	"github.com/plaza-gateway/plaza/supply"
)

// The in-process providers of the "search over N in-process providers"
// workloads: n synthetic grocery providers of k items each (demo.WithItems),
// named and placed in cities by the directory's generator
// (directory.Generated, seed generatedSeed), so 10^6 of them cost nothing
// until called. The gateway reads them through a connectors.Source, as it
// reads the directory's providers, and feeds its index from their
// catalogues through the catalogue contract (catalog.IndexGenerated, as
// `plaza providers generate --items-per-provider` does).
const generatedSeed = 15

// generatedSource is a connectors.Source over n synthetic grocers. Get
// parses the index out of the id and builds the provider on first use,
// keeping at most generatedCache of them (a page touches at most 20, the
// index's candidates a few hundred). Enumerating them (All, ByVertical,
// Covering) would build every one: only the fan-out does that, and this
// gateway reads its index, so they refuse.
type generatedSource struct {
	n, items int
	calls    *atomic.Int64
	mu       sync.Mutex
	built    map[int]connectors.Connector
}

const generatedCache = 4096

var _ connectors.Source = (*generatedSource)(nil)

func newGeneratedSource(n, items int, calls *atomic.Int64) *generatedSource {
	return &generatedSource{n: n, items: items, calls: calls, built: map[int]connectors.Connector{}}
}

// generatedPrefix is what every generated provider's id starts with.
var generatedPrefix = func() string {
	id := directory.GeneratedID(generatedSeed, 0)
	return id[:strings.LastIndexByte(id, '-')+1]
}()

// index returns the position of id in the source, false if it is none of
// its. It runs for each of a search's candidates (Callable), as the
// directory's snapshot lookup does in the shipped gateway: no formatting.
func (s *generatedSource) index(id string) (int, bool) {
	rest, ok := strings.CutPrefix(id, generatedPrefix)
	if !ok {
		return 0, false
	}
	i, err := strconv.Atoi(rest)
	if err != nil || i < 0 || i >= s.n {
		return 0, false
	}
	return i, true
}

// grocer builds provider i: a grocery provider whatever vertical the
// generator drew, so every provider has items for the same search.
func (s *generatedSource) grocer(i int) (*demo.Grocery, error) {
	p := directory.Generated(generatedSeed, i, directory.GenerateOptions{})
	return demo.NewGrocery(connectors.Descriptor{ID: p.ID, Name: p.Name, Vertical: connectors.VerticalGrocery, Cities: p.Cities, Rating: p.Rating},
		demo.WithItems(s.items), demo.WithUsers(0))
}

func (s *generatedSource) Get(id string) (connectors.Connector, bool) {
	i, ok := s.index(id)
	if !ok {
		return nil, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, ok := s.built[i]; ok {
		return c, true
	}
	g, err := s.grocer(i)
	if err != nil {
		return nil, false
	}
	if len(s.built) >= generatedCache {
		clear(s.built)
	}
	c := countedGrocer{Grocery: g, calls: s.calls}
	s.built[i] = c
	return c, true
}

func (s *generatedSource) ByVertical(connectors.Vertical) []connectors.Connector { return nil }
func (s *generatedSource) Covering(connectors.Vertical, string) []connectors.Connector {
	return nil
}
func (s *generatedSource) All() []connectors.Connector { return nil }

// Callable reports whether id is one of the source's providers (none is
// built for it).
func (s *generatedSource) Callable(id string) bool {
	_, ok := s.index(id)
	return ok
}

// Serves derives provider id's cities from the generator (no provider is
// built for it).
func (s *generatedSource) Serves(id, city string) bool {
	i, ok := s.index(id)
	return ok && slices.ContainsFunc(directory.Generated(generatedSeed, i, directory.GenerateOptions{}).Cities,
		func(c string) bool { return strings.EqualFold(c, city) })
}
func (s *generatedSource) Len() int { return s.n }

// feed publishes every provider's catalogue into in, through the contract's
// ingest, workers at a time; each provider is built for it and dropped.
func (s *generatedSource) feed(ctx context.Context, in *catalog.Ingest, workers int) (catalog.BulkResult, error) {
	return catalog.IndexGenerated(ctx, in, nil, s.n, s.items, workers, func(_ context.Context, i int) (string, connectors.Catalog, error) {
		g, err := s.grocer(i)
		if err != nil {
			return "", nil, err
		}
		return g.Describe().ID, g, nil
	})
}

// countedGrocer counts the reads made of a provider: the calls a search
// page costs, counted at the providers as the HTTP providers' /v1/stats
// count them.
type countedGrocer struct {
	*demo.Grocery
	calls *atomic.Int64
}

func (g countedGrocer) Products(ctx context.Context, ids []string) ([]connectors.Result[connectors.Product], error) {
	g.calls.Add(1)
	return g.Grocery.Products(ctx, ids)
}

func (g countedGrocer) Stores(ctx context.Context, ids []string) ([]connectors.Result[connectors.Store], error) {
	g.calls.Add(1)
	return g.Grocery.Stores(ctx, ids)
}

func (g countedGrocer) DeliverySlots(ctx context.Context, ids []string) ([]connectors.Result[[]connectors.DeliverySlot], error) {
	g.calls.Add(1)
	return g.Grocery.DeliverySlots(ctx, ids)
}

func (g countedGrocer) SearchProducts(ctx context.Context, q connectors.Query) (connectors.Page[connectors.Product], error) {
	g.calls.Add(1)
	return g.Grocery.SearchProducts(ctx, q)
}

func (g countedGrocer) SearchStores(ctx context.Context, q connectors.Query) (connectors.Page[connectors.Store], error) {
	g.calls.Add(1)
	return g.Grocery.SearchStores(ctx, q)
}

// statsHandler answers GET /v1/stats with the in-process providers' call
// count, in the HTTP providers' report format (providerCalls reads both).
func statsHandler(calls *atomic.Int64) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+httpprovider.PathStats, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(httpprovider.StatsReport{Total: calls.Load()})
	})
	return mux
}

// feedFromProviders fills ix with the catalogues of conns pulled over the
// contract (GET catalog since a cursor, through the ingest), before the
// gateway serves: search is complete from the first request.
func feedFromProviders(ctx context.Context, conns []connectors.Connector, ix supply.Index) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	if err := demo.PublishNow(ctx, conns, catalog.New(ix, nil)); err != nil {
		return fmt.Errorf("feeding the index: %w", err)
	}
	return nil
}
