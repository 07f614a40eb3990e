package main

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/plaza-gateway/plaza/api"
	"github.com/plaza-gateway/plaza/catalog"
	"github.com/plaza-gateway/plaza/connectors"
	"github.com/plaza-gateway/plaza/connectors/demo"
	"github.com/plaza-gateway/plaza/connectors/httpprovider"
	"github.com/plaza-gateway/plaza/directory"
	"github.com/plaza-gateway/plaza/gctune"
	"github.com/plaza-gateway/plaza/providers"
	"github.com/plaza-gateway/plaza/ratelimit"
	"github.com/plaza-gateway/plaza/supply"
)

// catalogWiring is the write side of the supply index: the ingest every
// push goes through, the push endpoint, and the pull syncer.
type catalogWiring struct {
	ingest  *catalog.Ingest
	handler *catalog.Handler
	syncer  *catalog.Syncer
}

// openIndex builds the supply index once, before the gateway that reads
// it: embedded Bleve without a database, PostgreSQL with
// PLAZA_DATABASE_URL (every instance then reads and writes the same index).
func (a *app) openIndex(ctx context.Context) error {
	if d, ok := a.source.(*directorySource); ok {
		if a.cfg.MigrateAtStart {
			n, err := supply.Migrate(ctx, d.pool)
			if err != nil {
				return err
			}
			m, err := catalog.Migrate(ctx, d.pool)
			if err != nil {
				return err
			}
			a.log.Info("supply index schema migrated", "applied", n+m)
		}
		a.index = supply.NewPostgres(d.pool)
		a.log.Info("supply index: PostgreSQL (shared by every instance)")
	} else {
		mem, err := supply.NewMemory()
		if err != nil {
			return err
		}
		a.index = mem
		a.onClose(func() { _ = mem.Close() })
		a.log.Info("supply index: embedded (set PLAZA_DATABASE_URL to share it across instances)")
	}
	return nil
}

// openCatalog builds what feeds the supply index (openIndex): the push endpoint
// (POST /providers/{id}/catalog), the pull syncer (providers newly served,
// and a catch-up of every provider), and the in-process demo providers'
// pushes. Quotas come from the directory's limits.
func (a *app) openCatalog(ctx context.Context) error {
	var cursors catalog.CursorStore = catalog.NewMemoryCursors()
	if d, ok := a.source.(*directorySource); ok {
		cursors = catalog.NewPostgresCursors(d.pool)
	}
	var rate ratelimit.Store = ratelimit.NewMemory(0, nil)
	replay := httpprovider.ReplayCache(httpprovider.NewMemoryReplayCache(httpprovider.DefaultReplayWindow, nil))
	if a.redis != nil {
		// The pushes-per-minute quota and the replay window hold across
		// instances.
		rate = ratelimit.NewRedis(a.redis, "plaza:v1:catalog-rl:", rate, ratelimit.WithLogger(a.log))
		replay = httpprovider.NewRedisReplayCache(a.redis, "plaza:v1:catalog-nonce:", httpprovider.DefaultReplayWindow)
	}
	in := catalog.New(a.index, catalog.SnapshotLimits(a.registrar.Snapshot), catalog.WithRateStore(rate),
		catalog.WithApplied(a.growth.catalogReached(a.log)))
	verifier := httpprovider.NewRequestVerifier(replay, httpprovider.WithVerifierV1Until(a.cfg.SignatureV1Until))
	a.catalog = catalogWiring{ingest: in, handler: catalog.NewHandler(in, a.secrets, verifier, a.log)}
	a.catalog.syncer = catalog.NewSyncer(in, cursors, a.pulledCatalog,
		func() []string { return providerIDs(a.current.Load()) }, catalog.SyncConfig{}, a.log)
	a.background(ctx, a.catalog.syncer.Run)
	a.metrics.RegisterSupplyIndex(a.catalog.syncer.Lag, a.catalog.syncer.GaveUp)
	if d, ok := a.source.(*directorySource); ok {
		a.followBacklog(ctx, d, catalog.NewPostgresBacklog(d.pool))
	}
	served := a.current.Load()
	if served.Listed() {
		// In-process providers (the demo, a file's `embedded: demo`
		// entries) push their catalogues themselves: once before the
		// gateway serves, so search is complete from the first request,
		// then every change.
		if err := a.publishInProcess(served.Registry.All()); err != nil {
			return err
		}
		// The first sync of a restarted gateway: every served provider that
		// publishes is pulled from its stored cursor.
		a.catalog.syncer.Notify(providerIDs(served)...)
	}
	return nil
}

// followBacklog pulls the directory's providers activated outside this
// gateway (by another instance, an import, `plaza providers generate`):
// once at start, every provider behind (activated while no instance ran),
// one instance at a time (CatchUpAtStart: instances started together do
// it once);
// then, on each directory change this instance serves, those of the
// changed providers that are behind. Changes that arrive while a catch-up
// runs are folded into one range, so the follower never waits for it.
func (a *app) followBacklog(ctx context.Context, d *directorySource, b catalog.Backlog) {
	var (
		mu       sync.Mutex
		from, to int64 = -1, -1
		wake           = make(chan struct{}, 1)
	)
	hook := func(f, t int64) {
		mu.Lock()
		if from < 0 {
			from = f
		}
		to = t
		mu.Unlock()
		select {
		case wake <- struct{}{}:
		default:
		}
	}
	d.changed.Store(&hook)
	a.background(ctx, func(ctx context.Context) {
		n, err := a.catalog.syncer.CatchUpAtStart(ctx, b)
		switch {
		case err != nil && ctx.Err() == nil:
			a.log.Warn("catalog catch-up at start failed; providers behind are pulled at their next change", "err", err)
		case err == nil:
			a.log.Info("catalog catch-up at start done", "providersPulled", n)
		}
		for {
			select {
			case <-ctx.Done():
				return
			case <-wake:
			}
			mu.Lock()
			f, t := from, to
			from, to = -1, -1
			mu.Unlock()
			if f < 0 {
				continue
			}
			if err := a.catalog.syncer.CatchUpChanged(ctx, b, f, t); err != nil && ctx.Err() == nil {
				a.log.Warn("catalog catch-up of directory changes failed", "from", f, "to", t, "err", err)
			}
		}
	})
}

