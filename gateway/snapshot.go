package gateway

import (
	"context"

	"github.com/plaza-gateway/plaza/connectors"
)

// registryKey is the context key of the registry an operation is pinned to.
type registryKey struct{}

// WithRegistry pins reg for everything the gateway does with ctx and the
// contexts derived from it: fan-outs, searches, facets, mutations and
// loaders all look providers up in reg, so one operation never mixes two
// registries while a reload swaps them (a provider added or removed half
// way through would otherwise be called by one field and missing from the
// next). The GraphQL layer pins the registry of the operation's loaders
// (Loaders.Registry) when the operation starts.
func WithRegistry(ctx context.Context, reg *connectors.Registry) context.Context {
	return context.WithValue(ctx, registryKey{}, reg)
}

// registryFor returns the registry pinned in ctx, or the current one when
// nothing is pinned (work outside an operation: seeding, background jobs).
func (g *Gateway) registryFor(ctx context.Context) *connectors.Registry {
	if r, ok := ctx.Value(registryKey{}).(*connectors.Registry); ok && r != nil {
		return r
	}
	return g.Registry()
}

// loadersFor returns fresh loaders over the registry pinned in ctx.
func (g *Gateway) loadersFor(ctx context.Context) *Loaders {
	return g.NewLoadersOn(g.registryFor(ctx))
}
