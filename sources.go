package main

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"os/signal"
	"path"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/plaza-gateway/plaza/api"
	"github.com/plaza-gateway/plaza/auth"
	"github.com/plaza-gateway/plaza/config"
	"github.com/plaza-gateway/plaza/connectors"
	"github.com/plaza-gateway/plaza/connectors/demo"
	"github.com/plaza-gateway/plaza/directory"
	"github.com/plaza-gateway/plaza/providers"
)

// providerSource is where the gateway's providers come from: the embedded
// demo providers, a registry file (YAML), or the directory in PostgreSQL.
type providerSource interface {
	// current is the set to serve now.
	current() *providers.Set
	// follow hands each later set to apply until ctx ends.
	follow(ctx context.Context, apply func(*providers.Set))
	// apiOptions are what the source adds to the HTTP surface (readiness).
	apiOptions() []api.Option
	// seedsDemo: the demo users' histories exist at these providers.
	seedsDemo() bool
	close()
}

// openProviders picks the source the configuration names.
// demoOpts tune the embedded demo providers (status updates).
func openProviders(ctx context.Context, cfg config.Config, env providers.Env, log *slog.Logger, demoOpts ...demo.Option) (providerSource, error) {
	switch {
	case cfg.DatabaseURL != "":
		return openDirectorySource(ctx, cfg, env, log)
	case cfg.ProvidersFile != "":
		return openFile(cfg.ProvidersFile, env, log)
	}
	return openDemo(demoOpts...)
}

// demoSource is the embedded demo providers, with development secrets for
// their webhooks. They never change.
type demoSource struct{ loaded *providers.Set }

func openDemo(opts ...demo.Option) (demoSource, error) {
	conns, err := demo.Default(opts...)
	if err != nil {
		return demoSource{}, fmt.Errorf("demo providers: %w", err)
	}
	reg, err := connectors.NewRegistry(conns...)
	if err != nil {
		return demoSource{}, err
	}
	settings := map[string]providers.Settings{}
	for _, c := range conns {
		id := c.Describe().ID
		settings[id] = providers.Settings{Timeout: providers.DefaultTimeout, MaxConcurrent: providers.DefaultMaxConcurrent, Secret: "dev-secret-" + id}
	}
	return demoSource{providers.NewSet(reg, settings)}, nil
}

func (s demoSource) current() *providers.Set                    { return s.loaded }
func (demoSource) follow(context.Context, func(*providers.Set)) {}
func (demoSource) apiOptions() []api.Option                     { return nil }
func (demoSource) seedsDemo() bool                              { return true }
func (demoSource) close()                                       {}

// fileSource is a registry file, loaded again on SIGHUP and when it changes
// (providers.Watcher); a file that fails to load leaves the current set.
type fileSource struct {
	path   string
	sum    [32]byte
	loaded *providers.Set
	env    providers.Env
	log    *slog.Logger
}

func openFile(path string, env providers.Env, log *slog.Logger) (*fileSource, error) {
	sum, err := providers.Sum(path)
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	l, err := providers.LoadFile(path, env)
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	return &fileSource{path: path, sum: sum, loaded: l, env: env, log: log}, nil
}

func (s *fileSource) current() *providers.Set { return s.loaded }
func (*fileSource) apiOptions() []api.Option  { return nil }
func (*fileSource) seedsDemo() bool           { return false }
func (*fileSource) close()                    {}

// follow forwards SIGHUP to the watcher until ctx ends.
func (s *fileSource) follow(ctx context.Context, apply func(*providers.Set)) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	reload := make(chan struct{}, 1)
	w := providers.NewWatcher(s.path, s.sum, time.Second, s.env, s.log, apply)
	go w.Run(ctx, reload)
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
}

// exampleOperations are the analysts' and the providers' saved
// operations; the playground offers them at /examples.
//
//go:embed testdata/operations/analytics_*.graphql testdata/operations/provider_*.graphql
var exampleOperations embed.FS

// playgroundExamples opens each saved analyst and provider operation for
// the last 24 hours. In development the credentials are filled in: the
// development analyst key, and for the providers' operations a token of
// the demo provider devProvider (anyone can sign such a token with the
// development secret, so it gives nothing away).
func playgroundExamples(cfg config.Config) []api.Example {
	files, _ := fs.Glob(exampleOperations, "testdata/operations/*.graphql")
	var analyst, provider map[string]string
	if cfg.DevAnalystKey {
		analyst = map[string]string{auth.APIKeyHeader: auth.DevAnalystKey}
	}
	if tok, ok := devProviderToken(cfg); ok {
		provider = map[string]string{"Authorization": "Bearer " + tok}
	}
	lastDay := func() map[string]any {
		now := time.Now().UTC().Truncate(time.Hour).Add(time.Hour)
		return map[string]any{"from": now.Add(-24 * time.Hour).Format(time.RFC3339), "to": now.Format(time.RFC3339)}
	}
	out := make([]api.Example, 0, len(files))
	for _, f := range files {
		doc, err := exampleOperations.ReadFile(f)
		if err != nil {
			continue
		}
		name := strings.TrimSuffix(path.Base(f), ".graphql")
		e := api.Example{Name: name, Query: string(doc), Variables: lastDay, Headers: analyst}
		if strings.HasPrefix(name, "provider_") {
			e.Headers = provider
		}
		if name == "provider_apply_for_loan" {
			e.Variables = loanApplication
		}
		out = append(out, e)
	}
	return out
}

