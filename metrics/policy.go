package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/plaza-gateway/plaza/connectors"
	"github.com/plaza-gateway/plaza/resilience"
)

// policy are the collectors of the call policy (retries, breakers,
// rejections); Metrics implements resilience.Observer through them. Every
// series is per vertical: their number is fixed, whatever the number of
// providers.
type policy struct {
	retries     *prometheus.CounterVec
	transitions *prometheus.CounterVec
	rejections  *prometheus.CounterVec
}

func newPolicy() policy {
	return policy{
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "plaza_connector_retries_total",
			Help: "Connector call retries by vertical.",
		}, []string{"vertical"}),
		transitions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "plaza_connector_breaker_transitions_total",
			Help: "Circuit breaker transitions by vertical and new state (closed, half-open, open).",
		}, []string{"vertical", "to"}),
		rejections: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "plaza_connector_rejections_total",
			Help: "Calls or retries the policy refused, by vertical and reason (circuit_open, at_capacity, retry_budget).",
		}, []string{"vertical", "reason"}),
	}
}

func (p policy) register(reg *prometheus.Registry) {
	reg.MustRegister(p.retries, p.transitions, p.rejections)
}

// Retry implements resilience.Observer.
func (p policy) Retry(vertical connectors.Vertical) {
	p.retries.WithLabelValues(string(vertical)).Inc()
}

// BreakerState implements resilience.Observer.
func (p policy) BreakerState(vertical connectors.Vertical, _, to string) {
	p.transitions.WithLabelValues(string(vertical), to).Inc()
}

// Rejected implements resilience.Observer.
func (p policy) Rejected(vertical connectors.Vertical, reason string) {
	p.rejections.WithLabelValues(string(vertical), reason).Inc()
}

// BreakerSource counts the breakers that are not closed (resilience.Policy).
type BreakerSource interface {
	Breakers() []resilience.BreakerCount
}

// RegisterBreakers exports src's breakers, read at scrape time, for every
// vertical:
//
//   - plaza_connector_breakers{vertical, state}: how many providers have
//     their breaker open, and half-open;
//   - plaza_connector_breaker_state{vertical}: deprecated (it was per
//     provider); the worst state in the vertical, 0 closed, 1 half-open, 2
//     open, so an alert on "== 2" keeps firing while any breaker of the
//     vertical is open. It goes in the release after next.
func (m *Metrics) RegisterBreakers(src BreakerSource) {
	m.Registry.MustRegister(breakerCollector{src: src})
}

var (
	breakersDesc = prometheus.NewDesc("plaza_connector_breakers",
		"Providers whose circuit breaker is open or half-open, by vertical and state.", []string{"vertical", "state"}, nil)
	breakerStateDesc = prometheus.NewDesc("plaza_connector_breaker_state",
		"Deprecated: use plaza_connector_breakers. The worst circuit breaker state in the vertical: 0 closed, 1 half-open, 2 open.",
		[]string{"vertical"}, nil)
)

type breakerCollector struct{ src BreakerSource }

func (breakerCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- breakersDesc
	ch <- breakerStateDesc
}

func (c breakerCollector) Collect(ch chan<- prometheus.Metric) {
	counts := map[connectors.Vertical]resilience.BreakerCount{}
	for _, b := range c.src.Breakers() {
		counts[b.Vertical] = b
	}
	for _, v := range connectors.Verticals {
		b := counts[v]
		worst := 0.0
		switch {
		case b.Open > 0:
			worst = 2
		case b.HalfOpen > 0:
			worst = 1
		}
		ch <- prometheus.MustNewConstMetric(breakersDesc, prometheus.GaugeValue, float64(b.Open), string(v), "open")
		ch <- prometheus.MustNewConstMetric(breakersDesc, prometheus.GaugeValue, float64(b.HalfOpen), string(v), "half-open")
		ch <- prometheus.MustNewConstMetric(breakerStateDesc, prometheus.GaugeValue, worst, string(v))
	}
}
