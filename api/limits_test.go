package api_test

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/plaza-gateway/plaza/api"
	"github.com/plaza-gateway/plaza/api/apitest"
	"github.com/plaza-gateway/plaza/limits"
)

// startWithLimits starts the demo gateway with lim as its limits.
func startWithLimits(tb testing.TB, lim limits.Config) *apitest.Gateway {
	tb.Helper()
	cfg := api.DefaultConfig()
	cfg.Limits = lim
	return apitest.Start(tb, apitest.Options{API: &cfg})
}

func query(q string) rawRequest {
	return postJSON(fmt.Sprintf(`{"query": %q}`, q))
}

// TestLimits posts documents just past each limit (tightened so the
// documents stay readable) and checks the answer and that no provider was
// called; the last cases show documents just within the limits still run.
func TestLimits(t *testing.T) {
	g := startWithLimits(t, limits.Config{
		MaxBodyBytes: 4 << 10, MaxVariablesBytes: 256, MaxTokens: 200,
		MaxDepth: 7, MaxAliases: 3, MaxRootFields: 3, MaxOperations: 2, MaxFieldRepeats: 4,
		MaxComplexity: 2000,
	})
	big := strings.Repeat("x", 5<<10)
	cases := []struct {
		name   string
		req    rawRequest
		status int
		code   string
		msg    string
	}{
		{"a body past MaxBodyBytes is 413 before it is read", query(`{ search(text: "` + big + `") { totalCount } }`),
			413, limits.CodeRequestTooLarge, "larger than 4096 bytes"},
		{"a chunked body past MaxBodyBytes is 413 once the cap is reached",
			rawRequest{method: http.MethodPost, contentType: "application/json", length: -1, body: strings.NewReader(`{"query": "{ search(text: \"` + big + `\") { totalCount } }"}`)},
			413, limits.CodeRequestTooLarge, "larger than 4096 bytes"},
		{"variables past MaxVariablesBytes are 413", postJSON(`{"query": "query($t: String) { search(text: $t) { totalCount } }", "variables": {"t": "` + strings.Repeat("y", 300) + `"}}`),
			413, limits.CodeVariablesTooLarge, "the limit is 256"},
		{"a document past MaxTokens is rejected by the parser", query(`{ search { edges { ` + strings.Repeat("cursor ", 200) + `} } }`),
			200, limits.CodeTooManyTokens, "more than 200 tokens"},
		{"a document deeper than MaxDepth", query(`{ stores { edges { node { products { edges { node { store { name } } } } } } } }`),
			200, limits.CodeQueryTooDeep, "8 levels deep; the limit is 7"},
		{"depth counts through fragments", query(`query Deep { stores { edges { node { ...P } } } } fragment P on Store { products { edges { node { store { name } } } } }`),
			200, limits.CodeQueryTooDeep, "operation Deep is 8 levels deep"},
		{"more aliases than MaxAliases", query(`{ providers { edges { a: cursor b: cursor c: cursor d: cursor } } }`),
			200, limits.CodeTooManyAliases, "uses 4 aliases; the limit is 3"},
		{"aliases in a fragment count once per use", query(`{ providers { edges { ...E } } stores { edges { ...S } } } fragment E on ProviderEdge { a: cursor b: cursor } fragment S on StoreEdge { c: cursor d: cursor }`),
			200, limits.CodeTooManyAliases, "uses 4 aliases"},
		{"more root fields than MaxRootFields", query(`{ providers { totalCount } stores { totalCount } doctors { totalCount } lawyers { totalCount } }`),
			200, limits.CodeTooManyRootFields, "selects 4 root fields; the limit is 3"},
		{"more operations than MaxOperations", postJSON(`{"query": "query A { __typename } query B { __typename } query C { __typename }", "operationName": "A"}`),
			200, limits.CodeTooManyOperations, "3 operations; the limit is 2"},
		{"one field repeated more than MaxFieldRepeats", query(`{ providers { edges { cursor cursor cursor cursor cursor } } }`),
			200, limits.CodeTooManyRepeats, `"cursor" is selected 5 times`},
		{"repeats spread through fragments are counted in the set they land in", query(`{ providers { edges { ...A ...B ... on ProviderEdge { cursor cursor } } } } fragment A on ProviderEdge { cursor cursor } fragment B on ProviderEdge { cursor }`),
			200, limits.CodeTooManyRepeats, `"cursor" is selected 5 times`},
		{"a query costing more than MaxComplexity", query(`{ stores(first: 100) { edges { node { products(first: 100) { edges { node { name } } } } } } }`),
			200, limits.CodeQueryTooComplex, "complexity 30301, which exceeds the limit of 2000"},
		{"complexity uses the variables", postJSON(`{"query": "query($n: Int) { stores(first: $n) { edges { node { products(first: $n) { edges { node { name } } } } } } }", "variables": {"n": 50}}`),
			200, limits.CodeQueryTooComplex, "complexity 7651"},
		{"complexity multiplies nodes(ids) by the number of ids", query(`{ nodes(ids: [` + strings.TrimSuffix(strings.Repeat(`"a",`, 40), ",") + `]) { ... on Store { products(first: 100) { edges { node { name } } } } } }`),
			200, limits.CodeQueryTooComplex, "complexity 12041"},
		{"a limit error is 400 for application/graphql-response+json", query(`{ providers { edges { a: cursor b: cursor c: cursor d: cursor } } }`).accepting("application/graphql-response+json"),
			400, limits.CodeTooManyAliases, "uses 4 aliases"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			send(t, g, tc.req).mustReject(t, tc.status, tc.code, tc.msg)
		})
	}

	within := []struct {
		name, query string
	}{
		{"a document exactly at the depth, alias and repeat limits runs",
			`{ stores(first: 2) { edges { a: cursor b: cursor c: cursor cursor node { products(first: 2) { edges { node { name } } } } } } }`},
		{"a cheap page of a costly shape runs", `{ stores(first: 2) { edges { node { products(first: 2) { edges { node { name } } } } } } }`},
	}
	for _, tc := range within {
		t.Run(tc.name, func(t *testing.T) {
			r := send(t, g, query(tc.query))
			if r.status != 200 || len(r.errors) != 0 || string(r.calls) == "[]" {
				t.Fatalf("%d %s", r.status, r.raw)
			}
		})
	}
	t.Run("a cached document is still checked for its operation name", func(t *testing.T) {
		q := `query A { providers(first: 1) { totalCount } }`
		if r := send(t, g, postJSON(fmt.Sprintf(`{"query": %q, "operationName": "A"}`, q))); r.status != 200 {
			t.Fatalf("%d %s", r.status, r.raw)
		}
		send(t, g, postJSON(fmt.Sprintf(`{"query": %q, "operationName": "Z"}`, q))).
			mustReject(t, 400, limits.CodeOperationNotFound, `operation "Z"`)
	})
}

