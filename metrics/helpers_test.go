package metrics_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/plaza-gateway/plaza/metrics"
)

// scrape returns what Prometheus would read from m.Handler().
func scrape(tb testing.TB, m *metrics.Metrics) string {
	tb.Helper()
	w := httptest.NewRecorder()
	m.Handler().ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	body, _ := io.ReadAll(w.Body)
	if w.Code != http.StatusOK {
		tb.Fatalf("scrape: %d %s", w.Code, body)
	}
	return string(body)
}

func contains(body, line string) bool {
	for _, l := range strings.Split(body, "\n") {
		if l == line {
			return true
		}
	}
	return false
}
