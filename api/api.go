// Package api assembles Plaza's HTTP surface: the GraphQL endpoint (gqlgen's
// handler composed explicitly), the playground, health and readiness.
package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/validator/core"
	"github.com/vektah/gqlparser/v2/validator/rules"
	"go.opentelemetry.io/otel/trace"

	"github.com/plaza-gateway/plaza/auth"
	"github.com/plaza-gateway/plaza/cache"
	"github.com/plaza-gateway/plaza/connectors"
	"github.com/plaza-gateway/plaza/connectors/httpprovider"
	"github.com/plaza-gateway/plaza/gateway"
	"github.com/plaza-gateway/plaza/graph"
	"github.com/plaza-gateway/plaza/graphqlhttp"
	"github.com/plaza-gateway/plaza/limits"
	"github.com/plaza-gateway/plaza/media"
	"github.com/plaza-gateway/plaza/ratelimit"
	"github.com/plaza-gateway/plaza/resolvers"
	"github.com/plaza-gateway/plaza/telemetry"
	"github.com/plaza-gateway/plaza/web"
)

// Config tunes the HTTP surface.
type Config struct {
	// Introspection and Playground are on in development.
	Introspection bool
	Playground    bool
	// QueryCacheSize is the number of parsed and validated documents kept.
	QueryCacheSize int
	// APQCacheSize is the number of automatic persisted queries kept in memory.
	APQCacheSize int
	// MaxPersistedQueryBytes caps the documents registered as automatic
	// persisted queries (larger ones run but are not stored). Zero means
	// DefaultMaxPersistedQueryBytes.
	MaxPersistedQueryBytes int
	// RequestTimeout bounds one GraphQL request end to end (default 10 s);
	// provider timeouts apply inside it.
	RequestTimeout time.Duration
	// Limits guard /query against hostile input; zero fields take the
	// defaults of limits.DefaultConfig.
	Limits limits.Config
	// Production hides validation suggestions ("did you mean ...?", which
	// reveal the schema), serves the Plaza-Debug extensions to analysts only
	// and sends Strict-Transport-Security. Analysts (callers with an analyst
	// API key) get introspection and the playground even when Introspection
	// and Playground are off.
	Production bool
	// CORSOrigins are the browser origins allowed to call the API; empty
	// allows only localhost origins in development and none in production.
	CORSOrigins []string
	// PersistedOnly runs only the app's persisted documents (sent by hash);
	// any other operation is refused with PERSISTED_QUERY_NOT_ALLOWED,
	// except an analyst's.
	PersistedOnly bool
	// Live tunes subscriptions (keep-alives, idle cut-off).
	Live LiveConfig
}

// DefaultConfig is the development configuration.
func DefaultConfig() Config {
	return Config{Introspection: true, Playground: true, QueryCacheSize: 1000, APQCacheSize: 1000, RequestTimeout: 10 * time.Second}
}

// Server is Plaza's HTTP handler.
type Server struct {
	mux      *http.ServeMux
	handler  http.Handler // mux behind the telemetry middleware
	gw       *gateway.Gateway
	log      *slog.Logger
	draining atomic.Bool
	opts     options
	// streams is the context of every open stream (websocket, SSE); ended
	// by EndStreams at shutdown.
	streams    context.Context
	endStreams context.CancelFunc
	providers  *providerAuth
}

// options are the optional parts of a Server.
type options struct {
	apq       cache.Cache
	readiness []readiness
	readyInfo map[string]func() any
	metrics   *prometheus.Registry
	secrets   func(provider string) []string
	stats     ProviderStats
	tracer    trace.Tracer
	requests  telemetry.Observer
	resolvers []resolvers.Option
	apiKeys   *auth.APIKeys
	provKeys  *auth.ProviderKeys
	orders    OrderRecords
	rateLimit *ratelimit.Limiter
	examples  []Example
	bundle    *web.Bundle
	webhook   webhookOptions
	live      liveOptions
	routes    []mounted
}

// mounted is a handler another package serves on the gateway's mux.
type mounted struct {
	pattern string
	h       http.Handler
}

// WithProviderKeys accepts providers' API keys (Authorization: Bearer
// plzp_…) on /query. Without it every provider key is refused.
func WithProviderKeys(k *auth.ProviderKeys) Option { return func(o *options) { o.provKeys = k } }

