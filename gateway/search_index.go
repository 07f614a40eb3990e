package gateway

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/plaza-gateway/plaza/connectors"
	"github.com/plaza-gateway/plaza/gid"
	"github.com/plaza-gateway/plaza/rank"
	"github.com/plaza-gateway/plaza/supply"
)

// IndexCandidates is the default of Config.IndexCandidates: how many of
// the index's best matches are re-ranked, the first stage of two-stage
// ranking. Four hundred, the same candidate count the fan-out's windows aim
// at (searchCandidates), covers the first pages of any query; a page
// reaching deeper asks for more (up to supply.MaxFirst). Over an index
// large enough to fill them, the candidates are most of a search's CPU
// beyond the fixed cost of a request (README, "Re-ranking depth").
const IndexCandidates = searchCandidates

// MinIndexCandidates is the least Config.IndexCandidates may be: the
// default page (DefaultConfig's DefaultFirst), so that the first page is
// always ranked from more than itself.
const MinIndexCandidates = 20

// ErrIndexUnavailable wraps every failure of the supply index other than a
// bad query: the index is down or unreachable, so search and the lists
// cannot answer (the rest of the operation still does).
var ErrIndexUnavailable = errors.New("search index unavailable")

// supplyKinds maps the gateway's kinds to the index's. Provider cards are
// not catalogue items: `providers` pages through the directory instead.
var supplyKinds = map[gid.Kind]supply.Kind{
	gid.Product: supply.KindProduct, gid.Store: supply.KindStore, gid.Doctor: supply.KindDoctor,
	gid.Lawyer: supply.KindLawyer, gid.GovService: supply.KindGovService,
}

var gidKinds = map[supply.Kind]gid.Kind{
	supply.KindProduct: gid.Product, supply.KindStore: gid.Store, supply.KindDoctor: gid.Doctor,
	supply.KindLawyer: gid.Lawyer, supply.KindGovService: gid.GovService,
}

// SearchIndex is Search over the supply index instead of the providers:
// the index retrieves the query's best Config.IndexCandidates (or down to
// p.Depth), and the same ranking as Search (text relevance, popularity,
// affinity, diversity across verticals and providers) re-ranks them. No
// provider is called: each hit's Value is a *supply.Item of the index's page
// (read it, never change it: its slices are the index's),
// whose live fields (price, stock, slots) the caller completes for the page
// it shows (one batch call per provider and kind, through the loaders).
//
// Items of a provider outside the request's registry snapshot (suspended,
// retired, not yet approved: the directory's snapshot holds only ACTIVE
// providers, and follows the change feed) are left out here, at query time,
// so they disappear within the change feed's bound whatever the index
// still holds. The index's own failure is ErrIndexUnavailable; a query the
// index refuses (a bad cursor) is BAD_USER_INPUT.
func (g *Gateway) SearchIndex(ctx context.Context, ix supply.Index, p SearchParams) ([]Hit, error) {
	hits, results, err := g.rankIndex(ctx, ix, p)
	if err != nil || hits == nil {
		return hits, err
	}
	if p.Sort != supply.SortRelevance {
		// Two-stage re-ranking is for relevance only: another sort is the
		// index's total order, item-local, so offsets into it stay stable
		// without pinning. The edges still carry the ranking's scores.
		for _, res := range results {
			hits[res.Index].Score = res.Score
		}
		return hits, nil
	}
	ranked := rankedHits(hits, results)
	if p.Session != "" && g.cache != nil {
		ranked = g.cache.pinOrder(ctx, p.Session, p.Fresh, ranked)
	}
	return ranked, nil
}

// rankIndex retrieves p's candidates from the index (those of providers
// routed in this request's snapshot) and ranks them: hits in the index's
// order, results in ranked order indexing hits.
func (g *Gateway) rankIndex(ctx context.Context, ix supply.Index, p SearchParams) ([]Hit, []rank.Result, error) {
	q := supply.Query{Text: p.Text, City: p.City, Category: p.Category, First: min(max(g.indexCandidates(), p.Depth+1), supply.MaxFirst),
		Sort: p.Sort, Near: p.Near, MinPrice: p.MinPrice, MaxPrice: p.MaxPrice}
	for _, v := range p.Verticals {
		q.Verticals = append(q.Verticals, supply.Vertical(v))
	}
	for _, k := range p.Kinds {
		if sk, ok := supplyKinds[k]; ok {
			q.Kinds = append(q.Kinds, sk)
		}
	}
	if len(p.Kinds) > 0 && len(q.Kinds) == 0 {
		return nil, nil, nil // only provider cards asked for: not in the index
	}
	if len(q.Kinds) == 0 {
		// Every searchable kind; offices are reached through their service.
		q.Kinds = []supply.Kind{supply.KindProduct, supply.KindStore, supply.KindDoctor, supply.KindLawyer, supply.KindGovService}
	}
	page, err := ix.Search(ctx, q)
	if err != nil {
		if errors.Is(err, supply.ErrBadQuery) {
			return nil, nil, connectors.Errorf(connectors.KindInvalid, "%v", err)
		}
		return nil, nil, fmt.Errorf("%w: %w", ErrIndexUnavailable, err)
	}
	reg := g.registryFor(ctx)
	hits := make([]Hit, 0, len(page.Hits))
	docs := rankDocs.get(len(page.Hits))
	defer rankDocs.put(docs)
	for i := range page.Hits {
		// Pointers into the page, not copies: a copy in an interface
		// is an allocation of some 200 bytes per candidate.
		it := &page.Hits[i].Item
		kind, ok := gidKinds[it.Kind]
		if !ok {
			continue
		}
		// Never shown: a provider not ACTIVE in this snapshot, and, in a
		// request naming a city, one that does not declare it (or no
		// longer does), whatever city its items claim: such a request
		// calls no provider outside the city's coverage. Checked in the
		// snapshot without resolving a connector (Serves implies
		// Callable): only the page's items are called.
		if p.City != "" && !reg.Serves(it.Provider, p.City) || p.City == "" && !reg.Callable(it.Provider) {
			continue
		}
		hit := Hit{Kind: kind, Vertical: connectors.Vertical(supply.VerticalOf(it.Kind)), Provider: it.Provider, ID: it.ID, Value: it}
		hits = append(hits, hit)
		docs = append(docs, rank.Doc{Kind: string(kind), Group: string(hit.Vertical), Provider: it.Provider, ID: it.ID,
			Name: it.Name, Category: it.Category, Tags: it.Tags, Body: it.Description, Cities: it.Cities, Rating: it.Rating})
	}
	prep := rank.New(rank.DefaultLexicon(), rank.DefaultConfig()).Prepare(rank.Query{Text: p.Text, City: p.City})
	parts := [][]rank.Doc{docs}
	setSignals(hits, parts, p)
	// The results index hits; the docs are done with once ranked.
	return hits, prep.Rank(prep.Count(docs)), nil
}

