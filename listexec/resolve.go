package listexec

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
)

// ResolveField has the signature and contract of graphql.ResolveField,
// which it replaces in graph/generated.go (see cmd/rewrite, rule
// resolvers). When no field middleware is registered (Direct) and the field
// has no directive, gqlgen's middleware call is its pass-through, next(ctx):
// the field's resolver is called directly, without the closure gqlgen wraps
// around it for the middleware and the context variable that closure moves
// to the heap (two allocations per resolved field: a product's store in
// every list item). Under a list, the field's context comes from the
// list's slab (withFieldContextIn). Everything else is gqlgen's
// resolveField line for line:
// the field context, the recovered panic, the error and null handling, the
// type check of the result. With a middleware or a directive it is gqlgen's.
func ResolveField[T any](
	ctx context.Context,
	oc *graphql.OperationContext,
	field graphql.CollectedField,
	initializeFieldContext func(ctx context.Context, field graphql.CollectedField) (*graphql.FieldContext, error),
	fieldResolver func(ctx context.Context) (any, error),
	middlewareChain func(ctx context.Context, next graphql.Resolver) graphql.Resolver,
	marshal func(ctx context.Context, sel ast.SelectionSet, v T) graphql.Marshaler,
	recoverFromPanic bool,
	nonNull bool,
) (ret graphql.Marshaler) {
	if middlewareChain != nil || !Direct(oc) {
		return graphql.ResolveField(ctx, oc, field, initializeFieldContext, fieldResolver, middlewareChain,
			marshal, recoverFromPanic, nonNull)
	}
	fc, err := initializeFieldContext(ctx, field)
	if err != nil {
		return graphql.Null
	}
	ctx = withFieldContextIn(ctx, fc)
	if recoverFromPanic {
		defer func() {
			if r := recover(); r != nil {
				oc.Error(ctx, oc.Recover(ctx, r))
				ret = graphql.Null
			}
		}()
	}
	res, err := fieldResolver(ctx)
	if err != nil {
		oc.Error(ctx, graphql.AddFieldLocationToError(ctx, err))
		if fc.NonNull && !nonNull {
			return graphql.RequiredNull
		}
		return graphql.Null
	}
	if res == nil {
		if nonNull || fc.NonNull {
			graphql.AddInvalidNullError(ctx, "")
		}
		if fc.NonNull && !nonNull {
			return graphql.RequiredNull
		}
		return graphql.Null
	}
	if v, ok := res.(T); ok {
		fc.Result = v
		return marshal(ctx, field.Selections, v)
	}
	if v, ok := res.(graphql.Marshaler); ok {
		fc.Result = v
		return v
	}
	var t T
	oc.Errorf(ctx, `unexpected type %T from middleware/directive chain, should be %T`, res, t)
	return graphql.Null
}
