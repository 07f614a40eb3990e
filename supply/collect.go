package supply

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/index/scorch"
	"github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/query"
	index "github.com/blevesearch/bleve_index_api"
	segment "github.com/blevesearch/scorch_segment_api/v2"
)

// The embedded index's own collector. Bleve's collector would order the
// matches by reading a rating and a key per match from doc values (about
// a microsecond each: most of a country-wide query's time) and the field
// score from term locations. This one walks Bleve's postings once, scores
// each match by which text fields hold it (one cursor per field, no term
// vectors), and reads a match's key and item (for its rating) only when
// its score can still put it on the page; a heap keeps the k best in the
// index's order (score, rating, key).

// scoredFields are the text fields of the index score, heaviest first.
var scoredFields = []string{fName, fCategory, fTags, fDescription}

// maxScore is the score of a match in every scored field.
const maxScore = weightName + weightCategory + weightTags + weightDescription

// ratingTiers: a browse (every match scores 0) walks the items by rating
// tier, best first, and stops reading items once the page is full; tier t
// holds ratings in [t/2, (t+1)/2), 5.0 in the last.
const ratingTiers = 11

func ratingTier(r float64) int { return min(max(int(r*2), 0), ratingTiers-1) }

// collected is what collect found: the best hits in order, how many
// items matched in all, and the query that matched them (for facets).
type collected struct {
	hits  []Hit
	total int
	root  query.Query
}

// candidate is a match that may enter the page: what the order compares,
// and the item's record.
type candidate struct {
	score  int
	rating float64
	// ord is the item's place in Compact's browse order, from 1, for an
	// item of its chunks (0: another): between two such items of one
	// rating it orders as their keys do, without reading them.
	ord uint32
	// key is a view of the record; "" for a chunk's match until it
	// enters the heap or meets a comparison that reads keys (offer).
	key string
	ref ref
}

// before reports whether a comes before b in the index's order.
func (a *candidate) before(b *candidate) bool {
	switch {
	case a.score != b.score:
		return a.score > b.score
	case a.rating != b.rating:
		return a.rating > b.rating
	case a.ord != 0 && b.ord != 0:
		return a.ord < b.ord
	}
	return a.key < b.key
}

// after reports whether a follows cursor position c.
func (a *candidate) after(c *cursor) bool {
	return cmp.Or(cmp.Compare(a.score, c.Score), cmp.Compare(a.rating, c.Rating), strings.Compare(c.Key, a.key)) < 0
}

// ahead reports whether a comes before b, first reading from s the keys
// the comparison needs and a chunk's candidate does not hold yet: only
// between two candidates of one score and rating, not both of the chunks.
// (A chunk's candidate reads its key lazily: most that enter the heap
// leave it again, and a key is a cache miss in a store of millions.)
func ahead(s *itemStore, a, b *candidate) bool {
	if a.score == b.score && a.rating == b.rating && (a.ord == 0 || b.ord == 0) {
		if a.key == "" {
			a.key = s.key(a.ref)
		}
		if b.key == "" {
			b.key = s.key(b.ref)
		}
	}
	return a.before(b)
}

// worstFirst is a heap of candidates whose root is the one that would
// leave the page first.
type worstFirst []candidate

// Not container/heap: its Push takes an interface, an allocation per
// candidate, and its calls through one are not inlined.

func (h worstFirst) less(s *itemStore, i, j int) bool { return ahead(s, &h[j], &h[i]) }

// push adds c (s holds the candidates' records).
func (h *worstFirst) push(s *itemStore, c candidate) {
	*h = append(*h, c)
	q := *h
	for i := len(q) - 1; i > 0; {
		parent := (i - 1) / 2
		if !q.less(s, i, parent) {
			break
		}
		q[i], q[parent] = q[parent], q[i]
		i = parent
	}
}

// replaceRoot puts c in place of the root and restores the order.
func (h worstFirst) replaceRoot(s *itemStore, c candidate) {
	h[0] = c
	h.down(s, 0, len(h))
}

// down moves h[i] down the heap of h's first n candidates to its place.
func (h worstFirst) down(s *itemStore, i, n int) {
	for {
		l := 2*i + 1
		if l >= n {
			return
		}
		m := l
		if r := l + 1; r < n && h.less(s, r, l) {
			m = r
		}
		if !h.less(s, m, i) {
			return
		}
		h[i], h[m] = h[m], h[i]
		i = m
	}
}

