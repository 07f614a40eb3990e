package ratelimit_test

import (
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/plaza-gateway/plaza/auth"
	"github.com/plaza-gateway/plaza/cache/cachetest"
	"github.com/plaza-gateway/plaza/ratelimit"
)

func TestRedisSharesLimitsAcrossInstances(t *testing.T) {
	prefix := cachetest.Prefix(t)
	limit := ratelimit.Limit{Rate: 2, Period: time.Minute, Burst: 4}
	cfg := ratelimit.Config{User: limit, IP: limit, Key: limit}
	// Two gateway instances: separate clients, separate fallbacks, one Redis.
	a := ratelimit.New(cfg, ratelimit.NewRedis(cachetest.Redis(t), prefix, ratelimit.NewMemory(0, nil)), nil)
	b := ratelimit.New(cfg, ratelimit.NewRedis(cachetest.Redis(t), prefix, ratelimit.NewMemory(0, nil)), nil)
	user := auth.Principal{UserID: "demo-1"}
	for i := range 4 {
		inst := []*ratelimit.Limiter{a, b}[i%2]
		if w := serve(handler(inst, user), request("192.0.2.1:1", nil)); w.Code != http.StatusOK {
			t.Fatalf("request %d within the burst: %d", i, w.Code)
		}
	}
	// 4 requests spent the burst, half on each instance: both now refuse,
	// each alone having seen only 2.
	for _, inst := range []*ratelimit.Limiter{a, b} {
		w := serve(handler(inst, user), request("192.0.2.1:1", nil))
		assertLimited(t, w, 30) // one request per 30 s at 2/m
	}
	if w := serve(handler(a, auth.Principal{UserID: "demo-2"}), request("192.0.2.1:1", nil)); w.Code != http.StatusOK {
		t.Fatalf("another user was limited: %d", w.Code)
	}
}

// closedAddr returns a loopback address nothing listens on.
func closedAddr(tb testing.TB) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	return addr
}

func TestRedisFallsBackWhenUnreachable(t *testing.T) {
	down := redis.NewClient(&redis.Options{Addr: closedAddr(t), MaxRetries: -1})
	t.Cleanup(func() { _ = down.Close() })
	clk := newClock()
	store := ratelimit.NewRedis(down, cachetest.Prefix(t), ratelimit.NewMemory(0, clk.Now), ratelimit.WithClock(clk.Now))
	limit := ratelimit.Limit{Rate: 1, Period: time.Minute, Burst: 2}
	l := ratelimit.New(ratelimit.Config{User: limit, IP: limit, Key: limit}, store, nil)
	h := handler(l, auth.Principal{UserID: "demo-1"})

	t.Run("requests are served and limited in-process, quickly", func(t *testing.T) {
		start := time.Now()
		for i := range 2 {
			if w := serve(h, request("192.0.2.1:1", nil)); w.Code != http.StatusOK {
				t.Fatalf("request %d: %d", i, w.Code)
			}
		}
		assertLimited(t, serve(h, request("192.0.2.1:1", nil)), 60)
		if d := time.Since(start); d > time.Second {
			t.Fatalf("three requests took %v with Redis down", d)
		}
		if store.Healthy() {
			t.Fatal("Redis reported healthy")
		}
		if n := store.Failures(); n != 1 {
			t.Fatalf("%d Redis attempts during the cool-down, want 1", n)
		}
	})
	t.Run("Redis is tried again after the cool-down", func(t *testing.T) {
		clk.Advance(ratelimit.DefaultRedisCooldown)
		if !store.Healthy() {
			t.Fatal("still cooling down")
		}
		serve(h, request("192.0.2.1:1", nil))
		if n := store.Failures(); n != 2 {
			t.Fatalf("%d failures, want 2", n)
		}
	})
}

func TestRedisRecovers(t *testing.T) {
	clk := newClock()
	fallback := ratelimit.NewMemory(0, clk.Now)
	prefix := cachetest.Prefix(t)
	store := ratelimit.NewRedis(cachetest.Redis(t), prefix, fallback, ratelimit.WithClock(clk.Now))
	limit := ratelimit.Limit{Rate: 1, Period: time.Minute, Burst: 1}
	r := mustAllow(t, store, "user:demo-1", limit)
	if !r.Allowed {
		t.Fatalf("%+v", r)
	}
	// The in-process fallback has not seen the request, so a refusal now
	// proves Redis decided.
	if r := mustAllow(t, store, "user:demo-1", limit); r.Allowed || r.RetryAfter <= 0 || r.RetryAfter > time.Minute {
		t.Fatalf("%+v", r)
	}
	if !store.Healthy() || store.Failures() != 0 {
		t.Fatal("healthy Redis reported failures")
	}
}
