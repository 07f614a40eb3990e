package cache

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

var (
	_ Cache       = (*Redis)(nil)
	_ Invalidator = (*Redis)(nil)
)

// Redis is a Cache on a go-redis client (single node, Sentinel or Cluster).
//
// Reads and writes never return a Redis failure: every call is bounded by a timeout (WithTimeout, default 50 ms). The
// first network error marks Redis unhealthy, and so does a timeout once a PING given the probe interval to answer
// fails too (a saturated instance misses deadlines on its own). While unhealthy, GetMany answers all misses and SetMany,
// DeleteMany and PublishInvalidation do nothing, without touching the network; a background PING every
// WithProbeInterval (default 500 ms) marks it healthy again. Each transition is logged once.
//
// DeleteMany is the exception: a delete that did not happen returns ErrUnavailable. The old value would stay in
// Redis until it expires and be served again once Redis is back, so a caller that promises the value is gone (the
// invalidation webhook) must know, and ask its client to retry.
type Redis struct {
	client        redis.UniversalClient
	prefix        string
	channel       string
	timeout       time.Duration
	probeInterval time.Duration
	now           func() time.Time
	logger        *slog.Logger
	// batchWithMGET is true for a single-node client, where one MGET or DEL serves the whole batch. A Cluster
	// rejects multi-key commands across hash slots, so there every key gets its own command in one pipeline, which
	// go-redis splits by node.
	batchWithMGET bool

	healthy    atomic.Bool
	confirming atomic.Bool // a timeout is being confirmed (confirm)
	stats      counters

	mu     sync.Mutex // guards closed and starting probes
	closed bool
	done   chan struct{}
	probes sync.WaitGroup
}

// NewRedis returns a Redis cache on client, which the caller keeps owning (Close does not close it). It assumes Redis
// is healthy until a call fails. Options used: WithPrefix, WithTimeout, WithProbeInterval, WithClock, WithLogger.
func NewRedis(client redis.UniversalClient, opts ...Option) *Redis {
	cfg := newConfig(opts)
	_, single := client.(*redis.Client)
	r := &Redis{
		client:        client,
		prefix:        cfg.prefix,
		channel:       cfg.prefix + "invalidate",
		timeout:       cfg.timeout,
		probeInterval: cfg.probeInterval,
		now:           cfg.now,
		logger:        cfg.logger,
		batchWithMGET: single,
		done:          make(chan struct{}),
	}
	r.healthy.Store(true)
	return r
}

// Healthy reports whether Redis is in use (false while bypassing it after a failure). /readyz reports "degraded"
// rather than failing when it is false: Plaza keeps serving from the providers.
func (r *Redis) Healthy() bool { return r.healthy.Load() }

// Stats returns per-tier totals.
func (r *Redis) Stats() Stats { return r.stats.snapshot() }

// Close stops the background probe. It does not close the client.
func (r *Redis) Close() {
	r.mu.Lock()
	if !r.closed {
		r.closed = true
		close(r.done)
	}
	r.mu.Unlock()
	r.probes.Wait()
}

// GetMany implements Cache. It never returns an error: Redis failures and undecodable values are misses. A read asked
// with a patient context (Tiered's background refresh, which no request waits for) is bounded by that context's
// deadline instead of the timeout.
func (r *Redis) GetMany(ctx context.Context, keys []string) ([]Entry, error) {
	entries := make([]Entry, len(keys))
	if len(keys) == 0 {
		return entries, nil
	}
	if !r.healthy.Load() {
		r.stats.bypassed.Add(1)
		r.stats.misses.Add(uint64(len(keys)))
		return entries, nil
	}
	timeout := r.timeout
	if deadline, ok := ctx.Deadline(); ok && ctx.Value(patientKey{}) != nil {
		timeout = time.Until(deadline)
	}
	raw, err := bounded(ctx, timeout, func(ctx context.Context) ([][]byte, error) { return r.get(ctx, keys) })
	if err != nil {
		r.failed(ctx, "get", err)
		r.stats.misses.Add(uint64(len(keys)))
		return entries, nil
	}
	now := r.now()
	for i, b := range raw {
		if b == nil {
			continue
		}
		e, err := decodeEntry(b, now)
		if err != nil {
			// Someone else's value under our prefix; treat it as absent rather than guess.
			r.stats.errors.Add(1)
			continue
		}
		entries[i] = e
	}
	r.stats.count(entries)
	return entries, nil
}