// sortBestFirst orders h best first, in place, by taking the worst off
// the heap's end one at a time. (A sort by a function on candidates
// copied each one to compare it: 6% of a search at 10^6 items, for 400.)
func (h worstFirst) sortBestFirst(s *itemStore) {
	for end := len(h) - 1; end > 0; end-- {
		h[0], h[end] = h[end], h[0]
		h.down(s, 0, end)
	}
}

// docCursor follows one query's matches in document order.
type docCursor struct {
	p             postings
	weight        int
	doc           uint64 // where it stands, once started and until done
	started, done bool
}

func (d *docCursor) set(doc uint64, ok bool, err error) error {
	d.doc, d.done, d.started = doc, !ok, true
	return err
}

// next moves to the following match.
func (d *docCursor) next() error {
	if d.done {
		return nil
	}
	return d.set(d.p.next())
}

// advance moves to the first match at or after doc (never back).
func (d *docCursor) advance(doc uint64) error {
	if d.done || (d.started && d.doc >= doc) {
		return nil
	}
	return d.set(d.p.advance(doc))
}

// at reports whether the cursor stands on doc.
func (d *docCursor) at(doc uint64) bool {
	return d.started && !d.done && d.doc == doc
}

func (d *docCursor) close() { d.p.close() }

// collector keeps the k best matches after a cursor.
type collector struct {
	ctx context.Context
	m   *Memory
	r   index.IndexReader
	// sctx is Bleve's searchers' context (searchContext), made when the
	// first of them opens: a walk over the chunks may open none.
	sctx  *search.SearchContext
	c     *cursor
	k     int
	h     worstFirst
	total int
	// scored is the pooled list the first step of a text query fills.
	scored []scored
	// segs are the reader's segments in document order, with the chunks
	// Compact wrote (nil when the index was not compacted, or is held);
	// sortedEnd is where the leading run of those chunks, in their
	// written order, ends (0: none, no early stop).
	segs      []span
	sortedEnd uint64
	// lastSeg is the segment segOf found last.
	lastSeg int
	// dicts are the segments' dictionaries opened so far, by field
	// (dictsOf).
	dicts map[string][]segment.TermDictionary
}

// span is one segment of the reader: its document numbers [start, end),
// and the chunk it is, if Compact wrote it.
type span struct {
	start, end uint64
	snap       *scorch.SegmentSnapshot
	c          *chunk
}

// spans lays out r's segments when they include Compact's chunks.
func (col *collector) spans() {
	snap, ok := col.r.(*scorch.IndexSnapshot)
	if !ok || col.m.chunks == nil || col.m.held {
		return
	}
	var at uint64
	col.segs = make([]span, 0, len(snap.Segments()))
	for _, seg := range snap.Segments() {
		n := seg.Segment().Count()
		col.segs = append(col.segs, span{start: at, end: at + n, snap: seg, c: col.m.chunks[seg.Id()]})
		at += n
	}
	// The chunks lead, in the order written, unless Bleve moved them:
	// then keys still come from them, but no walk stops early.
	last := -1
	for _, sp := range col.segs {
		if sp.c == nil || sp.c.pos <= last {
			break
		}
		last, col.sortedEnd = sp.c.pos, sp.end
	}
	for _, sp := range col.segs {
		if sp.c != nil && sp.end > col.sortedEnd {
			col.sortedEnd = 0
		}
	}
}

// segAt is the index in segs of the segment holding doc (len(segs) past
// the last).
func segAt(segs []span, doc uint64) int {
	i, _ := slices.BinarySearchFunc(segs, doc, func(sp span, doc uint64) int {
		switch {
		case sp.end <= doc:
			return -1
		case sp.start > doc:
			return 1
		}
		return 0
	})
	return i
}

// segOf is segAt(col.segs, doc) for a walk: matches come in document
// order, so most are in the segment of the one before, found without a
// search (col.segs must not be empty).
func (col *collector) segOf(doc uint64) int {
	i := col.lastSeg
	if sp := &col.segs[i]; doc < sp.start || doc >= sp.end {
		i = segAt(col.segs, doc)
		col.lastSeg = min(i, len(col.segs)-1)
	}
	return i
}

