// Package gateway is the policy layer between the GraphQL resolvers and the
// provider connectors: per-request batched loaders with the cross-request
// cache behind them, parallel fan-out with partial results, merged search,
// mutations with cache invalidation, and the one place every connector call
// goes through (timeouts, circuit breaking, retries, call accounting).
//
// It knows nothing about GraphQL or HTTP; it speaks connectors types and
// global IDs.
package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/plaza-gateway/plaza/connectors"
	"github.com/plaza-gateway/plaza/idempotency"
	"github.com/plaza-gateway/plaza/supply"
)

// Policy runs one connector call. Implementations add timeouts, circuit
// breakers, bulkheads and retries; read tells whether fn may be retried.
// vertical is the provider's, for what the policy reports (its metrics are
// labelled by vertical, never by provider).
type Policy interface {
	Do(ctx context.Context, vertical connectors.Vertical, provider string, read bool, fn func(context.Context) error) error
}

// Observer is told about every connector call (metrics, the analytics
// store). Metrics must label by vertical and operation only: provider IDs
// are unbounded (per-provider traffic goes to the analytics store).
type Observer interface {
	ObserveCall(vertical connectors.Vertical, provider, op string, keys int, d time.Duration, err error)
}

// Config tunes the gateway. The zero value is not useful: start from
// DefaultConfig.
type Config struct {
	// ProviderTimeout bounds one connector call when the policy sets none.
	ProviderTimeout time.Duration
	// BatchWait is how long a loader waits to gather keys before it calls the
	// providers. gqlgen starts the sibling field resolvers of a list within
	// microseconds, so a short wait catches them all; the dataloader default
	// of 16 ms would be added to every nesting level of every query.
	BatchWait time.Duration
	// BatchCapacity caps the keys of one loader batch (0: unlimited).
	BatchCapacity int
	// SearchWindow is how many top results each provider is asked for per
	// entity kind in a merged search. The merged ranking is computed over these
	// windows, so paging is stable: the same query always ranks the same set.
	SearchWindow int
	// MaxFirst bounds `first` on every connection.
	MaxFirst int
	// DefaultFirst is used when `first` is not given.
	DefaultFirst int
	// MaxIDs bounds `nodes(ids:)` and batch inputs.
	MaxIDs int
	// IndexCandidates is how many of the supply index's best matches a
	// search re-ranks (two-stage ranking's depth; a page reaching deeper
	// asks for more). Each costs CPU in every search over a large index
	// (reading, counting the query's words, ranking); see IndexCandidates.
	IndexCandidates int
}

// DefaultConfig returns production defaults.
func DefaultConfig() Config {
	return Config{
		ProviderTimeout: 3 * time.Second,
		BatchWait:       250 * time.Microsecond,
		BatchCapacity:   0,
		SearchWindow:    50,
		MaxFirst:        100,
		DefaultFirst:    20,
		MaxIDs:          100,
		IndexCandidates: IndexCandidates,
	}
}

// Gateway routes requests to providers. Build it with New; it is safe for
// concurrent use.
type Gateway struct {
	reg      atomic.Pointer[connectors.Registry]
	cfg      Config
	cache    *EntityCache
	idem     idempotency.Store
	policy   Policy
	observer Observer
	tracer   trace.Tracer
	log      *slog.Logger
	now      func() time.Time
	status   func(provider string) ProviderStatus
	index    supply.Index
}

// ProviderStatus is how a provider is doing as the policy sees it
// (connectors.Status, where the policy can name it without importing the
// gateway).
type ProviderStatus = connectors.Status

const (
	StatusActive      = connectors.StatusActive
	StatusDegraded    = connectors.StatusDegraded
	StatusUnavailable = connectors.StatusUnavailable
)

// Option configures optional parts of a Gateway.
type Option func(*Gateway)

// WithConfig replaces DefaultConfig.
func WithConfig(c Config) Option { return func(g *Gateway) { g.cfg = c } }

// WithCache puts the cross-request entity cache behind the loaders.
func WithCache(c *EntityCache) Option { return func(g *Gateway) { g.cache = c } }

// WithPolicy sets the call policy (default: a per-call timeout only).
func WithPolicy(p Policy) Option { return func(g *Gateway) { g.policy = p } }

// WithObserver reports every connector call to o.
func WithObserver(o Observer) Option { return func(g *Gateway) { g.observer = o } }

// WithTracer wraps every connector call in a client span (provider,
// operation, keys, error kind), a child of the request's span; HTTP
// connectors pass it on as traceparent. nil (the default): no spans, at no
// cost.
func WithTracer(t trace.Tracer) Option { return func(g *Gateway) { g.tracer = t } }

// WithLogger sets the logger (default: slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(g *Gateway) { g.log = l } }

// WithClock injects the clock used for "now" (ordering, home page).
func WithClock(now func() time.Time) Option { return func(g *Gateway) { g.now = now } }

// WithStatus reports provider health (e.g. from circuit breakers).
func WithStatus(f func(provider string) ProviderStatus) Option {
	return func(g *Gateway) { g.status = f }
}

