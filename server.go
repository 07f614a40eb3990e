// Command plaza is the Plaza GraphQL gateway.
//
//	go run .                      serve on :8080 with the embedded demo providers
//	go run . --addr :9090         serve elsewhere (also PLAZA_ADDR)
//	go run . token --user demo-1  print a development token for a demo user
package main

//go:generate go tool gqlgen generate
//go:generate go run ./listexec/cmd/rewrite graph/generated.go

import (
	"context"
	"embed"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/plaza-gateway/plaza/api"
	"github.com/plaza-gateway/plaza/auth"
	"github.com/plaza-gateway/plaza/cache"
	"github.com/plaza-gateway/plaza/connectors"
	"github.com/plaza-gateway/plaza/connectors/demo"
	"github.com/plaza-gateway/plaza/events"
	"github.com/plaza-gateway/plaza/gateway"
	"github.com/plaza-gateway/plaza/gctune"
	"github.com/plaza-gateway/plaza/gid"
	"github.com/plaza-gateway/plaza/idempotency"
	"github.com/plaza-gateway/plaza/limits"
	"github.com/plaza-gateway/plaza/metrics"
	"github.com/plaza-gateway/plaza/recommend"
	"github.com/plaza-gateway/plaza/registry"
	"github.com/plaza-gateway/plaza/resilience"
	"github.com/plaza-gateway/plaza/resolvers"
	"github.com/plaza-gateway/plaza/telemetry"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "plaza:", err)
		os.Exit(1)
	}
}

// config is everything the process reads from flags and the environment.
type config struct {
	addr        string
	redisURL    string
	configPath  string
	env         string
	shutdown    time.Duration
	drainDelay  time.Duration
	logJSON     bool
	logLevel    slog.Level
	adminAddr   string // pprof and /metrics; "off" disables
	tracing     telemetry.TracingConfig
	tokenUser   string
	tokenTTL    time.Duration
	subcommand  string
	listenReady func(net.Addr) // tests learn the bound address here
}

func parseConfig(args []string, getenv func(string) string, stderr io.Writer) (config, error) {
	cfg := config{subcommand: "serve"}
	if len(args) > 0 && args[0] == "token" {
		cfg.subcommand, args = "token", args[1:]
	}
	fs := flag.NewFlagSet("plaza "+cfg.subcommand, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.addr, "addr", envOr(getenv, "PLAZA_ADDR", ":8080"), "listen address (env PLAZA_ADDR)")
	fs.StringVar(&cfg.configPath, "config", getenv("PLAZA_CONFIG"), "provider config file (env PLAZA_CONFIG); default: the embedded demo providers")
	fs.DurationVar(&cfg.shutdown, "shutdown-timeout", 15*time.Second, "how long in-flight requests may finish on shutdown")
	fs.DurationVar(&cfg.drainDelay, "drain-delay", 0, "on shutdown, how long /readyz reports 503 before the listener closes, so load balancers stop routing here (env PLAZA_DRAIN_DELAY; default 5s in production, 0 otherwise)")
	fs.StringVar(&cfg.tokenUser, "user", "", "token: the user the token is for, e.g. demo-1")
	fs.DurationVar(&cfg.tokenTTL, "ttl", 24*time.Hour, "token: validity")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	cfg.redisURL = getenv("REDIS_URL")
	cfg.env = envOr(getenv, "PLAZA_ENV", "development")
	if !flagSet(fs, "drain-delay") {
		d := "0s"
		if cfg.env == "production" {
			d = "5s"
		}
		delay, err := time.ParseDuration(envOr(getenv, "PLAZA_DRAIN_DELAY", d))
		if err != nil || delay < 0 {
			return cfg, fmt.Errorf("PLAZA_DRAIN_DELAY: want a duration such as 5s")
		}
		cfg.drainDelay = delay
	}
	cfg.logJSON = cfg.env == "production"
	cfg.adminAddr = envOr(getenv, "PLAZA_ADMIN_ADDR", telemetry.DefaultAdminAddr)
	tracing, err := telemetry.TracingConfigFromEnv(getenv)
	if err != nil {
		return cfg, err
	}
	cfg.tracing = tracing
	if cfg.subcommand == "token" && cfg.tokenUser == "" {
		return cfg, errors.New("token: --user is required, e.g. --user demo-1")
	}
	return cfg, nil
}

