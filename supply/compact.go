package supply

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
	"unsafe"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/index/scorch"
)

// compactBatch is how many items one write of Compact holds at most: a
// segment each. A search opens a term reader on every segment for each of
// its terms and fields, whether or not its walk reaches the segment: at
// 50,000 a 2·10^6-item index was 45 segments, and one search page ("milk",
// BenchmarkGeneratedSearchPage at 10^6 providers × 2, GOMAXPROCS=1) took
// 7.7 ms of CPU and 3,902 allocations; at 400,000 it is 13 segments, 4.4
// ms and 2,240. A write's documents are built at once, so the batch also
// bounds the rebuild's transient heap.
const compactBatch = 400_000

// compactHead is the size of Compact's first write; each next one is
// twice the last, up to compactBatch. Compact writes the items in the
// index's browse order (rating descending, key ascending), so segment i
// holds only items that come before every item of segment i+1: a search
// whose page is full once a segment is read, and which no later match
// can beat (collector.walkSorted), stops there. Small head segments are
// what makes that early: a common word's best 400 matches lie in the
// first few thousand items, not in the first 50,000. A variable so tests
// can make segments of a few items.
var compactHead = 1024

// retiredGrace is how long an index replaced by Compact stays open, for
// the searches that started on it (they hold no lock once their reader
// is open).
const retiredGrace = time.Minute

// Hold has Apply acknowledge changes into the items and their versions
// only, leaving Bleve as it is until the next Compact builds it from the
// items: a bulk feed (10^6 generated providers' catalogues) then indexes
// each item once, in a few large segments, rather than once per push and
// again in Compact. Until that Compact, searches see Bleve as it was
// before the hold, less the items deleted or replaced since (a match
// whose item changed shows the item as it is now). Call it before a feed
// that no one searches during (a start-up), never while serving.
func (m *Memory) Hold() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.held = true
}

// Compact rebuilds the Bleve index from the items in a few large
// segments, and swaps it in, ending a Hold. Scorch without a path never
// merges its segments, and every Apply adds one: after a bulk feed of many
// small pushes (10^4 providers of twenty items, a few hundred writes),
// every search would open its searchers on each of them. Apply and new
// searches wait while it runs; it costs about what indexing the items
// again costs, so call it after a bulk feed, not per push.
func (m *Memory) Compact(ctx context.Context) error {
	idx, err := bleve.NewUsing("", indexMapping(), scorch.Name, scorch.Name, nil)
	if err != nil {
		return fmt.Errorf("supply: compact: %w", err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	type entry struct {
		rating float64
		key    string
	}
	order := make([]entry, 0, m.store.live)
	m.store.each(func(r ref) {
		if !m.store.deleted(r) {
			order = append(order, entry{m.store.rating(r), m.store.key(r)})
		}
	})
	slices.SortFunc(order, func(a, b entry) int {
		return cmp.Or(cmp.Compare(b.rating, a.rating), strings.Compare(a.key, b.key))
	})
	keys := make([]string, len(order))
	for i, e := range order {
		keys[i] = strings.Clone(e.key) // not a view: the store is rewritten below
	}
	// The records in browse order too: a walk reads its candidates'
	// records from a few slabs, not from all over the heap. (The chunks
	// in use move with them: this Compact may yet fail.)
	m.rewriteStore(keys)
	// The documents are built a write at a time: a million of them at
	// once would be most of the heap the rebuild needs.
	docs, err := newDocBuilder(idx.Mapping())
	if err != nil {
		_ = idx.Close()
		return err
	}
	var writes [][]string
	head := cmp.Or(m.head, compactHead)
	for lo, size := 0, head; lo < len(keys); lo, size = lo+size, min(2*size, compactBatch) {
		if err := ctx.Err(); err != nil {
			_ = idx.Close()
			return err
		}
		write := keys[lo:min(lo+size, len(keys))]
		b := idx.NewBatch()
		var l lists
		for _, key := range write {
			r, _ := m.store.item(key)
			it := m.store.decode(r, &l)
			if err := b.IndexAdvanced(docs.doc(key, &it)); err != nil {
				_ = idx.Close()
				return fmt.Errorf("supply: compact %s: %w", key, err)
			}
		}
		if err := idx.Batch(b); err != nil {
			_ = idx.Close()
			return fmt.Errorf("supply: compact: %w", err)
		}
		writes = append(writes, write)
	}
	chunks, err := chunksOf(idx, m.store, writes)
	if err != nil {
		_ = idx.Close()
		return err
	}
	old := m.idx
	m.idx, m.chunks, m.held = idx, chunks, false
	m.chunkBytes = 0
	for _, c := range chunks {
		m.chunkBytes += int64(len(c.docs)) * int64(unsafe.Sizeof(chunkDoc{}))
	}
	m.bleveBytes = bleveHeap(idx)
	m.publishHeap()
	time.AfterFunc(retiredGrace, func() { _ = old.Close() })
	return nil
}

// current is the Bleve index searches outside the read lock use.
func (m *Memory) current() bleve.Index {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.idx
}

// chunk is one segment Compact wrote: its items' records by document
// number within the segment (Bleve numbers a write's documents in no
// particular order), and its place among Compact's segments, which is
// their order in the index's browse order. Nothing in it is a pointer.
type chunk struct {
	pos int
	// docs are the items by document number: a search compares matches
	// by rating and place without reading an item (each one a cache miss
	// in a heap of millions), and finds all three in one entry.
	docs  []chunkDoc
	first uint32
}

// chunkDoc is one document of a chunk: its item's record and rating,
// and its place in the chunk's write (the chunk's first is the write's
// place in the browse order).
type chunkDoc struct {
	ref    ref
	rating float64
	ord    uint32
}

// chunksOf maps idx's segments, by id, to the writes of Compact that made
// them, one each, in order. It returns nil, and searches read keys from
// Bleve and walk every match as before, when the segments are not the
// writes (a Bleve that merged or split them).
func chunksOf(idx bleve.Index, store *itemStore, writes [][]string) (map[uint64]*chunk, error) {
	adv, err := idx.Advanced()
	if err != nil {
		return nil, fmt.Errorf("supply: compact: %w", err)
	}
	r, err := adv.Reader()
	if err != nil {
		return nil, fmt.Errorf("supply: compact: %w", err)
	}
	defer r.Close()
	snap, ok := r.(*scorch.IndexSnapshot)
	if !ok || len(snap.Segments()) != len(writes) {
		return nil, nil
	}
	out := make(map[uint64]*chunk, len(writes))
	first := 0
	for i, seg := range snap.Segments() {
		write := writes[i]
		if seg.Segment().Count() != uint64(len(write)) {
			return nil, nil
		}
		at := make(map[string]int, len(write))
		for j, key := range write {
			at[key] = j
		}
		c := &chunk{pos: i, docs: make([]chunkDoc, len(write)), first: uint32(first)}
		first += len(write)
		for doc := range uint64(len(write)) {
			id, err := seg.DocID(doc)
			if err != nil {
				return nil, fmt.Errorf("supply: compact: %w", err)
			}
			j, ok := at[string(id)]
			if !ok {
				return nil, nil
			}
			r, _ := store.item(write[j])
			c.docs[doc] = chunkDoc{ref: r, rating: store.rating(r), ord: uint32(j)}
		}
		out[seg.Id()] = c
	}
	return out, nil
}
