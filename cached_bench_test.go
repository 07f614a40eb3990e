package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/plaza-gateway/plaza/api"
	"github.com/plaza-gateway/plaza/api/apitest"
	"github.com/plaza-gateway/plaza/config"
	"github.com/plaza-gateway/plaza/gateway"
	"github.com/plaza-gateway/plaza/metrics"
)

// The documents of make bench's list-of-50 and trivial rows (bench/workloads.go).
const (
	benchListDoc     = `query Products($ids: [ID!]!) { nodes(ids: $ids) { id ... on Product { name price { amount currency } unit store { id name city } } } }`
	benchTypenameDoc = `{ __typename }`
)

// BenchmarkCachedList is issue 19's cached row as a Go benchmark: the list of
// 50 products with their store, posted to the real handler (no network) of
//
//   - uncached: the gateway without the cross-request cache (what make bench's
//     "plaza" row runs: apitest, in-process demo providers);
//   - memory: the shipped wiring (wire.go) without REDIS_URL: the in-process
//     cache, events recorded in process, the recommendation engine learning;
//   - redis: the shipped wiring with REDIS_URL (a private redis-server): the
//     L1 in front of Redis, events in Redis.
//
// The cache is warm before timing. cpu-µs/op is the process's CPU time per
// request (user + system: the events writer, the engine and GC included, after
// the recorder flushed what was queued), the figure make bench reports per
// query; run it with -cpu 1 as the harness pins the gateway to one core.
func BenchmarkCachedList(b *testing.B) {
	vars := map[string]any{"ids": apitest.ProductIDs(b, 50)}
	b.Run("uncached", func(b *testing.B) {
		benchPost(b, benchGateway(b), benchListDoc, vars, nil)
	})
	b.Run("memory", func(b *testing.B) {
		a := benchShipped(b, nil)
		benchPost(b, a.server, benchListDoc, vars, a.flushEvents)
	})
	b.Run("redis", func(b *testing.B) {
		a := benchShipped(b, map[string]string{"REDIS_URL": "redis://" + benchRedisServer(b)})
		benchPost(b, a.server, benchListDoc, vars, a.flushEvents)
	})
}

// BenchmarkTypename is the gateway's fixed cost per request ({ __typename }:
// HTTP handling, limits, parsing or the query cache, validation, the
// executor's entry): on the uncached gateway make bench's row runs, and on the
// shipped wiring (access log, metrics, rate limits off as in the harness).
func BenchmarkTypename(b *testing.B) {
	b.Run("gateway", func(b *testing.B) {
		benchPost(b, benchGateway(b), benchTypenameDoc, nil, nil)
	})
	b.Run("shipped", func(b *testing.B) {
		a := benchShipped(b, nil)
		benchPost(b, a.server, benchTypenameDoc, nil, a.flushEvents)
	})
}

// benchGateway is the uncached gateway as make bench serves it (bench
// serve-gateway: warnings only in its log, metrics), over the in-process demo
// providers.
func benchGateway(b *testing.B) http.Handler {
	m := metrics.New()
	g := apitest.Start(b, apitest.Options{
		Logger:         slog.New(slog.NewTextHandler(discard{}, &slog.HandlerOptions{Level: slog.LevelWarn})),
		GatewayOptions: []gateway.Option{gateway.WithObserver(m)},
		APIOptions:     []api.Option{api.WithMetrics(m.Registry)},
	})
	return g.Server.Config.Handler
}

// benchShipped wires the shipped binary as make bench starts it (production,
// JSON access log, rate limits off), with the embedded demo providers, and
// closes it when the benchmark ends. The access log is discarded.
func benchShipped(b *testing.B, env map[string]string) *app {
	b.Helper()
	vars := map[string]string{
		"PLAZA_JWT_SECRET": "plaza-bench-only-jwt-secret-0123456789",
		"PLAZA_RATE_USER":  "off", "PLAZA_RATE_IP": "off", "PLAZA_RATE_KEY": "off",
		"PLAZA_RECOMMEND_REFIT": "off",
	}
	for k, v := range env {
		vars[k] = v
	}
	getenv := func(k string) string { return vars[k] }
	_, cfg, err := config.Load(nil, getenv)
	if err != nil {
		b.Fatal(err)
	}
	cfg.Env = config.Production // the JSON access log and production limits, with the demo providers
	log := slog.New(slog.NewJSONHandler(discard{}, nil))
	a, err := wire(context.Background(), cfg, getenv, log, metrics.New())
	b.Cleanup(func() {
		if a != nil {
			a.close()
		}
	})
	if err != nil {
		b.Fatal(err)
	}
	return a
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// flushEvents waits until the events queued so far are stored (and the engine
// has learnt from them), so their cost is counted where it was caused.
func (a *app) flushEvents() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if r := a.personal.Recorder; r != nil {
		_ = r.Flush(ctx)
	}
}

// warmPoster returns what posts doc with vars to h, after posting it twice
// to check it and warm the caches (the second answer comes from the cache).
// What it returns may be called from several goroutines.
func warmPoster(b *testing.B, h http.Handler, doc string, vars map[string]any) func() *httptest.ResponseRecorder {
	b.Helper()
	body, err := json.Marshal(map[string]any{"query": doc, "variables": vars})
	if err != nil {
		b.Fatal(err)
	}
	post := func() *httptest.ResponseRecorder {
		// As net/http hands a request to the handler (httptest.NewRequest
		// would parse it from text, a cost the server does not have).
		req, err := http.NewRequest(http.MethodPost, "/query", bytes.NewReader(body))
		if err != nil {
			panic(err) // a constant method and URL: cannot fail
		}
		req.RemoteAddr, req.Host, req.RequestURI = "192.0.2.1:1234", "example.com", "/query"
		req.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		return w
	}
	for range 2 {
		if w := post(); w.Code != http.StatusOK || bytes.Contains(w.Body.Bytes(), []byte(`"errors"`)) {
			b.Fatalf("status %d: %.500s", w.Code, w.Body)
		}
	}
	return post
}

// benchPost posts doc to h once to check it (and warm the caches), then b.N
// times; settle runs before the CPU time is read.
func benchPost(b *testing.B, h http.Handler, doc string, vars map[string]any, settle func()) {
	b.Helper()
	post := warmPoster(b, h, doc, vars)
	if settle != nil {
		settle()
	}
	b.ReportAllocs()
	cpu0 := processCPU(b)
	b.ResetTimer()
	for b.Loop() {
		if w := post(); w.Code != http.StatusOK {
			b.Fatalf("status %d: %.500s", w.Code, w.Body)
		}
	}
	if settle != nil {
		settle()
	}
	b.StopTimer()
	b.ReportMetric(float64((processCPU(b)-cpu0).Microseconds())/float64(b.N), "cpu-µs/op")
}

// processCPU is the process's user + system CPU time so far.
func processCPU(tb testing.TB) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchRedisServer starts a private redis-server on a free loopback port (the
// events and cache keys of the shipped wiring are not prefixed per test, so
// they stay out of the shared Redis) and stops it when the benchmark ends. It
// skips where redis-server is not installed.
func benchRedisServer(b *testing.B) string {
	b.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		b.Skip("redis-server is not on PATH")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	_ = ln.Close()
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	cmd := exec.Command("redis-server", "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", b.TempDir())
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	client := redis.NewClient(&redis.Options{Addr: addr})
	defer client.Close()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if client.Ping(context.Background()).Err() == nil {
			return addr
		}
		if time.Now().After(deadline) {
			b.Fatal(fmt.Sprintf("redis-server on %s did not answer PING", addr))
		}
	}
}
