package listexec

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/graph-gophers/dataloader/v7"
	"github.com/vektah/gqlparser/v2/ast"
)

// listCtx is the context of a list field, as the executor gives it to the
// field's marshaller.
func listCtx(f *ast.Field) context.Context {
	return graphql.WithFieldContext(context.Background(), &graphql.FieldContext{Field: graphql.CollectedField{Field: f}})
}

// tracker records how many elements run at once and in which goroutines.
type tracker struct {
	mu            sync.Mutex
	running, peak int
}

func (t *tracker) enter() {
	t.mu.Lock()
	t.running++
	t.peak = max(t.peak, t.running)
	t.mu.Unlock()
}

func (t *tracker) leave() {
	t.mu.Lock()
	t.running--
	t.mu.Unlock()
}

func TestEach(t *testing.T) {
	for _, tc := range []struct {
		name     string
		n        int
		ioFrom   int // elements from this index call Miss (-1: none)
		wantPeak func(peak int) bool
		wantDesc string
	}{
		{"memory only runs in order", 50, -1, func(p int) bool { return p == 1 }, "1"},
		{"io from the first element releases the rest", 50, 0, func(p int) bool { return p > 1 }, "> 1"},
		{"io from a later element releases the rest", 50, 10, func(p int) bool { return p > 1 }, "> 1"},
		{"one element", 1, 0, func(p int) bool { return p == 1 }, "1"},
		{"empty list", 0, -1, func(p int) bool { return p == 0 }, "0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var tr tracker
			seen := make([]atomic.Int32, tc.n)
			Each(context.Background(), tc.n, func(ctx context.Context, i int) {
				tr.enter()
				defer tr.leave()
				seen[i].Add(1)
				if tc.ioFrom >= 0 && i >= tc.ioFrom {
					Miss(ctx)
					time.Sleep(2 * time.Millisecond) // the I/O, during which others may start
				}
			})
			for i := range seen {
				if got := seen[i].Load(); got != 1 {
					t.Fatalf("element %d ran %d times", i, got)
				}
			}
			if !tc.wantPeak(tr.peak) {
				t.Fatalf("peak concurrency %d, want %s", tr.peak, tc.wantDesc)
			}
		})
	}
}

// loadCounter is a real dataloader whose batches are counted, the way the
// gateway's loaders batch provider calls.
type loadCounter struct {
	batches, keys atomic.Int32
	loader        *dataloader.Loader[int, int]
}

func newLoadCounter() *loadCounter {
	c := &loadCounter{}
	// A generous window: every element released at once must start within
	// it, even on a loaded machine.
	c.loader = dataloader.NewBatchedLoader(func(_ context.Context, keys []int) []*dataloader.Result[int] {
		c.batches.Add(1)
		c.keys.Add(int32(len(keys)))
		out := make([]*dataloader.Result[int], len(keys))
		for i, k := range keys {
			out[i] = &dataloader.Result[int]{Data: k}
		}
		return out
	}, dataloader.WithWait[int, int](200*time.Millisecond), dataloader.WithClearCacheOnBatch[int, int]())
	return c
}

// load is an element's load that no prefetch answered: announce it, then
// wait for the batch.
func (c *loadCounter) load(ctx context.Context, k int) int {
	Miss(ctx)
	v, err := c.loader.Load(ctx, k)()
	if err != nil {
		panic(err)
	}
	return v
}

// TestMissReleasesIntoOneBatch checks that elements which all wait for I/O
// meet in one batch, nested lists included, on every execution: what ran
// before in the process changes nothing.
func TestMissReleasesIntoOneBatch(t *testing.T) {
	for run := 1; run <= 3; run++ {
		t.Run(fmt.Sprintf("flat list, execution %d", run), func(t *testing.T) {
			c := newLoadCounter()
			got := make([]int, 30)
			Each(context.Background(), len(got), func(ctx context.Context, i int) { got[i] = c.load(ctx, i) })
			for i, v := range got {
				if v != i {
					t.Fatalf("element %d got %d", i, v)
				}
			}
			if b, k := c.batches.Load(), c.keys.Load(); b != 1 || k != 30 {
				t.Fatalf("%d batches of %d keys in all, want 1 of 30", b, k)
			}
		})
		t.Run(fmt.Sprintf("nested lists, execution %d", run), func(t *testing.T) {
			c := newLoadCounter()
			var sum atomic.Int32
			Each(context.Background(), 10, func(ctx context.Context, i int) {
				Each(ctx, 3, func(ctx context.Context, j int) { sum.Add(int32(c.load(ctx, 3*i+j))) })
			})
			if want := int32(29 * 30 / 2); sum.Load() != want {
				t.Fatalf("sum of loads %d, want %d", sum.Load(), want)
			}
			if b, k := c.batches.Load(), c.keys.Load(); b != 1 || k != 30 {
				t.Fatalf("%d batches of %d keys in all, want 1 of 30: I/O in an inner list did not release the outer one", b, k)
			}
		})
		t.Run(fmt.Sprintf("memory only stays in order, execution %d", run), func(t *testing.T) {
			var tr tracker
			var order []int
			Each(context.Background(), 20, func(ctx context.Context, i int) {
				tr.enter()
				defer tr.leave()
				order = append(order, i) // no lock: in order means one goroutine
			})
			if tr.peak != 1 || len(order) != 20 || order[19] != 19 {
				t.Fatalf("peak %d, order %v", tr.peak, order)
			}
		})
	}
}

// TestLateMiss checks that a Miss from a goroutine that outlives its element
// (after the list has run) neither reruns elements nor breaks the list.
func TestLateMiss(t *testing.T) {
	var late context.Context
	var count atomic.Int32
	Each(context.Background(), 5, func(ctx context.Context, i int) {
		count.Add(1)
		if i == 0 {
			late = ctx
		}
	})
	Miss(late)
	if count.Load() != 5 {
		t.Fatalf("%d elements ran, want 5", count.Load())
	}
}

// TestMarshalSlicePanics checks gqlgen's contract: every element is set, and
// a panicking element is Null with a field error naming its index.
func TestMarshalSlicePanics(t *testing.T) {
	ctx := graphql.WithResponseContext(listCtx(&ast.Field{Alias: "panics"}), graphql.DefaultErrorPresenter, graphql.DefaultRecover)
	ret := MarshalSlice(ctx, 3, 0, false, func(ctx context.Context, i int) graphql.Marshaler {
		if i == 1 {
			panic("boom")
		}
		return graphql.MarshalInt(i)
	})
	if len(ret) != 3 || ret[1] != graphql.Null || ret[0] == nil || ret[2] == nil {
		t.Fatalf("got %#v", ret)
	}
	errs := graphql.GetErrors(ctx)
	if len(errs) != 1 || errs[0].Path.String() != "panics[1]" {
		t.Fatalf("errors %v", errs)
	}
}

func TestNewDeferredGroup(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		query string
		full  bool
	}{
		{`{ node(id: "x") { id } }`, false},
		{`{ node(id: "x") { id ... @defer { ... on Product { name } } } }`, true},
	} {
		g := NewDeferredGroup(ctx, &graphql.OperationContext{RawQuery: tc.query})
		if full := g.Defers != nil && g.FieldSet != nil; full != tc.full {
			t.Errorf("%s: full group %v, want %v", tc.query, full, tc.full)
		}
		if g.Context != ctx {
			t.Errorf("%s: the group lost its context", tc.query)
		}
	}
}