// get returns the raw stored value per key, nil for a miss.
func (r *Redis) get(ctx context.Context, keys []string) ([][]byte, error) {
	out := make([][]byte, len(keys))
	if r.batchWithMGET {
		vals, err := r.client.MGet(ctx, r.prefixed(keys)...).Result()
		if err != nil {
			return nil, err
		}
		for i, v := range vals {
			if s, ok := v.(string); ok {
				out[i] = []byte(s)
			}
		}
		return out, nil
	}
	cmds := make([]*redis.StringCmd, len(keys))
	_, err := r.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, k := range keys {
			cmds[i] = p.Get(ctx, r.prefix+k)
		}
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, err
	}
	for i, c := range cmds {
		b, err := c.Bytes()
		switch {
		case errors.Is(err, redis.Nil):
		case err != nil:
			return nil, err
		default:
			out[i] = b
		}
	}
	return out, nil
}

// SetMany implements Cache: one pipeline of SET with an expiry of TTL+Grace; the fresh-until time travels in a header
// of the stored value. Redis failures are not returned.
func (r *Redis) SetMany(ctx context.Context, items []Item) error {
	if err := validate(items); err != nil {
		return err
	}
	if len(items) == 0 {
		return nil
	}
	now := r.now()
	r.write(ctx, "set", func(ctx context.Context, p redis.Pipeliner) {
		for _, it := range items {
			p.Set(ctx, r.prefix+it.Key, encodeEntry(it, now), it.TTL+it.Grace)
		}
	})
	return nil
}

// DeleteMany implements Cache. It returns ErrUnavailable, wrapped, when Redis is bypassed or the delete failed: the
// keys may still hold their old values.
func (r *Redis) DeleteMany(ctx context.Context, keys []string) error {
	if len(keys) == 0 {
		return nil
	}
	if !r.write(ctx, "delete", func(ctx context.Context, p redis.Pipeliner) {
		if r.batchWithMGET {
			p.Del(ctx, r.prefixed(keys)...)
			return
		}
		for _, k := range keys {
			p.Del(ctx, r.prefix+k)
		}
	}) {
		return fmt.Errorf("cache: delete %d keys: %w", len(keys), ErrUnavailable)
	}
	return nil
}

// PublishInvalidation implements Invalidator: it tells every instance watching the channel that keys were deleted.
func (r *Redis) PublishInvalidation(ctx context.Context, keys []string) {
	if len(keys) == 0 {
		return
	}
	msg, err := json.Marshal(keys)
	if err != nil { // cannot happen for []string
		r.logger.Error("cache: encode invalidation", "err", err)
		return
	}
	r.write(ctx, "publish", func(ctx context.Context, p redis.Pipeliner) {
		p.Publish(ctx, r.channel, msg)
	})
}

// write runs one pipeline unless Redis is unhealthy, recording a failure. It reports whether the pipeline ran.
func (r *Redis) write(ctx context.Context, op string, queue func(context.Context, redis.Pipeliner)) bool {
	if !r.healthy.Load() {
		r.stats.bypassed.Add(1)
		return false
	}
	_, err := bounded(ctx, r.timeout, func(ctx context.Context) ([]redis.Cmder, error) {
		return r.client.Pipelined(ctx, func(p redis.Pipeliner) error {
			queue(ctx, p)
			return nil
		})
	})
	if err != nil {
		r.failed(ctx, op, err)
		return false
	}
	return true
}

