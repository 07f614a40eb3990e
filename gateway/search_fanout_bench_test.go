//go:build unix

package gateway_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/plaza-gateway/plaza/connectors"
	"github.com/plaza-gateway/plaza/connectors/demo"
	"github.com/plaza-gateway/plaza/connectors/httpprovider"
	"github.com/plaza-gateway/plaza/gateway"
)

// BenchmarkSearchFanout is the bench harness's fan-out workload without the
// GraphQL layer: Search (and its facets) for "milk" over N grocery providers
// answering over loopback HTTP after 20 ms, as `bench serve-provider` does.
// The providers run in a child process (this test binary re-executed), so
// their CPU is not charged to the gateway; run with GOMAXPROCS=1 to give the
// gateway one core as the harness does:
//
//	GOMAXPROCS=1 go test -run '^$' -bench SearchFanout -count 5 ./gateway/
//
// To place the gateway and the providers as the harness does (gateway alone
// on CPU 1, providers on CPU 0), run the benchmark under `taskset -c 1`
// with PLAZA_BENCH_PROVIDER_CPUS=0.
//
// Besides ns/op it reports the latency percentiles of the run (p50-ms,
// p99-ms) and gw-cpu-ms/op, the gateway process's CPU time per search (user
// + system): the cost that queues up when many searches share one core.
// "stalled" sets have one provider that never answers and a provider
// timeout of 100 ms; each search must then return its errors (one per
// kind), and errors/op counts every error returned.
func BenchmarkSearchFanout(b *testing.B) {
	for _, tc := range []struct {
		providers int
		stalled   bool
		depth     int
		conc      []int
	}{
		{providers: 2, conc: []int{1}},
		{providers: 8, conc: []int{1}},
		{providers: 32, conc: []int{1, 16}},
		// A page past the shrunk windows: every provider asked for the full
		// SearchWindow, as before the windows shrank.
		{providers: 32, depth: 1000, conc: []int{1}},
		{providers: 8, stalled: true, conc: []int{1, 16}},
	} {
		name := fmt.Sprintf("providers=%d", tc.providers)
		timeout := 2 * time.Second
		if tc.stalled {
			name += ",stalled"
			timeout = 100 * time.Millisecond
		}
		if tc.depth > 0 {
			name += fmt.Sprintf(",depth=%d", tc.depth)
		}
		for _, c := range tc.conc {
			b.Run(fmt.Sprintf("%s/c=%d", name, c), func(b *testing.B) {
				g := fanoutGateway(b, tc.providers, tc.stalled, timeout)
				var errCount atomic.Int64
				search := func() {
					hits, errs := g.Search(context.Background(), gateway.SearchParams{Text: "milk", Depth: tc.depth})
					g.Facets(context.Background(), hits)
					errCount.Add(int64(len(errs)))
					// The stalled provider never answers: its error must be
					// there (one per kind). Others may time out too on a
					// loaded machine: errors/op shows it.
					if tc.stalled && !slices.ContainsFunc(errs, func(err error) bool { return strings.Contains(err.Error(), "fan-stalled") }) {
						b.Errorf("%d hits, errors %v; want the stalled provider's", len(hits), errs)
					}
				}
				for range 3 { // warm the connections
					search()
				}
				errCount.Store(0)
				runTimed(b, c, search)
				b.ReportMetric(float64(errCount.Load())/float64(b.N), "errors/op")
			})
		}
	}
}

// BenchmarkSearchFanoutRaw is the floor under BenchmarkSearchFanout: the
// same providers' search endpoints (products and stores, first 20) called in
// parallel over the same loopback HTTP, bodies read and not decoded, no
// gateway. What Search takes beyond it is the gateway's.
func BenchmarkSearchFanoutRaw(b *testing.B) {
	for _, n := range []int{2, 8, 32} {
		b.Run(fmt.Sprintf("providers=%d/c=1", n), func(b *testing.B) {
			addrs := startFanoutProviders(b, n, false)
			hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
			b.Cleanup(hc.CloseIdleConnections)
			body := []byte(`{"text":"milk","first":20}`)
			search := func() {
				var wg sync.WaitGroup
				for _, addr := range addrs {
					for _, path := range []string{httpprovider.PathGrocerySearchProducts, httpprovider.PathGrocerySearchStores} {
						wg.Add(1)
						go func() {
							defer wg.Done()
							if err := rawCall(hc, "http://"+addr, path, body); err != nil {
								b.Error(err)
							}
						}()
					}
				}
				wg.Wait()
			}
			for range 3 {
				search()
			}
			runTimed(b, 1, search)
		})
	}
}

// rawCall posts one signed request and reads the reply.
func rawCall(hc *http.Client, base, path string, body []byte) error {
	req, err := http.NewRequest(http.MethodPost, base+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	ts, nonce := strconv.FormatInt(time.Now().Unix(), 10), strconv.FormatInt(rawNonce.Add(1), 16)+"-bench"
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(httpprovider.HeaderTimestamp, ts)
	req.Header.Set(httpprovider.HeaderNonce, nonce)
	req.Header.Set(httpprovider.HeaderSignature, httpprovider.SignV2(fanoutSecret, ts, nonce, http.MethodPost, path, "", body))
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: status %d", path, resp.StatusCode)
	}
	return nil
}

