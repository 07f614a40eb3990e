package supply

import (
	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/index/scorch"
)

// The embedded index's heap, for the collector's pacing (gctune.Follow):
// all its bytes raise the soft memory limit, and the bytes the collector
// does not scan leave GOGC's base. Nearly all of it is unscanned: the
// store's slabs and hash map (store.go), the count of items per provider
// (keyed by a hash), Compact's chunks (arrays of numbers) and Bleve's
// segments (byte slices). What is scanned is the store's spill map (in
// practice empty) and Bleve's few structures beside its segments. Kept as running sums, updated by Apply and Compact, so that
// reading them (once a collection) walks nothing.
//
// The sums err low: the maps' spare slots beyond the runtime's 7/8 load
// are not counted, nor the slabs of replaced records that a page's hits
// still hold. Too high, the unscanned part would leave bytes the
// collector marks out of its pacing. Bleve's own figure (scorch's
// MemoryUsed) counts its segments' buffers, a few percent above what they
// hold; gctune caps the unscanned bytes by the runtime's count of the
// heap's.

// heapSize is bytes on the heap and the part of them the collector scans.
type heapSize struct{ bytes, scan int64 }

// mapSlot is what an entry of a map[string]T with an 8-byte T takes: the
// key's header, the value and a control byte, at the most load (7/8) a
// swiss table allows.
const mapSlot = (16 + 8 + 1) * 8 / 7

// bleveHeap is what Bleve's index holds, by scorch's account: its
// segments' buffers, which hold no pointers.
func bleveHeap(idx bleve.Index) int64 {
	adv, err := idx.Advanced()
	if err != nil {
		return 0
	}
	s, ok := adv.(*scorch.Scorch)
	if !ok {
		return 0
	}
	return int64(s.MemoryUsed())
}

// publishHeap makes the sums readable without the lock. Call it under
// the write lock, after a change.
func (m *Memory) publishHeap() {
	h := m.store.heap()
	live := int64(len(m.live)) * (16 + 8 + 1) * 8 / 7
	m.heapBytes.Store(h.bytes + live + m.chunkBytes + m.bleveBytes)
	m.scanBytes.Store(h.scan)
}

// HeapBytes estimates the heap the index holds: its items, their maps and
// Bleve's segments. Cheap (no walk, no lock): gctune.Follow reads it once
// a collection.
func (m *Memory) HeapBytes() int64 { return m.heapBytes.Load() }

// ScanBytes estimates the part of HeapBytes the collector scans: the
// items and their maps, not Bleve's segments.
func (m *Memory) ScanBytes() int64 { return m.scanBytes.Load() }
