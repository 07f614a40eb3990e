package gateway

import (
	"cmp"
	"context"
	"slices"
	"strings"
	"sync"

	"github.com/plaza-gateway/plaza/connectors"
	"github.com/plaza-gateway/plaza/gid"
	"github.com/plaza-gateway/plaza/rank"
	"github.com/plaza-gateway/plaza/supply"
)

// SearchParams selects what a merged search looks at.
type SearchParams struct {
	Text string
	// Verticals limits the providers asked; empty means all.
	Verticals []connectors.Vertical
	// Kinds limits the kinds of result; empty means every searchable kind.
	Kinds    []gid.Kind
	City     string
	Category string
	// Popularity, when set, returns an item's popularity on any
	// non-negative scale (e.g. recent views and orders); ranking uses its
	// proportion to the most popular candidate. nil: no popularity signal.
	Popularity func(kind gid.Kind, provider, id string) float64
	// Popularities, when set, is asked once per search for the popularity
	// of every candidate (one value per hit, in order, on the scale of
	// Popularity), so a source behind a lock or a network answers the whole
	// batch at once. It wins over Popularity; an answer of the wrong length
	// is ignored (no popularity signal).
	Popularities func(hits []Hit) []float64
	// Affinity, when set, returns how much the searching user is drawn to a
	// vertical and category, in [0, 1] (e.g. their share of activity there).
	// nil: no personalisation.
	Affinity func(vertical connectors.Vertical, category string) float64
	// Penalty, when set, returns the share in [0, 1] taken off the score of
	// a provider's items (a provider DEMOTED for its service level); it is
	// read from memory, once per candidate. nil: no penalty.
	Penalty func(provider string) float64
	// Session, when set, pins the ranked order while a client pages through
	// it: the first page (Fresh) stores the order under this key in the
	// shared cache; later pages put the fresh candidates back into that
	// order, so a signal that moved in between (popularity, affinity, a
	// provider's data) cannot move an item across a page boundary — no item
	// twice, none missing. It takes effect only when the gateway has a cache.
	Session string
	Fresh   bool
	// Depth is how far down the ranked list the caller reads (offset +
	// first of the page it serves); 0 means the first page. With many
	// providers each is asked for fewer results (see searchWindow); a page
	// past what those can hold asks each provider for up to SearchWindow.
	Depth int
	// Sort, Near and the price range are the supply index's (supply.Query):
	// only SearchIndex honours them. Under a Sort other than relevance the
	// index's order is the answer, not re-ranked (scores are still the
	// ranking's, for the edges).
	Sort               supply.Sort
	Near               *supply.Geo
	MinPrice, MaxPrice *int64
}

// Hit is one ranked search result. Value is the connectors value of Kind
// (connectors.Product, Store, Doctor, Lawyer, GovService or Descriptor).
type Hit struct {
	Kind     gid.Kind
	Vertical connectors.Vertical
	Provider string
	ID       string
	Value    any
	Score    float64
}

// searchOp describes one searchable kind: its vertical and how to ask a
// provider for its own ranked window.
type searchOp struct {
	kind     gid.Kind
	vertical connectors.Vertical
	op       string
	run      func(connectors.Connector, context.Context, connectors.Query) ([]Hit, int, error)
}

func pageHits[T any](kind gid.Kind, p connectors.Page[T], err error, id func(T) string) ([]Hit, int, error) {
	if err != nil {
		return nil, 0, err
	}
	hits := make([]Hit, len(p.Items))
	for i, it := range p.Items {
		hits[i] = Hit{Kind: kind, ID: id(it), Value: it}
	}
	return hits, p.Total, nil
}

