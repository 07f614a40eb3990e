package cache

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// refreshing reports whether a background refresh of any key is in progress.
func (t *Tiered) refreshBusy() bool {
	t.fillMu.Lock()
	defer t.fillMu.Unlock()
	return len(t.refreshing) > 0
}

// TestTieredRefreshesL1 checks the background refresh of L1 copies: a hot key's copy is replaced from L2 before it
// expires, so its readers never wait for L2, and the refresh keeps the staleness bound (a key dropped while it reads L2
// is not put back) and reads each key once at a time.
func TestTieredRefreshesL1(t *testing.T) {
	ctx := context.Background()
	const l1TTL = 100 * time.Millisecond
	keys := []string{"a", "b"}

	t.Run("a copy read after a quarter of its life is replaced before it expires", func(t *testing.T) {
		clock := newFakeClock()
		l2 := &countingCache{Cache: NewMemory(100, WithClock(clock.Now))}
		tc := NewTiered(NewMemory(100, WithClock(clock.Now)), l2, WithL1TTL(l1TTL))
		t.Cleanup(tc.Close)
		mustSet(t, l2.Cache, item("a", "1"), item("b", "2"))
		mustGet(t, tc, keys, fresh("1"), fresh("2")) // filled from L2 at 0
		clock.Advance(l1TTL / 5)
		mustGet(t, tc, keys, fresh("1"), fresh("2"))
		if got := len(l2.calls()); got != 1 {
			t.Fatalf("L2 asked %d times by 20 ms, want 1 (no refresh in the first quarter)", got)
		}
		clock.Advance(l1TTL / 10) // 30 ms: due
		mustGet(t, tc, keys, fresh("1"), fresh("2"))
		eventually(t, 5*time.Second, "the refresh read L2", func() bool { return len(l2.calls()) == 2 && !tc.refreshBusy() })
		// L2 changes behind the cache's back: a read from L2 would now see it, a read from L1 does not.
		mustSet(t, l2.Cache, item("a", "new"))
		clock.Advance(l1TTL - l1TTL/10) // 120 ms: the first fill has expired, the refreshed copy (from 30 ms) has not
		mustGet(t, tc, keys, fresh("1"), fresh("2"))
		if got := l2.calls(); got[1] != 2 {
			t.Errorf("L2 calls asked for %v keys, want the refresh to read both keys at once", got)
		}
	})

	t.Run("a key dropped while its refresh reads L2 is not put back", func(t *testing.T) {
		clock := newFakeClock()
		tc, l2 := filledOverGate(t, clock, l1TTL)
		clock.Advance(l1TTL / 2)
		mustGet(t, tc, keys, fresh("1"), fresh("2"))
		eventually(t, 5*time.Second, "the refresh is reading L2", func() bool { return l2.count() == 1 })
		for range 3 { // more readers while it reads: no second refresh
			mustGet(t, tc, keys, fresh("1"), fresh("2"))
		}
		tc.dropL1([]string{"a"}) // another instance's delete, broadcast while the read is in flight
		close(l2.gate)
		eventually(t, 5*time.Second, "the refresh finished", func() bool { return !tc.refreshBusy() })
		if got := l2.count(); got != 1 {
			t.Errorf("L2 read %d times, want one refresh however many readers saw the copies due", got)
		}
		if inL1(tc, "a") {
			t.Error("the refresh put back a key dropped after it began reading L2")
		}
		clock.Advance(l1TTL/2 + time.Millisecond) // past the first copies' expiry: b's copy is the refreshed one
		if !inL1(tc, "b") {
			t.Error("b was not refreshed")
		}
	})

	t.Run("a refresh a quarter TTL old does not hold back the next", func(t *testing.T) {
		clock := newFakeClock()
		tc, l2 := filledOverGate(t, clock, l1TTL)
		t.Cleanup(func() { close(l2.gate) })
		clock.Advance(l1TTL * 3 / 10)
		mustGet(t, tc, keys, fresh("1"), fresh("2"))
		eventually(t, 5*time.Second, "the first refresh is reading L2", func() bool { return l2.count() == 1 })
		clock.Advance(l1TTL / 10)
		mustGet(t, tc, keys, fresh("1"), fresh("2"))
		clock.Advance(l1TTL * 3 / 20) // the first refresh is 25 ms old
		mustGet(t, tc, keys, fresh("1"), fresh("2"))
		eventually(t, 5*time.Second, "a second refresh is reading L2", func() bool { return l2.count() == 2 })
	})

	t.Run("a copy from an earlier read landing last does not replace a later one", func(t *testing.T) {
		clock := newFakeClock()
		tc := NewTiered(NewMemory(100, WithClock(clock.Now)), NewMemory(100, WithClock(clock.Now)), WithL1TTL(l1TTL))
		t.Cleanup(tc.Close)
		earlier := clock.Now()
		clock.Advance(l1TTL / 4)
		// As readFrom fills L1 from two reads of L2 landing out of order.
		tc.l1.setFrom(clock.Now(), []Item{{Key: "a", Value: []byte("later"), TTL: l1TTL}}, true, nil)
		tc.l1.setFrom(earlier, []Item{{Key: "a", Value: []byte("earlier"), TTL: l1TTL}}, true, nil)
		mustGet(t, tc.l1, []string{"a"}, fresh("later"))
	})

	t.Run("a caller missing L1 for the refreshed keys joins the refresh", func(t *testing.T) {
		clock := newFakeClock()
		tc, l2 := filledOverGate(t, clock, l1TTL)
		clock.Advance(l1TTL - time.Millisecond)
		mustGet(t, tc, keys, fresh("1"), fresh("2"))
		eventually(t, 5*time.Second, "the refresh is reading L2", func() bool { return l2.count() == 1 })
		clock.Advance(time.Millisecond) // the copies expire before the refresh returns
		done := make(chan []Entry)
		go func() {
			es, _ := tc.GetMany(ctx, keys)
			done <- es
		}()
		eventually(t, 5*time.Second, "the caller joined the refresh", func() bool { return tc.joined(keys...) == 1 })
		close(l2.gate)
		if es := <-done; string(es[0].Value) != "1" || string(es[1].Value) != "2" {
			t.Errorf("got %q, %q", es[0].Value, es[1].Value)
		}
		if got := l2.count(); got != 1 {
			t.Errorf("L2 read %d times, want 1", got)
		}
	})
}

