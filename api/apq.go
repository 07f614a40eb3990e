package api

import (
	"context"
	"time"

	"github.com/plaza-gateway/plaza/cache"
)

// apqCache keeps automatic persisted queries in the shared cache, so a hash
// registered through one instance is known to all of them.
type apqCache struct {
	c   cache.Cache
	ttl time.Duration
}

// apqPrefix namespaces persisted queries among the cache's keys.
const apqPrefix = "apq:"

// Get implements graphql.Cache.
func (a apqCache) Get(ctx context.Context, hash string) (string, bool) {
	es, err := a.c.GetMany(ctx, []string{apqPrefix + hash})
	if err != nil || len(es) != 1 || !es[0].Found {
		return "", false
	}
	return string(es[0].Value), true
}

// Add implements graphql.Cache. A failed write is a later miss: the client
// then sends the full document again, as the APQ protocol expects.
func (a apqCache) Add(ctx context.Context, hash, query string) {
	_ = a.c.SetMany(ctx, []cache.Item{{Key: apqPrefix + hash, Value: []byte(query), TTL: a.ttl}})
}
