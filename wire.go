package main

// The wiring root: every long-lived object of a serving process is built
// here once, from config.Config, and handed down explicitly. Nothing below
// (api, resolvers, gateway) opens a client or builds a shared service.

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/plaza-gateway/plaza/api"
	"github.com/plaza-gateway/plaza/auth"
	"github.com/plaza-gateway/plaza/cache"
	"github.com/plaza-gateway/plaza/config"
	"github.com/plaza-gateway/plaza/connectors"
	"github.com/plaza-gateway/plaza/connectors/demo"
	"github.com/plaza-gateway/plaza/connectors/httpprovider"
	"github.com/plaza-gateway/plaza/directory"
	"github.com/plaza-gateway/plaza/events"
	"github.com/plaza-gateway/plaza/gateway"
	"github.com/plaza-gateway/plaza/gctune"
	"github.com/plaza-gateway/plaza/health"
	"github.com/plaza-gateway/plaza/idempotency"
	"github.com/plaza-gateway/plaza/live"
	"github.com/plaza-gateway/plaza/metrics"
	"github.com/plaza-gateway/plaza/providers"
	"github.com/plaza-gateway/plaza/recommend"
	"github.com/plaza-gateway/plaza/resilience"
	"github.com/plaza-gateway/plaza/resolvers"
	"github.com/plaza-gateway/plaza/supply"
	"github.com/plaza-gateway/plaza/telemetry"
	"github.com/plaza-gateway/plaza/traffic"
)

// app is a serving process's long-lived objects.
type app struct {
	cfg     config.Config
	log     *slog.Logger
	metrics *metrics.Metrics
	// redis is the one client to REDIS_URL (cache, idempotency, events,
	// settings, rate limits, webhook replays); nil without Redis. Only the
	// readiness probe keeps a single connection of its own (newRedisProbe).
	redis    redis.UniversalClient
	cache    cache.Cache
	tracing  *telemetry.Tracing
	personal personalization
	// source is where the providers come from; current is the set served.
	source  providerSource
	current atomic.Pointer[providers.Set]
	// directory is the provider directory the gateway serves from (nil
	// without PLAZA_DATABASE_URL).
	directory directory.Store
	// onboarding is registration, certification and the operators'
	// lifecycle mutations, over directory or the embedded one.
	onboarding resolvers.Option
	// registrar is the directory registration writes to and quotas are
	// read from: directory, or the embedded one.
	registrar directory.Store
	// index is the supply index, built once: the catalogue pushes and
	// pulls write it (catalog), search and the lists read it.
	index   supply.Index
	catalog catalogWiring
	growth  growthWiring
	traffic trafficWiring
	// bus carries providers' status changes to every instance's hub (Redis
	// pub/sub, in process without Redis); hub fans them out to this
	// instance's subscriptions.
	bus      live.Bus
	hub      *live.Hub
	entities *gateway.EntityCache
	policy   *resilience.Policy
	gw       *gateway.Gateway
	server   *api.Server

	stop    context.CancelFunc // ends the background work
	ctx     context.Context    // the background work's, ended by stop
	bg      sync.WaitGroup     // the background work
	closers []func()           // run in reverse order by close, after bg ends
}

// wire builds the app. On error, the app holds what was built so far:
// close it either way.
func wire(ctx context.Context, cfg config.Config, getenv func(string) string, log *slog.Logger, m *metrics.Metrics) (*app, error) {
	a := &app{cfg: cfg, log: log, metrics: m}
	ctx, a.stop = context.WithCancel(ctx)
	a.ctx = ctx
	gc := gctune.Apply(cfg.GC.Getenv)
	log.Info("garbage collector", "gogc", gc.GCPercent, "memory_limit_mib", gc.MemoryLimit>>20, "limit_from", gc.LimitSource,
		"limit_follows_live_heap", gc.LimitSource == "default", "mem_profile_rate", gc.MemProfileRate)
	verifier, err := newVerifier(ctx, cfg, log)
	if err != nil {
		return a, err
	}
	if err := a.openShared(ctx); err != nil {
		return a, err
	}
	// One pool of connections per provider host, shared by every provider on
	// it and kept across reloads; idle hosts are dropped (httpprovider.Pool).
	pool := httpprovider.NewPool(httpprovider.PoolConfig{})
	a.onClose(pool.CloseIdleConnections)
	a.openLive(ctx)
	// Embedded demo providers move their new orders and bookings along and
	// publish each change through the bus, as the status webhook does.
	// They take payment through Plaza (orders wait AWAITING_PAYMENT for
	// payGroceryOrder up to demoPayWindow) and enforce stores' minimum orders.
	demoOpts := []demo.Option{demo.WithStatusUpdates(a.bus, cfg.DemoStatusStep), demo.WithPayments(demoPayWindow), demo.WithMinimumOrders()}
	embedded := func(d connectors.Descriptor) (connectors.Connector, error) { return demo.New(d, demoOpts...) }
	env := providers.Env{Getenv: getenv, Embedded: embedded, Pool: pool}
	if a.source, err = openProviders(ctx, cfg, env, log, demoOpts...); err != nil {
		return a, err
	}
	a.onClose(a.source.close)
	if d, ok := a.source.(*directorySource); ok {
		a.directory = d.store
	}
	if err := a.openIndex(ctx); err != nil {
		return a, err
	}
	a.onClose(gctune.Follow(gc, a.longLived()...))
	a.openGrowthStore()
	if err := a.openTraffic(ctx); err != nil {
		return a, err
	}
	a.buildGateway()
	if err := a.openOnboarding(ctx); err != nil {
		return a, err
	}
	if err := a.openCatalog(ctx); err != nil {
		return a, err
	}
	a.server = api.New(a.gw, verifier, log, apiConfig(cfg, log), a.apiOptions(ctx)...)
	a.background(ctx, func(ctx context.Context) { a.source.follow(ctx, a.apply) })
	if a.source.seedsDemo() {
		a.background(ctx, a.seedDemo)
	}
	return a, nil
}

