package directory

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"runtime"
	"runtime/metrics"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/plaza-gateway/plaza/connectors"
)

// model is the obviously-correct directory the snapshot is checked against.
type model map[string]record

func (m model) serving(v connectors.Vertical, city string) []string {
	var ids []string
	for id, r := range m {
		if r.Lifecycle != Active || (v != "" && r.Vertical != v) || (city != "" && !slices.Contains(r.Cities, city)) {
			continue
		}
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

var testCities = []string{"Hangzhou", "Shanghai", "Beijing", "Shenzhen", "Chengdu", "Guangzhou", "Ningbo", "Suzhou"}

func randomRecord(r *rand.Rand, id string) record {
	n := 1 + r.IntN(3)
	var cities []string
	for len(cities) < n {
		c := testCities[r.IntN(len(testCities))]
		if !slices.Contains(cities, c) {
			cities = append(cities, c)
		}
	}
	rec := record{ID: id, Name: fmt.Sprintf("Name %d of %s", r.IntN(1000), id), Vertical: connectors.Verticals[r.IntN(4)],
		Lifecycle: Lifecycle(1 + r.IntN(5)), Cities: cities, Rating: float64(r.IntN(50)) / 10,
		Limits: Limits{MaxBatch: r.IntN(3) * 10, Timeout: time.Duration(r.IntN(2)) * time.Second}}
	if r.IntN(3) == 0 {
		rec.Endpoint = "https://" + id + ".example/" + strings.Repeat("p", r.IntN(20))
	}
	if r.IntN(4) == 0 {
		rec.CacheTTL = map[string]time.Duration{"Product": time.Duration(1+r.IntN(3)) * time.Second}
	}
	return rec
}

func checkSnapshot(t *testing.T, s *Snapshot, m model) {
	t.Helper()
	if s.Len() != len(m) {
		t.Fatalf("len %d, model %d", s.Len(), len(m))
	}
	for id, want := range m {
		e, ok := s.Lookup(id)
		if !ok {
			t.Fatalf("lookup %s: missing", id)
		}
		got := recordOfEntry(e)
		if got.ID != want.ID || got.Name != want.Name || got.Endpoint != want.Endpoint || got.Vertical != want.Vertical ||
			got.Lifecycle != want.Lifecycle || !slices.Equal(got.Cities, want.Cities) || got.Limits != want.Limits ||
			float32(got.Rating) != float32(want.Rating) || !maps.Equal(got.CacheTTL, want.CacheTTL) {
			t.Fatalf("entry %s:\n got %+v\nwant %+v", id, got, want)
		}
	}
	if _, ok := s.Lookup("no-such-provider"); ok {
		t.Fatal("lookup of an unknown id succeeded")
	}
	for _, v := range append([]connectors.Vertical{""}, connectors.Verticals...) {
		for _, c := range append([]string{""}, testCities...) {
			want := m.serving(v, c)
			var got []string
			for after := ""; ; {
				p := s.Serving(v, c, after, 7)
				if p.Total != len(want) {
					t.Fatalf("serving %q/%q: total %d, want %d", v, c, p.Total, len(want))
				}
				for _, e := range p.Entries {
					got = append(got, e.ID())
					after = e.ID()
				}
				if !p.HasNext {
					break
				}
			}
			if !slices.Equal(got, want) {
				t.Fatalf("serving %q/%q:\n got %v\nwant %v", v, c, got, want)
			}
		}
	}
}

func TestSnapshotFollowsChangesAndOldSnapshotsStayIntact(t *testing.T) {
	old := compactMinGarbage
	compactMinGarbage = 4 << 10 // compaction happens along the way
	t.Cleanup(func() { compactMinGarbage = old })

	r := rand.New(rand.NewPCG(1, 2))
	v := newView()
	m := model{}
	type kept struct {
		s *Snapshot
		m model
	}
	var history []kept
	version := int64(0)
	var ids []string
	// Enough providers for several chunks and id-table growths.
	for round := 0; round < 30; round++ {
		var batch []record
		n := 1 + r.IntN(300)
		for k := 0; k < n; k++ {
			var id string
			if len(ids) > 0 && r.IntN(3) == 0 {
				id = ids[r.IntN(len(ids))]
			} else {
				id = fmt.Sprintf("p-%05d", r.IntN(100000))
				if _, ok := m[id]; !ok {
					ids = append(ids, id)
				}
			}
			rec := randomRecord(r, id)
			if prev, ok := m[id]; ok && r.IntN(2) == 0 {
				// A change that keeps the text (and often the cities): the
				// entry keeps its place in the arenas.
				rec = prev
				rec.Lifecycle = Lifecycle(1 + r.IntN(5))
				rec.Limits.MaxBatch = r.IntN(3) * 10
				if r.IntN(3) == 0 {
					rec.Cities = randomRecord(r, id).Cities
				}
			}
			m[id] = rec
			batch = append(batch, rec)
		}
		version++
		if round == 0 {
			b := newBuild(len(batch))
			for _, rec := range batch {
				b.upsert(rec)
			}
			v.replace(b.finish(version))
		} else {
			v.apply(version, batch)
		}
		s := v.snapshot()
		if s.Version() != version {
			t.Fatalf("version %d, want %d", s.Version(), version)
		}
		checkSnapshot(t, s, m)
		history = append(history, kept{s, maps.Clone(m)})
	}
	if v.snapshot().Len() < 2*chunkSize {
		t.Fatalf("only %d providers: the test should span several chunks", v.snapshot().Len())
	}
	for i, h := range history {
		if i%4 != 0 {
			continue // a sample keeps the race-detector run short
		}
		t.Run(fmt.Sprintf("snapshot %d is unchanged", i), func(t *testing.T) { checkSnapshot(t, h.s, h.m) })
	}
}

func TestChangeKeepingTextAppendsNothing(t *testing.T) {
	v := newView()
	b := newBuild(2)
	rec := record{ID: "a", Name: "Alpha", Endpoint: "https://a.example", Vertical: connectors.VerticalGrocery,
		Lifecycle: Active, Cities: []string{"Hangzhou", "Ningbo"}, Version: 1}
	b.upsert(rec)
	b.upsert(record{ID: "b", Name: "Beta", Vertical: connectors.VerticalGrocery, Lifecycle: Active, Cities: []string{"Hangzhou"}, Version: 1})
	v.replace(b.finish(1))
	before := v.snapshot()
	m := model{"a": rec, "b": {ID: "b", Name: "Beta", Vertical: connectors.VerticalGrocery, Lifecycle: Active, Cities: []string{"Hangzhou"}, Version: 1}}

	suspended := rec
	suspended.Lifecycle, suspended.Version, suspended.Limits = Suspended, 2, Limits{MaxBatch: 5}
	v.apply(2, []record{suspended})
	after := v.snapshot()
	if len(after.text) != len(before.text) || len(after.cityArr) != len(before.cityArr) || after.garbage != 0 {
		t.Fatalf("a suspension appended text %d -> %d, cities %d -> %d, garbage %d",
			len(before.text), len(after.text), len(before.cityArr), len(after.cityArr), after.garbage)
	}
	checkSnapshot(t, before, m)
	m2 := maps.Clone(m)
	m2["a"] = suspended
	checkSnapshot(t, after, m2)

	renamed := suspended
	renamed.Name, renamed.Version = "Alpha Two", 3
	v.apply(3, []record{renamed})
	if got := v.snapshot().garbage; got != len("a")+len("Alpha")+len("https://a.example") {
		t.Fatalf("garbage %d after a rename", got)
	}
	m3 := maps.Clone(m2)
	m3["a"] = renamed
	checkSnapshot(t, v.snapshot(), m3)
	checkSnapshot(t, after, m2)
}

func TestViewNeverGoesBackwards(t *testing.T) {
	v := newView()
	b := newBuild(1)
	b.upsert(record{ID: "a", Vertical: connectors.VerticalGrocery, Lifecycle: Active, Cities: []string{"Hangzhou"}})
	v.replace(b.finish(10))
	if v.replace(newBuild(0).finish(9)) {
		t.Fatal("an older full snapshot replaced a newer one")
	}
	v.apply(5, nil)
	if got := v.snapshot().Version(); got != 10 {
		t.Fatalf("version %d after applying an older change, want 10", got)
	}
	if _, ok := v.snapshot().Lookup("a"); !ok {
		t.Fatal("lost a provider")
	}
}

func TestHeapBytesIsALowerBoundCloseToWhatTheSnapshotHolds(t *testing.T) {
	for _, n := range []int{50_000, 200_000} {
		t.Run(strconv.Itoa(n), func(t *testing.T) {
			var m0, m1 runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&m0)
			s := generatedSnapshot(n)
			runtime.GC()
			runtime.ReadMemStats(&m1)
			held := int64(m1.HeapAlloc) - int64(m0.HeapAlloc)
			// The collector paces by the live heap minus this estimate
			// (gctune.Follow): the requests' few MB beside a snapshot of
			// 160 MB at 10^6. An estimate 5% high left them nothing (the
			// collector ran 2.5x as often as at 10 providers); one a few
			// percent low only has it run a little less often.
			est := s.HeapBytes()
			t.Logf("estimate %d, held %d (%.3f)", est, held, float64(est)/float64(held))
			if est > held || est < held*95/100 {
				t.Fatalf("HeapBytes %d for %d providers, the heap holds %d: want 95-100%% of it", est, n, held)
			}
			runtime.KeepAlive(s)
		})
	}
}

func TestScanBytesIsTheSnapshotsPointerHoldingPart(t *testing.T) {
	scanned := func() int64 {
		runtime.GC()
		s := []metrics.Sample{{Name: "/gc/scan/heap:bytes"}}
		metrics.Read(s)
		return int64(s[0].Value.Uint64())
	}
	for _, n := range []int{50_000, 200_000} {
		t.Run(strconv.Itoa(n), func(t *testing.T) {
			before := scanned()
			s := generatedSnapshot(n)
			held := scanned() - before
			// gctune.Follow leaves HeapBytes less this out of the
			// collector's pacing: too low, it would leave out bytes the
			// collector marks every cycle.
			est := s.ScanBytes()
			t.Logf("estimate %d, scanned %d, heap %d", est, held, s.HeapBytes())
			if est > s.HeapBytes()/10 || est < held/2 || est > 2*held {
				t.Fatalf("ScanBytes %d for %d providers, the collector scans %d more (HeapBytes %d): want within 2x, and a small part",
					est, n, held, s.HeapBytes())
			}
			runtime.KeepAlive(s)
		})
	}
}
