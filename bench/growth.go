package main

import (
	"context"
	"fmt"
	"strings"
)

// The service-level grading section: issue 18's job "bounded at 10^6
// providers" (growth/bench_test.go, BenchmarkGradeLevels) with
// PLAZA_BENCH_SCALE=1: 10^6 providers' counters in PostgreSQL (a database
// of the benchmark's own, generated in about a minute and dropped with
// it), a process's first run over every window and the steady minute.

// gradingSection is the name -only matches to select the section.
const gradingSection = "service-level grading"

// gradingScale runs the benchmark after the rest of the run has stopped.
func (h *harness) gradingScale(ctx context.Context) (benchMetrics, error) {
	h.logf("service-level grading: one run over 10^6 providers' counters (PLAZA_BENCH_SCALE=1)")
	return h.scaleBenchmark(ctx, gradingSection, "growth", "BenchmarkGradeLevels", "3x")
}

// gradingRows checks the runs against the job's interval: a run must end
// before the next one is due (one a minute). A figure not reported is
// "not measured".
func gradingRows(m benchMetrics) []dirRow {
	var rows []dirRow
	for _, run := range []struct{ name, what string }{
		{"first", "a process's first run (every window)"},
		{"minute", "a steady minute's run (10^5 providers called, 10^4 in trouble)"},
	} {
		row := dirRow{what: run.what, n: "10^6 providers", measured: "—", target: "≤ 60 s (one run a minute)", status: "not measured"}
		for name, v := range m {
			if strings.HasPrefix(name, "BenchmarkGradeLevels/") && strings.HasSuffix(name, "/run="+run.name) {
				row.measured = fmt.Sprintf("%.0f ms (%.0f windows read)", v["ms/run"], v["windows/run"])
				row.status = status(v["ms/run"] <= 60_000)
			}
		}
		rows = append(rows, row)
	}
	return rows
}
