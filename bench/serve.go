package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync/atomic"
	"time"

	"github.com/plaza-gateway/plaza/api"
	"github.com/plaza-gateway/plaza/auth"
	"github.com/plaza-gateway/plaza/catalog"
	"github.com/plaza-gateway/plaza/config"
	"github.com/plaza-gateway/plaza/connectors"
	"github.com/plaza-gateway/plaza/connectors/demo"
	"github.com/plaza-gateway/plaza/connectors/httpprovider"
	"github.com/plaza-gateway/plaza/gateway"
	"github.com/plaza-gateway/plaza/gctune"
	"github.com/plaza-gateway/plaza/metrics"
	"github.com/plaza-gateway/plaza/providers"
	"github.com/plaza-gateway/plaza/resilience"
	"github.com/plaza-gateway/plaza/supply"
	"github.com/plaza-gateway/plaza/telemetry"
)

// serveProvider serves one demo provider over the HTTP contract, with the
// call counters at GET /v1/stats. It is the harness's stand-in for
// cmd/demo-provider, used when that binary does not build or lacks a flag a
// workload needs (the stalled provider). It wires the same parts: the demo
// connector, httpprovider.NewHandler, Inject and Stats.
func serveProvider(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve-provider", flag.ContinueOnError)
	fs.SetOutput(stderr)
	vertical := fs.String("vertical", "grocery", "grocery | medical | legal | public-service")
	id := fs.String("provider", "", "provider id")
	secret := fs.String("secret", "", "shared secret")
	addr := fs.String("addr", "127.0.0.1:0", "listen address")
	latency := fs.Duration("latency", 0, "added latency per request")
	failRate := fs.Float64("fail-rate", 0, "fraction of requests that fail")
	mode := fs.String("fault-mode", "unavailable", "unavailable | internal | garbage | stall")
	if err := fs.Parse(args); err != nil {
		return err
	}
	v, err := providers.ParseVertical(*vertical)
	if err != nil {
		return err
	}
	desc := connectors.Descriptor{ID: *id, Name: *id, Vertical: v, Cities: demo.DefaultCities()}
	for _, d := range demo.DefaultDescriptors() {
		if d.ID == *id {
			desc = d
		}
	}
	conn, err := demo.New(desc)
	if err != nil {
		return err
	}
	fm, ok := httpprovider.ParseFaultMode(*mode)
	if !ok {
		return fmt.Errorf("unknown fault mode %q", *mode)
	}
	stats := httpprovider.NewStats()
	mux := http.NewServeMux()
	mux.Handle("GET "+httpprovider.PathStats, stats)
	mux.Handle("/", stats.Count(httpprovider.Inject(httpprovider.NewHandler(conn, *secret),
		httpprovider.Faults{Latency: *latency, FailRate: *failRate, Mode: fm})))
	return listenAndServe(ctx, *addr, mux)
}

