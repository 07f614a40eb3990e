package telemetry

import (
	"bytes"
	"context"
	"fmt"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
	"go.opentelemetry.io/otel/trace"
)

// Operations is a gqlgen handler extension (use it with handler.Use). It
// tells the request's record (see Middleware) the operation name and how the
// operation ended, and with a tracer wraps each operation in a span, the
// parent of the connector-call spans its resolvers cause.
type Operations struct {
	tracer  trace.Tracer
	summary func(context.Context) Summary
}

var (
	_ graphql.HandlerExtension          = Operations{}
	_ graphql.OperationParameterMutator = Operations{}
	_ graphql.OperationInterceptor      = Operations{}
	_ graphql.ResponseInterceptor       = Operations{}
)

// NewOperations returns the extension. tracer may be nil (no spans).
// summary reports what the operation cost (provider calls, cache outcome);
// it is called once per operation, after the response is built.
func NewOperations(tracer trace.Tracer, summary func(context.Context) Summary) Operations {
	return Operations{tracer: tracer, summary: summary}
}

// ExtensionName implements graphql.HandlerExtension.
func (Operations) ExtensionName() string { return "PlazaTelemetry" }

// Validate implements graphql.HandlerExtension.
func (Operations) Validate(graphql.ExecutableSchema) error { return nil }

// MutateOperationParameters records the operation name the client asked
// for before the document is parsed, so requests refused by parsing or
// validation are still counted under their name.
func (Operations) MutateOperationParameters(ctx context.Context, p *graphql.RawParams) *gqlerror.Error {
	if rec, ok := RequestFrom(ctx); ok {
		rec.SetOperation(p.OperationName)
	}
	return nil
}

// InterceptOperation starts the operation span; it ends when the response
// has been produced.
func (o Operations) InterceptOperation(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	if o.tracer == nil {
		return next(ctx)
	}
	opCtx := graphql.GetOperationContext(ctx)
	label := OperationLabel(operationName(opCtx))
	typ := "query"
	if opCtx.Operation != nil {
		typ = string(opCtx.Operation.Operation)
	}
	ctx, span := o.tracer.Start(ctx, typ+" "+label, trace.WithAttributes(
		semconv.GraphQLOperationName(label), semconv.GraphQLOperationTypeKey.String(typ)))
	handler := next(ctx)
	return func(ctx context.Context) *graphql.Response {
		resp := handler(ctx)
		if resp != nil {
			outcome := outcomeOf(resp)
			span.SetAttributes(attribute.String("plaza.outcome", string(outcome)))
			if outcome == OutcomeError {
				span.SetStatus(codes.Error, "operation failed")
			}
		}
		span.End()
		return resp
	}
}

// InterceptResponse records the outcome, the error codes and what the
// operation cost. It also sees requests refused before execution (parse and
// validation errors), which go through the response chain only.
func (o Operations) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	resp := next(ctx)
	rec, ok := RequestFrom(ctx)
	if !ok || resp == nil {
		return resp
	}
	if graphql.HasOperationContext(ctx) {
		if name := operationName(graphql.GetOperationContext(ctx)); name != "" {
			rec.SetOperation(name)
		}
	}
	var sum Summary
	if o.summary != nil {
		sum = o.summary(ctx)
	}
	var errCodes []string
	for _, e := range resp.Errors {
		errCodes = append(errCodes, errorCode(e))
	}
	rec.SetResult(outcomeOf(resp), sum, errCodes)
	if span := trace.SpanFromContext(ctx); span.IsRecording() {
		span.SetAttributes(
			attribute.Int("plaza.provider_calls", sum.ProviderCalls),
			attribute.Int("plaza.cache.hits", sum.CacheHits),
			attribute.Int("plaza.cache.misses", sum.CacheMisses),
		)
	}
	return resp
}

// operationName is the operation's name: the one the client selected, else
// the name in the document.
func operationName(opCtx *graphql.OperationContext) string {
	if opCtx.OperationName != "" {
		return opCtx.OperationName
	}
	if opCtx.Operation != nil {
		return opCtx.Operation.Name
	}
	return ""
}

var jsonNull = []byte("null")

// outcomeOf classifies a response: no errors is ok; errors with data is
// partial; errors without data is error.
func outcomeOf(resp *graphql.Response) Outcome {
	switch {
	case len(resp.Errors) == 0:
		return OutcomeOK
	case len(resp.Data) == 0 || bytes.Equal(resp.Data, jsonNull):
		return OutcomeError
	default:
		return OutcomePartial
	}
}

// errorCode returns extensions.code, bounded like an operation name so a
// resolver cannot put arbitrary text into the logs through it.
func errorCode(e *gqlerror.Error) string {
	v, ok := e.Extensions["code"]
	if !ok {
		return "UNKNOWN"
	}
	var s string
	switch c := v.(type) {
	case string:
		s = c
	case fmt.Stringer:
		s = c.String()
	default:
		s = fmt.Sprint(c)
	}
	if OperationLabel(s) != s {
		return "OTHER"
	}
	return s
}
