package resolvers

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"strconv"
	"strings"

	"github.com/99designs/gqlgen/graphql"

	"github.com/plaza-gateway/plaza/connectors"
	"github.com/plaza-gateway/plaza/graph/model"
)

// window is a validated slice of a merged list: start at offset, take
// limit. scope names the query its cursors belong to.
type window struct {
	offset, limit int
	scope         string
	// back: the window ends at end (exclusive; -1 for the list's end) and
	// takes the limit items before it (`last`/`before`); offset is then
	// worked out against the list.
	back bool
	end  int
}

// window validates `first` and `after`. Merged lists (search, browse, the
// user's lists) page by offset into a total, deterministic order, so an
// offset cursor is stable: no item twice, none missing. A cursor is bound
// to the query that made it (the field and its arguments but the paging
// ones): another query's cursor is BAD_USER_INPUT on `after`, since its
// offset means nothing there.
func (r *Resolver) window(ctx context.Context, first *int, after *string) (window, error) {
	cfg := r.gw.Config()
	w := window{limit: cfg.DefaultFirst, scope: queryScope(ctx)}
	if first != nil {
		switch {
		case *first < 0:
			return w, connectors.Errorf(connectors.KindInvalid, "first must not be negative")
		case *first > cfg.MaxFirst:
			return w, connectors.Errorf(connectors.KindInvalid, "first must be at most %d, got %d", cfg.MaxFirst, *first)
		}
		w.limit = *first
	}
	if after != nil && *after != "" {
		off, err := decodeOffset(*after, w.scope, "after")
		if err != nil {
			return w, err
		}
		w.offset = off + 1
	}
	return w, nil
}

const offsetPrefix = "o:"

// queryScope fingerprints the field being resolved and its arguments,
// without the paging ones: 8 hex digits of SHA-256, enough to tell queries
// apart (a collision only lets an offset through, which is what a cursor
// carried before it was bound). Empty outside a field (tests).
func queryScope(ctx context.Context) string {
	fc := graphql.GetFieldContext(ctx)
	if fc == nil || fc.Field.Field == nil {
		return ""
	}
	args := make(map[string]any, len(fc.Args))
	for k, v := range fc.Args {
		if k != "first" && k != "after" && k != "last" && k != "before" {
			args[k] = v
		}
	}
	b, _ := json.Marshal(args) // sorted keys: the same arguments, the same bytes
	h := sha256.Sum256(append([]byte(fc.Object+"."+fc.Field.Name+"\x00"), b...))
	return hex.EncodeToString(h[:4])
}

// cursor is the cursor of position i of w's list.
func (w window) cursor(i int) string {
	s := offsetPrefix + strconv.Itoa(i)
	if w.scope != "" {
		s += ":" + w.scope
	}
	return base64.RawURLEncoding.EncodeToString([]byte(s))
}

// decodeOffset reads a cursor of the query scope. A cursor without a scope
// (issued before cursors were bound) is still read, so clients paging
// across the deploy that bound them are not cut off.
func decodeOffset(c, scope, arg string) (int, error) {
	raw, err := base64.RawURLEncoding.DecodeString(c)
	if err == nil && strings.HasPrefix(string(raw), offsetPrefix) {
		num, got, bound := strings.Cut(string(raw[len(offsetPrefix):]), ":")
		if n, err := strconv.Atoi(num); err == nil && n >= 0 && n < 1<<30 {
			if bound && got != scope {
				return 0, &ArgError{Arg: arg, Err: connectors.Errorf(connectors.KindInvalid,
					"cursor %q belongs to another query: page with the cursors of the same query and arguments", truncate(c, 64))}
			}
			return n, nil
		}
	}
	return 0, &ArgError{Arg: arg, Err: connectors.Errorf(connectors.KindInvalid, "invalid cursor %q", truncate(c, 64))}
}

// backWindow validates `last` and `before` (backward paging), which do not
// mix with `first` and `after`: a window of the last items before the
// cursor `before`, or of the list's end without one.
func (r *Resolver) backWindow(ctx context.Context, first *int, after *string, last *int, before *string) (window, error) {
	if last == nil && before == nil {
		return r.window(ctx, first, after)
	}
	if first != nil || (after != nil && *after != "") {
		return window{}, &ArgError{Arg: "last", Err: connectors.Errorf(connectors.KindInvalid,
			"page forward with first/after or backward with last/before, not both")}
	}
	cfg := r.gw.Config()
	w := window{limit: cfg.DefaultFirst, scope: queryScope(ctx), back: true, end: -1}
	if last != nil {
		if *last < 0 || *last > cfg.MaxFirst {
			return w, &ArgError{Arg: "last", Err: connectors.Errorf(connectors.KindInvalid, "last must be 0 to %d, got %d", cfg.MaxFirst, *last)}
		}
		w.limit = *last
	}
	if before != nil && *before != "" {
		off, err := decodeOffset(*before, w.scope, "before")
		if err != nil {
			return w, err
		}
		w.end = off
	}
	return w, nil
}

// bounds are the positions [start, end) of w in a list of n.
func (w window) bounds(n int) (start, end int) {
	if !w.back {
		start = min(w.offset, n)
		return start, min(start+w.limit, n)
	}
	end = n
	if w.end >= 0 {
		end = min(w.end, n)
	}
	return max(end-w.limit, 0), end
}

// paginate cuts the window out of items and builds edges with edge.
func paginate[T, E any](items []T, w window, edge func(cursor string, t T) E) ([]E, *model.PageInfo) {
	start := min(w.offset, len(items))
	end := min(start+w.limit, len(items))
	edges := make([]E, 0, end-start)
	for i := start; i < end; i++ {
		edges = append(edges, edge(w.cursor(i), items[i]))
	}
	return edges, w.pageInfo(start, end, len(items))
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
