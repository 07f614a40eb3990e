package api

import (
	"context"
	"net/http"
	"net/url"

	"github.com/99designs/gqlgen/graphql"
	"github.com/rs/cors"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/plaza-gateway/plaza/auth"
	"github.com/plaza-gateway/plaza/ratelimit"
)

// WithRateLimit limits /query callers with l (mounted after authentication,
// so users and analyst keys get their own buckets, and before the body is
// read). Without it nothing is rate limited.
func WithRateLimit(l *ratelimit.Limiter) Option { return func(o *options) { o.rateLimit = l } }

// rateLimited wraps next in the rate limiter when one is configured.
func (s *Server) rateLimited(next http.Handler) http.Handler {
	if s.opts.rateLimit == nil {
		return next
	}
	return s.opts.rateLimit.Middleware(next)
}

// introspection enables schema introspection for everyone, or, in
// production, only for callers holding an analyst API key. gqlgen disables
// introspection on every operation unless an extension turns it back on.
type introspection struct{ everyone bool }

var (
	_ graphql.HandlerExtension        = introspection{}
	_ graphql.OperationContextMutator = introspection{}
)

func (introspection) ExtensionName() string                   { return "PlazaIntrospection" }
func (introspection) Validate(graphql.ExecutableSchema) error { return nil }

// MutateOperationContext enables introspection for allowed callers and
// refuses, with a clear FORBIDDEN, an operation of anyone else that asks for
// __schema or __type (gqlgen would otherwise fail those fields with an
// unclassified error, which the presenter masks as INTERNAL).
func (i introspection) MutateOperationContext(ctx context.Context, opCtx *graphql.OperationContext) *gqlerror.Error {
	if i.everyone || isAnalyst(ctx) {
		opCtx.DisableIntrospection = false
		return nil
	}
	if opCtx.Operation != nil && introspects(opCtx.Operation.SelectionSet) {
		return &gqlerror.Error{Message: "introspection is disabled; it needs an analyst API key",
			Extensions: map[string]any{"code": "FORBIDDEN"}}
	}
	return nil
}

// introspects reports whether a root selection set asks for __schema or
// __type, following fragments (the two fields exist only on the root).
func introspects(set ast.SelectionSet) bool {
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			if s.Name == "__schema" || s.Name == "__type" {
				return true
			}
		case *ast.InlineFragment:
			if introspects(s.SelectionSet) {
				return true
			}
		case *ast.FragmentSpread:
			if s.Definition != nil && introspects(s.Definition.SelectionSet) {
				return true
			}
		}
	}
	return false
}

// analystsOnlyIf answers 404 to callers without an analyst API key when
// restrict is set, as if the page did not exist.
func analystsOnlyIf(restrict bool, h http.Handler) http.Handler {
	if !restrict {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !isAnalyst(r.Context()) {
			http.NotFound(w, r)
			return
		}
		h.ServeHTTP(w, r)
	})
}

func isAnalyst(ctx context.Context) bool {
	p, _ := auth.From(ctx)
	return p.HasRole(auth.RoleAnalyst)
}

// Security headers. The API answers JSON only, so its policy forbids every
// source and every framing; the app and the playground (package web) set
// their own, which allow this origin only: no CDN.
const (
	apiCSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
	// hstsValue asks browsers to use HTTPS only, for two years (production).
	hstsValue = "max-age=63072000; includeSubDomains"
)

// securityHeaders sets the headers every response carries; a handler that
// needs another Content-Security-Policy (the app, the playground)
// overwrites it.
func securityHeaders(next http.Handler, hsts bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Content-Security-Policy", apiCSP)
		if hsts {
			h.Set("Strict-Transport-Security", hstsValue)
		}
		next.ServeHTTP(w, r)
	})
}

// corsHandler allows browsers on origins to call the API. No origins in
// development means any http(s) origin on localhost, 127.0.0.1 or [::1]; in
// production it means no browser origin at all (only configured ones). Bearer
// tokens and API keys travel in headers, so credentials (cookies) are never
// allowed.
func corsHandler(next http.Handler, origins []string, production bool) http.Handler {
	opts := cors.Options{
		AllowedOrigins: origins,
		AllowedMethods: []string{http.MethodGet, http.MethodPost},
		AllowedHeaders: []string{"Content-Type", "Accept", "Authorization", auth.APIKeyHeader, DebugHeader},
		ExposedHeaders: []string{"Retry-After", "RateLimit-Remaining"},
		MaxAge:         600,
	}
	switch {
	case len(origins) > 0:
	case production:
		// An empty list alone would make rs/cors allow every origin.
		opts.AllowOriginFunc = func(string) bool { return false }
	default:
		opts.AllowOriginFunc = isLocalOrigin
	}
	return cors.New(opts).Handler(next)
}

func isLocalOrigin(origin string) bool {
	u, err := url.Parse(origin)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return false
	}
	switch u.Hostname() {
	case "localhost", "127.0.0.1", "::1":
		return true
	}
	return false
}