// catalogOptions mount the push endpoint and report the index's lag on
// /readyz: degraded (still 200) past PLAZA_INDEX_LAG_BOUND.
func (a *app) catalogOptions() []api.Option {
	return []api.Option{api.WithRoute(catalog.Pattern, a.catalog.handler),
		api.WithDependency("supplyIndex", func() (bool, string) { return indexLagOK(a.catalog.syncer.Lag(), a.cfg.IndexLagBound) }),
		api.WithReadyInfo("supplyIndex", func() any {
			return map[string]any{"lagSeconds": a.catalog.syncer.Lag().Seconds(), "pending": a.catalog.syncer.Pending()}
		}),
	}
}

// indexLagOK says whether a lag is within bound, and why not.
func indexLagOK(lag, bound time.Duration) (bool, string) {
	if lag <= bound {
		return true, ""
	}
	return false, fmt.Sprintf("supply index lags %s behind the catalogue pulls it owes (bound %s)", lag.Round(time.Second), bound)
}

// remote: the provider is reached over HTTP, so the gateway pulls its
// catalogue. In-process providers push theirs (demo.Publish), and
// generated ones are indexed by `plaza providers generate`.
func remote(c connectors.Connector) bool {
	_, ok := c.(*httpprovider.Client)
	return ok
}

// notifyNewProviders queues the providers next serves that prev did not
// (the first sync after certification) for a pull.
// A directory view is never walked: its providers are queued when they
// become ACTIVE through this instance (pullOnActive) and when the change
// feed shows them behind (followBacklog).
func (a *app) notifyNewProviders(prev, next *providers.Set) {
	if a.catalog.syncer == nil {
		return
	}
	var pulled []string
	var local []connectors.Connector
	for _, c := range providers.Added(prev, next) {
		if remote(c) {
			pulled = append(pulled, c.Describe().ID)
		} else {
			local = append(local, c)
		}
	}
	a.catalog.syncer.Notify(pulled...)
	if err := a.publishInProcess(local); err != nil {
		a.log.Warn("supply index: publishing the catalogues of added in-process providers", "err", err)
	}
}

// publishInProcess indexes the catalogues of the in-process providers
// among conns before returning, then follows their changes in the
// background until the app stops. HTTP providers are the syncer's.
func (a *app) publishInProcess(conns []connectors.Connector) error {
	local := slices.DeleteFunc(slices.Clone(conns), remote)
	if len(local) == 0 {
		return nil
	}
	if err := demo.PublishNow(a.ctx, local, a.catalog.ingest); err != nil {
		return fmt.Errorf("supply index: %w", err)
	}
	if mem, ok := a.index.(*supply.Memory); ok {
		// The embedded index never merges the segments the catalogues'
		// pages left (supply.Memory.Compact): one rebuild before serving.
		if err := mem.Compact(a.ctx); err != nil {
			return fmt.Errorf("supply index: %w", err)
		}
		// The feed and the rebuild leave their transient heap behind
		// (gigabytes at 10^6 providers): collect it and hand it back now,
		// with the collector's pacing settled to the serving heap, or
		// the first requests allocate on fresh pages (gctune.Settle).
		gctune.Settle()
	}
	a.background(a.ctx, func(ctx context.Context) { demo.Publish(ctx, local, a.catalog.ingest) })
	return nil
}

// providerIDs lists the served providers the gateway pulls, for a set it
// may walk. A directory view gives none: its catch-up is the pull queued
// when a provider becomes ACTIVE, from the cursor stored in PostgreSQL, so
// a periodic walk of up to millions of providers never happens.
func providerIDs(s *providers.Set) []string {
	if !s.Listed() {
		return nil
	}
	var out []string
	for _, c := range s.Registry.All() {
		if remote(c) {
			out = append(out, c.Describe().ID)
		}
	}
	return out
}

// pullOnActive queues a provider for its first catalogue pull when it
// becomes ACTIVE, through certification or an operator's approval or
// resume: the directory-backed gateway's "first sync after certification",
// without walking the directory.
type pullOnActive struct {
	directory.Store
	notify func(ids ...string)
}

func (p pullOnActive) Transition(ctx context.Context, id string, to directory.Lifecycle, actor, reason string) (directory.Provider, error) {
	got, err := p.Store.Transition(ctx, id, to, actor, reason)
	if err == nil && to == directory.Active {
		p.notify(id)
	}
	return got, err
}

// pullActivated queues activated providers for a pull. An activation
// reaches this instance's routing through the change feed a moment after
// the directory commits it: the syncer retries a provider it does not
// route yet, with backoff, and gives up after a bounded number of tries.
func (a *app) pullActivated(ids ...string) {
	if a.catalog.syncer != nil {
		a.catalog.syncer.Notify(ids...)
	}
}

// pulledCatalog is the syncer's lookup: the catalogue of a provider this
// instance routes and pulls (over HTTP); routed but nil for an in-process
// one, which pushes its own.
func (a *app) pulledCatalog(id string) (connectors.Catalog, bool) {
	c, ok := a.current.Load().Registry.Get(id)
	if !ok {
		return nil, false
	}
	cat, pulls := c.(connectors.Catalog)
	if !pulls || !remote(c) {
		return nil, true
	}
	return cat, true
}
