package main

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/plaza-gateway/plaza/api"
	"github.com/plaza-gateway/plaza/catalog"
	"github.com/plaza-gateway/plaza/connectors"
	"github.com/plaza-gateway/plaza/connectors/demo"
	"github.com/plaza-gateway/plaza/connectors/httpprovider"
	"github.com/plaza-gateway/plaza/directory"
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
	in := catalog.New(a.index, catalog.SnapshotLimits(a.registrar.Snapshot), catalog.WithRateStore(rate))
	verifier := httpprovider.NewRequestVerifier(replay, httpprovider.WithVerifierV1Until(a.cfg.SignatureV1Until))
	a.catalog = catalogWiring{ingest: in, handler: catalog.NewHandler(in, a.secrets, verifier, a.log)}
	a.catalog.syncer = catalog.NewSyncer(in, cursors, func(id string) (connectors.Connector, bool) {
		c, ok := a.current.Load().Registry.Get(id)
		return c, ok && remote(c)
	}, func() []string { return providerIDs(a.current.Load()) }, catalog.SyncConfig{}, a.log)
	a.background(ctx, a.catalog.syncer.Run)
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

// catalogOptions mount the push endpoint.
func (a *app) catalogOptions() []api.Option {
	return []api.Option{api.WithRoute(catalog.Pattern, a.catalog.handler)}
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
// become ACTIVE (pullOnActive).
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

// pullSoon queues ids for a pull once this instance routes them: an
// activation reaches routing through the change feed a moment after the
// directory commits it, and the syncer pulls only providers it can call.
// A provider still not routed after activationWait is left to the next
// activation or the operator.
func (a *app) pullSoon(ids ...string) {
	go func() {
		deadline := time.Now().Add(activationWait)
		for _, id := range ids {
			for {
				if _, ok := a.current.Load().Registry.Get(id); ok {
					break
				}
				if time.Now().After(deadline) {
					a.log.Warn("catalog pull: an activated provider is not routed yet; not pulled", "provider", id)
					break
				}
				time.Sleep(100 * time.Millisecond)
			}
		}
		if a.catalog.syncer != nil {
			a.catalog.syncer.Notify(ids...)
		}
	}()
}

// activationWait bounds how long an activation waits to reach routing.
const activationWait = 30 * time.Second
