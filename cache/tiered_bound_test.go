package cache

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/plaza-gateway/plaza/cache/cachetest"
)

// cacheOnly hides that its L2 is an Invalidator, so a Tiered over it never hears a broadcast: every one is "lost".
type cacheOnly struct{ Cache }

// TestTieredInvalidationBound checks the staleness bound of Tiered for every one of 1,000 invalidations across two
// instances on the real Redis: once DeleteMany has returned on A, no read that starts on B more than the L1 TTL later
// returns the deleted value, though B held it in its L1 when the delete began. It runs with the broadcast working and
// with every broadcast lost, since the bound must not depend on pub/sub.
func TestTieredInvalidationBound(t *testing.T) {
	const (
		invalidations = 1000
		readers       = 2
		// window is how many of the latest keys each reader keeps reading: comfortably more than are invalidated
		// within one L1 TTL, so every old copy is looked for until well after the bound.
		window = 300
	)
	for _, tc := range []struct {
		name      string
		broadcast bool
	}{
		{"with the pub/sub broadcast", true},
		{"with every broadcast lost", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			prefix := cachetest.Prefix(t)
			// A generous Redis timeout: on a loaded machine the production 50 ms would make B bypass Redis now and
			// then, which serves misses (never an old value) but tests less.
			a := newTestTiered(t, newTestRedis(t, WithPrefix(prefix), WithTimeout(2*time.Second)))
			var l2b Cache = newTestRedis(t, WithPrefix(prefix), WithTimeout(2*time.Second))
			if !tc.broadcast {
				l2b = cacheOnly{l2b}
			}
			b := newTestTiered(t, l2b)
			bound := b.l1TTL

			keys := make([]string, invalidations)
			for i := range keys {
				keys[i] = fmt.Sprintf("Product:p:%d", i)
			}
			// deleted[i] is when DeleteMany(keys[i]) returned on A (UnixNano), 0 before; stale[i] is the latest start,
			// relative to that, of a read on B that still returned the value.
			var deleted, stale [invalidations]atomic.Int64
			var latest atomic.Int64 // index of the key being invalidated now
			var reads atomic.Int64
			stop := make(chan struct{})
			var wg sync.WaitGroup
			for range readers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for {
						select {
						case <-stop:
							return
						default:
						}
						hi := int(latest.Load()) + 1
						lo := max(0, hi-window)
						start := time.Now().UnixNano()
						entries, err := b.GetMany(ctx, keys[lo:hi])
						if err != nil {
							t.Errorf("GetMany on B: %v", err)
							return
						}
						reads.Add(1)
						for j, e := range entries {
							i := lo + j
							d := deleted[i].Load()
							if !e.Found || d == 0 || start <= d {
								continue
							}
							for late := start - d; ; {
								prev := stale[i].Load()
								if late <= prev || stale[i].CompareAndSwap(prev, late) {
									break
								}
							}
						}
					}
				}()
			}

			for i, k := range keys {
				latest.Store(int64(i))
				mustSet(t, a, item(k, "old"))
				// B reads it, so B holds it in its L1 when the delete begins. Under -race on a loaded machine the read
				// and the check can take longer than the L1 TTL, so read again until B holds it. B's read may join a
				// Redis read of its readers that began before the set (at most an L1 TTL earlier, within the bound):
				// that answers a miss, so a miss is read again too.
				held := waitUntil(5*time.Second, func() bool {
					e, err := b.GetMany(ctx, []string{k})
					if err != nil {
						t.Fatalf("invalidation %d: B did not read the value before the delete: %v", i, err)
					}
					return e[0].Found && inL1(b, k)
				})
				if !held {
					t.Fatalf("invalidation %d: the value never stayed in B's L1", i)
				}
				if err := a.DeleteMany(ctx, []string{k}); err != nil {
					t.Fatalf("invalidation %d: DeleteMany on A: %v", i, err)
				}
				deleted[i].Store(time.Now().UnixNano())
			}
			// Keep reading until every old copy is past the bound, with margin.
			time.Sleep(2 * bound)
			close(stop)
			wg.Wait()

			lates := make([]time.Duration, invalidations)
			served := 0
			for i := range lates {
				lates[i] = time.Duration(stale[i].Load())
				if lates[i] > 0 {
					served++
				}
				if lates[i] > bound {
					t.Errorf("invalidation %d: B served the deleted value %v after DeleteMany returned on A, bound %v", i, lates[i], bound)
				}
			}
			slices.Sort(lates)
			t.Logf("%d invalidations, %d reads on B; the deleted value was read after the delete for %d of them; "+
				"staleness p50 %v, p99 %v, max %v (bound %v)", invalidations, reads.Load(), served,
				lates[invalidations/2], lates[invalidations*99/100], lates[invalidations-1], bound)
			if !tc.broadcast && served == 0 {
				t.Error("no read on B saw an old copy after a delete with every broadcast lost: the test no longer exercises the L1")
			}
		})
	}
}