// WithRoute serves h on pattern (http.ServeMux syntax, e.g.
// "POST /providers/{id}/catalog") behind the same telemetry, CORS and
// security headers as every route. The handler authenticates its callers
// itself.
func WithRoute(pattern string, h http.Handler) Option {
	return func(o *options) { o.routes = append(o.routes, mounted{pattern, h}) }
}

type readiness struct {
	name   string
	status func() (ok bool, reason string)
}

// Option configures optional parts of the Server.
type Option func(*options)

// WithSharedCache keeps automatic persisted queries in c (Redis in
// production, so every instance knows every registered hash) instead of an
// in-process LRU.
func WithSharedCache(c cache.Cache) Option { return func(o *options) { o.apq = c } }

// WithReadiness adds a dependency to /readyz that reports only up or down
// (see WithDependency).
func WithReadiness(name string, healthy func() bool) Option {
	return WithDependency(name, func() (bool, string) {
		if healthy() {
			return true, ""
		}
		return false, name + " unavailable"
	})
}

// WithDependency adds a shared dependency the instance can serve without
// (Redis) to /readyz. One that is down makes the status "degraded" with its
// reason, still HTTP 200: otherwise every instance would leave the load
// balancer at once when the shared dependency dies. status must not do I/O
// (see health.Probe): load balancers call /readyz often.
func WithDependency(name string, status func() (ok bool, reason string)) Option {
	return func(o *options) { o.readiness = append(o.readiness, readiness{name, status}) }
}

// WithReadyInfo adds a field to /readyz's answer: name's value is what
// info returns (the directory's state and version, say). info must not do
// I/O.
func WithReadyInfo(name string, info func() any) Option {
	return func(o *options) {
		if o.readyInfo == nil {
			o.readyInfo = map[string]func() any{}
		}
		o.readyInfo[name] = info
	}
}

// WithTracer traces each request (server span, continuing a client's W3C
// traceparent) and each GraphQL operation. Without it there are no spans.
func WithTracer(t trace.Tracer) Option { return func(o *options) { o.tracer = t } }

// WithRequestObserver reports requests in flight and each GraphQL request's
// operation, outcome and latency (metrics).
func WithRequestObserver(r telemetry.Observer) Option { return func(o *options) { o.requests = r } }

// WithMetrics serves reg at /metrics.
func WithMetrics(reg *prometheus.Registry) Option { return func(o *options) { o.metrics = reg } }

// WithProviderStats lets providers read their own traffic at
// GET /providers/{id}/stats (signed with their secret).
func WithProviderStats(f ProviderStats) Option { return func(o *options) { o.stats = f } }

// WithProviderSecrets lets providers call the gateway (cache invalidation),
// signing with their secret. Without it those endpoints answer 401.
func WithProviderSecrets(f func(provider string) (string, bool)) Option {
	return func(o *options) {
		o.secrets = func(provider string) []string {
			if s, ok := f(provider); ok && s != "" {
				return []string{s}
			}
			return nil
		}
	}
}

// WithProviderSecretList is WithProviderSecrets for providers with several
// secrets that verify at once: after a rotation, the new one and, until its
// overlap ends, the old one. f returns none for an unknown provider.
func WithProviderSecretList(f func(provider string) []string) Option {
	return func(o *options) { o.secrets = f }
}

// WithResolverOptions passes optional parts to the resolvers
// (personalisation, events, analytics).
func WithResolverOptions(opts ...resolvers.Option) Option {
	return func(o *options) { o.resolvers = append(o.resolvers, opts...) }
}

// WithBundle serves b (the app at /app, the playground's page at /, the
// app's persisted documents) instead of the bundle embedded in the binary.
func WithBundle(b *web.Bundle) Option { return func(o *options) { o.bundle = b } }

// WithAPIKeys accepts the analysts' API keys on /query. Without it no
// caller is an analyst.
func WithAPIKeys(k *auth.APIKeys) Option { return func(o *options) { o.apiKeys = k } }

// apqTTL is how long a persisted query is kept after registration.
const apqTTL = 24 * time.Hour

// DebugHeader asks for `extensions.plaza.calls` and `.cache` on a response.
const DebugHeader = "Plaza-Debug"

