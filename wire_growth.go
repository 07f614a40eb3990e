package main

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/plaza-gateway/plaza/api"
	"github.com/plaza-gateway/plaza/auth"
	"github.com/plaza-gateway/plaza/growth"
	"github.com/plaza-gateway/plaza/ledger"
	"github.com/plaza-gateway/plaza/resolvers"
)

// growthWiring is merchant growth as the app serves it.
type growthWiring struct {
	store   growth.Store
	ledger  ledger.Backend
	counter *growth.Counter
	keys    *auth.ProviderKeys
	service *growth.Service
}

// Service-level counters are flushed to the shared store every
// counterFlush (one write per provider called in the interval), and the
// job grades them every levelsEvery, on one instance at a time.
const (
	counterFlush = 10 * time.Second
	levelsEvery  = time.Minute
	// reconcileEvery: the previous day's records, once a day.
	reconcileEvery = 24 * time.Hour
)

// openGrowthStore keeps merchant growth on the directory's database when
// there is one (every instance shares it), in process otherwise. It runs
// before the gateway is built: the service-level counter observes every
// provider call.
func (a *app) openGrowthStore() {
	a.growth.store, a.growth.ledger = growth.NewMemory(), ledger.NewMemory()
	if d, ok := a.source.(*directorySource); ok {
		a.growth.store, a.growth.ledger = growth.NewPostgres(d.pool), ledger.NewPostgres(d.pool)
	}
	a.growth.counter = growth.NewCounter(a.growth.store, a.cfg.ServiceLevels.SlowCall, nil)
	a.growth.keys = auth.NewProviderKeys(a.growth.store, 0, a.log)
}

// openGrowth builds the service over the directory onboarding writes to
// and starts its background work: flushing counters and grading service
// levels.
func (a *app) openGrowth(ctx context.Context, dir growth.Directory) {
	g := &a.growth
	g.service = growth.New(g.store, ledger.New(g.ledger, nil), dir, a.cfg.RewardPrograms,
		growth.WithThresholds(a.cfg.ServiceLevels), growth.WithLogger(a.log), growth.WithRevokeHook(g.keys.Forget))
	a.background(ctx, func(ctx context.Context) { g.counter.Run(ctx, counterFlush) })
	a.background(ctx, func(ctx context.Context) { g.service.RunLevels(ctx, levelsEvery) })
	mismatches := prometheus.NewCounter(prometheus.CounterOpts{Name: "plaza_growth_reconciliation_mismatches_total",
		Help: "Mismatches the daily reconciliation found between the ledger and the order records (each is logged)."})
	a.metrics.Registry.MustRegister(mismatches)
	a.background(ctx, func(ctx context.Context) {
		g.service.RunReconciliation(ctx, reconcileEvery, func(r growth.Reconciliation, err error) {
			switch {
			case err != nil:
				a.log.Error("growth: reconciliation failed", "day", r.Day, "err", err)
			case len(r.Problem) > 0:
				mismatches.Add(float64(len(r.Problem)))
				a.log.Error("growth: the ledger does not match the order records", "day", r.Day, "orders", r.Orders, "mismatches", r.Problem)
			default:
				a.log.Info("growth: ledger reconciled", "day", r.Day, "orders", r.Orders)
			}
		})
	})
}

// apiOptions hands the HTTP surface merchant growth.
func (g *growthWiring) apiOptions() []api.Option {
	return []api.Option{api.WithProviderKeys(g.keys), api.WithOrderRecords(g.service),
		api.WithResolverOptions(resolvers.WithGrowth(g.service))}
}
