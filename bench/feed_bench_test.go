package main

import (
	"context"
	"os"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/plaza-gateway/plaza/catalog"
	"github.com/plaza-gateway/plaza/supply"
)

// BenchmarkGeneratedFeed feeds the embedded index from PLAZA_BENCH_FEED_N
// (default 10^4) generated providers of PLAZA_BENCH_FEED_K (default 1)
// items each, as `bench serve-gateway -generated` does at start, and
// compacts it: the 10^6 in-process row's start-up, at a size a profile
// can take.
func BenchmarkGeneratedFeed(b *testing.B) {
	n, k := envInt("PLAZA_BENCH_FEED_N", 10_000), envInt("PLAZA_BENCH_FEED_K", 1)
	ctx := context.Background()
	for b.Loop() {
		mem, err := supply.NewMemory()
		if err != nil {
			b.Fatal(err)
		}
		var calls atomic.Int64
		mem.Hold() // as serve-gateway feeds it
		res, err := newGeneratedSource(n, k, &calls).feed(ctx, catalog.New(mem, nil), 2)
		if err != nil {
			b.Fatal(err)
		}
		if err := mem.Compact(ctx); err != nil {
			b.Fatal(err)
		}
		if res.Indexed != int64(n*k) {
			b.Fatalf("indexed %d items, want %d", res.Indexed, n*k)
		}
		_ = mem.Close()
	}
	b.ReportMetric(float64(n*k), "items")
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}