func TestDefaultLimits(t *testing.T) {
	g := startDemo(t)
	t.Run("the default complexity limit lets a default-sized nested page through", func(t *testing.T) {
		r := send(t, g, query(`{ stores { edges { node { products { edges { node { name price { amount } } } } } } } }`))
		if r.status != 200 || len(r.errors) != 0 {
			t.Fatalf("%d %s", r.status, r.raw)
		}
	})
	t.Run("introspection is not refused for its depth", func(t *testing.T) {
		r := send(t, g, query(`{ __schema { types { name fields { name type { name kind ofType { name kind ofType { name kind ofType { name kind ofType { name kind ofType { name kind ofType { name } } } } } } } } } } }`))
		if r.status != 200 || len(r.errors) != 0 {
			t.Fatalf("%d %s", r.status, r.raw)
		}
	})
	for _, h := range hostileDocuments() {
		t.Run(h.name+" is rejected with "+h.code, func(t *testing.T) {
			start := time.Now()
			r := send(t, g, rawRequest{method: http.MethodPost, contentType: "application/json", body: bytes.NewReader(h.body), length: int64(len(h.body))})
			r.mustReject(t, h.status, h.code, "")
			if d := time.Since(start); d > time.Second {
				t.Fatalf("took %v", d)
			}
		})
	}
}

// hostileDocument is a request body built to make a GraphQL server work hard.
type hostileDocument struct {
	name   string
	body   []byte
	status int
	code   string
}

// hostileDocuments are the attacks of gqlgen#2892 (repeated fields make the
// overlapping-fields validation quadratic) and gqlgen#1672 (huge literals).
func hostileDocuments() []hostileDocument {
	q := func(doc string) []byte { return fmt.Appendf(nil, `{"query": %q}`, doc) }
	frags := new(strings.Builder)
	spreads := new(strings.Builder)
	for i := range 150 {
		fmt.Fprintf(spreads, "...F%d ", i)
		fmt.Fprintf(frags, "fragment F%d on SearchEdge { cursor } ", i)
	}
	return []hostileDocument{
		{"10,000 repeated fields", q(`{ search { edges { ` + strings.Repeat("cursor ", 10000) + `} } }`), 200, limits.CodeTooManyTokens},
		{"4,900 repeated fields", q(`{ search { edges { ` + strings.Repeat("cursor ", 4900) + `} } }`), 200, limits.CodeTooManyTokens},
		{"1,990 repeated fields, under the token limit", q(`{ search { edges { ` + strings.Repeat("cursor ", 1990) + `} } }`), 200, limits.CodeTooManyRepeats},
		{"150 fragments repeating one field (under the token limit)", q(`{ search { edges { ` + spreads.String() + `} } } ` + frags.String()), 200, limits.CodeTooManyRepeats},
		{"a 4 MiB string literal", q(`{ search(text: "` + strings.Repeat("a", 4<<20) + `") { totalCount } }`), 413, limits.CodeRequestTooLarge},
		{"a list literal nested 10,000 deep", q(`{ nodes(ids: ` + strings.Repeat("[", 10000) + strings.Repeat("]", 10000) + `) { id } }`), 200, limits.CodeTooManyTokens},
	}
}

// BenchmarkHostileDocuments measures what rejecting each attack costs the
// handler (no network): ns/op and B/op per attack.
func BenchmarkHostileDocuments(b *testing.B) {
	g := startDemo(b)
	h := g.Server.Config.Handler
	for _, d := range hostileDocuments() {
		b.Run(d.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				req := httptest.NewRequest(http.MethodPost, "/query", bytes.NewReader(d.body))
				req.Header.Set("Content-Type", "application/json")
				w := httptest.NewRecorder()
				h.ServeHTTP(w, req)
				if w.Code != d.status {
					b.Fatalf("status %d: %s", w.Code, w.Body)
				}
			}
		})
	}
}
