package resolvers

import (
	"context"
	"encoding/base64"
	"strconv"
	"strings"

	"github.com/99designs/gqlgen/graphql"

	"github.com/plaza-gateway/plaza/connectors"
	"github.com/plaza-gateway/plaza/gateway"
	"github.com/plaza-gateway/plaza/gid"
	"github.com/plaza-gateway/plaza/graph/model"
	"github.com/plaza-gateway/plaza/listexec"
)

// userIssuer is the "provider" part of User global IDs: users belong to
// Plaza's identity, not to a provider.
const userIssuer = "plaza"

// decode parses a global ID the client sent for an object of kind want.
// Anything that is not such an ID is BAD_USER_INPUT, never a panic.
func decode(id string, want gid.Kind) (gateway.Key, error) {
	g, err := gid.DecodeKind(id, want)
	if err != nil {
		return gateway.Key{}, connectors.Errorf(connectors.KindInvalid, "invalid %s id %q", want, truncate(id, 80))
	}
	return gateway.KeyOf(g), nil
}

// provider returns the Provider model for a provider ID from the request's
// registry snapshot.
func (r *Resolver) provider(ctx context.Context, id string) (*model.Provider, error) {
	c, ok := r.loaders(ctx).Registry().Get(id)
	if !ok {
		return nil, connectors.Errorf(connectors.KindNotFound, "provider %q not found", id)
	}
	return toProvider(c.Describe()), nil
}

// node fetches any Node by global ID: providers and users here, every
// declared kind through its loader (gateway/kinds.go).
func (r *Resolver) node(ctx context.Context, id string) (model.Node, error) {
	g, err := gid.Decode(id)
	n, stale, err := r.nodeOf(ctx, id, g, err)
	if stale {
		gateway.StatsFrom(ctx).AddStale(graphql.GetPath(ctx).String())
	}
	return n, err
}

// nodeOf is node with id decoded already (g, or err from gid.Decode):
// nodes(ids:) decodes each ID once for its prefetch and its element. It
// reports whether the object was served from a stale cache entry, for the
// caller to mark at the field's path.
func (r *Resolver) nodeOf(ctx context.Context, id string, g gid.ID, err error) (n model.Node, stale bool, _ error) {
	if err != nil {
		return nil, false, connectors.Errorf(connectors.KindInvalid, "invalid id %q: not a Plaza global ID", truncate(id, 80))
	}
	switch g.Kind {
	case gid.Provider:
		p, err := r.provider(ctx, g.Provider)
		if err != nil {
			return nil, false, err // not a typed nil in the interface
		}
		return p, false, nil
	case gid.User:
		me, err := user(ctx)
		if err != nil || g.Provider != userIssuer || g.Local != me {
			return nil, false, connectors.Errorf(connectors.KindNotFound, "User not found")
		}
		return &model.User{ID: id}, false, nil
	}
	v, stale, err := r.loaders(ctx).NodeRef(ctx, g)
	if err != nil {
		return nil, false, err
	}
	if n = toModel(g.Provider, v); n == nil {
		return nil, false, connectors.Errorf(connectors.KindInternal, "%s has no model", g.Kind)
	}
	return n, stale, nil
}

// nodes fetches many Nodes (prefetched as one batch per provider and kind);
// each failure nulls its own entry and adds an error with its index in path.
func (r *Resolver) nodes(ctx context.Context, ids []string) ([]model.Node, error) {
	if max := r.gw.Config().MaxIDs; len(ids) > max {
		return nil, connectors.Errorf(connectors.KindInvalid, "at most %d ids per call, got %d", max, len(ids))
	}
	gids, errs := make([]gid.ID, len(ids)), make([]error, len(ids))
	gid.DecodeAll(ids, gids, errs)
	r.prefetchIDs(ctx, gids, errs)
	out := make([]model.Node, len(ids))
	// In order while the prefetch answers them; concurrently (so that any
	// loads still meet in one batch) from the first that needs I/O.
	listexec.Each(ctx, len(ids), func(ctx context.Context, i int) {
		n, stale, err := r.nodeOf(ctx, ids[i], gids[i], errs[i])
		if err != nil || stale {
			// The element's own path, so its error or stale mark names
			// nodes[i]; made only then (nothing else reads it).
			ictx := graphql.WithPathContext(ctx, graphql.NewPathWithIndex(i))
			if err != nil {
				graphql.AddError(ictx, err)
				return
			}
			gateway.StatsFrom(ictx).AddStale(graphql.GetPath(ictx).String())
		}
		out[i] = n
	})
	return prefetch(ctx, r, out), nil
}