// indexCandidates is the configured re-ranking depth (IndexCandidates for
// a Config that does not set it).
func (g *Gateway) indexCandidates() int {
	if g.cfg.IndexCandidates <= 0 {
		return IndexCandidates
	}
	return g.cfg.IndexCandidates
}

// docPool recycles the candidates' rank.Doc lists: some 80 KB a search
// over the index (400 candidates), garbage as soon as they are ranked.
type docPool struct{ p sync.Pool }

var rankDocs docPool

// get returns an empty list with room for n.
func (dp *docPool) get(n int) []rank.Doc {
	if l, ok := dp.p.Get().(*[]rank.Doc); ok && cap(*l) >= n {
		return (*l)[:0]
	}
	return make([]rank.Doc, 0, n)
}

// put returns docs, cleared (its strings view index records, which must
// not be kept alive by the pool).
func (dp *docPool) put(docs []rank.Doc) {
	if cap(docs) > supply.MaxFirst {
		return
	}
	clear(docs[:cap(docs)])
	l := docs[:0]
	dp.p.Put(&l)
}

// Placed is one of a provider's items in a ranking.
type Placed struct {
	Hit Hit
	// Position is the item's place in the ranking, from 1.
	Position int
	Why      rank.Parts
}

// Placement is where a provider's items rank for a query.
type Placement struct {
	// Total is how many items the ranking holds (of every provider).
	Total int
	// Items are the provider's, best first: at most limit.
	Items []Placed
}

// Placement ranks p as a search over the index does (relevance, no user:
// no affinity) and returns where provider's items came, with what their
// scores are made of; keep, when not nil, keeps only the items it accepts.
// The ranking reaches Config.IndexCandidates deep (p.Depth deeper).
func (g *Gateway) Placement(ctx context.Context, p SearchParams, provider string, limit int, keep func(Hit) bool) (Placement, error) {
	if g.index == nil {
		return Placement{}, connectors.Errorf(connectors.KindUnavailable, "placement needs the supply index")
	}
	p.Sort = supply.SortRelevance
	hits, results, err := g.rankIndex(ctx, g.index, p)
	if err != nil {
		return Placement{}, err
	}
	out := Placement{Total: len(results)}
	for i, res := range results {
		h := hits[res.Index]
		if h.Provider != provider || (keep != nil && !keep(h)) {
			continue
		}
		h.Score = res.Score
		out.Items = append(out.Items, Placed{Hit: h, Position: i + 1, Why: res.Why})
		if len(out.Items) >= limit {
			break
		}
	}
	return out, nil
}

// Candidates is SearchIndex over the gateway's index (WithIndex), its
// failure as the one error; without an index, the fan-out (Search).
func (g *Gateway) Candidates(ctx context.Context, p SearchParams) ([]Hit, []error) {
	if g.index == nil {
		return g.Search(ctx, p)
	}
	hits, err := g.SearchIndex(ctx, g.index, p)
	if err != nil {
		return nil, []error{err}
	}
	return hits, nil
}

// IndexValue is the connectors value of an index item holding the fields
// the index serves (what does not change between pushes: names, cities, a
// store's address, a doctor's specialty, ratings); the rest is zero, for a
// request that selects nothing else. A request that does is completed from
// the provider instead.
func IndexValue(it *supply.Item) any {
	city := ""
	if len(it.Cities) > 0 {
		city = it.Cities[0]
	}
	// Lists the schema declares non-null are empty, never nil; copies, as
	// the index's item is shared (read-only).
	tags, cities := append([]string{}, it.Tags...), append([]string{}, it.Cities...)
	switch it.Kind {
	case supply.KindProduct:
		return connectors.Product{ID: it.ID, Name: it.Name, Category: it.Category, Tags: tags, Rating: it.Rating, City: city}
	case supply.KindStore:
		return connectors.Store{ID: it.ID, Name: it.Name, City: city, Address: it.Description, Rating: it.Rating, Tags: tags}
	case supply.KindDoctor:
		return connectors.Doctor{ID: it.ID, Name: it.Name, Specialty: it.Category, City: city, Rating: it.Rating}
	case supply.KindLawyer:
		return connectors.Lawyer{ID: it.ID, Name: it.Name, City: city, Rating: it.Rating}
	case supply.KindGovService:
		return connectors.GovService{ID: it.ID, Name: it.Name, Description: it.Description, Category: it.Category, Cities: cities, Rating: it.Rating}
	}
	return nil
}
