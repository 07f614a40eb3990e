package main

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// The supply index's PostgreSQL rows of the directory-scale section (issue
// 15): the supply package's BenchmarkPostgresScale (search over the
// catalogues of 10^6 generated providers, 20 items each, at c=4) and
// BenchmarkFreshness (acknowledgement to searchable on another instance),
// with PLAZA_BENCH_SCALE=1. The scale benchmark keeps its database
// (plaza_bench_supply) between runs and rebuilds it when its fingerprint
// changes: see supply/scale_bench_test.go.

var supplyRuns = []dirRun{
	// 20 iterations of 4 workers × 5 passes of the 7-query mix: 2,800
	// searches, a p99 over 2,800 samples.
	{"BenchmarkPostgresScale", "20x"},
	{"BenchmarkFreshness", "200x"},
}

// supplyScale runs the supply benchmarks in a process each and returns
// their metrics.
func (h *harness) supplyScale(ctx context.Context) (benchMetrics, error) {
	h.logf("supply index: search over 10^6 generated providers in PostgreSQL, freshness (PLAZA_BENCH_SCALE=1)")
	bin := filepath.Join(h.work, "supply.test")
	if _, err := h.cmd(ctx, h.o.root, nil, "go", "test", "-c", "-o", bin, "./supply"); err != nil {
		return nil, err
	}
	all := benchMetrics{}
	for _, r := range supplyRuns {
		t0 := time.Now()
		// No test timeout: a clean run builds 2·10^7 items first.
		text, err := h.cmd(ctx, filepath.Join(h.o.root, "supply"), []string{"PLAZA_BENCH_SCALE=1"},
			bin, "-test.run", "^$", "-test.bench", "^"+r.bench+"$", "-test.benchtime", r.benchtime, "-test.timeout", "0", "-test.v")
		os.WriteFile(filepath.Join(h.work, "supply-"+strings.TrimPrefix(r.bench, "Benchmark")+".txt"), []byte(text), 0o644)
		if err != nil {
			return all, fmt.Errorf("%s: %w", r.bench, err)
		}
		for name, m := range parseBenchMetrics(text) {
			all[name] = m
		}
		h.logf("  %s: %s", r.bench, time.Since(t0).Round(100*time.Millisecond))
	}
	return all, nil
}

// supplyRows are the supply index's rows of the directory-scale table; a
// figure not reported is "not measured", never a pass.
func supplyRows(m benchMetrics) []dirRow {
	var rows []dirRow
	s, ok := m["BenchmarkPostgresScale"]
	r := dirRow{what: "search, PostgreSQL supply index, c=4, first: 20 (mix: text in a city, typo in a city, category in a city, text country-wide), p50 / p99",
		n: "10^6", target: "p50 ≤ 25 ms, p99 ≤ 80 ms", measured: "—", status: "not measured"}
	if ok {
		r.n = fmt.Sprintf("%s (%s items)", scaleN(int(s["items"]/20)), powerOfTen(s["items"]))
		r.measured = fmt.Sprintf("%.1f / %.1f ms (index %.1f GiB on disk, table and indexes; loaded in %.0f s)", s["p50-ms"], s["p99-ms"], s["GiB"], s["load-s"])
		r.status = status(s["p50-ms"] <= 25 && s["p99-ms"] <= 80)
	}
	rows = append(rows, r)
	f, ok := m["BenchmarkFreshness/postgres/another-instance"]
	r = dirRow{what: "freshness: acknowledgement to searchable on another instance (PostgreSQL index, 10^4 items), p99",
		target: "≤ 1 s", measured: "—", status: "not measured"}
	if ok {
		r.measured = fmt.Sprintf("%.1f ms (p50 %.1f ms)", f["p99-ms"], f["p50-ms"])
		r.status = status(f["p99-ms"] <= 1000)
	}
	return append(rows, r)
}

// supplyTargets are issue 15's targets the supply rows measure, for the
// Targets table.
func supplyTargets(m benchMetrics) [][3]string {
	var out [][3]string
	for _, r := range supplyRows(m) {
		name := "search over 10^6 providers, PostgreSQL index: p50 ≤ 25 ms, p99 ≤ 80 ms at c=4"
		if strings.HasPrefix(r.what, "freshness") {
			name = "freshness: p99 ≤ 1 s from acknowledgement to searchable on another instance"
		} else if r.status != "not measured" {
			r.measured += " over " + r.n
		}
		out = append(out, [3]string{name, r.status, r.measured})
	}
	return out
}

// powerOfTen writes 2000000 as 2·10^6 (a whole mantissa), else as is.
func powerOfTen(v float64) string {
	exp := 0
	for v >= 10 && math.Mod(v, 10) == 0 {
		v /= 10
		exp++
	}
	if exp < 3 {
		return strconv.FormatFloat(v*math.Pow(10, float64(exp)), 'f', 0, 64)
	}
	if v == 1 {
		return fmt.Sprintf("10^%d", exp)
	}
	return fmt.Sprintf("%.0f·10^%d", v, exp)
}
