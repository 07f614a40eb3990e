package listexec

import (
	"context"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/executor"
)

// fieldCounter is a field middleware registered as an extension.
type fieldCounter struct{}

func (fieldCounter) ExtensionName() string                   { return "fieldCounter" }
func (fieldCounter) Validate(graphql.ExecutableSchema) error { return nil }
func (fieldCounter) InterceptField(ctx context.Context, next graphql.Resolver) (any, error) {
	return next(ctx)
}

func TestDirect(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup func(*executor.Executor)
		want  bool
	}{
		{"no field middleware: fields may be marshalled directly", func(*executor.Executor) {}, true},
		{"AroundFields: every field goes through gqlgen", func(e *executor.Executor) {
			e.AroundFields(func(ctx context.Context, next graphql.Resolver) (any, error) { return next(ctx) })
		}, false},
		{"a FieldInterceptor extension: every field goes through gqlgen", func(e *executor.Executor) { e.Use(fieldCounter{}) }, false},
		{"only an operation middleware: fields may be marshalled directly", func(e *executor.Executor) {
			e.AroundOperations(func(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler { return next(ctx) })
		}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := executor.New(probeSchema{})
			tc.setup(e)
			oc, err := e.CreateOperationContext(graphql.StartOperationTrace(context.Background()), &graphql.RawParams{Query: "{ probe }"})
			if err != nil {
				t.Fatal(err)
			}
			if got := Direct(oc); got != tc.want {
				t.Fatalf("Direct = %v, want %v", got, tc.want)
			}
		})
	}
	if Direct(nil) {
		t.Error("Direct(nil) = true")
	}
}