// TestRedisPatientRead: a read that no request waits for (Tiered's refresh) waits for a slow Redis until its own
// deadline, where a request's read gives up after the timeout and answers a miss.
func TestRedisPatientRead(t *testing.T) {
	ctx := context.Background()
	srv := startRedisServer(t)
	client := redis.NewClient(&redis.Options{Addr: srv.addr()})
	t.Cleanup(func() { _ = client.Close() })
	r := NewRedis(client, WithTimeout(20*time.Millisecond))
	t.Cleanup(r.Close)
	mustSet(t, r, item("k", "v"))

	admin := redis.NewClient(&redis.Options{Addr: srv.addr()})
	t.Cleanup(func() { _ = admin.Close() })
	if err := admin.Do(ctx, "CLIENT", "PAUSE", "300", "ALL").Err(); err != nil {
		t.Fatal(err)
	}
	mustGet(t, r, []string{"k"}, Entry{}) // a request's read: the timeout
	pctx, cancel := context.WithTimeout(patient(ctx), 5*time.Second)
	defer cancel()
	es, _ := r.GetMany(pctx, []string{"k"})
	if !es[0].Found || string(es[0].Value) != "v" {
		t.Errorf("patient read = %+v, want v once Redis answers", es[0])
	}
	if !r.Healthy() {
		t.Error("a slow Redis was bypassed")
	}
}

// filledOverGate is a tiered cache over a gated L2 on clock, both tiers
// holding a=1 and b=2, the L1 copies just filled with ttl.
func filledOverGate(t *testing.T, clock *fakeClock, ttl time.Duration) (*Tiered, *gatedCache) {
	t.Helper()
	l2 := &gatedCache{Cache: NewMemory(100, WithClock(clock.Now)), gate: make(chan struct{})}
	tc := NewTiered(NewMemory(100, WithClock(clock.Now)), l2, WithL1TTL(ttl))
	t.Cleanup(tc.Close)
	mustSet(t, l2.Cache, item("a", "1"), item("b", "2"))
	mustSet(t, tc.l1, Item{Key: "a", Value: []byte("1"), TTL: ttl}, Item{Key: "b", Value: []byte("2"), TTL: ttl})
	return tc, l2
}
