package demo

import "github.com/plaza-gateway/plaza/connectors"

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
