// Package apitest starts a real Plaza handler for tests and posts GraphQL
// documents to it the way a client does: over HTTP, as JSON.
package apitest

import (
	"bytes"
	"context"
	"encoding/json"
	"github.com/plaza-gateway/plaza/catalog"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/plaza-gateway/plaza/api"
	"github.com/plaza-gateway/plaza/auth"
	"github.com/plaza-gateway/plaza/connectors"
	"github.com/plaza-gateway/plaza/connectors/demo"
	"github.com/plaza-gateway/plaza/gateway"
	"github.com/plaza-gateway/plaza/idempotency"
	"github.com/plaza-gateway/plaza/supply"
)

// Gateway is a running Plaza over loopback.
type Gateway struct {
	URL      string
	GW       *gateway.Gateway
	Verifier *auth.Verifier
	Server   *httptest.Server
	// Index is the supply index search reads (nil with FanOut): a test
	// that adds providers publishes their catalogues to it.
	Index supply.Index
	tb    testing.TB
}

// Options tune the gateway under test.
type Options struct {
	// Connectors replaces the default demo providers.
	Connectors []connectors.Connector
	// Registry, when set, is what the gateway routes by instead of a
	// registry of Connectors (a directory's view, say); Connectors then
	// only feed the default index.
	Registry *connectors.Registry
	// Gateway options (policy, cache, config...).
	GatewayOptions []gateway.Option
	API            *api.Config
	// APIOptions are passed to api.New (shared cache, secrets, metrics...).
	APIOptions []api.Option
	// Logger replaces the default, which formats every line (access logs
	// included) and discards it.
	Logger *slog.Logger
	// FanOut serves search and the lists by asking every provider, as
	// before the supply index. By default they read an embedded index fed
	// once, at start, from the providers' catalogues (demo.CatalogItems),
	// as `go run .` does.
	FanOut bool
	// Index, when set, is the index search reads (not fed here).
	Index supply.Index
}

// Start builds the real handler over the demo providers (or opts.Connectors)
// and serves it on a free loopback port until the test ends.
func Start(tb testing.TB, opts Options) *Gateway {
	tb.Helper()
	conns := opts.Connectors
	if conns == nil {
		var err error
		if conns, err = demo.Default(); err != nil {
			tb.Fatalf("demo providers: %v", err)
		}
	}
	reg := opts.Registry
	if reg == nil {
		var err error
		if reg, err = connectors.NewRegistry(conns...); err != nil {
			tb.Fatalf("registry: %v", err)
		}
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	base := []gateway.Option{gateway.WithLogger(log), gateway.WithIdempotency(idempotency.NewMemory(nil))}
	var ix supply.Index
	if !opts.FanOut {
		ix = opts.Index
		switch {
		case ix != nil:
		case opts.Connectors == nil:
			ix = DemoIndex(tb)
		default:
			ix = FedIndex(tb, conns)
		}
		base = append(base, gateway.WithIndex(ix))
	}
	gw := gateway.New(reg, append(base, opts.GatewayOptions...)...)
	v, err := auth.NewVerifier(auth.Config{Secret: []byte("test-secret")})
	if err != nil {
		tb.Fatal(err)
	}
	cfg := api.DefaultConfig()
	if opts.API != nil {
		cfg = *opts.API
	}
	srv := httptest.NewServer(api.New(gw, v, log, cfg, opts.APIOptions...))
	tb.Cleanup(srv.Close)
	return &Gateway{URL: srv.URL, GW: gw, Verifier: v, Server: srv, Index: ix, tb: tb}
}

// DemoIndex is the index of the default demo providers' catalogues, fed
// once per test process and shared by every gateway over them, and by
// tests whose providers serve the demo data but misbehave (their
// catalogues were published before): the catalogues are the same for
// every instance (derived from their descriptors and the default seed),
// no gateway here writes to it, and feeding it costs seconds under -race.
// A test that publishes or deletes items feeds an index of its own
// (FedIndex).
func DemoIndex(tb testing.TB) supply.Index {
	tb.Helper()
	demoIndexOnce.Do(func() {
		conns, err := demo.Default()
		if err != nil {
			demoIndexErr = err
			return
		}
		ix, err := supply.NewMemory()
		if err != nil {
			demoIndexErr = err
			return
		}
		if demoIndexErr = demo.PublishNow(context.Background(), conns, catalog.New(ix, nil)); demoIndexErr == nil {
			demoIndexErr = ix.Compact(context.Background()) // as the shipped binary after its start-up feed
		}
		demoIndexShared = ix
	})
	if demoIndexErr != nil {
		tb.Fatalf("the demo providers' index: %v", demoIndexErr)
	}
	return demoIndexShared
}

var (
	demoIndexOnce   sync.Once
	demoIndexShared *supply.Memory
	demoIndexErr    error
)

// FedIndex returns an embedded supply index holding the catalogues of conns
// as the demo providers publish them through the ingest (demo.PublishNow,
// as `go run .` does), closed when the test ends. A provider that fails to
// list its catalogue (a test's faulty provider) is left out of the index.
func FedIndex(tb testing.TB, conns []connectors.Connector) *supply.Memory {
	tb.Helper()
	ix, err := supply.NewMemory()
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = ix.Close() })
	if err := demo.PublishNow(context.Background(), conns, catalog.New(ix, nil)); err != nil {
		tb.Logf("catalogues: %v", err)
	}
	if err := ix.Compact(context.Background()); err != nil { // as the shipped binary after its start-up feed
		tb.Fatal(err)
	}
	return ix
}

