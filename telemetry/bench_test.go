package telemetry_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/plaza-gateway/plaza/connectors"
	"github.com/plaza-gateway/plaza/gateway"
	"github.com/plaza-gateway/plaza/metrics"
	"github.com/plaza-gateway/plaza/telemetry"
)

// tracers are the settings compared: off (nil tracer, the default), a no-op
// tracer, and the SDK recording every span (exported synchronously to a
// no-op exporter, so the figure is the cost of recording, not of I/O).
func tracers(b *testing.B) []struct {
	name   string
	tracer trace.Tracer
} {
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(tracetest.NewNoopExporter()))
	b.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	return []struct {
		name   string
		tracer trace.Tracer
	}{
		{"tracing=off", nil},
		{"tracing=noop", noop.NewTracerProvider().Tracer("")},
		{"tracing=sdk", tp.Tracer("plaza")},
	}
}

// BenchmarkHandler serves the product page query through the whole public
// handler (middleware, access log as JSON, metrics, GraphQL, demo
// providers), in process.
func BenchmarkHandler(b *testing.B) {
	for _, tc := range tracers(b) {
		b.Run(tc.name, func(b *testing.B) {
			p := startPlaza(b, setup{tracer: tc.tracer, logs: io.Discard})
			body, _ := json.Marshal(gqlRequest{Query: productQuery, OperationName: "ProductDetail",
				Variables: map[string]any{"id": productID(b, p.conns)}})
			b.ReportAllocs()
			for b.Loop() {
				r := httptest.NewRequest(http.MethodPost, "/query", bytes.NewReader(body))
				r.Header.Set("Content-Type", "application/json")
				w := httptest.NewRecorder()
				p.handler.ServeHTTP(w, r)
				if w.Code != http.StatusOK {
					b.Fatalf("status %d", w.Code)
				}
			}
		})
	}
}

// BenchmarkConnectorCall measures one call through Gateway.call (a store's
// product search at a demo provider).
func BenchmarkConnectorCall(b *testing.B) {
	conns := mustDemo(b)
	reg, err := connectors.NewRegistry(conns...)
	if err != nil {
		b.Fatal(err)
	}
	store := storeKey(b, conns)
	for _, tc := range tracers(b) {
		b.Run(tc.name, func(b *testing.B) {
			gw := gateway.New(reg, gateway.WithTracer(tc.tracer))
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := gw.StoreProducts(ctx, store, connectors.Query{First: 5}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func storeKey(tb testing.TB, conns []connectors.Connector) gateway.Key {
	tb.Helper()
	for _, c := range conns {
		if g, ok := c.(connectors.Grocery); ok {
			page, err := g.SearchStores(context.Background(), connectors.Query{First: 1})
			if err != nil || len(page.Items) == 0 {
				tb.Fatalf("no store: %v", err)
			}
			return gateway.Key{Provider: c.Describe().ID, ID: page.Items[0].ID}
		}
	}
	tb.Fatal("no grocery provider")
	return gateway.Key{}
}

// BenchmarkMiddleware is the middleware's own cost per request: id, context,
// status recorder, metrics and the JSON access line (to io.Discard).
func BenchmarkMiddleware(b *testing.B) {
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) })
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	for _, tc := range []struct {
		name string
		h    http.Handler
	}{
		{"none", ok},
		{"middleware", telemetry.Middleware(ok, log, telemetry.WithObserver(metrics.New()))},
	} {
		b.Run(tc.name, func(b *testing.B) {
			r := httptest.NewRequest(http.MethodPost, "/query", nil)
			b.ReportAllocs()
			for b.Loop() {
				tc.h.ServeHTTP(httptest.NewRecorder(), r)
			}
		})
	}
}
