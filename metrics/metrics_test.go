package metrics_test

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/plaza-gateway/plaza/metrics"
)

func TestPolicyMetrics(t *testing.T) {
	m := metrics.New()
	m.Retry("freshcart")
	m.Retry("freshcart")
	m.Rejected("freshcart", "circuit_open")
	m.BreakerState("freshcart", "closed", "open")
	m.BreakerState("mediquick", "open", "half-open")

	tests := []struct {
		name   string
		metric string
		want   float64
	}{
		{"counts retries per provider", `plaza_connector_retries_total{provider="freshcart"} 2`, 2},
		{"counts rejections per reason", `plaza_connector_rejections_total{provider="freshcart",reason="circuit_open"} 1`, 1},
		{"shows an open breaker as 2", `plaza_connector_breaker_state{provider="freshcart"} 2`, 2},
		{"shows a half-open breaker as 1", `plaza_connector_breaker_state{provider="mediquick"} 1`, 1},
		{"counts transitions", `plaza_connector_breaker_transitions_total{provider="freshcart",to="open"} 1`, 1},
	}
	body := scrape(t, m)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !contains(body, tt.metric) {
				t.Errorf("missing %q in:\n%s", tt.metric, body)
			}
		})
	}
	t.Run("shows a closed breaker as 0", func(t *testing.T) {
		m.BreakerState("freshcart", "half-open", "closed")
		if !contains(scrape(t, m), `plaza_connector_breaker_state{provider="freshcart"} 0`) {
			t.Error("breaker not closed")
		}
	})
}

func TestRequestMetrics(t *testing.T) {
	m := metrics.New()
	m.InFlight(1)
	m.InFlight(1)
	m.InFlight(-1)
	m.ObserveOperation("ProductDetail", "ok", 3*time.Millisecond)
	m.ObserveOperation("ProductDetail", "partial", 40*time.Millisecond)
	n, err := testutil.GatherAndCount(m.Registry, "plaza_graphql_requests_total")
	if err != nil || n != 2 {
		t.Errorf("plaza_graphql_requests_total series = %d (%v), want 2", n, err)
	}
	body := scrape(t, m)
	for _, want := range []string{
		"plaza_http_requests_in_flight 1",
		`plaza_graphql_request_duration_seconds_bucket{operation="ProductDetail",outcome="ok",le="0.005"} 1`,
		`plaza_graphql_request_duration_seconds_bucket{operation="ProductDetail",outcome="partial",le="0.025"} 0`,
	} {
		if !contains(body, want) {
			t.Errorf("missing %q", want)
		}
	}
}
