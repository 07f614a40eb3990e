package directory

import (
	"hash/maphash"
	"runtime"
	"strings"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/plaza-gateway/plaza/connectors"
)

// The snapshot's layout. Per provider it holds no pointer: fixed-size columns
// in chunks of chunkSize entries, strings as offsets into one byte arena,
// cities as offsets into one []uint16 arena of interned city numbers, limits
// and cache TTLs as numbers of interned profiles. Chunks, the radix nodes
// above them and the coverage index's nodes live in pointer-free slabs and
// name one another by handle (slab.go): the garbage collector marks a few
// thousand objects (some 2,400 at 10^6 providers, most of them one per
// coverage cell) and scans some 100 KB whatever the number of providers.
//
// A change copies what it touches (the chunk of the provider, the coverage
// lists it enters or leaves) into free slab slots and shares the rest with
// the previous snapshot; the slots it replaced are reused once no snapshot
// reading them is left (epoch). The arenas and the id table are append-only
// and shared: a snapshot reads only the first n entries, so entries appended
// for a newer snapshot are invisible to it. One writer at a time (view.mu)
// derives snapshots, each from the latest.
const (
	// A change copies the path to its provider's entry: the chunk (16
	// entries, 608 B), its group (64 handles, 256 B), the group's directory
	// (64 handles) and the short top slice (16 handles at 10^6 providers):
	// about 1.2 KB. Two levels with chunks of 64 copied 4.4 KB, most of a
	// rename's cost at 10^6 (BenchmarkApplyChange).
	chunkBits = 4
	chunkSize = 1 << chunkBits
	chunkMask = chunkSize - 1
	groupBits = 6
	groupSize = 1 << groupBits
	groupMask = groupSize - 1
	dirBits   = 6
	dirSize   = 1 << dirBits
	dirMask   = dirSize - 1
	// anyCity (column 0) is the coverage column of every city.
	anyCity = 0
)

const numVerticals = 4

func verticalIndex(v connectors.Vertical) int {
	switch v {
	case connectors.VerticalGrocery:
		return 0
	case connectors.VerticalMedical:
		return 1
	case connectors.VerticalLegal:
		return 2
	case connectors.VerticalPublicService:
		return 3
	}
	return -1
}

type chunk struct {
	// version: the directory version of the entry's last change (a
	// rotated secret included), so a consumer can tell a changed entry
	// from an unchanged one without comparing its fields.
	version     [chunkSize]int64
	textStart   [chunkSize]uint32
	cityStart   [chunkSize]uint32
	limits      [chunkSize]uint32
	ttl         [chunkSize]uint32
	rating      [chunkSize]float32
	nameLen     [chunkSize]uint16
	endpointLen [chunkSize]uint16
	sandboxLen  [chunkSize]uint16
	idLen       [chunkSize]uint8
	cityCount   [chunkSize]uint8
	vertical    [chunkSize]uint8
	lifecycle   [chunkSize]uint8
}

// radix is a group (handles of its chunks) or a group directory (handles of
// its groups); 0 is "none yet".
type radix [groupSize]uint32

// ttlProfile is an interned set of cache TTL overrides. Read-only once
// interned.
type ttlProfile map[string]time.Duration

