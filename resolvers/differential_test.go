package resolvers_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/plaza-gateway/plaza/connectors"
	"github.com/plaza-gateway/plaza/connectors/demo"
	"github.com/plaza-gateway/plaza/gateway"
	"github.com/plaza-gateway/plaza/gid"
	"github.com/plaza-gateway/plaza/graph"
	"github.com/plaza-gateway/plaza/resolvers"
)

// TestExecutorFastPathsMatchGqlgen is the differential test of the rewritten
// executor (listexec/cmd/rewrite): it runs a corpus of generated operations
// (fragments, aliases, @include/@skip, nulls, errors, partial results)
// through the fast paths and through gqlgen's plain path, and compares the
// answers byte for byte.
//
// Every fast path is guarded by listexec.Direct, which is false as soon as a
// field middleware is registered: the handler with a pass-through field
// middleware is gqlgen's plain executor, the one without takes every fast
// path (directly marshalled scalars and Money, objects written by
// listexec.FieldSet).
func TestExecutorFastPathsMatchGqlgen(t *testing.T) {
	fast, plain, pool := differentialHandlers(t)
	rng := rand.New(rand.NewPCG(19, 50))
	var withErrors, withNulls, partial int
	for n := range 300 {
		op := genOperation(rng, pool)
		body, err := json.Marshal(op)
		if err != nil {
			t.Fatal(err)
		}
		got, want := post(t, fast, body), post(t, plain, body)
		if !bytes.Equal(got.data, want.data) || !slices.Equal(got.errors, want.errors) {
			t.Fatalf("operation %d differs from gqlgen's answer\n%s\nvariables %v\nfast:  %s %s\nplain: %s %s",
				n, op.Query, op.Variables, got.data, got.errors, want.data, want.errors)
		}
		// The same document again, its @include/@skip flags swapped: the
		// fast handler has it from its query cache, and must not answer
		// with the fields it collected for the first variables
		// (listexec.CollectFields keeps them across requests).
		op.Variables["yes"], op.Variables["no"] = false, true
		swapped, err := json.Marshal(op)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := post(t, fast, swapped), post(t, plain, swapped); !bytes.Equal(got.data, want.data) || !slices.Equal(got.errors, want.errors) {
			t.Fatalf("operation %d, flags swapped, differs from gqlgen's answer\n%s\nfast:  %s %s\nplain: %s %s",
				n, op.Query, got.data, got.errors, want.data, want.errors)
		}
		hasData := len(want.data) > 0 && string(want.data) != "null"
		withErrors += b2i(len(want.errors) > 0)
		withNulls += b2i(hasData && bytes.Contains(want.data, []byte(":null")))
		partial += b2i(hasData && len(want.errors) > 0)
	}
	// The corpus must reach the paths it is for; a generator that drifted
	// into only clean answers would compare nothing of interest.
	if withErrors < 10 || withNulls < 10 || partial < 10 {
		t.Fatalf("the corpus covers too little: %d answers with errors, %d with nulls, %d partial", withErrors, withNulls, partial)
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// idPool holds the IDs operations draw from: products and stores of a
// healthy provider and of one whose store lookups fail, IDs of nothing and
// malformed IDs.
type idPool struct {
	products, stores, missing, malformed []string
}

// failingStores is a grocery provider whose store lookups fail: a product's
// store field is then null with a PROVIDER_UNAVAILABLE error, the rest of
// the answer intact.
type failingStores struct{ connectors.Grocery }

func (failingStores) Stores(context.Context, []string) ([]connectors.Result[connectors.Store], error) {
	return nil, connectors.Errorf(connectors.KindUnavailable, "stores are down")
}

func differentialHandlers(t *testing.T) (fast, plain http.Handler, pool idPool) {
	t.Helper()
	conns, err := demo.Default()
	if err != nil {
		t.Fatal(err)
	}
	groceries := 0
	for i, c := range conns {
		g, ok := c.(connectors.Grocery)
		if !ok {
			continue
		}
		groceries++
		id := c.Describe().ID
		page, err := g.SearchProducts(context.Background(), connectors.Query{First: 6})
		if err != nil || len(page.Items) < 6 {
			t.Fatalf("%s: %d products, %v", id, len(page.Items), err)
		}
		for _, p := range page.Items {
			pool.products = append(pool.products, gid.Encode(gid.Product, id, p.ID))
			pool.stores = append(pool.stores, gid.Encode(gid.Store, id, p.StoreID))
		}
		pool.missing = append(pool.missing, gid.Encode(gid.Product, id, "no-such-product"), gid.Encode(gid.Store, id, "no-such-store"))
		if groceries == 2 {
			conns[i] = failingStores{g}
		}
	}
	if groceries < 2 {
		t.Fatalf("%d grocery providers, the test needs 2", groceries)
	}
	pool.malformed = []string{"not-an-id", ""}
	reg, err := connectors.NewRegistry(conns...)
	if err != nil {
		t.Fatal(err)
	}
	build := func(fieldMiddleware bool) http.Handler {
		gw := gateway.New(reg)
		log := slog.New(slog.NewTextHandler(io.Discard, nil))
		r := resolvers.New(gw, log)
		srv := handler.New(graph.NewExecutableSchema(r.Config()))
		srv.AddTransport(transport.POST{})
		srv.SetErrorPresenter(resolvers.ErrorPresenter(log))
		srv.SetRecoverFunc(resolvers.Recover(log))
		if !fieldMiddleware {
			// The plain executor parses every request anew; the fast one
			// keeps documents as api.New does, so a document's fields may
			// be reused from an earlier request (listexec.CollectFields).
			srv.SetQueryCache(lru.New[*ast.QueryDocument](100))
		}
		srv.AroundOperations(func(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
			return next(resolvers.WithLoaders(ctx, gw))
		})
		if fieldMiddleware {
			srv.AroundFields(func(ctx context.Context, next graphql.Resolver) (any, error) { return next(ctx) })
		}
		return srv
	}
	return build(false), build(true), pool
}

type answer struct {
	data json.RawMessage
	// errors in a canonical order: elements of a list may resolve
	// concurrently, so the order in which their errors are added is not
	// fixed, on either path.
	errors []string
}

func post(t *testing.T, h http.Handler, body []byte) answer {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/query", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	var resp struct {
		Data   json.RawMessage   `json:"data"`
		Errors []json.RawMessage `json:"errors"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &resp); err != nil {
		t.Fatalf("status %d, %v: %s", w.Code, err, w.Body)
	}
	a := answer{data: resp.Data}
	for _, e := range resp.Errors {
		a.errors = append(a.errors, string(e))
	}
	slices.Sort(a.errors)
	return a
}

type operation struct {
	Query     string         `json:"query"`
	Variables map[string]any `json:"variables"`
}

// gen writes one operation; fragments collects the named fragments its
// selections spread.
type gen struct {
	rng       *rand.Rand
	fragments []string
	aliases   int
}

func genOperation(rng *rand.Rand, pool idPool) operation {
	g := &gen{rng: rng}
	vars := map[string]any{"yes": true, "no": false}
	var roots []string
	for i := range 1 + rng.IntN(2) {
		switch rng.IntN(3) {
		case 0:
			ids := g.ids(pool, 1+rng.IntN(8))
			vars[fmt.Sprintf("ids%d", i)] = ids
			roots = append(roots, fmt.Sprintf("r%d: nodes(ids: $ids%d) { __typename id ... on Product { %s } ... on Store { %s } }",
				i, i, g.product(2), g.store()))
		case 1:
			vars[fmt.Sprintf("id%d", i)] = g.ids(pool, 1)[0]
			roots = append(roots, fmt.Sprintf("r%d: node(id: $id%d) { id ... on Product { %s } }", i, i, g.product(2)))
		default:
			roots = append(roots, fmt.Sprintf("r%d: products(first: %d) { totalCount edges { cursor node { %s } } pageInfo { hasNextPage endCursor } }",
				i, rng.IntN(6), g.product(2)))
		}
	}
	var decl []string
	for name := range vars {
		switch name {
		case "yes", "no":
			decl = append(decl, "$"+name+": Boolean!")
		default:
			if strings.HasPrefix(name, "ids") {
				decl = append(decl, "$"+name+": [ID!]!")
			} else {
				decl = append(decl, "$"+name+": ID!")
			}
		}
	}
	slices.Sort(decl)
	q := fmt.Sprintf("query Q(%s) { __typename @include(if: $yes) @skip(if: $no) %s }", strings.Join(decl, ", "), strings.Join(roots, " "))
	return operation{Query: strings.Join(append([]string{q}, g.fragments...), "\n"), Variables: vars}
}

// ids draws n IDs: mostly products and stores, sometimes an ID of nothing
// (null and NOT_FOUND) or a malformed one (the whole field fails).
func (g *gen) ids(pool idPool, n int) []string {
	out := make([]string, n)
	for i := range out {
		switch r := g.rng.IntN(20); {
		case r == 0:
			out[i] = pool.malformed[g.rng.IntN(len(pool.malformed))]
		case r <= 2:
			out[i] = pool.missing[g.rng.IntN(len(pool.missing))]
		case r <= 5:
			out[i] = pool.stores[g.rng.IntN(len(pool.stores))]
		default:
			out[i] = pool.products[g.rng.IntN(len(pool.products))]
		}
	}
	return out
}

func (g *gen) product(depth int) string {
	fields := []string{"id", "name", "description", "category", "tags", "unit", "stock", "inStock", "origin", "rating", "__typename",
		"price { " + g.money() + " }", "provider { id name }"}
	if depth > 0 {
		fields = append(fields, "store { "+g.store()+" }")
	}
	return g.selection("Product", fields)
}

func (g *gen) store() string {
	return g.selection("Store", []string{"id", "name", "city", "address", "rating", "tags", "__typename"})
}

func (g *gen) money() string { return g.selection("Money", []string{"amount", "currency"}) }

// selection picks fields of typ, some aliased, some twice (merged), some
// under @include/@skip, some inside inline or named fragments.
func (g *gen) selection(typ string, fields []string) string {
	var parts []string
	for range 1 + g.rng.IntN(len(fields)) {
		f := fields[g.rng.IntN(len(fields))]
		name, _, _ := strings.Cut(f, " ")
		if g.rng.IntN(4) == 0 && name != "__typename" {
			g.aliases++
			f = fmt.Sprintf("a%d: %s", g.aliases, f)
		}
		if g.rng.IntN(3) == 0 {
			// A field asked twice, once perhaps under a directive: merged
			// into one, or kept once the directive allows it.
			parts = append(parts, f)
		}
		switch g.rng.IntN(10) {
		case 0:
			f += " @include(if: $no)"
		case 1:
			f += " @skip(if: $yes)"
		case 2:
			f += " @include(if: $yes)"
		case 3:
			f += " @skip(if: $no)"
		}
		parts = append(parts, f)
	}
	if len(parts) > 1 {
		switch g.rng.IntN(6) {
		case 0:
			// Wrap the tail in an inline fragment, with a directive or not.
			dirs := []string{"", " @include(if: $no)", " @skip(if: $no)"}
			k := 1 + g.rng.IntN(len(parts)-1)
			parts = append(parts[:k], fmt.Sprintf("... on %s%s { %s }", typ, dirs[g.rng.IntN(len(dirs))], strings.Join(parts[k:], " ")))
		case 1:
			name := fmt.Sprintf("F%d", len(g.fragments))
			k := 1 + g.rng.IntN(len(parts)-1)
			g.fragments = append(g.fragments, fmt.Sprintf("fragment %s on %s { %s }", name, typ, strings.Join(parts[k:], " ")))
			parts = append(parts[:k], "..."+name)
		}
	}
	return strings.Join(parts, " ")
}
