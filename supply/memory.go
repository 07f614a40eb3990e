package supply

import (
	"cmp"
	"container/heap"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/analysis/lang/en"
	"github.com/blevesearch/bleve/v2/document"
	"github.com/blevesearch/bleve/v2/index/scorch"
	"github.com/blevesearch/bleve/v2/mapping"
	"github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/query"
	index "github.com/blevesearch/bleve_index_api"
)

// Memory is the embedded index: Bleve in memory, plus the items and their
// versions in an itemStore (Bleve holds the inverted index; the store
// holds what a hit returns, and the versions and tombstones that order
// changes). It is
// the default for `go run .`; it lives and dies with the process, so it is
// refilled from providers' catalogues at start.
type Memory struct {
	idx bleve.Index

	// mu orders Apply calls (a version check and the write it allows are
	// one step) and guards store.
	mu sync.RWMutex
	// store holds the items and the versions of every key, deletes
	// included (tombstones).
	store *itemStore
	// live counts each provider's items (Live, the item cap), so a push
	// need not count them in Bleve, on every segment. By a 128-bit hash
	// of the provider: a map keyed by the strings was most of what the
	// collector still marked at 10^6 providers (the keys are pointers).
	live map[providerHash]int
	// held: Apply leaves Bleve alone until Compact builds it from the
	// items (Hold).
	held bool
	// chunks are the segments the last Compact wrote, by segment id (nil
	// before any, or when Bleve did not keep its writes as segments).
	chunks map[uint64]*chunk
	// head overrides compactHead (tests: chunks of a few items).
	head int
	// kinds counts the items of each kind: a filter on kinds that holds
	// every kind the index has is no filter (kindFilter).
	kinds map[Kind]int

	// chunkBytes is the chunks', bleveBytes Bleve's (memory_heap.go);
	// heapBytes and scanBytes publish them with the store's.
	chunkBytes, bleveBytes int64
	heapBytes, scanBytes   atomic.Int64
}

var _ Index = (*Memory)(nil)

// Document fields in Bleve.
const (
	fName, fCategory, fTags, fDescription = "name", "category", "tags", "description"
	fKind, fProvider, fCity               = "kind", "provider", "city"
	fCategoryKey, fRatingTier             = "category_key", "rating_tier"
	fPrice                                = "price"
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
	return &Memory{idx: idx, store: newItemStore(), kinds: map[Kind]int{}, live: map[providerHash]int{}}, nil
}

