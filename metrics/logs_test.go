package metrics_test

import (
	"testing"
	"time"

	"github.com/plaza-gateway/plaza/metrics"
	"github.com/plaza-gateway/plaza/resolvers"
)

func TestLogLimiterMetric(t *testing.T) {
	m := metrics.New()
	now := time.Unix(1_700_000_000, 0)
	l := resolvers.NewLogLimiter(resolvers.LogLimitConfig{Now: func() time.Time { return now }})
	m.RegisterLogLimiter(l)
	if body := scrape(t, m); !contains(body, "plaza_error_log_lines_suppressed_total 0") {
		t.Fatalf("missing the counter at zero:\n%s", body)
	}
	for range 5 {
		l.Allow("freshcart", "PROVIDER_ERROR") // the first is written, four held back
	}
	if body := scrape(t, m); !contains(body, "plaza_error_log_lines_suppressed_total 4") {
		t.Fatal("want plaza_error_log_lines_suppressed_total 4, with no provider label")
	}
}
