package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/plaza-gateway/plaza/auth"
	"github.com/plaza-gateway/plaza/cache/cachetest"
	"github.com/plaza-gateway/plaza/config"
	"github.com/plaza-gateway/plaza/metrics"
)

// TestMain lets a test run the real main in a child process: the test binary
// re-executed with PLAZA_TEST_MAIN=1 is the plaza command, exit status
// included.
func TestMain(m *testing.M) {
	if os.Getenv("PLAZA_TEST_MAIN") == "1" {
		os.Args = append([]string{"plaza"}, os.Args[1:]...)
		main()
		return
	}
	os.Exit(m.Run())
}

type exited struct {
	code           int
	stdout, stderr string
	took           time.Duration
}

// deadline is how long a process that cannot start, or a short command
// (providers generate --count 40), may take to exit: the target is well
// under a second; the bound is generous, since under -race on a loaded
// two-core machine `providers generate --count 40` took more than 10 s.
const deadline = 60 * time.Second

// plazaProcess runs the plaza command with args and exactly env (and the
// race runtime's GORACE, see the Makefile's test target), and waits up to
// deadline for it to exit.
func plazaProcess(t *testing.T, env map[string]string, args ...string) exited {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = []string{"PLAZA_TEST_MAIN=1", "PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"),
		"GORACE=" + os.Getenv("GORACE")}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		e := exited{stdout: stdout.String(), stderr: stderr.String(), took: time.Since(start)}
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			e.code = exit.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return e
	case <-time.After(deadline):
		_ = cmd.Process.Kill()
		<-done
		t.Fatalf("plaza %v did not exit within %v\nstderr:\n%s", args, deadline, stderr.String())
	}
	return exited{}
}

// taken returns an address some other listener holds for the test.
func taken(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	return ln.Addr().String()
}

// closedPort is a loopback address nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	return addr
}

func TestStartupFailsFast(t *testing.T) {
	public, admin := taken(t), taken(t)
	dir := t.TempDir()
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"the public port is taken", map[string]string{"PLAZA_ADMIN_ADDR": "off"}, []string{"--addr", public},
			"plaza: public listener " + public + ": address already in use"},
		{"the admin port is taken", map[string]string{"PLAZA_ADMIN_ADDR": admin}, []string{"--addr", "127.0.0.1:0"},
			"plaza: admin listener " + admin + ": address already in use"},
		{"the public address is malformed", map[string]string{"PLAZA_ADMIN_ADDR": "off", "PLAZA_ADDR": "nowhere"}, nil,
			"plaza: public listener nowhere: missing port in address"},
		{"the provider file does not exist", map[string]string{"PLAZA_ADMIN_ADDR": "off"}, []string{"--addr", "127.0.0.1:0", "--config", filepath.Join(dir, "nope.yaml")},
			"plaza: config " + filepath.Join(dir, "nope.yaml") + ": "},
		{"the provider file is a directory", map[string]string{"PLAZA_ADMIN_ADDR": "off", "PLAZA_CONFIG": dir}, []string{"--addr", "127.0.0.1:0"},
			"plaza: config " + dir + ": "},
		{"REDIS_URL is malformed", map[string]string{"REDIS_URL": "redis://user:pw@127.0.0.1:port"}, nil,
			`plaza: REDIS_URL="redis://***@127.0.0.1:port": invalid port ":port" after host`},
		{"PLAZA_ENV is prod", map[string]string{"PLAZA_ENV": "prod"}, nil, `plaza: PLAZA_ENV="prod": want development or production`},
		{"PLAZA_ENV is Production", map[string]string{"PLAZA_ENV": "Production"}, nil, `plaza: PLAZA_ENV="Production": want development or production`},
		{"PLAZA_ENV is staging", map[string]string{"PLAZA_ENV": "staging"}, nil, `plaza: PLAZA_ENV="staging": want development or production`},
		{"production without a provider registry", map[string]string{"PLAZA_ENV": "production", "PLAZA_JWT_SECRET": strings.Repeat("s", 32)}, nil,
			"plaza: PLAZA_ENV=production needs a provider registry (PLAZA_CONFIG or --config)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := plazaProcess(t, tt.env, tt.args...)
			t.Logf("exit %d after %v", e.code, e.took.Round(time.Millisecond))
			if e.code != 1 || !strings.Contains(e.stderr, tt.want) {
				t.Fatalf("exit %d, stderr:\n%s\nwant exit 1 and %q", e.code, e.stderr, tt.want)
			}
			if strings.Contains(e.stderr, "plaza listening") {
				t.Errorf("the process reported it was listening:\n%s", e.stderr)
			}
		})
	}
}