// Snapshot is an immutable view of the directory at one version. Safe for
// any number of concurrent readers; get the current one from Store.Snapshot.
type Snapshot struct {
	version int64
	n       int32
	dirs    []uint32 // handles of the group directories (radix nodes)

	// The slabs this snapshot reads (see slab.go): chunks, the radix nodes
	// above them, the coverage index's leaves and inner nodes.
	chunks slab[chunk]
	nodes  slab[radix]
	leaves slab[covLeaf]
	inners slab[covInner]
	// ep keeps the slots this snapshot reads from being reused (see epoch).
	ep *epoch
	// gen numbers the snapshots of a lineage in the order they were
	// derived: only the latest may be edited (editOf).
	gen uint64
	// frees: where the edit deriving this snapshot puts the slots it stops
	// using (nil once finished).
	frees *freed

	text    []byte   // ids, names and endpoints, append-only
	cityArr []uint16 // cities of each provider, append-only
	garbage int      // bytes of text no entry points at any more

	cities    []string          // city number -> name; number 0 is "any city"
	cityIndex map[string]uint16 // name -> number; replaced, never mutated, once published

	limits []Limits     // interned, append-only
	ttls   []ttlProfile // interned, append-only; ttls[0] is "no override"

	ids *idTable

	// cov[vertical][city>>covGroupBits][city&covGroupMask]: ACTIVE
	// providers; column anyCity holds every city. "Every vertical" merges
	// the four rows. Cells come in groups of 8 so that a change copies one
	// group per cell it touches (64 B) and a row's short directory, not a
	// pointer per city; groups of 32 (256 B per cell touched) took 3–7% more
	// CPU per change at 10^4 and 10^6 providers (three alternating runs,
	// load 14–18: near the noise).
	cov [numVerticals][]*covGroup

	// Writer-only interning state, shared along one lineage of snapshots and
	// touched only under view.mu.
	w *writerState
}

type writerState struct {
	limitIndex map[Limits]uint32
	ttlIndex   map[string]uint32

	chunks, nodes, leaves, inners slots
	reclaim                       *reclaim
	gen                           uint64         // the latest snapshot's gen
	pending                       int64          // bytes of the slots freed, not yet reclaimed
	retired                       []retiredEpoch // oldest first, until reclaimed
	collecting                    atomic.Bool    // a collection started by collectIfPending runs
}

// idTable maps a provider id to its index: open addressing over uint32
// slots, no pointers. A slot's low bits hold index+1 (0 is empty), as many
// as the table has slots (it grows at half full, so they suffice); its
// high bits hold as many bits of the id's hash (a tag), so a probe passes
// another id's slot without reading that id from its chunk and the arena.
// At 10^6 providers (half the slots used, 11 bits of tag) 1% of lookups
// probe six slots or more: with index-only slots each was two cache misses
// (lookup p99 882–2654 ns, BenchmarkLookup); now 1 in 2,048 is. Insert-only
// and shared by the snapshots of one lineage; slots are read and written
// atomically, and a reader ignores indexes beyond its snapshot.
type idTable struct {
	seed    maphash.Seed
	slots   []uint32
	mask    uint64
	idxMask uint32 // the bits of a slot that hold index+1
	used    int
}

func newIDTable(capacity int) *idTable {
	size, bits := 1024, 10
	for size < capacity*2 {
		size, bits = size<<1, bits+1
	}
	return &idTable{seed: maphash.MakeSeed(), slots: make([]uint32, size), mask: uint64(size - 1),
		idxMask: uint32(uint64(1)<<bits - 1)}
}

// tag is h's tag, in the bits of a slot above the index (the hash's high
// half: its low bits chose the slot).
func (t *idTable) tag(h uint64) uint32 { return uint32(h>>32) &^ t.idxMask }

// Version is the directory version this snapshot reflects.
func (s *Snapshot) Version() int64 { return s.version }

// Len is the number of providers, in every lifecycle state.
func (s *Snapshot) Len() int { return int(s.n) }

// Entry is a provider as the snapshot holds it: a handle that reads the
// columns on demand. Its strings point into the snapshot's arena (no copy).
type Entry struct {
	s *Snapshot
	i int32
}

// Lookup finds a provider by id in O(1) without allocating.
func (s *Snapshot) Lookup(id string) (Entry, bool) {
	if s == nil || s.ids == nil {
		return Entry{}, false
	}
	t := s.ids
	h := maphash.String(t.seed, id)
	for i := h & t.mask; ; i = (i + 1) & t.mask {
		v := atomic.LoadUint32(&t.slots[i])
		if v == 0 {
			return Entry{}, false
		}
		if v&^t.idxMask != t.tag(h) {
			continue
		}
		idx := int32(v&t.idxMask) - 1
		if idx < s.n && s.id(idx) == id {
			return Entry{s, idx}, true
		}
	}
}

// At returns the i-th provider (0 <= i < Len), in load order.
func (s *Snapshot) At(i int) Entry { return Entry{s, int32(i)} }

