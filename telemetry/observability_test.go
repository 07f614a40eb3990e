package telemetry_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/plaza-gateway/plaza/connectors"
	"github.com/plaza-gateway/plaza/connectors/httpprovider"
	"github.com/plaza-gateway/plaza/gid"
	"github.com/plaza-gateway/plaza/resolvers"
	"github.com/plaza-gateway/plaza/telemetry"
)

func TestAccessLog(t *testing.T) {
	p := startPlaza(t, setup{})
	product := productID(t, p.conns)
	token, err := p.verifier.Issue("demo-1", time.Hour)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("writes one line with the request's fields and echoes the client's request id", func(t *testing.T) {
		w := p.post(t, gqlRequest{Query: productQuery, OperationName: "ProductDetail", Variables: map[string]any{"id": product},
			header: http.Header{"Authorization": {"Bearer " + token}, "X-Request-Id": {"client-req-1"}}})
		if w.Code != http.StatusOK || w.Header().Get("X-Request-Id") != "client-req-1" {
			t.Fatalf("status %d, X-Request-Id %q: %s", w.Code, w.Header().Get("X-Request-Id"), w.Body)
		}
		line := p.accessLine(t, "client-req-1")
		want := map[string]any{"method": "POST", "path": "/query", "status": 200.0, "operation": "ProductDetail", "outcome": "ok", "level": "INFO"}
		for k, v := range want {
			if line[k] != v {
				t.Errorf("%s = %v, want %v", k, line[k], v)
			}
		}
		if calls, _ := line["provider_calls"].(float64); calls < 2 { // the product, then its store
			t.Errorf("provider_calls = %v, want at least 2", line["provider_calls"])
		}
		if d, ok := line["duration_ms"].(float64); !ok || d <= 0 {
			t.Errorf("duration_ms = %v, want a positive number", line["duration_ms"])
		}
		if _, ok := line["errors"]; ok {
			t.Errorf("errors = %v on a successful request", line["errors"])
		}
	})

	t.Run("never writes the token, the variables or the document", func(t *testing.T) {
		logs := p.logs.String()
		for _, secret := range []string{token, "Bearer", product, "node(id:", "$id"} {
			if strings.Contains(logs, secret) {
				t.Errorf("logs contain %q:\n%s", secret, logs)
			}
		}
	})

	t.Run("replaces a malformed request id with a generated one", func(t *testing.T) {
		w := p.post(t, gqlRequest{Query: `{ __typename }`, header: http.Header{"X-Request-Id": {`evil" id=1`}}})
		id := w.Header().Get("X-Request-Id")
		if id == "" || strings.Contains(id, "evil") {
			t.Fatalf("X-Request-Id %q", id)
		}
		if line := p.accessLine(t, id); line["operation"] != "anonymous" || line["outcome"] != "ok" {
			t.Errorf("anonymous query logged as %v / %v", line["operation"], line["outcome"])
		}
	})

	t.Run("labels an operation name outside the bound as other", func(t *testing.T) {
		long := "Q" + strings.Repeat("x", 64)
		w := p.post(t, gqlRequest{Query: "query " + long + " { __typename }"})
		if line := p.accessLine(t, w.Header().Get("X-Request-Id")); line["operation"] != "other" {
			t.Errorf("operation = %v, want other", line["operation"])
		}
		if strings.Contains(p.logs.String(), long) {
			t.Error("logs contain the unbounded operation name")
		}
	})

	t.Run("records a validation failure as an error of the named operation with its code", func(t *testing.T) {
		w := p.post(t, gqlRequest{Query: `query Bad { noSuchField }`, OperationName: "Bad"})
		line := p.accessLine(t, w.Header().Get("X-Request-Id"))
		// No Accept header means application/json: a request error is 200
		// with errors (GraphQL over HTTP), yet the access log counts it failed.
		if line["operation"] != "Bad" || line["outcome"] != "error" || w.Code != http.StatusOK {
			t.Errorf("operation %v outcome %v status %d", line["operation"], line["outcome"], w.Code)
		}
		if codes, _ := line["errors"].([]any); len(codes) != 1 || codes[0] != "GRAPHQL_VALIDATION_FAILED" {
			t.Errorf("errors = %v, want [GRAPHQL_VALIDATION_FAILED]", line["errors"])
		}
	})

	t.Run("records a document refused before the GraphQL layer as an error of operation other", func(t *testing.T) {
		w := p.post(t, gqlRequest{Query: `query Broken { node(id: `, OperationName: "Broken"})
		line := p.accessLine(t, w.Header().Get("X-Request-Id"))
		if line["operation"] != "other" || line["outcome"] != "error" || w.Code != http.StatusOK {
			t.Errorf("operation %v outcome %v status %d", line["operation"], line["outcome"], w.Code)
		}
		if codes, _ := line["errors"].([]any); len(codes) != 1 || codes[0] != "GRAPHQL_PARSE_FAILED" {
			t.Errorf("errors = %v, want [GRAPHQL_PARSE_FAILED]", line["errors"])
		}
	})

	t.Run("records data with errors as partial", func(t *testing.T) {
		w := p.post(t, gqlRequest{Query: `query Two($a: ID!, $b: ID!) { a: node(id: $a) { id } b: node(id: $b) { id } }`,
			Variables: map[string]any{"a": product, "b": productOf("nosuchprovider")}})
		line := p.accessLine(t, w.Header().Get("X-Request-Id"))
		if line["outcome"] != "partial" {
			t.Errorf("outcome = %v, want partial: %s", line["outcome"], w.Body)
		}
		if codes, _ := line["errors"].([]any); len(codes) == 0 {
			t.Errorf("no error codes: %v", line)
		}
	})
}

