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
	"unsafe"
)

// recordingFetch returns values "v:<key>" for keys in exist and records every batch it is asked for.
type recordingFetch struct {
	mu      sync.Mutex
	batches [][]string
	exist   func(key string) bool
	err     error
	// before runs at the start of every fetch, to hold it open.
	before func()
}

func (f *recordingFetch) fetch(_ context.Context, keys []string) (map[string][]byte, error) {
	if f.before != nil {
		f.before()
	}
	f.mu.Lock()
	f.batches = append(f.batches, slices.Clone(keys))
	f.mu.Unlock()
	if f.err != nil {
		return nil, f.err
	}
	out := make(map[string][]byte)
	for _, k := range keys {
		if f.exist == nil || f.exist(k) {
			out[k] = []byte("v:" + k)
		}
	}
	return out, nil
}

func (f *recordingFetch) calls() [][]string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.batches)
}

// waiters reports how many callers are waiting for the in-flight fetch of key.
func (l *Loader) waiters(key string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	if f, ok := l.flights[key]; ok {
		return f.waiters
	}
	return 0
}

func wantResult(tb testing.TB, got Result, value string, found, stale bool, err error) {
	tb.Helper()
	if string(got.Value) != value || got.Found != found || got.Stale != stale || !errors.Is(got.Err, err) {
		tb.Errorf("result = {%q found=%v stale=%v err=%v}, want {%q found=%v stale=%v err=%v}",
			got.Value, got.Found, got.Stale, got.Err, value, found, stale, err)
	}
}