func indexMapping() mapping.IndexMapping {
	text := func() *mapping.FieldMapping {
		f := bleve.NewTextFieldMapping()
		f.Analyzer = en.AnalyzerName // lower case, stop words, Porter stemming
		f.Store = false
		f.IncludeInAll = false
		// Which field matched (the index score) is read from one searcher
		// per field, so no term vectors; nothing sorts on text, so no doc
		// values.
		f.IncludeTermVectors = false
		f.DocValues = false
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
	// Doc values serve the facets; ratings and keys, which order the
	// matches, are read from the item store only for the matches that can
	// reach a page (collect). The vertical is no field: a kind has one
	// vertical, so its filter is one on kinds and its facet sums the
	// kinds' (facetsOf).
	for _, name := range []string{fKind, fProvider, fCity, fCategoryKey} {
		doc.AddFieldMappingsAt(name, keyword())
	}
	tier := keyword()
	tier.DocValues = false // only searched: a browse walks the tiers best first
	doc.AddFieldMappingsAt(fRatingTier, tier)
	// The price is no field of the mapping: bleveDoc adds it as a
	// priceField (price.go), only range-filtered; sorts read the items
	// map.
	// No "_all" composite field: every query names its fields, and the
	// composite would have Bleve visit every token of a document a second
	// time as it indexes it.
	doc.AddSubDocumentMapping("_all", bleve.NewDocumentDisabledMapping())
	m := bleve.NewIndexMapping()
	m.DefaultMapping = doc
	m.StoreDynamic, m.IndexDynamic, m.DocValuesDynamic = false, false, false
	return m
}

// docBuilder makes items' Bleve documents: the fields the mapping
// (indexMapping) would make of them, with its options and analysers, read
// from it once, rather than MapDocument's reflective walk of a map per
// item (a tenth of what a push cost), and the price as a priceField.
type docBuilder map[string]fieldSpec

type fieldSpec struct {
	opts index.FieldIndexingOptions
	an   analysis.Analyzer
}

func newDocBuilder(m mapping.IndexMapping) (docBuilder, error) {
	impl, ok := m.(*mapping.IndexMappingImpl)
	if !ok {
		return nil, fmt.Errorf("supply: mapping %T is not indexMapping's", m)
	}
	out := docBuilder{}
	for _, name := range []string{fName, fCategory, fTags, fDescription, fKind, fProvider, fCity, fCategoryKey, fRatingTier} {
		dm := impl.DefaultMapping.Properties[name]
		if dm == nil || len(dm.Fields) != 1 {
			return nil, fmt.Errorf("supply: the mapping has no field %q", name)
		}
		fm := dm.Fields[0]
		an := m.AnalyzerNamed(fm.Analyzer)
		if an == nil {
			return nil, fmt.Errorf("supply: no analyser %q for field %q", fm.Analyzer, name)
		}
		out[name] = fieldSpec{opts: fm.Options(), an: an}
	}
	return out, nil
}

// doc is item key's document.
func (b docBuilder) doc(key string, it *Item) *document.Document {
	doc := document.NewDocument(key)
	add := func(name string, pos []uint64, v string) {
		f := b[name]
		doc.AddField(document.NewTextFieldCustom(name, pos, []byte(v), f.opts, f.an))
	}
	add(fName, nil, it.Name)
	add(fCategory, nil, it.Category)
	add(fTags, nil, strings.Join(it.Tags, " . "))
	add(fDescription, nil, it.Description)
	add(fKind, nil, string(it.Kind))
	add(fProvider, nil, it.Provider)
	for i, c := range it.Cities {
		add(fCity, []uint64{uint64(i)}, norm(c))
	}
	add(fCategoryKey, nil, norm(it.Category))
	add(fRatingTier, nil, strconv.Itoa(ratingTier(it.Rating)))
	if it.Price > 0 {
		doc.AddField(newPriceField(it.Price))
	}
	return doc
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
	docs, err := newDocBuilder(m.idx.Mapping())
	if err != nil {
		return Ack{}, err
	}
	// Decide against the versions as this batch leaves them, so an item
	// twice in one batch is ordered too; commit the maps only once Bleve
	// has taken the batch.
	pending := map[string]int64{}
	version := func(key string) (int64, bool) {
		if v, ok := pending[key]; ok {
			return v, true
		}
		r, ok := m.store.find(key)
		if !ok {
			return 0, false
		}
		return m.store.version(r), true
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
		if !m.held {
			if err := batch.IndexAdvanced(docs.doc(key, &it)); err != nil {
				return Ack{}, fmt.Errorf("supply: index %s: %w", key, err)
			}
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
		if !m.held {
			batch.Delete(key)
		}
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
		it := upserts[key] // nil: a delete
		old := m.store.put(key, it, v)
		wasLive := old != 0 && !m.store.deleted(old)
		var p providerHash
		if wasLive {
			provider, k := m.store.providerKind(old)
			p = m.store.providerHash(provider)
			// The kind's own constant as the key: an assignment stores
			// the key it is given, and a view of a record would keep
			// the record's slab.
			m.kinds[kindConst(k)]--
		}
		switch {
		case it != nil:
			m.kinds[kindConst(it.Kind)]++
			if !wasLive {
				m.live[m.store.providerHash(it.Provider)]++
			}
		case wasLive:
			if m.live[p]--; m.live[p] == 0 {
				delete(m.live, p)
			}
		}
	}
	if m.store.worthRewriting() {
		m.rewriteStore(nil)
	}
	if batch.Size() > 0 {
		m.bleveBytes = bleveHeap(m.idx)
	}
	m.publishHeap()
	return ack, nil
}

// rewriteStore drops the store's replaced records, the keys of order
// first (itemStore.rewrite), moving the chunks' references with the
// records (a chunk's reference to a replaced record is never read: Apply
// deleted its document from Bleve; it becomes 0).
func (m *Memory) rewriteStore(order []string) {
	moved := m.store.rewrite(order)
	for _, c := range m.chunks {
		for i, d := range c.docs {
			c.docs[i].ref = moved[d.ref]
		}
	}
}

// Search implements Index.
//
// Bleve finds the matches; the index's order (score, rating, key) is kept
// by collect, which walks the matches once and keeps only the best
// First+1 after the cursor in a small heap. Nothing is sorted beyond that
// heap, no term locations, stored fields or doc values are read, and a
// match's key and rating are looked up only when it could enter the heap.
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
	pass, p := 0, exact
	if c != nil && c.Pass == 1 {
		pass, p = 1, typo
	}
	collect := m.collect
	if q.Sort != SortRelevance {
		collect = func(ctx context.Context, filter []query.Query, p *plan, c *cursor, k int) (collected, error) {
			return m.collectSorted(ctx, q, filter, p, c, k)
		}
	}
	res, err := collect(ctx, filter, p, c, q.First+1)
	if err != nil {
		return Page{}, err
	}
	if c == nil && res.total == 0 && typo != nil {
		pass, p = 1, typo
		if res, err = collect(ctx, filter, p, c, q.First+1); err != nil {
			return Page{}, err
		}
	}
	page := pageOf(q, pass, res.hits, nil)
	page.Total = min(res.total, MaxMatches)
	if q.Facets {
		// Facets read doc values of every match: paid only when asked
		// (two-stage ranking does not ask).
		req := bleve.NewSearchRequestOptions(res.root, 0, 0, false)
		req.Score = bleve.ScoreNone
		addFacets(req)
		fr, err := m.current().SearchInContext(ctx, req)
		if err != nil {
			return Page{}, fmt.Errorf("supply: facets: %w", err)
		}
		page.Facets = facetsOf(fr.Facets)
	}
	return page, nil
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
		out = append(out, kindFilter{Query: bleve.NewDisjunctionQuery(any...), kinds: kindsOf(q)})
	}
	if q.City != "" {
		out = append(out, term(fCity, norm(q.City)))
	}
	if q.Category != "" {
		out = append(out, term(fCategoryKey, norm(q.Category)))
	}
	if lo, hi, ok := priceRange(q); ok {
		out = append(out, priceQuery{lo: lo, hi: hi})
	}
	return out
}

