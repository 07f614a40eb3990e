package directory

import (
	"hash/maphash"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/plaza-gateway/plaza/connectors"
)

func emptySnapshot(capacity int) *Snapshot {
	w := &writerState{limitIndex: map[Limits]uint32{{}: 0}, ttlIndex: map[string]uint32{"": 0}, reclaim: &reclaim{}}
	s := &Snapshot{
		cities:    []string{""},
		cityIndex: map[string]uint16{},
		limits:    []Limits{{}},
		ttls:      []ttlProfile{nil},
		ids:       newIDTable(capacity),
		w:         w,
		ep:        newEpoch(w.reclaim),
	}
	// A build frees only nodes no reader has seen; they wait for the
	// build's epoch like any others.
	s.frees = s.ep.f
	if capacity > 0 {
		chunks := capacity/chunkSize + 1
		s.text = make([]byte, 0, capacity*48)
		s.cityArr = make([]uint16, 0, capacity*2)
		s.dirs = make([]uint32, 0, chunks/(groupSize*dirSize)+1)
		s.chunks = make(slab[chunk], 0, chunks/slabLen+1)
	}
	return s
}

// edit derives one snapshot from another: it copies what it changes the first
// time it changes it, so the source stays intact for its readers.
type edit struct {
	s          *Snapshot
	ownDirs    bool     // the top slice of group directories
	ownDir     ownedSet // group directories copied (or created)
	ownGroup   ownedSet
	ownChunk   ownedSet
	ownCities  bool
	ownRow     [numVerticals]bool
	ownCells   ownedSet // coverage groups copied, numbered vertical<<16 | group
	sortAtEnd  bool     // bulk build from unsorted input: sort lists once at the end
	lastID     string
	freshBuild bool
}

func newBuild(capacity int) *edit {
	return &edit{s: emptySnapshot(capacity), ownDirs: true, ownCities: true, ownRow: [numVerticals]bool{true, true, true, true},
		freshBuild: true}
}

func editOf(src *Snapshot) *edit {
	w := src.w
	if src.gen != w.gen {
		// A branch off an older snapshot would free slots the latest still
		// reads (no epoch of the branch holds them) and append over the
		// latest's arena entries and slab blocks. view derives each
		// snapshot from the one it serves, the latest of its lineage.
		panic("directory: an edit of a snapshot that is not the latest of its lineage")
	}
	w.take()
	next := *src
	next.frees = src.ep.f
	return &edit{s: &next}
}

// ownedSet is the chunk or group numbers an edit has copied (or created): a
// few inline for what a live change touches (nothing to allocate per
// change), a map once a bulk build or a long catch-up touches many.
type ownedSet struct {
	few  [16]int
	n    int
	many map[int]bool
}

func (o *ownedSet) has(k int) bool {
	if o.many != nil {
		return o.many[k]
	}
	for _, x := range o.few[:o.n] {
		if x == k {
			return true
		}
	}
	return false
}

func (o *ownedSet) add(k int) {
	switch {
	case o.many != nil:
		o.many[k] = true
	case o.n < len(o.few):
		o.few[o.n] = k
		o.n++
	default:
		o.many = make(map[int]bool, 4*len(o.few))
		for _, x := range o.few {
			o.many[x] = true
		}
		o.many[k] = true
	}
}

// upsert adds r, or replaces the provider with r's id.
func (e *edit) upsert(r record) {
	s := e.s
	if old, ok := s.Lookup(r.ID); ok {
		e.replace(old.i, r)
		return
	}
	if e.freshBuild && r.ID < e.lastID {
		e.sortAtEnd = true
	}
	i := s.n
	k := int(i >> chunkBits)
	g := k >> groupBits
	d := g >> dirBits
	// Appending past the shared length, or filling a slot no older
	// snapshot reads (their entries end before it), never disturbs them.
	if d == len(s.dirs) {
		h := e.newNode()
		s.dirs = append(s.dirs, h)
		e.ownDir.add(d)
	}
	dir := s.nodes.at(s.dirs[d])
	if dir[g&dirMask] == 0 {
		// A handle no older snapshot reads (their entries end before the
		// group): setting it in place is invisible to them.
		dir[g&dirMask] = e.newNode()
		e.ownGroup.add(g)
	}
	grp := s.nodes.at(dir[g&dirMask])
	if i&chunkMask == 0 {
		// The chunk's first entry: no older snapshot reads the chunk.
		h := alloc(&s.chunks, &s.w.chunks)
		*s.chunks.at(h) = chunk{}
		grp[k&groupMask] = h
		e.ownChunk.add(k)
	}
	// Slot i of the last chunk is beyond every older snapshot's n: writing it
	// in place is invisible to them.
	e.write(s.chunks.at(grp[k&groupMask]), int(i&chunkMask), r)
	s.n++
	s.ids = s.ids.insert(s, r.ID, i)
	if e.freshBuild {
		e.lastID = s.id(i) // from the arena: r.ID may alias a reused row buffer
	}
	if r.Lifecycle == Active {
		e.cover(i, r.Vertical, e.cityNumbersOf(i), true)
	}
}

