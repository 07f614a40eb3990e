// Package cachetest gives tests a Redis: the real one at REDIS_URL (default redis://127.0.0.1:6379), or an
// in-process miniredis when none answers. The first call in a process prints which one is used.
package cachetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
)

const defaultURL = "redis://127.0.0.1:6379"

// One server per process, chosen once, so every test sees the same thing (and two clients in one test share data).
var (
	probeOnce  sync.Once
	serverOpts *redis.Options
)

// Redis returns a client for the Redis at REDIS_URL, or for an in-process miniredis shared by the whole test binary
// if no Redis answers PING within 200 ms. The client is closed when the test ends. Tests share the server, so they
// must keep their keys under Prefix.
func Redis(tb testing.TB) redis.UniversalClient {
	tb.Helper()
	probeOnce.Do(probe)
	if serverOpts == nil {
		tb.Fatal("cachetest: neither Redis nor miniredis could be started")
	}
	opts := *serverOpts
	client := redis.NewClient(&opts)
	tb.Cleanup(func() { _ = client.Close() })
	return client
}

// Prefix returns a key prefix unique to this test run, starting with "plaza:test:".
func Prefix(tb testing.TB) string {
	tb.Helper()
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		tb.Fatalf("cachetest: random prefix: %v", err)
	}
	name := strings.NewReplacer("/", ".", " ", "_", ":", ".").Replace(tb.Name())
	return fmt.Sprintf("plaza:test:%s:%s:", name, hex.EncodeToString(b[:]))
}

func probe() {
	url := os.Getenv("REDIS_URL")
	if url == "" {
		url = defaultURL
	}
	opts, err := redis.ParseURL(url)
	if err != nil {
		fmt.Fprintf(os.Stderr, "cache tests: bad REDIS_URL %q (%v), using in-process miniredis\n", url, err)
		startMiniredis()
		return
	}
	probeOpts := *opts
	probeOpts.DialTimeout, probeOpts.ReadTimeout, probeOpts.MaxRetries = 200*time.Millisecond, 200*time.Millisecond, -1
	client := redis.NewClient(&probeOpts)
	defer client.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if err := client.Ping(ctx).Err(); err != nil {
		fmt.Fprintln(os.Stderr, "cache tests: no Redis reachable, using in-process miniredis")
		startMiniredis()
		return
	}
	serverOpts = opts
	fmt.Fprintf(os.Stderr, "cache tests: using Redis at %s\n", opts.Addr)
}

// startMiniredis runs a miniredis for the rest of the process.
func startMiniredis() {
	m, err := miniredis.Run()
	if err != nil {
		fmt.Fprintf(os.Stderr, "cache tests: start miniredis: %v\n", err)
		return
	}
	serverOpts = &redis.Options{Addr: m.Addr()}
}
