package directory

import (
	"runtime"
	"runtime/metrics"
	"sync"
	"unsafe"
)

// The snapshot's nodes (chunks, the radix nodes above them, coverage leaves
// and inner nodes) live in slabs: blocks of slabLen nodes, each block one
// pointer-free allocation, a node named by a uint32 handle (block<<slabBits
// | slot). Nodes refer to one another by handle, so the collector marks a
// snapshot's few hundred blocks and scans only their directories, whatever
// the number of providers. With a pointer per chunk and per coverage node
// it scanned some 160,000 pointers every cycle at 10^6 providers: a forced
// collection took 7.6 ms (2.6 now, BenchmarkSnapshotMemory) and a request
// 1.18x the CPU it takes at 10 (1.00x now; BenchmarkDirectoryEndToEnd,
// medians of 7 interleaved rounds, load 11–17).
//
// A change copies the nodes it touches into free slots and frees the ones it
// replaced; a freed slot is reused once no snapshot that reads it is left
// (see epoch), after the next collection or so, so churn reuses the slabs'
// memory instead of allocating garbage.
const (
	// 256 nodes per block: a block of chunks is 19 pages exactly, one of
	// radix nodes 8; a directory of 10^6 providers is some 250 blocks of
	// chunks and 400 of coverage leaves.
	slabBits = 8
	slabLen  = 1 << slabBits
	slabMask = slabLen - 1
)

// slab is a block directory: a snapshot's is a prefix of its lineage's
// (blocks are appended past the shared length, never replaced). Handle 0 is
// never allocated: it stands for "none".
type slab[T any] [][]T

func (sl slab[T]) at(h uint32) *T { return &sl[h>>slabBits][h&slabMask] }

// heapBytes is the heap its blocks take.
func (sl slab[T]) heapBytes() int64 {
	var zero T
	return int64(len(sl)) * blockBytes(int64(unsafe.Sizeof(zero))*slabLen)
}

// scanBytes is the part of it the collector scans: the directory (a slice
// header per block).
func (sl slab[T]) scanBytes() int64 { return int64(cap(sl)) * int64(unsafe.Sizeof([]T(nil))) }

// slots is the writer's allocation state of one slab kind.
type slots struct {
	free []uint32 // reusable now, most recently freed last
	next uint32   // first handle never allocated
}

// alloc returns a free handle of sl, growing sl (the edit's snapshot's
// directory) by a block when every slot is in use. The node holds whatever
// it held before: the caller writes it whole (or the part readers read).
func alloc[T any](sl *slab[T], st *slots) uint32 {
	if n := len(st.free); n > 0 {
		h := st.free[n-1]
		st.free = st.free[:n-1]
		return h
	}
	if st.next == 0 {
		st.next = 1
	}
	h := st.next
	for int(h>>slabBits) >= len(*sl) {
		// Past the length every older snapshot's directory has: appending
		// is invisible to them.
		*sl = append(*sl, make([]T, slabLen))
	}
	st.next++
	return h
}

// freed are the slots a change stopped using, by kind.
type freed struct {
	chunks, nodes, leaves, inners []uint32
	counted                       int64 // of bytes(), in writerState.pending already
	reclaimed                     bool  // handed back to the writer (set by take)
}

func (f *freed) len() int { return len(f.chunks) + len(f.nodes) + len(f.leaves) + len(f.inners) }

// bytes is the slab memory the slots take.
func (f *freed) bytes() int64 {
	return int64(len(f.chunks))*int64(unsafe.Sizeof(chunk{})) + int64(len(f.nodes))*int64(unsafe.Sizeof(radix{})) +
		int64(len(f.leaves))*int64(unsafe.Sizeof(covLeaf{})) + int64(len(f.inners))*int64(unsafe.Sizeof(covInner{}))
}

// epoch: every snapshot holds one, and each epoch holds the next (older ->
// newer), so an epoch becomes unreachable exactly when no snapshot holding
// it or an older one is left. The slots that changes out of its snapshots
// stopped using (f) are then read by nobody: a cleanup hands them to the
// writer. Anything that reads slab memory holds the snapshot it came from
// (an Entry holds it; accessors keep it alive until their last read).
//
// Several consecutive snapshots share an epoch (a change out of any of them
// frees into it), so registering a cleanup is paid once per epochSlots
// freed slots rather than per change.
type epoch struct {
	next *epoch
	f    *freed
}

// epochSlots: a new epoch starts once the current one has freed this many
// slots (a suspension frees about four; a batch of 100 changes some 300).
const epochSlots = 64

