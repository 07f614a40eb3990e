package resolvers

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"github.com/plaza-gateway/plaza/connectors"
	"github.com/plaza-gateway/plaza/gateway"
	"github.com/plaza-gateway/plaza/graph/model"
)

// querySearch is the one search box: the gateway's merged ranking (over the
// index when the gateway has one), one window of it as edges (like
// searchPage, whose callers need no facets), and facets over all of it.
func (r *Resolver) querySearch(ctx context.Context, text *string, vertical *model.Vertical, city *string, first *int, after *string) (*model.SearchConnection, error) {
	if err := checkTexts(textArg{"text", text}, textArg{"city", city}); err != nil {
		return nil, err
	}
	w, err := r.window(ctx, first, after)
	if err != nil {
		return nil, err
	}
	p := gateway.SearchParams{Text: deref(text), City: deref(city)}
	if vertical != nil {
		p.Verticals = []connectors.Vertical{connectors.Vertical(*vertical)}
	}
	items, pi, all, err := r.rankedPage(ctx, p, w, after)
	if err != nil {
		return nil, err
	}
	edges := make([]*model.SearchEdge, len(items))
	for i, it := range items {
		edges[i] = &model.SearchEdge{Cursor: w.cursor(it.pos), Node: hitModel[model.SearchResult](it.hit), Score: it.hit.Score}
	}
	return prefetch(ctx, r, &model.SearchConnection{Edges: edges, PageInfo: pi, TotalCount: len(all), Facets: toFacets(r.gw.Facets(ctx, all))}), nil
}

// session pins the ranking while the client pages: the key names the query
// and the caller, and the first page (no cursor) ranks afresh.
func session(ctx context.Context, p gateway.SearchParams, after *string) gateway.SearchParams {
	me, _ := user(ctx)
	h := sha256.New()
	fmt.Fprintf(h, "%q|%q|%q|%q|%q|%q", me, p.Text, p.Verticals, p.Kinds, p.City, p.Category)
	p.Session = hex.EncodeToString(h.Sum(nil)[:16])
	p.Fresh = after == nil || *after == ""
	return p
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
