package resolvers

// Search and the per-kind lists over the supply index: the index's
// candidates, re-ranked by the gateway (gateway.SearchIndex), arranged so a
// page costs a bounded number of provider calls, and only the page's items
// completed live from their providers.

import (
	"context"
	"errors"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/plaza-gateway/plaza/connectors"
	"github.com/plaza-gateway/plaza/directory"
	"github.com/plaza-gateway/plaza/gateway"
	"github.com/plaza-gateway/plaza/gid"
	"github.com/plaza-gateway/plaza/graph/model"
	"github.com/plaza-gateway/plaza/supply"
)

// The call cap. Completing a page calls each provider on it once per loader
// it needs: the items' own kind (a batch of its products, doctors...) and
// the live fields the request selects below them (a product's store, a
// doctor's slots). The ranked list is cut into blocks of completionBlock
// positions (0-19, 20-39, ... fixed, whatever the client's `first`), and a
// block takes an item only while the block's distinct (provider, loader)
// pairs stay within completionBudget; an item that would exceed it moves to
// a later block, keeping its place among the rest. A page never spans more
// blocks than its size needs (ceil(first/20)), so a page of up to 20 costs
// at most 20 provider calls whatever the number of providers, and a larger
// page grows with the page. A block may hold fewer than 20 items when the
// best candidates come from more providers than the cap allows: the page
// is then shorter, with hasNextPage.
const (
	completionBlock  = 20
	completionBudget = 20
)

// rankedItem is a hit at its position in the ranked list (its cursor).
type rankedItem struct {
	pos int
	hit gateway.Hit
}

// indexUnavailable is what the client sees when the index cannot answer:
// UNAVAILABLE, retryable, for this field only.
func indexUnavailable(err error) error {
	if errors.Is(err, gateway.ErrIndexUnavailable) {
		return &directory.Error{Code: directory.Unavailable, Message: "search is unavailable: the search index cannot be reached; try again later", Err: err}
	}
	return err
}

// rankedPage returns the items of window w of the ranked list for p, and
// the whole list (for totals and facets). With an index, the list comes
// from it, is arranged in call-capped blocks, and the page's items are
// completed live (completeHits); without, it is the fan-out's.
func (r *Resolver) rankedPage(ctx context.Context, p gateway.SearchParams, w window, after *string) ([]rankedItem, *model.PageInfo, []gateway.Hit, error) {
	p.Depth = w.offset + w.limit // how deep the windows must reach
	if w.back {
		p.Depth = max(w.end, 0) // a page before a cursor reaches no deeper; from the end, the usual candidates
	}
	p = session(ctx, r.searchSignals(ctx, p), after)
	ix := r.gw.Index()
	if ix == nil {
		if p.Sort != supply.SortRelevance || p.MinPrice != nil || p.MaxPrice != nil {
			return nil, nil, nil, &ArgError{Arg: "sort", Err: connectors.Errorf(connectors.KindInvalid,
				"this gateway runs without a supply index: search takes no sort or price range")}
		}
		hits, errs := r.gw.Search(ctx, p)
		addErrors(ctx, errs)
		start, end := w.bounds(len(hits))
		return window2items(hits, start, end), w.pageInfo(start, end, len(hits)), hits, nil
	}
	hits, err := r.gw.SearchIndex(ctx, ix, p)
	if err != nil {
		return nil, nil, nil, indexUnavailable(err)
	}
	costs := r.completions(ctx)
	upto := len(hits) // a page before a cursor: its blocks from the start
	if !w.back {
		upto = w.offset + w.limit
	}
	hits, starts := capCalls(hits, costs, upto)
	start, end := w.bounds(len(hits))
	if w.back {
		start = pageStart(starts, start, end, w.limit)
	} else {
		end = pageEnd(starts, start, w.limit, len(hits))
	}
	items := window2items(hits, start, end)
	base := graphql.GetPath(ctx)
	items = r.completeHits(ctx, items, costs, func(kept []rankedItem, _ rankedItem) ast.Path {
		return append(append(ast.Path{}, base...), ast.PathName("edges"), ast.PathIndex(len(kept)), ast.PathName("node"))
	})
	return items, w.pageInfo(start, end, len(hits)), hits, nil
}

