// Package resolvers is the GraphQL glue: thin resolvers that map arguments,
// call the gateway or a per-request loader, and convert the result; the
// error presenter; and the @auth directive.
package resolvers

import (
	"context"
	"log/slog"
	"sync"

	"github.com/99designs/gqlgen/graphql"

	"github.com/plaza-gateway/plaza/auth"
	"github.com/plaza-gateway/plaza/connectors"
	"github.com/plaza-gateway/plaza/gateway"
	"github.com/plaza-gateway/plaza/gid"
	"github.com/plaza-gateway/plaza/graph"
	"github.com/plaza-gateway/plaza/listexec"
)

// Resolver is the root resolver. Build it with New.
type Resolver struct {
	gw  *gateway.Gateway
	log *slog.Logger
	opt options // optional parts (personal.go)
}

// New returns the root resolver over gw.
func New(gw *gateway.Gateway, log *slog.Logger, opts ...Option) *Resolver {
	if log == nil {
		log = slog.Default()
	}
	r := &Resolver{gw: gw, log: log}
	for _, o := range opts {
		o(&r.opt)
	}
	return r
}

// Config returns the executable schema configuration: resolvers plus
// directives.
func (r *Resolver) Config() graph.Config {
	c := graph.Config{Resolvers: newRoot(r)}
	c.Directives.Auth = authDirective
	return c
}

type loadersKey struct{}

// WithLoaders returns ctx carrying fresh per-operation loaders, and the
// gateway's I/O hook set to listexec.Miss: lists run their elements in
// order (the generated executor and nodes use listexec) and must start the
// rest as soon as one waits for a provider. The HTTP layer calls it once per
// GraphQL operation.
//
// The loaders are built when a resolver first asks for them, over the
// registry pinned here: an operation that loads nothing (`{ __typename }`,
// introspection, a fan-out that only searches) does not pay for a dozen
// dataloaders.
func WithLoaders(ctx context.Context, gw *gateway.Gateway) context.Context {
	ctx = gateway.WithIOHook(ctx, listexec.Miss)
	reg := gw.Registry()
	// Fan-outs, searches and mutations use the loaders' registry too.
	ctx = gateway.WithRegistry(ctx, reg)
	return context.WithValue(ctx, loadersKey{}, &operationLoaders{gw: gw, reg: reg})
}

// operationLoaders are an operation's loaders, built on first use, and the
// models load made of their values.
type operationLoaders struct {
	once sync.Once
	gw   *gateway.Gateway
	reg  *connectors.Registry
	l    *gateway.Loaders

	mu     sync.Mutex
	models map[modelKey]any
}

// modelKey names an object a loader loaded.
type modelKey struct {
	kind gid.Kind
	key  gateway.Key
}

func (o *operationLoaders) model(k modelKey) any {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.models[k]
}

func (o *operationLoaders) keep(k modelKey, m any) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.models == nil {
		o.models = map[modelKey]any{}
	}
	o.models[k] = m
}

func (o *operationLoaders) get() *gateway.Loaders {
	o.once.Do(func() { o.l = o.gw.NewLoadersOn(o.reg) })
	return o.l
}

// loaders returns the operation's loaders. Without the middleware (a wiring
// mistake) every call gets fresh loaders: slower, never wrong, and logged.
func (r *Resolver) loaders(ctx context.Context) *gateway.Loaders {
	if o, ok := ctx.Value(loadersKey{}).(*operationLoaders); ok {
		return o.get()
	}
	r.log.Error("resolvers: no per-operation loaders in context; batching disabled")
	return r.gw.NewLoaders()
}

// load fetches one object through a loader and converts it. When the value
// came from a stale cache entry (its provider failed), the field's path is
// reported in `extensions.plaza.stale`.
//
// The model is made once per operation and object: the relations of a
// list's elements often name the same object (the 50 products of a list
// come from 11 stores), and each conversion allocates the model and its
// global ID. Sharing one is safe: no resolver changes a model it returned.
func load[V, M any](ctx context.Context, l *gateway.Loader[V], k gateway.Key, conv func(string, V) M) (M, error) {
	v, err := loadRaw(ctx, l, k)
	if err != nil {
		var zero M
		return zero, err
	}
	o, _ := ctx.Value(loadersKey{}).(*operationLoaders)
	if o == nil {
		return conv(k.Provider, v), nil
	}
	mk := modelKey{l.Kind(), k}
	if m, ok := o.model(mk).(M); ok {
		return m, nil
	}
	m := conv(k.Provider, v)
	o.keep(mk, m)
	return m, nil
}

// loadRaw is load without the conversion.
func loadRaw[V any](ctx context.Context, l *gateway.Loader[V], k gateway.Key) (V, error) {
	v, err := l.Get(ctx, k)
	if err == nil {
		markStale(ctx, l, k)
	}
	return v, err
}

// markStale reports the field's path in `extensions.plaza.stale` when l
// served k from a stale cache entry.
func markStale[V any](ctx context.Context, l *gateway.Loader[V], k gateway.Key) {
	if l.Stale(k) {
		gateway.StatsFrom(ctx).AddStale(graphql.GetPath(ctx).String())
	}
}

// user returns the signed-in user. Fields that need one carry @auth, which
// has already refused anonymous callers; this is the second line.
func user(ctx context.Context) (string, error) {
	if p, ok := auth.From(ctx); ok && p.UserID != "" {
		return p.UserID, nil
	}
	return "", connectors.Errorf(connectors.KindUnauthenticated, "sign in required")
}

// addErrors reports per-provider failures of a fan-out next to the partial
// data the healthy providers returned.
func addErrors(ctx context.Context, errs []error) {
	for _, err := range errs {
		graphql.AddError(ctx, err)
	}
}
