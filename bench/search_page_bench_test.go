package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"runtime/pprof"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/plaza-gateway/plaza/api"
	"github.com/plaza-gateway/plaza/auth"
	"github.com/plaza-gateway/plaza/connectors"
	"github.com/plaza-gateway/plaza/gateway"
	"github.com/plaza-gateway/plaza/gctune"
	"github.com/plaza-gateway/plaza/supply"
)

// BenchmarkGeneratedSearchPage is the whole "search over N in-process
// providers" row in one process, without the network: the embedded index
// fed and compacted from PLAZA_BENCH_FEED_N generated providers of
// PLAZA_BENCH_FEED_K items (as BenchmarkGeneratedSearch), the collector
// paced by it as bench serve-gateway paces it (gctune.Follow, Settle), and the
// row's search page (docSearchPage, "milk") posted to the real handler,
// completed from the in-process providers. CPU time per search (the
// collector's included) and collections per 1,000 searches are the
// figures, for each re-ranking depth in PLAZA_BENCH_CANDIDATES (a comma-separated
// list, default gateway.IndexCandidates), all over one feed;
// PLAZA_BENCH_IDLE (durations, default 0) sleeps between searches, as at c=1;
// PLAZA_BENCH_SEARCH_PROFILE names a CPU profile of the searches
// alone (of the last depth), and PLAZA_BENCH_SEARCH_HEAP_PROFILE a heap profile after them. Run it with GOMAXPROCS=1, as the row's gateway runs:
//
//	GOMAXPROCS=1 PLAZA_BENCH_FEED_N=1000000 PLAZA_BENCH_FEED_K=2 go test -run '^$' -bench GeneratedSearchPage ./bench/
func BenchmarkGeneratedSearchPage(b *testing.B) {
	n, k := envInt("PLAZA_BENCH_FEED_N", 10_000), envInt("PLAZA_BENCH_FEED_K", 20)
	src := newGeneratedSource(n, k, new(atomic.Int64))
	mem := fedIndex(b, src)
	runtime.GC()
	gc := gctune.Apply(func(string) string { return "" })
	defer gctune.Follow(gc, func() (int64, int64) { return mem.HeapBytes(), mem.ScanBytes() })()
	// As the gateway does after its start-up feed (bench serve-gateway,
	// app.publishInProcess): without it the scavenger paced by the feed's
	// heap, and runs of nearly the same code differed by a third (madvise
	// and page clearing a fifth of a search in the slower).
	gctune.Settle()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	v, err := auth.NewVerifier(auth.Config{Secret: []byte("bench-secret")})
	if err != nil {
		b.Fatal(err)
	}
	body, err := json.Marshal(map[string]any{"query": docSearchPage, "variables": map[string]any{"text": "milk"}})
	if err != nil {
		b.Fatal(err)
	}
	// One feed, every re-ranking depth asked for (the order given, so a
	// list such as 400,200,400,200 alternates them), each with every idle
	// time.
	for _, depth := range envList(b, "PLAZA_BENCH_CANDIDATES", gateway.IndexCandidates, positiveInt) {
		for _, idle := range envList(b, "PLAZA_BENCH_IDLE", 0, nonNegativeDuration) {
			b.Run(fmt.Sprintf("candidates=%d/idle=%v", depth, idle), func(b *testing.B) {
				cfg := gateway.DefaultConfig()
				cfg.IndexCandidates = depth
				gw := gateway.New(connectors.NewSourceRegistry(src), gateway.WithConfig(cfg), gateway.WithLogger(log), gateway.WithIndex(mem))
				searchPage(b, api.New(gw, v, log, api.DefaultConfig()), body, mem, idle)
			})
		}
	}
}

func positiveInt(v string) (int, error) {
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("want positive integers separated by commas")
	}
	return n, nil
}

func nonNegativeDuration(v string) (time.Duration, error) {
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("want durations separated by commas")
	}
	return d, nil
}

// searchPage posts body to h b.N times and reports CPU time per search
// and the collector's figures (mem is the index h searches). With idle
// above 0 it sleeps that long between searches, as the row's gateway
// waits between them at c=1: each search then starts on caches others
// have used meanwhile, and the runtime's background work counts in the
// CPU per search, as in the row.
func searchPage(b *testing.B, h http.Handler, body []byte, mem *supply.Memory, idle time.Duration) {
	post := func() *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodPost, "/query", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		return w
	}
	if w := post(); w.Code != http.StatusOK || bytes.Contains(w.Body.Bytes(), []byte(`"errors"`)) || !bytes.Contains(w.Body.Bytes(), []byte(`"price"`)) {
		b.Fatalf("status %d: %.500s", w.Code, w.Body)
	}
	defer searchProfile(b)()
	b.ReportAllocs()
	b.ResetTimer()
	cpu0, gc0 := processCPU(b), gcCycles()
	for b.Loop() {
		if w := post(); w.Code != http.StatusOK {
			b.Fatalf("status %d", w.Code)
		}
		if idle > 0 {
			time.Sleep(idle)
		}
	}
	b.ReportMetric(float64(processCPU(b)-cpu0)/float64(b.N), "cpu-ns/op")
	b.ReportMetric(float64(gcCycles()-gc0)*1000/float64(b.N), "gc/1000")
	b.ReportMetric(float64(mem.ScanBytes())/(1<<20), "scan-MiB")
	b.ReportMetric(float64(mem.HeapBytes())/(1<<20), "est-MiB")
	// What the collector marks, by the runtime's count (the index's
	// estimate above is one part of it).
	m := []metrics.Sample{{Name: "/gc/scan/heap:bytes"}, {Name: "/gc/heap/live:bytes"}, {Name: "/memory/classes/heap/free:bytes"},
		{Name: "/memory/classes/heap/unused:bytes"}, {Name: "/memory/classes/total:bytes"}, {Name: "/memory/classes/heap/released:bytes"}}
	metrics.Read(m)
	for i, unit := range []string{"heap-scan-MiB", "heap-live-MiB", "free-MiB", "unused-MiB", "total-MiB", "released-MiB"} {
		b.ReportMetric(float64(m[i].Value.Uint64())/(1<<20), unit)
	}
	b.ReportMetric(float64(debug.SetMemoryLimit(-1))/(1<<20), "limit-MiB")
	b.ReportMetric(float64(debug.SetGCPercent(-1)), "gogc")
	if path := os.Getenv("PLAZA_BENCH_SEARCH_HEAP_PROFILE"); path != "" {
		// Sampled at GODEBUG=memprofilerate=N (gctune leaves a rate set
		// at start alone).
		f, err := os.Create(path)
		if err != nil {
			b.Fatal(err)
		}
		defer f.Close()
		runtime.GC()
		if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
			b.Fatal(err)
		}
	}
}