func window2items(hits []gateway.Hit, start, end int) []rankedItem {
	out := make([]rankedItem, 0, max(end-start, 0))
	for i := start; i < end; i++ {
		out = append(out, rankedItem{pos: i, hit: hits[i]})
	}
	return out
}

// pageInfo is the page info of positions [start, end) of n.
func (w window) pageInfo(start, end, n int) *model.PageInfo {
	pi := &model.PageInfo{HasNextPage: end < n, HasPreviousPage: start > 0}
	if end > start {
		s, e := w.cursor(start), w.cursor(end-1)
		pi.StartCursor, pi.EndCursor = &s, &e
	}
	return pi
}

// pageEnd is where a page of up to limit items from start ends: within the
// ceil(limit/completionBlock) blocks from the one start is in.
func pageEnd(starts []int, start, limit, n int) int {
	end := min(start+limit, n)
	blocks := max((limit+completionBlock-1)/completionBlock, 1)
	b := 0
	for b+1 < len(starts) && starts[b+1] <= start {
		b++
	}
	if b+blocks < len(starts) {
		end = min(end, starts[b+blocks])
	}
	return end
}

// pageStart is where a page of up to limit items ending at end starts:
// within the ceil(limit/completionBlock) blocks up to the one holding
// end-1, the mirror of pageEnd, so a backward page costs the same calls.
func pageStart(starts []int, start, end, limit int) int {
	if end <= start {
		return start
	}
	blocks := max((limit+completionBlock-1)/completionBlock, 1)
	b := 0
	for b+1 < len(starts) && starts[b+1] <= end-1 {
		b++
	}
	if first := b - blocks + 1; first > 0 {
		start = max(start, starts[first])
	}
	return start
}

// callPair is one provider call completing a page: a provider and a loader.
type callPair struct {
	provider string
	loader   any
}

// capCalls arranges ranked hits in blocks (see completionBlock) and
// returns them with each block's first position. costs gives the loaders
// completing an item of each kind. Within a block the ranked order
// (and so rank's diversity) is kept; an item whose new calls would exceed
// the budget waits for the next block. The arrangement depends only on the
// hits and the selection, so offset cursors into it are stable. Blocks
// are arranged until they hold the first upto positions; the rest follows
// in ranked order as one more block start. A block's content depends only
// on the blocks before it, so every position below upto, and the start of
// the block after, are what arranging all of them gives, and a page of 20
// costs two blocks' scan, not the 40 blocks of 400 candidates from
// distinct providers. Cost is O(blocks · n) for n hits.
func capCalls(hits []gateway.Hit, costs map[gid.Kind]completion, upto int) ([]gateway.Hit, []int) {
	out := make([]gateway.Hit, 0, len(hits))
	var starts []int
	// The blocks move positions in hits aside, not hits: a hit is some
	// hundred bytes, and setting 400 aside block after block was a fifth
	// of the garbage a search over the index left.
	rest, later := make([]int32, len(hits)), make([]int32, 0, len(hits))
	for i := range rest {
		rest[i] = int32(i)
	}
	pairs := make(map[callPair]bool, completionBudget)
	for len(rest) > 0 {
		starts = append(starts, len(out))
		if len(out) >= upto {
			for _, i := range rest {
				out = append(out, hits[i])
			}
			return out, starts
		}
		clear(pairs)
		later = later[:0]
		placed := 0
		for j, i := range rest {
			if placed == completionBlock {
				later = append(later, rest[j:]...)
				break
			}
			h := &hits[i]
			need := 0
			for _, l := range costs[h.Kind].loaders {
				if !pairs[callPair{h.Provider, l}] {
					need++
				}
			}
			if placed > 0 && len(pairs)+need > completionBudget {
				later = append(later, i)
				continue
			}
			for _, l := range costs[h.Kind].loaders {
				pairs[callPair{h.Provider, l}] = true
			}
			out = append(out, *h)
			placed++
		}
		rest, later = later, rest
	}
	return out, starts
}