// New builds the handler over gw. verifier identifies users.
func New(gw *gateway.Gateway, verifier *auth.Verifier, log *slog.Logger, cfg Config, opts ...Option) *Server {
	s := &Server{mux: http.NewServeMux(), gw: gw, log: log}
	s.streams, s.endStreams = context.WithCancel(context.Background())
	for _, o := range opts {
		o(&s.opts)
	}
	if s.opts.secrets == nil {
		s.opts.secrets = func(string) []string { return nil }
	}
	s.providers = newProviderAuth(s.opts, log)
	if s.opts.bundle == nil {
		b, err := web.Embedded()
		if err != nil { // a broken build: web's tests fail on it
			log.Error("web bundle unreadable: no app, playground or persisted documents", "err", err)
		}
		s.opts.bundle = b
	}
	r := resolvers.New(gw, log, s.opts.resolvers...)
	queryCache := lru.New[*ast.QueryDocument](cfg.QueryCacheSize)
	guard := limits.New(cfg.Limits, queryCache)
	schema := graph.NewExecutableSchema(r.Config())
	gql := handler.New(schema)
	gql.AddTransport(transport.Options{})
	for _, t := range subscriptionTransports(cfg, verifier, s.streams) { // before POST: SSE is a POST too
		gql.AddTransport(t)
	}
	overHTTP := graphqlhttp.New(guard)
	for _, t := range overHTTP.Transports() { // POST, GET, then 405/415 for the rest
		gql.AddTransport(t)
	}
	gql.SetQueryCache(queryCache)
	gql.SetParserTokenLimit(max(guard.Config().MaxTokens, 0))
	gql.Use(telemetry.NewOperations(s.opts.tracer, operationSummary))
	gql.Use(streamGuard{guard}) // websocket and SSE: the document limits, subscriptions only
	gql.Use(guard.Complexity(costs(schema.Schema(), guard, gateway.Kinds())))
	gql.Use(introspection{everyone: cfg.Introspection})
	if cfg.Production {
		// gqlgen's switch covers two of the five rules that suggest names.
		gql.SetDisableSuggestion(true)
		gql.SetValidationRulesFn(rulesWithoutSuggestions)
	}
	// Last of the operation-context mutators: a document is registered only
	// once it passed every check before it.
	gql.Use(s.persistedQueries(cfg))
	overHTTP.SetOperationContext(func(ctx context.Context) context.Context {
		ctx, _ = gateway.WithStats(ctx) // each operation of a batch its own
		return ctx
	})
	if rl := s.opts.rateLimit; rl != nil {
		overHTTP.SetBatchCharge(func(ctx context.Context, extra int) (time.Duration, bool) {
			res, err := rl.Charge(ctx, extra)
			if err != nil {
				// As the rate limiter does: a failing store lets requests through.
				log.WarnContext(ctx, "rate limit: batch not charged", "err", err)
				return 0, true
			}
			return res.RetryAfter, res.Allowed
		})
	}
	gql.SetErrorPresenter(resolvers.ErrorPresenter(log, resolvers.LimitLogs(r.LogLimiter())))
	gql.SetRecoverFunc(resolvers.Recover(log))
	gql.AroundOperations(func(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
		return next(resolvers.WithLoaders(ctx, gw))
	})
	gql.AroundResponses(plazaExtensions)

	s.mux.Handle("/query", overHTTP.Middleware(verifier.Middleware(s.opts.provKeys.Middleware(s.opts.apiKeys.Middleware(s.rateLimited(s.withRequestContext(gql, cfg.RequestTimeout, cfg.Live.withDefaults().IdleTimeout, cfg.Production)))))))
	if b := s.opts.bundle; b != nil {
		s.mux.Handle("GET /{$}", s.opts.apiKeys.Middleware(analystsOnlyIf(!cfg.Playground, http.HandlerFunc(b.ServePlayground))))
		s.mux.Handle("GET /examples.json", s.opts.apiKeys.Middleware(analystsOnlyIf(!cfg.Playground, examplesJSON(s.opts.examples))))
		s.mux.Handle("GET "+web.AppPath+"/", b.App())
		s.mux.Handle("GET "+web.AppPath, b.App())
	}
	if cfg.Playground {
		exampleHandlers(s.mux, s.opts.examples)
	}
	if !cfg.Production {
		// Production users sign in with a real issuer (PLAZA_JWKS_URL).
		s.mux.Handle("POST /dev/token", devToken(verifier))
	}
	s.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"status": "ok"})
	})
	s.mux.HandleFunc("GET /readyz", s.ready)
	// The pictures the gateway draws (demo items, provider logos): stateless
	// SVG from the URL, so they need no storage and no configuration.
	s.mux.Handle(media.PlaceholderPattern, media.Placeholder())
	s.mux.HandleFunc("POST /providers/{id}/invalidate", s.invalidate)
	s.mux.HandleFunc("GET /providers/{id}/stats", s.stats)
	s.mux.HandleFunc("POST "+httpprovider.PathGatewayStatus, s.statusWebhook)
	for _, m := range s.opts.routes {
		s.mux.Handle(m.pattern, m.h)
	}
	if s.opts.metrics != nil {
		// Prometheus scrapes the admin listener (telemetry.AdminHandler). On
		// the public port the metrics describe the deployment (providers,
		// error rates, traffic), so in production only analysts get them.
		s.mux.Handle("GET /metrics", s.opts.apiKeys.Middleware(analystsOnlyIf(cfg.Production,
			promhttp.HandlerFor(s.opts.metrics, promhttp.HandlerOpts{}))))
	}
	s.handler = telemetry.Middleware(securityHeaders(corsHandler(s.mux, cfg.CORSOrigins, cfg.Production), cfg.Production), log, telemetry.WithTracer(s.opts.tracer),
		telemetry.WithObserver(s.opts.requests), telemetry.WithGraphQLPath("/query"))
	return s
}

