package listexec

import (
	"context"
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
	ctx := withFieldContext(&c, outer, fc)
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
