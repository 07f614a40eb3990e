package metrics

import "github.com/prometheus/client_golang/prometheus"

// policy are the collectors of the call policy (retries, breakers,
// rejections); Metrics implements resilience.Observer through them.
type policy struct {
	retries     *prometheus.CounterVec
	breaker     *prometheus.GaugeVec
	transitions *prometheus.CounterVec
	rejections  *prometheus.CounterVec
}

func newPolicy() policy {
	return policy{
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "plaza_connector_retries_total",
			Help: "Connector call retries by provider.",
		}, []string{"provider"}),
		breaker: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "plaza_connector_breaker_state",
			Help: "Circuit breaker state by provider: 0 closed, 1 half-open, 2 open. Absent until the breaker first changes state.",
		}, []string{"provider"}),
		transitions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "plaza_connector_breaker_transitions_total",
			Help: "Circuit breaker transitions by provider and new state (closed, half-open, open).",
		}, []string{"provider", "to"}),
		rejections: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "plaza_connector_rejections_total",
			Help: "Calls or retries the policy refused, by provider and reason (circuit_open, at_capacity, retry_budget).",
		}, []string{"provider", "reason"}),
	}
}

func (p policy) register(reg *prometheus.Registry) {
	reg.MustRegister(p.retries, p.breaker, p.transitions, p.rejections)
}

// breakerValue maps a breaker state to the gauge's value; unknown states
// read as open, the state that needs attention.
func breakerValue(state string) float64 {
	switch state {
	case "closed":
		return 0
	case "half-open":
		return 1
	default:
		return 2
	}
}

// Retry implements resilience.Observer.
func (p policy) Retry(provider string) { p.retries.WithLabelValues(provider).Inc() }

// BreakerState implements resilience.Observer.
func (p policy) BreakerState(provider, _, to string) {
	p.breaker.WithLabelValues(provider).Set(breakerValue(to))
	p.transitions.WithLabelValues(provider, to).Inc()
}

// Rejected implements resilience.Observer.
func (p policy) Rejected(provider, reason string) {
	p.rejections.WithLabelValues(provider, reason).Inc()
}
