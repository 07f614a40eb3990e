package listexec

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql"
)

type otherKey struct{}

// TestWithFieldContextAsGqlgen holds withFieldContext to what
// graphql.WithFieldContext does: gqlgen finds the field context, its parent
// is the enclosing one, and every other value, the deadline and the
// cancellation of the context around it pass through.
func TestWithFieldContextAsGqlgen(t *testing.T) {
	if fieldContextKey == nil {
		t.Fatal("the probe did not learn gqlgen's field context key")
	}
	parent := &graphql.FieldContext{Object: "Query"}
	base, cancel := context.WithCancel(context.WithValue(context.Background(), otherKey{}, "v"))
	outer := graphql.WithFieldContext(base, parent)

	var c fieldCtx
	fc := &graphql.FieldContext{Object: "Product"}
	ctx := withFieldContext(&c, outer, fc, nil)
	if got := graphql.GetFieldContext(ctx); got != fc {
		t.Fatalf("GetFieldContext = %p, want %p", got, fc)
	}
	if fc.Parent != parent {
		t.Fatalf("Parent = %p, want %p", fc.Parent, parent)
	}
	if got := ctx.Value(otherKey{}); got != "v" {
		t.Fatalf("other value = %v", got)
	}
	// A context made under it still sees the field context, and its own.
	child := &graphql.FieldContext{Object: "Store"}
	inner := graphql.WithFieldContext(ctx, child)
	if graphql.GetFieldContext(inner) != child || child.Parent != fc {
		t.Fatal("a field context under it does not chain to it")
	}
	derived, stop := context.WithCancel(ctx)
	defer stop()
	cancel()
	select {
	case <-derived.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("a context derived from it was not cancelled with the one around it")
	}
	if ctx.Err() != context.Canceled {
		t.Fatalf("Err = %v", ctx.Err())
	}
}

// TestFieldSetsOfAList: the objects under a list (its elements, the objects
// below them, the elements of lists nested in it) get distinct, zeroed field
// sets and values from the outermost list's slab, also when elements run
// concurrently; outside a list, and under a short list alone, each is
// allocated on its own.
func TestFieldSetsOfAList(t *testing.T) {
	if s := newFieldSets(context.Background(), minSlab-1); s != nil {
		t.Fatal("a short list outside any other has a slab")
	}
	for _, n := range []int{0, 3, inlineValues, inlineValues + 1} {
		m, vals := newFieldSet(context.Background(), n)
		if m == nil || m.Values != nil || (vals != nil) != (n > 0 && n <= inlineValues) || (vals != nil && (len(vals) != n || cap(vals) != n)) {
			t.Fatalf("outside a list, %d fields: %+v, %d values", n, m, len(vals))
		}
	}
	const n = 10
	sets := newFieldSets(context.Background(), n)
	if sets == nil || sets.chunk != n {
		t.Fatalf("slab %+v, want chunks of %d", sets, n)
	}
	var c fieldCtx
	elem := withFieldContext(&c, context.Background(), &graphql.FieldContext{}, sets)
	if newFieldSets(elem, 2) != sets {
		t.Fatal("a list nested in an element has a slab of its own")
	}
	// An object below the element, under a field context of its own.
	below := graphql.WithFieldContext(elem, &graphql.FieldContext{})

	seen := map[*FieldSet]bool{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i := range 3 * n {
		wg.Go(func() {
			ctx := elem
			if i%2 == 1 {
				ctx = below
			}
			m, vals := newFieldSet(ctx, i%5)
			if m.Values != nil || m.fs != nil || m.Invalids != 0 {
				t.Errorf("field set %d not zero: %+v", i, m)
			}
			if len(vals) != i%5 || cap(vals) != i%5 {
				t.Errorf("field set %d: %d values of capacity %d, want %d", i, len(vals), cap(vals), i%5)
			}
			m.Invalids = uint32(i + 1) // written by its owner only: -race checks
			for j := range vals {
				if vals[j] != nil {
					t.Errorf("field set %d: value %d not zero", i, j)
				}
				vals[j] = graphql.MarshalInt(i) // no other object's: -race checks
			}
			mu.Lock()
			defer mu.Unlock()
			if seen[m] {
				t.Errorf("field set %p handed out twice", m)
			}
			seen[m] = true
		})
	}
	wg.Wait()
	if len(seen) != 3*n {
		t.Fatalf("%d distinct field sets, want %d", len(seen), 3*n)
	}
}

// TestFieldContextIn: a resolved field's context under a list comes from
// the list's slab and reads as gqlgen's would (its field context, whose
// parent is the element's; the slab; the values around it), distinct for
// every field; outside a list it is gqlgen's own.
func TestFieldContextIn(t *testing.T) {
	type key struct{}
	base := context.WithValue(context.Background(), key{}, "around")
	outer := &graphql.FieldContext{}
	if ctx := withFieldContextIn(base, outer); graphql.GetFieldContext(ctx) != outer || slabOf(ctx) != nil {
		t.Fatal("outside a list: not gqlgen's field context")
	}
	sets := newFieldSets(context.Background(), 10)
	elemFC := &graphql.FieldContext{}
	var c fieldCtx
	elem := withFieldContext(&c, base, elemFC, sets)
	seen := map[context.Context]bool{}
	for range 25 { // more than a chunk
		fc := &graphql.FieldContext{}
		ctx := withFieldContextIn(elem, fc)
		if _, ok := ctx.(*fieldCtx); !ok || seen[ctx] {
			t.Fatalf("context %T not from the slab, or handed out twice", ctx)
		}
		seen[ctx] = true
		if graphql.GetFieldContext(ctx) != fc || fc.Parent != elemFC || slabOf(ctx) != sets || ctx.Value(key{}) != "around" {
			t.Fatalf("field context %p (parent %p), slab %p, value %v", graphql.GetFieldContext(ctx), fc.Parent, slabOf(ctx), ctx.Value(key{}))
		}
	}
}
