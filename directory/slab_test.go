package directory

import (
	"fmt"
	"hash/maphash"
	"math/rand/v2"
	"runtime"
	"runtime/metrics"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/plaza-gateway/plaza/connectors"
)

// digest hashes what a reader sees of s (every entry's columns and the
// coverage lists, walked through their trees), checking the lists' order
// and totals on the way.
func digest(tb testing.TB, s *Snapshot) uint64 {
	var h maphash.Hash
	h.SetSeed(digestSeed)
	for i := range s.Len() {
		e := s.At(i)
		fmt.Fprint(&h, e.ID(), e.Name(), e.Lifecycle(), e.Version(), e.Vertical(), e.CityCount(), e.Limits().MaxBatch)
	}
	for _, v := range connectors.Verticals {
		for _, c := range []string{"", testCities[0], testCities[1]} {
			var prev string
			n := 0
			for after := ""; ; {
				p := s.Serving(v, c, after, 100)
				for _, e := range p.Entries {
					if e.ID() <= prev {
						tb.Errorf("version %d: serving %s/%s: %q after %q", s.Version(), v, c, e.ID(), prev)
						return 0
					}
					prev, after = e.ID(), e.ID()
					h.WriteString(prev)
					n++
				}
				if !p.HasNext {
					if n != p.Total {
						tb.Errorf("version %d: serving %s/%s: %d entries, total %d", s.Version(), v, c, n, p.Total)
						return 0
					}
					break
				}
			}
		}
	}
	return h.Sum64()
}

var digestSeed = maphash.MakeSeed()

// TestSlotsFreedByChangesAreReusedOnlyOnceNoReaderHoldsThem churns a
// directory while readers hold snapshots across collections: a snapshot
// must read the same thing before and after (a slot reused while it holds
// it would change or break what it reads), and the slabs must not grow with
// the number of changes (freed slots do come back).
func TestSlotsFreedByChangesAreReusedOnlyOnceNoReaderHoldsThem(t *testing.T) {
	const n = 3000 // lists of hundreds: trees of two and three levels
	r := rand.New(rand.NewPCG(11, 12))
	m := model{}
	b := newBuild(n)
	for i := range n {
		rec := randomRecord(r, fmt.Sprintf("p-%05d", i))
		rec.Version = 1
		m[rec.ID] = rec
		b.upsert(rec)
	}
	v := newView()
	v.replace(b.finish(1))
	// The first snapshot is held through the first changes: its epoch keeps
	// every later one, so nothing is reused until it is let go.
	start := v.snapshot()
	startModel := start.model()
	blocks0 := len(start.chunks) + len(start.nodes) + len(start.leaves) + len(start.inners)

	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			for k := 0; ; k++ {
				select {
				case <-stop:
					return
				default:
				}
				s := v.snapshot()
				before := digest(t, s)
				if k%4 == 0 {
					runtime.GC() // cleanups of the epochs no one holds run now
				} else {
					runtime.Gosched()
				}
				if after := digest(t, s); after != before {
					t.Errorf("snapshot %d read differently after a collection", s.Version())
					return
				}
			}
		})
	}
	ids := slices.Sorted(func(yield func(string) bool) {
		for id := range m {
			if !yield(id) {
				return
			}
		}
	})
	const changes, held = 3000, 300
	for version := int64(2); version < 2+changes && !t.Failed(); version++ {
		batch := make([]record, 1+r.IntN(4))
		for k := range batch {
			rec := m[ids[r.IntN(n)]]
			switch r.IntN(4) {
			case 0:
				rec.Name = strings.ToUpper(rec.Name)
			case 1:
				rec.Cities = randomRecord(r, rec.ID).Cities
			}
			if rec.Lifecycle == Active {
				rec.Lifecycle = Suspended
			} else {
				rec.Lifecycle = Active
			}
			rec.Version = version
			m[rec.ID] = rec
			batch[k] = rec
		}
		v.apply(version, batch)
		if version%64 == 0 {
			runtime.GC()
		}
		if version == held {
			digest(t, start)
			checkSnapshot(t, start, startModel)
			start = nil
		}
	}
	close(stop)
	wg.Wait()
	s := v.snapshot()
	checkSnapshot(t, s, m)
	// Each change copies a chunk, two radix nodes and some coverage nodes:
	// without reuse 3,000 changes take some 85 more blocks, the first 300
	// (while the first snapshot is held) some 9.
	if blocks := len(s.chunks) + len(s.nodes) + len(s.leaves) + len(s.inners); blocks > blocks0+20 {
		t.Fatalf("%d slab blocks after %d changes, %d after the load: freed slots are not reused", blocks, changes, blocks0)
	}
}

// model is what s holds, as records.
func (s *Snapshot) model() model {
	m := model{}
	for i := range s.Len() {
		rec := recordOfEntry(s.At(i))
		m[rec.ID] = rec
	}
	return m
}

