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
	// Session, when set, pins the ranked order while a client pages through
	// it: the first page (Fresh) stores the order under this key in the
	// shared cache; later pages put the fresh candidates back into that
	// order, so a signal that moved in between (popularity, affinity, a
	// provider's data) cannot move an item across a page boundary — no item
	// twice, none missing. It takes effect only when the gateway has a cache.
	Session string
	Fresh   bool
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

// Search fans the query out to every provider of the selected verticals in
// parallel, one call per provider and kind, each asking for the provider's
// top SearchWindow results; ranks the merged results with one relevance
// score (package rank); and returns the whole ranked list (callers page
// through it). A failing provider is left out, recorded as degraded, and its
// error returned in errs.
//
// Providers filter by the literal text before the gateway sees anything, so
// a typo or an unfamiliar synonym can leave the gateway with nothing to
// correct. So when the text has terms that the lexicon can rewrite (synonyms
// to their canonical word, a one-typo word to the known word:
// "attorny divorce" -> "lawyer divorce"), every provider that answered with
// fewer than retryBelow results is asked once more with the rewritten text,
// after the first round. That is at most two calls per provider and kind,
// and the second only for thin answers to rewritable text, so the common
// query costs nothing extra and the fallback adds one round trip. The
// merged candidates of both rounds are ranked against the user's own text,
// so exact matches still come first.
func (g *Gateway) Search(ctx context.Context, p SearchParams) (hits []Hit, errs []error) {
	reg := g.Registry()
	want := func(k gid.Kind, v connectors.Vertical) bool {
		return (len(p.Kinds) == 0 || containsKind(p.Kinds, k)) &&
			(len(p.Verticals) == 0 || containsVertical(p.Verticals, v))
	}
	lex := rank.DefaultLexicon()
	q := connectors.Query{Text: p.Text, City: p.City, Category: p.Category, First: g.cfg.SearchWindow}
	var jobs []*searchJob
	for _, op := range searchOps {
		if !want(op.kind, op.vertical) {
			continue
		}
		for _, c := range reg.ByVertical(op.vertical) {
			jobs = append(jobs, &searchJob{op: op, conn: c, provider: c.Describe().ID})
		}
	}
	g.runSearchJobs(ctx, jobs, q)
	if rewritten, ok := lex.Rewrite(p.Text); ok {
		var thin []*searchJob
		for _, j := range jobs {
			if j.err == nil && len(j.hits) < retryBelow {
				thin = append(thin, &searchJob{op: j.op, conn: j.conn, provider: j.provider})
			}
		}
		q2 := q
		q2.Text = rewritten
		g.runSearchJobs(ctx, thin, q2)
		for _, j := range thin {
			// A failed second call leaves the first answer standing; hits
			// found by both calls are merged below.
			if j.err == nil {
				jobs = append(jobs, j)
			}
		}
	}
	type hitKey struct {
		kind         gid.Kind
		provider, id string
	}
	seen := map[hitKey]bool{}
	for _, j := range jobs {
		if j.err != nil {
			StatsFrom(ctx).AddDegraded(j.provider, string(connectors.KindOf(j.err)))
			errs = append(errs, j.err)
			continue
		}
		for _, h := range j.hits {
			if k := (hitKey{h.Kind, h.Provider, h.ID}); !seen[k] {
				seen[k] = true
				hits = append(hits, h)
			}
		}
	}
	if len(p.Kinds) == 0 || containsKind(p.Kinds, gid.Provider) {
		for _, c := range reg.All() {
			d := c.Describe()
			if want(gid.Provider, d.Vertical) && servesCity(d, p.City) {
				hits = append(hits, Hit{Kind: gid.Provider, Vertical: d.Vertical, Provider: d.ID, ID: d.ID, Value: d})
			}
		}
	}
	ranked := rankHits(rank.New(lex, rank.DefaultConfig()), hits, p)
	if p.Session != "" && g.cache != nil {
		ranked = g.cache.pinOrder(ctx, p.Session, p.Fresh, ranked)
	}
	return ranked, errs
}

// searchJob is one provider call of a search round.
type searchJob struct {
	op       searchOp
	conn     connectors.Connector
	provider string
	hits     []Hit
	err      error
}

// runSearchJobs runs jobs in parallel, filling each job's hits or err.
func (g *Gateway) runSearchJobs(ctx context.Context, jobs []*searchJob, q connectors.Query) {
	var wg sync.WaitGroup
	for _, j := range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var hits []Hit
			j.err = g.call(ctx, j.provider, j.op.op, 0, true, func(ctx context.Context) error {
				var err error
				hits, _, err = j.op.run(j.conn, ctx, q)
				return err
			})
			for i := range hits {
				hits[i].Provider, hits[i].Vertical = j.provider, j.op.vertical
			}
			j.hits = hits
		}()
	}
	wg.Wait()
}

// servesCity reports whether d serves city ("" matches every provider).
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

// rankHits orders hits with r, adding the caller's popularity and affinity
// signals, and drops those that match no term of a text query. Hits must be
// unique by kind, provider and ID; the order is then a pure function of the
// set, so offset cursors into it are stable.
func rankHits(r *rank.Ranker, hits []Hit, p SearchParams) []Hit {
	docs := make([]rank.Doc, len(hits))
	var pops []float64
	if p.Popularities != nil {
		if pops = p.Popularities(hits); len(pops) != len(hits) {
			pops = make([]float64, len(hits))
		}
	}
	for i, h := range hits {
		docs[i] = docOf(h)
		switch {
		case pops != nil:
			docs[i].Popularity = pops[i]
		case p.Popularity != nil:
			docs[i].Popularity = p.Popularity(h.Kind, h.Provider, h.ID)
		}
		if p.Affinity != nil {
			docs[i].Affinity = p.Affinity(h.Vertical, docs[i].Category)
		}
	}
	ranked := r.Rank(rank.Query{Text: p.Text, City: p.City}, docs)
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
func (g *Gateway) Facets(hits []Hit) SearchFacets {
	byVertical, byProvider := map[string]int{}, map[string]int{}
	for _, h := range hits {
		byVertical[string(h.Vertical)]++
		byProvider[h.Provider]++
	}
	reg := g.Registry()
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