var searchOps = []searchOp{
	{gid.Product, connectors.VerticalGrocery, "SearchProducts", func(c connectors.Connector, ctx context.Context, q connectors.Query) ([]Hit, int, error) {
		p, err := c.(connectors.Grocery).SearchProducts(ctx, q)
		return pageHits(gid.Product, p, err, func(v connectors.Product) string { return v.ID })
	}},
	{gid.Store, connectors.VerticalGrocery, "SearchStores", func(c connectors.Connector, ctx context.Context, q connectors.Query) ([]Hit, int, error) {
		p, err := c.(connectors.Grocery).SearchStores(ctx, q)
		return pageHits(gid.Store, p, err, func(v connectors.Store) string { return v.ID })
	}},
	{gid.Doctor, connectors.VerticalMedical, "SearchDoctors", func(c connectors.Connector, ctx context.Context, q connectors.Query) ([]Hit, int, error) {
		p, err := c.(connectors.Medical).SearchDoctors(ctx, q)
		return pageHits(gid.Doctor, p, err, func(v connectors.Doctor) string { return v.ID })
	}},
	{gid.Lawyer, connectors.VerticalLegal, "SearchLawyers", func(c connectors.Connector, ctx context.Context, q connectors.Query) ([]Hit, int, error) {
		p, err := c.(connectors.Legal).SearchLawyers(ctx, q)
		return pageHits(gid.Lawyer, p, err, func(v connectors.Lawyer) string { return v.ID })
	}},
	{gid.GovService, connectors.VerticalPublicService, "SearchServices", func(c connectors.Connector, ctx context.Context, q connectors.Query) ([]Hit, int, error) {
		p, err := c.(connectors.PublicService).SearchServices(ctx, q)
		return pageHits(gid.GovService, p, err, func(v connectors.GovService) string { return v.ID })
	}},
}

// retryBelow is the page size under which a provider is asked a second
// time with the rewritten text (see Search). A provider that cannot fill
// even a first page of ten for the user's words has probably matched them
// literally and missed: a typo, or a synonym its catalogue does not use.
const retryBelow = 10

// The per-provider window shrinks as the fan-out grows. Every candidate is
// decoded, allocated and scored on the request's core, so asking each of 32
// providers for SearchWindow (50) results of every kind costs 1,600
// candidates per kind for a first page of 20. The merged list only needs
// enough candidates for its first pages: searchCandidates per kind across
// all providers (eight providers at the default window of 50, so fan-outs up
// to eight ask exactly as before), and never fewer than minSearchWindow from
// one provider, so that a first page of the default size (20) could still
// come from the one provider that has all the best matches. Later pages are
// stable because the candidate set is the same for every page of a query
// (and search sessions pin the order); a page reaching past what the shrunk
// windows can hold asks again with the full window (SearchParams.Depth).
const (
	searchCandidates = 400
	minSearchWindow  = 20
)

// searchWindow is how many results each of n providers of one kind is asked
// for when the caller reads the ranked list down to depth (0: the first
// page): SearchWindow for up to searchCandidates/SearchWindow providers,
// then searchCandidates/n but at least minSearchWindow, never more than
// SearchWindow.
func (g *Gateway) searchWindow(n, depth int) int {
	full := g.cfg.SearchWindow
	if n <= 0 {
		return full
	}
	w := max((searchCandidates+n-1)/n, minSearchWindow)
	if depth > n*w {
		w = max(w, depth)
	}
	return min(w, full)
}

