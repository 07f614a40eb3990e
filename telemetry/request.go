package telemetry

import (
	"context"
	"log/slog"
	"sync"

	"go.opentelemetry.io/otel/trace"
)

// Outcome is how a GraphQL request ended.
type Outcome string

const (
	OutcomeOK      Outcome = "ok"      // data and no errors
	OutcomePartial Outcome = "partial" // data and errors (some providers failed)
	OutcomeError   Outcome = "error"   // errors and no data, or refused before execution
)

// Request is what one HTTP request did, as far as the access log and the
// request metrics care. The middleware creates it; the GraphQL extension
// fills in the operation and its result. Safe for concurrent use.
type Request struct {
	id string

	mu      sync.Mutex
	graphql bool
	named   bool   // the GraphQL layer saw the operation parameters
	name    string // operation name as the client sent it; labelled later
	outcome Outcome
	summary Summary
	codes   []string
}

// Summary is what serving an operation cost, for the access log and the
// operation span.
type Summary struct {
	ProviderCalls int
	CacheHits     int
	CacheMisses   int
}

type requestKey struct{}

// RequestFrom returns the request's record, if the middleware is mounted.
func RequestFrom(ctx context.Context) (*Request, bool) {
	r, ok := ctx.Value(requestKey{}).(*Request)
	return r, ok
}

// RequestIDFrom returns the request id (X-Request-Id), if the middleware is
// mounted.
func RequestIDFrom(ctx context.Context) (string, bool) {
	if r, ok := RequestFrom(ctx); ok {
		return r.id, true
	}
	return "", false
}

// ID returns the request id.
func (r *Request) ID() string { return r.id }

// SetOperation marks the request as a GraphQL request for the named
// operation ("" for an anonymous one).
func (r *Request) SetOperation(name string) {
	r.mu.Lock()
	r.graphql, r.named, r.name = true, true, name
	r.mu.Unlock()
}

// SetResult records how the operation ended. codes are the errors'
// extensions.code values; at most maxCodes distinct ones are kept.
func (r *Request) SetResult(o Outcome, s Summary, codes []string) {
	r.mu.Lock()
	r.outcome, r.summary = o, s
	r.codes = r.codes[:0]
	for _, c := range codes {
		if len(r.codes) == maxCodes {
			break
		}
		if !contains(r.codes, c) {
			r.codes = append(r.codes, c)
		}
	}
	r.mu.Unlock()
}

// maxCodes bounds the error codes one access line lists.
const maxCodes = 8

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// OperationLabel is the operation name as Plaza reports it in metrics, logs
// and span names: "anonymous" for an unnamed operation, the name itself when
// it is 1 to 64 of [A-Za-z0-9_], and "other" for anything else. Clients
// choose operation names, so without this bound a client could create
// unbounded metric series or write arbitrary text into the logs. A GraphQL
// request refused before the GraphQL layer read its parameters (body,
// document-shape limits) has no known name and is reported as "other" too.
func OperationLabel(name string) string {
	if name == "" {
		return "anonymous"
	}
	if len(name) > 64 {
		return "other"
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return "other"
		}
	}
	return name
}

// LogHandler wraps h so that every record logged with a request's context
// (log.InfoContext(ctx, ...), resolver panics, connector warnings) carries
// its request_id, and its trace_id when the request is traced, so one
// request's lines can be found together.
func LogHandler(h slog.Handler) slog.Handler { return logHandler{h} }

type logHandler struct{ slog.Handler }

func (h logHandler) Handle(ctx context.Context, r slog.Record) error {
	if id, ok := RequestIDFrom(ctx); ok {
		r.AddAttrs(slog.String("request_id", id))
	}
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
		r.AddAttrs(slog.String("trace_id", sc.TraceID().String()))
	}
	return h.Handler.Handle(ctx, r)
}

func (h logHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return logHandler{h.Handler.WithAttrs(attrs)}
}

func (h logHandler) WithGroup(name string) slog.Handler {
	return logHandler{h.Handler.WithGroup(name)}
}