// candidateOf is document id as a candidate of score (ref 0: not
// live). A document of a chunk is read from the chunk (array reads, none
// of the item itself): while Bleve holds it undeleted, its item is the one
// Compact wrote, since Apply deletes a replaced or deleted item's document
// under the lock that changes the items (and a held index has no segs).
// Any other is looked up by its stored id.
func (col *collector) candidateOf(doc uint64, score int) (candidate, error) {
	if len(col.segs) > 0 {
		if i := col.segOf(doc); i < len(col.segs) && col.segs[i].c != nil {
			c, at := col.segs[i].c, doc-col.segs[i].start
			d := &c.docs[at]
			return candidate{score: score, rating: d.rating, ord: c.first + d.ord + 1, ref: d.ref}, nil
		}
	}
	key, err := col.r.ExternalID(index.NewIndexInternalID(nil, doc))
	if err != nil {
		return candidate{}, fmt.Errorf("supply: search: %w", err)
	}
	r, ok := col.m.store.item(key)
	if !ok {
		return candidate{}, nil
	}
	return candidate{score: score, rating: col.m.store.rating(r), key: key, ref: r}, nil
}

// count counts one match, checking now and then that the search is
// still wanted.
func (col *collector) count() error {
	if col.total%1024 == 0 {
		if err := col.ctx.Err(); err != nil {
			return err
		}
	}
	col.total++
	return nil
}

// offer reads match id's key and item and keeps it if it belongs in the
// heap.
func (col *collector) offer(doc uint64, score int) error {
	if len(col.h) == col.k && score < col.h[0].score {
		return nil // below the whole page: not worth reading
	}
	cand, err := col.candidateOf(doc, score)
	if err != nil {
		return err
	}
	if cand.ref == 0 {
		return nil // not live (Apply updates Bleve and the maps under one lock; kept safe)
	}
	// A chunk's match reads its key only when something compares keys:
	// the cursor, or the heap's order between two of one score and
	// rating (ahead). Most matches read are turned away by rating and
	// place alone.
	s := col.m.store
	if col.c != nil {
		if cand.key == "" {
			cand.key = s.key(cand.ref)
		}
		if !cand.after(col.c) {
			return nil
		}
	}
	switch {
	case len(col.h) < col.k:
		col.h.push(s, cand)
	case ahead(s, &cand, &col.h[0]):
		col.h.replaceRoot(s, cand)
	}
	return nil
}

func (col *collector) hits() []Hit {
	col.h.sortBestFirst(col.m.store)
	out := make([]Hit, len(col.h))
	var l lists
	for i := range col.h {
		// Records are replaced, never changed: the hit's strings are
		// views of its record (Hit says they are read-only).
		out[i] = Hit{Item: col.m.store.decode(col.h[i].ref, &l), Score: col.h[i].score}
	}
	return out
}

// open starts a cursor over q's matches. Over Compact's chunks, whose
// walks stop early, it reads the segments' postings as it goes
// (postingsOf); otherwise it is Bleve's searcher, scoring nothing (the
// collector scores).
func (col *collector) open(q query.Query, weight int) (*docCursor, error) {
	var p postings
	var err error
	if col.sortedEnd > 0 {
		p, err = col.postingsOf(q)
	} else {
		p, err = col.searcherPostings(q)
	}
	if err != nil {
		return nil, err
	}
	return &docCursor{p: p, weight: weight}, nil
}