func TestStartupRefusesEveryMalformedNumber(t *testing.T) {
	for _, s := range config.Settings {
		if s.Env == "" || (s.Kind != config.Integer && s.Kind != config.Duration && s.Kind != config.Number) {
			continue
		}
		t.Run(s.Env, func(t *testing.T) {
			e := plazaProcess(t, map[string]string{s.Env: "abc", "PLAZA_ADMIN_ADDR": "off", "PLAZA_ADDR": "127.0.0.1:0"})
			want := fmt.Sprintf("plaza: %s=\"abc\": want ", s.Env)
			if e.code != 1 || !strings.Contains(e.stderr, want) {
				t.Fatalf("exit %d after %v, stderr:\n%s\nwant exit 1 and %q", e.code, e.took, e.stderr, want)
			}
		})
	}
}

func TestHelp(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"-h"}, {"help"}, {"token", "--help"}, {"serve", "-h"},
		{"providers", "generate", "--help"}, {"providers", "import", "-h"}} {
		t.Run(strings.Join(args, " ")+" prints the usage and exits 0", func(t *testing.T) {
			e := plazaProcess(t, nil, args...)
			if e.code != 0 || e.stderr != "" || e.stdout != config.Usage() {
				t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", e.code, e.stdout, e.stderr)
			}
			for _, want := range []string{"plaza token --user ID", "--shutdown-timeout", "--ttl", "PLAZA_MAX_DEPTH", "REDIS_URL",
				"plaza migrate [--check]", "plaza providers import FILE", "plaza providers generate --count N", "--endpoint", "PLAZA_DIRECTORY_KEY"} {
				if !strings.Contains(e.stdout, want) {
					t.Errorf("the usage lacks %q", want)
				}
			}
		})
	}
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"frobnicate"}, `plaza: unknown command "frobnicate"`},
		{[]string{"--frobnicate"}, "flag provided but not defined: -frobnicate"},
		{[]string{"token"}, "token: --user is required"},
		{[]string{"migrate", "--force"}, "flag provided but not defined: -force"},
		{[]string{"providers"}, "want providers import FILE or providers generate"},
		{[]string{"providers", "export"}, `unknown command "providers export"`},
		{[]string{"providers", "import"}, "name the registry file"},
		{[]string{"providers", "generate", "--seed", "3"}, "--count is required"},
	} {
		t.Run(strings.Join(tt.args, " ")+" prints the usage on stderr and exits 2", func(t *testing.T) {
			e := plazaProcess(t, nil, tt.args...)
			if e.code != 2 || e.stdout != "" || !strings.Contains(e.stderr, tt.want) || !strings.Contains(e.stderr, config.Usage()) {
				t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", e.code, e.stdout, e.stderr)
			}
		})
	}
	t.Run("token prints a token that verifies", func(t *testing.T) {
		e := plazaProcess(t, nil, "token", "--user", "demo-7")
		v, err := auth.NewVerifier(auth.Config{Secret: []byte(auth.DevSecret), Leeway: time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		if e.code != 0 {
			t.Fatalf("exit %d: %s", e.code, e.stderr)
		}
		if user, err := v.Verify(context.Background(), strings.TrimSpace(e.stdout)); err != nil || user != "demo-7" {
			t.Fatalf("%q, %v", user, err)
		}
	})
	t.Run("token --role OPERATOR prints a bare operator token", func(t *testing.T) {
		e := plazaProcess(t, nil, "token", "--role", "OPERATOR", "--user", "ops-1")
		v, err := auth.NewVerifier(auth.Config{Secret: []byte(auth.DevSecret), Leeway: time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		if e.code != 0 || strings.Count(e.stdout, "\n") != 1 || strings.Contains(e.stdout, " ") {
			t.Fatalf("exit %d, stdout %q, stderr %s: want one bare token line", e.code, e.stdout, e.stderr)
		}
		user, roles, err := v.VerifyRoles(context.Background(), strings.TrimSpace(e.stdout))
		if err != nil || user != "ops-1" || len(roles) != 1 || roles[0] != auth.RoleOperator {
			t.Fatalf("%q %v, %v", user, roles, err)
		}
	})
	t.Run("token --provider prints a provider's token: PROVIDER for that provider, no app user", func(t *testing.T) {
		e := plazaProcess(t, nil, "token", "--provider", "freshcart")
		v, err := auth.NewVerifier(auth.Config{Secret: []byte(auth.DevSecret), Leeway: time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		if e.code != 0 || strings.Count(e.stdout, "\n") != 1 {
			t.Fatalf("exit %d, stdout %q, stderr %s", e.code, e.stdout, e.stderr)
		}
		var p auth.Principal
		req := httptest.NewRequest(http.MethodPost, "/query", nil)
		req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(e.stdout))
		v.Middleware(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { p, _ = auth.From(r.Context()) })).ServeHTTP(httptest.NewRecorder(), req)
		if p.Provider != "freshcart" || p.Actor != "dev-freshcart" || p.UserID != "" || !p.HasRole(auth.RoleProvider) {
			t.Fatalf("principal %+v", p)
		}
	})
	t.Run("token --provider with --role exits 2", func(t *testing.T) {
		e := plazaProcess(t, nil, "token", "--provider", "freshcart", "--role", "OPERATOR")
		if e.code != 2 || !strings.Contains(e.stderr, "carries no --role") {
			t.Fatalf("exit %d\nstderr:\n%s", e.code, e.stderr)
		}
	})
	t.Run("token --role with an unknown role exits 2 naming the flag", func(t *testing.T) {
		e := plazaProcess(t, nil, "token", "--role", "ADMIN", "--user", "ops-1")
		if e.code == 0 || !strings.Contains(e.stderr, "--role") || !strings.Contains(e.stderr, "OPERATOR") {
			t.Fatalf("exit %d\nstderr:\n%s", e.code, e.stderr)
		}
	})
}

func TestMigrateCommand(t *testing.T) {
	t.Run("without PLAZA_DATABASE_URL it says so and exits 2", func(t *testing.T) {
		e := plazaProcess(t, nil, "migrate")
		if e.code != 2 || strings.TrimSpace(e.stderr) != "plaza migrate: PLAZA_DATABASE_URL is not set" {
			t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", e.code, e.stdout, e.stderr)
		}
	})
	t.Run("an unreachable database exits 1 naming the command", func(t *testing.T) {
		e := plazaProcess(t, map[string]string{"PLAZA_DATABASE_URL": "postgres://postgres@127.0.0.1:1/x?connect_timeout=2"}, "migrate", "--check")
		if e.code != 1 || !strings.HasPrefix(e.stderr, "plaza migrate:") {
			t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", e.code, e.stdout, e.stderr)
		}
	})
}

// plaza is a gateway run in process by run, as main runs it.
type plaza struct {
	base string
	logs *logLines
	stop context.CancelFunc
	done <-chan error
}

// startPlaza runs the gateway with env and args and returns once it reports
// it is listening. starting, when set, runs while it starts.
func startPlaza(t *testing.T, env map[string]string, starting func(net.Addr), args ...string) *plaza {
	t.Helper()
	return startPlazaHooks(t, env, hooks{starting: starting}, args...)
}

// startPlazaHooks is startPlaza with every hook.
func startPlazaHooks(t *testing.T, env map[string]string, h hooks, args ...string) *plaza {
	t.Helper()
	getenv := func(k string) string { return env[k] }
	ctx, cancel := context.WithCancel(context.Background())
	logs := &logLines{addr: make(chan string, 1)}
	errc := make(chan error, 1)
	exitedc := make(chan struct{})
	go func() {
		defer close(exitedc)
		errc <- run(ctx, append([]string{"--addr", "127.0.0.1:0"}, args...), getenv, io.Discard, logs, h)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-exitedc:
		case <-time.After(60 * time.Second):
			t.Errorf("run did not return")
		}
	})
	select {
	case addr := <-logs.addr:
		return &plaza{base: "http://" + addr, logs: logs, stop: cancel, done: errc}
	case err := <-errc:
		t.Fatalf("run: %v\n%s", err, logs)
	// Generous: start-up indexes the demo catalogues first, which took
	// 16.6 s under -race on a loaded machine.
	case <-time.After(60 * time.Second):
		t.Fatalf("plaza did not start listening\n%s", logs)
	}
	return nil
}

type readiness struct {
	status       int
	Status       string `json:"status"`
	Dependencies map[string]struct {
		State  string `json:"state"`
		Reason string `json:"reason"`
	} `json:"dependencies"`
}

func getReadyz(t *testing.T, base string) readiness {
	t.Helper()
	resp, err := fresh.Get(base + "/readyz")
	if err != nil {
		t.Fatalf("GET /readyz: %v", err)
	}
	defer resp.Body.Close()
	r := readiness{status: resp.StatusCode}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		t.Fatalf("GET /readyz: %d, %v", resp.StatusCode, err)
	}
	return r
}