// longLived is the state that grows with the deployment, for the
// collector's pacing (gctune.Follow): the directory's snapshot (160 MB of
// pointer-free arenas at 10^6 providers), whose bytes leave GOGC's base, so
// that it does not double the heap between collections; and the embedded
// supply index, whose items and maps the collector marks every cycle, so
// they stay in the base (left out, it ran after every few MB the requests
// allocated). Both raise the default soft memory limit: below the live
// heap, the collector would run without pause.
func (a *app) longLived() []gctune.LongLived {
	var out []gctune.LongLived
	if a.directory != nil {
		out = append(out, func() (int64, int64) {
			s := a.directory.Snapshot()
			return s.HeapBytes(), s.ScanBytes()
		})
	}
	if mem, ok := a.index.(*supply.Memory); ok {
		out = append(out, func() (int64, int64) { return mem.HeapBytes(), mem.ScanBytes() })
	}
	return out
}

// close stops the background work, waits for it, then closes what wire
// opened, last opened first (the events writer drains before Redis closes).
// demoPayWindow is how long an embedded demo provider's order waits for
// payment before it is cancelled and its stock and slot go back.
const demoPayWindow = 15 * time.Minute

func (a *app) close() {
	a.stop()
	a.bg.Wait()
	for i := len(a.closers) - 1; i >= 0; i-- {
		a.closers[i]()
	}
	a.closers = nil
}

func (a *app) onClose(f func()) { a.closers = append(a.closers, f) }

// background runs f until ctx ends; close waits for it.
func (a *app) background(ctx context.Context, f func(context.Context)) {
	a.bg.Go(func() { f(ctx) })
}

// openShared opens what every part shares: Redis, the cross-request cache,
// tracing and the personalisation services.
func (a *app) openShared(ctx context.Context) error {
	if a.cfg.Redis.URL != "" {
		client := redis.NewUniversalClient(a.cfg.Redis.Options())
		a.redis = client
		a.onClose(func() { _ = client.Close() })
	}
	a.cache = a.newCache()
	tracing, err := telemetry.NewTracing(ctx, a.cfg.Tracing)
	if err != nil {
		return err
	}
	a.tracing = tracing
	a.onClose(func() { shutdownTracing(tracing, a.log) })
	a.personal, err = a.newPersonalization(ctx)
	return err
}

// openLive builds the status bus (Redis pub/sub when there is Redis, so a
// change reaches subscribers on every instance) and this instance's hub,
// fed by one subscription to the bus.
func (a *app) openLive(ctx context.Context) {
	if a.redis != nil {
		a.bus = live.NewRedisBus(a.redis, live.DefaultChannel, a.log)
	} else {
		a.bus = live.NewMemoryBus()
	}
	var hubOpts []live.HubOption
	if a.redis != nil {
		// The per-user cap holds over every instance.
		seats := live.NewRedisSeats(a.redis, live.DefaultSeatPrefix, live.DefaultSeatTTL, a.log)
		hubOpts = append(hubOpts, live.WithSeats(seats))
		a.background(ctx, seats.Run)
	}
	a.hub = live.NewHub(a.cfg.Subscriptions, hubOpts...)
	a.metrics.RegisterLive(a.hub)
	a.background(ctx, func(ctx context.Context) {
		if err := a.bus.Run(ctx, a.hub.Deliver); err != nil {
			a.log.Error("live: status bus stopped", "err", err)
		}
	})
}

