package main

import (
	"slices"
	"strings"
	"testing"
)

// A run of the directory benchmarks as `go test -bench -v` prints it.
const dirOutput = `goos: linux
BenchmarkLookup
BenchmarkLookup/providers=10
BenchmarkLookup/providers=10-2         	 1000000	        12.5 ns/op	        41.00 p99-ns
BenchmarkLookup/providers=10000-2      	 1000000	        60.1 ns/op	       231.0 p99-ns
BenchmarkLookup/providers=1000000-2    	 1000000	       180.0 ns/op	      2500 p99-ns
BenchmarkSnapshotMemory/providers=1000000-2       	       1	2224226835 ns/op	         1.761 gc-ms	       107.4 heap-B/provider	        92.17 rss-B/provider	        88.40 rss-next-B/provider
BenchmarkApplyChange/providers=10/batch=1    	   40000	     26831 ns/op	      9000 cpu-ns/change
BenchmarkApplyChange/providers=10/batch=100  	     500	   1985989 ns/op	     20990 cpu-ns/change
BenchmarkLoadPostgres/providers=200000         	       1	1515094904 ns/op
BenchmarkLoadPostgres/providers=1000000        	       1	9693143483 ns/op
BenchmarkCityRouting/providers=10-2         	       1	  26212049 ns/op	         1.320 calls/search	         0 outside-calls	        19.00 series
BenchmarkCityRouting/providers=10000-2      	       1	 187948240 ns/op	        14.56 calls/search	         0 outside-calls	        19.00 series
BenchmarkCityRouting/providers=1000000-2    	       1	 187948240 ns/op	        15.02 calls/search	         2 outside-calls	        21.00 series
--- SKIP: BenchmarkPropagation
    bench_pg_test.go:28: SKIP: no PostgreSQL at postgres://...
PASS
`

func TestParseBenchMetrics(t *testing.T) {
	m := parseBenchMetrics(dirOutput)
	for _, tt := range []struct {
		name, unit string
		want       float64
	}{
		{"BenchmarkLookup/providers=10", "p99-ns", 41},
		{"BenchmarkLookup/providers=1000000", "ns/op", 180},
		{"BenchmarkSnapshotMemory/providers=1000000", "rss-B/provider", 92.17},
		{"BenchmarkApplyChange/providers=10/batch=100", "cpu-ns/change", 20990},
		{"BenchmarkLoadPostgres/providers=200000", "ns/op", 1515094904},
	} {
		if got, ok := m[tt.name][tt.unit]; !ok || got != tt.want {
			t.Errorf("%s %s = %v (present %v), want %v", tt.name, tt.unit, got, ok, tt.want)
		}
	}
	if _, ok := m["BenchmarkLookup"]; ok {
		t.Error("a name printed alone (-v) was read as a result")
	}
}

func TestDirectoryRows(t *testing.T) {
	rows := directoryRows(parseBenchMetrics(dirOutput))
	find := func(what, n string) dirRow {
		t.Helper()
		for _, r := range rows {
			if strings.HasPrefix(r.what, what) && r.n == n {
				return r
			}
		}
		t.Fatalf("no row %q at N=%s", what, n)
		return dirRow{}
	}
	for _, tt := range []struct {
		what, n, status, measured string
	}{
		{"lookup by id, p99", "10", "met", "41 ns (mean 12 ns)"},
		{"lookup by id, p99", "10^6", "**missed**", "2500 ns (mean 180 ns)"},
		{"RSS growth per registered provider", "10^6", "met", "88 B"},
		{"RSS growth per registered provider", "10^4", "not measured", "—"},
		{"for context: RSS the first snapshot", "10^6", "context", "92 B (heap 107 B)"},
		{"for context: RSS the first snapshot", "10^4", "not measured", "—"},
		{"forced full GC", "10^6", "met", "1.76 ms"},
		{"start-up", "2·10^5", "met", "1.52 s"},
		{"start-up", "10^6", "**missed**", "9.69 s"},
		{"change propagation", "10", "not measured", "—"},
		{"CPU per change applied", "10", "met", "9.0 µs (21.0 µs in a catch-up of 100)"},
		{"CPU per change applied", "10^6", "not measured", "—"},
	} {
		t.Run(tt.what+" at "+tt.n, func(t *testing.T) {
			r := find(tt.what, tt.n)
			if r.status != tt.status || r.measured != tt.measured {
				t.Fatalf("got %q, %q; want %q, %q", r.status, r.measured, tt.status, tt.measured)
			}
		})
	}
	// The routing rows: a series count that differs between sizes and a
	// call outside a city's coverage are misses.
	if r := find("/metrics series count", "10, 10^4, 10^6"); r.status != "**missed**" || r.measured != "19 / 19 / 21" {
		t.Fatalf("series row: got %q, %q", r.status, r.measured)
	}
	if r := find("a request naming a city", "10^4"); r.status != "met" || r.measured != "0 (14.6 calls per search in all)" {
		t.Fatalf("coverage row at 10^4: got %q, %q", r.status, r.measured)
	}
	if r := find("a request naming a city", "10^6"); r.status != "**missed**" {
		t.Fatalf("coverage row at 10^6 with 2 calls outside: got %q", r.status)
	}
	rows = directoryRows(parseBenchMetrics(strings.ReplaceAll(dirOutput, "21.00 series", "19.00 series")))
	for _, r := range rows {
		if strings.HasPrefix(r.what, "/metrics series count") && (r.status != "met" || r.measured != "19 / 19 / 19") {
			t.Fatalf("series row with equal counts: got %q, %q", r.status, r.measured)
		}
	}
}