// serveGateway serves Plaza's real handler (registry from a config file,
// gateway, api) without the cross-request entity cache. The shipped binary
// always caches (in process, or Redis with REDIS_URL), so it cannot measure
// the uncached path the peers are compared on; this wiring differs from
// server.go by leaving gateway.WithCache out, and the parts that do not
// serve these workloads (personalisation, events, tracing export).
func serveGateway(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve-gateway", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfgPath := fs.String("config", "", "provider config file")
	addr := fs.String("addr", "127.0.0.1:0", "listen address")
	withIndex := fs.Bool("index", false, "search and the lists read an embedded supply index fed from the providers' catalogues at start\n(the shipped default), instead of asking every provider")
	generated := fs.Int("generated", 0, "serve this many in-process synthetic grocery providers instead of the config file's (implies -index)")
	items := fs.Int("items-per-provider", 20, "catalogue size of each -generated provider")
	statsAddr := fs.String("stats-addr", "", "with -generated: serve the in-process providers' call count at GET /v1/stats here")
	if err := fs.Parse(args); err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	var reg *connectors.Registry
	var policyLookup func(string) (resilience.ProviderConfig, bool)
	if *generated == 0 {
		loaded, err := providers.LoadFile(*cfgPath, providers.Env{Getenv: func(string) string { return "" }, Embedded: demo.Embedded})
		if err != nil {
			return err
		}
		defer loaded.Close()
		reg, policyLookup = loaded.Registry, loaded.PolicySettings
	}
	var index supply.Index
	var mem *supply.Memory
	if *withIndex || *generated > 0 {
		var err error
		if mem, err = supply.NewMemory(); err != nil {
			return err
		}
		defer mem.Close()
		index = mem
		// Nothing searches before the listener opens: the feed's items
		// are indexed once, by the Compact below, in a few large segments.
		mem.Hold()
		start := time.Now()
		if *generated > 0 {
			var calls atomic.Int64
			src := newGeneratedSource(*generated, *items, &calls)
			res, err := src.feed(ctx, catalog.New(mem, nil), 2)
			if err != nil {
				return err
			}
			fmt.Fprintf(stderr, "indexed %d items of %d in-process providers in %v\n", res.Indexed, res.Providers, time.Since(start).Round(time.Millisecond))
			reg = connectors.NewSourceRegistry(src)
			if *statsAddr != "" {
				go func() {
					if err := listenAndServe(ctx, *statsAddr, statsHandler(&calls)); err != nil {
						log.Warn("stats listener", "err", err)
					}
				}()
			}
		} else if err := feedFromProviders(ctx, reg.All(), mem); err != nil {
			return err
		}
		// As the shipped binary does after its start-up feed: the
		// embedded index never merges the feed's segments itself.
		if err := mem.Compact(ctx); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "index fed and compacted in %v\n", time.Since(start).Round(time.Millisecond))
	}
	// The settings come from the environment as in the shipped binary (the
	// scaling workload's gateway raises the size limits for its list of 1,000);
	// the registry file is named as the shipped binary's flag names it
	// (production mode refuses to serve without one).
	_, pc, err := config.Load([]string{"--config", *cfgPath}, os.Getenv)
	if err != nil {
		return err
	}
	gc := gctune.Apply(pc.GC.Getenv) // as the shipped binary does (its providers come from a file: no directory to follow)
	if mem != nil {
		// The index is long-lived state, as the shipped binary counts it
		// (app.longLived): all of it raises the default soft limit (80
		// MiB at GOMAXPROCS=1, which it would otherwise sit above, the
		// collector running without pause); only its unscanned part,
		// Bleve's segments, leaves GOGC's base. This gateway used to leave
		// the whole live heap out of the base: the collector then ran
		// after every few MB the requests allocated and marked the whole
		// index each time (24 ms of CPU per search at 10^5 providers, 7.1
		// ms paced by the whole heap).
		defer gctune.Follow(gc, func() (int64, int64) { return mem.HeapBytes(), mem.ScanBytes() })()
		// As the shipped binary does after its start-up rebuild (app.
		// publishInProcess): the feed's transient heap collected and
		// handed back before serving, the pacing settled to the serving
		// heap.
		gctune.Settle()
	}
	ac, _ := auth.NewConfig(pc.Auth, nil)
	verifier, err := auth.NewVerifier(ac)
	if err != nil {
		return err
	}
	gwCfg := pc.Gateway
	apiCfg := api.DefaultConfig()
	apiCfg.Limits = pc.Limits
	m := metrics.New()
	// The shipped call policy (timeouts, bulkhead, circuit breaker,
	// budgeted retries), as server.go builds it: a gateway is measured with
	// the protections it runs with.
	policy := resilience.New(resilience.Config{Defaults: resilience.DefaultProviderConfig(), Lookup: policyLookup},
		resilience.WithLogger(log), resilience.WithObserver(m))
	m.RegisterBreakers(policy)
	gwOpts := []gateway.Option{gateway.WithConfig(gwCfg), gateway.WithLogger(log), gateway.WithObserver(m),
		gateway.WithPolicy(policy), gateway.WithStatus(policy.Status)}
	if index != nil {
		gwOpts = append(gwOpts, gateway.WithIndex(index))
	}
	gw := gateway.New(reg, gwOpts...)
	srv := api.New(gw, verifier, log, apiCfg, api.WithMetrics(m.Registry))
	// The admin listener (pprof, /metrics) as the shipped binary has it, so
	// a missed target can be profiled under the harness's own load:
	// go tool pprof http://$PLAZA_ADMIN_ADDR/debug/pprof/profile?seconds=10
	if admin := os.Getenv("PLAZA_ADMIN_ADDR"); admin != "" && admin != "off" {
		actx, cancel := context.WithCancel(ctx)
		defer cancel()
		go func() {
			if err := listenAndServe(actx, admin, telemetry.AdminHandler(m.Handler())); err != nil {
				log.Warn("admin listener", "err", err)
			}
		}()
	}
	return listenAndServe(ctx, *addr, srv)
}

func listenAndServe(ctx context.Context, addr string, h http.Handler) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