// collect matches the filters and, for a text query, plan p; it keeps the
// k best matches after c in the index's order (score descending, rating
// descending, key ascending) and counts every match.
//
// A text query runs in two steps. First every match is found and scored:
// a one-concept text (most searches: "milk", "cheddar", a synonym group)
// matches exactly where some field cursor stands, so the field cursors'
// union drives the walk, leapfrogging with the filters; a text of several
// concepts is driven by Bleve's conjunction, the field cursors advanced to
// each match. Then only the matches of the best scores that can fill the
// page are read (key, rating) into the heap. A browse walks rating tiers.
//
// Over Compact's chunks (an index compacted and not held since), every
// walk, of one concept or several or none, is one step instead:
// walkSorted offers the matches as it finds them and stops once no later
// one can enter the page, so a search reads about as many matches at 10^6
// items as at 10^4.
//
// Holding the read lock for the walk keeps Bleve's snapshot and the item
// maps in step (Apply changes both under the write lock).
func (m *Memory) collect(ctx context.Context, filter []query.Query, p *plan, c *cursor, k int) (collected, error) {
	var match query.Query
	var fieldQs []query.Query
	if p != nil {
		match, fieldQs = textQueries(p, m.analyser())
	}
	r, release, err := m.reader()
	if err != nil {
		return collected{root: searchRoot(filter, match)}, err
	}
	defer release()
	if !m.held {
		filter = m.dropWholeKinds(filter)
	}
	root := searchRoot(filter, match)
	out := collected{root: root}
	col := &collector{ctx: ctx, m: m, r: r, c: c, k: k, h: make(worstFirst, 0, k)}
	col.spans()
	if p == nil {
		err = col.browse(filter)
	} else {
		err = col.text(root, filter, fieldQs, len(p.concepts) == 1)
	}
	if err != nil {
		return out, err
	}
	out.hits, out.total = col.hits(), col.total
	return out, nil
}

// browse reads the filters' matches best rated first: over Compact's
// chunks, in their order (walkSorted). Otherwise a narrow filter (a
// city's items) is read whole; a broad one is walked by rating tier, best
// first: a tier above the cursor's is only counted, and once the heap is
// full after a tier, every later tier rates lower and is only counted, up
// to MaxMatches (Total's cap).
func (col *collector) browse(filter []query.Query) error {
	if col.sortedEnd > 0 {
		// Compact's chunks hold the items best rated first: the page is
		// the filters' first matches in them.
		fq := conj(filter)
		if fq == nil {
			// Every item has a kind. (Bleve's match-all reads every
			// document of the index to skip them.)
			var any []query.Query
			for _, k := range kindsOf(Query{}) {
				t := bleve.NewTermQuery(string(k))
				t.SetField(fKind)
				any = append(any, t)
			}
			fq = bleve.NewDisjunctionQuery(any...)
		}
		d, err := col.open(fq, 0)
		if err != nil {
			return err
		}
		defer d.close()
		return col.walkSorted(&driverWalk{col: col, driver: d})
	}
	if fq := conj(filter); fq != nil {
		d, err := col.open(fq, 0)
		if err != nil {
			return err
		}
		if d.p.count() <= uint64(narrowBrowse*col.k) {
			defer d.close()
			return col.read(d, true)
		}
		d.close()
	}
	top := ratingTiers - 1
	if col.c != nil {
		top = ratingTier(col.c.Rating)
	}
	for t := ratingTiers - 1; t >= 0; t-- {
		if len(col.h) == col.k && col.total >= MaxMatches {
			break // the page is full and Total is capped: nothing left to learn
		}
		tq := bleve.NewTermQuery(strconv.Itoa(t))
		tq.SetField(fRatingTier)
		d, err := col.open(conj(append(slices.Clone(filter), tq)), 0)
		if err != nil {
			return err
		}
		err = col.read(d, t <= top && len(col.h) < col.k)
		d.close()
		if err != nil {
			return err
		}
	}
	return nil
}

// narrowBrowse: a filter whose matches Bleve estimates at no more than
// this many times the page is read whole rather than by rating tier.
const narrowBrowse = 8

// read counts d's matches and, when offer is set, offers each (score 0).
// Counting alone stops at MaxMatches, where Total is capped.
func (col *collector) read(d *docCursor, offer bool) error {
	for {
		if !offer && col.total >= MaxMatches {
			return nil
		}
		if err := d.next(); err != nil || d.done {
			return err
		}
		if err := col.count(); err != nil {
			return err
		}
		if offer {
			if err := col.offer(d.doc, 0); err != nil {
				return err
			}
		}
	}
}

// scored is a match found by the first step: its document number and
// score.
type scored struct {
	doc   uint64
	score int
}