// flagSet reports whether the flag was given on the command line.
func flagSet(fs *flag.FlagSet, name string) (set bool) {
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

func envOr(getenv func(string) string, key, def string) string {
	if v := getenv(key); v != "" {
		return v
	}
	return def
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, err := parseConfig(args, getenv, stderr)
	if err != nil {
		return err
	}
	verifier, err := newVerifier(ctx, getenv, cfg.subcommand == "serve", stderr)
	if err != nil {
		return err
	}
	if cfg.subcommand == "token" {
		tok, err := verifier.Issue(cfg.tokenUser, cfg.tokenTTL)
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, tok)
		return nil
	}
	return serve(ctx, cfg, getenv, verifier, stderr)
}

func newLogger(cfg config, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.logLevel}
	// LogHandler adds the request id (and trace id) to every line logged
	// with a request's context.
	if cfg.logJSON {
		return slog.New(telemetry.LogHandler(slog.NewJSONHandler(w, opts)))
	}
	return slog.New(telemetry.LogHandler(slog.NewTextHandler(w, opts)))
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

// cacheTTLs maps the registry's per-provider cache_ttl overrides onto the
// entity cache (types were checked when the file was loaded).
func cacheTTLs(l *registry.Loaded) map[string]map[gid.Kind]time.Duration {
	out := map[string]map[gid.Kind]time.Duration{}
	for id, s := range l.Settings {
		for typ, ttl := range s.CacheTTL {
			if out[id] == nil {
				out[id] = map[gid.Kind]time.Duration{}
			}
			out[id][gid.Kind(typ)] = ttl
		}
	}
	return out
}

// newCache builds the cross-request cache: with REDIS_URL, a small in-process
// L1 in front of Redis (shared by every instance, invalidated across them
// over pub/sub); without, a bounded in-process cache. healthy reports the
// Redis tier for /readyz (nil without Redis).
func newCache(cfg config, log *slog.Logger, m *metrics.Metrics) (store cache.Cache, client redis.UniversalClient, healthy func() bool, closeFn func(), err error) {
	if cfg.redisURL == "" {
		mem := cache.NewMemory(100_000)
		m.RegisterCacheTier("memory", mem)
		log.Info("cache: in-process (set REDIS_URL to share it across instances)")
		return mem, nil, nil, func() {}, nil
	}
	client, err = newRedisClient(cfg.redisURL)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	l2 := cache.NewRedis(client, cache.WithLogger(log))
	l1 := cache.NewMemory(10_000)
	tiered := cache.NewTiered(l1, l2, cache.WithLogger(log))
	m.RegisterCacheTier("l1", l1)
	m.RegisterCacheTier("l2", l2)
	log.Info("cache: in-process L1 in front of Redis", "redis", redactURL(cfg.redisURL))
	return tiered, client, l2.Healthy, func() { tiered.Close(); l2.Close(); _ = client.Close() }, nil
}

// newRedisClient accepts a redis:// URL, or several comma-separated
// host:port addresses (a Cluster's seed nodes).
func newRedisClient(url string) (redis.UniversalClient, error) {
	if strings.Contains(url, "://") {
		opt, err := redis.ParseURL(url)
		if err != nil {
			return nil, fmt.Errorf("REDIS_URL: %w", err)
		}
		return redis.NewUniversalClient(&redis.UniversalOptions{
			Addrs: []string{opt.Addr}, DB: opt.DB, Username: opt.Username, Password: opt.Password, TLSConfig: opt.TLSConfig,
		}), nil
	}
	return redis.NewUniversalClient(&redis.UniversalOptions{Addrs: strings.Split(url, ",")}), nil
}

// redactURL hides a password in a Redis URL before it is logged.
func redactURL(s string) string {
	if at := strings.LastIndex(s, "@"); at >= 0 {
		if scheme := strings.Index(s, "://"); scheme >= 0 && scheme < at {
			return s[:scheme+3] + "***" + s[at:]
		}
	}
	return s
}