// compactMinPinned: below this many bytes of freed slots waiting for their
// epochs, a lineage is never rebuilt for them (a variable so tests can
// exercise it).
var compactMinPinned int64 = 16 << 20

// pinned reports whether a snapshot held for long keeps the slots changes
// freed from being reused: the oldest epoch retired is still not collected
// several cycles later, and the slots waiting outweigh half of s's slabs
// (and compactMinPinned). Such a snapshot (a Set kept from start-up, say)
// keeps its epoch and so every later one: nothing freed after it is reused,
// and the slabs grow with every change. A rebuild (compacted) starts new
// slabs and epochs that it does not hold, so it then keeps only its own
// lineage's, as a snapshot held for long did before the slabs.
//
// Slots that only wait for the next collection are not pinned, however
// many: between two cycles the collector lets the heap grow by as much as
// the live heap (GOGC=100), some 160 MB at 10^6 providers.
func (s *Snapshot) pinned() bool {
	w := s.w
	slabs := s.chunks.heapBytes() + s.nodes.heapBytes() + s.leaves.heapBytes() + s.inners.heapBytes()
	if w.pending <= max(compactMinPinned, slabs/2) || len(w.retired) == 0 {
		return false
	}
	// An epoch no snapshot holds is found unreachable by the cycle after
	// its retirement, and its cleanup runs right after that one.
	return w.retired[0].gc+3 <= gcCycles()
}

// reclaim is where cleanups leave freed slots for the writer. It holds no
// pointer to an epoch or a snapshot (a cleanup that reached its epoch would
// keep it alive).
type reclaim struct {
	mu    sync.Mutex
	ready []*freed
}

func newEpoch(r *reclaim) *epoch {
	ep := &epoch{f: &freed{}}
	runtime.AddCleanup(ep, func(f *freed) {
		if f.len() == 0 {
			return
		}
		r.mu.Lock()
		r.ready = append(r.ready, f)
		r.mu.Unlock()
	}, ep.f)
	return ep
}

// take moves what cleanups left into the writer's free lists.
func (w *writerState) take() {
	w.reclaim.mu.Lock()
	ready := w.reclaim.ready
	w.reclaim.ready = nil
	w.reclaim.mu.Unlock()
	for _, f := range ready {
		f.reclaimed = true
		w.pending -= f.bytes()
		w.chunks.free = append(w.chunks.free, f.chunks...)
		w.nodes.free = append(w.nodes.free, f.nodes...)
		w.leaves.free = append(w.leaves.free, f.leaves...)
		w.inners.free = append(w.inners.free, f.inners...)
	}
	for len(w.retired) > 0 && w.retired[0].f.reclaimed {
		w.retired = w.retired[1:]
	}
}

// collectMinPending: freed slots waiting below this many bytes never start
// a collection.
const collectMinPending = 8 << 20

// collectIfPending starts a collection (in the background, one at a time)
// once the slots waiting for one outweigh a quarter of s's slabs. The slabs'
// blocks stay live, free slots and all, and reusing a slot allocates
// nothing, so without it the collector would run only once the heap had
// doubled, by then allocating new blocks for want of the freed slots: the
// slabs doubled every cycle (3.1 GB after 2·10^6 changes at 10^6 providers,
// 0.5 GB before the slabs; BenchmarkApplyChange batch=100).
func (w *writerState) collectIfPending(s *Snapshot) {
	slabs := s.chunks.heapBytes() + s.nodes.heapBytes() + s.leaves.heapBytes() + s.inners.heapBytes()
	if w.pending < max(collectMinPending, slabs/4) || !w.collecting.CompareAndSwap(false, true) {
		return
	}
	go func() {
		runtime.GC()
		w.collecting.Store(false)
	}()
}

// retiredEpoch is an epoch the writer has moved past: its slots and the
// collection cycle it was retired in (the writer must not hold the epoch
// itself, or it would never be collected).
type retiredEpoch struct {
	f  *freed
	gc uint64
}

// retire records that snapshots from now on hold next, not ep.
func (w *writerState) retire(ep *epoch) {
	w.retired = append(w.retired, retiredEpoch{ep.f, gcCycles()})
}

// gcCycles is the number of collection cycles completed so far.
func gcCycles() uint64 {
	m := [1]metrics.Sample{{Name: "/gc/cycles/total:gc-cycles"}}
	metrics.Read(m[:])
	return m[0].Value.Uint64()
}