// WatchInvalidations implements Invalidator. It subscribes to the channel and calls dropped with every published
// batch of keys until ctx is done. It calls subscribed each time the subscription is confirmed: first, and again after
// every reconnection, because messages published while disconnected are lost. A dead or hung connection is noticed
// within two probe intervals (a PING goes out after one silent interval), then it resubscribes every probe interval.
func (r *Redis) WatchInvalidations(ctx context.Context, subscribed func(), dropped func(keys []string)) {
	for {
		err := r.watchOnce(ctx, subscribed, dropped)
		if ctx.Err() != nil {
			return
		}
		r.logger.Debug("cache: invalidation subscription lost, resubscribing", "err", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(r.probeInterval):
		}
	}
}

func (r *Redis) watchOnce(ctx context.Context, subscribed func(), dropped func(keys []string)) error {
	ps := r.client.Subscribe(ctx, r.channel)
	// Closing the PubSub is the only way to interrupt a blocked receive.
	stop := context.AfterFunc(ctx, func() { _ = ps.Close() })
	defer func() {
		stop()
		_ = ps.Close()
	}()
	pinged := false
	for {
		msg, err := ps.ReceiveTimeout(ctx, r.probeInterval)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		var netErr net.Error
		switch {
		case err == nil:
			pinged = false
		case errors.As(err, &netErr) && netErr.Timeout() && !pinged:
			// A quiet channel: make sure the connection is still alive.
			if err := ps.Ping(ctx); err != nil {
				return err
			}
			pinged = true
			continue
		default:
			return err
		}
		switch m := msg.(type) {
		case *redis.Subscription:
			if m.Kind == "subscribe" {
				subscribed()
			}
		case *redis.Message:
			var keys []string
			if err := json.Unmarshal([]byte(m.Payload), &keys); err != nil {
				r.logger.Warn("cache: ignoring malformed invalidation", "channel", m.Channel, "err", err)
				continue
			}
			dropped(keys)
		}
	}
}

// failed records a failed call. Unless the caller gave up first (which says nothing about Redis) or Redis replied
// with an error about this command only, it starts bypassing Redis and probing it: at once for a network error, and
// for a timeout only once a PING confirms it (confirm).
func (r *Redis) failed(ctx context.Context, op string, err error) {
	r.stats.errors.Add(1)
	if ctx.Err() != nil || !outage(err) {
		return
	}
	if timedOut(err) {
		r.confirm(op, err)
		return
	}
	r.bypass(op, err)
}

// confirm decides whether a timed-out call means Redis is down: it PINGs Redis, giving it the probe interval to
// answer, and bypasses Redis only if it does not. Slow is not down: on an instance whose CPU is saturated (a gateway
// with GOMAXPROCS=1 under load) a call misses its deadline waiting for the CPU, not for Redis, and bypassing then sent
// every request to the providers for a probe interval (the cached list of 50's p99 at c=16 was 3× the uncached one's).
// A hung Redis is still bypassed, one probe interval later; until then each call still waits at most the timeout.
// At most one confirmation runs at a time.
func (r *Redis) confirm(op string, err error) {
	if !r.healthy.Load() || !r.confirming.CompareAndSwap(false, true) {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		r.confirming.Store(false)
		return
	}
	r.probes.Add(1)
	go func() {
		defer r.probes.Done()
		defer r.confirming.Store(false)
		_, pingErr := bounded(context.Background(), r.probeInterval, func(ctx context.Context) (string, error) {
			return r.client.Ping(ctx).Result()
		})
		if pingErr != nil {
			r.bypass(op, err)
			return
		}
		r.logger.Debug("cache: a redis call timed out but redis answers: not bypassing it", "op", op, "err", err)
	}()
}

// bypass starts bypassing Redis and probing it, unless that already began.
func (r *Redis) bypass(op string, err error) {
	if !r.healthy.CompareAndSwap(true, false) {
		return // another call already noticed
	}
	r.logger.Warn("cache: redis unavailable, bypassing", "op", op, "err", err)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return
	}
	r.probes.Add(1)
	go r.probe()
}

