package listexec

import (
	"context"
	"sync"

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
	fc   *graphql.FieldContext
	sets *fieldSets
}

func (c *fieldCtx) Value(key any) any {
	if key == fieldContextKey {
		return c.fc
	}
	if _, ok := key.(fieldSetsKey); ok {
		return c.sets
	}
	return c.Context.Value(key)
}

// fieldSets hands out the field sets of the objects under a list (its
// elements and every object below them, nested lists included), and their
// values, from chunks, one allocation per chunk rather than one per object:
// a list of products with their price and store marshals three objects per
// item. Each object takes as many values as it has fields (10 for a
// product, its price and its store) where a field set with its values
// inline held room for 8 each (24), 11 KB more per list of 50. The
// outermost list makes it; the elements' contexts carry it. A chunk lives
// as long as any of its field sets, all of which the response being written
// holds anyway.
type fieldSets struct {
	mu    sync.Mutex
	free  []FieldSet
	vals  []graphql.Marshaler
	ctxs  []fieldCtx // the contexts of resolved fields (ResolveField)
	chunk int
}

// valuesPerObject sizes a chunk of values: chunk objects of this many
// fields each.
const valuesPerObject = 4

type fieldSetsKey struct{}

// newFieldSets returns the slab of the list around ctx, or a new one in
// chunks of n (at most 256) for a list of n elements; nil, so no slab, for
// a list of fewer than minSlab elements outside any other.
func newFieldSets(ctx context.Context, n int) *fieldSets {
	if s, ok := ctx.Value(fieldSetsKey{}).(*fieldSets); ok && s != nil {
		return s
	}
	if n < minSlab {
		return nil
	}
	return &fieldSets{chunk: min(n, 256)}
}

// minSlab is the shortest list worth a slab of its own.
const minSlab = 4

func (s *fieldSets) get(n int) (*FieldSet, []graphql.Marshaler) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := take(&s.free, s.chunk)
	if len(s.vals) < n {
		s.vals = make([]graphql.Marshaler, max(s.chunk*valuesPerObject, n))
	}
	vals := s.vals[:n:n]
	s.vals = s.vals[n:]
	return m, vals
}

func (s *fieldSets) ctx() *fieldCtx {
	s.mu.Lock()
	defer s.mu.Unlock()
	return take(&s.ctxs, s.chunk)
}

// take hands out the next element of *free, a chunk of chunk new ones
// when it is used up.
func take[T any](free *[]T, chunk int) *T {
	if len(*free) == 0 {
		*free = make([]T, chunk)
	}
	p := &(*free)[0]
	*free = (*free)[1:]
	return p
}

// slabOf returns the slab of the list ctx is in, if any.
func slabOf(ctx context.Context) *fieldSets {
	if c, ok := ctx.(*fieldCtx); ok {
		return c.sets
	}
	if ctx == nil {
		return nil
	}
	s, _ := ctx.Value(fieldSetsKey{}).(*fieldSets)
	return s
}

// withFieldContextIn is graphql.WithFieldContext(ctx, fc), with the context
// made in the slab of the list ctx is in, if any: a resolved field under a
// list (a product's store) then costs no context of its own.
func withFieldContextIn(ctx context.Context, fc *graphql.FieldContext) context.Context {
	s := slabOf(ctx)
	if s == nil || fieldContextKey == nil {
		return graphql.WithFieldContext(ctx, fc)
	}
	return withFieldContext(s.ctx(), ctx, fc, s)
}

// newFieldSet returns a zero field set for an object marshalled under ctx,
// and n zero values for it: from the slab of the list it is in, if any.
// Outside a list the values are nil when n is 0 or past inlineValues.
func newFieldSet(ctx context.Context, n int) (*FieldSet, []graphql.Marshaler) {
	s := slabOf(ctx)
	if s == nil {
		if n == 0 || n > inlineValues {
			return new(FieldSet), nil
		}
		m := new(inlineFieldSet)
		return &m.FieldSet, m.vals[:n:n]
	}
	return s.get(n)
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
// made in c, carrying sets: it sets fc.Parent the same way, and is that
// function itself if the probe found no key (gqlgen changed how it reads
// its context; the objects below then get no slab).
func withFieldContext(c *fieldCtx, ctx context.Context, fc *graphql.FieldContext, sets *fieldSets) context.Context {
	if fieldContextKey == nil {
		return graphql.WithFieldContext(ctx, fc)
	}
	fc.Parent = graphql.GetFieldContext(ctx)
	*c = fieldCtx{Context: ctx, fc: fc, sets: sets}
	return c
}