// Search fans the query out to every provider of the selected verticals in
// parallel, one call per provider and kind, each asking for the provider's
// top results (its window, see searchWindow); ranks the merged results with
// one relevance score (package rank); and returns the whole ranked list
// (callers page through it). A failing provider is left out, recorded as
// degraded, and its error returned in errs (one per call that failed).
//
// Each answer is scored as it arrives (rank.Prepared.Count reads every word
// of its candidates), so when the last provider answers — or times out —
// only the corpus-wide arithmetic, the sort and the diversity pass remain.
//
// Providers filter by the literal text before the gateway sees anything, so
// a typo or an unfamiliar synonym can leave the gateway with nothing to
// correct. So when the text has terms that the lexicon can rewrite (synonyms
// to their canonical word, a one-typo word to the known word:
// "attorny divorce" -> "lawyer divorce"), a provider that answered with
// fewer than retryBelow results is asked once more with the rewritten text,
// right after its own first answer (not after the slowest provider's). That
// is at most two calls per provider and kind, and the second only for thin
// answers to rewritable text, so the common query costs nothing extra and
// the fallback adds one round trip to that provider. The merged candidates
// of both calls are ranked against the user's own text, so exact matches
// still come first.
func (g *Gateway) Search(ctx context.Context, p SearchParams) (hits []Hit, errs []error) {
	reg := g.registryFor(ctx)
	want := func(k gid.Kind, v connectors.Vertical) bool {
		return (len(p.Kinds) == 0 || containsKind(p.Kinds, k)) &&
			(len(p.Verticals) == 0 || containsVertical(p.Verticals, v))
	}
	lex := rank.DefaultLexicon()
	prep := rank.New(lex, rank.DefaultConfig()).Prepare(rank.Query{Text: p.Text, City: p.City})
	rewritten, ok := lex.Rewrite(p.Text)
	if !ok {
		rewritten = ""
	}
	var jobs []*searchJob
	for _, op := range searchOps {
		if !want(op.kind, op.vertical) {
			continue
		}
		conns := searchProviders(reg, op.vertical, p.City)
		q := connectors.Query{Text: p.Text, City: p.City, Category: p.Category, First: g.searchWindow(len(conns), p.Depth)}
		for _, c := range conns {
			jobs = append(jobs, &searchJob{op: op, conn: c, provider: c.Describe().ID, q: q})
		}
	}
	var wg sync.WaitGroup
	for _, j := range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			g.runSearchJob(ctx, j, prep, rewritten)
		}()
	}
	wg.Wait()
	total := 0
	for _, j := range jobs {
		total += len(j.hits)
	}
	hits = make([]Hit, 0, total+len(reg.All()))
	parts := make([]*rank.Counted, 0, len(jobs)+1)
	docs := make([][]rank.Doc, 0, len(jobs)+1)
	// One error per provider and kind of failure: a provider that timed out
	// on products and on stores is one thing for the client to know.
	type failure struct {
		provider string
		kind     connectors.Kind
	}
	reported := map[failure]bool{}
	for _, j := range jobs {
		if j.err != nil {
			kind := connectors.KindOf(j.err)
			StatsFrom(ctx).AddDegraded(j.provider, string(kind))
			if f := (failure{j.provider, kind}); !reported[f] {
				reported[f] = true
				errs = append(errs, j.err)
			}
			continue
		}
		hits = append(hits, j.hits...)
		docs = append(docs, j.docs)
		parts = append(parts, j.counted)
	}
	if len(p.Kinds) == 0 || containsKind(p.Kinds, gid.Provider) {
		var cards []Hit
		for _, c := range reg.All() {
			d := c.Describe()
			if want(gid.Provider, d.Vertical) && servesCity(d, p.City) {
				cards = append(cards, Hit{Kind: gid.Provider, Vertical: d.Vertical, Provider: d.ID, ID: d.ID, Value: d})
			}
		}
		cardDocs := docsOf(cards)
		hits = append(hits, cards...)
		docs = append(docs, cardDocs)
		parts = append(parts, prep.Count(cardDocs))
	}
	setSignals(hits, docs, p)
	ranked := rankedHits(hits, prep.Rank(parts...))
	if p.Session != "" && g.cache != nil {
		ranked = g.cache.pinOrder(ctx, p.Session, p.Fresh, ranked)
	}
	return ranked, errs
}

// searchJob is one provider and kind of a search: its calls (one, or two
// with the rewritten text) and their merged, counted answer.
type searchJob struct {
	op       searchOp
	conn     connectors.Connector
	provider string
	q        connectors.Query
	hits     []Hit
	docs     []rank.Doc
	counted  *rank.Counted
	err      error
}

