package resolvers

import (
	"context"
	"strings"

	"github.com/99designs/gqlgen/graphql"

	"github.com/plaza-gateway/plaza/connectors"
	"github.com/plaza-gateway/plaza/gateway"
	"github.com/plaza-gateway/plaza/graph/model"
)

// providers lists registered providers, filtered and paged by offset.
func (r *Resolver) providers(ctx context.Context, vertical *model.Vertical, city *string, first *int, after *string) (*model.ProviderConnection, error) {
	if err := checkTexts(textArg{"city", city}); err != nil {
		return nil, err
	}
	if r.opt.directory != nil {
		return r.directoryProviders(vertical, city, first, after)
	}
	w, err := r.window(first, after)
	if err != nil {
		return nil, err
	}
	var ds []connectors.Descriptor
	for _, c := range r.loaders(ctx).Registry().All() {
		d := c.Describe()
		if vertical != nil && string(d.Vertical) != string(*vertical) {
			continue
		}
		if city != nil && !containsFold(d.Cities, *city) {
			continue
		}
		ds = append(ds, d)
	}
	edges, pi := paginate(ds, w, func(c string, d connectors.Descriptor) *model.ProviderEdge {
		return &model.ProviderEdge{Cursor: c, Node: toProvider(d)}
	})
	return &model.ProviderConnection{Edges: edges, PageInfo: pi, TotalCount: len(ds)}, nil
}

// selects reports whether the current field's selection reaches the field
// path (through fragments too), e.g. selects(ctx, "edges", "node", "id").
func selects(ctx context.Context, path ...string) bool {
	op := graphql.GetOperationContext(ctx)
	fields := graphql.CollectFieldsCtx(ctx, nil)
	for i, name := range path {
		var next *graphql.CollectedField
		for j := range fields {
			if fields[j].Name == name {
				next = &fields[j]
				break
			}
		}
		if next == nil {
			return false
		}
		if i < len(path)-1 {
			fields = graphql.CollectFields(op, next.Selections, nil)
		}
	}
	return true
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

// prefetchProducts fetches every product of a page of orders at once — one
// batch call per provider — and, when the query asks for the products'
// stores, their stores too, before the per-item resolvers run. The per-item
// resolvers then find everything in the loaders' memory, so each level costs
// one call per provider whatever the executor's timing.
func (r *Resolver) prefetchProducts(ctx context.Context, edges []*model.GroceryOrderEdge) {
	var keys []gateway.Key
	for _, e := range edges {
		for _, it := range e.Node.Items {
			keys = append(keys, gateway.Key{Provider: it.ProviderID, ID: it.ProductID})
		}
	}
	l := r.loaders(ctx)
	products := l.Products.Prefetch(ctx, keys)
	if !selects(ctx, "edges", "node", "items", "product", "store") {
		return
	}
	stores := make([]gateway.Key, 0, len(products))
	for k, p := range products {
		stores = append(stores, gateway.Key{Provider: k.Provider, ID: p.StoreID})
	}
	l.Stores.Prefetch(ctx, stores)
}
