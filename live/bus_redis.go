package live

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// DefaultChannel is the Redis pub/sub channel every instance shares.
const DefaultChannel = "plaza:v1:status"

// RedisBus carries changes between instances over one Redis pub/sub
// channel. Each instance holds one subscription (Run), whatever the number
// of its subscribers: the Hub fans out in process.
type RedisBus struct {
	client  redis.UniversalClient
	channel string
	log     *slog.Logger
	ready   chan struct{}
	once    sync.Once
}

var _ Bus = (*RedisBus)(nil)

// NewRedisBus returns a bus on channel (DefaultChannel when empty).
func NewRedisBus(client redis.UniversalClient, channel string, log *slog.Logger) *RedisBus {
	if channel == "" {
		channel = DefaultChannel
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &RedisBus{client: client, channel: channel, log: log, ready: make(chan struct{})}
}

// Ready is closed once Run's subscription is confirmed by Redis: from then
// on every change published on any instance reaches this one.
func (b *RedisBus) Ready() <-chan struct{} { return b.ready }

// Publish sends c to every instance. An error wraps ErrUnavailable.
func (b *RedisBus) Publish(ctx context.Context, c Change) error {
	raw, err := json.Marshal(stamp(c))
	if err != nil {
		return fmt.Errorf("live: encode change: %w", err)
	}
	if err := b.client.Publish(ctx, b.channel, raw).Err(); err != nil {
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	return nil
}

// Run subscribes once and delivers every change until ctx ends. go-redis
// reconnects the subscription by itself after a Redis outage; what was
// published meanwhile is lost (pub/sub is at most once), which the initial
// state of each new subscription makes up for.
func (b *RedisBus) Run(ctx context.Context, deliver func(Change)) error {
	sub := b.client.Subscribe(ctx, b.channel)
	defer sub.Close()
	// Wait for the subscription to be confirmed, so a Publish after Run has
	// started (and Ready returned) is not missed; retried until ctx ends.
	for {
		if _, err := sub.Receive(ctx); err == nil {
			b.once.Do(func() { close(b.ready) })
			break
		} else if ctx.Err() != nil {
			return nil
		} else {
			b.log.Warn("live: redis subscribe failed, retrying", "err", err)
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(time.Second):
			}
		}
	}
	ch := sub.Channel(redis.WithChannelSize(1024))
	for {
		select {
		case <-ctx.Done():
			return nil
		case m, ok := <-ch:
			if !ok {
				return nil
			}
			var c Change
			if err := json.Unmarshal([]byte(m.Payload), &c); err != nil || c.ID == "" {
				b.log.Warn("live: malformed change on the bus, dropped", "err", err)
				continue
			}
			deliver(c)
		}
	}
}

// stamp sets the publication time of a change that has none.
func stamp(c Change) Change {
	if c.Published.IsZero() {
		c.Published = time.Now()
	}
	return c
}
