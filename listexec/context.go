package listexec

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
)

// fieldCtx is a context carrying a field context, as graphql.WithFieldContext
// makes one, but allocated by the caller: MarshalSlice keeps its elements'
// in one slice, one allocation per list rather than one per element.
// graphql.GetFieldContext finds the field context under gqlgen's key, which
// is unexported: fieldContextKey is that key, learnt once by asking gqlgen
// to read a context that records the key it is asked for.
type fieldCtx struct {
	context.Context
	fc *graphql.FieldContext
}

func (c *fieldCtx) Value(key any) any {
	if key == fieldContextKey {
		return c.fc
	}
	return c.Context.Value(key)
}

var fieldContextKey = func() any {
	var p keyProbe
	p.Context = context.Background()
	graphql.GetFieldContext(&p)
	return p.key
}()

// keyProbe records the key of the last Value call.
type keyProbe struct {
	context.Context
	key any
}

func (p *keyProbe) Value(key any) any {
	p.key = key
	return nil
}

// withFieldContext is graphql.WithFieldContext(ctx, fc) with the context
// made in c: it sets fc.Parent the same way, and is that function itself
// if the probe found no key (gqlgen changed how it reads its context).
func withFieldContext(c *fieldCtx, ctx context.Context, fc *graphql.FieldContext) context.Context {
	if fieldContextKey == nil {
		return graphql.WithFieldContext(ctx, fc)
	}
	fc.Parent = graphql.GetFieldContext(ctx)
	*c = fieldCtx{Context: ctx, fc: fc}
	return c
}
