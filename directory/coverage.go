package directory

import (
	"cmp"
	"encoding/binary"
	"slices"
	"strings"
)

// A coverage cell is a persistent B+tree of provider indexes ordered by
// provider id, plus a short delta of the latest changes (see covList.with).
// Applying a delta copies the nodes it touches, each once, and shares every
// other node with the previous snapshot, whatever the size of the cell.
//
// Each entry carries its id's first 16 bytes as two integers (its key), so
// a search compares integers held in the node it reads instead of following
// every entry to its provider's chunk and text: at 10^6 providers those
// were two cache misses per comparison and most of a change's cost. Only
// ids that share their first 16 bytes are compared in full.
//
// Nodes live in the snapshot's slabs and name their children by handle
// (slab.go): the collector neither marks nor scans them one by one. A bulk
// build packs nodes full: at 10^6 providers a vertical's "any city" cell is
// five levels of inner nodes over 7,800 leaves, and the whole index about
// 100,000 leaves.
const (
	// Sizes measured at 10^6 providers when every change copied its path
	// (BenchmarkApplyChange, process CPU and bytes allocated per change):
	// leaves of 32 and inner nodes of 8 copied 7.8 KB per suspension; 64
	// and 16 copied 10.6 KB and took 7–35% more CPU in alternating runs
	// (load 14–25). The nodes a change copies are cold at that size, so
	// bytes moved count more than levels.
	covLeafMax  = 32 // entries per leaf (650 B)
	covInnerMax = 8  // children per inner node (200 B)
	// covMaxDepth bounds a cursor's path. A tree grows a level only when its
	// root splits, and a node splits only when it overflows (into parts of
	// at least 16 entries or 4 children), so height 12 takes over 10^8
	// entries in one cell; a flush that reaches it repacks the list (O(n),
	// once).
	covMaxDepth = 12
	// covDeltaMax: a list's delta is applied to its tree when it holds this
	// many changes. 16, 32 and 64 were within the noise of one another at
	// 10^6 providers (alternating runs, load 13–15); a longer delta costs
	// every change a longer copy, and every read a longer merge.
	covDeltaMax = 32
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

// cmp orders two keys: hi, then lo.
func (a covKey) cmp(b covKey) int {
	if c := cmp.Compare(a.hi, b.hi); c != 0 {
		return c
	}
	return cmp.Compare(a.lo, b.lo)
}

// cmpEntry orders (k, id) against the entry (ek, ei) of s.
func cmpEntry(s *Snapshot, k covKey, id string, ek covKey, ei int32) int {
	if c := k.cmp(ek); c != 0 {
		return c
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

// covInner: child j is the handle of a leaf when the node's height is 1,
// of an inner node above; keys[j] and idx[j] are the first entry under it.
type covInner struct {
	n    int32
	keys [covInnerMax]covKey
	idx  [covInnerMax]int32
	kids [covInnerMax]uint32
}

func (s *Snapshot) inner(h uint32) *covInner { return s.inners.at(h) }
func (s *Snapshot) leaf(h uint32) *covLeaf   { return s.leaves.at(h) }

// newLeaf and newInner allocate a node for the edit of s (its content is
// stale: the caller writes it).
func (s *Snapshot) newLeaf() (uint32, *covLeaf) {
	h := alloc(&s.leaves, &s.w.leaves)
	return h, s.leaves.at(h)
}

func (s *Snapshot) newInner() (uint32, *covInner) {
	h := alloc(&s.inners, &s.w.inners)
	return h, s.inners.at(h)
}

// freeTree frees every node of the tree under root (a leaf at depth 0).
func (s *Snapshot) freeTree(root uint32, depth int) {
	if root == 0 || s.frees == nil {
		return
	}
	if depth == 0 {
		s.frees.leaves = append(s.frees.leaves, root)
		return
	}
	nd := s.inner(root)
	for j := range int(nd.n) {
		s.freeTree(nd.kids[j], depth-1)
	}
	s.frees.inners = append(s.frees.inners, root)
}

func (s *Snapshot) freeLeaf(h uint32) {
	if s.frees != nil {
		s.frees.leaves = append(s.frees.leaves, h)
	}
}

func (s *Snapshot) freeInner(h uint32) {
	if s.frees != nil {
		s.frees.inners = append(s.frees.inners, h)
	}
}

// covList is one coverage cell: the ACTIVE providers of a (vertical, city),
// ordered by id. Immutable once published: with returns a new list. nil is
// the empty list.
type covList struct {
	total int
	depth int    // 0: the root is a leaf; otherwise inner, with leaves depth levels down
	root  uint32 // handle of the root node in the snapshot's slabs; 0: no tree

	// pending is a list being built in bulk (appendOwned), not yet shared:
	// sealOwned turns it into the tree.
	pending []int32

	// delta: the latest changes, not yet in the tree, in id order (see
	// with). An added provider is not in the tree; a removed one is. total
	// counts them.
	delta []covOp
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

func (nd *covInner) push(k covKey, i int32, kid uint32) {
	n := nd.n
	nd.keys[n], nd.idx[n], nd.kids[n] = k, i, kid
	nd.n++
}

// cmpIdx orders the entries (ak, ai) and (bk, bi) of s, reading their ids
// only when their keys tie.
func cmpIdx(s *Snapshot, ak covKey, ai int32, bk covKey, bi int32) int {
	if c := ak.cmp(bk); c != 0 {
		return c
	}
	switch {
	case ai == bi:
		return 0
	}
	return strings.Compare(s.id(ai), s.id(bi))
}

// covOp is a change not yet in a list's tree: provider i (key k) added to
// the list, or removed from it.
type covOp struct {
	k   covKey
	i   int32
	add bool
}

// with returns l with provider i added (add) or removed: a new list, l
// itself if nothing changes. The caller knows where i stands: it adds only
// a provider the list lacks and removes only one it holds (edit.cover
// derives both from the provider's previous entry), so a change need not
// search the tree.
//
// The change goes to the list's delta, a short sorted slice copied whole
// (some 200 bytes on average). When the delta fills, one flush applies it to
// the tree, copying each node the batch touches once: at 10^6 providers a
// vertical's "any city" tree is six levels high and its upper levels are
// shared by the whole batch, so a change costs about one leaf and two inner
// nodes instead of its whole path, and a city's smaller tree about one leaf.
// Copying those cold nodes one path per change was most of a change's CPU at
// that size (BenchmarkApplyChange).
func (l *covList) with(s *Snapshot, i int32, add bool) *covList {
	out := new(covList)
	if l != nil {
		*out = *l
	}
	if add {
		out.total++
	} else {
		out.total--
	}
	for p, op := range out.delta {
		if op.i != i {
			continue
		}
		if op.add == add {
			return l // a city listed twice, or a repeated change
		}
		// The change undoes one still in the delta.
		d := make([]covOp, len(out.delta)-1)
		copy(d, out.delta[:p])
		copy(d[p:], out.delta[p+1:])
		out.delta = d
		if out.total == 0 {
			s.freeTree(out.root, out.depth)
			return nil
		}
		return out
	}
	k := keyOf(s.id(i))
	pos, hi := 0, len(out.delta)
	for pos < hi {
		m := int(uint(pos+hi) >> 1)
		if cmpIdx(s, out.delta[m].k, out.delta[m].i, k, i) < 0 {
			pos = m + 1
		} else {
			hi = m
		}
	}
	d := make([]covOp, len(out.delta)+1)
	copy(d, out.delta[:pos])
	d[pos] = covOp{k: k, i: i, add: add}
	copy(d[pos+1:], out.delta[pos:])
	out.delta = d
	if out.total == 0 {
		s.freeTree(out.root, out.depth)
		return nil
	}
	if len(d) >= covDeltaMax {
		out.flush(s)
	}
	return out
}

// covNode is a node a flush produced (a leaf or an inner node, by the level
// it was made for) and its first entry.
type covNode struct {
	h uint32
	k covKey
	i int32
}

// flush applies the delta to the tree.
func (l *covList) flush(s *Snapshot) {
	ops := l.delta
	l.delta = nil
	// The nodes each level produces, on one stack for the whole flush.
	nodes := make([]covNode, 0, 4*covInnerMax)
	depth := l.depth
	if depth > 0 {
		nodes = innerApply(s, l.root, depth, ops, nodes)
	} else {
		nodes = leafApply(s, l.root, ops, nodes)
	}
	for len(nodes) > 1 {
		nodes = packInner(s, nodes, 0)
		depth++
	}
	l.root = 0
	if len(nodes) == 1 {
		l.root = nodes[0].h
	}
	// A root left with one child gives way to it.
	for depth > 0 && l.root != 0 && s.inner(l.root).n == 1 {
		old := l.root
		l.root = s.inner(old).kids[0]
		s.freeInner(old)
		depth--
	}
	if l.root == 0 {
		depth = 0
	}
	l.depth = depth
	if l.depth >= covMaxDepth {
		r := l.repacked(s)
		s.freeTree(l.root, l.depth)
		*l = *r
	}
}

// leafApply appends to out the leaves that replace leaf h (0: an empty tree)
// once ops, sorted and all within its range, are applied: none when it
// empties, more than one when it overflows. It frees h.
func leafApply(s *Snapshot, h uint32, ops []covOp, out []covNode) []covNode {
	var keys [covLeafMax + covDeltaMax]covKey
	var idx [covLeafMax + covDeltaMax]int32
	n := 0
	var lf *covLeaf
	if h != 0 {
		lf = s.leaf(h)
		n = int(lf.n)
	}
	m, e := 0, 0
	for _, op := range ops {
		for e < n && cmpIdx(s, lf.keys[e], lf.idx[e], op.k, op.i) < 0 {
			keys[m], idx[m] = lf.keys[e], lf.idx[e]
			m, e = m+1, e+1
		}
		switch {
		case op.add:
			keys[m], idx[m] = op.k, op.i
			m++
		case e < n && lf.idx[e] == op.i:
			e++
		}
	}
	for ; e < n; e++ {
		keys[m], idx[m] = lf.keys[e], lf.idx[e]
		m++
	}
	if h != 0 {
		s.freeLeaf(h)
	}
	parts := (m + covLeafMax - 1) / covLeafMax
	for p := range parts {
		lo, hi := m*p/parts, m*(p+1)/parts
		nh, nl := s.newLeaf()
		nl.n = int32(hi - lo)
		copy(nl.keys[:], keys[lo:hi])
		copy(nl.idx[:], idx[lo:hi])
		out = append(out, covNode{nh, keys[lo], idx[lo]})
	}
	return out
}

// innerApply is leafApply for the inner node h of height ht (>= 1): each
// child gets the ops in its range, and the children that come back
// (appended to out) are packed into as many nodes as they need.
func innerApply(s *Snapshot, h uint32, ht int, ops []covOp, out []covNode) []covNode {
	nd := s.inner(h)
	n := int(nd.n)
	var ends [covInnerMax]int
	o := 0
	for j := range n {
		end := len(ops)
		if j < n-1 {
			end = o
			for end < len(ops) && cmpIdx(s, ops[end].k, ops[end].i, nd.keys[j+1], nd.idx[j+1]) < 0 {
				end++
			}
		}
		ends[j], o = end, end
	}
	// Load the children the batch goes to before descending into any: the
	// loads do not depend on one another, so their cache misses overlap
	// instead of coming one after another as the descent meets them (at
	// 10^6 providers the nodes below the top levels are cold).
	var x uint64
	o = 0
	for j := range n {
		if ends[j] > o {
			x ^= warm(s, nd.kids[j], ht)
		}
		o = ends[j]
	}
	if x == 1 && len(ops) == 0 {
		return out // never: only keeps the loads above
	}
	start := len(out)
	o = 0
	for j := range n {
		end := ends[j]
		switch {
		case end == o:
			out = append(out, covNode{nd.kids[j], nd.keys[j], nd.idx[j]})
		case ht == 1:
			out = leafApply(s, nd.kids[j], ops[o:end], out)
		default:
			out = innerApply(s, nd.kids[j], ht-1, ops[o:end], out)
		}
		o = end
	}
	s.freeInner(h)
	return packInner(s, out, start)
}

// warm reads a word of every cache line of the node h, a leaf when the
// parent's height ht is 1 and an inner node above.
func warm(s *Snapshot, h uint32, ht int) uint64 {
	if ht == 1 {
		lf := s.leaf(h)
		x := uint64(lf.n) ^ uint64(lf.idx[0]) ^ uint64(lf.idx[covLeafMax-1])
		for k := 0; k < covLeafMax; k += 4 {
			x ^= lf.keys[k].lo
		}
		return x
	}
	nd := s.inner(h)
	return uint64(nd.n) ^ nd.keys[3].lo ^ nd.keys[covInnerMax-1].lo ^ uint64(nd.idx[0]) ^ uint64(nd.kids[covInnerMax-1])
}

// packInner packs the nodes of out from start on into inner nodes, as
// evenly as covInnerMax allows, and puts those in their place.
func packInner(s *Snapshot, out []covNode, start int) []covNode {
	kids := out[start:]
	m := len(kids)
	parts := (m + covInnerMax - 1) / covInnerMax
	for p := range parts {
		lo, hi := m*p/parts, m*(p+1)/parts
		h, nd := s.newInner()
		nd.n = 0
		for _, c := range kids[lo:hi] {
			nd.push(c.k, c.i, c.h)
		}
		// p <= lo: the slot written was read already.
		kids[p] = covNode{h, nd.keys[0], nd.idx[0]}
	}
	return out[:start+parts]
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
	l.total, l.depth, l.root, l.delta = len(all), 0, 0, nil
	if len(all) == 0 {
		return
	}
	if len(all) < covDeltaMax {
		// A short list is all delta, of its exact size: most cities' cells
		// hold a few providers, and a leaf of 32 entries for each was
		// some 80 bytes per provider at 10^4 (BenchmarkSnapshotMemory).
		l.delta = make([]covOp, len(all))
		for j, i := range all {
			l.delta[j] = covOp{k: keyOf(s.id(i)), i: i, add: true}
		}
		return
	}
	// Full leaves, then each level of full inner nodes over the one below.
	level := make([]covNode, 0, (len(all)+covLeafMax-1)/covLeafMax)
	for start := 0; start < len(all); start += covLeafMax {
		part := all[start:min(start+covLeafMax, len(all))]
		h, lf := s.newLeaf()
		lf.n = int32(len(part))
		for j, i := range part {
			lf.keys[j], lf.idx[j] = keyOf(s.id(i)), i
		}
		level = append(level, covNode{h, lf.keys[0], lf.idx[0]})
	}
	for len(level) > 1 {
		up := level[:0]
		for start := 0; start < len(level); start += covInnerMax {
			h, nd := s.newInner()
			nd.n = 0
			for _, c := range level[start:min(start+covInnerMax, len(level))] {
				nd.push(c.k, c.i, c.h)
			}
			// len(up) <= start: the slot written was read already.
			up = append(up, covNode{h, nd.keys[0], nd.idx[0]})
		}
		level = up
		l.depth++
	}
	l.root = level[0].h
}

// cursor walks a list in id order from a position: its tree and its delta,
// merged.
type cursor struct {
	path  [covMaxDepth]*covInner
	at    [covMaxDepth]int
	depth int // entries of path in use (the list's height)
	leaf  *covLeaf
	off   int

	s         *Snapshot
	delta     []covOp
	dpos      int
	fromDelta bool // the entry next returned is the delta's
}

// next is the entry under the cursor, if any.
func (c *cursor) next() (int32, covKey, bool) {
	for {
		for c.leaf != nil && c.off == int(c.leaf.n) {
			c.nextLeaf()
		}
		if c.dpos < len(c.delta) {
			d := c.delta[c.dpos]
			switch {
			case c.leaf != nil && c.leaf.idx[c.off] == d.i:
				// A removal: skip it and the tree's entry it removes.
				c.dpos++
				if !d.add {
					c.off++
				}
				continue
			case c.leaf == nil || cmpIdx(c.s, d.k, d.i, c.leaf.keys[c.off], c.leaf.idx[c.off]) < 0:
				if d.add {
					c.fromDelta = true
					return d.i, d.k, true
				}
				c.dpos++ // the removal of an entry before the cursor's start
				continue
			}
		}
		if c.leaf == nil {
			return 0, covKey{}, false
		}
		c.fromDelta = false
		return c.leaf.idx[c.off], c.leaf.keys[c.off], true
	}
}

func (c *cursor) advance() {
	if c.fromDelta {
		c.dpos++
	} else {
		c.off++
	}
}

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
		c.path[d+1] = c.s.inner(c.path[d].kids[c.at[d]])
		c.at[d+1] = pick(c.path[d+1])
	}
	c.leaf, c.off = c.s.leaf(c.path[c.depth-1].kids[c.at[c.depth-1]]), 0
}

// after positions a cursor on the first entry whose id is > id ("" = start).
func (l *covList) after(s *Snapshot, id string) cursor {
	var c cursor
	if l == nil {
		return c
	}
	c.s, c.delta = s, l.delta
	var k covKey
	pick := func(*covInner) int { return 0 }
	if id != "" {
		k = keyOf(id)
		pick = func(nd *covInner) int { return childFor(s, nd, k, id) }
	}
	switch {
	case l.root == 0:
	case l.depth == 0:
		c.leaf = s.leaf(l.root)
	default:
		c.depth = l.depth
		c.path[0] = s.inner(l.root)
		c.at[0] = pick(c.path[0])
		c.descend(0, pick)
	}
	if id == "" {
		return c
	}
	if c.leaf != nil {
		c.off = leafPos(s, c.leaf, k, id)
		for c.leaf != nil && c.off == int(c.leaf.n) {
			c.nextLeaf()
		}
		if c.leaf != nil && s.id(c.leaf.idx[c.off]) == id {
			c.off++
		}
	}
	for c.dpos < len(c.delta) && cmpEntry(s, k, id, c.delta[c.dpos].k, c.delta[c.dpos].i) >= 0 {
		c.dpos++
	}
	return c
}
