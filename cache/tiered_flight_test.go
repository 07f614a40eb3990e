package cache

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

// gatedCache holds every GetMany until the gate opens (or its context ends)
// and counts them.
type gatedCache struct {
	Cache
	gate  chan struct{}
	mu    sync.Mutex
	calls int
}

func (c *gatedCache) GetMany(ctx context.Context, keys []string) ([]Entry, error) {
	c.mu.Lock()
	c.calls++
	c.mu.Unlock()
	select {
	case <-c.gate:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return c.Cache.GetMany(ctx, keys)
}

func (c *gatedCache) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.calls
}

// joined is how many callers wait for the L2 read of keys in flight.
func (t *Tiered) joined(keys ...string) int {
	t.fillMu.Lock()
	defer t.fillMu.Unlock()
	for _, f := range t.flights {
		if len(f.keys) == len(keys) && f.keys[0] == keys[0] {
			return f.joined
		}
	}
	return -1
}

// TestTieredJoinsL2Reads: callers missing L1 for the same keys while one
// reads them from L2 wait for that read instead of reading again (one L2
// read when a list's L1 copies expire together), unless joining would serve
// a value older than an L1 copy may be (a key dropped since the read began)
// or the read fails for its own caller.
func TestTieredJoinsL2Reads(t *testing.T) {
	keys := []string{"a", "b"}
	setup := func(t *testing.T) (*Tiered, *gatedCache) {
		l2 := &gatedCache{Cache: NewMemory(100), gate: make(chan struct{})}
		mustSet(t, l2.Cache, item("a", "1"), item("b", "2"))
		// An L1 TTL no test run takes this long to reach: joining is allowed by age throughout.
		return NewTiered(NewMemory(100), l2, WithL1TTL(time.Minute)), l2
	}
	get := func(ctx context.Context, tc *Tiered, out chan<- error) {
		e, err := tc.GetMany(ctx, keys)
		if err == nil && (string(e[0].Value) != "1" || string(e[1].Value) != "2") {
			err = errors.New("wrong values: " + string(e[0].Value) + "," + string(e[1].Value))
		}
		out <- err
	}

	t.Run("concurrent misses of the same keys make one L2 read", func(t *testing.T) {
		tc, l2 := setup(t)
		done := make(chan error, 6)
		go get(context.Background(), tc, done)
		eventually(t, 10*time.Second, "the first read is in L2", func() bool { return l2.count() == 1 })
		for range 5 {
			go get(context.Background(), tc, done)
		}
		eventually(t, 10*time.Second, "five callers joined it", func() bool { return tc.joined(keys...) == 5 })
		close(l2.gate)
		for range 6 {
			if err := <-done; err != nil {
				t.Fatal(err)
			}
		}
		if n := l2.count(); n != 1 {
			t.Fatalf("%d L2 reads, want 1", n)
		}
		if !inL1(tc, "a") || !inL1(tc, "b") {
			t.Fatal("the read did not fill L1")
		}
	})

	t.Run("a key dropped since the read began is read again", func(t *testing.T) {
		tc, l2 := setup(t)
		done := make(chan error, 2)
		go get(context.Background(), tc, done)
		eventually(t, 10*time.Second, "the first read is in L2", func() bool { return l2.count() == 1 })
		tc.dropL1([]string{"b"}) // as an invalidation broadcast does
		go get(context.Background(), tc, done)
		eventually(t, 10*time.Second, "the second caller reads L2 itself", func() bool { return l2.count() == 2 })
		if n := tc.joined(keys...); n != 0 {
			t.Fatalf("%d callers joined a read older than a drop of its keys", n)
		}
		close(l2.gate)
		for range 2 {
			if err := <-done; err != nil {
				t.Fatal(err)
			}
		}
	})

	t.Run("callers that joined a read failed by its caller's deadline read alone", func(t *testing.T) {
		tc, l2 := setup(t)
		ctx, cancel := context.WithCancel(context.Background())
		first := make(chan error, 1)
		go get(ctx, tc, first)
		eventually(t, 10*time.Second, "the first read is in L2", func() bool { return l2.count() == 1 })
		done := make(chan error, 2)
		for range 2 {
			go get(context.Background(), tc, done)
		}
		eventually(t, 10*time.Second, "two callers joined it", func() bool { return tc.joined(keys...) == 2 })
		cancel()
		if err := <-first; !errors.Is(err, context.Canceled) {
			t.Fatalf("first caller: %v, want its context's error", err)
		}
		close(l2.gate)
		for range 2 {
			if err := <-done; err != nil {
				t.Fatalf("a caller that joined got %v", err)
			}
		}
		if n := l2.count(); n < 2 {
			t.Fatalf("%d L2 reads: the callers that joined did not read again", n)
		}
	})
}
