// Package metrics exports what Plaza does in the Prometheus text format:
// GraphQL requests per operation and outcome, requests in flight, connector
// calls per vertical, operation and outcome, retries, rejections and
// breakers per vertical, loader batch sizes, cache outcomes per entity type
// and tier, and the Go runtime.
//
// No series is labelled by provider, user or query text: the number of
// series does not grow with the number of providers (a million providers
// would be a million series per metric). Per-provider traffic is recorded
// in the analytics store (package events), where providers and analysts
// read it.
package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/plaza-gateway/plaza/cache"
	"github.com/plaza-gateway/plaza/connectors"
	"github.com/plaza-gateway/plaza/gateway"
	"github.com/plaza-gateway/plaza/resilience"
	"github.com/plaza-gateway/plaza/telemetry"
)

// Metrics holds Plaza's collectors. Build it with New; it implements
// gateway.Observer, gateway.CacheObserver, telemetry.Observer and
// resilience.Observer.
type Metrics struct {
	Registry     *prometheus.Registry
	calls        *prometheus.CounterVec
	callDuration *prometheus.HistogramVec
	batchKeys    *prometheus.HistogramVec
	cacheLookups *prometheus.CounterVec
	requests
	policy
}

// New registers Plaza's collectors, plus the Go runtime and process
// collectors, on a fresh registry.
func New() *Metrics {
	reg := prometheus.NewRegistry()
	m := &Metrics{
		Registry: reg,
		calls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "plaza_connector_calls_total",
			Help: "Connector calls by vertical, operation and outcome (ok or the error code). Per-provider figures are in the analytics store.",
		}, []string{"vertical", "operation", "outcome"}),
		callDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "plaza_connector_call_duration_seconds",
			Help:    "Connector call latency by vertical and operation, retries included.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"vertical", "operation"}),
		batchKeys: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "plaza_loader_batch_keys",
			Help:    "Keys per batch call to a provider (loader batch sizes).",
			Buckets: []float64{1, 2, 5, 10, 20, 50, 100, 200, 500},
		}, []string{"operation"}),
		cacheLookups: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "plaza_cache_lookups_total",
			Help: "Entity cache lookups by GraphQL type and result (hit, miss, stale).",
		}, []string{"type", "result"}),
	}
	m.requests = newRequests()
	m.policy = newPolicy()
	reg.MustRegister(m.calls, m.callDuration, m.batchKeys, m.cacheLookups,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.requests.register(reg)
	m.policy.register(reg)
	return m
}

// ObserveCall implements gateway.Observer. The provider is not a label
// (see the package comment).
func (m *Metrics) ObserveCall(vertical connectors.Vertical, _, op string, keys int, d time.Duration, err error) {
	outcome := "ok"
	if err != nil {
		outcome = string(connectors.KindOf(err))
	}
	m.calls.WithLabelValues(string(vertical), op, outcome).Inc()
	m.callDuration.WithLabelValues(string(vertical), op).Observe(d.Seconds())
	if keys > 0 {
		m.batchKeys.WithLabelValues(op).Observe(float64(keys))
	}
}

// ObserveCache implements gateway.CacheObserver.
func (m *Metrics) ObserveCache(typ string, hits, misses, stale int) {
	if hits > 0 {
		m.cacheLookups.WithLabelValues(typ, "hit").Add(float64(hits))
	}
	if misses > 0 {
		m.cacheLookups.WithLabelValues(typ, "miss").Add(float64(misses))
	}
	if stale > 0 {
		m.cacheLookups.WithLabelValues(typ, "stale").Add(float64(stale))
	}
}

// StatsSource is a cache tier that counts its outcomes.
type StatsSource interface{ Stats() cache.Stats }

// RegisterCacheTier exports a tier's totals (L1 memory, L2 Redis) as
// plaza_cache_tier_total{tier, result}.
func (m *Metrics) RegisterCacheTier(tier string, s StatsSource) {
	field := map[string]func(cache.Stats) uint64{
		"hit":      func(s cache.Stats) uint64 { return s.Hits },
		"miss":     func(s cache.Stats) uint64 { return s.Misses },
		"stale":    func(s cache.Stats) uint64 { return s.Stale },
		"error":    func(s cache.Stats) uint64 { return s.Errors },
		"bypassed": func(s cache.Stats) uint64 { return s.Bypassed },
	}
	for result, get := range field {
		m.Registry.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name:        "plaza_cache_tier_total",
			Help:        "Cache tier outcomes: hit, miss, stale, error, bypassed (Redis skipped while unhealthy).",
			ConstLabels: prometheus.Labels{"tier": tier, "result": result},
		}, func() float64 { return float64(get(s.Stats())) }))
	}
}

// RegisterSupplyIndex exports the supply index's lag (the age of the
// oldest catalogue pull the instance owes: plaza_supply_index_lag_seconds)
// and the pulls given up after their retries
// (plaza_catalog_pulls_given_up_total). No provider label: which provider
// is in the log.
func (m *Metrics) RegisterSupplyIndex(lag func() time.Duration, gaveUp func() uint64) {
	m.Registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "plaza_supply_index_lag_seconds",
		Help: "Age of the oldest catalogue pull this instance owes the supply index (0: none owed).",
	}, func() float64 { return lag().Seconds() }))
	m.Registry.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "plaza_catalog_pulls_given_up_total",
		Help: "Catalogue pulls given up after their retries (provider not routed, unreachable, or the index refusing).",
	}, func() float64 { return float64(gaveUp()) }))
}

var (
	_ gateway.Observer      = (*Metrics)(nil)
	_ gateway.CacheObserver = (*Metrics)(nil)
	_ telemetry.Observer    = (*Metrics)(nil)
	_ resilience.Observer   = (*Metrics)(nil)
)
