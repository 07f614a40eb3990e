package cache

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/plaza-gateway/plaza/cache/cachetest"
)

// fakeClock is a settable clock for TTL and grace decisions.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{now: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// newTestRedis returns a Redis cache on the shared test Redis under a unique prefix. The timeout is generous because
// these tests check behaviour, not latency, on a busy machine.
func newTestRedis(tb testing.TB, opts ...Option) *Redis {
	tb.Helper()
	opts = append([]Option{WithPrefix(cachetest.Prefix(tb)), WithTimeout(2 * time.Second)}, opts...)
	r := NewRedis(cachetest.Redis(tb), opts...)
	tb.Cleanup(r.Close)
	return r
}

func newTestTiered(tb testing.TB, l2 Cache, opts ...Option) *Tiered {
	tb.Helper()
	t := NewTiered(NewMemory(1000, opts...), l2, opts...)
	tb.Cleanup(t.Close)
	select {
	case <-t.Ready():
	case <-time.After(5 * time.Second):
		tb.Fatal("tiered cache: invalidation subscription not live after 5s")
	}
	return t
}

// implementations are the caches that must behave alike.
var implementations = []struct {
	name string
	new  func(tb testing.TB, clock *fakeClock) Cache
}{
	{"memory", func(tb testing.TB, clock *fakeClock) Cache { return NewMemory(100, WithClock(clock.Now)) }},
	{"redis", func(tb testing.TB, clock *fakeClock) Cache { return newTestRedis(tb, WithClock(clock.Now)) }},
	{"tiered", func(tb testing.TB, clock *fakeClock) Cache {
		return newTestTiered(tb, newTestRedis(tb, WithClock(clock.Now)), WithClock(clock.Now))
	}},
}

const (
	ttl   = time.Minute
	grace = time.Minute
)

func TestCachesBehaveAlike(t *testing.T) {
	ctx := context.Background()
	behaviours := []struct {
		name string
		run  func(t *testing.T, c Cache, clock *fakeClock)
	}{
		{"reports a miss for a key never written", func(t *testing.T, c Cache, _ *fakeClock) {
			mustGet(t, c, []string{"nope"}, Entry{})
		}},
		{"returns entries in key order, repeated keys included", func(t *testing.T, c Cache, _ *fakeClock) {
			mustSet(t, c, item("a", "1"), item("b", "2"))
			mustGet(t, c, []string{"b", "x", "a", "b"}, fresh("2"), Entry{}, fresh("1"), fresh("2"))
		}},
		{"serves a value as fresh until its TTL passes", func(t *testing.T, c Cache, clock *fakeClock) {
			mustSet(t, c, item("a", "1"))
			clock.Advance(ttl - time.Millisecond)
			mustGet(t, c, []string{"a"}, fresh("1"))
		}},
		{"reports a value as stale after its TTL and within its grace", func(t *testing.T, c Cache, clock *fakeClock) {
			mustSet(t, c, item("a", "1"))
			clock.Advance(ttl)
			mustGet(t, c, []string{"a"}, Entry{Value: []byte("1"), Found: true, Stale: true})
			clock.Advance(grace - time.Millisecond)
			mustGet(t, c, []string{"a"}, Entry{Value: []byte("1"), Found: true, Stale: true})
		}},
		{"forgets a value once TTL and grace have passed", func(t *testing.T, c Cache, clock *fakeClock) {
			mustSet(t, c, item("a", "1"))
			clock.Advance(ttl + grace)
			mustGet(t, c, []string{"a"}, Entry{})
		}},
		{"forgets a value without grace as soon as its TTL passes", func(t *testing.T, c Cache, clock *fakeClock) {
			mustSet(t, c, Item{Key: "a", Value: []byte("1"), TTL: ttl})
			clock.Advance(ttl)
			mustGet(t, c, []string{"a"}, Entry{})
		}},
		{"deletes keys and ignores keys that do not exist", func(t *testing.T, c Cache, _ *fakeClock) {
			mustSet(t, c, item("a", "1"), item("b", "2"))
			if err := c.DeleteMany(ctx, []string{"a", "never"}); err != nil {
				t.Fatalf("DeleteMany: %v", err)
			}
			mustGet(t, c, []string{"a", "b"}, Entry{}, fresh("2"))
		}},
		{"overwrites a value and its TTL", func(t *testing.T, c Cache, clock *fakeClock) {
			mustSet(t, c, item("a", "1"))
			clock.Advance(ttl / 2)
			mustSet(t, c, item("a", "2"))
			clock.Advance(ttl * 3 / 4)
			mustGet(t, c, []string{"a"}, fresh("2"))
		}},
		{"rejects a batch with a non-positive TTL and stores none of it", func(t *testing.T, c Cache, _ *fakeClock) {
			for _, bad := range []time.Duration{0, -time.Second} {
				err := c.SetMany(ctx, []Item{item("a", "1"), {Key: "b", Value: []byte("2"), TTL: bad}})
				if !errors.Is(err, ErrInvalidTTL) {
					t.Fatalf("SetMany with TTL %v: got %v, want ErrInvalidTTL", bad, err)
				}
			}
			mustGet(t, c, []string{"a", "b"}, Entry{}, Entry{})
		}},
		{"rejects a negative grace", func(t *testing.T, c Cache, _ *fakeClock) {
			err := c.SetMany(ctx, []Item{{Key: "a", Value: []byte("1"), TTL: ttl, Grace: -time.Second}})
			if !errors.Is(err, ErrInvalidTTL) {
				t.Fatalf("SetMany: got %v, want ErrInvalidTTL", err)
			}
			mustGet(t, c, []string{"a"}, Entry{})
		}},
		{"stores an empty value as found", func(t *testing.T, c Cache, _ *fakeClock) {
			mustSet(t, c, item("a", ""))
			mustGet(t, c, []string{"a"}, fresh(""))
		}},
		{"keeps its own copy of a written value", func(t *testing.T, c Cache, _ *fakeClock) {
			buf := []byte("original")
			mustSet(t, c, Item{Key: "a", Value: buf, TTL: ttl})
			copy(buf, "CHANGED!")
			mustGet(t, c, []string{"a"}, fresh("original"))
		}},
		{"accepts empty batches", func(t *testing.T, c Cache, _ *fakeClock) {
			mustSet(t, c)
			mustGet(t, c, nil)
			if err := c.DeleteMany(ctx, nil); err != nil {
				t.Fatalf("DeleteMany(nil): %v", err)
			}
		}},
	}
	for _, impl := range implementations {
		t.Run(impl.name, func(t *testing.T) {
			for _, b := range behaviours {
				t.Run(b.name, func(t *testing.T) {
					clock := newFakeClock()
					b.run(t, impl.new(t, clock), clock)
				})
			}
		})
	}
}