// operationSummary tells the access log and the operation span what an
// operation cost. Stale cache entries count as misses: they were fetched
// again (and the provider failed).
func operationSummary(ctx context.Context) telemetry.Summary {
	st := gateway.StatsFrom(ctx)
	sum := telemetry.Summary{ProviderCalls: len(st.Calls())}
	for _, c := range st.Cache() {
		sum.CacheHits += c.Hits
		sum.CacheMisses += c.Misses + c.Stale
	}
	return sum
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// Drain makes /readyz report not-ready so load balancers stop sending new
// requests; in-flight ones finish (graceful shutdown).
func (s *Server) Drain() { s.draining.Store(true) }

// EndStreams ends every open subscription stream: websockets close, SSE
// responses complete, and their clients reconnect (to another instance)
// and start again from the current state. Call it when the shutdown
// begins: http.Server.Shutdown waits for SSE responses and does not see
// websockets at all.
func (s *Server) EndStreams() { s.endStreams() }

// ready serves /readyz: 503 while draining; otherwise 200 with "ready", or
// "degraded" when a dependency it can serve without (Redis) is down, with
// the state and reason of each dependency.
func (s *Server) ready(w http.ResponseWriter, _ *http.Request) {
	if s.draining.Load() {
		writeJSON(w, http.StatusServiceUnavailable, map[string]any{"status": "draining"})
		return
	}
	type dependency struct {
		State  string `json:"state"`
		Reason string `json:"reason,omitempty"`
	}
	status, deps := "ready", map[string]dependency{}
	for _, c := range s.opts.readiness {
		ok, reason := c.status()
		if ok {
			deps[c.name] = dependency{State: "ok"}
			continue
		}
		deps[c.name], status = dependency{State: "down", Reason: reason}, "degraded"
	}
	out := map[string]any{"status": status, "dependencies": deps, "providers": s.gw.Registry().Len()}
	for name, info := range s.opts.readyInfo {
		out[name] = info()
	}
	writeJSON(w, http.StatusOK, out)
}

type debugKey struct{}

// withRequestContext attaches what every GraphQL request carries: the
// deadline, the user for connector calls, and the debug flag. (Each
// operation gets its own Stats from the guard, see SetOperationContext.)
//
// The request deadline bounds everything the request does: every connector
// call's own timeout runs inside it.
//
// In production the debug extensions (every provider call with its
// latency and error, and the cache outcomes: a map of the deployment and of
// its weak spots) are for analysts only; the header is ignored for anyone
// else.
//
// A stream (a subscription over websocket or SSE) is bounded by its token's
// expiry instead (streamContext).
func (s *Server) withRequestContext(next http.Handler, timeout, idle time.Duration, production bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		if isStream(r) {
			var cancel context.CancelFunc
			w, ctx, cancel = streamContext(s.streams, w, r, idle)
			defer cancel()
		} else if timeout > 0 {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, timeout)
			defer cancel()
		}
		if p, ok := auth.From(ctx); ok && p.UserID != "" {
			ctx = connectors.WithUser(ctx, p.UserID)
		}
		if strings.Contains(strings.ToLower(r.Header.Get(DebugHeader)), "calls") && (!production || isAnalyst(ctx)) {
			ctx = context.WithValue(ctx, debugKey{}, true)
		}
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// plazaExtensions adds `extensions.plaza`: always the providers left out
// (degraded) and the paths served stale; with `Plaza-Debug: calls` also every
// connector call and the cache outcome per type.
func plazaExtensions(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	resp := next(ctx)
	if resp == nil {
		return resp
	}
	st := gateway.StatsFrom(ctx)
	ext := map[string]any{}
	if d := st.Degraded(); len(d) > 0 {
		ext["degraded"] = d
	}
	if s := st.Stale(); len(s) > 0 {
		ext["stale"] = s
	}
	if debug, _ := ctx.Value(debugKey{}).(bool); debug {
		calls := st.Calls()
		if calls == nil {
			calls = []gateway.Call{}
		}
		cache := st.Cache()
		if cache == nil {
			cache = []gateway.CacheCount{}
		}
		ext["calls"], ext["cache"] = calls, cache
	}
	if len(ext) > 0 {
		if resp.Extensions == nil {
			resp.Extensions = map[string]any{}
		}
		resp.Extensions["plaza"] = ext
	}
	return resp
}

// persistedQueries is the APQ extension over the shared cache (or an
// in-process LRU), with registrations counted by the rate limiter.
func (s *Server) persistedQueries(cfg Config) *persistedQueries {
	p := &persistedQueries{maxBytes: cfg.MaxPersistedQueryBytes, log: s.log, only: cfg.PersistedOnly}
	if s.opts.bundle != nil {
		p.known = s.opts.bundle.PersistedDocuments()
	}
	if p.maxBytes == 0 {
		p.maxBytes = DefaultMaxPersistedQueryBytes
	}
	if s.opts.apq != nil {
		p.store = apqCache{c: s.opts.apq, ttl: apqTTL}
	} else {
		p.store = lru.New[string](cfg.APQCacheSize)
	}
	if rl := s.opts.rateLimit; rl != nil {
		p.allow = func(ctx context.Context) bool {
			res, err := rl.AllowRegistration(ctx)
			if err != nil {
				// Not registering costs the client a resend, never an error.
				s.log.WarnContext(ctx, "persisted query not registered: rate limit store failed", "err", err)
				return false
			}
			return res.Allowed
		}
	}
	return p
}

// rulesWithoutSuggestions is gqlparser's rule set with every rule that
// suggests names ("Did you mean ...?", which reveals the schema to callers
// who may not introspect it) replaced by its variant without suggestions.
func rulesWithoutSuggestions() *rules.Rules {
	r := rules.NewDefaultRules()
	for _, quiet := range []core.Rule{
		rules.FieldsOnCorrectTypeRuleWithoutSuggestions,
		rules.ScalarLeafsRuleWithoutSuggestions,
		rules.KnownArgumentNamesRuleWithoutSuggestions,
		rules.KnownTypeNamesRuleWithoutSuggestions,
		rules.ValuesOfCorrectTypeRuleWithoutSuggestions,
	} {
		r.RemoveRule(strings.TrimSuffix(quiet.Name, "WithoutSuggestions"))
		r.AddRule(quiet.Name, quiet.RuleFunc)
	}
	return r
}

// writeError answers a non-GraphQL endpoint with the same error shape
// GraphQL clients see.
func writeError(w http.ResponseWriter, status int, kind connectors.Kind, msg string) {
	writeJSON(w, status, map[string]any{"errors": []map[string]any{{"message": msg, "extensions": map[string]any{"code": kind}}}})
}

// decodeStrict decodes JSON, refusing unknown fields and trailing data.
func decodeStrict(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("trailing data after JSON value")
	}
	return nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// Timeouts for the public listener: slow clients must not hold connections.
const (
	ReadHeaderTimeout = 5 * time.Second
	IdleTimeout       = 120 * time.Second
)
