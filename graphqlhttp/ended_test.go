package graphqlhttp_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/plaza-gateway/plaza/graph"
	"github.com/plaza-gateway/plaza/graphqlhttp"
	"github.com/plaza-gateway/plaza/limits"
)

// endingLimits admits every operation but ends its request's context as it
// does, as a client that goes away just then (or a deadline that passes)
// would.
type endingLimits struct {
	end func()
}

func (endingLimits) Config() limits.Config { return limits.DefaultConfig() }

func (endingLimits) CheckRequest(context.Context, *graphql.RawParams) *gqlerror.Error { return nil }

func (l endingLimits) Admit(context.Context, *graphql.OperationContext) (func(), *gqlerror.Error) {
	l.end()
	return func() {}, nil
}

// TestOperationWhoseRequestEndsBeforeItRuns checks the answer when the
// request's context ends between admission and execution: gqlgen's executor
// then yields no response at all, which the transport once dereferenced (a
// panic under load in the bench). The client gets a retryable OVERLOADED.
func TestOperationWhoseRequestEndsBeforeItRuns(t *testing.T) {
	for _, body := range []string{`{"query":"{ __typename }"}`, `[{"query":"{ __typename }"}]`} {
		t.Run(body, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			srv := handler.New(graph.NewExecutableSchema(graph.Config{}))
			for _, tr := range graphqlhttp.New(endingLimits{end: cancel}).Transports() {
				srv.AddTransport(tr)
			}
			req := httptest.NewRequest(http.MethodPost, "/query", strings.NewReader(body)).WithContext(ctx)
			req.Header.Set("Content-Type", "application/json")
			rec := httptest.NewRecorder()
			srv.ServeHTTP(rec, req)
			if !strings.Contains(rec.Body.String(), `"code":"OVERLOADED"`) || !strings.Contains(rec.Body.String(), `"retryable":true`) {
				t.Fatalf("status %d, body %s: want a retryable OVERLOADED", rec.Code, rec.Body)
			}
		})
	}
}
