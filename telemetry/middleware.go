package telemetry

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
	"go.opentelemetry.io/otel/trace"
)

// RequestIDHeader carries the request id: accepted from the client (or a
// proxy in front) when well-formed, generated otherwise, and always echoed.
const RequestIDHeader = "X-Request-Id"

// Observer is told about requests (metrics).
type Observer interface {
	// InFlight adds delta (+1 when a request starts, -1 when it ends) to the
	// number of requests being served.
	InFlight(delta int)
	// ObserveOperation records one finished GraphQL request. operation is
	// already bounded by OperationLabel.
	ObserveOperation(operation, outcome string, d time.Duration)
}

// MiddlewareOption configures Middleware.
type MiddlewareOption func(*middleware)

// WithTracer starts a server span per request, continuing the client's
// trace when it sends a W3C traceparent. nil (the default) means no spans.
func WithTracer(t trace.Tracer) MiddlewareOption { return func(m *middleware) { m.tracer = t } }

// WithObserver reports in-flight requests and finished GraphQL requests.
func WithObserver(o Observer) MiddlewareOption { return func(m *middleware) { m.obs = o } }

// WithGraphQLPath names the GraphQL endpoint (default "/query"): GET and
// POST requests to it count as GraphQL requests even when they are refused
// before the GraphQL layer sees them (body or shape limits).
func WithGraphQLPath(p string) MiddlewareOption { return func(m *middleware) { m.graphqlPath = p } }

// WithRequestIDs replaces the request id generator (default: a random
// per-process prefix and a counter). next must be safe for concurrent use.
func WithRequestIDs(next func() string) MiddlewareOption {
	return func(m *middleware) { m.newID = next }
}

// WithClock injects the clock that times requests (default time.Now).
func WithClock(now func() time.Time) MiddlewareOption { return func(m *middleware) { m.now = now } }

type middleware struct {
	next        http.Handler
	log         *slog.Logger
	tracer      trace.Tracer
	obs         Observer
	graphqlPath string
	newID       func() string
	now         func() time.Time
}

// Middleware wraps next with what every request gets: a request id (in the
// context, see RequestIDFrom, and the X-Request-Id response header), a server
// span when a tracer is set, the in-flight gauge and GraphQL request metrics
// when an observer is set, and one access log line on log.
//
// The access line has request_id, method, path, status and duration_ms; for
// GraphQL requests also operation (see OperationLabel), outcome,
// provider_calls, cache_hits, cache_misses and errors (the error codes). It
// never has headers, the query string, the GraphQL document or variables:
// they carry tokens and personal data.
func Middleware(next http.Handler, log *slog.Logger, opts ...MiddlewareOption) http.Handler {
	m := &middleware{next: next, log: log, graphqlPath: "/query", now: time.Now}
	for _, o := range opts {
		o(m)
	}
	if m.newID == nil {
		m.newID = NewRequestIDs(rand.Reader)
	}
	return m
}

func (m *middleware) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := m.now()
	if m.obs != nil {
		m.obs.InFlight(1)
	}
	rec := &recorder{ResponseWriter: w}
	rec.req.id = r.Header.Get(RequestIDHeader)
	if !validRequestID(rec.req.id) {
		rec.req.id = m.newID()
	}
	rec.req.graphql = r.URL.Path == m.graphqlPath && (r.Method == http.MethodPost || r.Method == http.MethodGet)
	w.Header().Set(RequestIDHeader, rec.req.id)

	ctx := context.WithValue(r.Context(), requestKey{}, &rec.req)
	var span trace.Span
	if m.tracer != nil {
		ctx = propagation.TraceContext{}.Extract(ctx, propagation.HeaderCarrier(r.Header))
		ctx, span = m.tracer.Start(ctx, r.Method, trace.WithSpanKind(trace.SpanKindServer),
			trace.WithAttributes(semconv.HTTPRequestMethodKey.String(r.Method), semconv.URLPath(r.URL.Path)))
	}
	inner := r.WithContext(ctx)
	defer func() {
		// A panicking handler is answered 500 by net/http; account for it
		// the same way, then let the panic continue.
		p := recover()
		if p != nil && rec.status == 0 {
			rec.status = http.StatusInternalServerError
		}
		m.finish(r, inner, rec, span, m.now().Sub(start))
		if p != nil {
			panic(p)
		}
	}()
	m.next.ServeHTTP(rec, inner)
}

