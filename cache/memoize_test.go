package cache

import (
	"context"
	"testing"
	"time"
)

// TestMemoize: a decoded form left with an in-process entry comes back with
// later hits, and never outlives the bytes it was decoded from.
func TestMemoize(t *testing.T) {
	ctx := context.Background()
	get := func(t *testing.T, c Cache, key string) Entry {
		t.Helper()
		es, err := c.GetMany(ctx, []string{key})
		if err != nil {
			t.Fatal(err)
		}
		return es[0]
	}
	caches := []struct {
		name string
		new  func(t *testing.T) Cache
	}{
		{"memory", func(t *testing.T) Cache { return NewMemory(10) }},
		{"tiered", func(t *testing.T) Cache { return newTestTiered(t, newTestRedis(t), WithL1TTL(time.Minute)) }},
	}
	for _, c := range caches {
		t.Run(c.name, func(t *testing.T) {
			for _, tc := range []struct {
				name string
				// between runs after the decoded form was left with the entry read first.
				between     func(t *testing.T, c Cache, read Entry)
				wantDecoded bool
			}{
				{"later hits carry the decoded form", func(*testing.T, Cache, Entry) {}, true},
				{"a value written since is decoded again", func(t *testing.T, c Cache, _ Entry) {
					mustSet(t, c, Item{Key: "k", Value: []byte("v2"), TTL: time.Hour})
				}, false},
				{"the same bytes written again keep it (an L1 refresh from an unchanged L2 value)", func(t *testing.T, c Cache, _ Entry) {
					mustSet(t, c, Item{Key: "k", Value: []byte("v1"), TTL: time.Hour})
				}, true},
				{"a deleted and rewritten value is decoded again", func(t *testing.T, c Cache, _ Entry) {
					if err := c.DeleteMany(ctx, []string{"k"}); err != nil {
						t.Fatal(err)
					}
					mustSet(t, c, Item{Key: "k", Value: []byte("v1"), TTL: time.Hour})
				}, false},
			} {
				t.Run(tc.name, func(t *testing.T) {
					cache := c.new(t)
					mustSet(t, cache, Item{Key: "k", Value: []byte("v1"), TTL: time.Hour})
					read := get(t, cache, "k")
					if !read.Found {
						t.Fatal("miss right after SetMany")
					}
					if read.Decoded != nil {
						t.Fatalf("decoded form %v before anyone left one", read.Decoded)
					}
					// A tiered read may come from L2 (another slice than L1's copy): read until L1 answers.
					cache.(Memoizer).Memoize("k", read.Value, "decoded v1")
					if read = get(t, cache, "k"); read.Decoded == nil {
						cache.(Memoizer).Memoize("k", read.Value, "decoded v1")
					}
					tc.between(t, cache, read)
					got := get(t, cache, "k")
					if tc.wantDecoded != (got.Decoded == "decoded v1") {
						t.Fatalf("decoded form %v (value %q), want it kept: %v", got.Decoded, got.Value, tc.wantDecoded)
					}
				})
			}
			t.Run("bytes that are not the entry's are not memoized", func(t *testing.T) {
				cache := c.new(t)
				mustSet(t, cache, Item{Key: "k", Value: []byte("v1"), TTL: time.Hour})
				cache.(Memoizer).Memoize("k", []byte("v1"), "decoded elsewhere")
				cache.(Memoizer).Memoize("absent", []byte("v1"), "decoded elsewhere")
				for _, key := range []string{"k", "absent"} {
					if got := get(t, cache, key); got.Decoded != nil {
						t.Fatalf("%s: decoded form %v left by a caller holding a copy of the bytes", key, got.Decoded)
					}
				}
			})
		})
	}
}

// TestTieredMemoizeAcrossL2Reads: the decoded form survives the L1 copy being replaced from L2 with the same bytes,
// and a reader whose answer came from L2 can leave its decoded form with the L1 copy it filled.
func TestTieredMemoizeAcrossL2Reads(t *testing.T) {
	const l1TTL = 100 * time.Millisecond
	for _, tc := range []struct {
		name string
		// prepare fills the caches, leaves "decoded v1" with k if it can, and lets time pass.
		prepare     func(t *testing.T, c *Tiered, l2 Cache, clock *fakeClock)
		wantValue   string
		wantDecoded any
	}{
		{"a reader served from L2 memoizes on the L1 copy it filled", func(t *testing.T, c *Tiered, l2 Cache, _ *fakeClock) {
			mustSet(t, l2, Item{Key: "k", Value: []byte("v1"), TTL: time.Hour})
			memoizeRead(t, c, "k", "decoded v1") // an L1 miss: the entry came from L2
		}, "v1", "decoded v1"},
		{"an expired L1 copy filled again with the same bytes keeps it", func(t *testing.T, c *Tiered, _ Cache, clock *fakeClock) {
			mustSet(t, c, Item{Key: "k", Value: []byte("v1"), TTL: time.Hour})
			memoizeRead(t, c, "k", "decoded v1")
			clock.Advance(l1TTL) // the L1 copy has expired: the next read asks L2
		}, "v1", "decoded v1"},
		{"an expired L1 copy whose value changed in L2 is decoded again", func(t *testing.T, c *Tiered, l2 Cache, clock *fakeClock) {
			mustSet(t, c, Item{Key: "k", Value: []byte("v1"), TTL: time.Hour})
			memoizeRead(t, c, "k", "decoded v1")
			mustSet(t, l2, Item{Key: "k", Value: []byte("v2"), TTL: time.Hour}) // as another instance writes it
			clock.Advance(l1TTL)
		}, "v2", nil},
		{"an expired L1 copy deleted since is decoded again", func(t *testing.T, c *Tiered, _ Cache, clock *fakeClock) {
			mustSet(t, c, Item{Key: "k", Value: []byte("v1"), TTL: time.Hour})
			memoizeRead(t, c, "k", "decoded v1")
			clock.Advance(l1TTL)
			if err := c.DeleteMany(context.Background(), []string{"k"}); err != nil {
				t.Fatal(err)
			}
			clock.Advance(l1TTL) // past the drop's memory for fills that began before it
			mustSet(t, c, Item{Key: "k", Value: []byte("v1"), TTL: time.Hour})
			clock.Advance(l1TTL)
		}, "v1", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clock := newFakeClock()
			l2 := NewMemory(10, WithClock(clock.Now))
			c := NewTiered(NewMemory(10, WithClock(clock.Now)), l2, WithL1TTL(l1TTL))
			t.Cleanup(c.Close)
			tc.prepare(t, c, l2, clock)
			es, err := c.GetMany(context.Background(), []string{"k"})
			if err != nil {
				t.Fatal(err)
			}
			if string(es[0].Value) != tc.wantValue || es[0].Decoded != tc.wantDecoded {
				t.Errorf("got %q decoded %v, want %q decoded %v", es[0].Value, es[0].Decoded, tc.wantValue, tc.wantDecoded)
			}
		})
	}
}

// memoizeRead reads key once through c and leaves decoded with what it read, as the gateway does after decoding.
func memoizeRead(t *testing.T, c *Tiered, key string, decoded any) {
	t.Helper()
	es, err := c.GetMany(context.Background(), []string{key})
	if err != nil || !es[0].Found {
		t.Fatalf("GetMany(%q): %v, found %v", key, err, es[0].Found)
	}
	c.Memoize(key, es[0].Value, decoded)
}