func (e *edit) replace(i int32, r record) {
	if e.freshBuild {
		// A bulk build met an id twice: from here on keep lists sorted as
		// an incremental edit does.
		e.sealLists()
		e.freshBuild, e.sortAtEnd = false, false
	}
	s := e.s
	old := Entry{s, i}
	wasActive := old.Lifecycle() == Active
	oldV := old.Vertical()
	// The city arena is append-only: write appends the new cities after
	// these, so the old ones stay readable without a copy.
	oldCities := old.cityNumbers()
	// Most changes keep the provider's text and cities (a suspension, a
	// resumption, new limits): the entry keeps pointing at them, so the
	// change appends nothing to the arenas and leaves no garbage for a
	// compaction to reclaim.
	keepText := old.Name() == r.Name && old.Endpoint() == r.Endpoint && old.SandboxEndpoint() == r.Sandbox
	keepCities := old.CitiesEqual(r.Cities)
	c, j := s.chunkOf(i)
	if !keepText {
		s.garbage += int(c.idLen[j]) + int(c.nameLen[j]) + int(c.endpointLen[j]) + int(c.sandboxLen[j])
	}
	if k := int(i >> chunkBits); !e.ownChunk.has(k) {
		grp := e.ownedGroup(k >> groupBits)
		h := alloc(&s.chunks, &s.w.chunks)
		cp := s.chunks.at(h)
		*cp = *c
		if s.frees != nil {
			s.frees.chunks = append(s.frees.chunks, grp[k&groupMask])
		}
		grp[k&groupMask] = h
		e.ownChunk.add(k)
		c = cp
	}
	if !keepText {
		e.writeText(c, j, r)
	}
	if !keepCities {
		e.writeCities(c, j, r.Cities)
	}
	e.writeFields(c, j, r)
	newCities := e.cityNumbersOf(i)
	if wasActive && r.Lifecycle == Active && oldV == r.Vertical && slices.Equal(oldCities, newCities) {
		return
	}
	if wasActive {
		e.cover(i, oldV, oldCities, false)
	}
	if r.Lifecycle == Active {
		e.cover(i, r.Vertical, newCities, true)
	}
}

// ownedGroup is group g of the edit's snapshot, copied (with its directory
// and the top slice) the first time the edit writes it.
func (e *edit) ownedGroup(g int) *radix {
	s := e.s
	d := g >> dirBits
	if !e.ownGroup.has(g) {
		if !e.ownDir.has(d) {
			if !e.ownDirs {
				s.dirs = slices.Clone(s.dirs)
				e.ownDirs = true
			}
			s.dirs[d] = e.copyNode(s.dirs[d])
			e.ownDir.add(d)
		}
		dir := s.nodes.at(s.dirs[d])
		dir[g&dirMask] = e.copyNode(dir[g&dirMask])
		e.ownGroup.add(g)
	}
	return s.nodes.at(s.nodes.at(s.dirs[d])[g&dirMask])
}

// newNode allocates an empty radix node.
func (e *edit) newNode() uint32 {
	h := alloc(&e.s.nodes, &e.s.w.nodes)
	*e.s.nodes.at(h) = radix{}
	return h
}

// copyNode copies radix node h into a new one, frees h and returns the copy.
func (e *edit) copyNode(h uint32) uint32 {
	s := e.s
	c := alloc(&s.nodes, &s.w.nodes)
	*s.nodes.at(c) = *s.nodes.at(h)
	if s.frees != nil {
		s.frees.nodes = append(s.frees.nodes, h)
	}
	return c
}

func (e *edit) cityNumbersOf(i int32) []uint16 { return Entry{e.s, i}.cityNumbers() }

// write stores r in slot j of c.
func (e *edit) write(c *chunk, j int, r record) {
	e.writeText(c, j, r)
	e.writeCities(c, j, r.Cities)
	e.writeFields(c, j, r)
}

