package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"runtime/metrics"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/plaza-gateway/plaza/api"
	"github.com/plaza-gateway/plaza/auth"
	"github.com/plaza-gateway/plaza/connectors"
	"github.com/plaza-gateway/plaza/connectors/demo"
	"github.com/plaza-gateway/plaza/directory"
	"github.com/plaza-gateway/plaza/directory/pgtest"
	"github.com/plaza-gateway/plaza/gateway"
	"github.com/plaza-gateway/plaza/gctune"
	"github.com/plaza-gateway/plaza/gid"
	"github.com/plaza-gateway/plaza/idempotency"
	"github.com/plaza-gateway/plaza/providers"
	"github.com/plaza-gateway/plaza/resilience"
)

// BenchmarkDirectoryEndToEnd is issue 14's end-to-end row: product detail
// and the list of 50 through Plaza's real handler (no network, no
// cross-request cache, the shipped call policy) while the directory it
// routes from, loaded from PostgreSQL, holds N generated providers served
// in process. Both sizes ask the same provider (the first grocery among the
// generated ids, present at every N), so what differs is only how many
// providers are registered. Each size runs in a process of its own (the
// other size's snapshot must not weigh on its GC); `make bench` runs them
// interleaved, e2eRounds times, and judges the median of the rounds' ratios
// (bench/directory.go). Opt-in
// with PLAZA_BENCH_SCALE=1: it stays out of the micro-benchmark pass.
//
//	PLAZA_BENCH_SCALE=1 go test -run '^$' -bench 'DirectoryEndToEnd/providers=10$' -benchtime 1x ./bench
func BenchmarkDirectoryEndToEnd(b *testing.B) {
	if os.Getenv("PLAZA_BENCH_SCALE") != "1" {
		b.Skip("PLAZA_BENCH_SCALE=1 runs the end-to-end directory benchmark (PostgreSQL, up to 10^6 providers)")
	}
	// The collector as the shipped binary sets it (wire.go): GOGC, and a
	// soft memory limit that paces by the heap beyond the snapshot.
	gc := gctune.Apply(os.Getenv)
	for _, n := range []int{10, 1_000_000} {
		b.Run("providers="+strconv.Itoa(n), func(b *testing.B) {
			h, ids, snap := directoryHandler(b, n)
			defer gctune.Follow(gc, func() (int64, int64) { s := snap(); return s.HeapBytes(), s.ScanBytes() })()
			detail, list := e2eBodies(b, ids)
			post := func(body []byte) time.Duration {
				req := httptest.NewRequest(http.MethodPost, "/query", bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				w := httptest.NewRecorder()
				t0 := time.Now()
				h.ServeHTTP(w, req)
				d := time.Since(t0)
				if w.Code != http.StatusOK || bytes.Contains(w.Body.Bytes(), []byte(`"errors"`)) {
					b.Fatalf("status %d: %.300s", w.Code, w.Body)
				}
				return d
			}
			// Warm up: the provider's connector is resolved (its data
			// derived) on its first call, at every N. Then a collection, so
			// neither size starts timing with the other's garbage.
			for k := range 50 {
				post(detail[k%len(detail)])
				post(list)
			}
			runtime.GC()
			var det, lst []time.Duration
			var cpu time.Duration
			var gcs uint64
			for b.Loop() {
				det, lst = det[:0], lst[:0]
				gc0 := gcCycles()
				cpu0 := processCPU(b)
				for k := range 2000 {
					det = append(det, post(detail[k%len(detail)]))
					if k%4 == 0 {
						lst = append(lst, post(list))
					}
				}
				cpu = processCPU(b) - cpu0
				gcs = gcCycles() - gc0
			}
			// Collections per 1,000 requests: at 10^6 as many as at 10 when
			// the collector paces by the heap beyond the snapshot
			// (gctune.Follow, Snapshot.HeapBytes).
			b.ReportMetric(float64(gcs)/float64(len(det)+len(lst))*1000, "gc/1000requests")
			// Process CPU (GC included) per request, detail and list mixed
			// as posted: steadier than latency on a shared machine.
			b.ReportMetric(float64(cpu.Nanoseconds())/1e3/float64(len(det)+len(lst)), "cpu-us/request")
			for _, m := range []struct {
				name string
				lat  []time.Duration
			}{{"detail", det}, {"list50", lst}} {
				slices.Sort(m.lat)
				b.ReportMetric(float64(m.lat[len(m.lat)/2].Nanoseconds())/1e3, m.name+"-p50-us")
				b.ReportMetric(float64(m.lat[len(m.lat)*99/100].Nanoseconds())/1e3, m.name+"-p99-us")
			}
		})
	}
}

// directoryHandler is Plaza's handler over a PostgreSQL directory of n
// generated in-process providers (a database per n, kept between runs:
// generating is idempotent), and the global ids of 50 products of the first
// generated grocery provider, and the directory's current snapshot.
func directoryHandler(b *testing.B, n int) (http.Handler, []string, func() *directory.Snapshot) {
	b.Helper()
	ctx := context.Background()
	pool := e2ePool(b, "plaza_bench_e2e_"+strconv.Itoa(n))
	if _, err := directory.Migrate(ctx, pool); err != nil {
		b.Fatal(err)
	}
	sealer, _ := directory.NewSealer(make([]byte, 32))
	open := func() *directory.Postgres {
		store, err := directory.OpenPostgres(ctx, pool, sealer, directory.Policy{}, nil)
		if err != nil {
			b.Fatal(err)
		}
		return store
	}
	store := open()
	if store.Snapshot().Len() != n {
		// First run on this database: fill it, then let PostgreSQL's
		// after-work (WAL, autovacuum) pass before anything is timed.
		store.Close()
		if _, err := directory.Generate(ctx, pool, n, 1, false, directory.GenerateOptions{}); err != nil {
			b.Fatal(err)
		}
		time.Sleep(5 * time.Second)
		store = open()
	}
	b.Cleanup(store.Close)
	if got := store.Snapshot().Len(); got != n {
		b.Fatalf("directory of %d providers, want %d", got, n)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	set := providers.NewDirectory(store, providers.Env{Embedded: demo.Embedded}, log).View(store.Snapshot())
	grocer := ""
	for i := range min(n, 10) {
		if p := directory.Generated(1, i, directory.GenerateOptions{}); p.Vertical == connectors.VerticalGrocery {
			grocer = p.ID
			break
		}
	}
	g, err := set.Registry.Grocery(grocer)
	if err != nil {
		b.Fatalf("no grocery provider among the first 10 generated (%q): %v", grocer, err)
	}
	page, err := g.SearchProducts(ctx, connectors.Query{First: 50})
	if err != nil || len(page.Items) < 50 {
		b.Fatalf("%s: %d products, %v", grocer, len(page.Items), err)
	}
	ids := make([]string, 50)
	for k, p := range page.Items[:50] {
		ids[k] = gid.Encode(gid.Product, grocer, p.ID)
	}
	policy := resilience.New(resilience.Config{Defaults: resilience.DefaultProviderConfig(), Lookup: set.PolicySettings},
		resilience.WithLogger(log))
	gw := gateway.New(set.Registry, gateway.WithLogger(log), gateway.WithPolicy(policy), gateway.WithStatus(policy.Status),
		gateway.WithIdempotency(idempotency.NewMemory(nil)))
	v, err := auth.NewVerifier(auth.Config{Secret: []byte("bench-secret")})
	if err != nil {
		b.Fatal(err)
	}
	return api.New(gw, v, log, api.DefaultConfig()), ids, store.Snapshot
}

func e2eBodies(b *testing.B, ids []string) (detail [][]byte, list []byte) {
	b.Helper()
	for _, id := range ids {
		body, err := json.Marshal(map[string]any{"query": docDetailPlaza, "variables": map[string]any{"id": id}})
		if err != nil {
			b.Fatal(err)
		}
		detail = append(detail, body)
	}
	list, err := json.Marshal(map[string]any{"query": docListPlaza, "variables": map[string]any{"ids": ids}})
	if err != nil {
		b.Fatal(err)
	}
	return detail, list
}

// e2ePool opens (creating it if missing) the named database on the test
// server: kept between runs, so the 10^6 providers are generated once.
func e2ePool(b *testing.B, name string) *pgxpool.Pool {
	b.Helper()
	pool, err := pgxpool.New(context.Background(), pgtest.KeptDatabaseURL(b, name))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(pool.Close)
	return pool
}

// gcCycles is the number of collections completed so far.
func gcCycles() uint64 {
	m := []metrics.Sample{{Name: "/gc/cycles/total:gc-cycles"}}
	metrics.Read(m)
	return m[0].Value.Uint64()
}
