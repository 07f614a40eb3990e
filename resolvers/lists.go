package resolvers

import (
	"context"
	"strings"

	"github.com/plaza-gateway/plaza/connectors"
	"github.com/plaza-gateway/plaza/graph/model"
)

// providers lists registered providers, filtered and paged by offset.
func (r *Resolver) providers(ctx context.Context, vertical *model.Vertical, city *string, first *int, after *string) (*model.ProviderConnection, error) {
	if err := checkTexts(textArg{"city", city}); err != nil {
		return nil, err
	}
	if r.opt.directory != nil {
		return r.directoryProviders(ctx, vertical, city, first, after)
	}
	w, err := r.window(ctx, first, after)
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

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}