func productOf(provider string) string { return gid.Encode(gid.Product, provider, "p1") }

func decodeProvider(tb testing.TB, id string) string {
	tb.Helper()
	d, err := gid.Decode(id)
	if err != nil {
		tb.Fatal(err)
	}
	return d.Provider
}

func TestRequestIDReachesResolverPanicLog(t *testing.T) {
	var buf syncBuffer
	log := slog.New(telemetry.LogHandler(slog.NewJSONHandler(&buf, nil)))
	recoverFn := resolvers.Recover(log)
	h := telemetry.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = recoverFn(r.Context(), "boom")
		w.WriteHeader(http.StatusInternalServerError)
	}), slog.New(slog.DiscardHandler))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/query", nil))
	id := w.Header().Get("X-Request-Id")
	var line map[string]any
	if err := json.Unmarshal([]byte(buf.String()), &line); err != nil {
		t.Fatalf("panic log %q: %v", buf.String(), err)
	}
	if line["msg"] != "resolver panic" || line["request_id"] != id || id == "" {
		t.Fatalf("panic line %v, want request_id %q", line, id)
	}
}

func TestMetricsAfterRequests(t *testing.T) {
	p := startPlaza(t, setup{})
	product := productID(t, p.conns)
	for range 2 {
		p.post(t, gqlRequest{Query: productQuery, Variables: map[string]any{"id": product}})
	}
	p.post(t, gqlRequest{Query: `{ __typename }`})
	p.post(t, gqlRequest{Query: `query Bad { noSuchField }`, OperationName: "Bad"})
	p.post(t, gqlRequest{Query: `query Broken {`})
	p.post(t, gqlRequest{Query: "query Q" + strings.Repeat("x", 80) + " { __typename }"})

	w := p.serve(httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if w.Code != http.StatusOK {
		t.Fatalf("/metrics: %d", w.Code)
	}
	series := parseMetrics(t, w.Body.String())
	provider := decodeProvider(t, product)
	checks := []struct {
		series  string
		atLeast float64
		atMost  float64
	}{
		{`plaza_graphql_requests_total{operation="ProductDetail",outcome="ok"}`, 2, 2},
		{`plaza_graphql_request_duration_seconds_count{operation="ProductDetail",outcome="ok"}`, 2, 2},
		{`plaza_graphql_request_duration_seconds_sum{operation="ProductDetail",outcome="ok"}`, 1e-6, 10},
		{`plaza_graphql_requests_total{operation="anonymous",outcome="ok"}`, 1, 1},
		{`plaza_graphql_requests_total{operation="Bad",outcome="error"}`, 1, 1},
		{`plaza_graphql_requests_total{operation="other",outcome="error"}`, 1, 1}, // refused by the parser
		{`plaza_graphql_requests_total{operation="other",outcome="ok"}`, 1, 1},    // name over 64 characters
		{`plaza_http_requests_in_flight`, 1, 1},                                   // the scrape itself
		{`plaza_connector_calls_total{operation="Products",outcome="ok",vertical="GROCERY"}`, 2, 2},
		{`plaza_connector_call_duration_seconds_count{operation="Products",vertical="GROCERY"}`, 2, 2},
		{`plaza_loader_batch_keys_count{operation="Products"}`, 2, 2},
		{`go_goroutines`, 1, 1e6},
	}
	for _, c := range checks {
		v, ok := series[c.series]
		if !ok {
			t.Errorf("missing %s", c.series)
			continue
		}
		if v < c.atLeast || v > c.atMost {
			t.Errorf("%s = %v, want in [%v, %v]", c.series, v, c.atLeast, c.atMost)
		}
	}
	for s := range series {
		if strings.Contains(s, "Qxxx") {
			t.Errorf("unbounded operation name became a series: %s", s)
		}
		if strings.Contains(s, provider) || strings.Contains(s, "provider=") {
			t.Errorf("a provider became a label: %s", s)
		}
	}
}

// parseMetrics reads the Prometheus text format into series -> value.
func parseMetrics(tb testing.TB, text string) map[string]float64 {
	tb.Helper()
	out := map[string]float64{}
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			tb.Fatalf("metrics line %q: %v", line, err)
		}
		out[line[:i]] = v
	}
	return out
}