// TestSupplyRows: the supply index's rows read BenchmarkPostgresScale and
// BenchmarkFreshness, and a figure not reported is not measured.
func TestSupplyRows(t *testing.T) {
	const out = `BenchmarkPostgresScale-2   	      20	49594135055 ns/op	         1.920 GiB	         1.000 built	   2000000 items	       549.5 load-s	       254.1 p50-ms	      8638 p99-ms
BenchmarkFreshness/postgres/another-instance-2      	     200	  44691742 ns/op	        33.32 p50-ms	        87.93 p99-ms
`
	rows := supplyRows(parseBenchMetrics(out))
	if len(rows) != 2 {
		t.Fatalf("%d rows, want 2", len(rows))
	}
	if r := rows[0]; r.n != "10^5 (2·10^6 items)" || r.status != "**missed**" ||
		r.measured != "254.1 / 8638.0 ms (index 1.9 GiB on disk, table and indexes; loaded in 550 s)" {
		t.Errorf("search row: %+v", r)
	}
	if r := rows[1]; r.status != "met" || r.measured != "87.9 ms (p50 33.3 ms)" {
		t.Errorf("freshness row: %+v", r)
	}
	for _, r := range supplyRows(benchMetrics{}) {
		if r.status != "not measured" {
			t.Errorf("with no figures: %+v", r)
		}
	}
	if got := powerOfTen(20_000_000); got != "2·10^7" {
		t.Errorf("powerOfTen(2e7) = %q", got)
	}
}

func TestParseBenchesReadsUnitsNotColumns(t *testing.T) {
	out := `BenchmarkFiftyProductsHandler-2   	     200	    473305 ns/op	    412000 cpu-ns/op	  190211 B/op	    1795 allocs/op
BenchmarkTypenameHandler   	     200	     10743 ns/op	    2240 B/op	      31 allocs/op
ok  	github.com/plaza-gateway/plaza/bench	3.1s
`
	got := parseBenches(out)
	want := []bench{
		{name: "BenchmarkFiftyProductsHandler", nsOp: 473305, bOp: 190211, allocsOp: 1795},
		{name: "BenchmarkTypenameHandler", nsOp: 10743, bOp: 2240, allocsOp: 31},
	}
	if !slices.Equal(got, want) {
		t.Errorf("parseBenches = %+v, want %+v", got, want)
	}
}

// TestDirectoryEndToEndRows: the end-to-end rows judge the median of the
// rounds' ratios, not the ratio of the medians, and without the ratios they
// are not measured.
func TestDirectoryEndToEndRows(t *testing.T) {
	m := benchMetrics{
		"BenchmarkDirectoryEndToEnd/providers=10":      {"detail-p50-us": 100, "detail-p99-us": 500},
		"BenchmarkDirectoryEndToEnd/providers=1000000": {"detail-p50-us": 80, "detail-p99-us": 520},
		e2eRatio: {"detail-p50-us": 1.04, "detail-p99-us": 1.15},
	}
	for _, tt := range []struct{ what, status, measured string }{
		{"end-to-end: product detail, p50", "met", "×1.04 (80 µs vs 100 µs)"},
		{"end-to-end: product detail, p99", "**missed**", "×1.15 (520 µs vs 500 µs)"},
		{"end-to-end: the list of 50, p50", "not measured", "—"},
	} {
		found := false
		for _, r := range directoryRows(m) {
			if strings.HasPrefix(r.what, tt.what) {
				found = true
				if r.status != tt.status || r.measured != tt.measured {
					t.Errorf("%s: got %q, %q; want %q, %q", tt.what, r.status, r.measured, tt.status, tt.measured)
				}
			}
		}
		if !found {
			t.Errorf("no row %q", tt.what)
		}
	}
}