// kindFilter is the filter on kinds (a disjunction of their terms), with
// the kinds it keeps.
type kindFilter struct {
	query.Query
	kinds []Kind
}

// dropWholeKinds leaves out of filter a kindFilter that keeps every kind
// the index holds: on every match of a search across the kinds (the
// gateway's search asks for every searchable kind), it would be one more
// searcher to move. Call it under the read lock that guards the reader
// (the kinds change with Bleve, under the write lock), never while held
// (Bleve then holds documents the items no longer do).
func (m *Memory) dropWholeKinds(filter []query.Query) []query.Query {
	for i, f := range filter {
		kf, ok := f.(kindFilter)
		if !ok {
			continue
		}
		for k, n := range m.kinds {
			if n > 0 && !slices.Contains(kf.kinds, k) {
				return filter
			}
		}
		return slices.Delete(slices.Clone(filter), i, i+1)
	}
	return filter
}

// collectSorted is collect under a non-relevance sort: every match is
// read (its sort value lives in the item), and a heap keeps the k first
// after c by (sort value, key). Its hits score 0: the order is the sort's.
func (m *Memory) collectSorted(ctx context.Context, q Query, filter []query.Query, p *plan, c *cursor, k int) (collected, error) {
	var match query.Query
	if p != nil {
		match, _ = textQueries(p, m.analyser())
	}
	root := searchRoot(filter, match)
	out := collected{root: root}
	r, release, err := m.reader()
	if err != nil {
		return out, err
	}
	defer release()
	col := &collector{ctx: ctx, m: m, r: r}
	d, err := col.open(root, 0)
	if err != nil {
		return out, err
	}
	defer d.close()
	h := &sortedHeap{}
	for {
		if err := d.next(); err != nil {
			return out, err
		}
		if d.done {
			break
		}
		if err := col.count(); err != nil {
			return out, err
		}
		key, err := r.ExternalID(index.NewIndexInternalID(nil, d.doc))
		if err != nil {
			return out, fmt.Errorf("supply: search: %w", err)
		}
		ref, ok := m.store.item(key)
		if !ok {
			continue
		}
		hit := sortedHit{ref: ref, key: m.store.key(ref), sortKey: m.sortValue(q, ref)}
		if c != nil && cmp.Or(cmp.Compare(hit.sortKey, c.Value), strings.Compare(hit.key, c.Key)) <= 0 {
			continue
		}
		switch {
		case len(*h) < k:
			heap.Push(h, hit)
		case hit.before(&(*h)[0]):
			(*h)[0] = hit
			heap.Fix(h, 0)
		}
	}
	slices.SortFunc(*h, func(a, b sortedHit) int {
		if a.before(&b) {
			return -1
		}
		return 1
	})
	var l lists
	out.hits = make([]Hit, len(*h))
	for i, sh := range *h {
		out.hits[i] = Hit{Item: m.store.decode(sh.ref, &l), sortKey: sh.sortKey}
	}
	out.total = col.total
	return out, nil
}

// sortedHit is a match under a non-relevance sort: its record, key (a
// view of the record) and sort value.
type sortedHit struct {
	ref     ref
	key     string
	sortKey float64
}

// before orders by sort value, then key.
func (a *sortedHit) before(b *sortedHit) bool {
	return cmp.Or(cmp.Compare(a.sortKey, b.sortKey), strings.Compare(a.key, b.key)) < 0
}

