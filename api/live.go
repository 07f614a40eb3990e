package api

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	coderws "github.com/coder/websocket"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/plaza-gateway/plaza/auth"
	"github.com/plaza-gateway/plaza/connectors"
	"github.com/plaza-gateway/plaza/limits"
	"github.com/plaza-gateway/plaza/live"
	"github.com/plaza-gateway/plaza/resolvers"
)

// LiveConfig tunes subscriptions (statusChanged) over websocket and SSE.
type LiveConfig struct {
	// KeepAlive is how often the gateway pings a websocket
	// (graphql-transport-ws `ping`) and sends an SSE comment. Default
	// IdleTimeout/3.
	KeepAlive time.Duration
	// IdleTimeout closes a websocket whose client answered no ping for that
	// long, and an SSE stream the client stopped reading (a write blocked
	// that long). Default DefaultIdleTimeout.
	IdleTimeout time.Duration
	// InitTimeout is how long a websocket may take to send connection_init.
	InitTimeout time.Duration
}

// CloseForbidden is the websocket close code of a connection_init
// without an accepted token (graphql-transport-ws: 4403 Forbidden).
const CloseForbidden = 4403

// DefaultIdleTimeout is how long a subscriber may miss keep-alives.
const DefaultIdleTimeout = 60 * time.Second

func (c LiveConfig) withDefaults() LiveConfig {
	if c.IdleTimeout <= 0 {
		c.IdleTimeout = DefaultIdleTimeout
	}
	if c.KeepAlive <= 0 {
		c.KeepAlive = c.IdleTimeout / 3
	}
	if c.InitTimeout <= 0 {
		c.InitTimeout = 10 * time.Second
	}
	return c
}

// liveOptions are the parts of the Server that serve live status.
type liveOptions struct {
	hub *live.Hub
	pub live.Publisher
}

// WithLive serves the statusChanged subscription from hub and takes
// providers' status changes at POST /providers/{id}/status, publishing them
// with pub (the bus every instance's hub is fed from; see statusWebhook).
// Without it the subscription answers UNAVAILABLE, and the endpoint only
// records orders (WithOrderRecords), or answers 404 without those either.
func WithLive(hub *live.Hub, pub live.Publisher) Option {
	return func(o *options) {
		o.live = liveOptions{hub: hub, pub: pub}
		o.resolvers = append(o.resolvers, resolvers.WithLive(hub))
	}
}

// subscriptionTransports are the streaming transports: graphql-transport-ws
// (and the older graphql-ws) over a websocket, and SSE.
func subscriptionTransports(cfg Config, verifier *auth.Verifier, streams context.Context) []graphql.Transport {
	lc := cfg.Live.withDefaults()
	return []graphql.Transport{
		transport.Websocket{
			Implementation: goingAway{inner: transport.CoderWebsocketImplementation{AcceptOptions: coderws.AcceptOptions{
				OriginPatterns: originPatterns(cfg.CORSOrigins, cfg.Production),
			}}, streams: streams},
			InitFunc:    websocketInit(verifier),
			InitTimeout: lc.InitTimeout,
			// graphql-transport-ws: the gateway pings every PingPongInterval
			// and closes a connection that answered no ping for twice that.
			PingPongInterval: lc.IdleTimeout / 2,
			// graphql-ws (legacy) has no pong: keep-alive messages only.
			KeepAlivePingInterval: lc.KeepAlive,
		},
		sseTransport{SSE: transport.SSE{KeepAlivePingInterval: lc.KeepAlive}, streams: streams},
	}
}

// sseTransport is gqlgen's SSE transport plus the error of a stream the
// gateway cut partway: gqlgen's only sends `complete` then. graphql-sse's
// distinct connections mode (the protocol an SSE client speaks) carries
// errors in a `next` event's execution result, so the cut stream ends with
// `next` {"errors":[...]} and then `complete`, as a refusal does: dropped
// as too slow (RATE_LIMITED), token expired (UNAUTHENTICATED), or the
// instance shutting down (SHUTTING_DOWN).
type sseTransport struct {
	transport.SSE
	streams context.Context // ended at shutdown (Server.EndStreams)
}

func (t sseTransport) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	ctx, ended := resolvers.WithEndNote(r.Context())
	t.SSE.Do(w, r.WithContext(ctx), sseExecutor{GraphExecutor: exec, ended: ended, streams: t.streams})
}

// sseExecutor adds the end note as one last response of a subscription.
type sseExecutor struct {
	graphql.GraphExecutor
	ended   func() *gqlerror.Error
	streams context.Context
}

// errShuttingDown ends a subscription at shutdown (SSE and websocket).
var errShuttingDown = &gqlerror.Error{Message: "the gateway is shutting down: subscribe again (the first update is the current state)",
	Extensions: map[string]any{"code": limits.CodeShuttingDown}}

func (e sseExecutor) DispatchOperation(ctx context.Context, rc *graphql.OperationContext) (graphql.ResponseHandler, context.Context) {
	next, dctx := e.GraphExecutor.DispatchOperation(ctx, rc)
	if rc.Operation == nil || rc.Operation.Operation != ast.Subscription {
		return next, dctx
	}
	done := false
	return func(ctx context.Context) *graphql.Response {
		if done {
			return nil
		}
		if resp := next(ctx); resp != nil {
			return resp
		}
		done = true
		err := e.ended()
		if err == nil && e.streams.Err() != nil {
			err = errShuttingDown
		}
		if err == nil {
			return nil
		}
		return &graphql.Response{Errors: gqlerror.List{err}}
	}, dctx
}

