package resolvers

import (
	"cmp"
	"context"
	"slices"
	"strings"

	"github.com/plaza-gateway/plaza/citytz"
	"github.com/plaza-gateway/plaza/connectors"
	"github.com/plaza-gateway/plaza/graph/model"
)

// cities answers Query.cities from the provider directory's snapshot (its
// coverage lists count the active providers of a vertical in a city without
// walking providers), or, without a directory, from the registry's
// providers, as `providers` does. Either way the cost is cities × verticals,
// never the number of providers when a directory is configured.
func (r *Resolver) cities(ctx context.Context, vertical *model.Vertical) ([]*model.City, error) {
	verticals := connectors.Verticals
	if vertical != nil {
		verticals = []connectors.Vertical{connectors.Vertical(*vertical)}
	}
	counts := map[string]map[connectors.Vertical]int{} // city -> vertical -> providers
	names := map[string]string{}                       // lower case -> first spelling seen
	add := func(city string, v connectors.Vertical, n int) {
		if n == 0 {
			return
		}
		k := strings.ToLower(city)
		if _, ok := names[k]; !ok {
			names[k], counts[k] = city, map[connectors.Vertical]int{}
		}
		counts[k][v] += n
	}
	if r.opt.directory != nil {
		snap := r.opt.directory.Snapshot()
		for _, city := range snap.Cities() {
			for _, v := range verticals {
				add(city, v, snap.CountServing(v, city))
			}
		}
	} else {
		for _, c := range r.loaders(ctx).Registry().All() {
			d := c.Describe()
			if slices.Contains(verticals, d.Vertical) {
				for _, city := range d.Cities {
					add(city, d.Vertical, 1)
				}
			}
		}
	}
	out := make([]*model.City, 0, len(names))
	for k, name := range names {
		c := &model.City{Name: name, TimeZone: citytz.Name(name), Verticals: []model.Vertical{}}
		for _, v := range connectors.Verticals {
			if n := counts[k][v]; n > 0 {
				c.Verticals = append(c.Verticals, model.Vertical(v))
				c.ProviderCount += n
			}
		}
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b *model.City) int { return cmp.Compare(a.Name, b.Name) })
	return out, nil
}