// writeText appends r's strings to the text arena for slot j of c.
func (e *edit) writeText(c *chunk, j int, r record) {
	s := e.s
	id, name, ep, sb := clip(r.ID, 255), clip(r.Name, 1<<16-1), clip(r.Endpoint, 1<<16-1), clip(r.Sandbox, 1<<16-1)
	c.textStart[j] = uint32(len(s.text))
	s.text = append(append(append(append(s.text, id...), name...), ep...), sb...)
	c.idLen[j], c.nameLen[j], c.endpointLen[j], c.sandboxLen[j] = uint8(len(id)), uint16(len(name)), uint16(len(ep)), uint16(len(sb))
}

// writeCities appends the numbers of cities to the city arena for slot j of c.
func (e *edit) writeCities(c *chunk, j int, cities []string) {
	s := e.s
	if len(cities) > 255 {
		cities = cities[:255]
	}
	c.cityStart[j] = uint32(len(s.cityArr))
	for _, name := range cities {
		s.cityArr = append(s.cityArr, e.city(name))
	}
	c.cityCount[j] = uint8(len(cities))
}

// writeFields stores r's fixed-size columns in slot j of c.
func (e *edit) writeFields(c *chunk, j int, r record) {
	c.vertical[j] = uint8(max(verticalIndex(r.Vertical), 0))
	c.lifecycle[j] = uint8(r.Lifecycle)
	c.rating[j] = float32(r.Rating)
	c.version[j] = r.Version
	c.limits[j] = e.internLimits(r.Limits)
	c.ttl[j] = e.internTTL(r.CacheTTL)
}

func clip(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

func (e *edit) city(name string) uint16 {
	s := e.s
	if n, ok := s.cityIndex[name]; ok {
		return n
	}
	if len(s.cities) > 1<<16-1 {
		return anyCity // a directory with 65535 distinct cities is not one we route by city
	}
	if !e.ownCities {
		s.cityIndex = maps.Clone(s.cityIndex)
		e.ownCities = true
	}
	n := uint16(len(s.cities))
	name = strings.Clone(name) // the caller's string may alias a row buffer
	s.cities = append(s.cities, name)
	s.cityIndex[name] = n
	return n
}

func (e *edit) internLimits(l Limits) uint32 {
	s := e.s
	if n, ok := s.w.limitIndex[l]; ok {
		return n
	}
	n := uint32(len(s.limits))
	s.limits = append(s.limits, l)
	s.w.limitIndex[l] = n
	return n
}

func (e *edit) internTTL(m map[string]time.Duration) uint32 {
	if len(m) == 0 {
		return 0
	}
	keys := slices.Sorted(maps.Keys(m))
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(strconv.FormatInt(int64(m[k]), 10))
		b.WriteByte(';')
	}
	s := e.s
	key := b.String()
	if n, ok := s.w.ttlIndex[key]; ok {
		return n
	}
	n := uint32(len(s.ttls))
	s.ttls = append(s.ttls, ttlProfile(maps.Clone(m)))
	s.w.ttlIndex[key] = n
	return n
}

func (e *edit) row(v int) {
	if !e.ownRow[v] {
		e.s.cov[v] = slices.Clone(e.s.cov[v])
		e.ownRow[v] = true
	}
}

// cover adds provider i to (or removes it from) the coverage cells of its
// vertical: its cities and "any city".
func (e *edit) cover(i int32, v connectors.Vertical, cities []uint16, add bool) {
	vi := verticalIndex(v)
	if vi < 0 {
		return
	}
	e.coverCell(vi, anyCity, i, add)
	for k, c := range cities {
		// A city listed twice is one cell: a list takes a change only once
		// (covList.with trusts its caller on where the provider stands).
		if c != anyCity && !slices.Contains(cities[:k], c) {
			e.coverCell(vi, int(c), i, add)
		}
	}
}

func (e *edit) coverCell(row, col int, i int32, add bool) {
	s := e.s
	list := s.cell(row, col)
	if e.freshBuild && add {
		// Bulk build: the lists are new and filled in id order (or sorted
		// once at the end), and become trees when the build is sealed.
		if list == nil {
			list = &covList{}
			e.setCell(row, col, list)
		}
		list.appendOwned(i)
		return
	}
	if next := list.with(s, i, add); next != list {
		e.setCell(row, col, next)
	}
}

