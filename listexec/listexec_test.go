package listexec

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql"
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
			Each(listCtx(&ast.Field{Alias: tc.name}), tc.n, func(ctx context.Context, i int) {
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

// TestLearnedField checks that a list field found doing I/O starts its next
// executions concurrently, and that a nested list's I/O releases the list
// around it.
func TestLearnedField(t *testing.T) {
	f := &ast.Field{Alias: "learned"}
	Each(listCtx(f), 3, func(ctx context.Context, i int) { Miss(ctx) })
	if _, ok := concurrentFields.Get(f); !ok {
		t.Fatal("a list field that did I/O is not remembered")
	}
	var tr tracker
	Each(listCtx(f), 20, func(ctx context.Context, i int) {
		tr.enter()
		defer tr.leave()
		time.Sleep(2 * time.Millisecond)
	})
	if tr.peak < 2 {
		t.Fatalf("second execution ran in order (peak %d)", tr.peak)
	}

	outer, inner := &ast.Field{Alias: "outer"}, &ast.Field{Alias: "inner"}
	var outerTr tracker
	Each(listCtx(outer), 20, func(ctx context.Context, i int) {
		outerTr.enter()
		defer outerTr.leave()
		ictx := graphql.WithFieldContext(ctx, &graphql.FieldContext{Field: graphql.CollectedField{Field: inner}})
		Each(ictx, 2, func(ctx context.Context, j int) {
			Miss(ctx)
			time.Sleep(2 * time.Millisecond)
		})
	})
	if outerTr.peak < 2 {
		t.Fatalf("I/O in a nested list left the outer list in order (peak %d)", outerTr.peak)
	}
	if _, ok := concurrentFields.Get(outer); !ok {
		t.Fatal("outer list not remembered")
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
