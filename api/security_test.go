package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/plaza-gateway/plaza/api"
	"github.com/plaza-gateway/plaza/api/apitest"
	"github.com/plaza-gateway/plaza/auth"
	"github.com/plaza-gateway/plaza/auth/authtest"
	"github.com/plaza-gateway/plaza/cache/cachetest"
	"github.com/plaza-gateway/plaza/connectors"
	"github.com/plaza-gateway/plaza/connectors/demo"
	"github.com/plaza-gateway/plaza/gateway"
	"github.com/plaza-gateway/plaza/metrics"
	"github.com/plaza-gateway/plaza/ratelimit"
)

const analystKey = "analyst-key-for-tests"

// production returns the production HTTP configuration, as server.go builds
// it for PLAZA_ENV=production.
func production(origins ...string) *api.Config {
	cfg := api.DefaultConfig()
	cfg.Production, cfg.Introspection, cfg.Playground, cfg.CORSOrigins = true, false, false, origins
	return &cfg
}

func mustKeys(tb testing.TB) *auth.APIKeys {
	tb.Helper()
	k, err := auth.ParseAPIKeys(analystKey)
	if err != nil {
		tb.Fatal(err)
	}
	return k
}

func analyst() http.Header { return http.Header{auth.APIKeyHeader: {analystKey}} }

// get sends a GET with header and returns the response with its body read.
func get(tb testing.TB, url string, header http.Header) (*http.Response, string) {
	tb.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

const introspectionQuery = `{ __schema { queryType { name } } }`

func TestProductionMode(t *testing.T) {
	prod := apitest.Start(t, apitest.Options{API: production("https://app.plaza.example"), APIOptions: []api.Option{api.WithAPIKeys(mustKeys(t))}})
	dev := apitest.Start(t, apitest.Options{APIOptions: []api.Option{api.WithAPIKeys(mustKeys(t))}})

	t.Run("introspection is refused to an anonymous caller", func(t *testing.T) {
		resp := prod.Post(apitest.Request{Query: introspectionQuery})
		if len(resp.Errors) != 1 || resp.Errors[0].Code() != "FORBIDDEN" || !strings.Contains(resp.Errors[0].Message, "analyst API key") || strings.Contains(string(resp.Raw), `"Query"`) {
			t.Fatalf("%s", resp.Raw)
		}
	})
	t.Run("introspection is refused to a signed-in user", func(t *testing.T) {
		resp := prod.Post(apitest.Request{Query: `query { ...Q } fragment Q on Query { __type(name: "Query") { name } }`, User: "demo-1"})
		if len(resp.Errors) != 1 || resp.Errors[0].Code() != "FORBIDDEN" || strings.Contains(string(resp.Raw), `"Query"`) {
			t.Fatalf("%s", resp.Raw)
		}
	})
	t.Run("introspection works with an analyst key", func(t *testing.T) {
		resp := prod.MustPost(apitest.Request{Query: introspectionQuery, Header: analyst()})
		if string(resp.Data) != `{"__schema":{"queryType":{"name":"Query"}}}` {
			t.Fatalf("%s", resp.Raw)
		}
	})
	t.Run("introspection is refused with a wrong analyst key", func(t *testing.T) {
		resp := prod.Post(apitest.Request{Query: introspectionQuery, Header: http.Header{auth.APIKeyHeader: {"not-the-analyst-key"}}})
		if len(resp.Errors) == 0 {
			t.Fatalf("%s", resp.Raw)
		}
	})
	t.Run("introspection works for everyone in development", func(t *testing.T) {
		dev.MustPost(apitest.Request{Query: introspectionQuery})
	})
	t.Run("__typename is not introspection and works for everyone", func(t *testing.T) {
		prod.MustPost(apitest.Request{Query: `{ __typename }`})
	})

	t.Run("validation errors give no suggestions that reveal the schema", func(t *testing.T) {
		resp := prod.Post(apitest.Request{Query: `{ serch(text: "milk") { totalCount } }`})
		if len(resp.Errors) == 0 || strings.Contains(string(resp.Raw), "Did you mean") || strings.Contains(string(resp.Raw), `\"search\"`) {
			t.Fatalf("%s", resp.Raw)
		}
		if d := dev.Post(apitest.Request{Query: `{ serch(text: "milk") { totalCount } }`}); !strings.Contains(string(d.Raw), "Did you mean") {
			t.Fatalf("development lost its suggestions: %s", d.Raw)
		}
	})

	t.Run("the playground is not found without an analyst key", func(t *testing.T) {
		for _, h := range []http.Header{nil, {"Authorization": {"Bearer " + prod.Token("demo-1")}}} {
			if resp, _ := get(t, prod.URL+"/", h); resp.StatusCode != http.StatusNotFound {
				t.Fatalf("status %d", resp.StatusCode)
			}
		}
		for _, p := range []string{"/examples", "/examples.json"} {
			if resp, _ := get(t, prod.URL+p, nil); resp.StatusCode != http.StatusNotFound {
				t.Fatalf("%s: status %d", p, resp.StatusCode)
			}
		}
	})
	t.Run("the playground is served to an analyst with a policy that allows this origin only", func(t *testing.T) {
		resp, body := get(t, prod.URL+"/", analyst())
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, "graphiql") {
			t.Fatalf("status %d", resp.StatusCode)
		}
		assertPlaygroundCSP(t, resp.Header.Get("Content-Security-Policy"), body)
		if resp, _ := get(t, prod.URL+"/examples.json", analyst()); resp.StatusCode != http.StatusOK {
			t.Fatalf("examples for an analyst: status %d", resp.StatusCode)
		}
	})
	t.Run("the development playground carries the same policy", func(t *testing.T) {
		resp, body := get(t, dev.URL+"/", nil)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status %d", resp.StatusCode)
		}
		assertPlaygroundCSP(t, resp.Header.Get("Content-Security-Policy"), body)
	})

	t.Run("API responses carry the security headers, and HSTS in production only", func(t *testing.T) {
		for _, tc := range []struct {
			g    *apitest.Gateway
			hsts bool
		}{{prod, true}, {dev, false}} {
			resp, _ := get(t, tc.g.URL+"/query?query=%7B__typename%7D", nil)
			want := map[string]string{"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY",
				"Referrer-Policy": "no-referrer", "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"}
			for k, v := range want {
				if got := resp.Header.Get(k); got != v {
					t.Fatalf("%s: %q, want %q", k, got, v)
				}
			}
			if got := resp.Header.Get("Strict-Transport-Security"); (got != "") != tc.hsts {
				t.Fatalf("HSTS %q in production=%v", got, tc.hsts)
			}
		}
	})
}

