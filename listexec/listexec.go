// Package listexec runs the elements of a GraphQL list one after another
// while they only read memory, and concurrently as soon as one of them does
// I/O.
//
// gqlgen marshals every list element in its own goroutine
// (graphql.MarshalSliceConcurrently), so that loads from the elements'
// resolvers meet in one dataloader batch. Plaza's list resolvers prefetch
// the next level as one batch per provider before the elements run (see
// gateway.Loader.Prefetch), so most elements are answered from memory and
// the goroutines only cost: a goroutine, a stack grown by copying, more GC
// roots, per element. The profile of the list-of-50 query put that at about
// a fifth of the gateway's CPU.
//
// MarshalSlice therefore runs elements in order on the caller's goroutine
// until one of them reports I/O with Miss (the loaders do, for a key that no
// prefetch fetched, and so does every provider call; see package gateway);
// the remaining elements then run concurrently, as gqlgen would, so their
// loads still share a batch. The list field is remembered as one that does
// I/O, and its later executions (the same parsed document, served from the
// query cache) start concurrently. A list that does I/O costs at most one
// extra batch, once per document; a list that does none runs without
// goroutines.
package listexec

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/99designs/gqlgen/graphql"
	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/vektah/gqlparser/v2/ast"
)

// run is one list being executed in order; parent is the enclosing one, so
// that I/O in a nested list also releases the lists around it (their next
// elements' nested loads must meet in one batch too).
type run struct {
	parent *run
	field  *ast.Field
	io     atomic.Bool
}

type runKey struct{}

// concurrentFields remembers the list fields found doing I/O. The keys are
// fields of parsed documents, which the handler's query cache keeps and
// reuses; the bound keeps evicted documents from piling up.
var concurrentFields, _ = lru.New[*ast.Field, struct{}](4096)

// Miss records that the caller, running under ctx, is about to wait for I/O
// (a provider call, or a load that no prefetch answered). It is cheap when
// ctx is not inside a list run in order.
func Miss(ctx context.Context) {
	r, _ := ctx.Value(runKey{}).(*run)
	for ; r != nil; r = r.parent {
		if r.io.Swap(true) {
			return // the enclosing runs were marked by whoever set this one
		}
		if r.field != nil {
			concurrentFields.Add(r.field, struct{}{})
		}
	}
}

// Each calls fn for i in [0, n), in order while the calls do no I/O and
// concurrently from the first one that does (see Miss), and returns when all
// have returned. ctx passed to fn carries the run.
func Each(ctx context.Context, n int, fn func(ctx context.Context, i int)) {
	if n <= 1 {
		// Nothing to overlap: no run, no lookup of the field (the LRU takes a
		// lock), which most lists of one or none would pay for nothing.
		if n == 1 {
			fn(ctx, 0)
		}
		return
	}
	var field *ast.Field
	if fc := graphql.GetFieldContext(ctx); fc != nil {
		field = fc.Field.Field
	}
	i := 0
	if _, known := concurrentFields.Get(field); !known {
		r := &run{field: field}
		r.parent, _ = ctx.Value(runKey{}).(*run)
		rctx := context.WithValue(ctx, runKey{}, r)
		for ; i < n; i++ {
			fn(rctx, i)
			if r.io.Load() {
				i++
				break
			}
		}
		ctx = rctx
	}
	if i >= n {
		return
	}
	if i == n-1 {
		fn(ctx, i)
		return
	}
	var wg sync.WaitGroup
	for ; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			fn(ctx, i)
		}(i)
	}
	wg.Wait()
}

// MarshalSlice has the signature and contract of
// graphql.MarshalSliceConcurrently, which `go generate` replaces with it in
// graph/generated.go (see cmd/rewrite): every element of the result is set,
// an element whose marshalling panicked is Null with the panic reported as
// a field error unless omitPanicHandler. With a workerLimit it defers to
// gqlgen.
func MarshalSlice(ctx context.Context, length int, workerLimit int64, omitPanicHandler bool,
	marshalElement func(ctx context.Context, i int) graphql.Marshaler) graphql.Array {
	if workerLimit > 0 {
		return graphql.MarshalSliceConcurrently(ctx, length, workerLimit, omitPanicHandler, marshalElement)
	}
	ret := make(graphql.Array, length)
	Each(ctx, length, func(ctx context.Context, i int) {
		ectx := graphql.WithFieldContext(ctx, &graphql.FieldContext{Index: &i})
		if !omitPanicHandler {
			defer func() {
				if r := recover(); r != nil {
					graphql.AddError(ectx, graphql.Recover(ectx, r))
					ret[i] = graphql.Null
				}
			}()
		}
		ret[i] = marshalElement(ectx, i)
	})
	return ret
}
