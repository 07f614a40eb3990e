package live

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// Seats counts a user's open subscriptions over every instance, so that
// Limits.PerUser holds for the cluster. Without Seats a hub counts its own
// instance's only.
type Seats interface {
	// Take gives the user one of max seats and names it, or reports
	// false when all are taken.
	Take(ctx context.Context, user string, max int) (seat string, ok bool, err error)
	// Release frees a seat Take gave.
	Release(user, seat string)
}

// DefaultSeatPrefix prefixes the per-user sorted sets of RedisSeats.
const DefaultSeatPrefix = "plaza:v1:subs:"

// DefaultSeatTTL is how long a seat outlives its instance's last
// heartbeat (every TTL/3): a crashed instance's seats free themselves
// after that.
const DefaultSeatTTL = 90 * time.Second

// RedisSeats keeps each user's seats in one sorted set (prefix+user) of
// seat names scored by when they expire. Taking a seat first drops the
// expired ones, so the seats of an instance that died without releasing
// them age out; each live instance pushes its own seats' expiry forward
// (Run). The set of a user with no open subscription expires itself.
type RedisSeats struct {
	client   redis.UniversalClient
	prefix   string
	ttl      time.Duration
	instance string // names this instance's seats
	next     atomic.Uint64
	log      *slog.Logger
	// Now is the clock (tests move it instead of sleeping for a TTL).
	Now func() time.Time

	mu   sync.Mutex
	open map[string]string // this instance's seats: seat -> user
}

var _ Seats = (*RedisSeats)(nil)

// NewRedisSeats returns seats under prefix (DefaultSeatPrefix when empty)
// lasting ttl past the last heartbeat (DefaultSeatTTL when zero).
func NewRedisSeats(client redis.UniversalClient, prefix string, ttl time.Duration, log *slog.Logger) *RedisSeats {
	if prefix == "" {
		prefix = DefaultSeatPrefix
	}
	if ttl <= 0 {
		ttl = DefaultSeatTTL
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	var id [8]byte
	_, _ = rand.Read(id[:]) // never fails (crypto/rand)
	return &RedisSeats{client: client, prefix: prefix, ttl: ttl, instance: hex.EncodeToString(id[:]),
		log: log, Now: time.Now, open: map[string]string{}}
}

// takeSeat drops the expired seats, then adds one unless max are held.
// KEYS[1] the user's set; ARGV now, expiry (ms), max, seat, key TTL (ms).
var takeSeat = redis.NewScript(`
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then return 0 end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return 1`)

// seatTimeout bounds a seat's Redis calls: with Redis down a subscription
// goes on under the instance's count (fail open) after that long at most,
// rather than after the client's dial timeouts and retries.
const seatTimeout = time.Second

func (s *RedisSeats) Take(ctx context.Context, user string, max int) (string, bool, error) {
	ctx, cancel := context.WithTimeout(ctx, seatTimeout)
	defer cancel()
	seat := s.instance + ":" + strconv.FormatUint(s.next.Add(1), 36)
	now := s.Now()
	n, err := takeSeat.Run(ctx, s.client, []string{s.prefix + user},
		now.UnixMilli(), now.Add(s.ttl).UnixMilli(), max, seat, s.ttl.Milliseconds()).Int()
	if err != nil {
		return "", false, fmt.Errorf("live: take a seat: %w", err)
	}
	if n == 0 {
		return "", false, nil
	}
	s.mu.Lock()
	s.open[seat] = user
	s.mu.Unlock()
	return seat, true, nil
}

// Release frees the seat at once; if Redis cannot be reached it expires
// by itself, since no heartbeat renews it any more.
func (s *RedisSeats) Release(user, seat string) {
	s.mu.Lock()
	delete(s.open, seat)
	s.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), seatTimeout)
	defer cancel()
	if err := s.client.ZRem(ctx, s.prefix+user, seat).Err(); err != nil {
		s.log.Warn("live: release a subscription seat (it expires by itself)", "err", err)
	}
}

// Heartbeat pushes the expiry of this instance's open seats forward, in
// one pipeline (ZADD XX: a seat released meanwhile is not brought back).
func (s *RedisSeats) Heartbeat(ctx context.Context) error {
	s.mu.Lock()
	open := make(map[string]string, len(s.open))
	for seat, user := range s.open {
		open[seat] = user
	}
	s.mu.Unlock()
	if len(open) == 0 {
		return nil
	}
	exp := float64(s.Now().Add(s.ttl).UnixMilli())
	_, err := s.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		for seat, user := range open {
			p.ZAddXX(ctx, s.prefix+user, redis.Z{Score: exp, Member: seat})
			p.PExpire(ctx, s.prefix+user, s.ttl)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("live: renew subscription seats: %w", err)
	}
	return nil
}

// Run renews this instance's seats every TTL/3 until ctx ends.
func (s *RedisSeats) Run(ctx context.Context) {
	t := time.NewTicker(s.ttl / 3)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := s.Heartbeat(ctx); err != nil && ctx.Err() == nil {
				s.log.Warn("live: subscription seats not renewed", "err", err)
			}
		}
	}
}
