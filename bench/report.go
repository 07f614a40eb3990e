package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// connResult is the 1,000-connection memory check of the shipped binary.
type connResult struct {
	rss                   int64
	before, during, after float64
	res                   result
	err                   error
}

var connRes connResult

func goroutines(ctx context.Context, base string) float64 {
	return metricValue(ctx, base, "go_goroutines")
}

// metricValue reads the unlabelled series name from base's /metrics; -1
// when the listener does not answer or does not export it.
func metricValue(ctx context.Context, base, name string) float64 {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/metrics", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				return -1
			}
			return f
		}
	}
	return -1
}

// connections holds 1,000 kept-alive connections busy on the shipped binary
// (in-process cache) and reads its peak RSS and goroutines before, during
// and after.
func (h *harness) connections(ctx context.Context) error {
	h.logf("workload: 1,000 concurrent keep-alive connections")
	t, err := h.startPlaza(ctx, "plaza-conns", h.base, 2*time.Second, true, nil)
	if err != nil {
		return err
	}
	// The admin listener: production mode keeps /metrics on the public port
	// for analysts.
	base := t.admin
	q := graphqlQuery(t.url, docListPlaza, map[string]any{"ids": globalProducts(h.base[0].ID, h.products[:50])}, nil)
	hc := newClient(1000)
	drive(ctx, hc, q, 16, h.o.warmup)
	hc.CloseIdleConnections()
	time.Sleep(500 * time.Millisecond)
	connRes.before = goroutines(ctx, base)
	done := make(chan result)
	go func() { done <- drive(ctx, hc, q, 1000, h.o.headline) }()
	time.Sleep(h.o.headline / 2)
	connRes.during = goroutines(ctx, base)
	connRes.res = <-done
	connRes.rss = t.proc.peakRSS()
	hc.CloseIdleConnections()
	time.Sleep(time.Second)
	connRes.after = goroutines(ctx, base)
	h.logf("  1,000 connections: %.0f req/s, p99 %s, peak RSS %.1f MiB, goroutines %.0f -> %.0f -> %.0f, errors %d",
		connRes.res.RPS(), connRes.res.P99, float64(connRes.rss)/(1<<20), connRes.before, connRes.during, connRes.after, connRes.res.Errors)
	t.proc.stop()
	return nil
}

// bench is one Go benchmark line.
type bench struct {
	name                string
	nsOp, bOp, allocsOp float64
}

// microbench runs the handler benchmarks of bench/ and the limits package's
// BenchmarkHostileDocuments (in api) with -benchmem.
func (h *harness) microbench(ctx context.Context) ([]bench, error) {
	h.logf("Go benchmarks (handler allocations, hostile documents)")
	var out []bench
	var errs []error
	for _, args := range [][]string{
		{"test", "-run", "^$", "-bench", ".", "-benchmem", "-benchtime", "200x", "./bench"},
		{"test", "-run", "^$", "-bench", "BenchmarkHostileDocuments", "-benchmem", "-benchtime", "20x", "./api"},
	} {
		text, err := h.cmd(ctx, h.o.root, []string{"GOMAXPROCS=1"}, "go", args...)
		os.WriteFile(filepath.Join(h.work, "microbench-"+strings.TrimPrefix(args[len(args)-1], "./")+".txt"), []byte(text), 0o644)
		if err != nil {
			errs = append(errs, err)
		}
		out = append(out, parseBenches(text)...)
	}
	return out, errors.Join(errs...)
}

// parseBenches reads Go benchmark result lines in the order run, each
// metric by its unit, not its column: benchmarks report metrics of their
// own (cpu-ns/op) between ns/op and B/op.
func parseBenches(text string) []bench {
	var out []bench
	for _, line := range strings.Split(text, "\n") {
		for name, m := range parseBenchMetrics(line) {
			out = append(out, bench{name: name, nsOp: m["ns/op"], bOp: m["B/op"], allocsOp: m["allocs/op"]})
		}
	}
	return out
}

func ms(d time.Duration) string { return strconv.FormatFloat(float64(d)/1e6, 'f', 2, 64) }