// runSearchJob asks j's provider, once more with rewritten (when not empty)
// if the answer is thin, and counts the query's terms in the answer. A
// failed first call is j's error; a failed second call leaves the first
// answer standing.
func (g *Gateway) runSearchJob(ctx context.Context, j *searchJob, prep *rank.Prepared, rewritten string) {
	hits, err := g.searchCall(ctx, j, j.q)
	if err != nil {
		j.err = err
		return
	}
	if rewritten != "" && len(hits) < retryBelow {
		q := j.q
		q.Text = rewritten
		if more, err := g.searchCall(ctx, j, q); err == nil {
			hits = append(hits, more...)
		}
	}
	j.hits = uniqueHits(hits)
	j.docs = docsOf(j.hits)
	j.counted = prep.Count(j.docs)
}

// searchCall runs one search call of j's provider and kind.
func (g *Gateway) searchCall(ctx context.Context, j *searchJob, q connectors.Query) ([]Hit, error) {
	var hits []Hit
	err := g.call(ctx, j.op.vertical, j.provider, j.op.op, 0, true, func(ctx context.Context) error {
		var err error
		hits, _, err = j.op.run(j.conn, ctx, q)
		return err
	})
	if err != nil {
		return nil, err
	}
	for i := range hits {
		hits[i].Provider, hits[i].Vertical = j.provider, j.op.vertical
	}
	return hits, nil
}

// uniqueHits drops repeated IDs, keeping the first: the rewritten call
// finds some of the first call's items again, and a provider may repeat
// itself. The hits are of one provider and kind.
func uniqueHits(hits []Hit) []Hit {
	seen := make(map[string]bool, len(hits))
	out := hits[:0]
	for _, h := range hits {
		if !seen[h.ID] {
			seen[h.ID] = true
			out = append(out, h)
		}
	}
	return out
}

// servesCity reports whether d serves city ("" matches every provider).
// searchProviders are the providers a search of vertical v calls. With a
// city, only those the coverage index says serve it: a request that names a
// city never touches a provider that does not serve it. The cost is the
// providers returned, not the providers registered.
func searchProviders(reg *connectors.Registry, v connectors.Vertical, city string) []connectors.Connector {
	if city == "" {
		return reg.ByVertical(v)
	}
	return reg.Covering(v, city)
}

func servesCity(d connectors.Descriptor, city string) bool {
	if city == "" {
		return true
	}
	for _, c := range d.Cities {
		if strings.EqualFold(c, city) {
			return true
		}
	}
	return false
}

func containsKind(ks []gid.Kind, k gid.Kind) bool {
	for _, x := range ks {
		if x == k {
			return true
		}
	}
	return false
}

func containsVertical(vs []connectors.Vertical, v connectors.Vertical) bool {
	for _, x := range vs {
		if x == v {
			return true
		}
	}
	return false
}

// docOf is the ranking view of a hit: the strongest words in Name, what the
// item is in Category and Tags, the rest in Body.
func docOf(h Hit) rank.Doc {
	d := rank.Doc{Kind: string(h.Kind), Group: string(h.Vertical), Provider: h.Provider, ID: h.ID}
	switch v := h.Value.(type) {
	case connectors.Product:
		d.Name, d.Category, d.Tags, d.Body, d.Rating = v.Name, v.Category, v.Tags, v.Description+" "+v.Origin, v.Rating
		d.Cities = []string{v.City}
	case connectors.Store:
		d.Name, d.Tags, d.Body, d.Rating, d.Cities = v.Name, v.Tags, v.Address, v.Rating, []string{v.City}
	case connectors.Doctor:
		d.Name, d.Category, d.Body, d.Rating, d.Cities = v.Name, v.Specialty, v.Hospital+" "+v.Bio+" "+strings.Join(v.Languages, " "), v.Rating, []string{v.City}
	case connectors.Lawyer:
		d.Name, d.Tags, d.Body, d.Rating, d.Cities = v.Name, v.PracticeAreas, v.Firm+" "+v.Bio+" "+strings.Join(v.Languages, " "), v.Rating, []string{v.City}
		if len(v.PracticeAreas) > 0 {
			d.Category = v.PracticeAreas[0]
			d.Tags = v.PracticeAreas[1:]
		}
	case connectors.GovService:
		d.Name, d.Category, d.Tags, d.Body, d.Rating, d.Cities = v.Name, v.Category, v.Tags, v.Description, v.Rating, v.Cities
	case connectors.Descriptor:
		d.Name, d.Category, d.Body, d.Rating, d.Cities = v.Name, verticalLabels[v.Vertical], v.Description, v.Rating, v.Cities
	}
	return d
}