// text finds and scores every match of a text query, then reads into the
// heap only the matches whose score can reach the page: of the scores at
// or below the cursor's, the best ones that hold k matches. A match of
// the cursor's own score may fall before or after it, so it is read but
// not counted towards k.
func (col *collector) text(root query.Query, filter []query.Query, fieldQs []query.Query, union bool) error {
	fields := make([]*docCursor, len(fieldQs))
	for i, fq := range fieldQs {
		f, err := col.open(fq, fieldWeights[scoredFields[i]])
		if err != nil {
			return err
		}
		defer f.close()
		fields[i] = f
	}
	buf := scoredPool.Get().(*[]scored)
	col.scored = *buf
	var matches []scored
	defer func() {
		if cap(matches) > cap(*buf) {
			*buf = matches[:0] // keep the larger list for the next search
		}
		scoredPool.Put(buf)
	}()
	var err error
	if union {
		var f *docCursor
		if fq := conj(filter); fq != nil {
			if f, err = col.open(fq, 0); err != nil {
				return err
			}
			defer f.close()
		}
		if col.sortedEnd > 0 {
			return col.walkSorted(&unionWalk{col: col, fields: fields, filter: f})
		}
		matches, err = col.walkUnion(fields, f)
	} else {
		var d *docCursor
		if d, err = col.open(root, 0); err != nil {
			return err
		}
		defer d.close()
		if col.sortedEnd > 0 {
			return col.walkSorted(&driverWalk{col: col, driver: d, fields: fields})
		}
		matches, err = col.walk(d, fields)
	}
	if err != nil {
		return err
	}
	ceiling := maxScore
	if col.c != nil {
		ceiling = col.c.Score
	}
	var perScore [maxScore + 1]int
	for _, s := range matches {
		perScore[s.score]++
	}
	least, held := 0, 0
	if col.c == nil {
		held = perScore[ceiling]
	}
	for s := ceiling; s >= 0; s-- {
		if s < ceiling {
			held += perScore[s]
		}
		if held >= col.k {
			least = s
			break
		}
	}
	for _, s := range matches {
		if s.score >= least && s.score <= ceiling {
			if err := col.offer(s.doc, s.score); err != nil {
				return err
			}
		}
	}
	return nil
}

// maxPresize bounds the room made for matches from Bleve's estimate.
const maxPresize = 1 << 16

// scoredPool keeps the first step's match lists between searches: a broad
// text query finds tens of thousands of matches, and a list of its own per
// search would be most of the garbage a search leaves.
var scoredPool = sync.Pool{New: func() any { return new([]scored) }}

// room returns the pooled match list, emptied, with room for about n.
func (col *collector) room(n uint64) []scored {
	out := col.scored[:0]
	if want := int(min(n, maxPresize)); cap(out) < want {
		out = make([]scored, 0, want)
	}
	return out
}

// walk follows the driver's matches and scores each with the field
// cursors.
func (col *collector) walk(driver *docCursor, fields []*docCursor) ([]scored, error) {
	return col.scoreAll(&driverWalk{col: col, driver: driver, fields: fields}, driver.p.count())
}

// walkUnion follows the union of the field cursors (a one-concept text
// matches exactly there), leapfrogging with the filters' cursor when there
// is one; a match's score is the weight of the cursors standing on it.
func (col *collector) walkUnion(fields []*docCursor, filter *docCursor) ([]scored, error) {
	var most uint64
	for _, f := range fields {
		most += f.p.count()
	}
	return col.scoreAll(&unionWalk{col: col, fields: fields, filter: filter}, most)
}

// scoreAll counts and scores every match of m (about n).
func (col *collector) scoreAll(m matchWalk, n uint64) ([]scored, error) {
	out := col.room(n)
	for {
		doc, ok, err := m.next()
		if err != nil || !ok {
			return out, err
		}
		if err := col.count(); err != nil {
			return nil, err
		}
		score, err := m.score()
		if err != nil {
			return nil, err
		}
		out = append(out, scored{doc: doc, score: score})
	}
}

// lowestMatch is the smallest document the field cursors not yet done stand
// on (ok false once all are done): the union walks' next match.
func lowestMatch(fields []*docCursor) (lowest uint64, ok bool) {
	for _, f := range fields {
		if !f.done && (!ok || f.doc < lowest) {
			lowest, ok = f.doc, true
		}
	}
	return lowest, ok
}

// matchWalk yields one search's matches in document order, for
// walkSorted.
type matchWalk interface {
	// next moves to the following match: ok is false once there is none.
	next() (doc uint64, ok bool, err error)
	// score is the current match's score.
	score() (int, error)
	// most bounds the score of the current match and of every later one.
	most() int
	// skip moves on to the first match at or after document doc.
	skip(doc uint64) error
	// raise says that no match left in Compact's chunks that scores floor
	// or less can enter the page: the walk may pass over them there.
	raise(floor int)
}

