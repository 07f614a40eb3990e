package directory

import (
	"encoding/binary"
	"slices"
	"strings"
	"unsafe"
)

// A coverage cell is a persistent B+tree of provider indexes ordered by
// provider id. A change copies the path from the root to the leaf it touches
// (a few kilobytes, O(log n)) and shares every other node with the previous
// snapshot, whatever the size of the cell.
//
// Each entry carries its id's first 16 bytes as two integers (its key), so
// a search compares integers held in the node it reads instead of following
// every entry to its provider's chunk and text: at 10^6 providers those
// were two cache misses per comparison and most of a change's cost. Only
// ids that share their first 16 bytes are compared in full.
//
// Leaves hold no pointer (the collector marks them without scanning); inner
// nodes hold one per child. A bulk build packs nodes full: at 10^6 providers
// a vertical's "any city" cell is five levels of inner nodes over 7,800
// leaves, and the whole index about 100,000 leaves.
const (
	// Sizes measured at 10^6 providers (BenchmarkApplyChange, process CPU
	// and bytes allocated per change): leaves of 32 and inner nodes of 8
	// copy 7.8 KB per suspension; 64 and 16 copied 10.6 KB and took 7–35%
	// more CPU in alternating runs (load 14–25). The nodes a change copies
	// are cold at that size, so bytes moved count more than levels.
	covLeafMax  = 32 // entries per leaf: a change copies one leaf (650 B)
	covInnerMax = 8  // children per inner node: a change copies one per level (232 B)
	// covMaxDepth bounds a cursor's path. A tree grows a level only when its
	// root splits, and a node splits only when full (leaving halves of at
	// least 16 entries and 4 children), so height 12 takes over 10^8
	// entries in one cell; with reaches it, it repacks the list (O(n),
	// once).
	covMaxDepth = 12
)

// covKey is an id's first 16 bytes, big-endian, zero-padded. Keys order as
// their ids do wherever they differ (a shorter id padded with zeros is a
// prefix of the longer one, so it sorts first in both orders).
type covKey struct{ hi, lo uint64 }

func keyOf(id string) covKey {
	var b [16]byte
	copy(b[:], id)
	return covKey{binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])}
}

// cmpEntry orders (k, id) against the entry (ek, ei) of s.
func cmpEntry(s *Snapshot, k covKey, id string, ek covKey, ei int32) int {
	switch {
	case k.hi < ek.hi:
		return -1
	case k.hi > ek.hi:
		return 1
	case k.lo < ek.lo:
		return -1
	case k.lo > ek.lo:
		return 1
	}
	return strings.Compare(id, s.id(ei))
}

// keyLess orders two entries of s, reading their ids only when their keys
// tie.
func keyLess(s *Snapshot, ak covKey, ai int32, bk covKey, bi int32) bool {
	if ak != bk {
		return ak.hi < bk.hi || (ak.hi == bk.hi && ak.lo < bk.lo)
	}
	return s.id(ai) < s.id(bi)
}

type covLeaf struct {
	n    int32
	keys [covLeafMax]covKey
	idx  [covLeafMax]int32
}

// covInner: child j is a *covLeaf when the node's height is 1, a *covInner
// above (one pointer slot for either keeps the node small); keys[j] and
// idx[j] are the first entry under it.
type covInner struct {
	n    int32
	keys [covInnerMax]covKey
	idx  [covInnerMax]int32
	kids [covInnerMax]unsafe.Pointer
}

func (nd *covInner) inner(j int) *covInner { return (*covInner)(nd.kids[j]) }
func (nd *covInner) leaf(j int) *covLeaf   { return (*covLeaf)(nd.kids[j]) }

// kid is the one non-nil pointer of in and lf.
func kid(in *covInner, lf *covLeaf) unsafe.Pointer {
	if in != nil {
		return unsafe.Pointer(in)
	}
	return unsafe.Pointer(lf)
}

// covList is one coverage cell: the ACTIVE providers of a (vertical, city),
// ordered by id. Immutable once published: with returns a new list. nil is
// the empty list.
type covList struct {
	total int
	depth int // 0: the root is leaf; otherwise inner, with leaves height levels down
	leaf  *covLeaf
	inner *covInner

	// pending is a list being built in bulk (appendOwned), not yet shared:
	// sealOwned turns it into the tree.
	pending []int32
}

func (l *covList) height() int {
	if l == nil {
		return 0
	}
	return l.depth
}

func (l *covList) len() int {
	if l == nil {
		return 0
	}
	return l.total
}