// chunkOf is the chunk of entry i and its slot there. The chunk is slab
// memory: the caller keeps s alive until its last read of it.
func (s *Snapshot) chunkOf(i int32) (*chunk, int) {
	k := uint32(i) >> chunkBits
	d := s.nodes.at(s.dirs[k>>(groupBits+dirBits)])
	g := s.nodes.at(d[(k>>groupBits)&dirMask])
	return s.chunks.at(g[k&groupMask]), int(i & chunkMask)
}

func (s *Snapshot) str(start uint32, n int) string {
	if n == 0 {
		return ""
	}
	return unsafe.String(&s.text[start], n)
}

func (s *Snapshot) id(i int32) string {
	c, j := s.chunkOf(i)
	return s.str(c.textStart[j], int(c.idLen[j]))
}

// ID is the provider's id.
func (e Entry) ID() string { return e.s.id(e.i) }

// Name is its display name.
func (e Entry) Name() string {
	c, j := e.s.chunkOf(e.i)
	return e.s.str(c.textStart[j]+uint32(c.idLen[j]), int(c.nameLen[j]))
}

// Endpoint is the base URL of its HTTP contract; "" for an in-process provider.
func (e Entry) Endpoint() string {
	c, j := e.s.chunkOf(e.i)
	return e.s.str(c.textStart[j]+uint32(c.idLen[j])+uint32(c.nameLen[j]), int(c.endpointLen[j]))
}

// SandboxEndpoint is where certification runs its mutating checks ("" if none).
func (e Entry) SandboxEndpoint() string {
	c, j := e.s.chunkOf(e.i)
	return e.s.str(c.textStart[j]+uint32(c.idLen[j])+uint32(c.nameLen[j])+uint32(c.endpointLen[j]), int(c.sandboxLen[j]))
}

// Vertical is its line of business.
func (e Entry) Vertical() connectors.Vertical {
	c, j := e.s.chunkOf(e.i)
	v := c.vertical[j]
	runtime.KeepAlive(e.s)
	return connectors.Verticals[v]
}

// Lifecycle is where it stands; only Active providers take user traffic.
func (e Entry) Lifecycle() Lifecycle {
	c, j := e.s.chunkOf(e.i)
	l := c.lifecycle[j]
	runtime.KeepAlive(e.s)
	return Lifecycle(l)
}

// Version is the directory version of its last change, a rotated signing
// secret included (secrets are not in the snapshot: a consumer that holds
// one rebuilds it when Version moves).
func (e Entry) Version() int64 {
	c, j := e.s.chunkOf(e.i)
	v := c.version[j]
	runtime.KeepAlive(e.s)
	return v
}

// Rating is its rating (0 to 5).
func (e Entry) Rating() float64 {
	c, j := e.s.chunkOf(e.i)
	r := c.rating[j]
	runtime.KeepAlive(e.s)
	return float64(r)
}

// Limits are its per-call limits and quotas.
func (e Entry) Limits() Limits {
	c, j := e.s.chunkOf(e.i)
	n := c.limits[j]
	return e.s.limits[n]
}

// CacheTTL is its override of the entity cache TTL for a GraphQL type, if any.
func (e Entry) CacheTTL(typ string) (time.Duration, bool) {
	c, j := e.s.chunkOf(e.i)
	n := c.ttl[j]
	d, ok := e.s.ttls[n][typ]
	return d, ok
}

// CacheTTLs are all its cache TTL overrides (a new map; nil when none).
func (e Entry) CacheTTLs() map[string]time.Duration {
	c, j := e.s.chunkOf(e.i)
	n := c.ttl[j]
	p := e.s.ttls[n]
	if len(p) == 0 {
		return nil
	}
	out := make(map[string]time.Duration, len(p))
	for k, v := range p {
		out[k] = v
	}
	return out
}

func (e Entry) cityNumbers() []uint16 {
	c, j := e.s.chunkOf(e.i)
	start, n := c.cityStart[j], uint32(c.cityCount[j])
	return e.s.cityArr[start : start+n]
}

