package gateway

import (
	"context"
	"strings"
	"time"

	"github.com/plaza-gateway/plaza/cache"
)

// searchSessionTTL is how long a ranked order stays pinned for paging.
const searchSessionTTL = 10 * time.Minute

// pinOrder stores (fresh) or applies (later pages) the ranked order of a
// search session. Applying keeps the stored order for the items still
// present and appends new ones in their ranked order; items that vanished
// simply drop out. Without a stored order (expired, or the cache was down)
// the fresh ranking is stored and returned.
func (c *EntityCache) pinOrder(ctx context.Context, session string, fresh bool, ranked []Hit) []Hit {
	key := "search:" + session
	if !fresh {
		es, err := c.store.GetMany(ctx, []string{key})
		if err == nil && len(es) == 1 && es[0].Found {
			return applyOrder(ranked, strings.Split(string(es[0].Value), "\n"))
		}
	}
	keys := make([]string, len(ranked))
	for i, h := range ranked {
		keys[i] = hitKey(h)
	}
	// Best effort: without the stored order the next page re-ranks.
	_ = c.store.SetMany(ctx, []cache.Item{{Key: key, Value: []byte(strings.Join(keys, "\n")), TTL: searchSessionTTL}})
	return ranked
}

func hitKey(h Hit) string { return string(h.Kind) + "\x00" + h.Provider + "\x00" + h.ID }

func applyOrder(ranked []Hit, order []string) []Hit {
	byKey := make(map[string]int, len(ranked))
	for i, h := range ranked {
		byKey[hitKey(h)] = i
	}
	out := make([]Hit, 0, len(ranked))
	used := make([]bool, len(ranked))
	for _, k := range order {
		if i, ok := byKey[k]; ok && !used[i] {
			used[i] = true
			out = append(out, ranked[i])
		}
	}
	for i, h := range ranked {
		if !used[i] {
			out = append(out, h)
		}
	}
	return out
}