var devEnv = map[string]string{"PLAZA_ADMIN_ADDR": "off"}

func TestReadiness(t *testing.T) {
	t.Run("not ready while starting, with every listener already bound", func(t *testing.T) {
		admin := closedPort(t)
		var during readiness
		var query int
		var adminUp bool
		p := startPlaza(t, map[string]string{"PLAZA_ADMIN_ADDR": admin}, func(public net.Addr) {
			during = getReadyz(t, "http://"+public.String())
			if resp, err := fresh.Post("http://"+public.String()+"/query", "application/json", strings.NewReader(`{"query":"{ __typename }"}`)); err == nil {
				query = resp.StatusCode
				_ = resp.Body.Close()
			}
			if c, err := net.Dial("tcp", admin); err == nil {
				adminUp = true
				_ = c.Close()
			}
		})
		if during.status != http.StatusServiceUnavailable || during.Status != "starting" {
			t.Errorf("/readyz while starting: %d %q, want 503 starting", during.status, during.Status)
		}
		if query != http.StatusServiceUnavailable {
			t.Errorf("/query while starting: %d, want 503", query)
		}
		if !adminUp {
			t.Error("the admin listener was not bound while starting")
		}
		if r := getReadyz(t, p.base); r.status != http.StatusOK || r.Status != "ready" {
			t.Errorf("/readyz once listening: %d %q, want 200 ready", r.status, r.Status)
		}
	})

	t.Run("Redis down is degraded, not unready, with the reason", func(t *testing.T) {
		p := startPlaza(t, map[string]string{"PLAZA_ADMIN_ADDR": "off", "REDIS_URL": "redis://" + closedPort(t)}, nil)
		r := getReadyz(t, p.base)
		dep := r.Dependencies["redis"]
		if r.status != http.StatusOK || r.Status != "degraded" || dep.State != "down" || !strings.Contains(dep.Reason, "connection refused") {
			t.Fatalf("/readyz: %d %+v, want 200 degraded with redis down and why", r.status, r)
		}
		t.Logf("/readyz: %d %+v", r.status, r)
	})

	t.Run("stays ready under concurrent load", func(t *testing.T) {
		client := cachetest.Redis(t)
		p := startPlaza(t, map[string]string{"PLAZA_ADMIN_ADDR": "off", "REDIS_URL": "redis://" + client.(*redis.Client).Options().Addr,
			"PLAZA_RATE_IP": "off"}, nil)
		ctx, cancel := context.WithTimeout(context.Background(), 4*time.Second)
		defer cancel()
		var wg sync.WaitGroup
		var queries, failed atomic.Int64
		body := `{"query":"{ search(first: 20) { totalCount edges { node { __typename } } } }"}`
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c := &http.Client{Timeout: 10 * time.Second}
				for ctx.Err() == nil {
					resp, err := c.Post(p.base+"/query", "application/json", strings.NewReader(body))
					if err != nil {
						failed.Add(1)
						continue
					}
					_, _ = io.Copy(io.Discard, resp.Body)
					_ = resp.Body.Close()
					queries.Add(1)
				}
			}()
		}
		var checks int
		var bad []string
		for ctx.Err() == nil {
			if r := getReadyz(t, p.base); r.status != http.StatusOK || r.Status != "ready" {
				bad = append(bad, fmt.Sprintf("%d %+v", r.status, r))
			}
			checks++
			time.Sleep(20 * time.Millisecond)
		}
		wg.Wait()
		t.Logf("%d /readyz checks during %d queries (%d failed to connect)", checks, queries.Load(), failed.Load())
		if len(bad) > 0 {
			t.Fatalf("%d of %d /readyz checks were not 200 ready under load, e.g. %s", len(bad), checks, bad[0])
		}
		if checks < 5 || queries.Load() < 16 {
			t.Fatalf("only %d queries and %d checks ran", queries.Load(), checks)
		}
	})

	t.Run("draining is 503", func(t *testing.T) {
		p := startPlaza(t, map[string]string{"PLAZA_ADMIN_ADDR": "off", "PLAZA_DRAIN_DELAY": "2s"}, nil)
		p.stop()
		var r readiness
		for end := time.Now().Add(2 * time.Second); time.Now().Before(end); time.Sleep(10 * time.Millisecond) {
			if r = getReadyz(t, p.base); r.status != http.StatusOK {
				break
			}
		}
		if r.status != http.StatusServiceUnavailable || r.Status != "draining" {
			t.Fatalf("/readyz after the signal: %d %q, want 503 draining", r.status, r.Status)
		}
		select {
		case err := <-p.done:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("run did not return after the drain")
		}
	})
}