// Cities returns the cities it serves (a new slice).
func (e Entry) Cities() []string {
	nums := e.cityNumbers()
	out := make([]string, len(nums))
	for k, n := range nums {
		out[k] = e.s.cities[n]
	}
	return out
}

// CityCount is the number of cities it serves.
func (e Entry) CityCount() int {
	c, j := e.s.chunkOf(e.i)
	n := c.cityCount[j]
	runtime.KeepAlive(e.s)
	return int(n)
}

// CitiesEqual reports whether it serves exactly cities, in that order,
// without allocating.
func (e Entry) CitiesEqual(cities []string) bool {
	nums := e.cityNumbers()
	if len(nums) != len(cities) {
		return false
	}
	for k, n := range nums {
		if e.s.cities[n] != cities[k] {
			return false
		}
	}
	return true
}

// ServesCity reports whether it serves city (exact name).
func (e Entry) ServesCity(city string) bool {
	n, ok := e.s.cityIndex[city]
	if !ok {
		return false
	}
	for _, c := range e.cityNumbers() {
		if c == n {
			return true
		}
	}
	return false
}

// ServesCityFold reports whether it serves city, compared without case
// (as the coverage of a static registry and the supply index compare
// cities), without allocating.
func (e Entry) ServesCityFold(city string) bool {
	for _, c := range e.cityNumbers() {
		if strings.EqualFold(e.s.cities[c], city) {
			return true
		}
	}
	return false
}

// Descriptor converts the entry to the connector contract's descriptor.
func (e Entry) Descriptor() connectors.Descriptor {
	return connectors.Descriptor{ID: strings.Clone(e.ID()), Name: strings.Clone(e.Name()), Vertical: e.Vertical(),
		Rating: e.Rating(), Cities: e.Cities(), MaxBatch: e.Limits().MaxBatch}
}

// Page is one page of the coverage index.
type Page struct {
	Entries []Entry
	// Total is the number of ACTIVE providers matching, on every page.
	Total int
	// HasNext: there are more after the last entry.
	HasNext bool
}

// Serving pages through the ACTIVE providers that serve city for vertical,
// ordered by id: the answer to "who serves Hangzhou for GROCERY". An empty
// vertical means every vertical, an empty city every city. after is the id
// of the last entry of the previous page (a cursor that stays valid across
// snapshots); first bounds the page. The cost is O(log n + first), whatever
// the number of providers.
func (s *Snapshot) Serving(vertical connectors.Vertical, city, after string, first int) Page {
	lists := s.coverage(vertical, city)
	var cur [numVerticals]cursor
	page := Page{}
	for k, l := range lists {
		page.Total += l.len()
		cur[k] = l.after(s, after)
	}
	first = max(first, 0)
	page.Entries = make([]Entry, 0, min(first, page.Total))
	for {
		// Merge the (at most four) lists by id.
		best, bestK := int32(-1), -1
		var bestKey covKey
		for k := range lists {
			if i, key, ok := cur[k].next(); ok && (bestK < 0 || keyLess(s, key, i, bestKey, best)) {
				best, bestK, bestKey = i, k, key
			}
		}
		if bestK < 0 {
			runtime.KeepAlive(s) // the cursors read slab memory
			return page
		}
		if len(page.Entries) == first {
			page.HasNext = true
			runtime.KeepAlive(s)
			return page
		}
		page.Entries = append(page.Entries, Entry{s, best})
		cur[bestK].advance()
	}
}

// CountServing is Serving's Total without a page.
func (s *Snapshot) CountServing(vertical connectors.Vertical, city string) int {
	n := 0
	for _, l := range s.coverage(vertical, city) {
		n += l.len()
	}
	return n
}

func (s *Snapshot) coverage(vertical connectors.Vertical, city string) []*covList {
	c := uint16(anyCity)
	if city != "" {
		n, ok := s.cityIndex[city]
		if !ok {
			return nil
		}
		c = n
	}
	if vertical == "" {
		out := make([]*covList, numVerticals)
		for v := range out {
			out[v] = s.cell(v, int(c))
		}
		return out
	}
	v := verticalIndex(vertical)
	if v < 0 {
		return nil
	}
	return []*covList{s.cell(v, int(c))}
}