func item(key, value string) Item {
	return Item{Key: key, Value: []byte(value), TTL: ttl, Grace: grace}
}

func fresh(value string) Entry { return Entry{Value: []byte(value), Found: true} }

func mustSet(tb testing.TB, c Cache, items ...Item) {
	tb.Helper()
	if err := c.SetMany(context.Background(), items); err != nil {
		tb.Fatalf("SetMany: %v", err)
	}
}

func mustGet(tb testing.TB, c Cache, keys []string, want ...Entry) {
	tb.Helper()
	got, err := c.GetMany(context.Background(), keys)
	if err != nil {
		tb.Fatalf("GetMany(%q): %v", keys, err)
	}
	if len(got) != len(want) {
		tb.Fatalf("GetMany(%q): got %d entries, want %d", keys, len(got), len(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.Found != w.Found || g.Stale != w.Stale || !bytes.Equal(g.Value, w.Value) {
			tb.Errorf("GetMany(%q)[%d] = {%q found=%v stale=%v}, want {%q found=%v stale=%v}",
				keys, i, g.Value, g.Found, g.Stale, w.Value, w.Found, w.Stale)
		}
	}
}

func TestMemory(t *testing.T) {
	t.Run("evicts the least recently used entry beyond its size", func(t *testing.T) {
		m := NewMemory(2)
		mustSet(t, m, item("a", "1"), item("b", "2"))
		mustGet(t, m, []string{"a"}, fresh("1"))
		mustSet(t, m, item("c", "3"))
		mustGet(t, m, []string{"a", "b", "c"}, fresh("1"), Entry{}, fresh("3"))
	})
	t.Run("counts hits, stale entries and misses", func(t *testing.T) {
		clock := newFakeClock()
		m := NewMemory(10, WithClock(clock.Now))
		mustSet(t, m, item("a", "1"), Item{Key: "b", Value: []byte("2"), TTL: time.Second, Grace: time.Hour})
		clock.Advance(time.Second)
		mustGet(t, m, []string{"a", "b", "c"}, fresh("1"), Entry{Value: []byte("2"), Found: true, Stale: true}, Entry{})
		if got, want := m.Stats(), (Stats{Hits: 1, Stale: 1, Misses: 1}); got != want {
			t.Errorf("Stats() = %+v, want %+v", got, want)
		}
	})
	t.Run("panics on a size below one", func(t *testing.T) {
		defer func() {
			if recover() == nil {
				t.Error("NewMemory(0) did not panic")
			}
		}()
		NewMemory(0)
	})
	t.Run("is safe for concurrent use", func(t *testing.T) {
		m := NewMemory(16)
		var wg sync.WaitGroup
		for g := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range 200 {
					k := string(rune('a' + (g+i)%20))
					_ = m.SetMany(context.Background(), []Item{item(k, k)})
					_, _ = m.GetMany(context.Background(), []string{k, "z"})
					if i%10 == 0 {
						_ = m.DeleteMany(context.Background(), []string{k})
					}
				}
			}()
		}
		wg.Wait()
	})
}
