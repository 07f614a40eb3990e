package main

import (
	"context"
	"log/slog"
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
	// scheduleEvery: how often each instance looks for a due periodic job
	// (today's payouts, yesterday's reconciliation, last month's bonus);
	// each runs once per period whichever instance finds it due.
	scheduleEvery = 10 * time.Minute
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
		Help: "Mismatches the daily reconciliation found between the order records, the ledger's balances and the payouts (each is logged)."})
	a.metrics.Registry.MustRegister(mismatches)
	a.background(ctx, func(ctx context.Context) {
		g.service.RunSchedule(ctx, scheduleEvery, func(d growth.DueRun, err error) { reportDue(a.log, mismatches, d, err) })
	})
}

// reportDue logs what a pass of growth's schedule did, and counts the
// reconciliation's mismatches.
func reportDue(log *slog.Logger, mismatches prometheus.Counter, d growth.DueRun, err error) {
	if err != nil {
		log.Error("growth: a periodic job failed; the next pass retries it", "err", err)
	}
	if p := d.Payouts; p != nil {
		log.Info("growth: payouts", "day", p.Day, "paid", p.Paid, "amount", p.Amount, "repaid", p.Repaid, "void", p.Void, "stale", p.Stale)
	}
	if d.MonthlyBonuses > 0 {
		log.Info("growth: monthly bonuses posted", "count", d.MonthlyBonuses)
	}
	switch r := d.Reconciliation; {
	case r == nil:
	case len(r.Problem) > 0:
		mismatches.Add(float64(len(r.Problem)))
		log.Error("growth: the order records, ledger and payouts do not match", "day", r.Day, "orders", r.Orders, "payouts", r.Payouts,
			"mismatches", r.Problem)
	default:
		log.Info("growth: ledger reconciled", "day", r.Day, "orders", r.Orders, "payouts", r.Payouts)
	}
}

// catalogReached records catalogue freshness for service levels (the
// store exists before the catalogue's ingest; the service is built later).
func (g *growthWiring) catalogReached(log *slog.Logger) func(context.Context, string, time.Time) {
	return func(ctx context.Context, provider string, at time.Time) {
		if err := growth.CatalogReached(ctx, g.store, provider, at); err != nil {
			log.Warn("growth: catalogue freshness not recorded", "provider", provider, "err", err)
		}
	}
}

// conformanceRun records a conformance run's outcome for service levels.
func (g *growthWiring) conformanceRun(log *slog.Logger) func(context.Context, string, bool, time.Time) {
	return func(ctx context.Context, provider string, passed bool, at time.Time) {
		if err := growth.ConformanceRun(ctx, g.store, provider, passed, at); err != nil {
			log.Warn("growth: conformance outcome not recorded", "provider", provider, "err", err)
		}
	}
}

// apiOptions hands the HTTP surface merchant growth.
func (g *growthWiring) apiOptions() []api.Option {
	return []api.Option{api.WithProviderKeys(g.keys), api.WithOrderRecords(g.service),
		api.WithResolverOptions(resolvers.WithGrowth(g.service))}
}
