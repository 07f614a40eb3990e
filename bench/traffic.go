package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/plaza-gateway/plaza/directory/pgtest"
)

// The traffic section: issue 18's portal page over a provider's roll-ups
// (traffic/bench_test.go, BenchmarkProviderTraffic) with
// PLAZA_BENCH_SCALE=1: a year of daily roll-ups by city for 10^4
// providers (about 1.1·10^7 rows, PostgreSQL, partitioned by month), one
// provider's month and year read by day and city.

// trafficSection is the name -only matches to select the section.
const trafficSection = "traffic roll-ups"

// trafficDatabase is the database the benchmark keeps between runs
// (traffic.BenchDatabase, in a test file the harness cannot import).
const trafficDatabase = "plaza_bench_traffic"

// trafficScale runs the benchmark on every CPU, after the rest of the run
// has stopped, then drops its database.
func (h *harness) trafficScale(ctx context.Context) (benchMetrics, error) {
	h.logf("traffic roll-ups: a provider's month and year over 10^4 providers' year of daily roll-ups (PLAZA_BENCH_SCALE=1)")
	defer pgtest.DropDatabase(trafficDatabase)
	return h.scaleBenchmark(ctx, "traffic roll-ups", "traffic", "BenchmarkProviderTraffic", "200x")
}

// scaleBenchmark builds package pkg's test binary and runs its benchmark
// bench with PLAZA_BENCH_SCALE=1 for benchtime, keeping the log in
// bench/work/<pkg>.txt; a skip is noted under section.
func (h *harness) scaleBenchmark(ctx context.Context, section, pkg, bench, benchtime string) (benchMetrics, error) {
	bin := filepath.Join(h.work, pkg+".test")
	if _, err := h.cmd(ctx, h.o.root, nil, "go", "test", "-c", "-o", bin, "./"+pkg); err != nil {
		return nil, err
	}
	t0 := time.Now()
	text, err := h.cmd(ctx, filepath.Join(h.o.root, pkg), []string{"PLAZA_BENCH_SCALE=1"},
		bin, "-test.run", "^$", "-test.bench", "^"+bench+"$", "-test.benchtime", benchtime, "-test.v")
	os.WriteFile(filepath.Join(h.work, pkg+".txt"), []byte(text), 0o644)
	if err != nil {
		return nil, err
	}
	if i := strings.Index(text, "SKIP: "); i >= 0 {
		h.notes = append(h.notes, section+": "+firstLine(text[i+len("SKIP: "):]))
	}
	h.logf("  %s: %s", bench, time.Since(t0).Round(100*time.Millisecond))
	return parseBenchMetrics(text), nil
}

// trafficRows checks issue 18's target against the metrics: "a portal page
// over a year of a busy provider's traffic answers in ≤ 100 ms" (the month
// is reported beside it). A figure not reported is "not measured".
func trafficRows(m benchMetrics) []dirRow {
	var rows []dirRow
	for _, span := range []string{"year", "month"} {
		var found bool
		for name, v := range m {
			if !strings.HasPrefix(name, "BenchmarkProviderTraffic/store=postgres/") || !strings.HasSuffix(name, "/span="+span) {
				continue
			}
			found = true
			n := strings.TrimSuffix(strings.TrimPrefix(name, "BenchmarkProviderTraffic/store=postgres/rows="), "/span="+span)
			rows = append(rows, dirRow{
				what:     fmt.Sprintf("a provider's %s by day and city (%.0f rows), p99 over 200 providers", span, v["rows/op"]),
				n:        n + " rows",
				measured: fmt.Sprintf("p99 %.1f ms (p50 %.1f ms)", v["p99-ms"], v["p50-ms"]),
				target:   "≤ 100 ms",
				status:   status(v["p99-ms"] <= 100),
			})
		}
		if !found {
			rows = append(rows, dirRow{what: "a provider's " + span + " by day and city", measured: "—", target: "≤ 100 ms", status: "not measured"})
		}
	}
	return rows
}
