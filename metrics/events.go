package metrics

import "github.com/prometheus/client_golang/prometheus"

// EventsSource is an interaction-event recorder that counts what it lost
// (events.Recorder).
type EventsSource interface {
	// Dropped is how many entries were dropped because the buffer was full.
	Dropped() uint64
	// Failed is how many entries were lost because the store failed.
	Failed() uint64
}

// RegisterEvents exports the recorder's losses as plaza_events_dropped_total
// and plaza_events_failed_total, read at scrape time: recording never
// slows a request, so these counters are how an operator sees that the
// event writer falls behind (dropped) or that its store is failing.
func (m *Metrics) RegisterEvents(s EventsSource) {
	m.Registry.MustRegister(
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "plaza_events_dropped_total",
			Help: "Interaction events and provider calls dropped because the recorder's buffer was full.",
		}, func() float64 { return float64(s.Dropped()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "plaza_events_failed_total",
			Help: "Interaction events and provider calls lost because the event store failed.",
		}, func() float64 { return float64(s.Failed()) }),
	)
}
