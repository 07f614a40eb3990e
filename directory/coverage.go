package directory

import (
	"slices"
	"sort"
)

// blockMax bounds a coverage block. A change copies one block and the list's
// block directory, so a cell of 250k providers costs ~4 KB + ~6 KB per
// change instead of a 1 MB copy.
const blockMax = 1024

// covList is one coverage cell: the indexes of ACTIVE providers, ordered by
// provider id, in blocks. Persistent: with returns a new list and shares the
// blocks it did not touch.
type covList struct {
	blocks [][]int32
	total  int
}

func (l *covList) len() int {
	if l == nil {
		return 0
	}
	return l.total
}

// search finds the position of the first entry whose id is >= id.
func (l *covList) search(s *Snapshot, id string) (blk, off int) {
	if l == nil {
		return 0, 0
	}
	blk = sort.Search(len(l.blocks), func(k int) bool {
		b := l.blocks[k]
		return s.id(b[len(b)-1]) >= id
	})
	if blk == len(l.blocks) {
		return blk, 0
	}
	b := l.blocks[blk]
	return blk, sort.Search(len(b), func(k int) bool { return s.id(b[k]) >= id })
}

// with returns l with provider i added or removed (l itself if nothing
// changes).
func (l *covList) with(s *Snapshot, i int32, add bool) *covList {
	blk, off := l.search(s, s.id(i))
	present := l != nil && blk < len(l.blocks) && l.blocks[blk][off] == i
	if add == present {
		return l
	}
	out := &covList{total: l.len()}
	if l != nil {
		out.blocks = make([][]int32, len(l.blocks), len(l.blocks)+1)
		copy(out.blocks, l.blocks)
	}
	if !add {
		out.total--
		old := out.blocks[blk]
		if len(old) == 1 {
			out.blocks = slices.Delete(out.blocks, blk, blk+1)
			return out
		}
		nb := make([]int32, 0, len(old)-1)
		out.blocks[blk] = append(append(nb, old[:off]...), old[off+1:]...)
		return out
	}
	out.total++
	if len(out.blocks) == 0 {
		out.blocks = append(out.blocks, []int32{i})
		return out
	}
	if blk == len(out.blocks) {
		blk, off = len(out.blocks)-1, len(out.blocks[len(out.blocks)-1])
	}
	old := out.blocks[blk]
	nb := make([]int32, 0, len(old)+1)
	nb = append(append(append(nb, old[:off]...), i), old[off:]...)
	if len(nb) <= blockMax {
		out.blocks[blk] = nb
		return out
	}
	half := len(nb) / 2
	out.blocks[blk] = nb[:half:half]
	out.blocks = slices.Insert(out.blocks, blk+1, nb[half:])
	return out
}

// appendOwned appends i in place: only for a list being built, not yet
// shared with any reader.
func (l *covList) appendOwned(i int32) {
	n := len(l.blocks)
	if n == 0 || len(l.blocks[n-1]) == blockMax {
		l.blocks = append(l.blocks, make([]int32, 0, blockMax))
		n++
	}
	l.blocks[n-1] = append(l.blocks[n-1], i)
	l.total++
}

// sortOwned re-sorts a list being built from unsorted input.
func (l *covList) sortOwned(s *Snapshot) {
	all := make([]int32, 0, l.total)
	for _, b := range l.blocks {
		all = append(all, b...)
	}
	sort.Slice(all, func(a, b int) bool { return s.id(all[a]) < s.id(all[b]) })
	l.blocks, l.total = nil, 0
	for _, i := range all {
		l.appendOwned(i)
	}
}

// cursor walks a list from a position.
type cursor struct {
	l        *covList
	blk, off int
}

func (c *cursor) next() (int32, bool) {
	if c.l == nil || c.blk >= len(c.l.blocks) {
		return 0, false
	}
	i := c.l.blocks[c.blk][c.off]
	return i, true
}

func (c *cursor) advance() {
	c.off++
	if c.off == len(c.l.blocks[c.blk]) {
		c.blk, c.off = c.blk+1, 0
	}
}

// after positions a cursor on the first entry whose id is > id ("" = start).
func (l *covList) after(s *Snapshot, id string) cursor {
	c := cursor{l: l}
	if id == "" || l == nil {
		return c
	}
	c.blk, c.off = l.search(s, id)
	if i, ok := c.next(); ok && s.id(i) == id {
		c.advance()
	}
	return c
}
