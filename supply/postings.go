package supply

import (
	"fmt"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/query"
	index "github.com/blevesearch/bleve_index_api"
	segment "github.com/blevesearch/scorch_segment_api/v2"
)

// The walks over Compact's chunks read the segments' postings themselves.
// Bleve's term searcher opens the term's postings on every segment of the
// reader as it starts (a dictionary lookup each: 13 segments for each of
// eight terms at 2·10^6 items, a tenth of a search), although a walk that
// stops early reads the first few; and its disjunctions and conjunctions
// hand each match on as a pooled DocumentMatch, scored even when nothing
// is scored. Here a term opens a segment's postings when the walk reaches
// the segment, and a match is its document number.

// postings yields a query's matching documents in order, by their number
// in the reader (a segment's documents follow the previous segment's).
type postings interface {
	// next moves to the following match: ok is false once there is none.
	next() (doc uint64, ok bool, err error)
	// advance moves to the first match at or after doc, which lies past
	// the current match.
	advance(doc uint64) (uint64, bool, error)
	// count estimates the matches (0: not known without reading them,
	// as for the postings read here: only the walks that do not stop
	// early, over Bleve's searchers, size their lists by it).
	count() uint64
	close()
}

// postingsOf is q's postings over the reader's segments (col.segs): a
// term's, and disjunctions and conjunctions of them, read here; any other
// query (a fuzzy term, a numeric range) through its Bleve searcher.
func (col *collector) postingsOf(q query.Query) (postings, error) {
	switch q := q.(type) {
	case kindFilter:
		return col.postingsOf(q.Query)
	case *query.TermQuery:
		if q.Field() != "" {
			return &termPostings{segs: col.segs, dicts: col.dictsOf(q.Field()), field: q.Field(), term: []byte(q.Term), at: -1}, nil
		}
	case *query.DisjunctionQuery:
		if q.Min <= 1 {
			kids, err := col.postingsOfAll(q.Disjuncts)
			if err != nil {
				return nil, err
			}
			return &orPostings{kids: kids}, nil
		}
	case *query.ConjunctionQuery:
		if len(q.Conjuncts) > 0 {
			kids, err := col.postingsOfAll(q.Conjuncts)
			if err != nil {
				return nil, err
			}
			return &andPostings{kids: kids}, nil
		}
	}
	return col.searcherPostings(q)
}

func (col *collector) postingsOfAll(qs []query.Query) ([]kid, error) {
	kids := make([]kid, 0, len(qs))
	for _, q := range qs {
		p, err := col.postingsOf(q)
		if err != nil {
			for _, k := range kids {
				k.p.close()
			}
			return nil, err
		}
		kids = append(kids, kid{p: p})
	}
	return kids, nil
}

// dictsOf is the search's dictionaries of field, by segment, shared by
// its terms in that field (a text's synonyms): each opened once, when a
// term first reaches its segment.
func (col *collector) dictsOf(field string) []segment.TermDictionary {
	if col.dicts == nil {
		col.dicts = make(map[string][]segment.TermDictionary, len(scoredFields))
	}
	d, ok := col.dicts[field]
	if !ok {
		d = make([]segment.TermDictionary, len(col.segs))
		col.dicts[field] = d
	}
	return d
}

// searcherPostings is q's Bleve searcher, scoring nothing, as postings.
func (col *collector) searcherPostings(q query.Query) (postings, error) {
	s, err := q.Searcher(col.ctx, col.r, col.m.idx.Mapping(), search.SearcherOptions{Score: bleve.ScoreNone})
	if err != nil {
		return nil, fmt.Errorf("supply: search: %w", err)
	}
	return &searcherPostings{s: s, sctx: col.searchContext()}, nil
}

// searchContext is the search's context for Bleve's searchers: every
// searcher's matches come from one pool, which grows when short.
func (col *collector) searchContext() *search.SearchContext {
	if col.sctx == nil {
		col.sctx = &search.SearchContext{DocumentMatchPool: search.NewDocumentMatchPool(64, 0), IndexReader: col.r}
	}
	return col.sctx
}

// termPostings is one term's postings in one field, over the segments,
// opened a segment at a time as the walk reaches it (and never for a
// segment it passes over).
type termPostings struct {
	segs  []span
	dicts []segment.TermDictionary // the field's, shared (dictsOf)
	field string
	term  []byte
	at    int // the open segment (-1: none yet)
	it    segment.PostingsIterator
}

// open opens segment i's postings (past the last: none).
func (t *termPostings) open(i int) error {
	t.at, t.it = i, nil
	if i >= len(t.segs) {
		return nil
	}
	ss := t.segs[i].snap
	dict := t.dicts[i]
	if dict == nil {
		var err error
		if dict, err = ss.Segment().Dictionary(t.field); err != nil {
			return fmt.Errorf("supply: search: %w", err)
		}
		t.dicts[i] = dict
	}
	// Documents deleted since the segment was written (replaced items)
	// are left out, as Bleve's own reader leaves them out.
	pl, err := dict.PostingsList(t.term, ss.Deleted(), nil)
	if err != nil {
		return fmt.Errorf("supply: search: %w", err)
	}
	t.it = pl.Iterator(false, false, false, nil)
	return nil
}