// cpuMicros renders a CPU time per query in µs, empty when there is none
// (the raw baseline has no gateway process).
func cpuMicros(d time.Duration) string {
	if d < 0 {
		return ""
	}
	return strconv.FormatFloat(float64(d)/1e3, 'f', 0, 64)
}

func (h *harness) find(workload, target string, c int) (row, bool) {
	for _, r := range h.rows {
		if r.workload == workload && r.target == target && r.c == c && r.rps > 0 {
			return r, true
		}
	}
	return row{}, false
}

// timed is find's row even when none of its answers was complete (req/s
// counts complete answers only; its errors say why).
func (h *harness) timed(workload, target string, c int) (row, bool) {
	for _, r := range h.rows {
		if r.workload == workload && r.target == target && r.c == c && (r.rps > 0 || r.errors > 0 && r.cpuPerQ != 0) {
			return r, true
		}
	}
	return row{}, false
}

func cmdOut(name string, args ...string) string {
	b, err := exec.Command(name, args...).Output()
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(b))
}

func cpuModel() string {
	for _, l := range strings.Split(cmdOut("lscpu"), "\n") {
		if v, ok := strings.CutPrefix(l, "Model name:"); ok {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

func loadavg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

func (h *harness) report(ctx context.Context, micro []bench, dir benchMetrics) error {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	w("# Plaza benchmark: %s\n\n", time.Now().UTC().Format("2006-01-02 15:04 MST"))
	w("Produced by `make bench` (`go run ./bench`) in %s.\n\n", time.Since(h.started).Round(time.Second))
	w("| machine | |\n|---|---|\n")
	w("| CPU | %s, %d logical CPUs |\n| Go | %s |\n| Node | %s |\n| load average at the end (1, 5, 15 min) | %s |\n",
		cpuModel(), runtime.NumCPU(), runtime.Version(), cmdOut("node", "--version"), loadavg())
	w("| runs | %d per target, workload and concurrency, targets interleaved; %s each for the list of 50, %s for the rest; %s warm-up; medians |\n",
		h.o.runs, h.o.headline, h.o.short, h.o.warmup)
	w("| placement | gateway under test on CPU 1 (`taskset -c 1`, GOMAXPROCS=1; Node peers one process, NODE_ENV=production, Hive `--jit --fork 1`); demo providers and Redis on CPU 0 (`taskset -c 0`); the load generator runs in the harness process, pinned with `sched_setaffinity` (its threads' Cpus_allowed_list: %s) |\n\n", h.pinned)
	w("The machine is shared: differences under ~25%% are noise; CPU µs/query (the target's process CPU time over its queries, from `/proc/<pid>/stat`) is steadier than req/s. Plaza ÷ target is Plaza (uncached) req/s over the target's, same workload and concurrency, same pass.\n\n")
	w("## Results\n\n")
	w("| workload | target | c | req/s | CPU µs/query | p50 ms | p99 ms | provider calls/query | Redis cmds/query | peak RSS MiB | Plaza ÷ target |\n")
	w("|---|---|---|---|---|---|---|---|---|---|---|\n")
	notes := map[string]string{}
	var order []string
	for _, r := range h.rows {
		if _, seen := notes[r.workload]; !seen {
			order = append(order, r.workload)
		}
		notes[r.workload] = r.note
		if r.rps == 0 && r.c == 0 { // a timed row with no complete answer is printed below, errors and all
			w("| %s | %s | | check failed: %s | | | | | | | |\n", r.workload, r.target, strings.ReplaceAll(firstLine(fmt.Sprint(r.firstErr)), "|", "/"))
			continue
		}
		redis := ""
		if r.redisPerQ >= 0 {
			redis = fmt.Sprintf("%.2f", r.redisPerQ)
		}
		ratio := ""
		// Plaza's uncached row of the workload: "plaza", or the gateway the
		// scaling or fan-out workloads start for themselves.
		for _, name := range []string{"plaza", "plaza-scaling", "plaza-index", "plaza-fan"} {
			if p, ok := h.find(r.workload, name, r.c); ok {
				if r.target != name {
					ratio = ratioText(p.rps / r.rps)
				}
				break
			}
		}
		rss := ""
		if r.rss >= 0 {
			rss = fmt.Sprintf("%.1f", float64(r.rss)/(1<<20))
		}
		errs := ""
		if r.errors > 0 {
			errs = fmt.Sprintf(" (%d errors)", r.errors)
		}
		w("| %s | %s | %d | %.0f%s | %s | %s | %s | %.2f | %s | %s | %s |\n", r.workload, r.target, r.c, r.rps, errs, cpuMicros(r.cpuPerQ), ms(r.p50), ms(r.p99),
			r.callsPerQ, redis, rss, ratio)
	}
	var dropped []string
	for _, r := range h.rows {
		if r.hasDropped {
			dropped = append(dropped, fmt.Sprintf("%s, %s, c=%d: %.2f", r.workload, r.target, r.c, r.droppedPerQ))
		}
	}
	if len(dropped) > 0 {
		// The events recorder drops a view rather than slow a request
		// (README, plaza_events_dropped_total): what analysts lost under
		// each load, beside the Redis commands it did write.
		w("\nEvents the shipped binary's recorder dropped per query (`plaza_events_dropped_total` over the runs' queries): %s.\n", strings.Join(dropped, "; "))
	}
	w("\nWhat each workload sends (closest equivalents where a peer cannot express Plaza's query):\n\n")
	for _, name := range order {
		if notes[name] != "" {
			w("- **%s**: %s\n", name, notes[name])
		}
	}
	w("\n## 1,000 concurrent keep-alive connections (shipped binary, in-process cache, list of 50)\n\n")
	if connRes.res.Queries > 0 {
		w("%.0f req/s, p50 %s ms, p99 %s ms, %d errors; peak RSS %.1f MiB; go_goroutines %.0f before, %.0f during, %.0f one second after.\n",
			connRes.res.RPS(), ms(connRes.res.P50), ms(connRes.res.P99), connRes.res.Errors, float64(connRes.rss)/(1<<20), connRes.before, connRes.during, connRes.after)
	}
	w("\n## Go benchmarks (GOMAXPROCS=1, `-benchmem`)\n\n| benchmark | ns/op | B/op | allocs/op |\n|---|---|---|---|\n")
	for _, m := range micro {
		w("| %s | %.0f | %.0f | %.0f |\n", m.name, m.nsOp, m.bOp, m.allocsOp)
	}
	if h.app != nil || h.appErr != nil {
		b.WriteString(appSectionText(h.app, h.appErr))
	}
	if dir != nil {
		w("\n## Directory scale (issue 14)\n\n")
		w("The directory package's benchmarks (`directory/bench_test.go`) with `PLAZA_BENCH_SCALE=1`, each in a process of its own, on %s. Logs: `bench/work/directory-*.txt`.\n\n", dirPlacement())
		w("| what | registered providers | measured | target | status |\n|---|---|---|---|---|\n")
		for _, r := range append(directoryRows(dir), supplyRows(dir)...) {
			w("| %s | %s | %s | %s | %s |\n", r.what, r.n, r.measured, r.target, r.status)
		}
	}
	if h.traffic != nil {
		w("\n## Traffic roll-ups (issue 18)\n\n")
		w("`traffic/bench_test.go` (BenchmarkProviderTraffic) with `PLAZA_BENCH_SCALE=1`: a year of daily roll-ups by city for 10^4 providers in PostgreSQL (`traffic_daily`, partitioned by month), one provider read per op through `PostgresStore.Daily`, on %s. Log: `bench/work/traffic.txt`.\n\n", dirPlacement())
		w("| what | table | measured | target | status |\n|---|---|---|---|---|\n")
		for _, r := range trafficRows(h.traffic) {
			w("| %s | %s | %s | %s | %s |\n", r.what, r.n, r.measured, r.target, r.status)
		}
	}
	if h.grading != nil {
		w("\n## Service-level grading (issue 18)\n\n")
		w("`growth/bench_test.go` (BenchmarkGradeLevels) with `PLAZA_BENCH_SCALE=1`: 10^6 providers' service-level windows in PostgreSQL, one grading run per op, on %s. Log: `bench/work/growth.txt`.\n\n", dirPlacement())
		w("| what | providers | measured | target | status |\n|---|---|---|---|---|\n")
		for _, r := range gradingRows(h.grading) {
			w("| %s | %s | %s | %s | %s |\n", r.what, r.n, r.measured, r.target, r.status)
		}
	}
	w("\n## Targets\n\n| target | status | measured |\n|---|---|---|\n")
	targets := h.targetStatus(micro)
	if dir != nil {
		targets = append(targets, supplyTargets(dir)...)
	}
	for _, t := range targets {
		w("| %s | %s | %s |\n", t[0], t[1], t[2])
	}
	if len(h.notes) > 0 {
		w("\n## Notes\n\n")
		for _, n := range h.notes {
			w("- %s\n", n)
		}
	}
	out := h.o.out
	if !filepath.IsAbs(out) {
		out = filepath.Join(h.o.root, out)
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(out, []byte(b.String()), 0o644); err != nil {
		return err
	}
	io.WriteString(h.out, "\n"+b.String())
	h.logf("written to %s", h.o.out)
	return nil
}

// ratioText renders a req/s ratio with two significant digits below 10×
// (Plaza ÷ floor is a fraction, and its target is 0.4).
func ratioText(r float64) string {
	if r < 10 {
		return strconv.FormatFloat(r, 'f', 2, 64) + "×"
	}
	return strconv.FormatFloat(r, 'f', 0, 64) + "×"
}

func status(ok bool) string {
	if ok {
		return "met"
	}
	return "**missed**"
}

// The CPU target of issue 19 (400 µs per list query) was set on a machine
// where the floor, the least a Go gateway does for the same query, took
// about 150 µs: 2.67 times the floor. The machines that run make bench
// differ by more than that target's margin (the floor 208–475 µs on the
// ones measured so far), so the report also gives the target scaled by
// the floor measured in the same pass. The absolute target stays beside
// it.
const (
	issueFloorCPU = 150 * time.Microsecond
	issueCPU      = 400 * time.Microsecond
	floorScaling  = "400 µs where the floor took 150"
)

// scaledCPUTarget is issue 19's CPU target on a machine whose floor takes
// floor per query.
func scaledCPUTarget(floor time.Duration) time.Duration {
	return time.Duration(float64(issueCPU) * float64(floor) / float64(issueFloorCPU))
}

// targetStatus checks the issue's targets against the rows.
func (h *harness) targetStatus(micro []bench) [][3]string {
	var out [][3]string
	add := func(name string, ok bool, measured string) { out = append(out, [3]string{name, status(ok), measured}) }
	missing := func(name, why string) { out = append(out, [3]string{name, "not measured", why}) }
	const list = "list of 50 products + store"
	p, okP := h.find(list, "plaza", 64)
	for _, peer := range []struct {
		name   string
		factor float64
	}{{"hive", 10}, {"yoga", 5}} {
		name := fmt.Sprintf("list of 50 uncached, c=64: ≥ %.0f× %s", peer.factor, peer.name)
		if r, ok := h.find(list, peer.name, 64); ok && okP {
			add(name, p.rps >= peer.factor*r.rps, fmt.Sprintf("%.1f× (%.0f vs %.0f req/s)", p.rps/r.rps, p.rps, r.rps))
		} else {
			missing(name, peer.name+" or Plaza did not run")
		}
	}
	// Issue 19: the gateway's CPU per list query and Plaza ÷ floor, at the
	// two saturating concurrencies.
	for _, c := range []int{16, 64} {
		pc, okC := h.find(list, "plaza", c)
		if okC && pc.cpuPerQ >= 0 {
			add(fmt.Sprintf("list of 50, c=%d: gateway CPU per query ≤ 400 µs", c), pc.cpuPerQ <= 400*time.Microsecond, cpuMicros(pc.cpuPerQ)+" µs")
		}
		if f, ok := h.find(list, "floor", c); ok && okC && pc.cpuPerQ >= 0 && f.cpuPerQ > 0 {
			scaled := scaledCPUTarget(f.cpuPerQ)
			add(fmt.Sprintf("list of 50, c=%d: gateway CPU per query ≤ 400 µs scaled by the floor beside it (%s)", c, floorScaling),
				pc.cpuPerQ <= scaled, fmt.Sprintf("%s µs against %s µs (the floor %s µs: Plaza %.2f× its CPU)",
					cpuMicros(pc.cpuPerQ), cpuMicros(scaled), cpuMicros(f.cpuPerQ), float64(pc.cpuPerQ)/float64(f.cpuPerQ)))
		}
		if f, ok := h.find(list, "floor", c); ok && okC {
			add(fmt.Sprintf("list of 50, c=%d: Plaza ÷ floor ≥ 0.4 (req/s)", c), pc.rps >= 0.4*f.rps,
				fmt.Sprintf("%.2f (%.0f vs %.0f req/s; CPU %s vs %s µs/query)", pc.rps/f.rps, pc.rps, f.rps, cpuMicros(pc.cpuPerQ), cpuMicros(f.cpuPerQ)))
		} else if okC {
			missing(fmt.Sprintf("list of 50, c=%d: Plaza ÷ floor ≥ 0.4 (req/s)", c), "the floor did not run (see its row)")
		}
	}
	if r, ok := h.find("`{ __typename }`", "plaza", 64); ok && r.cpuPerQ >= 0 {
		add("`{ __typename }`, c=64: gateway CPU per request ≤ 32 µs", r.cpuPerQ <= 32*time.Microsecond, cpuMicros(r.cpuPerQ)+" µs")
	}
	if r, ok := h.find(list, "raw", 64); ok && okP {
		add("list of 50, c=64: Plaza within 4× of the raw providers", r.rps <= 4*p.rps, fmt.Sprintf("raw ÷ Plaza = %.1f× (%.0f vs %.0f req/s)", r.rps/p.rps, r.rps, p.rps))
	}
	if okP {
		add("list of 50, c=64: p99 ≤ 25 ms", p.p99 <= 25*time.Millisecond, ms(p.p99)+" ms")
	}
	pd, ok1 := h.find("product detail (1 level)", "plaza", 1)
	rd, ok2 := h.find("product detail (1 level)", "raw", 1)
	if ok1 && ok2 {
		added := pd.p50 - rd.p50
		add("product detail, c=1: added p50 latency ≤ 0.3 ms", added <= 300*time.Microsecond, fmt.Sprintf("%s ms (%s vs %s ms raw)", ms(added), ms(pd.p50), ms(rd.p50)))
	}
	// One provider call per provider per entity type per level: the list
	// workloads read one provider for two types (products, stores).
	var bad []string
	checked := 0
	for _, r := range h.rows {
		if (r.target == "plaza" && r.workload == list || r.target == "plaza-scaling") && r.rps > 0 {
			// The provider's batch cap (500 ids) splits a list of 1,000 into
			// two products calls for any caller: expect what the direct
			// calls made in the same workload.
			want := 2.0
			if raw, ok := h.find(r.workload, "raw", 1); ok && raw.callsPerQ > 0 {
				want = raw.callsPerQ
			}
			checked++
			if r.callsPerQ < want-0.005 || r.callsPerQ > want+0.005 {
				bad = append(bad, fmt.Sprintf("%s c=%d: %.2f (direct calls: %.2f)", r.workload, r.c, r.callsPerQ, want))
			}
		}
	}
	if checked > 0 {
		m := fmt.Sprintf("as many calls per query as the direct calls (products + stores: 2.00, 3.00 for 1,000 ids, which the provider's batch cap splits) in all %d list rows, every size and concurrency", checked)
		if len(bad) > 0 {
			m = strings.Join(bad, "; ")
		}
		add("one provider call per provider per entity type per level", len(bad) == 0, m)
	}
	if r, ok := h.find("50-order query", "plaza+redis", 1); ok {
		add("cached 50-order query, c=1: p50 ≤ 0.5 ms, zero provider calls", r.p50 <= 500*time.Microsecond && r.callsPerQ == 0,
			fmt.Sprintf("p50 %s ms, %.2f provider calls/query, %.2f Redis cmds/query (orders are user-owned and never cached by design, so they are fetched every time)", ms(r.p50), r.callsPerQ, r.redisPerQ))
	}
	if r, ok := h.find("cached: list of 50 + store", "plaza+redis", 1); ok {
		add("(closest cacheable equivalent) cached list of 50, c=1: p50 ≤ 0.5 ms, zero provider calls", r.p50 <= 500*time.Microsecond && r.callsPerQ == 0,
			fmt.Sprintf("p50 %s ms, %.2f provider calls/query, %.2f Redis cmds/query", ms(r.p50), r.callsPerQ, r.redisPerQ))
	}
	// Issue 19: a cache hit must be cheaper than a provider call.
	for _, c := range []int{16, 64} {
		un, ok := h.find("list of 50 products + store", "plaza", c)
		if !ok || un.cpuPerQ <= 0 {
			continue
		}
		for _, tier := range []string{"plaza+memory", "plaza+redis"} {
			r, ok := h.find("cached: list of 50 + store", tier, c)
			if !ok || r.cpuPerQ <= 0 {
				continue
			}
			add(fmt.Sprintf("cached list of 50 (%s), c=%d: CPU per query ≤ 60%% of uncached, p99 ≤ 2× uncached", tier, c),
				float64(r.cpuPerQ) <= 0.6*float64(un.cpuPerQ) && r.p99 <= 2*un.p99,
				fmt.Sprintf("CPU %d vs %d µs/query (%.0f%%), p99 %s vs %s ms", r.cpuPerQ.Microseconds(), un.cpuPerQ.Microseconds(),
					100*float64(r.cpuPerQ)/float64(un.cpuPerQ), ms(r.p99), ms(un.p99)))
		}
	}
	out = append(out, h.searchTargets()...)
	var worst time.Duration
	for _, c := range []int{1, 16} {
		if r, ok := h.find("fan-out: 8 @20ms, 1 stalled", "plaza-fan", c); ok {
			worst = max(worst, r.p99)
		}
	}
	if worst > 0 {
		add("one provider stalled: p99 ≤ timeout (100 ms) + 5 ms", worst <= 105*time.Millisecond, ms(worst)+" ms (worst of c=1, c=16; the stalled provider's breaker is open after the warm-up, see the workload's note)")
	}
	// Per-item cost: marginal CPU time per item at c=64, from the gateway's
	// CPU per query (1/req/s on its saturated core if it was not read).
	var sizes []int
	var t []float64
	var refused []string
	source := "the gateway's CPU µs/query at c=64"
	for _, n := range []int{10, 100, 1000} {
		name := fmt.Sprintf("scaling: list of %d + store", n)
		if r, ok := h.find(name, "plaza-scaling", 64); ok {
			us := float64(r.cpuPerQ) / 1e3
			if r.cpuPerQ < 0 {
				us, source = 1e6/r.rps, "req/s at c=64 on one core"
			}
			sizes, t = append(sizes, n), append(t, us)
		} else {
			refused = append(refused, fmt.Sprint(n))
		}
	}
	if len(t) >= 2 {
		var parts []string
		ok := len(refused) == 0
		var slopes []float64
		for i := 1; i < len(t); i++ {
			s := (t[i] - t[i-1]) / float64(sizes[i]-sizes[i-1])
			slopes = append(slopes, s)
			parts = append(parts, fmt.Sprintf("%.1f µs/item %d→%d", s, sizes[i-1], sizes[i]))
			ok = ok && s <= 12
		}
		if len(slopes) > 1 && slopes[len(slopes)-1] > 1.5*max(slopes[0], 1) {
			ok = false
		}
		m := strings.Join(parts, ", ") + " (from " + source + ")"
		if len(refused) > 0 {
			m += "; list of " + strings.Join(refused, ", ") + " not measured (the check failed: see its row)"
		}
		add("per-item cost ≤ 12 µs, constant 10 → 1,000", ok, m)
	}
	if connRes.rss > 0 {
		back := connRes.after <= connRes.before+5
		add("1,000 connections: RSS ≤ 128 MiB, goroutines back to baseline", connRes.rss <= 128<<20 && back,
			fmt.Sprintf("%.1f MiB; goroutines %.0f → %.0f → %.0f", float64(connRes.rss)/(1<<20), connRes.before, connRes.during, connRes.after))
	}
	var hostile []bench
	for _, m := range micro {
		if strings.HasPrefix(m.name, "BenchmarkHostileDocuments/") {
			hostile = append(hostile, m)
		}
	}
	if len(hostile) > 0 {
		worstH := hostile[0]
		for _, m := range hostile {
			if m.nsOp > worstH.nsOp {
				worstH = m
			}
		}
		add("hostile documents refused in ≤ 2 ms", worstH.nsOp <= 2e6, fmt.Sprintf("worst %.2f ms (%s)", worstH.nsOp/1e6, strings.TrimPrefix(worstH.name, "BenchmarkHostileDocuments/")))
	} else {
		missing("hostile documents refused in ≤ 2 ms", "BenchmarkHostileDocuments did not run")
	}
	if h.app != nil {
		add(appTarget(h.app))
	}
	return out
}

// searchTargets checks issue 15's targets against the search rows: the
// index against the fan-out over the same 32 providers at 20 ms, the calls
// a page costs at every size, and the latency's growth with the number of
// in-process providers.
func (h *harness) searchTargets() [][3]string {
	var out [][3]string
	add := func(name string, ok bool, measured string) { out = append(out, [3]string{name, status(ok), measured}) }
	s32 := searchOverName(32)
	ix, okI := h.find(s32, "plaza-index", 64)
	fan, okF := h.timed(s32, "plaza-fan", 64)
	if okI && okF {
		ratio := "no complete fan-out answer"
		if fan.rps > 0 {
			ratio = fmt.Sprintf("%.2f×", ix.rps/fan.rps)
		}
		add("search over 32 providers at 20 ms each, c=64: index ≥ 5× the fan-out's req/s, no partial answers", ix.rps >= 5*fan.rps && ix.errors == 0,
			fmt.Sprintf("%s (%.1f vs %.1f complete answers/s; CPU %s vs %s µs/search; %d partial answers from the index, %d from the fan-out)",
				ratio, ix.rps, fan.rps, cpuMicros(ix.cpuPerQ), cpuMicros(fan.cpuPerQ), ix.errors, fan.errors))
	}
	if r, ok := h.find(s32, "plaza-index", 1); ok {
		add("search over 32 providers at 20 ms: p50 ≤ 25 ms (index)", r.p50 <= 25*time.Millisecond, ms(r.p50)+" ms at c=1")
	}
	// Provider calls per page, counted at the providers, at every size
	// and concurrency that ran.
	var calls []string
	worst := 0.0
	for _, r := range h.rows {
		if r.rps > 0 && (r.target == "plaza-index" || r.target == "plaza-gen") {
			worst = max(worst, r.callsPerQ)
			calls = append(calls, fmt.Sprintf("%s c=%d: %.1f", strings.TrimPrefix(r.workload, "search over "), r.c, r.callsPerQ))
		}
	}
	if len(calls) > 0 {
		measured := strings.Join(calls, "; ")
		var missing []string
		for _, s := range inProcessSizes {
			if _, ok := h.find(inProcessName(s.n, s.items), "plaza-gen", 1); !ok {
				missing = append(missing, scaleN(s.n))
			}
		}
		if len(missing) > 0 {
			measured += "; not measured at " + strings.Join(missing, ", ") + " in-process providers"
		}
		add("provider calls per search page of 20: ≤ 20 at N = 32, 10^4, 10^6 providers", worst <= 20 && len(missing) == 0, measured)
	}
	first, last := inProcessSizes[0], inProcessSizes[len(inProcessSizes)-1]
	small, okS := h.find(inProcessName(first.n, first.items), "plaza-gen", 1)
	big, okB := h.find(inProcessName(last.n, last.items), "plaza-gen", 1)
	if okS && okB {
		add(fmt.Sprintf("search latency growth: p50 at %s in-process providers within 1.5× of p50 at %s, c=1", scaleN(last.n), scaleN(first.n)),
			big.p50 <= small.p50*3/2, fmt.Sprintf("%.2f× (%s vs %s ms; %d vs %d items indexed)", float64(big.p50)/float64(small.p50), ms(big.p50), ms(small.p50),
				last.n*last.items, first.n*first.items))
	}
	for _, m := range h.indexBench {
		if strings.HasPrefix(m.measured, "not measured") {
			out = append(out, [3]string{m.target, "not measured", m.measured})
			continue
		}
		add(m.target, m.ok, m.measured)
	}
	return out
}