func TestLoader(t *testing.T) {
	ctx := context.Background()
	errProvider := errors.New("provider down")

	t.Run("fetches a key once for 50 concurrent misses", func(t *testing.T) {
		l := NewLoader(NewMemory(100), ttl, grace)
		f := &recordingFetch{}
		// Hold the first fetch open until the 49 other callers are waiting for it.
		f.before = func() {
			if !waitUntil(5*time.Second, func() bool { return l.waiters("k") == 49 }) {
				t.Error("49 callers not waiting after 5s")
			}
		}
		var wg sync.WaitGroup
		var wrong atomic.Int64
		for range 50 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := l.Fetch(ctx, []string{"k"}, f.fetch)
				if r[0].Err != nil || string(r[0].Value) != "v:k" {
					wrong.Add(1)
				}
			}()
		}
		wg.Wait()
		if n := len(f.calls()); n != 1 {
			t.Errorf("fetched %d times, want 1", n)
		}
		if n := wrong.Load(); n != 0 {
			t.Errorf("%d callers got a wrong result", n)
		}
	})

	t.Run("fetches only the missing keys in one call and caches them", func(t *testing.T) {
		c := NewMemory(100)
		mustSet(t, c, item("a", "cached"))
		l := NewLoader(c, ttl, grace)
		f := &recordingFetch{}
		r := l.Fetch(ctx, []string{"a", "b", "c", "b"}, f.fetch)
		wantResult(t, r[0], "cached", true, false, nil)
		wantResult(t, r[1], "v:b", true, false, nil)
		wantResult(t, r[2], "v:c", true, false, nil)
		wantResult(t, r[3], "v:b", true, false, nil)
		if got := f.calls(); len(got) != 1 || !slices.Equal(got[0], []string{"b", "c"}) {
			t.Errorf("fetch batches = %v, want [[b c]]", got)
		}
		mustGet(t, c, []string{"b", "c"}, fresh("v:b"), fresh("v:c"))
	})

	t.Run("reports keys the fetch does not return as not found and does not cache them", func(t *testing.T) {
		c := NewMemory(100)
		l := NewLoader(c, ttl, grace)
		f := &recordingFetch{exist: func(k string) bool { return k != "gone" }}
		r := l.Fetch(ctx, []string{"gone", "here"}, f.fetch)
		wantResult(t, r[0], "", false, false, nil)
		wantResult(t, r[1], "v:here", true, false, nil)
		mustGet(t, c, []string{"gone"}, Entry{})
	})

	t.Run("refetches a stale key and returns the fresh value", func(t *testing.T) {
		clock := newFakeClock()
		c := NewMemory(100, WithClock(clock.Now))
		mustSet(t, c, item("a", "old"))
		clock.Advance(ttl)
		r := NewLoader(c, ttl, grace).Fetch(ctx, []string{"a"}, (&recordingFetch{}).fetch)
		wantResult(t, r[0], "v:a", true, false, nil)
		mustGet(t, c, []string{"a"}, fresh("v:a"))
	})

	t.Run("serves the stale value when the fetch fails and reports the error for the rest", func(t *testing.T) {
		clock := newFakeClock()
		c := NewMemory(100, WithClock(clock.Now))
		mustSet(t, c, item("a", "old"))
		clock.Advance(ttl)
		r := NewLoader(c, ttl, grace).Fetch(ctx, []string{"a", "b"}, (&recordingFetch{err: errProvider}).fetch)
		wantResult(t, r[0], "old", true, true, nil)
		wantResult(t, r[1], "", false, false, errProvider)
	})

	t.Run("joins an overlapping fetch and fetches only the other keys", func(t *testing.T) {
		l := NewLoader(NewMemory(100), ttl, grace)
		release := make(chan struct{})
		first := &recordingFetch{before: func() { <-release }}
		done := make(chan []Result)
		go func() { done <- l.Fetch(ctx, []string{"a", "b"}, first.fetch) }()
		eventually(t, 5*time.Second, "first fetch in flight", func() bool {
			l.mu.Lock()
			defer l.mu.Unlock()
			return len(l.flights) == 2
		})
		second := &recordingFetch{}
		go func() {
			if !waitUntil(5*time.Second, func() bool { return l.waiters("a") == 1 }) {
				t.Error("second caller not waiting for a after 5s")
			}
			close(release)
		}()
		r := l.Fetch(ctx, []string{"a", "c"}, second.fetch)
		wantResult(t, r[0], "v:a", true, false, nil)
		wantResult(t, r[1], "v:c", true, false, nil)
		<-done
		if got := second.calls(); len(got) != 1 || !slices.Equal(got[0], []string{"c"}) {
			t.Errorf("second fetch batches = %v, want [[c]]", got)
		}
	})

	t.Run("stops waiting for another caller's fetch when its context ends", func(t *testing.T) {
		l := NewLoader(NewMemory(100), ttl, grace)
		release := make(chan struct{})
		defer close(release)
		go l.Fetch(ctx, []string{"a"}, (&recordingFetch{before: func() { <-release }}).fetch)
		eventually(t, 5*time.Second, "first fetch in flight", func() bool {
			l.mu.Lock()
			defer l.mu.Unlock()
			return len(l.flights) == 1
		})
		cctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
		defer cancel()
		r := l.Fetch(cctx, []string{"a"}, (&recordingFetch{}).fetch)
		wantResult(t, r[0], "", false, false, context.DeadlineExceeded)
	})

	t.Run("releases waiting callers when the fetch panics", func(t *testing.T) {
		l := NewLoader(NewMemory(100), ttl, grace)
		go func() {
			defer func() { _ = recover() }()
			l.Fetch(ctx, []string{"a"}, func(context.Context, []string) (map[string][]byte, error) {
				if !waitUntil(5*time.Second, func() bool { return l.waiters("a") == 1 }) {
					t.Error("no caller waiting after 5s")
				}
				panic("provider bug")
			})
		}()
		var r []Result
		eventually(t, 5*time.Second, "a fetch in flight", func() bool {
			l.mu.Lock()
			defer l.mu.Unlock()
			return len(l.flights) == 1
		})
		r = l.Fetch(ctx, []string{"a"}, (&recordingFetch{}).fetch)
		wantResult(t, r[0], "", false, false, errFetchPanicked)
	})

	t.Run("panics on a TTL that never expires", func(t *testing.T) {
		defer func() {
			if recover() == nil {
				t.Error("NewLoader with TTL 0 did not panic")
			}
		}()
		NewLoader(NewMemory(1), 0, 0)
	})
}