// newCache builds the cross-request cache: with Redis, a small in-process
// L1 in front of it (shared by every instance, invalidated across them over
// pub/sub); without, a bounded in-process cache.
func (a *app) newCache() cache.Cache {
	if a.redis == nil {
		mem := cache.NewMemory(100_000)
		a.metrics.RegisterCacheTier("memory", mem)
		a.log.Info("cache: in-process (set REDIS_URL to share it across instances)")
		return mem
	}
	l2 := cache.NewRedis(a.redis, cache.WithLogger(a.log))
	l1 := cache.NewMemory(10_000)
	tiered := cache.NewTiered(l1, l2, cache.WithLogger(a.log))
	a.metrics.RegisterCacheTier("l1", l1)
	a.metrics.RegisterCacheTier("l2", l2)
	a.log.Info("cache: in-process L1 in front of Redis", "redis", a.cfg.Redis.Redacted())
	a.onClose(func() { tiered.Close(); l2.Close() })
	return tiered
}

// buildGateway builds the call policy, the entity cache and the gateway over
// the source's current providers.
func (a *app) buildGateway() {
	loaded := a.source.current()
	a.current.Store(loaded)
	var idem idempotency.Store = idempotency.NewMemory(nil)
	if a.redis != nil {
		idem = idempotency.NewRedis(a.redis, "plaza:v1:")
	}
	a.entities = gateway.NewEntityCache(a.cache, gateway.DefaultCachePolicy(), a.metrics)
	a.entities.SetProviderTTLLookup(loaded.CacheTTL)
	a.policy = resilience.New(resilience.Config{Defaults: resilience.DefaultProviderConfig(), Lookup: loaded.PolicySettings},
		resilience.WithLogger(a.log), resilience.WithObserver(a.metrics))
	a.metrics.RegisterBreakers(a.policy)
	a.metrics.RegisterEvents(a.personal.Recorder)
	a.gw = gateway.New(loaded.Registry, gateway.WithConfig(a.cfg.Gateway), gateway.WithLogger(a.log),
		gateway.WithObserver(observers{a.metrics, a.personal.Recorder, a.growth.counter}), gateway.WithPolicy(a.policy),
		gateway.WithStatus(a.policy.Status), gateway.WithTracer(a.tracing.Tracer()), gateway.WithIdempotency(idem),
		gateway.WithCache(a.entities), gateway.WithIndex(a.index))
}

// apply serves a new set of providers, in O(1): the policy and the entity
// cache read the set's settings through lookups. Requests in flight keep
// the old set's connectors until they finish; its idle connections go
// after the shutdown timeout.
func (a *app) apply(l *providers.Set) {
	old := a.current.Swap(l)
	a.notifyNewProviders(old, l)
	a.policy.SetProviderLookup(l.PolicySettings)
	a.entities.SetProviderTTLLookup(l.CacheTTL)
	a.gw.SetRegistry(l.Registry)
	time.AfterFunc(a.cfg.ShutdownTimeout, old.Close)
}

// secrets are the signing secrets that verify a provider's calls to us now:
// its secret and, during a rotation's overlap, the previous one.
func (a *app) secrets(provider string) []string {
	s, _ := a.current.Load().Settings(provider)
	return s.Verifying(time.Now())
}

// apiOptions hands the HTTP surface and the resolvers their dependencies.
func (a *app) apiOptions(ctx context.Context) []api.Option {
	errorLogs := resolvers.NewLogLimiter(resolvers.LogLimitConfig{})
	a.metrics.RegisterLogLimiter(errorLogs)
	opts := []api.Option{api.WithSharedCache(a.cache), api.WithMetrics(a.metrics.Registry), api.WithProviderSecretList(a.secrets),
		api.WithTracer(a.tracing.Tracer()), api.WithRequestObserver(a.metrics), api.WithSignatureV1Until(a.cfg.SignatureV1Until),
		api.WithProviderStats(providerStats(a.personal.Analytics)), api.WithAPIKeys(a.personal.keys),
		api.WithResolverOptions(resolvers.WithLogLimiter(errorLogs), resolvers.WithPersonalization(a.personal.Personalization)),
		api.WithExamples(playgroundExamples(a.cfg)...), api.WithRateLimit(newRateLimiter(a.cfg, a.redis, a.log))}
	opts = append(opts, api.WithLive(a.hub, a.bus))
	opts = append(opts, a.source.apiOptions()...)
	opts = append(opts, api.WithResolverOptions(a.onboarding))
	opts = append(opts, a.growth.apiOptions()...)
	opts = append(opts, a.traffic.apiOptions()...)
	opts = append(opts, a.catalogOptions()...)
	if a.redis != nil {
		probe := a.newRedisProbe(ctx)
		// A provider's signed request accepted by one instance is a replay on every other.
		opts = append(opts, api.WithDependency("redis", probe.Healthy), api.WithWebhookReplayCache(
			httpprovider.NewRedisReplayCache(a.redis, "plaza:v1:webhook-nonce:", httpprovider.DefaultReplayWindow)))
	}
	return opts
}