// walkSorted walks m over Compact's chunks and stops early. Every item of
// a chunk comes after every item of the chunks before it in the index's
// order at equal score, so once a chunk is read with k matches kept, and
// the k-th best's score is at least what any later match can score
// (m.most, and no more than the cursor's score, since a match scoring
// above the cursor comes before it), no later match in the chunks can
// enter the page: they are only counted, up to MaxMatches (Total's cap),
// and the walk goes on to the segments written since Compact, read whole.
// A browse scores every match 0, so it stops at the first chunk's end
// that leaves the page full.
//
// The chunks' matches are not offered as they are found but noted with
// their scores (chosen), and only those that can be among the k best are
// offered once the walk leaves the chunks: a match's score and chunk are
// its place but for the order within its chunk, so counts by score say
// which. Offered as found, a "milk" search for 400 candidates at 2·10^5
// items had offered some 1,050 matches, each a read of its chunk entry and
// a heap update. After a cursor, only the matches that follow it are
// noted (one of the cursor's own score is read for its key to tell).
func (col *collector) walkSorted(m matchWalk) error {
	p := chosenPool.Get().(*chosen)
	p.reset()
	defer chosenPool.Put(p)
	seg, settled := -1, false
	// floor: in the chunks from here on, a match scoring floor or less
	// comes after the k-th best kept and cannot enter (-1: none yet).
	floor := -1
	for {
		doc, ok, err := m.next()
		if err != nil {
			return err
		}
		if !ok {
			return col.choose(p)
		}
		inChunks := doc < col.sortedEnd
		if !inChunks && !p.done {
			if err := col.choose(p); err != nil {
				return err
			}
		}
		if inChunks && !settled {
			if i := col.segOf(doc); i != seg {
				p.nextSegment()
				settled = seg >= 0 && col.settled(p, m.most())
				seg = i
				// Every match from here on comes after the k-th best at
				// equal score: one scoring no more than it cannot enter,
				// and is only counted. Once Total is capped, such matches
				// need not be found.
				if w := p.worst(col.k); seg > 0 && w >= 0 {
					floor = w
					if col.total >= MaxMatches {
						m.raise(floor)
					}
				}
			}
		}
		if settled && inChunks {
			if col.total >= MaxMatches {
				// Nothing left to learn in the chunks: on to the
				// segments written since.
				if err := m.skip(col.sortedEnd); err != nil {
					return err
				}
				continue
			}
			if err := col.count(); err != nil {
				return err
			}
			continue
		}
		if err := col.count(); err != nil {
			return err
		}
		score, err := m.score()
		if err != nil {
			return err
		}
		if inChunks && (score <= floor || p.ahead(score, col.k)) {
			continue // not worth reading its item (offer would)
		}
		if inChunks && score >= 0 && score <= maxScore {
			if after, err := col.afterCursor(doc, score); err != nil || !after {
				if err != nil {
					return err
				}
				continue // on the page before: counted, never offered
			}
			p.note(doc, score, seg)
			continue
		}
		if err := col.offer(doc, score); err != nil {
			return err
		}
	}
}

// afterCursor reports whether the chunks' match doc of score follows the
// search's cursor (true without one). Only a match of the cursor's own
// score needs its key read to tell.
func (col *collector) afterCursor(doc uint64, score int) (bool, error) {
	switch {
	case col.c == nil || score < col.c.Score:
		return true, nil
	case score > col.c.Score:
		return false, nil
	}
	cand, err := col.candidateOf(doc, score)
	if err != nil || cand.ref == 0 {
		return false, err
	}
	cand.key = col.m.store.key(cand.ref)
	return cand.after(col.c), nil
}

// settled reports whether p holds k matches and no match scoring at most
// most can enter past the k-th best.
func (col *collector) settled(p *chosen, most int) bool {
	w := p.worst(col.k)
	if w < 0 {
		return false
	}
	if col.c != nil {
		most = min(most, col.c.Score)
	}
	return w >= most
}