// Token returns a valid bearer token for user.
func (g *Gateway) Token(user string) string {
	g.tb.Helper()
	t, err := g.Verifier.Issue(user, time.Hour)
	if err != nil {
		g.tb.Fatal(err)
	}
	return t
}

// Request is one GraphQL request.
type Request struct {
	Query         string         `json:"query"`
	Variables     map[string]any `json:"variables,omitempty"`
	OperationName string         `json:"operationName,omitempty"`
	// Extensions are the request's extensions (persistedQuery).
	Extensions map[string]any `json:"extensions,omitempty"`
	// User signs the request in as this user when set.
	User string `json:"-"`
	// Debug sends `Plaza-Debug: calls`.
	Debug bool `json:"-"`
	// Header adds raw headers.
	Header http.Header `json:"-"`
}

// Error is one GraphQL error as the client sees it.
type Error struct {
	Message    string         `json:"message"`
	Path       []any          `json:"path"`
	Extensions map[string]any `json:"extensions"`
}

// Code returns extensions.code.
func (e Error) Code() string { s, _ := e.Extensions["code"].(string); return s }

// Response is a decoded GraphQL response.
type Response struct {
	Status     int
	Data       json.RawMessage `json:"data"`
	Errors     []Error         `json:"errors"`
	Extensions struct {
		Plaza struct {
			Calls    []gateway.Call       `json:"calls"`
			Cache    []gateway.CacheCount `json:"cache"`
			Degraded []gateway.Degraded   `json:"degraded"`
			Stale    []string             `json:"stale"`
		} `json:"plaza"`
	} `json:"extensions"`
	Raw []byte
}

// Decode unmarshals Data into v.
func (r *Response) Decode(tb testing.TB, v any) {
	tb.Helper()
	if err := json.Unmarshal(r.Data, v); err != nil {
		tb.Fatalf("decode data: %v\n%s", err, r.Raw)
	}
}

// Post sends req and decodes the response, whatever its status.
func (g *Gateway) Post(req Request) *Response {
	g.tb.Helper()
	body, _ := json.Marshal(req)
	hr, _ := http.NewRequest(http.MethodPost, g.URL+"/query", bytes.NewReader(body))
	hr.Header.Set("Content-Type", "application/json")
	for k, vs := range req.Header {
		hr.Header[k] = vs
	}
	if req.User != "" {
		hr.Header.Set("Authorization", "Bearer "+g.Token(req.User))
	}
	if req.Debug {
		hr.Header.Set(api.DebugHeader, "calls")
	}
	resp, err := http.DefaultClient.Do(hr)
	if err != nil {
		g.tb.Fatalf("post: %v", err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	out := &Response{Status: resp.StatusCode, Raw: raw}
	if err := json.Unmarshal(raw, out); err != nil {
		g.tb.Fatalf("response is not JSON (status %d): %v\n%s", resp.StatusCode, err, raw)
	}
	return out
}

// MustPost is Post that fails the test on any GraphQL error.
func (g *Gateway) MustPost(req Request) *Response {
	g.tb.Helper()
	r := g.Post(req)
	if r.Status != http.StatusOK || len(r.Errors) > 0 {
		g.tb.Fatalf("status %d, errors: %s", r.Status, r.Raw)
	}
	return r
}

// CallCount returns how many connector calls of op were made (any provider).
func (r *Response) CallCount(op string) (calls int, providers map[string]int) {
	providers = map[string]int{}
	for _, c := range r.Extensions.Plaza.Calls {
		if c.Operation == op {
			calls++
			providers[c.Provider]++
		}
	}
	return calls, providers
}