// finish ends the span, reports metrics and writes the access line. outer is
// the request as received (its context has no request id, so a LogHandler
// does not add the id a second time), inner as served (its Pattern is the
// matched route).
func (m *middleware) finish(outer, inner *http.Request, rec *recorder, span trace.Span, d time.Duration) {
	status := rec.status
	if status == 0 {
		status = http.StatusOK
	}
	q := &rec.req
	q.mu.Lock()
	graphql, op, outcome, sum, errCodes := q.graphql, OperationLabel(q.name), q.outcome, q.summary, q.codes
	if !q.named {
		op = "other"
	}
	q.mu.Unlock()
	if graphql && outcome == "" {
		outcome = OutcomeOK
		if status >= 400 {
			outcome = OutcomeError
		}
	}
	if span != nil {
		route := routeOf(inner.Pattern)
		name := outer.Method
		if route != "" {
			name += " " + route
			span.SetAttributes(semconv.HTTPRoute(route))
		}
		span.SetName(name)
		span.SetAttributes(semconv.HTTPResponseStatusCode(status), attribute.String("plaza.request_id", q.id))
		if status >= 500 {
			span.SetStatus(codes.Error, http.StatusText(status))
		}
		span.End()
	}
	if m.obs != nil {
		m.obs.InFlight(-1)
		if graphql {
			m.obs.ObserveOperation(op, string(outcome), d)
		}
	}
	level := slog.LevelInfo
	if status >= 500 {
		level = slog.LevelError
	}
	ctx := outer.Context()
	if !m.log.Enabled(ctx, level) {
		return
	}
	attrs := make([]slog.Attr, 0, 12)
	attrs = append(attrs,
		slog.String("request_id", q.id),
		slog.String("method", outer.Method),
		slog.String("path", outer.URL.Path),
		slog.Int("status", status),
		slog.Float64("duration_ms", float64(d.Microseconds())/1000),
	)
	if graphql {
		attrs = append(attrs,
			slog.String("operation", op),
			slog.String("outcome", string(outcome)),
			slog.Int("provider_calls", sum.ProviderCalls),
			slog.Int("cache_hits", sum.CacheHits),
			slog.Int("cache_misses", sum.CacheMisses),
		)
		if len(errCodes) > 0 {
			attrs = append(attrs, slog.Any("errors", errCodes))
		}
	}
	if span != nil && span.SpanContext().IsValid() {
		attrs = append(attrs, slog.String("trace_id", span.SpanContext().TraceID().String()))
	}
	m.log.LogAttrs(ctx, level, "request", attrs...)
}

// routeOf turns a ServeMux pattern ("GET /healthz", "/query") into the route
// ("/healthz", "/query"); "" when nothing matched (404), so unknown paths do
// not become span names.
func routeOf(pattern string) string {
	if i := strings.IndexByte(pattern, ' '); i >= 0 {
		pattern = pattern[i+1:]
	}
	if i := strings.IndexByte(pattern, '/'); i > 0 { // host-qualified pattern
		pattern = pattern[i:]
	}
	return pattern
}

// validRequestID accepts ids a client or proxy may set: 1 to 64 of
// [A-Za-z0-9._:-]. Anything else is replaced, so the header cannot inject
// text into the logs.
func validRequestID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == ':' || c == '-') {
			return false
		}
	}
	return true
}

// NewRequestIDs returns a generator of unique request ids: a prefix of 8
// bytes read from random (hex), a dash and a counter. A counter costs one
// small allocation per id, where reading randomness per request would cost
// a system call.
func NewRequestIDs(random io.Reader) func() string {
	var b [8]byte
	if _, err := io.ReadFull(random, b[:]); err != nil {
		// Uniqueness within the process still holds; across processes the
		// start time keeps prefixes apart.
		copy(b[:], strconv.FormatInt(time.Now().UnixNano(), 36))
	}
	prefix := hex.EncodeToString(b[:]) + "-"
	var n atomic.Uint64
	return func() string {
		var buf [40]byte
		out := append(buf[:0], prefix...)
		return string(strconv.AppendUint(out, n.Add(1), 10))
	}
}

// recorder remembers the status a handler wrote; it also holds the request's
// record so both cost one allocation.
type recorder struct {
	http.ResponseWriter
	status int
	req    Request
}

func (w *recorder) WriteHeader(code int) {
	if w.status == 0 && code >= 200 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *recorder) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Flush lets streaming transports flush through the recorder.
func (w *recorder) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		if w.status == 0 {
			w.status = http.StatusOK
		}
		f.Flush()
	}
}

// Unwrap gives http.ResponseController the underlying writer.
func (w *recorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }
