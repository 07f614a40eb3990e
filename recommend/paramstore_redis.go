package recommend

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// RedisParamStore keeps parameters in Redis, where every instance reads
// them, and takes the fitting lock there (SET NX PX with a random token,
// released only by its holder).
type RedisParamStore struct {
	client redis.UniversalClient
	prefix string
	ttl    time.Duration
}

var _ ParamStore = (*RedisParamStore)(nil)

// DefaultParamPrefix is the key prefix of stored parameters.
const DefaultParamPrefix = "plaza:v1:rec:"

// NewRedisParamStore stores under prefix (empty: DefaultParamPrefix).
// Stored parameters expire after ttl (default 30 days) so an abandoned
// deployment leaves nothing behind; a running refit rewrites them well
// before.
func NewRedisParamStore(client redis.UniversalClient, prefix string, ttl time.Duration) *RedisParamStore {
	if prefix == "" {
		prefix = DefaultParamPrefix
	}
	if ttl <= 0 {
		ttl = 30 * 24 * time.Hour
	}
	return &RedisParamStore{client: client, prefix: prefix, ttl: ttl}
}

func (s *RedisParamStore) paramsKey() string { return s.prefix + "params" }
func (s *RedisParamStore) lockKey() string   { return s.prefix + "fit-lock" }

// Load implements ParamStore.
func (s *RedisParamStore) Load(ctx context.Context) (Params, bool, error) {
	b, err := s.client.Get(ctx, s.paramsKey()).Bytes()
	if errors.Is(err, redis.Nil) {
		return Params{}, false, nil
	}
	if err != nil {
		return Params{}, false, fmt.Errorf("recommend: load params: %w", err)
	}
	var p Params
	if err := json.Unmarshal(b, &p); err != nil {
		return Params{}, false, fmt.Errorf("recommend: stored params: %w", err)
	}
	return p, true, nil
}

// Save implements ParamStore.
func (s *RedisParamStore) Save(ctx context.Context, p Params) error {
	b, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("recommend: encode params: %w", err)
	}
	if err := s.client.Set(ctx, s.paramsKey(), b, s.ttl).Err(); err != nil {
		return fmt.Errorf("recommend: save params: %w", err)
	}
	return nil
}

// unlock deletes the lock only if it still holds our token: a fit that
// overran its ttl must not free a lock another instance has since taken.
var unlock = redis.NewScript(`if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("DEL", KEYS[1]) end return 0`)

// TryLock implements ParamStore.
func (s *RedisParamStore) TryLock(ctx context.Context, ttl time.Duration) (func(), bool, error) {
	var b [16]byte
	_, _ = rand.Read(b[:])
	token := hex.EncodeToString(b[:])
	ok, err := s.client.SetNX(ctx, s.lockKey(), token, ttl).Result()
	if err != nil {
		return nil, false, fmt.Errorf("recommend: fit lock: %w", err)
	}
	if !ok {
		return nil, false, nil
	}
	return func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		defer cancel()
		_ = unlock.Run(ctx, s.client, []string{s.lockKey()}, token).Err()
	}, true, nil
}