// loadProviders returns the initial registry: from the config file when one
// is given, else the embedded demo providers (with development secrets for
// their webhooks).
func loadProviders(cfg config, getenv func(string) string) (*registry.Loaded, error) {
	if cfg.configPath != "" {
		l, err := registry.LoadFile(cfg.configPath, getenv)
		if err != nil {
			return nil, fmt.Errorf("config %s: %w", cfg.configPath, err)
		}
		return l, nil
	}
	conns, err := demo.Default()
	if err != nil {
		return nil, fmt.Errorf("demo providers: %w", err)
	}
	reg, err := connectors.NewRegistry(conns...)
	if err != nil {
		return nil, err
	}
	l := &registry.Loaded{Registry: reg, Settings: map[string]registry.Settings{}}
	for _, c := range conns {
		id := c.Describe().ID
		l.Settings[id] = registry.Settings{Timeout: registry.DefaultTimeout, MaxConcurrent: registry.DefaultMaxConcurrent, Secret: "dev-secret-" + id}
	}
	return l, nil
}

func serve(ctx context.Context, cfg config, getenv func(string) string, verifier *auth.Verifier, stderr io.Writer) error {
	log := newLogger(cfg, stderr)
	gc := gctune.Apply(getenv)
	log.Info("garbage collector", "gogc", gc.GCPercent, "memory_limit_mib", gc.MemoryLimit>>20, "limit_from", gc.LimitSource)
	loaded, err := loadProviders(cfg, getenv)
	if err != nil {
		return err
	}
	var current atomic.Pointer[registry.Loaded]
	current.Store(loaded)
	reg := loaded.Registry
	m := metrics.New()
	store, redisClient, readiness, closeCache, err := newCache(cfg, log, m)
	if err != nil {
		return err
	}
	defer closeCache()
	var idem idempotency.Store = idempotency.NewMemory(nil)
	if redisClient != nil {
		idem = idempotency.NewRedis(redisClient, "plaza:v1:")
	}
	entities := gateway.NewEntityCache(store, gateway.DefaultCachePolicy(), m)
	entities.SetProviderTTLs(cacheTTLs(loaded))
	policy := resilience.New(resilience.Config{Defaults: resilience.DefaultProviderConfig(), Providers: loaded.PolicySettings()},
		resilience.WithLogger(log), resilience.WithObserver(m))
	tracing, err := telemetry.NewTracing(ctx, cfg.tracing)
	if err != nil {
		return err
	}
	defer shutdownTracing(tracing, log)
	personal, closePersonal, err := newPersonalization(ctx, cfg, getenv, log)
	if err != nil {
		return err
	}
	defer closePersonal()
	m.RegisterEvents(personal.Recorder)
	gwCfg, err := gateway.ConfigFromEnv(getenv)
	if err != nil {
		return err
	}
	gw := gateway.New(reg, gateway.WithConfig(gwCfg), gateway.WithLogger(log), gateway.WithObserver(observers{m, personal.Recorder}),
		gateway.WithPolicy(policy), gateway.WithStatus(policy.Status), gateway.WithTracer(tracing.Tracer()), gateway.WithIdempotency(idem),
		gateway.WithCache(entities))
	secrets := func(provider string) (string, bool) {
		s, ok := current.Load().Settings[provider]
		return s.Secret, ok && s.Secret != ""
	}
	opts := []api.Option{api.WithSharedCache(store), api.WithMetrics(m.Registry), api.WithProviderSecrets(secrets),
		api.WithTracer(tracing.Tracer()), api.WithRequestObserver(m)}
	if readiness != nil {
		opts = append(opts, api.WithReadiness("cache", readiness))
	}
	opts = append(opts, api.WithProviderStats(providerStats(events.NewAnalytics(personal.Store))))
	opts = append(opts, api.WithAPIKeys(personal.keys), api.WithResolverOptions(resolvers.WithPersonalization(personal.Personalization)),
		api.WithExamples(analystExamples(getenv)...))
	if cfg.configPath == "" {
		go personal.seedDemo(ctx, gw, log)
	}
	limiter, limiterHealthy, err := newRateLimiter(getenv, redisClient, log)
	if err != nil {
		return err
	}
	opts = append(opts, api.WithRateLimit(limiter))
	if limiterHealthy != nil {
		opts = append(opts, api.WithReadiness("ratelimit", limiterHealthy))
	}
	apiCfg := apiConfig(cfg.env, getenv)
	if apiCfg.Limits, err = limits.ConfigFromEnv(getenv); err != nil {
		return err
	}
	if v := getenv("PLAZA_REQUEST_TIMEOUT"); v != "" {
		if apiCfg.RequestTimeout, err = time.ParseDuration(v); err != nil || apiCfg.RequestTimeout <= 0 {
			return fmt.Errorf("PLAZA_REQUEST_TIMEOUT %q: want a positive duration such as 10s", v)
		}
	}
	srv := api.New(gw, verifier, log, apiCfg, opts...)

	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	httpSrv := &http.Server{Handler: srv, ReadHeaderTimeout: api.ReadHeaderTimeout, IdleTimeout: api.IdleTimeout}
	log.Info("plaza listening", "addr", ln.Addr().String(), "providers", len(reg.All()), "env", cfg.env)
	if cfg.listenReady != nil {
		cfg.listenReady(ln.Addr())
	}
	if cfg.configPath != "" {
		sum, err := registry.Sum(cfg.configPath)
		if err != nil {
			return err
		}
		hup := make(chan os.Signal, 1)
		signal.Notify(hup, syscall.SIGHUP)
		defer signal.Stop(hup)
		reload := make(chan struct{}, 1)
		go func() {
			for range hup {
				select {
				case reload <- struct{}{}:
				default:
				}
			}
		}()
		w := registry.NewWatcher(cfg.configPath, sum, time.Second, getenv, log, func(l *registry.Loaded) {
			old := current.Swap(l)
			policy.SetProviders(l.PolicySettings())
			entities.SetProviderTTLs(cacheTTLs(l))
			gw.SetRegistry(l.Registry)
			// Requests in flight keep the old registry's connectors until they
			// finish; idle connections go now, active ones when done.
			time.AfterFunc(cfg.shutdown, old.Close)
		})
		go w.Run(ctx, reload)
	}
	stopAdmin, err := serveAdmin(cfg.adminAddr, m, log)
	if err != nil {
		return err
	}
	defer stopAdmin()
	errc := make(chan error, 1)
	go func() { errc <- httpSrv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	// Graceful shutdown: report not-ready first, then let in-flight
	// requests finish within the bound.
	srv.Drain()
	log.Info("plaza shutting down", "drain_delay", cfg.drainDelay, "timeout", cfg.shutdown)
	if cfg.drainDelay > 0 {
		time.Sleep(cfg.drainDelay) // keep serving while /readyz says 503
	}
	sctx, cancel := context.WithTimeout(context.Background(), cfg.shutdown)
	defer cancel()
	if err := httpSrv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

// observers reports every connector call to each observer in turn.
type observers []gateway.Observer

func (o observers) ObserveCall(provider, op string, keys int, d time.Duration, err error) {
	for _, x := range o {
		x.ObserveCall(provider, op, keys, d, err)
	}
}

// personalization is the wiring of interaction events, user settings, the
// engine-backed home page and the analysts' API keys.
type personalization struct {
	resolvers.Personalization
	keys *auth.APIKeys
}

// newPersonalization keeps events and settings in Redis when REDIS_URL is
// set (shared by every instance), in process otherwise, and starts the
// event writer until ctx ends. PLAZA_EVENT_RETENTION (a Go duration,
// default 2160h = 90 days) bounds how long events are kept;
// PLAZA_ANALYST_KEYS configures the analysts' keys (auth.APIKeysFromEnv).
// The returned func waits for the writer to drain, then closes Redis.
func newPersonalization(ctx context.Context, cfg config, getenv func(string) string, log *slog.Logger) (personalization, func(), error) {
	keys, err := auth.APIKeysFromEnv(getenv)
	if err != nil {
		return personalization{}, nil, err
	}
	retention := events.DefaultRetention
	if v := getenv("PLAZA_EVENT_RETENTION"); v != "" {
		if retention, err = time.ParseDuration(v); err != nil || retention <= 0 {
			return personalization{}, nil, fmt.Errorf("PLAZA_EVENT_RETENTION %q: want a positive duration such as 2160h", v)
		}
	}
	var store events.Store = events.NewMemoryStore(events.MemoryConfig{Retention: retention})
	var settings events.Settings = events.NewMemorySettings()
	var params recommend.ParamStore = recommend.NewMemoryParamStore()
	closeRedis := func() {}
	if cfg.redisURL != "" {
		client, err := newRedisClient(cfg.redisURL)
		if err != nil {
			return personalization{}, nil, err
		}
		if store, err = events.NewRedisStore(client, events.RedisConfig{Retention: retention}); err != nil {
			return personalization{}, nil, err
		}
		settings, closeRedis = events.NewRedisSettings(client, ""), func() { _ = client.Close() }
		params = recommend.NewRedisParamStore(client, "", 0)
	}
	engine := recommend.New(recommend.DefaultConfig())
	refit, err := newRefitter(engine, store, params, getenv, log)
	if err != nil {
		return personalization{}, nil, err
	}
	if refit != nil {
		go func() { _ = refit.Run(ctx) }()
	}
	rec := events.NewRecorder(store, events.WithConsent(settings), events.WithSink(events.EngineSink(engine)), events.WithLogger(log))
	done := make(chan struct{})
	go func() { _ = rec.Run(ctx); close(done) }()
	p := personalization{keys: keys, Personalization: resolvers.Personalization{
		Home: gateway.NewRecommender(engine), Recorder: rec, Store: store, Settings: settings,
	}}
	return p, func() { <-done; closeRedis() }, nil
}

// analystOperations are the analysts' saved operations; the playground
// offers them at /examples.
//
//go:embed testdata/operations/analytics_*.graphql
var analystOperations embed.FS

// analystExamples opens each saved analyst operation for the last 24 hours,
// with the development key filled in when it is the one accepted.
func analystExamples(getenv func(string) string) []api.Example {
	files, _ := fs.Glob(analystOperations, "testdata/operations/*.graphql")
	var headers map[string]string
	if getenv("PLAZA_ANALYST_KEYS") == "" && getenv("PLAZA_ENV") != "production" {
		headers = map[string]string{auth.APIKeyHeader: auth.DevAnalystKey}
	}
	lastDay := func() map[string]any {
		now := time.Now().UTC().Truncate(time.Hour).Add(time.Hour)
		return map[string]any{"from": now.Add(-24 * time.Hour).Format(time.RFC3339), "to": now.Format(time.RFC3339)}
	}
	out := make([]api.Example, 0, len(files))
	for _, f := range files {
		doc, err := analystOperations.ReadFile(f)
		if err != nil {
			continue
		}
		name := strings.TrimSuffix(path.Base(f), ".graphql")
		out = append(out, api.Example{Name: name, Query: string(doc), Variables: lastDay, Headers: headers})
	}
	return out
}

// seedDemo teaches the engine the demo users' histories in the background,
// so their home pages are personal from the first request.
func (p personalization) seedDemo(ctx context.Context, gw *gateway.Gateway, log *slog.Logger) {
	users := make([]string, demo.DefaultUsers)
	for i := range users {
		users[i] = demo.UserID(i + 1)
	}
	st, err := p.Home.Seed(ctx, gw, users, func(ctx context.Context, u string) bool {
		on, err := p.Settings.Personalization(ctx, u)
		return err == nil && on
	})
	if err != nil {
		log.Warn("recommendation seed interrupted", "err", err)
		return
	}
	log.Info("recommendation engine seeded", "users", st.Users, "events", st.Events, "items", st.Items, "took", st.Duration)
}

// serveAdmin starts the admin listener (pprof and /metrics, see
// telemetry.AdminHandler) on addr unless addr is "off". The returned func
// closes it.
func serveAdmin(addr string, m *metrics.Metrics, log *slog.Logger) (stop func(), err error) {
	if addr == "off" {
		return func() {}, nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("admin listen (PLAZA_ADMIN_ADDR): %w", err)
	}
	// No write timeout: a CPU profile or execution trace takes as long as asked.
	srv := &http.Server{Handler: telemetry.AdminHandler(m.Handler()), ReadHeaderTimeout: api.ReadHeaderTimeout}
	go func() { _ = srv.Serve(ln) }()
	log.Info("admin listening (pprof, metrics)", "addr", ln.Addr().String())
	return func() { _ = srv.Close() }, nil
}

// shutdownTracing exports the spans still buffered, within a bound.
func shutdownTracing(t *telemetry.Tracing, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := t.Shutdown(ctx); err != nil {
		log.Warn("tracing shutdown", "err", err)
	}
}