func TestTracing(t *testing.T) {
	// freshcart is served over the HTTP contract from a real listener, so
	// the test sees the traceparent it receives.
	var (
		mu           sync.Mutex
		traceparents []string
	)
	var conns []connectors.Connector
	var remote connectors.Connector
	for _, c := range mustDemo(t) {
		if c.Describe().ID == "freshcart" {
			remote = c
			continue
		}
		conns = append(conns, c)
	}
	contract := httpprovider.NewHandler(remote, "s3cret")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		traceparents = append(traceparents, r.Header.Get("Traceparent"))
		mu.Unlock()
		contract.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	client, err := httpprovider.New(httpprovider.Config{ID: "freshcart", Vertical: connectors.VerticalGrocery, BaseURL: srv.URL, Secret: "s3cret"})
	if err != nil {
		t.Fatal(err)
	}
	conns = append(conns, client)
	p := startPlaza(t, setup{tracing: true, conns: conns})
	product := productID(t, []connectors.Connector{remote})

	clientTrace := "4bf92f3577b34da6a3ce929d0e0e4736"
	w := p.post(t, gqlRequest{Query: productQuery, OperationName: "ProductDetail", Variables: map[string]any{"id": product},
		header: http.Header{"Traceparent": {"00-" + clientTrace + "-00f067aa0ba902b7-01"}}})
	if w.Code != http.StatusOK || strings.Contains(w.Body.String(), `"errors"`) {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	spans := p.spans.GetSpans()

	server := findSpan(t, spans, func(s tracetest.SpanStub) bool { return s.SpanKind == trace.SpanKindServer })
	t.Run("continues the client's trace with a server span", func(t *testing.T) {
		if server.Name != "POST /query" || server.SpanContext.TraceID().String() != clientTrace ||
			server.Parent.SpanID().String() != "00f067aa0ba902b7" || !server.Parent.IsRemote() {
			t.Errorf("server span %q trace %s parent %s", server.Name, server.SpanContext.TraceID(), server.Parent.SpanID())
		}
		if attr(server, "http.response.status_code") != "200" || attr(server, "http.route") != "/query" {
			t.Errorf("server span attributes %v", server.Attributes)
		}
	})

	op := findSpan(t, spans, func(s tracetest.SpanStub) bool { return s.Name == "query ProductDetail" })
	t.Run("wraps the operation in a child span with its name and cost", func(t *testing.T) {
		if op.Parent.SpanID() != server.SpanContext.SpanID() {
			t.Errorf("operation span's parent is %s, want the server span", op.Parent.SpanID())
		}
		if attr(op, "graphql.operation.name") != "ProductDetail" || attr(op, "plaza.outcome") != "ok" {
			t.Errorf("operation span attributes %v", op.Attributes)
		}
		if n, _ := strconv.Atoi(attr(op, "plaza.provider_calls")); n < 2 {
			t.Errorf("plaza.provider_calls = %q", attr(op, "plaza.provider_calls"))
		}
	})

	var calls []tracetest.SpanStub
	for _, s := range spans {
		if s.SpanKind == trace.SpanKindClient {
			calls = append(calls, s)
		}
	}
	t.Run("adds a child span per connector call with provider, operation and keys", func(t *testing.T) {
		ops := map[string]bool{}
		for _, c := range calls {
			if c.Parent.SpanID() != op.SpanContext.SpanID() {
				t.Errorf("%s: parent %s, want the operation span", c.Name, c.Parent.SpanID())
			}
			if attr(c, "plaza.provider") != "freshcart" || attr(c, "plaza.keys") != "1" {
				t.Errorf("%s attributes %v", c.Name, c.Attributes)
			}
			ops[attr(c, "plaza.operation")] = true
		}
		if !ops["Products"] || !ops["Stores"] {
			t.Errorf("connector spans for %v, want Products and Stores", ops)
		}
	})

	t.Run("sends the HTTP provider a traceparent of the connector call", func(t *testing.T) {
		mu.Lock()
		defer mu.Unlock()
		re := regexp.MustCompile(`^00-([0-9a-f]{32})-([0-9a-f]{16})-01$`)
		if len(traceparents) != len(calls) || len(calls) == 0 {
			t.Fatalf("provider saw %d requests, gateway made %d calls", len(traceparents), len(calls))
		}
		callIDs := map[string]bool{}
		for _, c := range calls {
			callIDs[c.SpanContext.SpanID().String()] = true
		}
		for _, tp := range traceparents {
			m := re.FindStringSubmatch(tp)
			if m == nil || m[1] != clientTrace || !callIDs[m[2]] {
				t.Errorf("traceparent %q: want trace %s and a connector call's span as parent", tp, clientTrace)
			}
		}
	})
}

func findSpan(tb testing.TB, spans tracetest.SpanStubs, match func(tracetest.SpanStub) bool) tracetest.SpanStub {
	tb.Helper()
	var found []tracetest.SpanStub
	for _, s := range spans {
		if match(s) {
			found = append(found, s)
		}
	}
	if len(found) != 1 {
		names := make([]string, len(spans))
		for i, s := range spans {
			names[i] = s.Name
		}
		tb.Fatalf("want 1 matching span, got %d among %v", len(found), names)
	}
	return found[0]
}

func attr(s tracetest.SpanStub, key string) string {
	for _, a := range s.Attributes {
		if a.Key == attribute.Key(key) {
			return a.Value.Emit()
		}
	}
	return ""
}

func TestTracingOffRecordsNothing(t *testing.T) {
	p := startPlaza(t, setup{})
	w := p.post(t, gqlRequest{Query: productQuery, Variables: map[string]any{"id": productID(t, p.conns)},
		header: http.Header{"Traceparent": {"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}}})
	if w.Code != http.StatusOK {
		t.Fatalf("status %d", w.Code)
	}
	if line := p.accessLines(t); len(line) != 1 || line[0]["trace_id"] != nil {
		t.Errorf("access lines %v: want one, without trace_id", line)
	}
	off, err := telemetry.NewTracing(context.Background(), telemetry.TracingConfig{})
	if err != nil || off.Enabled() || off.Tracer() != nil || off.Shutdown(context.Background()) != nil {
		t.Errorf("tracing without endpoint: enabled=%v err=%v", off.Enabled(), err)
	}
}

func TestAdminListenerOnly(t *testing.T) {
	p := startPlaza(t, setup{})
	admin := telemetry.AdminHandler(p.metrics.Handler())
	for _, path := range []string{"/debug/pprof/", "/debug/pprof/heap", "/debug/pprof/cmdline"} {
		t.Run("public handler does not serve "+path, func(t *testing.T) {
			if w := p.serve(httptest.NewRequest(http.MethodGet, path, nil)); w.Code != http.StatusNotFound {
				t.Errorf("public %s: %d, want 404", path, w.Code)
			}
		})
		t.Run("admin handler serves "+path, func(t *testing.T) {
			w := httptest.NewRecorder()
			admin.ServeHTTP(w, httptest.NewRequest(http.MethodGet, path, nil))
			if w.Code != http.StatusOK {
				t.Errorf("admin %s: %d, want 200", path, w.Code)
			}
		})
	}
	t.Run("admin handler serves metrics", func(t *testing.T) {
		w := httptest.NewRecorder()
		admin.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/metrics", nil))
		if w.Code != http.StatusOK || !bytes.Contains(w.Body.Bytes(), []byte("plaza_http_requests_in_flight")) {
			t.Errorf("admin /metrics: %d", w.Code)
		}
	})
}