// newRedisProbe watches Redis for /readyz on a single connection of its
// own, so a busy request pool cannot make it flap; the first check runs now
// (at most health.DefaultTimeout), the next ones every second.
func (a *app) newRedisProbe(ctx context.Context) *health.Probe {
	opts := a.cfg.Redis.Options()
	opts.PoolSize, opts.MaxRetries = 1, -1
	client := redis.NewUniversalClient(opts)
	a.onClose(func() { _ = client.Close() })
	probe := health.NewProbe(func(ctx context.Context) error { return client.Ping(ctx).Err() }, 0, 0)
	if st := probe.Check(ctx); st.State != health.StateOK {
		a.log.Warn("redis unavailable at start: serving degraded until it answers", "reason", st.Reason)
	}
	a.background(ctx, probe.Run)
	return probe
}

// providerStats answers a provider's request for its own traffic from the
// hourly counters the analysts' API reads too.
func providerStats(a *events.Analytics) api.ProviderStats {
	return func(ctx context.Context, provider string, from, to time.Time) (any, error) {
		traffic, err := a.ProviderTraffic(ctx, from, to)
		if err != nil {
			return nil, err
		}
		out := map[string]any{"calls": 0, "errors": 0, "p50Ms": nil, "p99Ms": nil, "conversions": 0}
		for _, t := range traffic {
			if t.Provider == provider {
				out["calls"], out["errors"], out["conversions"] = t.Calls, t.Errors, t.Conversions
				out["p50Ms"], out["p99Ms"] = t.P50Ms, t.P99Ms
			}
		}
		return out, nil
	}
}

// observers reports every connector call to each observer in turn.
type observers []gateway.Observer

func (o observers) ObserveCall(vertical connectors.Vertical, provider, op string, keys int, d time.Duration, err error) {
	for _, x := range o {
		x.ObserveCall(vertical, provider, op, keys, d, err)
	}
}

// personalization is the wiring of interaction events, user settings, the
// engine-backed home page, the analytics over the events and the analysts'
// API keys.
type personalization struct {
	resolvers.Personalization
	keys *auth.APIKeys
}

// newPersonalization keeps events and settings in Redis when there is one
// (shared by every instance), in process otherwise, and starts the event
// writer and the refitter; close drains the writer before Redis closes.
func (a *app) newPersonalization(ctx context.Context) (personalization, error) {
	var store events.Store = events.NewMemoryStore(events.MemoryConfig{Retention: a.cfg.EventRetention})
	var settings events.Settings = events.NewMemorySettings()
	var params recommend.ParamStore = recommend.NewMemoryParamStore()
	if a.redis != nil {
		var err error
		if store, err = events.NewRedisStore(a.redis, events.RedisConfig{Retention: a.cfg.EventRetention}); err != nil {
			return personalization{}, err
		}
		settings, params = events.NewRedisSettings(a.redis, ""), recommend.NewRedisParamStore(a.redis, "", 0)
	}
	engine := recommend.New(recommend.DefaultConfig())
	if refit := newRefitter(engine, store, params, a.cfg.RecommendRefit, a.log); refit != nil {
		a.background(ctx, func(ctx context.Context) { _ = refit.Run(ctx) })
	}
	a.traffic.collector = traffic.NewCollector(traffic.WithLogger(a.log), traffic.WithLowResults(a.cfg.TrafficLowResults))
	rec := events.NewRecorder(store, events.WithConsent(settings), events.WithSink(events.EngineSink(engine)),
		events.WithSink(a.traffic.collector.Sink()), events.WithLogger(a.log))
	a.background(ctx, func(ctx context.Context) { _ = rec.Run(ctx) }) // drains when ctx ends
	return personalization{keys: a.cfg.AnalystKeys, Personalization: resolvers.Personalization{
		Home: gateway.NewRecommender(engine), Recorder: rec, Store: store, Settings: settings,
		Analytics: events.NewAnalytics(store),
	}}, nil
}