// setCell sets a coverage cell, copying its row's directory (a pointer per
// 8 cities) and its group of 8 cells the first time the edit writes them.
func (e *edit) setCell(row, col int, l *covList) {
	s := e.s
	e.row(row)
	g := col >> covGroupBits
	for len(s.cov[row]) <= g {
		s.cov[row] = append(s.cov[row], new(covGroup))
		e.ownCells.add(row<<16 | (len(s.cov[row]) - 1))
	}
	if !e.ownCells.has(row<<16 | g) {
		cp := *s.cov[row][g]
		s.cov[row][g] = &cp
		e.ownCells.add(row<<16 | g)
	}
	s.cov[row][g][col&covGroupMask] = l
}

// sealLists turns the lists a bulk build filled into trees.
func (e *edit) sealLists() {
	for _, row := range e.s.cov {
		for _, g := range row {
			for _, list := range g {
				if list != nil && list.pending != nil {
					list.sealOwned(e.s, e.sortAtEnd)
				}
			}
		}
	}
}

// finish seals the edit at version.
func (e *edit) finish(version int64) *Snapshot {
	s := e.s
	if e.freshBuild {
		e.sealLists()
	}
	s.version = version
	if s.frees != nil {
		b := s.frees.bytes()
		s.w.pending += b - s.frees.counted
		s.frees.counted = b
		s.w.collectIfPending(s)
	}
	if s.frees != nil && s.frees.len() >= epochSlots {
		// The slots freed so far wait for the snapshots up to this one's
		// source; the next changes free into a new epoch.
		next := newEpoch(s.w.reclaim)
		s.w.retire(s.ep)
		s.ep.next = next
		s.ep = next
	}
	s.frees = nil
	s.w.gen++
	s.gen = s.w.gen
	return s
}

// compactMinGarbage: below this many garbage bytes a snapshot is never
// rebuilt (a variable so tests can exercise compaction).
var compactMinGarbage = 1 << 20

// compacted rebuilds s when more than half of its text arena is garbage left
// by replaced entries, or when a snapshot held for long keeps the slots
// changes freed from being reused (pinned), so a long-running instance does
// not grow with churn.
func compacted(s *Snapshot) *Snapshot {
	if (s.garbage < compactMinGarbage || s.garbage < len(s.text)/2) && !s.pinned() {
		return s
	}
	b := newBuild(s.Len())
	for i := 0; i < s.Len(); i++ {
		b.upsert(recordOfEntry(s.At(i)))
	}
	return b.finish(s.version)
}

func recordOfEntry(e Entry) record {
	var ttl map[string]time.Duration
	c, j := e.s.chunkOf(e.i)
	if p := e.s.ttls[c.ttl[j]]; p != nil {
		ttl = p
	}
	return record{ID: e.ID(), Name: e.Name(), Endpoint: e.Endpoint(), Sandbox: e.SandboxEndpoint(),
		Vertical: e.Vertical(), Lifecycle: e.Lifecycle(), Cities: e.Cities(), Rating: e.Rating(),
		Limits: e.Limits(), CacheTTL: ttl, Version: e.Version()}
}

func (t *idTable) insert(s *Snapshot, id string, idx int32) *idTable {
	if (t.used+1)*2 > len(t.slots) {
		// Grow into a new table for the new snapshot; older snapshots keep
		// the old one, which is no longer written.
		g := newIDTable(len(t.slots))
		for k := int32(0); k < idx; k++ {
			g.put(s.id(k), k)
		}
		t = g
	}
	t.put(id, idx)
	return t
}

func (t *idTable) put(id string, idx int32) {
	h := maphash.String(t.seed, id)
	for i := h & t.mask; ; i = (i + 1) & t.mask {
		if atomic.LoadUint32(&t.slots[i]) == 0 {
			atomic.StoreUint32(&t.slots[i], t.tag(h)|(uint32(idx)+1))
			t.used++
			return
		}
	}
}

// view holds the current snapshot and serialises the one writer.
type view struct {
	mu  sync.Mutex
	cur atomic.Pointer[Snapshot]
}

func newView() *view {
	v := &view{}
	v.cur.Store(emptySnapshot(0))
	return v
}

func (v *view) snapshot() *Snapshot { return v.cur.Load() }

// replace installs a fully loaded snapshot unless the one served is newer.
func (v *view) replace(s *Snapshot) bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	if s.version < v.cur.Load().version {
		return false
	}
	v.cur.Store(s)
	return true
}

// apply upserts records and moves the served version to version (never
// backwards: the records are the current state of their providers, so
// applying them again is harmless).
func (v *view) apply(version int64, recs []record) {
	v.mu.Lock()
	defer v.mu.Unlock()
	cur := v.cur.Load()
	e := editOf(cur)
	for _, r := range recs {
		e.upsert(r)
	}
	next := e.finish(max(version, cur.version))
	v.cur.Store(compacted(next))
}