// originPatterns are the browser origins allowed to open a websocket: the
// CORS origins' hosts; in development also localhost. A request without
// an Origin header (not a browser) is always accepted.
func originPatterns(origins []string, production bool) []string {
	var out []string
	for _, o := range origins {
		if u, err := url.Parse(o); err == nil && u.Host != "" {
			out = append(out, u.Host)
		}
	}
	if !production {
		out = append(out, "localhost:*", "127.0.0.1:*")
	}
	return out
}

// expiryGrace is how long a connection outlives its token: each
// subscription ends at the expiry itself with an UNAUTHENTICATED error
// (resolvers), which the grace lets reach the client before the close.
const expiryGrace = 5 * time.Second

// websocketInit authenticates a websocket from its connection_init payload:
// {"authorization": "Bearer <token>"}. A missing or refused token closes
// the connection with 4403 and the reason; an accepted one makes the
// connection the user's until the token expires (plus expiryGrace).
func websocketInit(verifier *auth.Verifier) transport.WebsocketInitFunc {
	return func(ctx context.Context, payload transport.InitPayload) (context.Context, *transport.InitPayload, error) {
		p := verifier.Principal(ctx, payload.Authorization())
		if p.UserID == "" {
			reason := p.Problem
			if reason == "" {
				reason = `sign in: send {"authorization": "Bearer <token>"} as the connection_init payload`
			}
			ctx = transport.AppendCloseReason(transport.WithWebsocketCloseCode(ctx, CloseForbidden), reason)
			return ctx, nil, errors.New(reason)
		}
		ctx = auth.WithPrincipal(ctx, p)
		ctx = connectors.WithUser(ctx, p.UserID)
		ctx = live.WithConnection(ctx)
		ctx, cancel := context.WithDeadline(ctx, p.Expires.Add(expiryGrace))
		_ = cancel // released with the request's context when the connection ends
		return ctx, nil, nil
	}
}

// streamKey marks a stream's context (websocket or SSE).
type streamKey struct{}

func onStream(ctx context.Context) bool { v, _ := ctx.Value(streamKey{}).(bool); return v }

// streamGuard holds operations that arrive over a stream to what
// graphqlhttp holds POST and GET to: the document limits before gqlgen
// parses (CheckRequest). And a stream serves subscriptions only: a query or
// mutation there would also skip admission, which a subscription must not
// hold for its whole life; those go over POST.
type streamGuard struct{ guard *limits.Guard }

var (
	_ graphql.OperationParameterMutator = streamGuard{}
	_ graphql.OperationContextMutator   = streamGuard{}
)

func (streamGuard) ExtensionName() string                   { return "PlazaStreamGuard" }
func (streamGuard) Validate(graphql.ExecutableSchema) error { return nil }

func (g streamGuard) MutateOperationParameters(ctx context.Context, p *graphql.RawParams) *gqlerror.Error {
	if !onStream(ctx) {
		return nil // graphqlhttp checked it
	}
	return g.guard.CheckRequest(ctx, p)
}

func (streamGuard) MutateOperationContext(ctx context.Context, rc *graphql.OperationContext) *gqlerror.Error {
	if !onStream(ctx) || rc.Operation == nil || rc.Operation.Operation == ast.Subscription {
		return nil
	}
	return &gqlerror.Error{Message: "a " + string(rc.Operation.Operation) + " must be sent with POST; websocket and SSE serve subscriptions",
		Extensions: map[string]any{"code": limits.CodeMethodNotAllowed}}
}

// isStream reports whether r opens a stream (websocket or SSE), which
// outlives the request timeout.
func isStream(r *http.Request) bool {
	return r.Header.Get("Upgrade") != "" || strings.Contains(r.Header.Get("Accept"), "text/event-stream")
}

// streamContext bounds a stream by its token's expiry instead of the
// request timeout; an SSE stream also gets a write deadline that moves
// with each write, so a client that stopped reading is cut after idle.
//
// Every stream also ends with streams (the server's, ended at shutdown).
func streamContext(streams context.Context, w http.ResponseWriter, r *http.Request, idle time.Duration) (http.ResponseWriter, context.Context, context.CancelFunc) {
	base, cancelBase := context.WithCancel(context.WithValue(r.Context(), streamKey{}, true))
	ctx, endDeadline := base, context.CancelFunc(func() {})
	if p, ok := auth.From(base); ok && !p.Expires.IsZero() {
		ctx, endDeadline = context.WithDeadline(base, p.Expires.Add(expiryGrace))
	}
	stop := context.AfterFunc(streams, cancelBase)
	cancel := func() { stop(); endDeadline(); cancelBase() }
	if r.Header.Get("Upgrade") == "" {
		w = &deadlineWriter{ResponseWriter: w, rc: http.NewResponseController(w), idle: idle}
	}
	return w, ctx, cancel
}

// deadlineWriter sets a write deadline idle ahead of every write: net/http
// cancels the request's context when a write fails, which ends the stream.
type deadlineWriter struct {
	http.ResponseWriter
	rc   *http.ResponseController
	idle time.Duration
}

func (d *deadlineWriter) Write(p []byte) (int, error) {
	_ = d.rc.SetWriteDeadline(time.Now().Add(d.idle))
	return d.ResponseWriter.Write(p)
}

func (d *deadlineWriter) Flush() { _ = d.rc.Flush() }

func (d *deadlineWriter) Unwrap() http.ResponseWriter { return d.ResponseWriter }
