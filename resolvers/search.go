package resolvers

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"

	"github.com/99designs/gqlgen/graphql"

	"github.com/plaza-gateway/plaza/connectors"
	"github.com/plaza-gateway/plaza/gateway"
	"github.com/plaza-gateway/plaza/graph/model"
	"github.com/plaza-gateway/plaza/supply"
)

// searchArgs are the arguments of Query.search.
type searchArgs struct {
	text               *string
	vertical           *model.Vertical
	city               *string
	first, last        *int
	after, before      *string
	sort               *model.SearchSort
	near               *model.GeoPointInput
	minPrice, maxPrice *int
}

// searchSorts maps the schema's orders to the index's.
var searchSorts = map[model.SearchSort]supply.Sort{
	model.SearchSortRelevance: supply.SortRelevance, model.SearchSortPriceLowToHigh: supply.SortPriceAsc,
	model.SearchSortPriceHighToLow: supply.SortPriceDesc, model.SearchSortRating: supply.SortRating,
	model.SearchSortDistance: supply.SortDistance,
}

// searchOrder checks the order and price range of a search and puts them
// in p, each refusal naming its argument.
func searchOrder(a searchArgs, p *gateway.SearchParams) error {
	bad := func(arg, format string, args ...any) error {
		return &ArgError{Arg: arg, Err: connectors.Errorf(connectors.KindInvalid, format, args...)}
	}
	if a.sort != nil {
		s, ok := searchSorts[*a.sort]
		if !ok {
			return bad("sort", "unknown sort %q", *a.sort)
		}
		p.Sort = s
	}
	if a.near != nil {
		if a.near.Lat < -90 || a.near.Lat > 90 || a.near.Lon < -180 || a.near.Lon > 180 {
			return bad("near", "near (%v, %v) is not on Earth: lat -90 to 90, lon -180 to 180", a.near.Lat, a.near.Lon)
		}
		p.Near = &supply.Geo{Lat: a.near.Lat, Lon: a.near.Lon}
	}
	if p.Sort == supply.SortDistance && p.Near == nil {
		return bad("near", "sort: DISTANCE needs near, the point to measure from")
	}
	for _, b := range []struct {
		arg string
		v   *int
		to  **int64
	}{{"minPrice", a.minPrice, &p.MinPrice}, {"maxPrice", a.maxPrice, &p.MaxPrice}} {
		if b.v == nil {
			continue
		}
		if *b.v < 0 {
			return bad(b.arg, "%s must not be negative, got %d", b.arg, *b.v)
		}
		v := int64(*b.v)
		*b.to = &v
	}
	if p.MinPrice != nil && p.MaxPrice != nil && *p.MinPrice > *p.MaxPrice {
		return bad("minPrice", "minPrice %d is above maxPrice %d", *p.MinPrice, *p.MaxPrice)
	}
	return nil
}

// querySearch is the one search box: the gateway's merged ranking (over the
// index when the gateway has one) or the index's order under another sort,
// one window of it as edges (like searchPage, whose callers need no
// facets), and facets over all of it.
func (r *Resolver) querySearch(ctx context.Context, a searchArgs) (*model.SearchConnection, error) {
	if err := checkTexts(textArg{"text", a.text}, textArg{"city", a.city}); err != nil {
		return nil, err
	}
	w, err := r.backWindow(ctx, a.first, a.after, a.last, a.before)
	if err != nil {
		return nil, err
	}
	p := gateway.SearchParams{Text: deref(a.text), City: deref(a.city)}
	if a.vertical != nil {
		p.Verticals = []connectors.Vertical{connectors.Vertical(*a.vertical)}
	}
	if err := searchOrder(a, &p); err != nil {
		return nil, err
	}
	cursor := a.after
	if w.back {
		cursor = a.before
	}
	items, pi, all, err := r.rankedPage(ctx, p, w, cursor)
	if err != nil {
		return nil, err
	}
	edges := make([]*model.SearchEdge, len(items))
	for i, it := range items {
		edges[i] = &model.SearchEdge{Cursor: w.cursor(it.pos), Node: hitModel[model.SearchResult](it.hit), Score: it.hit.Score}
	}
	conn := &model.SearchConnection{Edges: edges, PageInfo: pi, TotalCount: len(all)}
	if slices.Contains(graphql.CollectAllFields(ctx), "facets") {
		// Counted only when asked: over the index's candidates (400 of
		// as many providers at 10^6) it reads each provider's name.
		conn.Facets = toFacets(r.gw.Facets(ctx, all))
	}
	return prefetch(ctx, r, conn), nil
}

// session pins the ranking while the client pages: the key names the query
// and the caller, and the first page (no cursor) ranks afresh.
func session(ctx context.Context, p gateway.SearchParams, after *string) gateway.SearchParams {
	me, _ := user(ctx)
	h := sha256.New()
	fmt.Fprintf(h, "%q|%q|%q|%q|%q|%q", me, p.Text, p.Verticals, p.Kinds, p.City, p.Category)
	if p.MinPrice != nil || p.MaxPrice != nil {
		// Another price range is another candidate list to pin.
		fmt.Fprintf(h, "|%v|%v", fmtBound(p.MinPrice), fmtBound(p.MaxPrice))
	}
	p.Session = hex.EncodeToString(h.Sum(nil)[:16])
	p.Fresh = after == nil || *after == ""
	return p
}

func fmtBound(b *int64) any {
	if b == nil {
		return "-"
	}
	return *b
}

// searchSignals adds the engine's popularity to a search when
// personalisation is wired, and the signed-in user's affinity when they
// allow personalisation (an opted-out user ranks like an anonymous one);
// with merchant growth, the penalty of DEMOTED providers.
func (r *Resolver) searchSignals(ctx context.Context, p gateway.SearchParams) gateway.SearchParams {
	if r.opt.growth != nil {
		p.Penalty = r.opt.growth.Penalty
	}
	if r.opt.home == nil {
		return p
	}
	me, _ := user(ctx)
	return r.opt.home.SearchSignals(p, me, me != "" && r.personalized(ctx, me))
}

func toFacets(f gateway.SearchFacets) *model.SearchFacets {
	return &model.SearchFacets{Verticals: toFacetCounts(f.Verticals), Providers: toFacetCounts(f.Providers)}
}

func toFacetCounts(fs []gateway.FacetCount) []*model.FacetCount {
	out := make([]*model.FacetCount, len(fs))
	for i, f := range fs {
		out[i] = &model.FacetCount{Value: f.Value, Count: f.Count}
		if f.Label != "" {
			out[i].Label = &f.Label
		}
	}
	return out
}
