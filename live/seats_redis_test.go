package live_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/plaza-gateway/plaza/cache/cachetest"
	"github.com/plaza-gateway/plaza/live"
)

// clock is a settable clock shared by the instances of a test.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func TestRedisSeats(t *testing.T) {
	const ttl = 90 * time.Second
	client := cachetest.Redis(t)
	prefix := cachetest.Prefix(t)
	clk := &clock{t: time.Now()}
	instance := func() (*live.Hub, *live.RedisSeats) {
		seats := live.NewRedisSeats(client, prefix, ttl, nil)
		seats.Now = clk.now
		return live.NewHub(live.Limits{PerUser: 3}, live.WithSeats(seats)), seats
	}
	ctx := context.Background()
	a, seatsA := instance()
	b, seatsB := instance()
	heartbeat := func(seats ...*live.RedisSeats) {
		t.Helper()
		for _, s := range seats {
			if err := s.Heartbeat(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}

	mustSubscribe(t, a, ctx, "u", "o1")
	first := mustSubscribe(t, a, ctx, "u", "o2")
	mustSubscribe(t, b, ctx, "u", "o3")
	if _, err := b.Subscribe(ctx, "u", "o4", live.NewChanSink(1)); !errors.Is(err, live.ErrTooManyForUser) {
		t.Fatalf("4th over two instances: %v, want ErrTooManyForUser", err)
	}
	mustSubscribe(t, b, ctx, "v", "o4") // another user's seats are their own

	first.Close()
	mustSubscribe(t, b, ctx, "u", "o4") // a closed one frees its seat on every instance

	// Heartbeats keep live instances' seats past the TTL.
	clk.t = clk.t.Add(ttl / 2)
	heartbeat(seatsA, seatsB)
	clk.t = clk.t.Add(ttl/2 + time.Second)
	if _, err := b.Subscribe(ctx, "u", "o5", live.NewChanSink(1)); !errors.Is(err, live.ErrTooManyForUser) {
		t.Fatalf("after a heartbeat: %v, want the seats still held", err)
	}

	// Instance a dies without releasing its seat (o1): it expires one TTL
	// after a's last heartbeat, while b's (o3, o4) are renewed.
	for range 3 {
		clk.t = clk.t.Add(ttl / 2)
		heartbeat(seatsB)
	}
	c, _ := instance()
	mustSubscribe(t, c, ctx, "u", "o6")
	if _, err := c.Subscribe(ctx, "u", "o7", live.NewChanSink(1)); !errors.Is(err, live.ErrTooManyForUser) {
		t.Fatalf("b's renewed seats: %v, want them held", err)
	}
	if st := c.Stats(); st.SeatErrors != 0 {
		t.Fatalf("seat errors %d", st.SeatErrors)
	}
}

// With Redis down the cap fails open to the instance's own count.
func TestRedisSeatsDown(t *testing.T) {
	// Default retries and dial timeout: seatTimeout bounds each Take.
	down := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	t.Cleanup(func() { _ = down.Close() })
	h := live.NewHub(live.Limits{PerUser: 2}, live.WithSeats(live.NewRedisSeats(down, "", 0, nil)))
	ctx := context.Background()
	mustSubscribe(t, h, ctx, "u", "o1")
	mustSubscribe(t, h, ctx, "u", "o2")
	if _, err := h.Subscribe(ctx, "u", "o3", live.NewChanSink(1)); !errors.Is(err, live.ErrTooManyForUser) {
		t.Fatalf("past the instance's cap with Redis down: %v, want ErrTooManyForUser", err)
	}
	if st := h.Stats(); st.SeatErrors != 3 || st.Subscriptions != 2 {
		t.Fatalf("stats %+v, want 3 seat errors and 2 subscriptions", st)
	}
}
