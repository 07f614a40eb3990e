package resolvers

import (
	"encoding/base64"
	"strconv"
	"strings"

	"github.com/plaza-gateway/plaza/connectors"
	"github.com/plaza-gateway/plaza/graph/model"
)

// window is a validated slice of a merged list: start at offset, take limit.
type window struct{ offset, limit int }

// window validates `first` and `after`. Merged lists (search, browse, the
// user's lists) page by offset into a total, deterministic order, so an
// offset cursor is stable: no item twice, none missing.
func (r *Resolver) window(first *int, after *string) (window, error) {
	cfg := r.gw.Config()
	w := window{limit: cfg.DefaultFirst}
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
		off, err := decodeOffset(*after)
		if err != nil {
			return w, err
		}
		w.offset = off + 1
	}
	return w, nil
}

const offsetPrefix = "o:"

func offsetCursor(i int) string {
	return base64.RawURLEncoding.EncodeToString([]byte(offsetPrefix + strconv.Itoa(i)))
}

func decodeOffset(c string) (int, error) {
	raw, err := base64.RawURLEncoding.DecodeString(c)
	if err == nil && strings.HasPrefix(string(raw), offsetPrefix) {
		if n, err := strconv.Atoi(string(raw[len(offsetPrefix):])); err == nil && n >= 0 && n < 1<<30 {
			return n, nil
		}
	}
	return 0, connectors.Errorf(connectors.KindInvalid, "invalid cursor %q", truncate(c, 64))
}

// paginate cuts the window out of items and builds edges with edge.
func paginate[T, E any](items []T, w window, edge func(cursor string, t T) E) ([]E, *model.PageInfo) {
	start := min(w.offset, len(items))
	end := min(start+w.limit, len(items))
	edges := make([]E, 0, end-start)
	for i := start; i < end; i++ {
		edges = append(edges, edge(offsetCursor(i), items[i]))
	}
	pi := &model.PageInfo{HasNextPage: end < len(items), HasPreviousPage: start > 0}
	if end > start {
		s, e := offsetCursor(start), offsetCursor(end-1)
		pi.StartCursor, pi.EndCursor = &s, &e
	}
	return edges, pi
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
