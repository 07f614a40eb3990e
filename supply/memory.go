package supply

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis/lang/en"
	"github.com/blevesearch/bleve/v2/index/scorch"
	"github.com/blevesearch/bleve/v2/mapping"
	"github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/query"
)

// Memory is the embedded index: Bleve in memory, plus the items and their
// versions in maps (Bleve holds the inverted index; the maps hold what a
// hit returns, and the versions and tombstones that order changes). It is
// the default for `go run .`; it lives and dies with the process, so it is
// refilled from providers' catalogues at start.
type Memory struct {
	idx bleve.Index

	// mu orders Apply calls (a version check and the write it allows are
	// one step) and guards items and versions.
	mu       sync.RWMutex
	items    map[string]*Item
	versions map[string]int64 // by key, including deletes (tombstones)
}

var _ Index = (*Memory)(nil)

// Document fields in Bleve.
const (
	fName, fCategory, fTags, fDescription = "name", "category", "tags", "description"
	fKind, fVertical, fProvider, fCity    = "kind", "vertical", "provider", "city"
	fCategoryKey, fRating, fKey           = "category_key", "rating", "key"
)

var fieldWeights = map[string]int{fName: weightName, fCategory: weightCategory, fTags: weightTags, fDescription: weightDescription}

// NewMemory returns an empty in-memory index.
func NewMemory() (*Memory, error) {
	// Scorch with no path keeps its segments in memory; it indexes and
	// searches an order of magnitude faster than NewMemOnly's upsidedown
	// over a treap.
	idx, err := bleve.NewUsing("", indexMapping(), scorch.Name, scorch.Name, nil)
	if err != nil {
		return nil, fmt.Errorf("supply: bleve: %w", err)
	}
	return &Memory{idx: idx, items: map[string]*Item{}, versions: map[string]int64{}}, nil
}

func indexMapping() mapping.IndexMapping {
	text := func() *mapping.FieldMapping {
		f := bleve.NewTextFieldMapping()
		f.Analyzer = en.AnalyzerName // lower case, stop words, Porter stemming
		f.Store = false
		f.IncludeInAll = false
		f.IncludeTermVectors = true // which field matched: the index score
		return f
	}
	keyword := func() *mapping.FieldMapping {
		f := bleve.NewKeywordFieldMapping()
		f.Store = false
		f.IncludeInAll = false
		f.IncludeTermVectors = false
		return f
	}
	doc := bleve.NewDocumentStaticMapping()
	for _, name := range []string{fName, fCategory, fTags, fDescription} {
		doc.AddFieldMappingsAt(name, text())
	}
	for _, name := range []string{fKind, fVertical, fProvider, fCity, fCategoryKey, fKey} {
		doc.AddFieldMappingsAt(name, keyword())
	}
	rating := bleve.NewNumericFieldMapping()
	rating.Store, rating.IncludeInAll = false, false
	doc.AddFieldMappingsAt(fRating, rating)
	m := bleve.NewIndexMapping()
	m.DefaultMapping = doc
	m.StoreDynamic, m.IndexDynamic, m.DocValuesDynamic = false, false, false
	return m
}

func bleveDoc(it *Item) map[string]any {
	cities := make([]string, len(it.Cities))
	for i, c := range it.Cities {
		cities[i] = norm(c)
	}
	return map[string]any{
		fName: it.Name, fCategory: it.Category, fTags: strings.Join(it.Tags, " . "), fDescription: it.Description,
		fKind: string(it.Kind), fVertical: string(verticalOf[it.Kind]), fProvider: it.Provider, fCity: cities,
		fCategoryKey: norm(it.Category), fRating: it.Rating, fKey: it.Ref().Key(),
	}
}

