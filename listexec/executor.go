package listexec

import (
	"context"
	"strings"

	"github.com/99designs/gqlgen/graphql"
)

// This file holds what `go generate` points gqlgen's generated executor at
// (see cmd/rewrite): drop-in replacements with gqlgen's signatures and
// contracts.

// MarshalSlice has the signature and contract of
// graphql.MarshalSliceConcurrently, which it replaces in graph/generated.go:
// every element of the result is set, an element whose marshalling panicked
// is Null with the panic reported as a field error unless omitPanicHandler.
// The elements run as Each runs them. With a workerLimit it defers to
// gqlgen.
func MarshalSlice(ctx context.Context, length int, workerLimit int64, omitPanicHandler bool,
	marshalElement func(ctx context.Context, i int) graphql.Marshaler) graphql.Array {
	if workerLimit > 0 {
		return graphql.MarshalSliceConcurrently(ctx, length, workerLimit, omitPanicHandler, marshalElement)
	}
	ret := make(graphql.Array, length)
	// The elements' field contexts, indexes and contexts, each in one
	// allocation rather than three per element: every element keeps its
	// own, as gqlgen's do (a resolver may hold its context past the
	// element).
	fcs, idx, ctxs := make([]graphql.FieldContext, length), make([]int, length), make([]fieldCtx, length)
	sets := newFieldSets(ctx, length)
	Each(ctx, length, func(ctx context.Context, i int) {
		idx[i] = i
		fcs[i].Index = &idx[i]
		ectx := withFieldContext(&ctxs[i], ctx, &fcs[i], sets)
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

// NewDeferredGroup replaces graphql.NewDeferredGroup in the generated
// executor. gqlgen builds a group for every object it marshals, for the
// fields under @defer: the object's path (a slice built by walking up the
// field contexts), a field set and a map, about 10% of a list query's
// allocations. The group is only read for deferred fields, so when the
// operation has no @defer an empty group does.
func NewDeferredGroup(ctx context.Context, oc *graphql.OperationContext) graphql.DeferredGroup {
	if !noDefer(oc) {
		return graphql.NewDeferredGroup(ctx)
	}
	return graphql.DeferredGroup{Context: ctx}
}

// noDefer reports whether the operation's document has no @defer.
func noDefer(oc *graphql.OperationContext) bool {
	return oc != nil && !strings.Contains(oc.RawQuery, "@defer")
}