func ExampleLoader() {
	products := NewLoader(NewMemory(1000), 5*time.Minute, time.Hour)
	// Inside a dataloader batch function: keys carry type, provider and id.
	results := products.Fetch(context.Background(), []string{"Product:fresh:1", "Product:fresh:2"},
		func(ctx context.Context, missing []string) (map[string][]byte, error) {
			// One provider call for every missing key; encode with DefaultCodec.
			out := make(map[string][]byte)
			for _, k := range missing {
				out[k] = []byte("product " + k)
			}
			return out, nil
		})
	for _, r := range results {
		fmt.Println(string(r.Value), r.Found, r.Err)
	}
	// Output:
	// product Product:fresh:1 true <nil>
	// product Product:fresh:2 true <nil>
}

func TestLoaderKeyErrors(t *testing.T) {
	ctx := context.Background()
	now := time.Unix(1_700_000_000, 0)
	c := NewMemory(100, WithClock(func() time.Time { return now }))
	l := NewLoader(c, time.Minute, time.Hour)
	if err := c.SetMany(ctx, []Item{{Key: "b", Value: []byte("old-b"), TTL: time.Second, Grace: time.Hour}}); err != nil {
		t.Fatal(err)
	}
	now = now.Add(2 * time.Second) // b is past its TTL, within grace
	boom := errors.New("provider down")
	rs := l.Fetch(ctx, []string{"a", "b", "c"}, func(_ context.Context, keys []string) (map[string][]byte, error) {
		return map[string][]byte{"a": []byte("new-a")}, KeyErrors{"b": boom, "c": boom}
	})
	t.Run("keeps the values of the healthy keys and caches them", func(t *testing.T) {
		if rs[0].Err != nil || string(rs[0].Value) != "new-a" {
			t.Fatalf("a = %+v", rs[0])
		}
		got, _ := c.GetMany(ctx, []string{"a"})
		if !got[0].Found {
			t.Fatal("a was not written back")
		}
	})
	t.Run("serves the stale value of a failed key that has one", func(t *testing.T) {
		if rs[1].Err != nil || !rs[1].Stale || string(rs[1].Value) != "old-b" {
			t.Fatalf("b = %+v", rs[1])
		}
	})
	t.Run("fails only the failed key that has nothing cached", func(t *testing.T) {
		if !errors.Is(rs[2].Err, boom) {
			t.Fatalf("c = %+v", rs[2])
		}
	})
}

// keptKeys is a Cache that misses every key and records the keys written.
type keptKeys struct{ written []string }

func (c *keptKeys) GetMany(_ context.Context, keys []string) ([]Entry, error) {
	return make([]Entry, len(keys)), nil
}

func (c *keptKeys) SetMany(_ context.Context, items []Item) error {
	for _, it := range items {
		c.written = append(c.written, it.Key)
	}
	return nil
}

func (c *keptKeys) DeleteMany(context.Context, []string) error { return nil }

// A caller may cut its keys from one longer string (the entity cache does);
// the keys a cache keeps must not pin that string's memory.
func TestLoaderWritesCopiesOfKeys(t *testing.T) {
	all := "Product:freshcart:p-1Product:freshcart:p-2"
	keys := []string{all[:20], all[20:]}
	c := &keptKeys{}
	NewLoader(c, time.Minute, 0).Fetch(context.Background(), keys, (&recordingFetch{}).fetch)

	if !slices.Equal(c.written, keys) {
		t.Fatalf("written %q, want %q", c.written, keys)
	}
	for _, k := range c.written {
		if p := unsafe.StringData(k); uintptr(unsafe.Pointer(p)) >= uintptr(unsafe.Pointer(unsafe.StringData(all))) &&
			uintptr(unsafe.Pointer(p)) < uintptr(unsafe.Pointer(unsafe.StringData(all)))+uintptr(len(all)) {
			t.Errorf("key %q written as a slice of the caller's string, want a copy", k)
		}
	}
}