// Apply implements Index.
func (m *Memory) Apply(ctx context.Context, b Batch) (Ack, error) {
	if err := ctx.Err(); err != nil {
		return Ack{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	ack := Ack{Results: make([]Result, 0, len(b.Upserts)+len(b.Deletes))}
	batch := m.idx.NewBatch()
	// Decide against the versions as this batch leaves them, so an item
	// twice in one batch is ordered too; commit the maps only once Bleve
	// has taken the batch.
	pending := map[string]int64{}
	version := func(key string) (int64, bool) {
		if v, ok := pending[key]; ok {
			return v, true
		}
		v, ok := m.versions[key]
		return v, ok
	}
	upserts := map[string]*Item{}
	deletes := map[string]bool{}
	for i := range b.Upserts {
		it := b.Upserts[i]
		r := it.Ref()
		if err := checkItem(&it); err != nil {
			ack.Results = append(ack.Results, Result{Ref: r, Outcome: Rejected, Err: err})
			continue
		}
		key := r.Key()
		if v, ok := version(key); ok && v >= r.Version {
			ack.Results = append(ack.Results, Result{Ref: r, Outcome: Superseded})
			continue
		}
		it.Tags, it.Cities = slices.Clone(it.Tags), slices.Clone(it.Cities)
		it.Version = r.Version
		if err := batch.Index(key, bleveDoc(&it)); err != nil {
			return Ack{}, fmt.Errorf("supply: index %s: %w", key, err)
		}
		pending[key], upserts[key] = r.Version, &it
		delete(deletes, key)
		ack.Results = append(ack.Results, Result{Ref: r, Outcome: Indexed})
	}
	for _, r := range b.Deletes {
		if err := checkRef(r); err != nil {
			ack.Results = append(ack.Results, Result{Ref: r, Outcome: Rejected, Err: err})
			continue
		}
		key := r.Key()
		if v, ok := version(key); ok && v >= r.Version {
			ack.Results = append(ack.Results, Result{Ref: r, Outcome: Superseded})
			continue
		}
		batch.Delete(key)
		pending[key], deletes[key] = r.Version, true
		delete(upserts, key)
		ack.Results = append(ack.Results, Result{Ref: r, Outcome: Indexed})
	}
	if batch.Size() > 0 {
		if err := m.idx.Batch(batch); err != nil {
			return Ack{}, fmt.Errorf("supply: bleve batch: %w", err)
		}
	}
	for key, v := range pending {
		m.versions[key] = v
	}
	for key, it := range upserts {
		m.items[key] = it
	}
	for key := range deletes {
		delete(m.items, key)
	}
	return ack, nil
}

// Search implements Index.
func (m *Memory) Search(ctx context.Context, q Query) (Page, error) {
	q, err := checkQuery(q)
	if err != nil {
		return Page{}, err
	}
	c, err := decodeCursor(q)
	if err != nil {
		return Page{}, err
	}
	filter := filters(q)
	exact, typo := plans(q.Text)
	if exact == nil {
		return m.browse(ctx, q, filter, c)
	}
	pass, p := 0, exact
	if c != nil && c.Pass == 1 {
		pass, p = 1, typo
	}
	res, err := m.textSearch(ctx, q, filter, p)
	if err != nil {
		return Page{}, err
	}
	if c == nil && res.Total == 0 {
		pass, p = 1, typo
		if res, err = m.textSearch(ctx, q, filter, p); err != nil {
			return Page{}, err
		}
	}
	// Sort references (the key is Bleve's document ID) and copy out only
	// the page: a broad query matches thousands of items.
	type match struct {
		it    *Item
		score int
		key   string
	}
	ms := make([]match, 0, len(res.Hits))
	m.mu.RLock()
	for _, dm := range res.Hits {
		it, ok := m.items[dm.ID]
		if !ok {
			continue // deleted since Bleve answered
		}
		score := 0
		for field := range dm.Locations {
			score += fieldWeights[field]
		}
		ms = append(ms, match{it: it, score: score, key: dm.ID})
	}
	m.mu.RUnlock()
	order := func(a, b *match) int {
		return cmp.Or(cmp.Compare(b.score, a.score), cmp.Compare(b.it.Rating, a.it.Rating), strings.Compare(a.key, b.key))
	}
	slices.SortFunc(ms, func(a, b match) int { return order(&a, &b) })
	if c != nil {
		at := match{it: &Item{Rating: c.Rating}, score: c.Score, key: c.Key}
		i, _ := slices.BinarySearchFunc(ms, &at, func(x match, at *match) int {
			if order(&x, at) <= 0 {
				return -1
			}
			return 1
		})
		ms = ms[i:]
	}
	hits := make([]Hit, 0, min(len(ms), q.First+1))
	for _, mt := range ms[:min(len(ms), q.First+1)] {
		hits = append(hits, Hit{Item: cloneItem(mt.it), Score: mt.score})
	}
	page := pageOf(q, pass, hits, nil)
	page.Total = min(int(res.Total), MaxMatches)
	if q.Facets {
		page.Facets = facetsOf(res.Facets)
	}
	return page, nil
}

func (m *Memory) textSearch(ctx context.Context, q Query, filter []query.Query, p *plan) (*bleve.SearchResult, error) {
	must := append(slices.Clone(filter), textQuery(p))
	req := bleve.NewSearchRequestOptions(bleve.NewConjunctionQuery(must...), MaxMatches, 0, false)
	req.IncludeLocations = true
	req.Score = bleve.ScoreNone // the order is the index score, computed from the locations
	if q.Facets {
		addFacets(req)
	}
	res, err := m.idx.SearchInContext(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("supply: search: %w", err)
	}
	return res, nil
}

// browse pages through everything that passes the filters, best rated
// first, with the cursor as a range condition so Bleve sorts only what
// follows it.
func (m *Memory) browse(ctx context.Context, q Query, filter []query.Query, c *cursor) (Page, error) {
	must := slices.Clone(filter)
	if c != nil {
		must = append(must, afterQuery(c))
	}
	var root query.Query = bleve.NewMatchAllQuery()
	if len(must) > 0 {
		root = bleve.NewConjunctionQuery(must...)
	}
	req := bleve.NewSearchRequestOptions(root, q.First+1, 0, false)
	req.SortBy([]string{"-" + fRating, fKey})
	req.Score = bleve.ScoreNone
	if q.Facets && c == nil {
		addFacets(req)
	}
	res, err := m.idx.SearchInContext(ctx, req)
	if err != nil {
		return Page{}, fmt.Errorf("supply: search: %w", err)
	}
	total, facets := int(res.Total), res.Facets
	if c != nil {
		// The page's own total counts only what follows the cursor.
		var all query.Query = bleve.NewMatchAllQuery()
		if len(filter) > 0 {
			all = bleve.NewConjunctionQuery(filter...)
		}
		creq := bleve.NewSearchRequestOptions(all, 0, 0, false)
		if q.Facets {
			addFacets(creq)
		}
		cres, err := m.idx.SearchInContext(ctx, creq)
		if err != nil {
			return Page{}, fmt.Errorf("supply: count: %w", err)
		}
		total, facets = int(cres.Total), cres.Facets
	}
	hits := make([]Hit, 0, len(res.Hits))
	m.mu.RLock()
	for _, dm := range res.Hits {
		if it, ok := m.items[dm.ID]; ok {
			hits = append(hits, Hit{Item: cloneItem(it)})
		}
	}
	m.mu.RUnlock()
	page := pageOf(q, 0, hits, nil)
	page.Total = total
	if q.Facets {
		page.Facets = facetsOf(facets)
	}
	return page, nil
}

// afterQuery matches browse hits after c: a lower rating, or the same
// rating and a greater key.
func afterQuery(c *cursor) query.Query {
	t, f := true, false
	r := c.Rating
	lower := bleve.NewNumericRangeInclusiveQuery(nil, &r, nil, &f)
	lower.SetField(fRating)
	same := bleve.NewNumericRangeInclusiveQuery(&r, &r, &t, &t)
	same.SetField(fRating)
	later := bleve.NewTermRangeInclusiveQuery(c.Key, "", &f, nil)
	later.SetField(fKey)
	return bleve.NewDisjunctionQuery(lower, bleve.NewConjunctionQuery(same, later))
}

// filters are q's vertical, kind, city and category conditions.
func filters(q Query) []query.Query {
	var out []query.Query
	term := func(field, v string) query.Query {
		t := bleve.NewTermQuery(v)
		t.SetField(field)
		return t
	}
	if len(q.Kinds) > 0 || len(q.Verticals) > 0 {
		var any []query.Query
		for _, k := range kindsOf(q) {
			any = append(any, term(fKind, string(k)))
		}
		if len(any) == 0 {
			any = append(any, bleve.NewMatchNoneQuery())
		}
		out = append(out, bleve.NewDisjunctionQuery(any...))
	}
	if q.City != "" {
		out = append(out, term(fCity, norm(q.City)))
	}
	if q.Category != "" {
		out = append(out, term(fCategoryKey, norm(q.Category)))
	}
	return out
}

// textQuery matches every concept of p in some text field; a concept
// matches when one of its phrases has all its terms in one field. The typo
// pass adds one-edit fuzzy matching of single long terms.
func textQuery(p *plan) query.Query {
	var all []query.Query
	for _, phrases := range p.concepts {
		var any []query.Query
		for _, ph := range phrases {
			for field := range fieldWeights {
				mq := bleve.NewMatchQuery(ph)
				mq.SetField(field)
				mq.SetOperator(query.MatchQueryOperatorAnd)
				any = append(any, mq)
				if p.fuzzy && fuzzyTerm(ph) {
					fq := bleve.NewMatchQuery(ph)
					fq.SetField(field)
					fq.SetFuzziness(1)
					any = append(any, fq)
				}
			}
		}
		all = append(all, bleve.NewDisjunctionQuery(any...))
	}
	return bleve.NewConjunctionQuery(all...)
}

var facetFields = []string{fVertical, fKind, fCity, fCategoryKey, fProvider}

func addFacets(req *bleve.SearchRequest) {
	for _, f := range facetFields {
		req.AddFacet(f, bleve.NewFacetRequest(f, facetEntries))
	}
}

func facetsOf(fr search.FacetResults) Facets {
	list := func(field string) []FacetCount {
		counts := map[string]int{}
		if r, ok := fr[field]; ok && r.Terms != nil {
			for _, t := range r.Terms.Terms() {
				counts[t.Term] = t.Count
			}
		}
		return facetList(counts)
	}
	return Facets{Verticals: list(fVertical), Kinds: list(fKind), Cities: list(fCity), Categories: list(fCategoryKey), Providers: list(fProvider)}
}

func cloneItem(it *Item) Item {
	c := *it
	c.Tags, c.Cities = slices.Clone(it.Tags), slices.Clone(it.Cities)
	if it.Geo != nil {
		g := *it.Geo
		c.Geo = &g
	}
	return c
}

// Close implements Index.
func (m *Memory) Close() error { return m.idx.Close() }

// Len is the number of live items (deletes excluded).
func (m *Memory) Len() int {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return len(m.items)
}