// nodeRoot is the root `node(id:)` field: the object, and the levels below
// it the query selects (a product's store), are fetched at once rather than
// after the loaders' batch wait.
//
// Only when it is the operation's one root field: sibling root fields (say
// `a: node(...) b: node(...)`) run concurrently and are better served by one
// loader batch together.
func (r *Resolver) nodeRoot(ctx context.Context, id string) (model.Node, error) {
	if op := graphql.GetOperationContext(ctx); op == nil || op.Operation == nil || len(op.Operation.SelectionSet) != 1 {
		return r.node(ctx, id)
	}
	g, err := gid.Decode(id)
	r.prefetchIDs(ctx, []gid.ID{g}, []error{err})
	n, stale, err := r.nodeOf(ctx, id, g, err)
	if stale {
		gateway.StatsFrom(ctx).AddStale(graphql.GetPath(ctx).String())
	}
	if err != nil {
		return nil, err
	}
	return prefetch(ctx, r, n), nil
}

// searchPage runs a merged search (over the index when the gateway has
// one) and returns the requested window of it as edges.
// pageArgs are a list's paging arguments: forward with first/after or
// backward with last/before, as `search` pages.
type pageArgs struct {
	first, last   *int
	after, before *string
}

func searchPage[E any](ctx context.Context, r *Resolver, p gateway.SearchParams, a pageArgs, edge func(cursor string, h gateway.Hit) E) ([]E, *model.PageInfo, int, error) {
	w, err := r.backWindow(ctx, a.first, a.after, a.last, a.before)
	if err != nil {
		return nil, nil, 0, err
	}
	cursor := a.after
	if w.back {
		cursor = a.before
	}
	items, pi, all, err := r.rankedPage(ctx, p, w, cursor)
	if err != nil {
		return nil, nil, 0, err
	}
	edges := make([]E, len(items))
	for i, it := range items {
		edges[i] = edge(w.cursor(it.pos), it.hit)
	}
	return edges, pi, len(all), nil
}

func hitModel[M any](h gateway.Hit) M {
	m, _ := toModel(h.Provider, h.Value).(M)
	return m
}

func searchParams(kind gid.Kind, text, city *string) gateway.SearchParams {
	return gateway.SearchParams{Kinds: []gid.Kind{kind}, Text: deref(text), City: deref(city)}
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// storeProducts pages through one store's products in the provider's own
// order. An edge cursor is (provider cursor of its page, index in page), so
// any edge can be resumed from without the gateway holding state.
func (r *Resolver) storeProducts(ctx context.Context, store gateway.Key, text *string, first *int, after *string) (*model.ProductConnection, error) {
	if err := checkTexts(textArg{"text", text}); err != nil {
		return nil, err
	}
	w, err := r.window(ctx, first, nil)
	if err != nil {
		return nil, err
	}
	pageCursor, skip := "", 0
	if after != nil && *after != "" {
		if pageCursor, skip, err = decodeProviderCursor(*after); err != nil {
			return nil, err
		}
	}
	page, err := r.gw.StoreProducts(ctx, store, connectors.Query{Text: deref(text), First: skip + w.limit + 1, After: pageCursor})
	if err != nil {
		return nil, err
	}
	items := page.Items[min(skip, len(page.Items)):]
	more := len(items) > w.limit || page.NextCursor != ""
	items = items[:min(w.limit, len(items))]
	conn := &model.ProductConnection{TotalCount: page.Total, PageInfo: &model.PageInfo{HasNextPage: more, HasPreviousPage: pageCursor != "" || skip > 0}}
	for i, p := range items {
		c := providerCursor(pageCursor, skip+i+1)
		conn.Edges = append(conn.Edges, &model.ProductEdge{Cursor: c, Node: toProduct(store.Provider, p)})
	}
	if n := len(conn.Edges); n > 0 {
		conn.PageInfo.StartCursor, conn.PageInfo.EndCursor = &conn.Edges[0].Cursor, &conn.Edges[n-1].Cursor
	} else {
		conn.Edges = []*model.ProductEdge{}
	}
	return conn, nil
}

const providerCursorPrefix = "p:"

func providerCursor(page string, skip int) string {
	return base64.RawURLEncoding.EncodeToString([]byte(providerCursorPrefix + strconv.Itoa(skip) + ":" + page))
}

func decodeProviderCursor(c string) (string, int, error) {
	raw, err := base64.RawURLEncoding.DecodeString(c)
	if err == nil {
		if rest, ok := strings.CutPrefix(string(raw), providerCursorPrefix); ok {
			n, page, ok := strings.Cut(rest, ":")
			if skip, err := strconv.Atoi(n); ok && err == nil && skip >= 0 && skip <= 10000 {
				return page, skip, nil
			}
		}
	}
	return "", 0, connectors.Errorf(connectors.KindInvalid, "invalid cursor %q", truncate(c, 64))
}

// ownedList pages through one of the user's merged lists.
func ownedList[T, E any](ctx context.Context, r *Resolver, list func(context.Context, string) ([]gateway.Sourced[T], []error), first *int, after *string, edge func(cursor string, s gateway.Sourced[T]) E) ([]E, *model.PageInfo, int, error) {
	w, err := r.window(ctx, first, after)
	if err != nil {
		return nil, nil, 0, err
	}
	me, err := user(ctx)
	if err != nil {
		return nil, nil, 0, err
	}
	items, errs := list(ctx, me)
	addErrors(ctx, errs)
	edges, pi := paginate(items, w, edge)
	return edges, pi, len(items), nil
}
