// Command plaza is the Plaza GraphQL gateway.
//
//	go run .                      serve on :8080 with the embedded demo providers
//	go run . --addr :9090         serve elsewhere (also PLAZA_ADDR)
//	go run . token --user demo-1  print a development token for a demo user
//	go run . token --role OPERATOR --user ops-1   ... for an operator of the provider directory
//	go run . help                 every subcommand, flag and variable (package config)
package main

//go:generate go tool gqlgen generate
//go:generate go run ./listexec/cmd/rewrite graph/generated.go

import (
	"context"
	"embed"
	"errors"
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
	"sync"
	"sync/atomic"
	"syscall"
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
	"github.com/plaza-gateway/plaza/gid"
	"github.com/plaza-gateway/plaza/health"
	"github.com/plaza-gateway/plaza/idempotency"
	"github.com/plaza-gateway/plaza/metrics"
	"github.com/plaza-gateway/plaza/recommend"
	"github.com/plaza-gateway/plaza/registry"
	"github.com/plaza-gateway/plaza/resilience"
	"github.com/plaza-gateway/plaza/resolvers"
	"github.com/plaza-gateway/plaza/telemetry"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	os.Exit(exitStatus(err, os.Stderr))
}

// exitStatus reports err on stderr and returns the process's exit status:
// 0 without an error, 2 for a command line that is not understood (after
// the usage), 1 for anything else.
func exitStatus(err error, stderr io.Writer) int {
	if err == nil {
		return 0
	}
	var code exitCode
	if errors.As(err, &code) {
		return int(code) // the subcommand has said why on stderr
	}
	fmt.Fprintln(stderr, "plaza:", err)
	var usage *config.UsageError
	if errors.As(err, &usage) {
		fmt.Fprint(stderr, "\n"+config.Usage())
		return 2
	}
	return 1
}

// exitCode is a subcommand's exit status other than 0, its reason
// already written to stderr.
type exitCode int

func (c exitCode) Error() string { return fmt.Sprintf("exit status %d", int(c)) }

// hooks let tests watch the start-up; the zero value does nothing.
type hooks struct {
	// starting runs once every listener is bound, while /readyz says
	// "starting"; start-up continues when it returns.
	starting func(public net.Addr)
}

// run is the whole process: it parses the command line and the environment
// (config.Load), then runs the subcommand. getenv is also handed to the
// provider registry, whose secret_env entries name variables of their own.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer, h ...hooks) error {
	cmd, cfg, err := config.Load(args, getenv)
	if errors.Is(err, config.ErrHelp) {
		fmt.Fprint(stdout, config.Usage())
		return nil
	}
	if err != nil {
		return err
	}
	if cmd == config.Token {
		ac, _ := auth.NewConfig(cfg.Auth, nil)
		verifier, err := auth.NewVerifier(ac)
		if err != nil {
			return err
		}
		tok, err := verifier.Issue(cfg.TokenUser, cfg.TokenTTL, cfg.TokenRoles...)
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, tok)
		return nil
	}
	if cmd == config.Migrate {
		if code := directory.MigrateCommand(ctx, cfg.DatabaseURL, cfg.MigrateCheck, stdout, stderr); code != 0 {
			return exitCode(code)
		}
		return nil
	}
	if cmd == config.ProvidersImport || cmd == config.ProvidersGenerate {
		if code := providersCommand(ctx, cmd, cfg, getenv, stdout, stderr); code != 0 {
			return exitCode(code)
		}
		return nil
	}
	var hk hooks
	if len(h) > 0 {
		hk = h[0]
	}
	return serve(ctx, cfg, getenv, stderr, hk)
}