// probe PINGs Redis every probe interval until it answers, then marks it healthy. At most one probe runs at a time:
// only the call that flips healthy to false starts one.
func (r *Redis) probe() {
	defer r.probes.Done()
	t := time.NewTicker(r.probeInterval)
	defer t.Stop()
	for {
		select {
		case <-r.done:
			return
		case <-t.C:
		}
		_, err := bounded(context.Background(), r.timeout, func(ctx context.Context) (string, error) {
			return r.client.Ping(ctx).Result()
		})
		if err == nil {
			r.healthy.Store(true)
			r.logger.Info("cache: redis recovered")
			return
		}
	}
}

func (r *Redis) prefixed(keys []string) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = r.prefix + k
	}
	return out
}

// timedOut reports whether err is a deadline passing (bounded's, or a socket's), rather than Redis refusing or
// dropping the connection.
func timedOut(err error) bool {
	var netErr net.Error
	return errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &netErr) && netErr.Timeout())
}

// outage reports whether err means Redis cannot serve us (network failure, timeout, a server loading or down), as
// opposed to an error reply about one command (e.g. WRONGTYPE on a key someone else wrote), which only costs a miss.
func outage(err error) bool {
	var reply redis.Error
	if !errors.As(err, &reply) {
		return true
	}
	return redis.IsLoadingError(err) || redis.IsClusterDownError(err) || redis.IsTryAgainError(err) ||
		redis.IsMasterDownError(err) || redis.IsMaxClientsError(err)
}

// patientKey marks a context whose reads may wait for Redis until the context's deadline rather than the timeout
// (patient).
type patientKey struct{}

// patient returns ctx marked for Redis.GetMany to wait until ctx's deadline: a background read that no request waits
// for. The timeout is what a request waits at most; on a saturated core a read misses it waiting for the CPU rather
// than for Redis, and a refresh abandoned then leaves its L1 copies to expire under the requests.
func patient(ctx context.Context) context.Context { return context.WithValue(ctx, patientKey{}, true) }

// bounded runs fn with a deadline and returns when the deadline passes even if fn does not: go-redis only honours
// context deadlines on sockets when the client was built with ContextTimeoutEnabled, which we cannot assume. A call
// abandoned this way finishes in the background within the client's own read timeout.
func bounded[T any](ctx context.Context, timeout time.Duration, fn func(context.Context) (T, error)) (T, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	type result struct {
		v   T
		err error
	}
	done := make(chan result, 1)
	go func() {
		v, err := fn(ctx)
		done <- result{v, err}
	}()
	select {
	case res := <-done:
		return res.v, res.err
	case <-ctx.Done():
		select {
		case res := <-done: // both ready (this goroutine waited for the CPU): the answer, not a timeout
			return res.v, res.err
		default:
		}
		var zero T
		return zero, fmt.Errorf("redis call abandoned: %w", ctx.Err())
	}
}

// The stored value is a 17-byte header (format version, fresh-until and keep-until as Unix nanoseconds) followed by
// the caller's bytes. Keep-until duplicates the Redis expiry so an injected clock decides expiry the same way as
// Memory, and so a reader never serves a value its own clock considers expired.
const (
	headerVersion = 1
	headerLen     = 17
)

var errBadHeader = errors.New("cache: stored value has no valid header")

func encodeEntry(it Item, now time.Time) []byte {
	freshUntil := now.Add(it.TTL)
	b := make([]byte, headerLen, headerLen+len(it.Value))
	b[0] = headerVersion
	binary.BigEndian.PutUint64(b[1:9], uint64(freshUntil.UnixNano()))
	binary.BigEndian.PutUint64(b[9:17], uint64(freshUntil.Add(it.Grace).UnixNano()))
	return append(b, it.Value...)
}

// decodeEntry returns Found=false for an entry its clock considers expired.
func decodeEntry(b []byte, now time.Time) (Entry, error) {
	if len(b) < headerLen || b[0] != headerVersion {
		return Entry{}, errBadHeader
	}
	freshUntil := int64(binary.BigEndian.Uint64(b[1:9]))
	keepUntil := int64(binary.BigEndian.Uint64(b[9:17]))
	n := now.UnixNano()
	if n >= keepUntil {
		return Entry{}, nil
	}
	return Entry{Value: b[headerLen:], Found: true, Stale: n >= freshUntil}, nil
}
