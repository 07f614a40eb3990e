package main

import (
	"context"
	"os"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
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

// envList is the comma-separated list in variable name, each item read by
// parse (def when unset); an item parse refuses fails the benchmark.
func envList[T any](b *testing.B, name string, def T, parse func(string) (T, error)) []T {
	v := os.Getenv(name)
	if v == "" {
		return []T{def}
	}
	var out []T
	for _, f := range strings.Split(v, ",") {
		x, err := parse(strings.TrimSpace(f))
		if err != nil {
			b.Fatalf("%s=%q: %v", name, v, err)
		}
		out = append(out, x)
	}
	return out
}

// BenchmarkGeneratedSearch is the index's part of the "search over N
// in-process providers" rows: the gateway's query for search(text:
// "milk") (every searchable kind, IndexCandidates candidates) over the
// embedded index fed and compacted as BenchmarkGeneratedFeed does
// (PLAZA_BENCH_FEED_N providers of PLAZA_BENCH_FEED_K items). CPU time
// per search is the figure: on a shared machine wall time is the
// neighbours'. Sub-benchmarks time other walks over the same index.
//
//	PLAZA_BENCH_FEED_N=32 PLAZA_BENCH_FEED_K=20 go test -run '^$' -bench GeneratedSearch ./bench/
func BenchmarkGeneratedSearch(b *testing.B) {
	n, k := envInt("PLAZA_BENCH_FEED_N", 10_000), envInt("PLAZA_BENCH_FEED_K", 20)
	ctx := context.Background()
	feed0 := processCPU(b)
	mem := fedIndex(b, newGeneratedSource(n, k, new(atomic.Int64)))
	feedCPU := processCPU(b) - feed0
	all := []supply.Kind{supply.KindProduct, supply.KindStore, supply.KindDoctor, supply.KindLawyer, supply.KindGovService}
	// The first is the row's query; the others are the walks it does not
	// take (a text of two concepts, a text in one city, a browse with no
	// text), over the same index.
	queries := []struct {
		name string
		q    supply.Query
	}{
		{"milk", supply.Query{Text: "milk", First: 400, Kinds: all}},
		{"fresh-milk", supply.Query{Text: "fresh milk", First: 400, Kinds: all}},
		{"milk-city", supply.Query{Text: "milk", City: "Shanghai", First: 400, Kinds: all}},
		{"browse", supply.Query{First: 400, Kinds: all}},
		{"browse-city", supply.Query{City: "Shanghai", First: 400, Kinds: all}},
	}
	// PLAZA_BENCH_SEARCH_PROFILE names a CPU profile of the searches alone
	// (go test's -cpuprofile would be mostly the feed).
	defer searchProfile(b)()
	for _, tc := range queries {
		b.Run(tc.name, func(b *testing.B) {
			var page supply.Page
			var err error
			cpu0 := processCPU(b)
			for b.Loop() {
				if page, err = mem.Search(ctx, tc.q); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64((processCPU(b)-cpu0).Nanoseconds())/float64(b.N), "cpu-ns/op")
			b.ReportMetric(float64(len(page.Hits)), "hits")
			b.ReportMetric(float64(page.Total), "total")
		})
	}
	b.ReportMetric(feedCPU.Seconds(), "feed+compact-cpu-s")
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err == nil {
		b.ReportMetric(float64(ru.Maxrss)/(1<<20), "peak-rss-GiB") // Maxrss is in KiB
	}
}

// fedIndex is the embedded index fed from src's catalogues and compacted,
// as bench serve-gateway -generated builds it at start; closed when b ends.
func fedIndex(b *testing.B, src *generatedSource) *supply.Memory {
	ctx := context.Background()
	mem, err := supply.NewMemory()
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = mem.Close() })
	mem.Hold()
	if _, err := src.feed(ctx, catalog.New(mem, nil), 2); err != nil {
		b.Fatal(err)
	}
	if err := mem.Compact(ctx); err != nil {
		b.Fatal(err)
	}
	return mem
}

// searchProfile starts a CPU profile of what follows into the file
// PLAZA_BENCH_SEARCH_PROFILE names (go test's -cpuprofile would be mostly
// the feed), and returns what stops it.
func searchProfile(b *testing.B) (stop func()) {
	path := os.Getenv("PLAZA_BENCH_SEARCH_PROFILE")
	if path == "" {
		return func() {}
	}
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		b.Fatal(err)
	}
	return func() { pprof.StopCPUProfile(); f.Close() }
}
