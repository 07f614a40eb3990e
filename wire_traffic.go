package main

import (
	"context"
	"time"

	"github.com/plaza-gateway/plaza/api"
	"github.com/plaza-gateway/plaza/resolvers"
	"github.com/plaza-gateway/plaza/traffic"
)

// trafficWiring is the providers' traffic roll-ups: the collector the event
// recorder feeds (built with the recorder, before the store is chosen) and
// the store it flushes to.
type trafficWiring struct {
	collector *traffic.Collector
	store     traffic.Store
}

// trafficPrune is how often retention (PLAZA_TRAFFIC_RETENTION) runs, which
// in PostgreSQL also creates the partitions of the next few days.
const trafficPrune = 24 * time.Hour

// openTraffic keeps the roll-ups on the directory's database when there is
// one (every instance adds its roll-ups to the same tables), in process
// otherwise, and starts the flushing and retention.
func (a *app) openTraffic(ctx context.Context) error {
	t := &a.traffic
	t.store = traffic.NewMemoryStore(nil)
	if d, ok := a.source.(*directorySource); ok {
		if a.cfg.MigrateAtStart {
			if err := traffic.Migrate(ctx, d.pool); err != nil {
				return err
			}
		}
		t.store = traffic.NewPostgresStore(d.pool, nil)
	}
	a.background(ctx, func(ctx context.Context) { t.collector.Run(ctx, t.store, a.cfg.TrafficFlush) })
	a.background(ctx, func(ctx context.Context) {
		tick := time.NewTicker(trafficPrune)
		defer tick.Stop()
		for {
			if err := t.store.Prune(ctx, time.Now().Add(-a.cfg.TrafficRetention)); err != nil && ctx.Err() == nil {
				a.log.Warn("traffic: retention failed", "err", err)
			}
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	})
	return nil
}

func (t *trafficWiring) apiOptions() []api.Option {
	return []api.Option{api.WithResolverOptions(resolvers.WithTraffic(t.store))}
}
