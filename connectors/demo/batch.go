package demo

import (
	"context"
	"sync"

	"github.com/plaza-gateway/plaza/connectors"
)

// batch answers a by-ID call: exactly one Result per id, in request order,
// duplicates included, each value a copy. The caller holds the read lock.
func batch[V, T any](ids []string, m map[string]V, kind string, clone func(V) T) []connectors.Result[T] {
	out := make([]connectors.Result[T], len(ids))
	for i, id := range ids {
		if v, ok := m[id]; ok {
			out[i].Value = clone(v)
		} else {
			out[i].Err = connectors.NotFound(kind, id)
		}
	}
	return out
}

// lockedBatch is batch under mu's read lock, for a caller whose context is
// still live: the by-ID methods of every demo provider.
func lockedBatch[V, T any](ctx context.Context, mu *sync.RWMutex, ids []string, m map[string]V, kind string, clone func(V) T) ([]connectors.Result[T], error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	mu.RLock()
	defer mu.RUnlock()
	return batch(ids, m, kind, clone), nil
}
