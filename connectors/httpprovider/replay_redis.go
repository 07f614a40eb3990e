package httpprovider

import (
	"context"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// redisReplayTimeout bounds one SET NX. A replay check that cannot finish in
// a second is treated as Redis being down (the request is refused with a
// retry hint) rather than holding the provider's connection.
const redisReplayTimeout = time.Second

// RedisReplayCache is a ReplayCache shared by every instance through Redis:
// a request accepted by one instance is a replay on all the others. Each
// accepted signature is one key (prefix + 32 hex digits) set with SET NX and
// a TTL of two replay windows, so Redis holds at most two windows of
// accepted requests and nothing per provider.
type RedisReplayCache struct {
	client redis.UniversalClient
	prefix string
	ttl    time.Duration
}

var _ ReplayCache = (*RedisReplayCache)(nil)

// NewRedisReplayCache stores signatures under prefix (e.g.
// "plaza:v1:webhook-nonce:") for requests accepted within window
// (DefaultReplayWindow when not positive).
func NewRedisReplayCache(client redis.UniversalClient, prefix string, window time.Duration) *RedisReplayCache {
	if window <= 0 {
		window = DefaultReplayWindow
	}
	return &RedisReplayCache{client: client, prefix: prefix, ttl: replayTTL(window)}
}

// Add records mac with SET NX and reports whether it was new. Any Redis
// failure is returned: the caller fails closed.
func (c *RedisReplayCache) Add(ctx context.Context, mac []byte) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, redisReplayTimeout)
	defer cancel()
	key := c.prefix + hex.EncodeToString(mac[:min(len(mac), 16)])
	fresh, err := c.client.SetNX(ctx, key, 1, c.ttl).Result()
	if err != nil {
		return false, fmt.Errorf("redis replay cache: %w", err)
	}
	return fresh, nil
}
