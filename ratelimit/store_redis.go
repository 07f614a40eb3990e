package ratelimit

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"
)

// Defaults of the Redis store. A GCRA script on a healthy Redis answers in
// well under a millisecond; 100 ms means Redis is in trouble, and a request
// should not wait longer than that for its rate limit. After a failure the
// store stays on its in-process fallback for 5 s before trying Redis again,
// so an outage costs one slow request per 5 s, not one per request.
const (
	DefaultRedisTimeout  = 100 * time.Millisecond
	DefaultRedisCooldown = 5 * time.Second
)

// Redis is a GCRA limiter in Redis (go-redis/redis_rate), shared by every
// instance that uses the same prefix. When Redis fails or is slow, the
// decision is made by the fallback store instead and Redis is left alone for
// a cool-down; Allow itself never fails.
type Redis struct {
	limiter  *redis_rate.Limiter
	prefix   string
	fallback Store
	timeout  time.Duration
	cooldown time.Duration
	now      func() time.Time
	log      *slog.Logger
	downTill atomic.Int64 // unix nanos; Redis is skipped before then
	failures atomic.Int64
}

// RedisOption configures a Redis store.
type RedisOption func(*Redis)

// WithTimeout bounds one Redis decision (default 100 ms).
func WithTimeout(d time.Duration) RedisOption { return func(r *Redis) { r.timeout = d } }

// WithCooldown sets how long Redis is skipped after a failure (default 5 s).
func WithCooldown(d time.Duration) RedisOption { return func(r *Redis) { r.cooldown = d } }

// WithClock sets the clock for the cool-down (tests).
func WithClock(now func() time.Time) RedisOption { return func(r *Redis) { r.now = now } }

// WithLogger logs Redis failures (default: discarded).
func WithLogger(log *slog.Logger) RedisOption { return func(r *Redis) { r.log = log } }

// NewRedis returns a store keeping its state in client under prefix (e.g.
// "plaza:rl:v1:"), deciding with fallback while Redis is unavailable.
func NewRedis(client redis.UniversalClient, prefix string, fallback Store, opts ...RedisOption) *Redis {
	r := &Redis{limiter: redis_rate.NewLimiter(client), prefix: prefix, fallback: fallback,
		timeout: DefaultRedisTimeout, cooldown: DefaultRedisCooldown, now: time.Now,
		log: slog.New(slog.DiscardHandler)}
	for _, o := range opts {
		o(r)
	}
	return r
}

var _ Store = (*Redis)(nil)

// Healthy reports whether Redis answered the last decision (for /readyz).
func (r *Redis) Healthy() bool { return r.now().UnixNano() >= r.downTill.Load() }

// Failures returns how many decisions fell back because Redis failed.
func (r *Redis) Failures() int64 { return r.failures.Load() }

// Allow implements Store.
func (r *Redis) Allow(ctx context.Context, key string, l Limit) (Result, error) {
	if res, ok := allowAll(l); ok {
		return res, nil
	}
	if !r.Healthy() {
		return r.fallback.Allow(ctx, key, l)
	}
	rctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	res, err := r.limiter.Allow(rctx, r.prefix+key, redis_rate.Limit{Rate: l.Rate, Burst: l.Burst, Period: l.Period})
	if err != nil {
		if ctx.Err() != nil {
			// The client went away; that says nothing about Redis.
			return r.fallback.Allow(ctx, key, l)
		}
		r.failures.Add(1)
		if r.downTill.Swap(r.now().Add(r.cooldown).UnixNano()) < r.now().UnixNano() {
			r.log.WarnContext(ctx, "rate limit: Redis failed; limiting in-process", "err", err, "retry_in", r.cooldown)
		}
		return r.fallback.Allow(ctx, key, l)
	}
	out := Result{Allowed: res.Allowed > 0, Remaining: res.Remaining}
	if !out.Allowed {
		out.RetryAfter = res.RetryAfter
	}
	return out, nil
}
