package cache

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/plaza-gateway/plaza/cache/cachetest"
)

// countingCache records how many keys each GetMany asked for.
type countingCache struct {
	Cache
	mu    sync.Mutex
	asked []int
}

func (c *countingCache) GetMany(ctx context.Context, keys []string) ([]Entry, error) {
	c.mu.Lock()
	c.asked = append(c.asked, len(keys))
	c.mu.Unlock()
	return c.Cache.GetMany(ctx, keys)
}

func (c *countingCache) calls() []int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]int(nil), c.asked...)
}

func inL1(t *Tiered, key string) bool {
	e, _ := t.l1.GetMany(context.Background(), []string{key})
	return e[0].Found
}

func TestTiered(t *testing.T) {
	ctx := context.Background()

	t.Run("asks L2 once for the L1 misses and serves repeats from L1", func(t *testing.T) {
		l2 := &countingCache{Cache: NewMemory(100)}
		tc := NewTiered(NewMemory(100), l2)
		mustSet(t, l2.Cache, item("a", "1"), item("b", "2"))
		mustSet(t, tc, item("c", "3"))
		mustGet(t, tc, []string{"a", "b", "c", "x"}, fresh("1"), fresh("2"), fresh("3"), Entry{})
		mustGet(t, tc, []string{"a", "b", "c"}, fresh("1"), fresh("2"), fresh("3"))
		if got := l2.calls(); len(got) != 1 || got[0] != 3 {
			t.Errorf("L2 GetMany calls asked for %v keys, want one call for [a b x]", got)
		}
	})

	t.Run("keeps values in L1 no longer than the L1 TTL", func(t *testing.T) {
		clock := newFakeClock()
		l2 := NewMemory(100, WithClock(clock.Now))
		tc := NewTiered(NewMemory(100, WithClock(clock.Now)), l2, WithL1TTL(2*time.Second))
		mustSet(t, tc, item("a", "1"))
		if err := l2.DeleteMany(ctx, []string{"a"}); err != nil { // behind the tiered cache's back
			t.Fatal(err)
		}
		clock.Advance(2*time.Second - time.Millisecond)
		mustGet(t, tc, []string{"a"}, fresh("1"))
		clock.Advance(time.Millisecond)
		mustGet(t, tc, []string{"a"}, Entry{})
	})

	t.Run("keeps stale L2 entries out of L1 so each read sees they need a refresh", func(t *testing.T) {
		clock := newFakeClock()
		l2 := &countingCache{Cache: NewMemory(100, WithClock(clock.Now))}
		tc := NewTiered(NewMemory(100, WithClock(clock.Now)), l2)
		mustSet(t, tc, item("a", "1"))
		clock.Advance(ttl)
		stale := Entry{Value: []byte("1"), Found: true, Stale: true}
		mustGet(t, tc, []string{"a"}, stale)
		mustGet(t, tc, []string{"a"}, stale)
		if got := len(l2.calls()); got != 2 {
			t.Errorf("L2 asked %d times, want 2", got)
		}
	})

	t.Run("drops a key deleted on another instance from its L1 within a second", func(t *testing.T) {
		prefix := cachetest.Prefix(t)
		a := newTestTiered(t, newTestRedis(t, WithPrefix(prefix)), WithL1TTL(time.Hour))
		b := newTestTiered(t, newTestRedis(t, WithPrefix(prefix)), WithL1TTL(time.Hour))
		mustSet(t, a, item("Product:p:1", "old"), item("Product:p:2", "kept"))
		mustGet(t, b, []string{"Product:p:1", "Product:p:2"}, fresh("old"), fresh("kept"))
		if !inL1(b, "Product:p:1") {
			t.Fatal("b did not fill its L1")
		}
		if err := a.DeleteMany(ctx, []string{"Product:p:1"}); err != nil {
			t.Fatal(err)
		}
		eventually(t, time.Second, "b's L1 forgets the deleted key", func() bool { return !inL1(b, "Product:p:1") })
		mustGet(t, b, []string{"Product:p:1", "Product:p:2"}, Entry{}, fresh("kept"))
	})

	t.Run("purges L1 and invalidates again after Redis restarts", func(t *testing.T) {
		srv := startRedisServer(t)
		newInstance := func() (*Tiered, *Redis) {
			client := redis.NewClient(&redis.Options{Addr: srv.addr()})
			t.Cleanup(func() { _ = client.Close() })
			r := NewRedis(client, WithTimeout(time.Second), WithProbeInterval(20*time.Millisecond))
			t.Cleanup(r.Close)
			return newTestTiered(t, r, WithL1TTL(time.Hour)), r
		}
		a, ra := newInstance()
		b, rb := newInstance()
		mustSet(t, a, item("ka", "1"))
		mustSet(t, b, item("k", "1"))

		srv.kill()
		srv.start()
		eventually(t, 5*time.Second, "b's L1 purged on resubscribing", func() bool { return !inL1(b, "k") })
		eventually(t, 5*time.Second, "a's L1 purged on resubscribing", func() bool { return !inL1(a, "ka") })
		eventually(t, 5*time.Second, "both Redis tiers healthy", func() bool {
			// A write lets a dead pooled connection fail now rather than during the checks below.
			_ = ra.SetMany(ctx, []Item{item("warm", "x")})
			_ = rb.SetMany(ctx, []Item{item("warm", "x")})
			return ra.Healthy() && rb.Healthy()
		})
		mustSet(t, b, item("k", "2"))
		if err := a.DeleteMany(ctx, []string{"k"}); err != nil {
			t.Fatal(err)
		}
		eventually(t, time.Second, "b's L1 forgets the key deleted on a", func() bool { return !inL1(b, "k") })
	})
}
