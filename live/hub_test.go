package live_test

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/plaza-gateway/plaza/live"
)

// subscriber is a subscription with the channel sink it feeds.
type subscriber struct {
	*live.Subscription
	*live.ChanSink
}

func mustSubscribe(tb testing.TB, h *live.Hub, ctx context.Context, user, id string) subscriber {
	tb.Helper()
	sink := live.NewChanSink(h.Buffer())
	s, err := h.Subscribe(ctx, user, id, sink)
	if err != nil {
		tb.Fatalf("subscribe %s %s: %v", user, id, err)
	}
	tb.Cleanup(s.Close)
	return subscriber{s, sink}
}

func receive(tb testing.TB, s subscriber) live.Change {
	tb.Helper()
	select {
	case c, ok := <-s.C:
		if !ok {
			tb.Fatalf("subscription closed: %v", s.Err())
		}
		return c
	case <-time.After(5 * time.Second):
		tb.Fatal("no change within 5s")
	}
	return live.Change{}
}

func TestHub(t *testing.T) {
	ctx := context.Background()
	t.Run("delivers a change to every subscriber of the object and to no other", func(t *testing.T) {
		h := live.NewHub(live.Limits{})
		a := mustSubscribe(t, h, ctx, "u1", "order-1")
		b := mustSubscribe(t, h, ctx, "u1", "order-1")
		other := mustSubscribe(t, h, ctx, "u2", "order-2")
		h.Deliver(live.Change{ID: "order-1", Status: "PICKING"})
		for _, s := range []subscriber{a, b} {
			if c := receive(t, s); c.Status != "PICKING" {
				t.Fatalf("got %+v", c)
			}
		}
		select {
		case c := <-other.C:
			t.Fatalf("another object's subscriber got %+v", c)
		default:
		}
	})
	t.Run("refuses a user's subscription past the per-user cap, and takes one again after a close", func(t *testing.T) {
		h := live.NewHub(live.Limits{PerUser: 2})
		s1 := mustSubscribe(t, h, ctx, "u1", "a")
		mustSubscribe(t, h, ctx, "u1", "b")
		if _, err := h.Subscribe(ctx, "u1", "c", live.NewChanSink(1)); !errors.Is(err, live.ErrTooManyForUser) {
			t.Fatalf("third subscription: err = %v, want ErrTooManyForUser", err)
		}
		mustSubscribe(t, h, ctx, "u2", "c") // another user is not affected
		s1.Close()
		mustSubscribe(t, h, ctx, "u1", "c")
	})
	t.Run("refuses a connection's subscription past the per-connection cap", func(t *testing.T) {
		h := live.NewHub(live.Limits{PerConnection: 1})
		conn := live.WithConnection(ctx)
		s := mustSubscribe(t, h, conn, "u1", "a")
		if _, err := h.Subscribe(conn, "u1", "b", live.NewChanSink(1)); !errors.Is(err, live.ErrTooManyForConnection) {
			t.Fatalf("second subscription: err = %v, want ErrTooManyForConnection", err)
		}
		mustSubscribe(t, h, live.WithConnection(ctx), "u1", "b") // another connection
		s.Close()
		mustSubscribe(t, h, conn, "u1", "c")
	})
	t.Run("drops a slow consumer without holding up the others", func(t *testing.T) {
		h := live.NewHub(live.Limits{Buffer: 2})
		slow := mustSubscribe(t, h, ctx, "u1", "o")
		fast := mustSubscribe(t, h, ctx, "u1", "o")
		for i, st := range []string{"A", "B", "C"} {
			h.Deliver(live.Change{ID: "o", Status: st})
			if c := receive(t, fast); c.Status != st {
				t.Fatalf("change %d: fast got %+v", i, c)
			}
		}
		var got []string
		for c := range slow.C {
			got = append(got, c.Status)
		}
		if len(got) != 2 || !errors.Is(slow.Err(), live.ErrSlowConsumer) {
			t.Fatalf("slow consumer got %v then err %v, want its 2 buffered changes then ErrSlowConsumer", got, slow.Err())
		}
		if st := h.Stats(); st.Dropped != 1 || st.Subscriptions != 1 {
			t.Fatalf("stats %+v", st)
		}
	})
	t.Run("forgets an object once its last subscriber closed", func(t *testing.T) {
		h := live.NewHub(live.Limits{})
		s := mustSubscribe(t, h, ctx, "u1", "o")
		s.Close()
		s.Close()
		if st := h.Stats(); st.Subscriptions != 0 || st.Objects != 0 || st.Users != 0 {
			t.Fatalf("stats after close %+v", st)
		}
	})
}

// TestBus runs the same contract on both buses: a change published reaches
// the hub of every instance Run feeds.
func TestBus(t *testing.T) {
	type instance struct {
		bus live.Bus
		hub *live.Hub
	}
	buses := map[string]func(t *testing.T) []live.Bus{
		"memory": func(*testing.T) []live.Bus { return []live.Bus{live.NewMemoryBus()} },
		"redis": func(t *testing.T) []live.Bus {
			url := os.Getenv("REDIS_URL")
			if url == "" {
				t.Skip("REDIS_URL is not set")
			}
			opts, err := redis.ParseURL(url)
			if err != nil {
				t.Fatal(err)
			}
			client := redis.NewClient(opts)
			t.Cleanup(func() { _ = client.Close() })
			channel := "plaza:test:status:" + t.Name()
			return []live.Bus{live.NewRedisBus(client, channel, nil), live.NewRedisBus(client, channel, nil)}
		},
	}
	for name, open := range buses {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			t.Cleanup(cancel)
			var ins []instance
			for _, b := range open(t) {
				i := instance{bus: b, hub: live.NewHub(live.Limits{})}
				go func() { _ = b.Run(ctx, i.hub.Deliver) }()
				if r, ok := b.(*live.RedisBus); ok {
					select {
					case <-r.Ready():
					case <-time.After(10 * time.Second):
						t.Fatal("redis subscription not confirmed within 10s")
					}
				}
				ins = append(ins, i)
			}
			if _, ok := ins[0].bus.(*live.MemoryBus); ok {
				waitRunning(t, ins[0].bus, ins[0].hub)
			}
			var subs []subscriber
			for _, i := range ins {
				subs = append(subs, mustSubscribe(t, i.hub, ctx, "u1", "order-9"))
			}
			if err := ins[0].bus.Publish(ctx, live.Change{ID: "order-9", Status: "DELIVERED"}); err != nil {
				t.Fatal(err)
			}
			for k, s := range subs {
				if c := receive(t, s); c.Status != "DELIVERED" || c.Published.IsZero() {
					t.Fatalf("instance %d got %+v", k, c)
				}
			}
		})
	}
}

// waitRunning publishes probes until the memory bus's Run has started.
func waitRunning(t *testing.T, b live.Bus, h *live.Hub) {
	t.Helper()
	s := mustSubscribe(t, h, context.Background(), "probe", "probe")
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		_ = b.Publish(context.Background(), live.Change{ID: "probe"})
		select {
		case <-s.C:
			return
		case <-time.After(10 * time.Millisecond):
		}
	}
	t.Fatal("memory bus not running within 5s")
}