func (t *termPostings) next() (uint64, bool, error) {
	if t.at < 0 {
		if err := t.open(0); err != nil {
			return 0, false, err
		}
	}
	for t.at < len(t.segs) {
		p, err := t.it.Next()
		if err != nil {
			return 0, false, fmt.Errorf("supply: search: %w", err)
		}
		if p != nil {
			return t.segs[t.at].start + p.Number(), true, nil
		}
		if err := t.open(t.at + 1); err != nil {
			return 0, false, err
		}
	}
	return 0, false, nil
}

func (t *termPostings) advance(doc uint64) (uint64, bool, error) {
	i := segAt(t.segs, doc)
	if i >= len(t.segs) {
		t.at, t.it = len(t.segs), nil
		return 0, false, nil
	}
	if i != t.at {
		if err := t.open(i); err != nil {
			return 0, false, err
		}
	}
	p, err := t.it.Advance(doc - t.segs[i].start)
	if err != nil {
		return 0, false, fmt.Errorf("supply: search: %w", err)
	}
	if p != nil {
		return t.segs[i].start + p.Number(), true, nil
	}
	if err := t.open(i + 1); err != nil {
		return 0, false, err
	}
	return t.next()
}

func (t *termPostings) count() uint64 { return 0 }
func (t *termPostings) close()        {}

// kid is one part of a disjunction or conjunction, and where it stands.
type kid struct {
	p       postings
	doc     uint64
	ok      bool // standing on doc
	started bool
}

func (k *kid) next() (err error) {
	k.doc, k.ok, err = k.p.next()
	k.started = true
	return err
}

// advance moves k to doc or past it, unless it stands there already.
func (k *kid) advance(doc uint64) (err error) {
	if k.started && (!k.ok || k.doc >= doc) {
		return nil
	}
	k.doc, k.ok, err = k.p.advance(doc)
	k.started = true
	return err
}

// orPostings is the union of its kids' matches.
type orPostings struct {
	kids    []kid
	cur     uint64
	started bool
}

func (o *orPostings) next() (uint64, bool, error) {
	for i := range o.kids {
		k := &o.kids[i]
		if !o.started || k.ok && k.doc == o.cur {
			if err := k.next(); err != nil {
				return 0, false, err
			}
		}
	}
	o.started = true
	return o.lowest()
}

func (o *orPostings) advance(doc uint64) (uint64, bool, error) {
	for i := range o.kids {
		if err := o.kids[i].advance(doc); err != nil {
			return 0, false, err
		}
	}
	o.started = true
	return o.lowest()
}

// lowest stands o on the lowest match of its kids.
func (o *orPostings) lowest() (uint64, bool, error) {
	found := false
	for i := range o.kids {
		if k := &o.kids[i]; k.ok && (!found || k.doc < o.cur) {
			o.cur, found = k.doc, true
		}
	}
	return o.cur, found, nil
}

func (o *orPostings) count() uint64 { return 0 }

func (o *orPostings) close() {
	for _, k := range o.kids {
		k.p.close()
	}
}

// andPostings is the intersection of its kids' matches, leapfrogging.
type andPostings struct {
	kids []kid
}

func (a *andPostings) next() (uint64, bool, error) {
	first := &a.kids[0]
	if err := first.next(); err != nil || !first.ok {
		return 0, false, err
	}
	return a.align()
}

func (a *andPostings) advance(doc uint64) (uint64, bool, error) {
	first := &a.kids[0]
	if err := first.advance(doc); err != nil || !first.ok {
		return 0, false, err
	}
	return a.align()
}

// align moves the kids to the first match of all of them at or after
// where the first kid stands.
func (a *andPostings) align() (uint64, bool, error) {
	first := &a.kids[0]
	for i := 1; i < len(a.kids); {
		k := &a.kids[i]
		if err := k.advance(first.doc); err != nil || !k.ok {
			return 0, false, err
		}
		if k.doc > first.doc {
			if err := first.advance(k.doc); err != nil || !first.ok {
				return 0, false, err
			}
			i = 1
			continue
		}
		i++
	}
	return first.doc, true, nil
}

func (a *andPostings) count() uint64 { return 0 }

func (a *andPostings) close() {
	for _, k := range a.kids {
		k.p.close()
	}
}

// searcherPostings is a Bleve searcher's matches as postings.
type searcherPostings struct {
	s    search.Searcher
	sctx *search.SearchContext
	cur  *search.DocumentMatch
	id   index.IndexInternalID
}

func (s *searcherPostings) set(m *search.DocumentMatch, err error) (uint64, bool, error) {
	if s.cur != nil {
		s.sctx.DocumentMatchPool.Put(s.cur)
	}
	s.cur = m
	if err != nil {
		return 0, false, fmt.Errorf("supply: search: %w", err)
	}
	if m == nil {
		return 0, false, nil
	}
	return m.IndexInternalID.Value(), true, nil
}

func (s *searcherPostings) next() (uint64, bool, error) { return s.set(s.s.Next(s.sctx)) }

func (s *searcherPostings) advance(doc uint64) (uint64, bool, error) {
	s.id = index.NewIndexInternalID(s.id[:0], doc)
	return s.set(s.s.Advance(s.sctx, s.id))
}

func (s *searcherPostings) count() uint64 { return s.s.Count() }
func (s *searcherPostings) close()        { _ = s.s.Close() }