// sortValue is sortValue of r's item, from its numbers alone.
func (m *Memory) sortValue(q Query, r ref) float64 {
	price, rating, geo, hasGeo := m.store.numbers(r)
	it := Item{Price: price, Rating: rating}
	if hasGeo {
		it.Geo = &geo
	}
	return sortValue(q, &it)
}

// sortedHeap holds hits with the last in sort order at the root.
type sortedHeap []sortedHit

func (h sortedHeap) Len() int           { return len(h) }
func (h sortedHeap) Less(i, j int) bool { return h[j].before(&h[i]) }
func (h sortedHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *sortedHeap) Push(x any)        { *h = append(*h, x.(sortedHit)) }
func (h *sortedHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// textQueries are what a text plan asks of Bleve: the conjunction that
// matches (every concept of p in some text field, a concept matching when
// one of its phrases has all its terms in one field; the typo pass adds
// one-edit fuzzy matching of single long terms), and per scoredFields
// entry the documents in which that field holds any phrase of p (the
// fields the index score counts). Phrases are analysed once, with the
// text fields' analyser, into term queries: Bleve's MatchQuery would wrap
// even a single term in a conjunction.
func textQueries(p *plan, analyse func(string) []string) (match query.Query, fields []query.Query) {
	phrase := func(field, ph string, fuzzy bool) query.Query {
		terms := analyse(ph)
		qs := make([]query.Query, len(terms))
		for i, t := range terms {
			if fuzzy {
				fq := bleve.NewFuzzyQuery(t)
				fq.SetField(field)
				fq.SetFuzziness(1)
				qs[i] = fq
			} else {
				tq := bleve.NewTermQuery(t)
				tq.SetField(field)
				qs[i] = tq
			}
		}
		if len(qs) == 0 {
			return bleve.NewMatchNoneQuery() // only stop words
		}
		if fuzzy {
			return anyOf(qs)
		}
		return conj(qs)
	}
	perField := make([][]query.Query, len(scoredFields))
	var all []query.Query
	for _, phrases := range p.concepts {
		var any []query.Query
		for _, ph := range phrases {
			for i, field := range scoredFields {
				qs := []query.Query{phrase(field, ph, false)}
				if p.fuzzy && fuzzyTerm(ph) {
					qs = append(qs, phrase(field, ph, true))
				}
				any = append(any, qs...)
				perField[i] = append(perField[i], qs...)
			}
		}
		all = append(all, anyOf(any))
	}
	fields = make([]query.Query, len(scoredFields))
	for i := range perField {
		fields[i] = anyOf(perField[i])
	}
	return conj(all), fields
}

// analyser returns the text fields' analysis of a phrase into terms.
func (m *Memory) analyser() func(string) []string {
	a := m.current().Mapping().AnalyzerNamed(en.AnalyzerName)
	return func(ph string) []string {
		var out []string
		for _, tok := range a.Analyze([]byte(ph)) {
			if t := string(tok.Term); !slices.Contains(out, t) {
				out = append(out, t)
			}
		}
		return out
	}
}

// anyOf is the disjunction of qs; the query itself for one.
func anyOf(qs []query.Query) query.Query {
	if len(qs) == 1 {
		return qs[0]
	}
	return bleve.NewDisjunctionQuery(qs...)
}

// conj is the conjunction of qs; nil for none, the query itself for one.
func conj(qs []query.Query) query.Query {
	switch len(qs) {
	case 0:
		return nil
	case 1:
		return qs[0]
	}
	return bleve.NewConjunctionQuery(qs...)
}

var facetFields = []string{fKind, fCity, fCategoryKey, fProvider}

func addFacets(req *bleve.SearchRequest) {
	for _, f := range facetFields {
		req.AddFacet(f, bleve.NewFacetRequest(f, facetEntries))
	}
}

func facetsOf(fr search.FacetResults) Facets {
	counts := func(field string) map[string]int {
		out := map[string]int{}
		if r, ok := fr[field]; ok && r.Terms != nil {
			for _, t := range r.Terms.Terms() {
				out[t.Term] = t.Count
			}
		}
		return out
	}
	list := func(field string) []FacetCount { return facetList(counts(field)) }
	// Every kind is counted (there are fewer than facetEntries), so the
	// verticals' counts are exact.
	verticals := map[string]int{}
	for kind, n := range counts(fKind) {
		verticals[string(verticalOf[Kind(kind)])] += n
	}
	return Facets{Verticals: facetList(verticals), Kinds: list(fKind), Cities: list(fCity), Categories: list(fCategoryKey), Providers: list(fProvider)}
}

// Close implements Index.
func (m *Memory) Close() error { return m.current().Close() }

// Len is the number of live items (deletes excluded).
func (m *Memory) Len() int {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.store.live
}
