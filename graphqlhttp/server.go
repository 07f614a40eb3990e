package graphqlhttp

import (
	"context"
	"fmt"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/plaza-gateway/plaza/limits"
)

// Limits is what the transports ask of the request limits (*limits.Guard):
// the caps in force, the checks of one document before gqlgen parses it,
// and admission of an operation before it runs.
type Limits interface {
	Config() limits.Config
	CheckRequest(ctx context.Context, p *graphql.RawParams) *gqlerror.Error
	Admit(ctx context.Context, op *graphql.OperationContext) (release func(), err *gqlerror.Error)
}

// Server is the GraphQL-over-HTTP surface of one endpoint. Build it with
// New; it is safe for concurrent use once configured.
type Server struct {
	limits Limits
	cfg    limits.Config
	// opContext and batchCharge are optional (SetOperationContext,
	// SetBatchCharge).
	opContext   func(context.Context) context.Context
	batchCharge func(ctx context.Context, extra int) (time.Duration, bool)
}

// New returns the transports and body middleware enforcing l.
func New(l Limits) *Server { return &Server{limits: l, cfg: l.Config()} }

// errorf returns a client-safe GraphQL error carrying code.
func errorf(code, format string, args ...any) *gqlerror.Error {
	return &gqlerror.Error{
		Message:    fmt.Sprintf(format, args...),
		Extensions: map[string]any{"code": code},
	}
}

// exceeds reports whether n is past limit; a negative limit disables it.
func exceeds[T int | int64](n, limit T) bool { return limit >= 0 && n > limit }