// completion is what completing the items of one kind costs for this
// request: whether the provider's live object is needed at all (live), and
// the loaders the page then calls per provider (the kind's own when live,
// and those of the relations the request selects below it).
type completion struct {
	live    bool
	loaders []any
}

// indexFields are the fields of each kind served from the index: what does
// not change between pushes and the index holds as published. A request
// selecting only these (and relations keyed by the item's own ID: a
// store's delivery slots, a doctor's slots, a service's offices) costs no
// call for the items themselves.
var indexFields = map[gid.Kind]map[string]bool{
	gid.Product:    {"id": true, "name": true, "category": true, "tags": true, "rating": true, "provider": true, "__typename": true},
	gid.Store:      {"id": true, "name": true, "city": true, "address": true, "rating": true, "tags": true, "provider": true, "__typename": true, "deliverySlots": true, "products": true},
	gid.Doctor:     {"id": true, "name": true, "specialty": true, "city": true, "rating": true, "provider": true, "__typename": true, "slots": true},
	gid.Lawyer:     {"id": true, "name": true, "city": true, "rating": true, "provider": true, "__typename": true},
	gid.GovService: {"id": true, "name": true, "description": true, "category": true, "cities": true, "rating": true, "provider": true, "__typename": true, "offices": true},
}

// completions returns, for each kind of item a list can show, what
// completing it costs for the request's selection. Provider cards call
// nothing.
func (r *Resolver) completions(ctx context.Context) map[gid.Kind]completion {
	l := r.loaders(ctx)
	own := map[gid.Kind]any{gid.Product: gateway.Products.Of(l), gid.Store: gateway.Stores.Of(l), gid.Doctor: gateway.Doctors.Of(l),
		gid.Lawyer: gateway.Lawyers.Of(l), gid.GovService: gateway.Services.Of(l)}
	sel := map[gid.Kind]*selected{}
	for k := range own {
		sel[k] = &selected{loaders: map[any]bool{}}
	}
	fc, op := graphql.GetFieldContext(ctx), graphql.GetOperationContext(ctx)
	if fc != nil && op != nil && fc.Field.Field != nil && fc.Field.Definition != nil {
		relations.itemLoaders(op, fc.Field.Definition.Type.Name(), fc.Field.Selections, l, sel, 0)
	} else {
		for _, s := range sel {
			s.live = true // no selection to read: complete everything
		}
	}
	out := make(map[gid.Kind]completion, len(sel))
	for k, s := range sel {
		c := completion{live: s.live}
		if s.live {
			s.loaders[own[k]] = true
		}
		for ld := range s.loaders {
			c.loaders = append(c.loaders, ld)
		}
		out[k] = c
	}
	return out
}

// selected is what a request selects below the items of one kind.
type selected struct {
	live    bool
	loaders map[any]bool
}

// walkDepth bounds the selection walks below: the schema's lists nest a
// few levels (connection, edges, node, relation, relation).
const walkDepth = 8

// itemLoaders walks sel (of type typ) through plain fields down to the
// list's items (the types named by gid kinds in into) and adds the loaders
// of the relations selected below each.
func (s *relationSet) itemLoaders(op *graphql.OperationContext, typ string, sel ast.SelectionSet, l *gateway.Loaders, into map[gid.Kind]*selected, depth int) {
	def := s.schema.Types[typ]
	if def == nil || len(sel) == 0 || depth > walkDepth {
		return
	}
	for _, d := range s.schema.GetPossibleTypes(def) {
		if it, ok := into[gid.Kind(d.Name)]; ok {
			for _, f := range graphql.CollectFields(op, sel, s.satisfies[d.Name]) {
				if !indexFields[gid.Kind(d.Name)][f.Name] {
					it.live = true
				}
			}
			s.relationLoaders(op, d.Name, sel, l, it.loaders, 0)
			continue
		}
		for _, f := range graphql.CollectFields(op, sel, s.satisfies[d.Name]) {
			tf := typeField{d.Name, f.Name}
			fd := d.Fields.ForName(f.Name)
			if _, resolved := s.resolved[tf]; resolved || fd == nil {
				continue
			}
			s.itemLoaders(op, fd.Type.Name(), f.Selections, l, into, depth+1)
		}
	}
}