// duringRead runs a hook inside each GetMany of the L2 it wraps, before answering.
type duringRead struct {
	Cache
	hook func()
}

func (d *duringRead) GetMany(ctx context.Context, keys []string) ([]Entry, error) {
	d.hook()
	return d.Cache.GetMany(ctx, keys)
}

// unavailable is an L2 whose deletes cannot happen, as *Redis during an outage.
type unavailable struct{ Cache }

func (unavailable) DeleteMany(context.Context, []string) error { return ErrUnavailable }

func TestTieredBoundParts(t *testing.T) {
	ctx := context.Background()

	t.Run("counts an L1 copy's life from the L2 read, not from the fill", func(t *testing.T) {
		clock := newFakeClock()
		l2 := &duringRead{Cache: NewMemory(10, WithClock(clock.Now)), hook: func() {}}
		tc := NewTiered(NewMemory(10, WithClock(clock.Now)), l2, WithL1TTL(100*time.Millisecond))
		mustSet(t, l2.Cache, item("a", "1"))
		l2.hook = func() { clock.Advance(60 * time.Millisecond) } // a slow L2 read
		mustGet(t, tc, []string{"a"}, fresh("1"))
		clock.Advance(39 * time.Millisecond)
		if !inL1(tc, "a") {
			t.Fatal("the copy expired before 100 ms from the read")
		}
		clock.Advance(time.Millisecond)
		if inL1(tc, "a") {
			t.Fatal("the copy outlived 100 ms from the L2 read that began before its fill")
		}
	})

	t.Run("refuses to fill L1 from a read that began before a drop of the key", func(t *testing.T) {
		clock := newFakeClock()
		l2 := &duringRead{Cache: NewMemory(10), hook: func() {}}
		tc := NewTiered(NewMemory(10, WithClock(clock.Now)), l2, WithL1TTL(time.Hour))
		mustSet(t, l2.Cache, item("a", "1"), item("b", "2"))
		// The broadcast arrives while L2 answers, at the very instant the read began: still refused.
		l2.hook = func() { tc.dropL1([]string{"a"}) }
		mustGet(t, tc, []string{"a", "b"}, fresh("1"), fresh("2"))
		if inL1(tc, "a") {
			t.Error("the value read before the drop was put into L1 after it")
		}
		if !inL1(tc, "b") {
			t.Error("a key nobody dropped was not filled")
		}
		clock.Advance(time.Millisecond)
		l2.hook = func() {}
		mustGet(t, tc, []string{"a"}, fresh("1"))
		if !inL1(tc, "a") {
			t.Error("a read that began after the drop did not fill L1")
		}
	})

	t.Run("a delete L2 could not take clears L1 and returns ErrUnavailable", func(t *testing.T) {
		l2 := NewMemory(10)
		tc := NewTiered(NewMemory(10), unavailable{l2})
		mustSet(t, tc, item("a", "1"))
		if err := tc.DeleteMany(ctx, []string{"a"}); !errors.Is(err, ErrUnavailable) {
			t.Fatalf("DeleteMany = %v, want ErrUnavailable", err)
		}
		if inL1(tc, "a") {
			t.Error("L1 still holds the key")
		}
	})

	t.Run("does not write back a fetch that began before an invalidation of its key", func(t *testing.T) {
		l2 := NewMemory(10)
		tc := NewTiered(NewMemory(10), l2)
		l := NewLoader(tc, time.Minute, 0)
		rs := l.Fetch(ctx, []string{"a", "b"}, func(ctx context.Context, keys []string) (map[string][]byte, error) {
			// The provider answered with the old value; the change and its invalidation land before the write-back.
			if err := tc.DeleteMany(ctx, []string{"a"}); err != nil {
				t.Fatal(err)
			}
			return map[string][]byte{"a": []byte("old"), "b": []byte("2")}, nil
		})
		if string(rs[0].Value) != "old" || string(rs[1].Value) != "2" {
			t.Fatalf("results %+v: the caller still gets what was fetched", rs)
		}
		mustGet(t, l2, []string{"a", "b"}, Entry{}, fresh("2"))
		if inL1(tc, "a") {
			t.Error("the superseded value is in L1")
		}
	})

	t.Run("forgets drops older than it keeps them", func(t *testing.T) {
		var d recentDrops
		start := time.Unix(0, 0)
		d.add([]string{"a"}, start, 100*time.Millisecond)
		d.add([]string{"b"}, start.Add(101*time.Millisecond), 100*time.Millisecond) // a is forgotten here
		if len(d.at) != 1 || len(d.order) != 1 || !d.since("b", start) {
			t.Fatalf("drops %v %v, want only b", d.at, d.order)
		}
	})
}