const (
	covGroupBits = 3
	covGroupMask = 1<<covGroupBits - 1
)

type covGroup [1 << covGroupBits]*covList

// cell is the coverage list of (vertical number v, city number c); nil when
// empty.
func (s *Snapshot) cell(v, c int) *covList {
	row := s.cov[v]
	if g := c >> covGroupBits; g < len(row) {
		return row[g][c&covGroupMask]
	}
	return nil
}

// HeapBytes estimates the heap the snapshot holds (its arenas, columns, id
// table and coverage index; older snapshots share most of it), for the
// collector's pacing (gctune.Follow). O(cities), no allocation.
//
// It is a lower bound, close for a snapshot loaded in bulk: Follow paces by
// the live heap minus this, the few MB the requests hold beside a snapshot
// of 160 MB at 10^6 providers, so an estimate a few percent too high leaves
// them nothing. The previous estimate was 5% high at 10^6 (171 MB for 163):
// the collector ran after every 8 MB allocated instead of every 18 MB as at
// 10 providers, and requests were 1.2–1.5x slower
// (BenchmarkDirectoryEndToEnd). Too low, the collector runs a little less
// often than at 10.
func (s *Snapshot) HeapBytes() int64 {
	b := int64(cap(s.text)) + 2*int64(cap(s.cityArr)) + 4*int64(cap(s.dirs)) +
		s.chunks.heapBytes() + s.nodes.heapBytes() + s.leaves.heapBytes() + s.inners.heapBytes()
	if s.ids != nil {
		b += 4 * int64(len(s.ids.slots))
	}
	for _, row := range s.cov {
		for _, g := range row {
			for _, l := range g {
				if l != nil {
					b += int64(cap(l.delta)) * int64(unsafe.Sizeof(covOp{}))
				}
			}
		}
	}
	return b
}

// ScanBytes estimates the part of HeapBytes (and of the small objects
// around it) that the collector scans each cycle: the objects that hold
// pointers. It grows with the number of cities and slab blocks, not with
// the number of providers (some tens of KB at 10^6). O(cities).
func (s *Snapshot) ScanBytes() int64 {
	const word = int64(unsafe.Sizeof(uintptr(0)))
	b := int64(unsafe.Sizeof(*s)) + s.chunks.scanBytes() + s.nodes.scanBytes() + s.leaves.scanBytes() + s.inners.scanBytes()
	for _, row := range s.cov {
		b += int64(cap(row)) * word
		for _, g := range row {
			b += int64(unsafe.Sizeof(*g))
			for _, l := range g {
				if l != nil {
					b += int64(unsafe.Sizeof(*l))
				}
			}
		}
	}
	// Cities: the names' headers and the index (a map entry is about a
	// header, a number and the map's own word per slot).
	b += int64(cap(s.cities))*2*word + int64(len(s.cityIndex))*4*word
	b += int64(cap(s.ttls)) * word
	return b
}

// blockBytes is the heap an allocation of n bytes takes when it is large
// (over 32 KB: whole pages of 8 KB); smaller ones are counted as asked,
// without their size class's rounding.
func blockBytes(n int64) int64 {
	const large, page = 32 << 10, 8 << 10
	if n <= large {
		return n
	}
	return (n + page - 1) / page * page
}

// Cities lists every city some provider has declared, in first-seen order.
func (s *Snapshot) Cities() []string { return append([]string(nil), s.cities[1:]...) }

// record is what the snapshot stores of a provider.
type record struct {
	ID, Name, Endpoint, Sandbox string
	Vertical                    connectors.Vertical
	Lifecycle                   Lifecycle
	Cities                      []string
	Rating                      float64
	Limits                      Limits
	CacheTTL                    map[string]time.Duration
	Version                     int64
}

func recordOf(p *Provider) record {
	return record{ID: p.ID, Name: p.Name, Endpoint: p.Endpoint, Sandbox: p.SandboxEndpoint, Vertical: p.Vertical,
		Lifecycle: p.Lifecycle, Cities: p.Cities, Rating: p.Rating, Limits: p.Limits, CacheTTL: p.CacheTTL, Version: p.Version}
}