// TestSnapshotHeapObjectsDoNotGrowWithProviders: the collector marks a
// snapshot's objects every cycle; ten times the providers should add slab
// blocks (a few dozen), not objects per chunk or per coverage node.
func TestSnapshotHeapObjectsDoNotGrowWithProviders(t *testing.T) {
	objects := func(n int) (int64, *Snapshot) {
		runtime.GC()
		before := heapObjects()
		s := generatedSnapshot(n)
		runtime.GC()
		return heapObjects() - before, s
	}
	// From 5·10^4 on, every (vertical, city) cell of the generated
	// providers exists: the objects that remain per cell are as many at
	// both sizes.
	o4, s4 := objects(50_000)
	o5, s5 := objects(200_000)
	t.Logf("heap objects: %d at 5·10^4, %d at 2·10^5; scanned bytes %d and %d; heap bytes %d and %d",
		o4, o5, s4.ScanBytes(), s5.ScanBytes(), s4.HeapBytes(), s5.HeapBytes())
	// Some 100 more slab blocks; a block of chunks per 32 chunks (as
	// before the slabs) would be some 600 more objects.
	if o5 > o4+200 {
		t.Errorf("%d heap objects at 2·10^5 providers, %d at 5·10^4: they grow with N", o5, o4)
	}
	if s5.ScanBytes() > s4.ScanBytes()*5/4 {
		t.Errorf("scanned bytes %d at 2·10^5 providers, %d at 5·10^4: they grow with N", s5.ScanBytes(), s4.ScanBytes())
	}
	runtime.KeepAlive(s4)
	runtime.KeepAlive(s5)
}

func heapObjects() int64 {
	m := []metrics.Sample{{Name: "/gc/heap/objects:objects"}}
	metrics.Read(m)
	return int64(m[0].Value.Uint64())
}

func TestEditingASnapshotThatIsNotTheLatestPanics(t *testing.T) {
	v := newView()
	v.apply(1, []record{{ID: "a", Vertical: connectors.VerticalGrocery, Lifecycle: Active, Cities: []string{"Hangzhou"}}})
	older := v.snapshot()
	v.apply(2, []record{{ID: "a", Vertical: connectors.VerticalGrocery, Lifecycle: Suspended, Cities: []string{"Hangzhou"}}})
	defer func() {
		if recover() == nil {
			t.Fatal("an edit of an older snapshot went ahead: it would free slots the latest reads")
		}
	}()
	editOf(older)
}

// TestASnapshotHeldForLongCostsOneRebuildNotEndlessGrowth: a snapshot held
// for long keeps every later epoch, so nothing freed after it is reused;
// once the slots waiting outweigh the slabs' half, the directory moves to
// new slabs that it does not pin. Slots that only wait for the next
// collection never cause a rebuild.
func TestASnapshotHeldForLongCostsOneRebuildNotEndlessGrowth(t *testing.T) {
	old := compactMinPinned
	compactMinPinned = 64 << 10 // a few hundred changes' slots
	t.Cleanup(func() { compactMinPinned = old })
	r := rand.New(rand.NewPCG(13, 14))
	const n = 2000
	m := model{}
	b := newBuild(n)
	var ids []string
	for i := range n {
		rec := randomRecord(r, fmt.Sprintf("p-%05d", i))
		m[rec.ID] = rec
		ids = append(ids, rec.ID)
		b.upsert(rec)
	}
	v := newView()
	v.replace(b.finish(1))
	version := int64(1)
	// changes applies k suspensions or resumptions, a collection every 256
	// (some 400 KB of slots freed in between), and counts the rebuilds.
	changes := func(k int) (rebuilds int) {
		for range k {
			rec := m[ids[r.IntN(n)]]
			if rec.Lifecycle == Active {
				rec.Lifecycle = Suspended
			} else {
				rec.Lifecycle = Active
			}
			m[rec.ID] = rec
			version++
			before := v.snapshot().w
			v.apply(version, []record{rec})
			if v.snapshot().w != before {
				rebuilds++
			}
			if version%256 == 0 {
				runtime.GC()
			}
		}
		return rebuilds
	}
	if got := changes(3000); got != 0 {
		t.Fatalf("%d rebuilds while no snapshot was held: slots waiting for a collection taken for pinned ones", got)
	}
	held := v.snapshot()
	heldModel := held.model()
	if got := changes(3000); got != 1 {
		t.Fatalf("%d rebuilds while one snapshot was held throughout, want 1", got)
	}
	checkSnapshot(t, v.snapshot(), m)
	checkSnapshot(t, held, heldModel)
	// The new slabs' freed slots come back at the next collections, though
	// the snapshot is still held.
	for range 10 {
		runtime.GC()
		changes(1)
		if v.snapshot().w.pending < compactMinPinned/4 {
			break
		}
	}
	if p := v.snapshot().w.pending; p >= compactMinPinned/4 {
		t.Fatalf("%d bytes of freed slots wait after the rebuild and ten collections: the held snapshot still pins them", p)
	}
	runtime.KeepAlive(held)
}