// devProvider is the demo provider whose token the development playground
// fills in for the providers' operations.
const devProvider = "freshcart"

// devProviderToken signs a token for devProvider's developer when the
// gateway runs with the development secret (never in production).
func devProviderToken(cfg config.Config) (string, bool) {
	if cfg.Auth.Secret != auth.DevSecret {
		return "", false
	}
	v, err := auth.NewVerifier(auth.Config{Secret: []byte(auth.DevSecret)})
	if err != nil {
		return "", false
	}
	tok, err := v.IssueProvider("dev-"+devProvider, devProvider, 30*24*time.Hour)
	return tok, err == nil
}

// loanApplication is the example application: 1,000.00 for 60 days, a
// new idempotency key per visit (the same key would return the same loan).
func loanApplication() map[string]any {
	return map[string]any{"input": map[string]any{"amount": map[string]any{"amount": 100_000, "currency": "CNY"}, "termDays": 60,
		"idempotencyKey": fmt.Sprintf("playground-%d", time.Now().UnixNano()), "consent": true}}
}

// seedDemo teaches the engine the demo users' histories in the background,
// so their home pages are personal from the first request.
func (a *app) seedDemo(ctx context.Context) {
	p, gw, log := a.personal, a.gw, a.log
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

// directorySource is the provider directory in PostgreSQL: its snapshot is
// loaded before the gateway opens (so /readyz says ready only with it), and
// each new version of the snapshot (the change feed, with catch-up by
// version) becomes a new set of callable providers.
type directorySource struct {
	pool    *pgxpool.Pool
	store   *directory.Postgres
	builder *providers.Directory
	log     *slog.Logger
	// changed, when set, hears each move of the served version (from, to]
	// once routing serves it: the catalogue syncer's catch-up.
	changed atomic.Pointer[func(from, to int64)]
}

// directoryPoll is how often the follower looks at the snapshot's version
// (an atomic load): a bound on how long a change the feed has applied takes
// to reach routing.
const directoryPoll = 100 * time.Millisecond

func openDirectorySource(ctx context.Context, cfg config.Config, env providers.Env, log *slog.Logger) (_ *directorySource, err error) {
	pool, err := pgxpool.New(ctx, cfg.DatabaseURL)
	if err != nil {
		return nil, fmt.Errorf("PLAZA_DATABASE_URL: %w", err)
	}
	src := &directorySource{pool: pool, log: log}
	defer func() {
		if err != nil {
			src.close()
		}
	}()
	if cfg.MigrateAtStart {
		n, err := directory.Migrate(ctx, pool)
		if err != nil {
			return nil, err
		}
		log.Info("directory schema migrated", "applied", n)
	}
	if src.store, err = directory.OpenPostgres(ctx, pool, cfg.DirectoryKey, directory.Policy{Development: !cfg.Production()}, nil); err != nil {
		return nil, err
	}
	src.builder = providers.NewDirectory(src.store, env, log)
	st := src.store.State()
	log.Info("serving the provider directory", "version", st.Version, "providers", st.Providers, "callable", src.current().Registry.Len())
	return src, nil
}

// current is a view of the latest snapshot, built on each call (O(1)) and
// not kept: a snapshot held for the life of the process would keep every
// slab slot freed since it from being reused (directory.Snapshot), and cost
// the directory a rebuild onto new slabs once they outweigh half of them.
func (s *directorySource) current() *providers.Set { return s.builder.View(s.store.Snapshot()) }
func (*directorySource) seedsDemo() bool           { return false }

func (s *directorySource) close() {
	if s.store != nil {
		s.store.Close()
	}
	s.pool.Close()
}

// follow serves every new snapshot version until ctx ends: a view of it,
// O(1) whatever the number of providers.
func (s *directorySource) follow(ctx context.Context, apply func(*providers.Set)) {
	served := s.store.Snapshot().Version()
	t := time.NewTicker(directoryPoll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		snap := s.store.Snapshot()
		if snap.Version() == served {
			continue
		}
		from := served
		served = snap.Version()
		apply(s.builder.View(snap))
		if f := s.changed.Load(); f != nil {
			(*f)(from, served)
		}
	}
}

// apiOptions report the directory on /readyz: degraded (still 200) while
// PostgreSQL is unreachable and the instance serves its snapshot.
func (s *directorySource) apiOptions() []api.Option {
	return []api.Option{
		api.WithDependency("directory", func() (bool, string) {
			st := s.store.State()
			return !st.Degraded, st.Err
		}),
		api.WithReadyInfo("directory", func() any {
			st := s.store.State()
			state := "ok"
			if st.Degraded {
				state = "degraded"
			}
			return map[string]any{"state": state, "version": st.Version, "providers": st.Providers}
		}),
	}
}