// WithIndex makes search, the per-kind lists and the home page's
// candidates read the supply index (SearchIndex) instead of fanning out to
// every provider (Search). nil (the default): the fan-out.
func WithIndex(ix supply.Index) Option { return func(g *Gateway) { g.index = ix } }

// Index returns the supply index search reads; nil without one.
func (g *Gateway) Index() supply.Index { return g.index }

// New returns a gateway over reg.
func New(reg *connectors.Registry, opts ...Option) *Gateway {
	g := &Gateway{cfg: DefaultConfig(), log: slog.Default(), now: time.Now}
	for _, o := range opts {
		o(g)
	}
	if g.policy == nil {
		g.policy = timeoutPolicy{d: g.cfg.ProviderTimeout}
	}
	g.reg.Store(reg)
	return g
}

// Registry returns the current provider registry.
func (g *Gateway) Registry() *connectors.Registry { return g.reg.Load() }

// SetRegistry swaps the provider registry atomically. Requests already
// running keep the registry they started with (loaders snapshot it).
func (g *Gateway) SetRegistry(r *connectors.Registry) { g.reg.Store(r) }

// Cache returns the entity cache, or nil when there is none.
func (g *Gateway) Cache() *EntityCache { return g.cache }

// Now is the gateway's clock (WithClock; time.Now by default): what
// "upcoming" means when a booking is checked.
func (g *Gateway) Now() time.Time { return g.now() }

// Config returns the gateway's configuration.
func (g *Gateway) Config() Config { return g.cfg }

// Status returns how provider is doing.
func (g *Gateway) Status(provider string) ProviderStatus {
	if g.status == nil {
		return StatusActive
	}
	return g.status(provider)
}

// call runs one connector call through the policy, records it in the
// request's Stats, reports it to the observer and normalises its error so
// that every error leaving here is a *connectors.Error naming the provider.
func (g *Gateway) call(ctx context.Context, vertical connectors.Vertical, provider, op string, keys int, read bool, fn func(context.Context) error) error {
	// A provider round trip: a list running its elements in order must let
	// its other elements start now, so that their calls overlap (see IOHook).
	willWait(ctx)
	start := time.Now()
	var span trace.Span
	if g.tracer != nil {
		ctx, span = g.tracer.Start(ctx, "connector "+op, trace.WithSpanKind(trace.SpanKindClient),
			trace.WithAttributes(attribute.String("plaza.provider", provider), attribute.String("plaza.operation", op),
				attribute.Int("plaza.keys", keys), attribute.Bool("plaza.read", read)))
	}
	err := g.policy.Do(ctx, vertical, provider, read, g.recovering(provider, op, fn))
	err = providerError(provider, err)
	if span != nil {
		if err != nil {
			span.SetStatus(codes.Error, string(connectors.KindOf(err)))
			span.SetAttributes(attribute.String("plaza.error", string(connectors.KindOf(err))))
		}
		span.End()
	}
	c := Call{Provider: provider, Operation: op, Keys: keys, DurationMs: msSince(start)}
	if err != nil {
		c.Error = string(connectors.KindOf(err))
	}
	StatsFrom(ctx).addCall(c)
	if g.observer != nil {
		g.observer.ObserveCall(vertical, provider, op, keys, time.Since(start), err)
	}
	return err
}

// recovering wraps a connector call so that a panic in the connector becomes
// an INTERNAL error for that call instead of crashing the process (calls run
// in fan-out and batch goroutines nothing else recovers). It sits inside the
// policy, so the breaker counts the panic as a failure.
func (g *Gateway) recovering(provider, op string, fn func(context.Context) error) func(context.Context) error {
	return func(ctx context.Context) (err error) {
		defer func() {
			if p := recover(); p != nil {
				g.log.ErrorContext(ctx, "connector panic", "provider", provider, "operation", op,
					"panic", fmt.Sprint(p), "stack", string(debug.Stack()))
				err = &connectors.Error{Kind: connectors.KindInternal, Message: "internal error", Provider: provider,
					Err: fmt.Errorf("panic in %s.%s: %v", provider, op, p)}
			}
		}()
		return fn(ctx)
	}
}

// providerError makes sure err is a *connectors.Error carrying provider.
// Errors that are not typed become PROVIDER_ERROR: whatever a connector
// returned unclassified is the provider's failure, not the client's.
func providerError(provider string, err error) error {
	if err == nil {
		return nil
	}
	if e, ok := connectors.AsError(err); ok {
		if e.Provider == provider {
			return err
		}
		cp := *e
		cp.Provider = provider
		return &cp
	}
	kind := connectors.KindProvider
	msg := "provider failed"
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		kind, msg = connectors.KindTimeout, "provider timed out"
	case errors.Is(err, context.Canceled):
		kind, msg = connectors.KindTimeout, "request cancelled"
	}
	return &connectors.Error{Kind: kind, Message: msg, Provider: provider, Err: err}
}

// timeoutPolicy is the default Policy: a deadline per call, nothing else.
type timeoutPolicy struct{ d time.Duration }

func (p timeoutPolicy) Do(ctx context.Context, _ connectors.Vertical, _ string, _ bool, fn func(context.Context) error) error {
	if p.d > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, p.d)
		defer cancel()
	}
	return fn(ctx)
}
