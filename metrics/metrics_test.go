package metrics_test

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/plaza-gateway/plaza/connectors"
	"github.com/plaza-gateway/plaza/metrics"
	"github.com/plaza-gateway/plaza/resilience"
)

func TestPolicyMetrics(t *testing.T) {
	m := metrics.New()
	grocery, medical := connectors.VerticalGrocery, connectors.VerticalMedical
	m.Retry(grocery)
	m.Retry(grocery)
	m.Rejected(grocery, "circuit_open")
	m.BreakerState(grocery, "closed", "open")
	m.BreakerState(medical, "open", "half-open")
	m.ObserveCall(grocery, "freshcart", "Products", 3, 2*time.Millisecond, nil)
	m.ObserveCall(grocery, "greenbasket", "Products", 1, 2*time.Millisecond, connectors.Errorf(connectors.KindTimeout, "slow"))
	src := &breakers{counts: []resilience.BreakerCount{{Vertical: grocery, Open: 2, HalfOpen: 1}, {Vertical: medical, HalfOpen: 1}}}
	m.RegisterBreakers(src)

	tests := []struct {
		name   string
		metric string
	}{
		{"counts calls per vertical, operation and outcome", `plaza_connector_calls_total{operation="Products",outcome="ok",vertical="GROCERY"} 1`},
		{"counts a failed call under its error code", `plaza_connector_calls_total{operation="Products",outcome="PROVIDER_TIMEOUT",vertical="GROCERY"} 1`},
		{"times calls per vertical and operation", `plaza_connector_call_duration_seconds_count{operation="Products",vertical="GROCERY"} 2`},
		{"counts retries per vertical", `plaza_connector_retries_total{vertical="GROCERY"} 2`},
		{"counts rejections per reason", `plaza_connector_rejections_total{reason="circuit_open",vertical="GROCERY"} 1`},
		{"counts transitions", `plaza_connector_breaker_transitions_total{to="open",vertical="GROCERY"} 1`},
		{"counts open breakers", `plaza_connector_breakers{state="open",vertical="GROCERY"} 2`},
		{"counts half-open breakers", `plaza_connector_breakers{state="half-open",vertical="MEDICAL"} 1`},
		{"shows a vertical with an open breaker as 2 (deprecated gauge)", `plaza_connector_breaker_state{vertical="GROCERY"} 2`},
		{"shows a vertical with only half-open breakers as 1", `plaza_connector_breaker_state{vertical="MEDICAL"} 1`},
		{"shows a vertical with every breaker closed as 0", `plaza_connector_breaker_state{vertical="LEGAL"} 0`},
	}
	body := scrape(t, m)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !contains(body, tt.metric) {
				t.Errorf("missing %q in:\n%s", tt.metric, body)
			}
		})
	}
	t.Run("has no provider label", func(t *testing.T) {
		if strings.Contains(body, "provider=") {
			t.Errorf("a series is labelled by provider:\n%s", body)
		}
	})
}

// breakers is a fixed BreakerSource.
type breakers struct{ counts []resilience.BreakerCount }

func (b *breakers) Breakers() []resilience.BreakerCount { return b.counts }

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