// choose offers the matches p noted that can be among the k best: every
// one scoring above the k-th best's score, and of that score those of the
// chunks up to the one holding the k-th (the heap orders that chunk's by
// rating and place). Should one of them not be live (a chunk's documents
// are, while Bleve holds them), the others are offered too.
func (col *collector) choose(p *chosen) error {
	if p.done {
		return nil
	}
	p.done = true
	w := p.worst(col.k)
	last := int32(-1) // with w ≥ 0: the chunk of the k-th best
	if w >= 0 {
		need := col.k
		for s := w + 1; s <= maxScore; s++ {
			need -= p.earlier[s] + p.current[s]
		}
		for _, m := range p.matches {
			if m.score == int32(w) {
				if need--; need == 0 {
					last = m.seg
					break
				}
			}
		}
	}
	in := func(m noted) bool { return w < 0 || int(m.score) > w || int(m.score) == w && m.seg <= last }
	offered := 0
	for _, m := range p.matches {
		if in(m) {
			offered++
			if err := col.offer(m.doc, int(m.score)); err != nil {
				return err
			}
		}
	}
	if len(col.h) >= min(offered, col.k) {
		return nil
	}
	for _, m := range p.matches {
		if !in(m) {
			if err := col.offer(m.doc, int(m.score)); err != nil {
				return err
			}
		}
	}
	return nil
}

// chosen notes a walk's matches over Compact's chunks (walkSorted) with
// counts by score: of the chunks before the current one,
// and of the current one.
type chosen struct {
	matches          []noted
	earlier, current [maxScore + 1]int
	done             bool
}

// noted is a match of the chunks: its document, score and segment (in
// collector.segs).
type noted struct {
	doc   uint64
	score int32
	seg   int32
}

// chosenPool keeps the noted matches' lists between searches (about a
// thousand matches of a common word at 2·10^6 items).
var chosenPool = sync.Pool{New: func() any { return new(chosen) }}

// maxChosenKept bounds the list a pooled chosen keeps: a narrow browse may
// note a whole large chunk's matches once, and the pool would hold them.
const maxChosenKept = 1 << 14

func (p *chosen) reset() {
	if cap(p.matches) > maxChosenKept {
		p.matches = nil
	}
	*p = chosen{matches: p.matches[:0]}
}

func (p *chosen) note(doc uint64, score int, seg int) {
	p.matches = append(p.matches, noted{doc: doc, score: int32(score), seg: int32(seg)})
	p.current[score]++
}

// nextSegment starts the counts of a later chunk.
func (p *chosen) nextSegment() {
	for s, n := range p.current {
		p.earlier[s] += n
	}
	p.current = [maxScore + 1]int{}
}

// worst is the score of the k-th best match noted (-1: fewer than k).
func (p *chosen) worst(k int) int {
	n := 0
	for s := maxScore; s >= 0; s-- {
		if n += p.earlier[s] + p.current[s]; n >= k {
			return s
		}
	}
	return -1
}

// ahead reports whether k matches of the chunks before the current one
// score score or more: each comes before any match of score here or
// later.
func (p *chosen) ahead(score, k int) bool {
	n := 0
	for s := maxScore; s >= max(score, 0); s-- {
		n += p.earlier[s]
	}
	return n >= k
}

// fieldsLeft is the weight of the field cursors not yet done.
func fieldsLeft(fields []*docCursor) int {
	most := 0
	for _, f := range fields {
		if !f.done {
			most += f.weight
		}
	}
	return most
}

// unionWalk is walkUnion's walk as a matchWalk: a one-concept text
// matches exactly where some field cursor stands, leapfrogging with the
// filters' cursor when there is one.
type unionWalk struct {
	col     *collector
	fields  []*docCursor
	filter  *docCursor
	started bool
	id      uint64 // the current match
	cur     int    // the current match's score
	// drive are the fields that lead the walk through the chunks after
	// raise (nil: all of them): the lightest fields whose weights come to
	// no more than the floor cannot make a match that enters the page on
	// their own, so their matches elsewhere are passed over, not walked
	// (a common word's description-only matches, most of them at 10^6
	// items); they are advanced to a match the others lead to, to score it.
	drive []*docCursor
}

