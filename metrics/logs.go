package metrics

import "github.com/prometheus/client_golang/prometheus"

// LogLimiter is what holds back repeated error log lines and counts them
// (resolvers.LogLimiter).
type LogLimiter interface {
	// Suppressed is how many lines were held back.
	Suppressed() uint64
}

// RegisterLogLimiter exports the error log lines held back as
// plaza_error_log_lines_suppressed_total, read at scrape time. It has no
// provider label on purpose (labels stay bounded); the next line logged for
// a provider and error kind carries its own count in "suppressed".
func (m *Metrics) RegisterLogLimiter(l LogLimiter) {
	m.Registry.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "plaza_error_log_lines_suppressed_total",
		Help: "Request error log lines not written because the same provider and error kind was logged within the interval (or too many lines were written in it).",
	}, func() float64 { return float64(l.Suppressed()) }))
}