// leafPos is the position of the first entry of lf at or after (k, id).
func leafPos(s *Snapshot, lf *covLeaf, k covKey, id string) int {
	lo, hi := 0, int(lf.n)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if cmpEntry(s, k, id, lf.keys[m], lf.idx[m]) > 0 {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

// childFor is the child of nd whose range holds (k, id): the last whose
// first entry is at or before it (the first child if none is).
func childFor(s *Snapshot, nd *covInner, k covKey, id string) int {
	lo, hi := 0, int(nd.n)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if cmpEntry(s, k, id, nd.keys[m], nd.idx[m]) >= 0 {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return max(lo-1, 0)
}

func (lf *covLeaf) insertAt(pos int, k covKey, i int32) {
	n := int(lf.n)
	copy(lf.keys[pos+1:n+1], lf.keys[pos:n])
	copy(lf.idx[pos+1:n+1], lf.idx[pos:n])
	lf.keys[pos], lf.idx[pos] = k, i
	lf.n++
}

func (nd *covInner) insertAt(pos int, k covKey, i int32, in *covInner, lf *covLeaf) {
	n := int(nd.n)
	copy(nd.keys[pos+1:n+1], nd.keys[pos:n])
	copy(nd.idx[pos+1:n+1], nd.idx[pos:n])
	copy(nd.kids[pos+1:n+1], nd.kids[pos:n])
	nd.keys[pos], nd.idx[pos], nd.kids[pos] = k, i, kid(in, lf)
	nd.n++
}

func (nd *covInner) deleteAt(pos int) {
	n := int(nd.n)
	copy(nd.keys[pos:], nd.keys[pos+1:n])
	copy(nd.idx[pos:], nd.idx[pos+1:n])
	copy(nd.kids[pos:], nd.kids[pos+1:n])
	nd.kids[n-1] = nil
	nd.n--
}

// setChild points child j at (in or lf) and refreshes its first entry.
func (nd *covInner) setChild(j int, in *covInner, lf *covLeaf) {
	nd.kids[j] = kid(in, lf)
	if in != nil {
		nd.keys[j], nd.idx[j] = in.keys[0], in.idx[0]
	} else {
		nd.keys[j], nd.idx[j] = lf.keys[0], lf.idx[0]
	}
}

// The functions below copy a node before they search it. A change copies
// every node on its path anyway, and at 10^6 providers those nodes are cold:
// a binary search over a cold leaf waits for one cache miss after another
// (six or so per 1.3 KB leaf), while copying it first streams the whole node
// in at once (the loads are independent, so they overlap) and the search then
// runs on the copy in L1. When nothing changes (the entry is there already,
// or not there to remove: rare) the copy is dropped.

// leafAdd returns lf with (k, i) added at its place, split in two when full;
// changed is false when i is there already.
func leafAdd(s *Snapshot, lf *covLeaf, k covKey, id string, i int32) (a, b *covLeaf, changed bool) {
	cp := new(covLeaf)
	*cp = *lf
	pos := leafPos(s, cp, k, id)
	if pos < int(cp.n) && cp.idx[pos] == i {
		return lf, nil, false
	}
	if cp.n < covLeafMax {
		cp.insertAt(pos, k, i)
		return cp, nil, true
	}
	// Split: the copy becomes the lower half.
	const h = covLeafMax / 2
	a, b = cp, &covLeaf{n: covLeafMax - h}
	copy(b.keys[:], cp.keys[h:])
	copy(b.idx[:], cp.idx[h:])
	a.n = h
	if pos <= h {
		a.insertAt(pos, k, i)
	} else {
		b.insertAt(pos-h, k, i)
	}
	return a, b, true
}

// innerAdd is leafAdd for an inner node of height h (>= 1).
func innerAdd(s *Snapshot, nd *covInner, h int, k covKey, id string, i int32) (a, b *covInner, changed bool) {
	cp := new(covInner)
	*cp = *nd
	j := childFor(s, cp, k, id)
	var ai, bi *covInner
	var al, bl *covLeaf
	if h == 1 {
		al, bl, changed = leafAdd(s, cp.leaf(j), k, id, i)
	} else {
		ai, bi, changed = innerAdd(s, cp.inner(j), h-1, k, id, i)
	}
	if !changed {
		return nd, nil, false
	}
	cp.setChild(j, ai, al)
	if bi == nil && bl == nil {
		return cp, nil, true
	}
	var bk covKey
	var bx int32
	if bi != nil {
		bk, bx = bi.keys[0], bi.idx[0]
	} else {
		bk, bx = bl.keys[0], bl.idx[0]
	}
	if cp.n < covInnerMax {
		cp.insertAt(j+1, bk, bx, bi, bl)
		return cp, nil, true
	}
	// Split: the copy becomes the lower half.
	const half = covInnerMax / 2
	a, b = cp, &covInner{n: covInnerMax - half}
	copy(b.keys[:], cp.keys[half:])
	copy(b.idx[:], cp.idx[half:])
	copy(b.kids[:], cp.kids[half:])
	clear(cp.kids[half:]) // the upper half is b's now: keep no second reference
	a.n = half
	if j+1 <= half {
		a.insertAt(j+1, bk, bx, bi, bl)
	} else {
		b.insertAt(j+1-half, bk, bx, bi, bl)
	}
	return a, b, true
}

// leafRemove returns lf without i (nil when that empties it); changed is
// false when i is not there. The descent chose lf by i's key, so i is in lf
// if it is in the list: the copy is searched for the index itself, no key
// compared.
func leafRemove(lf *covLeaf, i int32) (*covLeaf, bool) {
	cp := new(covLeaf)
	*cp = *lf
	n := int(cp.n)
	pos := slices.Index(cp.idx[:n], i)
	if pos < 0 {
		return lf, false
	}
	if n == 1 {
		return nil, true
	}
	copy(cp.keys[pos:], cp.keys[pos+1:n])
	copy(cp.idx[pos:], cp.idx[pos+1:n])
	cp.n--
	return cp, true
}

// innerRemove is leafRemove for an inner node of height h. Nodes are not
// merged when they shrink (only dropped when empty): deletions never make a
// tree taller, and the next bulk build or compaction packs it again.
func innerRemove(s *Snapshot, nd *covInner, h int, k covKey, id string, i int32) (*covInner, bool) {
	cp := new(covInner)
	*cp = *nd
	j := childFor(s, cp, k, id)
	var ci *covInner
	var cl *covLeaf
	var changed bool
	if h == 1 {
		cl, changed = leafRemove(cp.leaf(j), i)
	} else {
		ci, changed = innerRemove(s, cp.inner(j), h-1, k, id, i)
	}
	if !changed {
		return nd, false
	}
	if ci == nil && cl == nil {
		if cp.n == 1 {
			return nil, true
		}
		cp.deleteAt(j)
		return cp, true
	}
	cp.setChild(j, ci, cl)
	return cp, true
}

// with returns l with provider i added or removed (l itself if nothing
// changes): O(log n) time, O(log n) nodes copied.
func (l *covList) with(s *Snapshot, i int32, add bool) *covList {
	id := s.id(i)
	k := keyOf(id)
	if l == nil || (l.leaf == nil && l.inner == nil) {
		if !add {
			return l
		}
		lf := &covLeaf{n: 1}
		lf.keys[0], lf.idx[0] = k, i
		return &covList{total: 1, leaf: lf}
	}
	out := &covList{total: l.total, depth: l.depth}
	if add {
		if l.depth == 0 {
			a, b, changed := leafAdd(s, l.leaf, k, id, i)
			if !changed {
				return l
			}
			out.leaf = a
			if b != nil {
				root := &covInner{}
				root.insertAt(0, a.keys[0], a.idx[0], nil, a)
				root.insertAt(1, b.keys[0], b.idx[0], nil, b)
				out.leaf, out.inner, out.depth = nil, root, 1
			}
		} else {
			a, b, changed := innerAdd(s, l.inner, l.depth, k, id, i)
			if !changed {
				return l
			}
			out.inner = a
			if b != nil {
				root := &covInner{}
				root.insertAt(0, a.keys[0], a.idx[0], a, nil)
				root.insertAt(1, b.keys[0], b.idx[0], b, nil)
				out.inner, out.depth = root, l.depth+1
			}
		}
		out.total++
		if out.depth == covMaxDepth {
			out = out.repacked(s)
		}
		return out
	}
	if l.depth == 0 {
		lf, changed := leafRemove(l.leaf, i)
		if !changed {
			return l
		}
		out.leaf = lf
	} else {
		nd, changed := innerRemove(s, l.inner, l.depth, k, id, i)
		if !changed {
			return l
		}
		out.inner = nd
		// A root left with one child gives way to it.
		for out.inner != nil && out.inner.n == 1 {
			if out.depth == 1 {
				out.leaf, out.inner, out.depth = out.inner.leaf(0), nil, 0
			} else {
				out.inner, out.depth = out.inner.inner(0), out.depth-1
			}
		}
	}
	out.total--
	if out.total == 0 {
		return nil
	}
	return out
}

// repacked is l rebuilt with full nodes.
func (l *covList) repacked(s *Snapshot) *covList {
	out := &covList{pending: make([]int32, 0, l.total)}
	c := l.after(s, "")
	for {
		i, _, ok := c.next()
		if !ok {
			break
		}
		out.pending = append(out.pending, i)
		c.advance()
	}
	out.sealOwned(s, false)
	return out
}

// appendOwned appends i: only for a list being built, not yet shared with
// any reader.
func (l *covList) appendOwned(i int32) {
	l.pending = append(l.pending, i)
	l.total++
}

// sealOwned turns a list being built into its tree, sorting it first when
// its entries came out of order. Leaves and inner nodes are packed full.
func (l *covList) sealOwned(s *Snapshot, unsorted bool) {
	all := l.pending
	l.pending = nil
	if unsorted {
		slices.SortFunc(all, func(a, b int32) int { return strings.Compare(s.id(a), s.id(b)) })
	}
	l.total, l.depth, l.leaf, l.inner = len(all), 0, nil, nil
	if len(all) == 0 {
		return
	}
	leaves := make([]*covLeaf, 0, (len(all)+covLeafMax-1)/covLeafMax)
	for start := 0; start < len(all); start += covLeafMax {
		part := all[start:min(start+covLeafMax, len(all))]
		lf := &covLeaf{n: int32(len(part))}
		for j, i := range part {
			lf.keys[j], lf.idx[j] = keyOf(s.id(i)), i
		}
		leaves = append(leaves, lf)
	}
	if len(leaves) == 1 {
		l.leaf = leaves[0]
		return
	}
	var level []*covInner
	for start := 0; start < len(leaves); start += covInnerMax {
		nd := &covInner{}
		for _, lf := range leaves[start:min(start+covInnerMax, len(leaves))] {
			nd.insertAt(int(nd.n), lf.keys[0], lf.idx[0], nil, lf)
		}
		level = append(level, nd)
	}
	l.depth = 1
	for len(level) > 1 {
		var up []*covInner
		for start := 0; start < len(level); start += covInnerMax {
			nd := &covInner{}
			for _, c := range level[start:min(start+covInnerMax, len(level))] {
				nd.insertAt(int(nd.n), c.keys[0], c.idx[0], c, nil)
			}
			up = append(up, nd)
		}
		level = up
		l.depth++
	}
	l.inner = level[0]
}

// cursor walks a list in id order from a position.
type cursor struct {
	path  [covMaxDepth]*covInner
	at    [covMaxDepth]int
	depth int // entries of path in use (the list's height)
	leaf  *covLeaf
	off   int
}

// next is the entry under the cursor, if any.
func (c *cursor) next() (int32, covKey, bool) {
	for c.leaf != nil && c.off == int(c.leaf.n) {
		c.nextLeaf()
	}
	if c.leaf == nil {
		return 0, covKey{}, false
	}
	return c.leaf.idx[c.off], c.leaf.keys[c.off], true
}

func (c *cursor) advance() { c.off++ }

// nextLeaf moves to the first entry of the following leaf (nil past the end).
func (c *cursor) nextLeaf() {
	d := c.depth - 1
	for d >= 0 && c.at[d]+1 == int(c.path[d].n) {
		d--
	}
	if d < 0 {
		c.leaf = nil
		return
	}
	c.at[d]++
	c.descend(d, func(*covInner) int { return 0 })
}

// descend fills the path below level d (whose child at[d] is taken),
// choosing at each level the child pick returns, down to a leaf.
func (c *cursor) descend(d int, pick func(*covInner) int) {
	for ; d < c.depth-1; d++ {
		c.path[d+1] = c.path[d].inner(c.at[d])
		c.at[d+1] = pick(c.path[d+1])
	}
	c.leaf, c.off = c.path[c.depth-1].leaf(c.at[c.depth-1]), 0
}

// after positions a cursor on the first entry whose id is > id ("" = start).
func (l *covList) after(s *Snapshot, id string) cursor {
	var c cursor
	if l == nil {
		return c
	}
	var k covKey
	pick := func(*covInner) int { return 0 }
	if id != "" {
		k = keyOf(id)
		pick = func(nd *covInner) int { return childFor(s, nd, k, id) }
	}
	if l.depth == 0 {
		c.leaf = l.leaf
	} else {
		c.depth = l.depth
		c.path[0], c.at[0] = l.inner, pick(l.inner)
		c.descend(0, pick)
	}
	if id != "" && c.leaf != nil {
		c.off = leafPos(s, c.leaf, k, id)
		if i, _, ok := c.next(); ok && s.id(i) == id {
			c.advance()
		}
	}
	return c
}
