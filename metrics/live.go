package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/plaza-gateway/plaza/live"
)

// LiveSource is the subscription hub as the metrics read it.
type LiveSource interface{ Stats() live.Stats }

// RegisterLive exports the instance's subscriptions and what became of
// the status changes delivered to them. No label: per user or per object
// figures would grow without bound.
func (m *Metrics) RegisterLive(src LiveSource) {
	m.Registry.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "plaza_subscriptions",
			Help: "Open statusChanged subscriptions on this instance.",
		}, func() float64 { return float64(src.Stats().Subscriptions) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "plaza_subscription_updates_total",
			Help: "Status changes handed to subscribers on this instance.",
		}, func() float64 { return float64(src.Stats().Delivered) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "plaza_subscriptions_dropped_total",
			Help: "Subscribers dropped because they did not take their updates as fast as they came (slow consumers).",
		}, func() float64 { return float64(src.Stats().Dropped) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "plaza_subscription_seat_errors_total",
			Help: "Subscriptions let through under this instance's per-user count alone because the cluster-wide count (Redis) failed.",
		}, func() float64 { return float64(src.Stats().SeatErrors) }),
	)
}
