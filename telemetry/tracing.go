// Package telemetry lets operators see inside Plaza: OpenTelemetry tracing
// (off unless an OTLP endpoint is configured), the HTTP middleware that gives
// every request an id, a server span, an access log line and request metrics,
// the GraphQL extension that names the operation and records its outcome,
// and the admin handler (pprof and metrics) for a listener apart from the
// public one.
package telemetry

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
	"go.opentelemetry.io/otel/trace"
)

// InstrumentationName names the tracer Plaza's spans come from.
const InstrumentationName = "github.com/plaza-gateway/plaza"

// TracingConfig says where spans go.
type TracingConfig struct {
	// Endpoint is the OTLP/HTTP traces URL, e.g.
	// http://collector:4318/v1/traces. Empty: tracing is off.
	Endpoint string
	// ServiceName is the service.name resource attribute.
	ServiceName string
	// SampleRatio is the share of new traces recorded (0..1). A request that
	// arrives with a sampled traceparent is always recorded (parent-based).
	SampleRatio float64
}

// TracesURL returns the OTLP/HTTP traces URL for an endpoint: base (an
// OTEL_EXPORTER_OTLP_ENDPOINT-style collector base URL) gets /v1/traces
// appended; otherwise a URL without a path gets /v1/traces, the OTLP/HTTP
// default, and a full URL is used as is.
func TracesURL(endpoint string, base bool) (string, error) {
	u, err := url.Parse(endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("want an http(s) URL, got %q", endpoint)
	}
	if base {
		u.Path = strings.TrimRight(u.Path, "/") + "/v1/traces"
	} else if u.Path == "" || u.Path == "/" {
		u.Path = "/v1/traces"
	}
	return u.String(), nil
}

// Tracing owns the tracer provider. The zero value and a Tracing built
// without an endpoint are off: Tracer returns nil, and every instrumented
// component then skips span creation entirely, so tracing that is off costs
// a nil check on the hot path.
type Tracing struct {
	sdk    *sdktrace.TracerProvider
	tracer trace.Tracer
}

// NewTracing starts exporting spans over OTLP/HTTP to cfg.Endpoint, in
// batches. With an empty endpoint it returns a Tracing that is off.
func NewTracing(ctx context.Context, cfg TracingConfig) (*Tracing, error) {
	if cfg.Endpoint == "" {
		return &Tracing{}, nil
	}
	exp, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL(cfg.Endpoint))
	if err != nil {
		return nil, fmt.Errorf("telemetry: OTLP exporter: %w", err)
	}
	res, err := resource.Merge(resource.Default(), resource.NewSchemaless(semconv.ServiceName(cfg.ServiceName)))
	if err != nil {
		return nil, fmt.Errorf("telemetry: resource: %w", err)
	}
	return NewTracingWith(sdktrace.NewTracerProvider(
		sdktrace.WithBatcher(exp),
		sdktrace.WithResource(res),
		sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.TraceIDRatioBased(cfg.SampleRatio))),
	)), nil
}

// NewTracingWith uses tp, e.g. one with an in-memory exporter in tests.
func NewTracingWith(tp *sdktrace.TracerProvider) *Tracing {
	return &Tracing{sdk: tp, tracer: tp.Tracer(InstrumentationName)}
}

// Tracer returns Plaza's tracer, or nil when tracing is off.
func (t *Tracing) Tracer() trace.Tracer {
	if t == nil {
		return nil
	}
	return t.tracer
}

// Enabled reports whether spans are recorded and exported.
func (t *Tracing) Enabled() bool { return t.Tracer() != nil }

// Shutdown flushes the spans not yet exported and stops the exporter.
func (t *Tracing) Shutdown(ctx context.Context) error {
	if t == nil || t.sdk == nil {
		return nil
	}
	return t.sdk.Shutdown(ctx)
}