func newLogger(cfg config.Config, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{}
	// LogHandler adds the request id (and trace id) to every line logged
	// with a request's context.
	if cfg.LogJSON() {
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
// over pub/sub); without, a bounded in-process cache.
func newCache(cfg config.Config, log *slog.Logger, m *metrics.Metrics) (store cache.Cache, client redis.UniversalClient, closeFn func()) {
	if cfg.Redis.URL == "" {
		mem := cache.NewMemory(100_000)
		m.RegisterCacheTier("memory", mem)
		log.Info("cache: in-process (set REDIS_URL to share it across instances)")
		return mem, nil, func() {}
	}
	client = redis.NewUniversalClient(cfg.Redis.Options())
	l2 := cache.NewRedis(client, cache.WithLogger(log))
	l1 := cache.NewMemory(10_000)
	tiered := cache.NewTiered(l1, l2, cache.WithLogger(log))
	m.RegisterCacheTier("l1", l1)
	m.RegisterCacheTier("l2", l2)
	log.Info("cache: in-process L1 in front of Redis", "redis", cfg.Redis.Redacted())
	return tiered, client, func() { tiered.Close(); l2.Close(); _ = client.Close() }
}

// newRedisProbe watches Redis for /readyz on a connection of its own, so a
// busy request pool cannot make it flap; the first check runs now (at most
// health.DefaultTimeout), the next ones every second until ctx ends.
func newRedisProbe(ctx context.Context, cfg config.Config, log *slog.Logger) (probe *health.Probe, closeFn func()) {
	opts := cfg.Redis.Options()
	opts.PoolSize, opts.MaxRetries = 1, -1
	client := redis.NewUniversalClient(opts)
	probe = health.NewProbe(func(ctx context.Context) error { return client.Ping(ctx).Err() }, 0, 0)
	if st := probe.Check(ctx); st.State != health.StateOK {
		log.Warn("redis unavailable at start: serving degraded until it answers", "reason", st.Reason)
	}
	go probe.Run(ctx)
	return probe, func() { _ = client.Close() }
}

// loadProviders returns the initial registry: from the config file when one
// is given, else the embedded demo providers (with development secrets for
// their webhooks).
func loadProviders(cfg config.Config, getenv func(string) string) (*registry.Loaded, error) {
	if cfg.ProvidersFile != "" {
		l, err := registry.LoadFile(cfg.ProvidersFile, getenv)
		if err != nil {
			return nil, fmt.Errorf("config %s: %w", cfg.ProvidersFile, err)
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

// serve runs the gateway until ctx ends. It binds every listener first, so
// a taken port fails at once; while the rest starts, /readyz says
// "starting" (503). Any error ends serve promptly: everything started here
// stops with it.
func serve(ctx context.Context, cfg config.Config, getenv func(string) string, stderr io.Writer, h hooks) error {
	// Background work (events writer, config watcher, probes, seeding)
	// ends when serve returns, whatever the reason, not only on a signal.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	log := newLogger(cfg, stderr)
	m := metrics.New()
	ln, err := listen("public", cfg.Addr)
	if err != nil {
		return err
	}
	defer ln.Close()
	var adminLn net.Listener
	if cfg.AdminAddr != "off" {
		if adminLn, err = listen("admin", cfg.AdminAddr); err != nil {
			return err
		}
		defer adminLn.Close()
	}
	gate := &startGate{}
	httpSrv := &http.Server{Handler: gate, ReadHeaderTimeout: api.ReadHeaderTimeout, IdleTimeout: api.IdleTimeout}
	errc := make(chan error, 1)
	go func() { errc <- httpSrv.Serve(ln) }()
	defer httpSrv.Close() // after a graceful Shutdown, a no-op
	if adminLn != nil {
		stopAdmin := serveAdmin(adminLn, m, log)
		defer stopAdmin()
	}
	if h.starting != nil {
		h.starting(ln.Addr())
	}

	gc := gctune.Apply(cfg.GC.Getenv)
	log.Info("garbage collector", "gogc", gc.GCPercent, "memory_limit_mib", gc.MemoryLimit>>20, "limit_from", gc.LimitSource)
	verifier, err := newVerifier(ctx, cfg, log)
	if err != nil {
		return err
	}
	loaded, err := loadProviders(cfg, getenv)
	if err != nil {
		return err
	}
	var current atomic.Pointer[registry.Loaded]
	current.Store(loaded)
	reg := loaded.Registry
	store, redisClient, closeCache := newCache(cfg, log, m)
	defer closeCache()
	var idem idempotency.Store = idempotency.NewMemory(nil)
	if redisClient != nil {
		idem = idempotency.NewRedis(redisClient, "plaza:v1:")
	}
	entities := gateway.NewEntityCache(store, gateway.DefaultCachePolicy(), m)
	entities.SetProviderTTLs(cacheTTLs(loaded))
	policy := resilience.New(resilience.Config{Defaults: resilience.DefaultProviderConfig(), Providers: loaded.PolicySettings()},
		resilience.WithLogger(log), resilience.WithObserver(m))
	tracing, err := telemetry.NewTracing(ctx, cfg.Tracing)
	if err != nil {
		return err
	}
	defer shutdownTracing(tracing, log)
	personal, closePersonal, err := newPersonalization(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer closePersonal()
	m.RegisterEvents(personal.Recorder)
	gw := gateway.New(reg, gateway.WithConfig(cfg.Gateway), gateway.WithLogger(log), gateway.WithObserver(observers{m, personal.Recorder}),
		gateway.WithPolicy(policy), gateway.WithStatus(policy.Status), gateway.WithTracer(tracing.Tracer()), gateway.WithIdempotency(idem),
		gateway.WithCache(entities))
	secrets := func(provider string) (string, bool) {
		s, ok := current.Load().Settings[provider]
		return s.Secret, ok && s.Secret != ""
	}
	opts := []api.Option{api.WithSharedCache(store), api.WithMetrics(m.Registry), api.WithProviderSecrets(secrets),
		api.WithTracer(tracing.Tracer()), api.WithRequestObserver(m)}
	if cfg.Redis.URL != "" {
		probe, closeProbe := newRedisProbe(ctx, cfg, log)
		defer closeProbe()
		opts = append(opts, api.WithDependency("redis", probe.Healthy))
	}
	opts = append(opts, api.WithSignatureV1Until(cfg.SignatureV1Until))
	if redisClient != nil {
		// A provider's signed request accepted by one instance is a replay on every other.
		opts = append(opts, api.WithWebhookReplayCache(httpprovider.NewRedisReplayCache(redisClient, "plaza:v1:webhook-nonce:", httpprovider.DefaultReplayWindow)))
	}
	opts = append(opts, api.WithProviderStats(providerStats(events.NewAnalytics(personal.Store))))
	errorLogs := resolvers.NewLogLimiter(resolvers.LogLimitConfig{})
	m.RegisterLogLimiter(errorLogs)
	opts = append(opts, api.WithResolverOptions(resolvers.WithLogLimiter(errorLogs)))
	opts = append(opts, api.WithAPIKeys(personal.keys), api.WithResolverOptions(resolvers.WithPersonalization(personal.Personalization)),
		api.WithExamples(analystExamples(cfg)...))
	if cfg.ProvidersFile == "" {
		// Seeding reads the events store closePersonal closes: stop it and
		// wait for it first (deferred after closePersonal, so it runs before).
		var seeding sync.WaitGroup
		seeding.Go(func() { personal.seedDemo(ctx, gw, log) })
		defer func() { cancel(); seeding.Wait() }()
	}
	onboarding, closeOnboarding, err := newOnboarding(ctx, cfg, loaded, log)
	if err != nil {
		return err
	}
	defer closeOnboarding()
	opts = append(opts, api.WithResolverOptions(onboarding))
	opts = append(opts, api.WithRateLimit(newRateLimiter(cfg, redisClient, log)))
	srv := api.New(gw, verifier, log, apiConfig(cfg, log), opts...)

	if cfg.ProvidersFile != "" {
		sum, err := registry.Sum(cfg.ProvidersFile)
		if err != nil {
			return err
		}
		hup := make(chan os.Signal, 1)
		signal.Notify(hup, syscall.SIGHUP)
		defer signal.Stop(hup)
		reload := make(chan struct{}, 1)
		go func() { // forwards SIGHUP to the watcher until serve returns
			for {
				select {
				case <-hup:
				case <-ctx.Done():
					return
				}
				select {
				case reload <- struct{}{}:
				default:
				}
			}
		}()
		w := registry.NewWatcher(cfg.ProvidersFile, sum, time.Second, getenv, log, func(l *registry.Loaded) {
			old := current.Swap(l)
			policy.SetProviders(l.PolicySettings())
			entities.SetProviderTTLs(cacheTTLs(l))
			gw.SetRegistry(l.Registry)
			// Requests in flight keep the old registry's connectors until they
			// finish; idle connections go now, active ones when done.
			time.AfterFunc(cfg.ShutdownTimeout, old.Close)
		})
		go w.Run(ctx, reload)
	}
	gate.open(srv)
	log.Info("plaza listening", "addr", ln.Addr().String(), "providers", len(reg.All()), "env", cfg.Env)
	select {
	case err := <-errc:
		return fmt.Errorf("public listener: %w", err)
	case <-ctx.Done():
	}
	// Graceful shutdown: report not-ready first, then let in-flight
	// requests finish within the bound.
	srv.Drain()
	log.Info("plaza shutting down", "drain_delay", cfg.DrainDelay, "timeout", cfg.ShutdownTimeout)
	if cfg.DrainDelay > 0 {
		time.Sleep(cfg.DrainDelay) // keep serving while /readyz says 503
	}
	sctx, cancelShutdown := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancelShutdown()
	if err := httpSrv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

// listen binds addr for the named listener. The error names both and says
// why, without the socket jargon: "admin listener 127.0.0.1:6060: address
// already in use" (errors.Is still finds the errno).
func listen(name, addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err == nil {
		return ln, nil
	}
	var op *net.OpError
	if errors.As(err, &op) {
		err = op.Err
	}
	var sys *os.SyscallError
	var bad *net.AddrError
	switch {
	case errors.As(err, &sys):
		err = sys.Err
	case errors.As(err, &bad):
		err = errors.New(bad.Err) // its text repeats the address
	}
	return nil, fmt.Errorf("%s listener %s: %w", name, addr, err)
}

// startGate is the public handler while the process starts: /healthz says
// the process is alive, /readyz 503 "starting", anything else 503 with
// Retry-After. open hands every later request to the API.
type startGate struct{ api atomic.Pointer[api.Server] }

func (g *startGate) open(s *api.Server) { g.api.Store(s) }

func (g *startGate) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if s := g.api.Load(); s != nil {
		s.ServeHTTP(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	switch r.URL.Path {
	case "/healthz":
		_, _ = io.WriteString(w, `{"status":"ok"}`)
	case "/readyz":
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = io.WriteString(w, `{"status":"starting"}`)
	default:
		w.Header().Set("Retry-After", "1")
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = io.WriteString(w, `{"errors":[{"message":"the gateway is starting; retry shortly","extensions":{"code":"STARTING","retryable":true}}]}`)
	}
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
// event writer. The returned func stops the writer, waits for it to drain
// (bounded by the writer), then closes Redis.
func newPersonalization(ctx context.Context, cfg config.Config, log *slog.Logger) (personalization, func(), error) {
	var store events.Store = events.NewMemoryStore(events.MemoryConfig{Retention: cfg.EventRetention})
	var settings events.Settings = events.NewMemorySettings()
	var params recommend.ParamStore = recommend.NewMemoryParamStore()
	closeRedis := func() {}
	if cfg.Redis.URL != "" {
		client := redis.NewUniversalClient(cfg.Redis.Options())
		var err error
		if store, err = events.NewRedisStore(client, events.RedisConfig{Retention: cfg.EventRetention}); err != nil {
			_ = client.Close()
			return personalization{}, nil, err
		}
		settings, closeRedis = events.NewRedisSettings(client, ""), func() { _ = client.Close() }
		params = recommend.NewRedisParamStore(client, "", 0)
	}
	engine := recommend.New(recommend.DefaultConfig())
	refit := newRefitter(engine, store, params, cfg.RecommendRefit, log)
	if refit != nil {
		go func() { _ = refit.Run(ctx) }()
	}
	rec := events.NewRecorder(store, events.WithConsent(settings), events.WithSink(events.EngineSink(engine)), events.WithLogger(log))
	rctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { _ = rec.Run(rctx); close(done) }()
	p := personalization{keys: cfg.AnalystKeys, Personalization: resolvers.Personalization{
		Home: gateway.NewRecommender(engine), Recorder: rec, Store: store, Settings: settings,
	}}
	return p, func() { stop(); <-done; closeRedis() }, nil
}

// analystOperations are the analysts' saved operations; the playground
// offers them at /examples.
//
//go:embed testdata/operations/analytics_*.graphql
var analystOperations embed.FS

// analystExamples opens each saved analyst operation for the last 24 hours,
// with the development key filled in when it is the one accepted.
func analystExamples(cfg config.Config) []api.Example {
	files, _ := fs.Glob(analystOperations, "testdata/operations/*.graphql")
	var headers map[string]string
	if cfg.DevAnalystKey {
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

// serveAdmin serves pprof and /metrics (see telemetry.AdminHandler) on ln.
// The returned func closes it.
func serveAdmin(ln net.Listener, m *metrics.Metrics, log *slog.Logger) (stop func()) {
	// No write timeout: a CPU profile or execution trace takes as long as asked.
	srv := &http.Server{Handler: telemetry.AdminHandler(m.Handler()), ReadHeaderTimeout: api.ReadHeaderTimeout}
	go func() { _ = srv.Serve(ln) }()
	log.Info("admin listening (pprof, metrics)", "addr", ln.Addr().String())
	return func() { _ = srv.Close() }
}

// shutdownTracing exports the spans still buffered, within a bound.
func shutdownTracing(t *telemetry.Tracing, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := t.Shutdown(ctx); err != nil {
		log.Warn("tracing shutdown", "err", err)
	}
}
