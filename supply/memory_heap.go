package supply

import (
	"unsafe"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/index/scorch"
)

// The embedded index's heap, for the collector's pacing (gctune.Follow):
// all its bytes raise the soft memory limit, and the bytes the collector
// does not scan (Bleve's segments: byte slices) leave GOGC's base. The
// items, their maps and Compact's chunks hold pointers and are marked
// every cycle, so they stay in it. Kept as running sums, updated by Apply
// and Compact, so that reading them (once a collection) walks nothing.
//
// The sums err low (60-70% of the heap the index holds, 80% of its
// unscanned part, for the test's items): strings an item may share with
// others (provider, kind, currency, tags, cities) are not counted, nor the
// maps' spare slots beyond the runtime's 7/8 load, nor the replaced items
// Compact's chunks still hold (telling them apart would take a set of
// pointers). Too high, the unscanned part would leave bytes the collector
// marks out of its pacing. Bleve's own figure (scorch's MemoryUsed)
// counts its segments' buffers, a few percent above what they hold;
// gctune caps the unscanned bytes by the runtime's count of the heap's.

// heapSize is bytes on the heap and the part of them the collector scans.
type heapSize struct{ bytes, scan int64 }

func (h *heapSize) add(o heapSize, sign int64) {
	h.bytes += sign * o.bytes
	h.scan += sign * o.scan
}

// mapSlot is what an entry of a map[string]T with an 8-byte T takes: the
// key's header, the value and a control byte, at the most load (7/8) a
// swiss table allows.
const mapSlot = (16 + 8 + 1) * 8 / 7

// itemHeap is what item it holds: the Item (held by pointer), its slot in
// items, its entry in a chunk of Compact's (a key header and a pointer)
// and its tags' and cities' headers (cloned by Apply), all scanned; and
// its own strings, which are not.
func itemHeap(it *Item) heapSize {
	scan := int64(unsafe.Sizeof(Item{})) + mapSlot + 24 + 16*int64(len(it.Tags)+len(it.Cities))
	b := scan + int64(len(it.ID)+len(it.Name)+len(it.Description)+len(it.Category))
	if it.Geo != nil {
		b += int64(unsafe.Sizeof(Geo{}))
	}
	return heapSize{bytes: b, scan: scan}
}

// versionHeap is what a key's entry in versions holds: its slot, scanned,
// and the key, which items and the chunks share.
func versionHeap(key string) heapSize {
	return heapSize{bytes: mapSlot + int64(len(key)), scan: mapSlot}
}

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
	m.heapBytes.Store(m.heap.bytes + m.bleveBytes)
	m.scanBytes.Store(m.heap.scan)
}

// HeapBytes estimates the heap the index holds: its items, their maps and
// Bleve's segments. Cheap (no walk, no lock): gctune.Follow reads it once
// a collection.
func (m *Memory) HeapBytes() int64 { return m.heapBytes.Load() }

// ScanBytes estimates the part of HeapBytes the collector scans: the
// items and their maps, not Bleve's segments.
func (m *Memory) ScanBytes() int64 { return m.scanBytes.Load() }
