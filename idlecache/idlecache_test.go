package idlecache

import (
	"fmt"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"
)

// fixture is a cache of ints keyed by string on a clock the test moves,
// recording what it drops.
type fixture struct {
	c       *Cache[string, *int]
	now     time.Time
	mu      sync.Mutex
	dropped []string
	built   int
}

func newFixture(max int, idle time.Duration) *fixture {
	f := &fixture{now: time.Unix(1_700_000_000, 0)}
	f.c = New(Config[string, *int]{
		New:       func(string) *int { f.built++; v := f.built; return &v },
		Drop:      func(k string, _ *int) { f.mu.Lock(); f.dropped = append(f.dropped, k); f.mu.Unlock() },
		Max:       max,
		IdleAfter: idle,
		Now:       func() time.Time { return f.now },
	})
	return f
}

// use acquires and releases each key in turn.
func (f *fixture) use(keys ...string) {
	for _, k := range keys {
		f.c.Acquire(k).Release()
	}
}

func (f *fixture) held(k string) bool { _, ok := f.c.Peek(k); return ok }

func TestCache(t *testing.T) {
	t.Run("creates a key's state on first use and returns the same state after", func(t *testing.T) {
		f := newFixture(10, 0)
		a := f.c.Acquire("a")
		a.Release()
		again := f.c.Acquire("a")
		again.Release()
		if a != again || f.built != 1 {
			t.Fatalf("built %d states for one key (same entry: %v)", f.built, a == again)
		}
	})

	t.Run("Peek neither creates nor counts a use", func(t *testing.T) {
		f := newFixture(2, 0)
		if f.held("a") || f.c.Len() != 0 || f.built != 0 {
			t.Fatal("Peek created an entry")
		}
		f.use("a", "b")
		_, _ = f.c.Peek("a") // must not make a more recent than b
		f.use("c")
		if f.held("a") || !f.held("b") {
			t.Fatalf("after Peek(a): dropped %v, want a (least recently acquired)", f.dropped)
		}
	})

	t.Run("drops the least recently used entry past Max", func(t *testing.T) {
		f := newFixture(3, 0)
		f.use("a", "b", "c", "a", "d")
		if !slices.Equal(f.dropped, []string{"b"}) || f.c.Len() != 3 {
			t.Fatalf("dropped %v, len %d; want [b] and 3", f.dropped, f.c.Len())
		}
	})

	t.Run("never drops an entry in use, and shrinks back once it is released", func(t *testing.T) {
		f := newFixture(2, 0)
		held := f.c.Acquire("a")
		f.use("b", "c", "d")
		if !f.held("a") {
			t.Fatalf("the entry in use was dropped (dropped %v)", f.dropped)
		}
		held.Release()
		f.use("e", "f")
		if f.held("a") || f.c.Len() != 2 {
			t.Fatalf("after release: holds a = %v, len %d; want a gone and 2", f.held("a"), f.c.Len())
		}
	})

	t.Run("grows past Max only by the entries in use", func(t *testing.T) {
		f := newFixture(2, 0)
		var held []*Entry[*int]
		for i := range 5 {
			held = append(held, f.c.Acquire(strconv.Itoa(i)))
		}
		if f.c.Len() != 5 || len(f.dropped) != 0 {
			t.Fatalf("len %d, dropped %v; want all 5 in use kept", f.c.Len(), f.dropped)
		}
		for _, e := range held {
			e.Release()
		}
		f.use("x")
		if f.c.Len() != 2 {
			t.Fatalf("len %d after release, want Max 2", f.c.Len())
		}
	})

	t.Run("drops entries idle for IdleAfter on a later Acquire", func(t *testing.T) {
		f := newFixture(100, time.Minute)
		f.use("a", "b")
		f.now = f.now.Add(30 * time.Second)
		f.use("b")
		f.now = f.now.Add(31 * time.Second) // a idle 61 s, b 31 s
		f.use("c")
		if f.held("a") || !f.held("b") || !f.held("c") {
			t.Fatalf("dropped %v, want only a", f.dropped)
		}
	})

	t.Run("never drops the entry being acquired, however long it was idle", func(t *testing.T) {
		f := newFixture(100, time.Minute)
		f.use("a", "b")
		f.now = f.now.Add(time.Hour)
		f.use("b") // the sweep runs on this call
		if f.held("a") || !f.held("b") {
			t.Fatalf("dropped %v, want a only", f.dropped)
		}
	})

	t.Run("keeps an idle entry that is in use", func(t *testing.T) {
		f := newFixture(100, time.Minute)
		held := f.c.Acquire("slow")
		f.use("b")
		f.now = f.now.Add(time.Hour)
		f.use("c")
		if !f.held("slow") || f.held("b") {
			t.Fatalf("dropped %v, want b only", f.dropped)
		}
		held.Release()
		f.now = f.now.Add(time.Hour)
		f.use("d")
		if f.held("slow") {
			t.Fatal("kept the entry after its release and another idle period")
		}
	})

	t.Run("RemoveIf drops matching entries, in use or not", func(t *testing.T) {
		f := newFixture(100, 0)
		held := f.c.Acquire("a")
		defer held.Release()
		f.use("b", "c")
		f.c.RemoveIf(func(k string, _ *int) bool { return k != "c" })
		slices.Sort(f.dropped)
		if !slices.Equal(f.dropped, []string{"a", "b"}) || f.c.Len() != 1 {
			t.Fatalf("dropped %v, len %d", f.dropped, f.c.Len())
		}
	})
}

// TestManyKeysStayBounded calls 10^5 distinct keys once each, as 10^5
// providers each called once would: the cache holds at most Max of them.
func TestManyKeysStayBounded(t *testing.T) {
	const keys, max = 100_000, 1000
	f := newFixture(max, time.Minute)
	for i := range keys {
		f.use(fmt.Sprint("provider-", i))
		if i%1000 == 0 {
			f.now = f.now.Add(time.Second)
		}
	}
	if f.c.Len() > max {
		t.Fatalf("holds %d entries after %d keys, want at most %d", f.c.Len(), keys, max)
	}
	if len(f.dropped) != keys-f.c.Len() {
		t.Fatalf("dropped %d, want every entry not held (%d)", len(f.dropped), keys-f.c.Len())
	}
}

// BenchmarkAcquire is the per-call cost on the hot path: a key already held.
func BenchmarkAcquire(b *testing.B) {
	c := New(Config[string, int]{New: func(string) int { return 0 }, Max: 1024, IdleAfter: time.Minute})
	keys := make([]string, 64)
	for i := range keys {
		keys[i] = fmt.Sprint("provider-", i)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			c.Acquire(keys[i%len(keys)]).Release()
			i++
		}
	})
}

// BenchmarkDistinctKeys calls b.N distinct keys once each and reports the
// heap the cache holds afterwards: bounded by Max whatever b.N.
func BenchmarkDistinctKeys(b *testing.B) {
	const max = 1000
	c := New(Config[string, [64]byte]{New: func(string) [64]byte { return [64]byte{} }, Max: max})
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	b.ResetTimer()
	for i := range b.N {
		c.Acquire("provider-" + strconv.Itoa(i)).Release()
	}
	b.StopTimer()
	runtime.GC()
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(c.Len()), "entries")
	b.ReportMetric(float64(int64(after.HeapAlloc)-int64(before.HeapAlloc))/1024, "heap-KiB")
}
