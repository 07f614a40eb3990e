package telemetry_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/plaza-gateway/plaza/api"
	"github.com/plaza-gateway/plaza/auth"
	"github.com/plaza-gateway/plaza/connectors"
	"github.com/plaza-gateway/plaza/connectors/demo"
	"github.com/plaza-gateway/plaza/gateway"
	"github.com/plaza-gateway/plaza/gid"
	"github.com/plaza-gateway/plaza/metrics"
	"github.com/plaza-gateway/plaza/telemetry"
)

// plaza is the real public handler over demo providers, with everything
// the tests observe: logs in a buffer, metrics, and (optionally) spans in
// memory.
type plaza struct {
	handler  http.Handler
	logs     *syncBuffer
	metrics  *metrics.Metrics
	spans    *tracetest.InMemoryExporter // nil without tracing
	verifier *auth.Verifier
	conns    []connectors.Connector
}

type setup struct {
	tracing bool
	// tracer replaces the in-memory exporter's tracer (benchmarks).
	tracer trace.Tracer
	// logs replaces the buffer (benchmarks write to io.Discard).
	logs  io.Writer
	conns []connectors.Connector // default: demo.Default()
}

func startPlaza(tb testing.TB, s setup) *plaza {
	tb.Helper()
	p := &plaza{logs: &syncBuffer{}, metrics: metrics.New(), conns: s.conns}
	if p.conns == nil {
		p.conns = mustDemo(tb)
	}
	reg, err := connectors.NewRegistry(p.conns...)
	if err != nil {
		tb.Fatal(err)
	}
	var logs io.Writer = p.logs
	if s.logs != nil {
		logs = s.logs
	}
	log := slog.New(telemetry.LogHandler(slog.NewJSONHandler(logs, nil)))
	gwOpts := []gateway.Option{gateway.WithLogger(log), gateway.WithObserver(p.metrics)}
	apiOpts := []api.Option{api.WithMetrics(p.metrics.Registry), api.WithRequestObserver(p.metrics)}
	if s.tracing {
		p.spans = tracetest.NewInMemoryExporter()
		tr := telemetry.NewTracingWith(sdktrace.NewTracerProvider(sdktrace.WithSyncer(p.spans)))
		tb.Cleanup(func() { _ = tr.Shutdown(context.Background()) })
		gwOpts = append(gwOpts, gateway.WithTracer(tr.Tracer()))
		apiOpts = append(apiOpts, api.WithTracer(tr.Tracer()))
	}
	if s.tracer != nil {
		gwOpts = append(gwOpts, gateway.WithTracer(s.tracer))
		apiOpts = append(apiOpts, api.WithTracer(s.tracer))
	}
	gw := gateway.New(reg, gwOpts...)
	if p.verifier, err = auth.NewVerifier(auth.Config{Secret: []byte("test-secret")}); err != nil {
		tb.Fatal(err)
	}
	p.handler = api.New(gw, p.verifier, log, api.DefaultConfig(), apiOpts...)
	return p
}

func mustDemo(tb testing.TB) []connectors.Connector {
	tb.Helper()
	conns, err := demo.Default()
	if err != nil {
		tb.Fatal(err)
	}
	return conns
}

// productID returns the global ID of a product of the first grocery
// provider among conns.
func productID(tb testing.TB, conns []connectors.Connector) string {
	tb.Helper()
	for _, c := range conns {
		g, ok := c.(connectors.Grocery)
		if !ok {
			continue
		}
		page, err := g.SearchProducts(context.Background(), connectors.Query{First: 1})
		if err != nil || len(page.Items) == 0 {
			tb.Fatalf("no product at %s: %v", c.Describe().ID, err)
		}
		return gid.Encode(gid.Product, c.Describe().ID, page.Items[0].ID)
	}
	tb.Fatal("no grocery provider")
	return ""
}

const productQuery = `query ProductDetail($id: ID!) {
  node(id: $id) { id ... on Product { name store { id name } } }
}`

// gqlRequest is one GraphQL POST.
type gqlRequest struct {
	Query         string         `json:"query"`
	OperationName string         `json:"operationName,omitempty"`
	Variables     map[string]any `json:"variables,omitempty"`
	header        http.Header
}

// post serves req in process (so the access line is written when it
// returns) and returns the recorded response.
func (p *plaza) post(tb testing.TB, req gqlRequest) *httptest.ResponseRecorder {
	tb.Helper()
	body, _ := json.Marshal(req)
	hr := httptest.NewRequest(http.MethodPost, "/query", bytes.NewReader(body))
	hr.Header.Set("Content-Type", "application/json")
	for k, v := range req.header {
		hr.Header[k] = v
	}
	return p.serve(hr)
}

func (p *plaza) serve(hr *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	p.handler.ServeHTTP(w, hr)
	return w
}

// accessLines returns the decoded access log lines ("msg":"request").
func (p *plaza) accessLines(tb testing.TB) []map[string]any {
	tb.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(p.logs.String()), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			tb.Fatalf("log line is not JSON: %q", line)
		}
		if m["msg"] == "request" {
			out = append(out, m)
		}
	}
	return out
}

// accessLine returns the one access line of request id.
func (p *plaza) accessLine(tb testing.TB, id string) map[string]any {
	tb.Helper()
	var found []map[string]any
	for _, l := range p.accessLines(tb) {
		if l["request_id"] == id {
			found = append(found, l)
		}
	}
	if len(found) != 1 {
		tb.Fatalf("want 1 access line for request %s, got %d in:\n%s", id, len(found), p.logs.String())
	}
	return found[0]
}

// syncBuffer is a bytes.Buffer safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
