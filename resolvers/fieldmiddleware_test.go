package resolvers_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"
	"testing"

	"github.com/99designs/gqlgen/client"
	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/transport"

	"github.com/plaza-gateway/plaza/api/apitest"
	"github.com/plaza-gateway/plaza/connectors"
	"github.com/plaza-gateway/plaza/connectors/demo"
	"github.com/plaza-gateway/plaza/gateway"
	"github.com/plaza-gateway/plaza/graph"
	"github.com/plaza-gateway/plaza/resolvers"
)

// TestFieldMiddlewareSeesEveryField registers a field middleware (gqlgen's
// AroundFields) and checks that it sees every field of a list query: the
// generated executor marshals plain fields directly only while no field
// middleware is registered (listexec.Direct), so a middleware added later,
// for tracing or authorisation, can never be skipped.
func TestFieldMiddlewareSeesEveryField(t *testing.T) {
	conns, err := demo.Default()
	if err != nil {
		t.Fatal(err)
	}
	reg, err := connectors.NewRegistry(conns...)
	if err != nil {
		t.Fatal(err)
	}
	gw := gateway.New(reg)
	r := resolvers.New(gw, slog.New(slog.NewTextHandler(io.Discard, nil)))
	srv := handler.New(graph.NewExecutableSchema(r.Config()))
	srv.AddTransport(transport.POST{})
	srv.AroundOperations(func(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
		return next(resolvers.WithLoaders(ctx, gw))
	})
	var mu sync.Mutex
	var seen []string
	srv.AroundFields(func(ctx context.Context, next graphql.Resolver) (any, error) {
		mu.Lock()
		seen = append(seen, graphql.GetFieldContext(ctx).Path().String())
		mu.Unlock()
		return next(ctx)
	})

	ids := apitest.ProductIDs(t, 20)
	var resp map[string]any
	client.New(srv).MustPost(`query($ids: [ID!]!) { nodes(ids: $ids) { id ... on Product { name category inStock price { amount currency } store { id name } } } }`,
		&resp, client.Var("ids", ids))
	want := fieldPaths("", resp)
	if len(want) < 20*8 {
		t.Fatalf("the response has %d fields: %v", len(want), resp)
	}
	slices.Sort(seen)
	slices.Sort(want)
	if !slices.Equal(seen, want) {
		t.Fatalf("the middleware saw %d fields, the response has %d; missing %v", len(seen), len(want), missingFrom(want, seen))
	}
}

// fieldPaths lists the path of every field in a JSON response, as gqlgen
// writes paths (a.b[0].c).
func fieldPaths(prefix string, v any) []string {
	var out []string
	switch v := v.(type) {
	case map[string]any:
		for k, c := range v {
			p := k
			if prefix != "" {
				p = prefix + "." + k
			}
			out = append(out, p)
			out = append(out, fieldPaths(p, c)...)
		}
	case []any:
		for i, c := range v {
			out = append(out, fieldPaths(fmt.Sprintf("%s[%d]", prefix, i), c)...)
		}
	}
	return out
}

func missingFrom(want, got []string) []string {
	var out []string
	for _, w := range want {
		if !slices.Contains(got, w) && len(out) < 10 {
			out = append(out, w)
		}
	}
	return out
}
