package metrics

import (
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// requests are the HTTP-side collectors; Metrics implements
// telemetry.Observer through them.
type requests struct {
	inFlight prometheus.Gauge
	total    *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newRequests() requests {
	return requests{
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "plaza_http_requests_in_flight",
			Help: "HTTP requests being served.",
		}),
		total: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "plaza_graphql_requests_total",
			Help: "GraphQL requests by operation name (anonymous, a name of [A-Za-z0-9_]{1,64}, else other) and outcome (ok, partial, error).",
		}, []string{"operation", "outcome"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "plaza_graphql_request_duration_seconds",
			Help: "GraphQL request latency, from the first byte handled to the response written, by operation and outcome.",
			// Plaza's own overhead is sub-millisecond; provider calls and
			// timeouts push the tail to seconds.
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"operation", "outcome"}),
	}
}

func (r requests) register(reg *prometheus.Registry) {
	reg.MustRegister(r.inFlight, r.total, r.duration)
}

// InFlight implements telemetry.Observer.
func (r requests) InFlight(delta int) { r.inFlight.Add(float64(delta)) }

// ObserveOperation implements telemetry.Observer. operation must already be
// bounded (telemetry.OperationLabel): it becomes a label value.
func (r requests) ObserveOperation(operation, outcome string, d time.Duration) {
	r.total.WithLabelValues(operation, outcome).Inc()
	r.duration.WithLabelValues(operation, outcome).Observe(d.Seconds())
}

// Handler serves the registry in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{Registry: m.Registry})
}
