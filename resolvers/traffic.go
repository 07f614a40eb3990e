package resolvers

// Traffic and exposure: a provider's roll-ups (viewerProvider.traffic,
// topQueries, demand), where its items rank now (placement), and the
// analysts' views of the same (Analytics.providerExposure, demand).
// schema.resolvers.go calls in here with one line per resolver; the
// provider comes from the credential (forProvider), never an argument.

import (
	"context"
	"fmt"
	"time"

	"github.com/plaza-gateway/plaza/connectors"
	"github.com/plaza-gateway/plaza/gateway"
	"github.com/plaza-gateway/plaza/gid"
	"github.com/plaza-gateway/plaza/graph/model"
	"github.com/plaza-gateway/plaza/growth"
	"github.com/plaza-gateway/plaza/rank"
	"github.com/plaza-gateway/plaza/supply"
	"github.com/plaza-gateway/plaza/traffic"
)

// maxPlacement bounds placement's first.
const maxPlacement = 50

// WithTraffic serves the traffic roll-ups from store. Without it the
// traffic fields fail with UNAVAILABLE.
func WithTraffic(store traffic.Store) Option { return func(o *options) { o.traffic = store } }

func (r *Resolver) trafficStore() (traffic.Store, error) {
	if r.opt.traffic == nil {
		return nil, connectors.Errorf(connectors.KindUnavailable, "traffic roll-ups are not available on this gateway")
	}
	return r.opt.traffic, nil
}

// trafficRange checks a range like the analysts' (checkRange).
func trafficRange(from, to time.Time) (traffic.Range, error) {
	return traffic.Range{From: from, To: to}, checkRange(from, to)
}

// listLimit reads a limit argument (default def) in [1, max].
func listLimit(limit *int, def, most int) (int, error) {
	n := def
	if limit != nil {
		n = *limit
	}
	if n < 1 || n > most {
		return 0, &ArgError{Arg: "limit", Err: connectors.Errorf(connectors.KindInvalid, "limit must be between 1 and %d, got %d", most, n)}
	}
	return n, nil
}

// forTraffic runs f with the traffic store and the signed-in provider.
func forTraffic[T any](ctx context.Context, r *Resolver, f func(s traffic.Store, provider string) (T, error)) (T, error) {
	var zero T
	s, err := r.trafficStore()
	if err != nil {
		return zero, err
	}
	provider, _, err := signedInProvider(ctx)
	if err != nil {
		return zero, err
	}
	return f(s, provider)
}

func (r *Resolver) providerTrafficDays(ctx context.Context, from, to time.Time, city *string) ([]*model.TrafficDay, error) {
	return forTraffic(ctx, r, func(s traffic.Store, provider string) ([]*model.TrafficDay, error) {
		return r.trafficDays(ctx, s, provider, from, to, city)
	})
}

func (r *Resolver) exposure(ctx context.Context, provider string, from, to time.Time, city *string) ([]*model.TrafficDay, error) {
	s, err := r.trafficStore()
	if err != nil {
		return nil, err
	}
	return r.trafficDays(ctx, s, provider, from, to, city)
}

func (r *Resolver) trafficDays(ctx context.Context, s traffic.Store, provider string, from, to time.Time, city *string) ([]*model.TrafficDay, error) {
	if err := checkTexts(textArg{"city", city}); err != nil {
		return nil, err
	}
	rg, err := trafficRange(from, to)
	if err != nil {
		return nil, err
	}
	rows, err := s.Daily(ctx, provider, rg, deref(city))
	return mapAll(rows, func(row traffic.Row) *model.TrafficDay {
		d := &model.TrafficDay{Day: row.Day, City: nonEmpty(row.City), SearchImpressions: int(row.SearchImpressions),
			HomeImpressions: int(row.HomeImpressions), Clicks: int(row.Clicks), Orders: int(row.Orders), Bookings: int(row.Bookings), Gmv: int(row.GMV)}
		if c, ok := row.Conversion(); ok {
			d.Conversion = &c
		}
		return d
	}), err
}

func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func (r *Resolver) providerTopQueries(ctx context.Context, from, to time.Time, city *string, limit *int) ([]*model.TrafficQuery, error) {
	return forTraffic(ctx, r, func(s traffic.Store, provider string) ([]*model.TrafficQuery, error) {
		if err := checkTexts(textArg{"city", city}); err != nil {
			return nil, err
		}
		rg, err := trafficRange(from, to)
		if err != nil {
			return nil, err
		}
		n, err := listLimit(limit, 10, traffic.MaxLimit)
		if err != nil {
			return nil, err
		}
		qs, err := s.TopQueries(ctx, provider, rg, deref(city), n)
		return mapAll(qs, func(q traffic.QueryRow) *model.TrafficQuery {
			out := &model.TrafficQuery{Query: q.Query, City: nonEmpty(q.City), Impressions: int(q.Impressions), Clicks: int(q.Clicks)}
			if m, ok := q.MeanRank(); ok {
				out.MeanRank, out.BestRank = &m, &q.BestRank
			}
			return out
		}), err
	})
}