var rawNonce atomic.Int64

// runTimed runs op b.N times from c goroutines and reports the latency
// percentiles and the process's CPU time per op.
func runTimed(b *testing.B, c int, op func()) {
	var mu sync.Mutex
	var lat []time.Duration
	timed := func() {
		start := time.Now()
		op()
		d := time.Since(start)
		mu.Lock()
		lat = append(lat, d)
		mu.Unlock()
	}
	b.ReportAllocs()
	cpu0 := processCPU(b)
	b.ResetTimer()
	if c == 1 {
		for range b.N {
			timed()
		}
	} else {
		// RunParallel starts parallelism × GOMAXPROCS goroutines.
		b.SetParallelism(max(1, c/runtime.GOMAXPROCS(0)))
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				timed()
			}
		})
	}
	b.StopTimer()
	cpu := processCPU(b) - cpu0
	slices.Sort(lat)
	pct := func(p float64) float64 { return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))]) / 1e6 }
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(float64(cpu)/1e6/float64(b.N), "gw-cpu-ms/op")
}

// processCPU is this process's user + system CPU time so far.
func processCPU(tb testing.TB) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// fanoutGateway starts n demo grocery providers (plus a stalled one when
// stalled, replacing the last) in a child process and returns a gateway
// over them whose connectors time out after timeout.
func fanoutGateway(tb testing.TB, n int, stalled bool, timeout time.Duration) *gateway.Gateway {
	tb.Helper()
	addrs := startFanoutProviders(tb, n, stalled)
	var conns []connectors.Connector
	for i, addr := range addrs {
		c, err := httpprovider.New(httpprovider.Config{ID: fanoutID(i, stalled && i == n-1), Vertical: connectors.VerticalGrocery,
			BaseURL: "http://" + addr, Secret: fanoutSecret, Timeout: timeout})
		if err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(c.CloseIdleConnections)
		conns = append(conns, c)
	}
	reg, err := connectors.NewRegistry(conns...)
	if err != nil {
		tb.Fatal(err)
	}
	return gateway.New(reg)
}

const (
	fanoutSecret  = "bench-fan-secret"
	fanoutLatency = 20 * time.Millisecond
	fanoutEnv     = "PLAZA_FANOUT_PROVIDERS" // "n,stalled" in the child
	// fanoutCPUsEnv, when set, pins the provider process to those CPUs
	// (taskset -c), e.g. 0 while the benchmark runs under taskset -c 1.
	fanoutCPUsEnv = "PLAZA_BENCH_PROVIDER_CPUS"
)

func fanoutID(i int, stalled bool) string {
	if stalled {
		return "fan-stalled"
	}
	return fmt.Sprintf("fan-%02d", i+1)
}

// startFanoutProviders re-executes the test binary as the provider process
// and returns the providers' addresses; the child exits when its stdin
// closes (at the end of tb).
func startFanoutProviders(tb testing.TB, n int, stalled bool) []string {
	tb.Helper()
	argv := []string{os.Args[0], "-test.run=^TestFanoutProviderProcess$"}
	if cpus := os.Getenv(fanoutCPUsEnv); cpus != "" {
		argv = append([]string{"taskset", "-c", cpus}, argv...)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	env := slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, "GOMAXPROCS=") })
	cmd.Env = append(env, fmt.Sprintf("%s=%d,%t", fanoutEnv, n, stalled))
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		tb.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		stdin.Close()
		cmd.Wait()
	})
	var addrs []string
	sc := bufio.NewScanner(stdout)
	for len(addrs) < n && sc.Scan() {
		if addr, ok := strings.CutPrefix(sc.Text(), "provider "); ok {
			addrs = append(addrs, addr)
		}
	}
	if len(addrs) < n {
		tb.Fatalf("provider process gave %d of %d addresses", len(addrs), n)
	}
	go func() { // drain the rest (test framework output)
		for sc.Scan() {
		}
	}()
	return addrs
}

// TestFanoutProviderProcess is not a test: it is the provider process of
// BenchmarkSearchFanout, and skips unless started by it.
func TestFanoutProviderProcess(t *testing.T) {
	spec := os.Getenv(fanoutEnv)
	if spec == "" {
		t.Skip("provider process for BenchmarkSearchFanout")
	}
	ns, st, _ := strings.Cut(spec, ",")
	n, _ := strconv.Atoi(ns)
	stalled := st == "true"
	for i := range n {
		stall := stalled && i == n-1
		conn, err := demo.New(connectors.Descriptor{ID: fanoutID(i, stall), Vertical: connectors.VerticalGrocery})
		if err != nil {
			t.Fatal(err)
		}
		f := httpprovider.Faults{Latency: fanoutLatency}
		if stall {
			f.FailRate, f.Mode = 1, httpprovider.FaultStall
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		srv := &http.Server{Handler: httpprovider.Inject(httpprovider.NewHandler(conn, fanoutSecret), f)}
		go srv.Serve(ln)
		fmt.Println("provider " + ln.Addr().String())
	}
	// Serve until the benchmark closes our stdin.
	bufio.NewReader(os.Stdin).ReadByte()
	os.Exit(0)
}
