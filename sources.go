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
	"syscall"
	"time"

	"github.com/plaza-gateway/plaza/api"
	"github.com/plaza-gateway/plaza/auth"
	"github.com/plaza-gateway/plaza/config"
	"github.com/plaza-gateway/plaza/connectors"
	"github.com/plaza-gateway/plaza/connectors/demo"
	"github.com/plaza-gateway/plaza/gid"
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
func openProviders(ctx context.Context, cfg config.Config, getenv func(string) string, log *slog.Logger) (providerSource, error) {
	if cfg.ProvidersFile != "" {
		return openFile(cfg.ProvidersFile, getenv, log)
	}
	return openDemo()
}

// demoSource is the embedded demo providers, with development secrets for
// their webhooks. They never change.
type demoSource struct{ loaded *providers.Set }

func openDemo() (demoSource, error) {
	conns, err := demo.Default()
	if err != nil {
		return demoSource{}, fmt.Errorf("demo providers: %w", err)
	}
	reg, err := connectors.NewRegistry(conns...)
	if err != nil {
		return demoSource{}, err
	}
	l := &providers.Set{Registry: reg, Settings: map[string]providers.Settings{}}
	for _, c := range conns {
		id := c.Describe().ID
		l.Settings[id] = providers.Settings{Timeout: providers.DefaultTimeout, MaxConcurrent: providers.DefaultMaxConcurrent, Secret: "dev-secret-" + id}
	}
	return demoSource{l}, nil
}

func (s demoSource) current() *providers.Set                    { return s.loaded }
func (demoSource) follow(context.Context, func(*providers.Set)) {}
func (demoSource) apiOptions() []api.Option                       { return nil }
func (demoSource) seedsDemo() bool                                { return true }
func (demoSource) close()                                         {}

// fileSource is a registry file, loaded again on SIGHUP and when it changes
// (providers.Watcher); a file that fails to load leaves the current set.
type fileSource struct {
	path   string
	sum    [32]byte
	loaded *providers.Set
	getenv func(string) string
	log    *slog.Logger
}

func openFile(path string, getenv func(string) string, log *slog.Logger) (*fileSource, error) {
	sum, err := providers.Sum(path)
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	l, err := providers.LoadFile(path, providers.Env{Getenv: getenv, Embedded: demo.Embedded})
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	return &fileSource{path: path, sum: sum, loaded: l, getenv: getenv, log: log}, nil
}

func (s *fileSource) current() *providers.Set { return s.loaded }
func (*fileSource) apiOptions() []api.Option    { return nil }
func (*fileSource) seedsDemo() bool             { return false }
func (*fileSource) close()                      {}

// follow forwards SIGHUP to the watcher until ctx ends.
func (s *fileSource) follow(ctx context.Context, apply func(*providers.Set)) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	reload := make(chan struct{}, 1)
	w := providers.NewWatcher(s.path, s.sum, time.Second, providers.Env{Getenv: s.getenv, Embedded: demo.Embedded}, s.log, apply)
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

// cacheTTLs maps the per-provider cache_ttl overrides onto the entity cache
// (types were checked when the set was built).
func cacheTTLs(l *providers.Set) map[string]map[gid.Kind]time.Duration {
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