// docsOf is docOf of every hit.
func docsOf(hits []Hit) []rank.Doc {
	docs := make([]rank.Doc, len(hits))
	for i, h := range hits {
		docs[i] = docOf(h)
	}
	return docs
}

// setSignals sets the caller's popularity and affinity on docs, which are
// the ranking views of hits in order, split in parts. Popularities is asked
// once, for every hit.
func setSignals(hits []Hit, docs [][]rank.Doc, p SearchParams) {
	var pops []float64
	if p.Popularities != nil {
		if pops = p.Popularities(hits); len(pops) != len(hits) {
			pops = make([]float64, len(hits))
		}
	}
	if pops == nil && p.Popularity == nil && p.Affinity == nil && p.Penalty == nil {
		return
	}
	i := 0
	for _, part := range docs {
		for k := range part {
			d, h := &part[k], hits[i]
			switch {
			case pops != nil:
				d.Popularity = pops[i]
			case p.Popularity != nil:
				d.Popularity = p.Popularity(h.Kind, h.Provider, h.ID)
			}
			if p.Affinity != nil {
				d.Affinity = p.Affinity(h.Vertical, d.Category)
			}
			if p.Penalty != nil {
				d.Penalty = p.Penalty(h.Provider)
			}
			i++
		}
	}
}

// rankedHits orders hits as ranked (the results of ranking their docs, in
// the same order) with their scores, leaving out those the ranking dropped
// (no term of a text query matched). Hits must be unique by kind, provider
// and ID; the order is then a pure function of the set, so offset cursors
// into it are stable.
func rankedHits(hits []Hit, ranked []rank.Result) []Hit {
	out := make([]Hit, len(ranked))
	for i, res := range ranked {
		out[i] = hits[res.Index]
		out[i].Score = res.Score
	}
	return out
}

// verticalLabels are the verticals' names as people say them.
var verticalLabels = map[connectors.Vertical]string{
	connectors.VerticalGrocery:       "Grocery",
	connectors.VerticalMedical:       "Medical",
	connectors.VerticalLegal:         "Legal",
	connectors.VerticalPublicService: "Public services",
}

// FacetCount is how many results share one value of a facet.
type FacetCount struct {
	Value string
	// Label is the value as people say it ("Grocery", "FreshCart"); empty
	// for a provider no longer in the registry.
	Label string
	Count int
}

// SearchFacets counts a ranked result per vertical and per provider.
type SearchFacets struct {
	Verticals []FacetCount
	Providers []FacetCount
}

// Facets counts hits (the whole ranked result, not one page) per vertical
// and per provider, most first, ties by value. Provider cards (kind
// Provider) count for their own provider and vertical like any result.
func (g *Gateway) Facets(ctx context.Context, hits []Hit) SearchFacets {
	byVertical, byProvider := map[string]int{}, map[string]int{}
	for _, h := range hits {
		byVertical[string(h.Vertical)]++
		byProvider[h.Provider]++
	}
	reg := g.registryFor(ctx)
	return SearchFacets{
		Verticals: facetCounts(byVertical, func(v string) string { return verticalLabels[connectors.Vertical(v)] }),
		Providers: facetCounts(byProvider, func(id string) string {
			if c, ok := reg.Get(id); ok {
				return c.Describe().Name
			}
			return ""
		}),
	}
}

func facetCounts(counts map[string]int, label func(string) string) []FacetCount {
	out := make([]FacetCount, 0, len(counts))
	for v, n := range counts {
		out = append(out, FacetCount{Value: v, Label: label(v), Count: n})
	}
	slices.SortFunc(out, func(a, b FacetCount) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), strings.Compare(a.Value, b.Value))
	})
	return out
}
