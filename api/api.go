// Package api assembles Plaza's HTTP surface: the GraphQL endpoint (gqlgen's
// handler composed explicitly), the playground, health and readiness.
package api

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/99designs/gqlgen/graphql/playground"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/plaza-gateway/plaza/auth"
	"github.com/plaza-gateway/plaza/connectors"
	"github.com/plaza-gateway/plaza/gateway"
	"github.com/plaza-gateway/plaza/graph"
	"github.com/plaza-gateway/plaza/resolvers"
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
}

// DefaultConfig is the development configuration.
func DefaultConfig() Config {
	return Config{Introspection: true, Playground: true, QueryCacheSize: 1000, APQCacheSize: 1000}
}

// Server is Plaza's HTTP handler.
type Server struct {
	mux      *http.ServeMux
	gw       *gateway.Gateway
	log      *slog.Logger
	draining atomic.Bool
}

// DebugHeader asks for `extensions.plaza.calls` and `.cache` on a response.
const DebugHeader = "Plaza-Debug"

// New builds the handler over gw. verifier identifies users.
func New(gw *gateway.Gateway, verifier *auth.Verifier, log *slog.Logger, cfg Config) *Server {
	s := &Server{mux: http.NewServeMux(), gw: gw, log: log}
	r := resolvers.New(gw, log)
	gql := handler.New(graph.NewExecutableSchema(r.Config()))
	gql.AddTransport(transport.Options{})
	gql.AddTransport(transport.GET{})
	gql.AddTransport(transport.POST{})
	gql.SetQueryCache(lru.New[*ast.QueryDocument](cfg.QueryCacheSize))
	if cfg.Introspection {
		gql.Use(extension.Introspection{})
	}
	gql.Use(extension.AutomaticPersistedQuery{Cache: lru.New[string](cfg.APQCacheSize)})
	gql.SetErrorPresenter(resolvers.ErrorPresenter(log))
	gql.SetRecoverFunc(resolvers.Recover(log))
	gql.AroundOperations(func(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
		return next(resolvers.WithLoaders(ctx, gw))
	})
	gql.AroundResponses(plazaExtensions)

	s.mux.Handle("/query", verifier.Middleware(withRequestContext(gql)))
	if cfg.Playground {
		s.mux.Handle("GET /{$}", playground.Handler("Plaza", "/query", playground.WithGraphiqlEnablePluginExplorer(true)))
	}
	s.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"status": "ok"})
	})
	s.mux.HandleFunc("GET /readyz", s.ready)
	return s
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// Drain makes /readyz report not-ready so load balancers stop sending new
// requests; in-flight ones finish (graceful shutdown).
func (s *Server) Drain() { s.draining.Store(true) }

func (s *Server) ready(w http.ResponseWriter, _ *http.Request) {
	if s.draining.Load() {
		writeJSON(w, http.StatusServiceUnavailable, map[string]any{"status": "draining"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": "ready", "providers": len(s.gw.Registry().All())})
}

type debugKey struct{}

// withRequestContext attaches what every GraphQL request carries: the
// per-request Stats, the user for connector calls, and the debug flag.
func withRequestContext(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, _ := gateway.WithStats(r.Context())
		if p, ok := auth.From(ctx); ok && p.UserID != "" {
			ctx = connectors.WithUser(ctx, p.UserID)
		}
		if strings.Contains(strings.ToLower(r.Header.Get(DebugHeader)), "calls") {
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
