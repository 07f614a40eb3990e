// Command plaza is the Plaza GraphQL gateway.
//
//	go run .                      serve on :8080 with the embedded demo providers
//	go run . --addr :9090         serve elsewhere (also PLAZA_ADDR)
//	go run . token --user demo-1  print a development token for a demo user
//	go run . token --provider freshcart  print a development token for a provider's developer
//	go run . help                 every subcommand, flag and variable (package config)
package main

//go:generate go run ./gid/cmd/kinds
//go:generate go tool gqlgen generate
//go:generate go run ./listexec/cmd/rewrite graph/generated.go

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/plaza-gateway/plaza/api"
	"github.com/plaza-gateway/plaza/auth"
	"github.com/plaza-gateway/plaza/config"
	"github.com/plaza-gateway/plaza/directory"
	"github.com/plaza-gateway/plaza/metrics"
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
	// wired runs once everything is built, before the gate opens.
	wired func(*app)
}

// env is what a subcommand may use besides its configuration.
type env struct {
	// getenv resolves a registry file's secret_env entries (variables of
	// the operator's choosing, so not declared in config).
	getenv         func(string) string
	stdout, stderr io.Writer
	hooks          hooks
}

// commands runs each subcommand config.Load recognises; config.Commands
// names and documents them (one table for the parser and the help text).
var commands = map[config.Command]func(context.Context, config.Config, env) error{
	config.Serve:             serve,
	config.Token:             printToken,
	config.Migrate:           migrate,
	config.ProvidersImport:   directoryFill(config.ProvidersImport),
	config.ProvidersGenerate: directoryFill(config.ProvidersGenerate),
}

// run is the whole process: it parses the command line and the environment
// (config.Load), then runs the subcommand.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer, h ...hooks) error {
	cmd, cfg, err := config.Load(args, getenv)
	if errors.Is(err, config.ErrHelp) {
		fmt.Fprint(stdout, config.Usage())
		return nil
	}
	if err != nil {
		return err
	}
	e := env{getenv: getenv, stdout: stdout, stderr: stderr}
	if len(h) > 0 {
		e.hooks = h[0]
	}
	return commands[cmd](ctx, cfg, e)
}

// printToken is `plaza token`: a development token for --user on stdout.
func printToken(_ context.Context, cfg config.Config, e env) error {
	ac, _ := auth.NewConfig(cfg.Auth, nil)
	verifier, err := auth.NewVerifier(ac)
	if err != nil {
		return err
	}
	var tok string
	if cfg.TokenProvider != "" {
		tok, err = verifier.IssueProvider(cfg.TokenUser, cfg.TokenProvider, cfg.TokenTTL)
	} else {
		tok, err = verifier.Issue(cfg.TokenUser, cfg.TokenTTL, cfg.TokenRoles...)
	}
	if err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, tok)
	return nil
}

// migrate is `plaza migrate [--check]`.
func migrate(ctx context.Context, cfg config.Config, e env) error {
	return exitWith(directory.MigrateCommand(ctx, cfg.DatabaseURL, cfg.MigrateCheck, e.stdout, e.stderr))
}

// directoryFill is `plaza providers import|generate`.
func directoryFill(cmd config.Command) func(context.Context, config.Config, env) error {
	return func(ctx context.Context, cfg config.Config, e env) error {
		return exitWith(providersCommand(ctx, cmd, cfg, e.getenv, e.stdout, e.stderr))
	}
}

// exitWith turns a subcommand's exit status into run's error.
func exitWith(code int) error {
	if code != 0 {
		return exitCode(code)
	}
	return nil
}

// serve runs the gateway until ctx ends. It binds every listener first, so
// a taken port fails at once; while wire builds the rest, /readyz says
// "starting" (503). Any error ends serve promptly: everything started here
// stops with it.
func serve(ctx context.Context, cfg config.Config, e env) error {
	// Background work (events writer, provider feed, probes, seeding) ends
	// when serve returns, whatever the reason, not only on a signal.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	log := newLogger(cfg, e.stderr)
	m := metrics.New()
	ln, adminLn, err := listenAll(cfg)
	if err != nil {
		return err
	}
	defer closeAll(ln, adminLn)
	gate := &startGate{}
	httpSrv := &http.Server{Handler: gate, ReadHeaderTimeout: api.ReadHeaderTimeout, IdleTimeout: api.IdleTimeout}
	errc := make(chan error, 1)
	go func() { errc <- httpSrv.Serve(ln) }()
	defer httpSrv.Close() // after a graceful Shutdown, a no-op
	if adminLn != nil {
		defer serveAdmin(adminLn, m, log)()
	}
	if e.hooks.starting != nil {
		e.hooks.starting(ln.Addr())
	}
	a, err := wire(ctx, cfg, e.getenv, log, m)
	defer a.close() // what was built, also when wire failed half-way
	if err != nil {
		return err
	}
	if e.hooks.wired != nil {
		e.hooks.wired(a)
	}
	gate.open(a.server)
	log.Info("plaza listening", "addr", ln.Addr().String(), "providers", a.gw.Registry().Len(), "env", cfg.Env)
	select {
	case err := <-errc:
		return fmt.Errorf("public listener: %w", err)
	case <-ctx.Done():
	}
	return shutdown(cfg, a.server, httpSrv, log)
}

// shutdown is graceful: /readyz reports not-ready first (for DrainDelay),
// then in-flight requests finish within ShutdownTimeout.
func shutdown(cfg config.Config, srv *api.Server, httpSrv *http.Server, log *slog.Logger) error {
	srv.Drain()
	log.Info("plaza shutting down", "drain_delay", cfg.DrainDelay, "timeout", cfg.ShutdownTimeout)
	if cfg.DrainDelay > 0 {
		time.Sleep(cfg.DrainDelay) // keep serving while /readyz says 503
	}
	// Subscriptions end now: their clients reconnect to another instance
	// and start from the current state. Shutdown would wait for SSE
	// responses until its timeout, and never sees websockets.
	srv.EndStreams()
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	if err := httpSrv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

// listenAll binds the public listener and, unless it is "off", the admin one.
func listenAll(cfg config.Config) (public, admin net.Listener, err error) {
	if public, err = listen("public", cfg.Addr); err != nil {
		return nil, nil, err
	}
	if cfg.AdminAddr == "off" {
		return public, nil, nil
	}
	if admin, err = listen("admin", cfg.AdminAddr); err != nil {
		_ = public.Close()
		return nil, nil, err
	}
	return public, admin, nil
}

func closeAll(lns ...net.Listener) {
	for _, ln := range lns {
		if ln != nil {
			_ = ln.Close()
		}
	}
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
