package metrics_test

import (
	"context"
	"testing"

	"github.com/plaza-gateway/plaza/live"
	"github.com/plaza-gateway/plaza/metrics"
)

func TestLiveMetrics(t *testing.T) {
	m := metrics.New()
	hub := live.NewHub(live.Limits{Buffer: 1})
	m.RegisterLive(hub)
	s, err := hub.Subscribe(context.Background(), "u1", "order-1", live.NewChanSink(1))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	hub.Deliver(live.Change{ID: "order-1", Status: "PICKING"})
	hub.Deliver(live.Change{ID: "order-1", Status: "DELIVERED"}) // its one place is taken: dropped
	body := scrape(t, m)
	for _, want := range []string{"plaza_subscriptions 0", "plaza_subscription_updates_total 1", "plaza_subscriptions_dropped_total 1", "plaza_subscription_seat_errors_total 0"} {
		if !contains(body, want) {
			t.Errorf("missing %q in:\n%s", want, body)
		}
	}
}