// providersFile is a registry of one embedded demo provider.
func providersFile(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "plaza.yaml")
	yaml := "providers:\n  - id: freshcart\n    vertical: grocery\n    name: FreshCart\n    embedded: demo\n    secret: test-secret\n"
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// allowedOrigin sends a CORS preflight for /query from origin and returns
// the origin the gateway allows ("" for none).
func allowedOrigin(t *testing.T, base, origin string) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodOptions, base+"/query", nil)
	req.Header.Set("Origin", origin)
	req.Header.Set("Access-Control-Request-Method", http.MethodPost)
	req.Header.Set("Access-Control-Request-Headers", "authorization,content-type") // as browsers send it
	resp, err := fresh.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	return resp.Header.Get("Access-Control-Allow-Origin")
}

func TestProductionCORS(t *testing.T) {
	prod := func(extra map[string]string) map[string]string {
		env := map[string]string{"PLAZA_ENV": "production", "PLAZA_ADMIN_ADDR": "off", "PLAZA_CONFIG": providersFile(t),
			"PLAZA_JWT_SECRET": strings.Repeat("s", 32), "PLAZA_DRAIN_DELAY": "0s"}
		for k, v := range extra {
			env[k] = v
		}
		return env
	}
	tests := []struct {
		name    string
		env     map[string]string
		origin  string
		allowed bool
	}{
		{"development allows localhost when no origin is configured", devEnv, "http://localhost:3000", true},
		{"production allows no origin when none is configured", prod(nil), "http://localhost:3000", false},
		{"production allows a configured origin", prod(map[string]string{"PLAZA_CORS_ORIGINS": "https://app.example.com"}), "https://app.example.com", true},
		{"production refuses localhost when origins are configured", prod(map[string]string{"PLAZA_CORS_ORIGINS": "https://app.example.com"}), "http://localhost:3000", false},
		{"production refuses another origin", prod(map[string]string{"PLAZA_CORS_ORIGINS": "https://app.example.com"}), "https://evil.example", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := startPlaza(t, tt.env, nil)
			got := allowedOrigin(t, p.base, tt.origin)
			if (got == tt.origin) != tt.allowed || (!tt.allowed && got != "") {
				t.Fatalf("preflight from %s: Access-Control-Allow-Origin %q, want allowed=%v", tt.origin, got, tt.allowed)
			}
		})
	}
}

// TestAppClosesWithoutASignal: close stops every background task wire
// started (events writer, refitter, provider follower, demo seeding) and
// returns while the process's context lives on; it used to wait for a
// signal, so a start-up error hung the process.
func TestAppClosesWithoutASignal(t *testing.T) {
	_, cfg, err := config.Load(nil, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	a, err := wire(context.Background(), cfg, func(string) string { return "" }, slog.New(slog.DiscardHandler), metrics.New())
	if err != nil {
		a.close()
		t.Fatal(err)
	}
	stopped := make(chan struct{})
	go func() { a.close(); close(stopped) }()
	select {
	case <-stopped:
	case <-time.After(deadline):
		t.Fatalf("the app did not close within %v while the context lives on", deadline)
	}
}