// assertPlaygroundCSP checks that the playground's page runs no inline
// script and that its policy allows scripts, styles, fonts and requests
// from this origin only: no CDN, so it works offline.
func assertPlaygroundCSP(tb testing.TB, csp, body string) {
	tb.Helper()
	var scriptSrc string
	for d := range strings.SplitSeq(csp, ";") {
		if s, ok := strings.CutPrefix(strings.TrimSpace(d), "script-src "); ok {
			scriptSrc = s
		}
	}
	if scriptSrc != "'self'" {
		tb.Fatalf("script-src %q, want 'self' only", scriptSrc)
	}
	if regexp.MustCompile(`(?i)https?://|\*`).MatchString(csp) {
		tb.Fatalf("the policy allows another origin: %q", csp)
	}
	if regexp.MustCompile(`(?s)<script>(.*?)</script>`).MatchString(body) || strings.Contains(body, "cdn.") {
		tb.Fatalf("the page has an inline script or names a CDN:\n%s", body)
	}
	if !strings.Contains(body, `src="/app/assets/`) {
		tb.Fatalf("the page loads no script from the gateway:\n%s", body)
	}
	if !strings.Contains(csp, "frame-ancestors 'none'") || !strings.Contains(csp, "connect-src 'self'") {
		tb.Fatalf("csp %q", csp)
	}
}