// providerDemand reads the demand in the provider's vertical (and in
// searches of every vertical) and its cities, from the directory.
func (r *Resolver) providerDemand(ctx context.Context, from, to time.Time, limit *int) ([]*model.DemandQuery, error) {
	return forProvider(ctx, r, func(g *growth.Service, provider, _ string) ([]*model.DemandQuery, error) {
		p, err := g.Provider(ctx, provider)
		if err != nil {
			return nil, err
		}
		return r.demand(ctx, []string{string(p.Vertical), ""}, p.Cities, from, to, limit)
	})
}

func (r *Resolver) analystDemand(ctx context.Context, city string, vertical *model.Vertical, from, to time.Time, limit *int) ([]*model.DemandQuery, error) {
	if err := checkTexts(textArg{"city", &city}); err != nil {
		return nil, err
	}
	verticals := []string{""}
	if vertical != nil {
		verticals = append(verticals, string(*vertical))
	} else {
		for _, v := range model.AllVertical {
			verticals = append(verticals, string(v))
		}
	}
	return r.demand(ctx, verticals, []string{city}, from, to, limit)
}

func (r *Resolver) demand(ctx context.Context, verticals, cities []string, from, to time.Time, limit *int) ([]*model.DemandQuery, error) {
	s, err := r.trafficStore()
	if err != nil {
		return nil, err
	}
	rg, err := trafficRange(from, to)
	if err != nil {
		return nil, err
	}
	n, err := listLimit(limit, 20, traffic.MaxLimit)
	if err != nil {
		return nil, err
	}
	ds, err := s.Demand(ctx, verticals, cities, rg, n)
	return mapAll(ds, func(d traffic.DemandRow) *model.DemandQuery {
		return &model.DemandQuery{Query: d.Query, City: nonEmpty(d.City), Searches: int(d.Searches),
			ZeroResults: int(d.ZeroResults), LowResults: int(d.LowResults)}
	}), err
}

// placement ranks query as an anonymous search does (the engine's
// popularity and the service-level penalty included) and lists the
// provider's items in it. An item argument naming another provider's item
// is NOT_FOUND, like any other cross-provider read.
func (r *Resolver) placement(ctx context.Context, query string, city, item *string, first *int) (*model.Placement, error) {
	provider, _, err := signedInProvider(ctx)
	if err != nil {
		return nil, err
	}
	if err := checkTexts(textArg{"query", &query}, textArg{"city", city}); err != nil {
		return nil, err
	}
	n := 10
	if first != nil {
		n = *first
	}
	if n < 1 || n > maxPlacement {
		return nil, &ArgError{Arg: "first", Err: connectors.Errorf(connectors.KindInvalid, "first must be between 1 and %d, got %d", maxPlacement, n)}
	}
	var keep func(gateway.Hit) bool
	if item != nil {
		id, err := gid.Decode(*item)
		if err != nil || id.Provider != provider {
			return nil, connectors.Errorf(connectors.KindNotFound, "item %q not found", truncate(*item, 80))
		}
		keep = func(h gateway.Hit) bool { return h.Kind == id.Kind && h.ID == id.Local }
	}
	p := r.searchSignals(context.WithoutCancel(ctx), gateway.SearchParams{Text: query, City: deref(city)})
	p.Affinity = nil // the ranking as anyone sees it, not as this caller
	pl, err := r.gw.Placement(ctx, p, provider, n, keep)
	if err != nil {
		return nil, err
	}
	out := &model.Placement{Query: query, City: city, TotalResults: pl.Total, Items: []*model.PlacedItem{}}
	for _, it := range pl.Items {
		name := ""
		if v, ok := it.Hit.Value.(*supply.Item); ok {
			name = v.Name
		}
		out.Items = append(out.Items, &model.PlacedItem{ID: gid.Encode(it.Hit.Kind, it.Hit.Provider, it.Hit.ID), Name: name,
			Position: it.Position, Score: it.Hit.Score, Reasons: rankingReasons(it.Why, deref(city))})
	}
	return out, nil
}

// rankingReasons explains each term of a score: what it comes from and
// what would raise it.
func rankingReasons(w rank.Parts, city string) []*model.RankingReason {
	cfg := rank.DefaultConfig()
	reason := func(factor string, v float64, format string, args ...any) *model.RankingReason {
		return &model.RankingReason{Factor: factor, Contribution: v, Explanation: fmt.Sprintf(format, args...)}
	}
	out := []*model.RankingReason{
		reason("text", w.Text, "How well the item's name, tags and description match the query, against the best match (up to %.2f): name the item as people search for it, and tag it.", cfg.Text),
		reason("rating", w.Rating, "Its rating out of 5 (up to %.2f): better reviews raise it.", cfg.Rating),
	}
	if city != "" {
		if w.City > 0 {
			out = append(out, reason("city", w.City, "It is in %s (%.2f).", city, cfg.City))
		} else {
			out = append(out, reason("city", 0, "It is not listed in %s (up to %.2f): publish the cities it serves.", city, cfg.City))
		}
	}
	out = append(out, reason("popularity", w.Popularity, "Recent views and orders, against the most popular result (up to %.2f).", cfg.Popularity))
	if w.Penalty > 0 {
		out = append(out, reason("serviceLevel", w.Penalty, "The provider is DEMOTED for its service level: %.0f%% of the score is taken off until it is OK again (see serviceLevel).", w.Penalty*100))
	}
	return out
}