// relationLoaders adds to into the loaders of every relation sel selects
// below an object of type typ, at any depth.
func (s *relationSet) relationLoaders(op *graphql.OperationContext, typ string, sel ast.SelectionSet, l *gateway.Loaders, into map[any]bool, depth int) {
	def := s.schema.Types[typ]
	if def == nil || len(sel) == 0 || depth > walkDepth {
		return
	}
	for _, d := range s.schema.GetPossibleTypes(def) {
		for _, f := range graphql.CollectFields(op, sel, s.satisfies[d.Name]) {
			tf := typeField{d.Name, f.Name}
			if rel, ok := s.byField[tf]; ok {
				into[rel.loaderOf(l)] = true
				s.relationLoaders(op, s.targetOf(rel), f.Selections, l, into, depth+1)
				continue
			}
			fd := d.Fields.ForName(f.Name)
			if _, resolved := s.resolved[tf]; resolved || fd == nil {
				continue
			}
			s.relationLoaders(op, fd.Type.Name(), f.Selections, l, into, depth+1)
		}
	}
}

// completeHits replaces the index's view of each item (a *supply.Item) with
// the provider's live object: one batch per provider and kind through the
// request's loaders and the shared cache. An item its provider says is gone
// is dropped; one whose provider fails or times out is dropped too (never
// shown with the price it last published as if it were live), the provider
// is listed in extensions.plaza.degraded and its error reported once per
// provider and kind. An item served from a stale cache entry (the provider
// failed, the entry is within its stale window) is kept and its path listed
// in extensions.plaza.stale, like every stale-if-error answer: path
// returns the response path of an item about to follow those kept.
//
// Items of a kind whose selected fields all come from the index (costs'
// live is false) are not fetched: their value is built from the index.
func (r *Resolver) completeHits(ctx context.Context, items []rankedItem, costs map[gid.Kind]completion, path func(kept []rankedItem, it rankedItem) ast.Path) []rankedItem {
	byKind := map[gid.Kind][]gateway.Key{}
	for i, it := range items {
		if si, ok := it.hit.Value.(*supply.Item); ok {
			if !costs[it.hit.Kind].live {
				items[i].hit.Value = gateway.IndexValue(si)
				continue
			}
			byKind[it.hit.Kind] = append(byKind[it.hit.Kind], gateway.Key{Provider: it.hit.Provider, ID: it.hit.ID})
		}
	}
	if len(byKind) == 0 {
		return items
	}
	l := r.loaders(ctx)
	l.PrefetchByKind(ctx, byKind)
	type failure struct {
		provider string
		kind     gid.Kind
	}
	reported := map[failure]bool{}
	out := items[:0]
	for _, it := range items {
		if _, ok := it.hit.Value.(*supply.Item); !ok {
			out = append(out, it)
			continue
		}
		v, stale, err := l.Node(ctx, gid.ID{Kind: it.hit.Kind, Provider: it.hit.Provider, Local: it.hit.ID})
		if err != nil {
			if connectors.KindOf(err) == connectors.KindNotFound {
				continue // gone since it was published: the next push deletes it
			}
			gateway.StatsFrom(ctx).AddDegraded(it.hit.Provider, string(connectors.KindOf(err)))
			if f := (failure{it.hit.Provider, it.hit.Kind}); !reported[f] {
				reported[f] = true
				graphql.AddError(ctx, err)
			}
			continue
		}
		if stale {
			gateway.StatsFrom(ctx).AddStale(path(out, it).String())
		}
		it.hit.Value = v
		out = append(out, it)
	}
	return out
}