func TestCORS(t *testing.T) {
	prod := apitest.Start(t, apitest.Options{API: production("https://app.plaza.example")})
	dev := startDemo(t)
	preflight := func(url, origin string) *http.Response {
		req, _ := http.NewRequest(http.MethodOptions, url+"/query", nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", http.MethodPost)
		req.Header.Set("Access-Control-Request-Headers", "authorization,content-type") // as browsers send it
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	tests := []struct {
		name    string
		url     string
		origin  string
		allowed bool
	}{
		{"production allows a listed origin", prod.URL, "https://app.plaza.example", true},
		{"production refuses an unlisted origin", prod.URL, "https://evil.example", false},
		{"production refuses localhost when it is not listed", prod.URL, "http://localhost:3000", false},
		{"development allows localhost", dev.URL, "http://localhost:3000", true},
		{"development allows 127.0.0.1", dev.URL, "http://127.0.0.1:5173", true},
		{"development refuses other origins", dev.URL, "https://evil.example", false},
		{"development refuses a lookalike host", dev.URL, "http://localhost.evil.example", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := preflight(tt.url, tt.origin)
			got := resp.Header.Get("Access-Control-Allow-Origin")
			if tt.allowed != (got == tt.origin) {
				t.Fatalf("Access-Control-Allow-Origin %q for %s", got, tt.origin)
			}
			if resp.Header.Get("Access-Control-Allow-Credentials") != "" {
				t.Fatal("credentials allowed")
			}
			if tt.allowed && !strings.Contains(strings.ToLower(resp.Header.Get("Access-Control-Allow-Headers")), "authorization") {
				t.Fatalf("Authorization not allowed: %q", resp.Header.Get("Access-Control-Allow-Headers"))
			}
		})
	}
}

// Upstream details a provider failure can carry: its URL with a credential,
// the SQL it ran, and a Go stack trace. None may reach a client.
const (
	upstreamURL = "https://grocery-upstream.internal:8443/v1/products?api_key=s3cr3t"
	upstreamSQL = "SELECT name, diagnosis FROM patients WHERE id = 330102"
	upstreamStk = "goroutine 17 [running]:\nmain.fetch(0xc000123)\n\t/srv/provider/fetch.go:42 +0x1d"
)

// leakyGrocery is a demo grocery provider whose failures carry upstream
// details: a typed provider error on search, an untyped error on orders.
type leakyGrocery struct{ *demo.Grocery }

func (g leakyGrocery) SearchProducts(context.Context, connectors.Query) (connectors.Page[connectors.Product], error) {
	return connectors.Page[connectors.Product]{}, &connectors.Error{Kind: connectors.KindProvider, Provider: g.Describe().ID,
		Message: "GET " + upstreamURL + ": " + upstreamSQL, Err: errors.New(upstreamStk)}
}

func (leakyGrocery) UserOrders(context.Context, string) ([]connectors.GroceryOrder, error) {
	return nil, errors.New("GET " + upstreamURL + " failed running " + upstreamSQL + "\n" + upstreamStk)
}

// demoWithGrocery is the demo providers with the first grocery provider
// replaced by wrap of it.
func demoWithGrocery(t *testing.T, wrap func(*demo.Grocery) connectors.Connector) []connectors.Connector {
	t.Helper()
	conns, err := demo.Default()
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range conns {
		if d := c.Describe(); d.Vertical == connectors.VerticalGrocery {
			gr, err := demo.NewGrocery(d)
			if err != nil {
				t.Fatal(err)
			}
			conns[i] = wrap(gr)
			break
		}
	}
	return conns
}

func TestProductionMasksProviderErrors(t *testing.T) {
	conns := demoWithGrocery(t, func(gr *demo.Grocery) connectors.Connector { return leakyGrocery{gr} })
	// The fan-out asks the leaky provider to search (the index would not).
	g := apitest.Start(t, apitest.Options{Connectors: conns, API: production(), FanOut: true})
	for _, req := range []apitest.Request{
		{Query: searchQuery, Variables: map[string]any{"text": "milk", "v": "GROCERY", "first": 5}},
		{Query: `{ me { orders(first: 5) { edges { node { id } } } } }`, User: "demo-1"},
	} {
		resp := g.Post(req)
		if len(resp.Errors) == 0 {
			t.Fatalf("the failure was not reported: %s", resp.Raw)
		}
		for _, leak := range []string{"grocery-upstream", "s3cr3t", "SELECT", "patients", "goroutine", "fetch.go", "330102"} {
			if strings.Contains(string(resp.Raw), leak) {
				t.Fatalf("the response leaks %q: %s", leak, resp.Raw)
			}
		}
		for _, e := range resp.Errors {
			if c := e.Code(); c != "PROVIDER_ERROR" && c != "INTERNAL" {
				t.Fatalf("code %s: %s", c, resp.Raw)
			}
		}
	}
}

func TestRateLimitEndToEnd(t *testing.T) {
	limit := ratelimit.Limit{Rate: 1, Period: time.Minute, Burst: 2}
	cfg := ratelimit.Config{User: limit, IP: limit, Key: limit}
	prefix := cachetest.Prefix(t)
	// Two gateway instances sharing one Redis.
	start := func() *apitest.Gateway {
		store := ratelimit.NewRedis(cachetest.Redis(t), prefix, ratelimit.NewMemory(0, nil))
		return apitest.Start(t, apitest.Options{APIOptions: []api.Option{api.WithRateLimit(ratelimit.New(cfg, store, nil)), api.WithAPIKeys(mustKeys(t))}})
	}
	a, b := start(), start()

	t.Run("a user's requests over the limit, across instances, are 429 with Retry-After", func(t *testing.T) {
		a.MustPost(apitest.Request{Query: `{ me { id } }`, User: "demo-1"})
		b.MustPost(apitest.Request{Query: `{ me { id } }`, User: "demo-1"})
		resp := a.Post(apitest.Request{Query: `{ me { id } }`, User: "demo-1"})
		if resp.Status != http.StatusTooManyRequests || len(resp.Errors) != 1 || resp.Errors[0].Code() != "RATE_LIMITED" {
			t.Fatalf("status %d: %s", resp.Status, resp.Raw)
		}
		hr, _ := http.NewRequest(http.MethodPost, b.URL+"/query", strings.NewReader(`{"query":"{ me { id } }"}`))
		hr.Header.Set("Content-Type", "application/json")
		hr.Header.Set("Authorization", "Bearer "+b.Token("demo-1"))
		raw, err := http.DefaultClient.Do(hr)
		if err != nil {
			t.Fatal(err)
		}
		raw.Body.Close()
		if raw.StatusCode != http.StatusTooManyRequests || raw.Header.Get("Retry-After") == "" {
			t.Fatalf("status %d, Retry-After %q", raw.StatusCode, raw.Header.Get("Retry-After"))
		}
	})
	t.Run("another user and an analyst key are not affected", func(t *testing.T) {
		a.MustPost(apitest.Request{Query: `{ me { id } }`, User: "demo-2"})
		a.MustPost(apitest.Request{Query: `{ __typename }`, Header: analyst()})
	})
	t.Run("anonymous callers share their address's bucket", func(t *testing.T) {
		a.MustPost(apitest.Request{Query: `{ __typename }`})
		b.MustPost(apitest.Request{Query: `{ __typename }`})
		if resp := a.Post(apitest.Request{Query: `{ __typename }`}); resp.Status != http.StatusTooManyRequests {
			t.Fatalf("status %d", resp.Status)
		}
	})
}

// startRS256 serves the demo gateway with a verifier that accepts only
// RS256 tokens from keys published at jwksURL.
func startRS256(tb testing.TB, jwksURL string) string {
	tb.Helper()
	conns, err := demo.Default()
	if err != nil {
		tb.Fatal(err)
	}
	reg, err := connectors.NewRegistry(conns...)
	if err != nil {
		tb.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	v, err := auth.NewVerifier(auth.Config{Keys: auth.NewJWKSURL(jwksURL, nil, auth.WithMinRefresh(0)),
		Issuer: "https://id.plaza.example", Audience: "plaza"})
	if err != nil {
		tb.Fatal(err)
	}
	srv := httptest.NewServer(api.New(gateway.New(reg, gateway.WithLogger(log)), v, log, *production()))
	tb.Cleanup(srv.Close)
	return srv.URL
}

func TestRS256EndToEnd(t *testing.T) {
	oldKey, newKey := authtest.NewKey(t, "2026-01"), authtest.NewKey(t, "2026-02")
	jwks := authtest.ServeJWKS(t, oldKey)
	url := startRS256(t, jwks.URL)
	token := func(k *authtest.Key, user string) http.Header {
		return bearer(k.Token(t, user, "https://id.plaza.example", "plaza", time.Now(), time.Hour))
	}
	post := func(header http.Header, query string, vars map[string]any) *apitest.Response {
		return postTo(t, url, apitest.Request{Query: query, Variables: vars, Header: header})
	}
	orderIDs := func(header http.Header) []string {
		var d struct {
			Me struct {
				Orders conn[idNode] `json:"orders"`
			} `json:"me"`
		}
		resp := post(header, `{ me { orders(first: 50) { edges { node { id } } } } }`, nil)
		if len(resp.Errors) > 0 {
			t.Fatalf("%s", resp.Raw)
		}
		resp.Decode(t, &d)
		var ids []string
		for _, n := range d.Me.Orders.nodes() {
			ids = append(ids, n.ID)
		}
		return ids
	}

	mine := orderIDs(token(oldKey, "demo-1"))
	if len(mine) == 0 {
		t.Fatal("demo-1 has no orders to steal")
	}
	t.Run("me with another user's token lists none of demo-1's orders", func(t *testing.T) {
		for _, id := range orderIDs(token(oldKey, "demo-2")) {
			for _, m := range mine {
				if id == m {
					t.Fatalf("demo-2 sees demo-1's order %s", id)
				}
			}
		}
	})
	t.Run("node and nodes with another user's RS256 token are NOT_FOUND", func(t *testing.T) {
		resp := post(token(oldKey, "demo-2"), `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": mine[0]})
		if string(resp.Data) != `{"node":null}` || len(resp.Errors) != 1 || resp.Errors[0].Code() != "NOT_FOUND" {
			t.Fatalf("%s", resp.Raw)
		}
		resp = post(token(oldKey, "demo-2"), `query($ids: [ID!]!) { nodes(ids: $ids) { id } }`, map[string]any{"ids": []string{mine[0]}})
		if string(resp.Data) != `{"nodes":[null]}` || len(resp.Errors) != 1 || resp.Errors[0].Code() != "NOT_FOUND" {
			t.Fatalf("%s", resp.Raw)
		}
	})
	t.Run("the owner's RS256 token reads it through node", func(t *testing.T) {
		resp := post(token(oldKey, "demo-1"), `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": mine[0]})
		if len(resp.Errors) > 0 || !strings.Contains(string(resp.Data), mine[0]) {
			t.Fatalf("%s", resp.Raw)
		}
	})
	t.Run("a key rotated in at the identity provider is picked up without a restart", func(t *testing.T) {
		if resp := post(token(newKey, "demo-1"), `{ me { id } }`, nil); len(resp.Errors) != 1 || resp.Errors[0].Code() != "UNAUTHENTICATED" {
			t.Fatalf("a key not yet published was accepted: %s", resp.Raw)
		}
		jwks.Publish(oldKey, newKey)
		if resp := post(token(newKey, "demo-1"), `{ me { id } }`, nil); len(resp.Errors) > 0 {
			t.Fatalf("%s", resp.Raw)
		}
	})
	t.Run("an HS256 development token is refused", func(t *testing.T) {
		dev, _ := auth.NewVerifier(auth.Config{Secret: []byte(auth.DevSecret), Issuer: "https://id.plaza.example", Audience: "plaza"})
		tok, _ := dev.Issue("demo-1", time.Hour)
		resp := post(bearer(tok), `{ me { id } }`, nil)
		if len(resp.Errors) != 1 || resp.Errors[0].Code() != "UNAUTHENTICATED" || !strings.Contains(resp.Errors[0].Message, "invalid token") {
			t.Fatalf("%s", resp.Raw)
		}
	})
}

// postTo posts req to the gateway at url and decodes the response.
func postTo(tb testing.TB, url string, req apitest.Request) *apitest.Response {
	tb.Helper()
	body, _ := json.Marshal(req)
	hr, _ := http.NewRequest(http.MethodPost, url+"/query", bytes.NewReader(body))
	hr.Header.Set("Content-Type", "application/json")
	for k, v := range req.Header {
		hr.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(hr)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	out := &apitest.Response{Status: resp.StatusCode, Raw: raw}
	if err := json.Unmarshal(raw, out); err != nil {
		tb.Fatalf("status %d, not JSON: %s", resp.StatusCode, raw)
	}
	return out
}

// TestMetricsOnThePublicPort checks who reads /metrics on the API's port:
// everyone in development; in production only analysts (Prometheus scrapes
// the admin listener), anyone else getting the 404 of a missing page.
func TestMetricsOnThePublicPort(t *testing.T) {
	m := metrics.New()
	opts := []api.Option{api.WithAPIKeys(mustKeys(t)), api.WithMetrics(m.Registry)}
	prod := apitest.Start(t, apitest.Options{API: production(), APIOptions: opts})
	dev := apitest.Start(t, apitest.Options{APIOptions: opts})
	for _, tc := range []struct {
		name   string
		url    string
		header http.Header
		want   int
	}{
		{"development, anyone", dev.URL, nil, http.StatusOK},
		{"production, anonymous", prod.URL, nil, http.StatusNotFound},
		{"production, a signed-in user", prod.URL, http.Header{"Authorization": {"Bearer " + prod.Token("demo-1")}}, http.StatusNotFound},
		{"production, an analyst", prod.URL, analyst(), http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := get(t, tc.url+"/metrics", tc.header)
			if resp.StatusCode != tc.want {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.want)
			}
			if got := strings.Contains(body, "go_goroutines"); got != (tc.want == http.StatusOK) {
				t.Fatalf("metrics in the body: %v; status %d", got, resp.StatusCode)
			}
		})
	}
}
