package listexec

import (
	"context"
	"reflect"
	"sync"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/executor"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
)

// Direct reports whether the operation registers no field middleware
// (gqlgen's AroundFields, or any graphql.FieldInterceptor), so that a field
// may be marshalled without going through gqlgen's resolution. The
// rewritten executor asks it before every field it marshals directly (see
// cmd/rewrite): with a field middleware registered, every field goes
// through gqlgen and so through the middleware.
//
// gqlgen sets oc.ResolverMiddleware to its own pass-through when no field
// middleware is registered, and to a closure around the interceptors
// otherwise; Direct compares code pointers with that pass-through, which it
// learns from an executor with no extensions.
func Direct(oc *graphql.OperationContext) bool {
	return oc != nil && oc.ResolverMiddleware != nil &&
		reflect.ValueOf(oc.ResolverMiddleware).Pointer() == passThrough()
}

var passThrough = sync.OnceValue(func() (p uintptr) {
	// On any surprise, 0: never equal to a real middleware, so every field
	// goes through gqlgen.
	defer func() {
		if recover() != nil {
			p = 0
		}
	}()
	ctx := graphql.StartOperationTrace(context.Background())
	oc, err := executor.New(probeSchema{}).CreateOperationContext(ctx, &graphql.RawParams{Query: "{ probe }"})
	if err != nil || oc.ResolverMiddleware == nil {
		return 0
	}
	return reflect.ValueOf(oc.ResolverMiddleware).Pointer()
})

// probeSchema is the least executable schema gqlgen builds an operation
// context for.
type probeSchema struct{}

var probeAST = gqlparser.MustLoadSchema(&ast.Source{Name: "probe", Input: "type Query { probe: Int }"})

func (probeSchema) Schema() *ast.Schema { return probeAST }

func (probeSchema) Complexity(context.Context, string, string, int, map[string]any) (int, bool) {
	return 0, false
}

func (probeSchema) Exec(context.Context) graphql.ResponseHandler { return nil }