func (u *unionWalk) next() (uint64, bool, error) {
	if !u.started {
		u.started = true
		for _, f := range u.fields {
			if err := f.next(); err != nil {
				return 0, false, err
			}
		}
	}
	for {
		drive := u.fields
		if u.drive != nil {
			drive = u.drive
		}
		lowest, ok := lowestMatch(drive)
		if u.drive != nil {
			if !ok || lowest >= u.col.sortedEnd {
				// Past the chunks every match is read, each field's
				// from there.
				u.drive = nil
				if err := u.skip(u.col.sortedEnd); err != nil {
					return 0, false, err
				}
				continue
			}
		}
		if !ok {
			return 0, false, nil
		}
		u.id = lowest
		if u.filter != nil {
			if err := u.filter.advance(u.id); err != nil {
				return 0, false, err
			}
			if u.filter.done {
				return 0, false, nil
			}
			if !u.filter.at(u.id) {
				// Skip the fields to the filters' next match.
				for _, f := range u.fields {
					if err := f.advance(u.filter.doc); err != nil {
						return 0, false, err
					}
				}
				continue
			}
		}
		u.cur = 0
		for _, f := range u.fields {
			if err := f.advance(u.id); err != nil { // a field passed over
				return 0, false, err
			}
			if f.at(u.id) {
				u.cur += f.weight
				if err := f.next(); err != nil {
					return 0, false, err
				}
			}
		}
		return u.id, true, nil
	}
}

func (u *unionWalk) score() (int, error) { return u.cur, nil }

// most: the fields that stood on the current match have moved past it.
func (u *unionWalk) most() int { return max(u.cur, fieldsLeft(u.fields)) }

func (u *unionWalk) raise(floor int) {
	byWeight := slices.SortedFunc(slices.Values(u.fields), func(a, b *docCursor) int { return cmp.Compare(b.weight, a.weight) })
	n, light := len(byWeight), 0
	for n > 0 && light+byWeight[n-1].weight <= floor {
		light += byWeight[n-1].weight
		n--
	}
	if n < len(byWeight) {
		u.drive = byWeight[:n]
	}
}

func (u *unionWalk) skip(doc uint64) error {
	for _, f := range u.fields {
		if err := f.advance(doc); err != nil {
			return err
		}
	}
	return nil
}

// driverWalk follows a driver's matches (a text of several concepts, with
// the filters; a browse's filters), scoring a match with the field
// cursors only when asked: a match only counted moves no field cursor.
type driverWalk struct {
	col    *collector
	driver *docCursor
	fields []*docCursor
	// skipped: skip has put the driver on the next match already.
	skipped bool
}

func (d *driverWalk) next() (uint64, bool, error) {
	if d.skipped {
		d.skipped = false
	} else if err := d.driver.next(); err != nil {
		return 0, false, err
	}
	if d.driver.done {
		return 0, false, nil
	}
	return d.driver.doc, true, nil
}

func (d *driverWalk) score() (int, error) {
	id := d.driver.doc
	score := 0
	for _, f := range d.fields {
		if err := f.advance(id); err != nil {
			return 0, err
		}
		if f.at(id) {
			score += f.weight
		}
	}
	return score, nil
}

// most: a field cursor not done may stand on the current match or later
// (score moves it no further than the match it scores).
func (d *driverWalk) most() int { return fieldsLeft(d.fields) }

// raise: a driver's matches are the text's and the filters' together, not
// a field's; it walks them all.
func (d *driverWalk) raise(int) {}

func (d *driverWalk) skip(doc uint64) error {
	if err := d.driver.advance(doc); err != nil {
		return err
	}
	d.skipped = true
	return nil
}

// searchRoot is the query a search walks: the filters and, with a text,
// its match; everything when there is neither.
func searchRoot(filter []query.Query, match query.Query) query.Query {
	must := slices.Clone(filter)
	if match != nil {
		must = append(must, match)
	}
	if root := conj(must); root != nil {
		return root
	}
	return bleve.NewMatchAllQuery()
}

// reader opens the index's reader under the read lock; release closes it
// and unlocks.
func (m *Memory) reader() (index.IndexReader, func(), error) {
	m.mu.RLock()
	adv, err := m.idx.Advanced()
	if err != nil {
		m.mu.RUnlock()
		return nil, nil, fmt.Errorf("supply: search: %w", err)
	}
	r, err := adv.Reader()
	if err != nil {
		m.mu.RUnlock()
		return nil, nil, fmt.Errorf("supply: search: %w", err)
	}
	return r, func() { _ = r.Close(); m.mu.RUnlock() }, nil
}
