package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/plaza-gateway/plaza/auth"
	"github.com/plaza-gateway/plaza/connectors/httpprovider"
	"github.com/plaza-gateway/plaza/gid"
)

type options struct {
	root                    string
	headline, short, warmup time.Duration
	runs                    int
	out                     string
	skipPeers               bool
	// skipDirectory leaves out the directory-scale section (-skip-directory).
	skipDirectory bool
	// only, when set, runs the workloads whose names it matches and
	// nothing else: no 1,000-connection run, no Go benchmarks.
	only *regexp.Regexp
	// compare is a git revision whose gateway runs beside this one's
	// (-compare): see compare.go.
	compare string
}

// jwtSecret signs the harness's tokens; every gateway gets it as
// PLAZA_JWT_SECRET (production mode wants at least 32 bytes).
const jwtSecret = "plaza-bench-only-jwt-secret-0123456789"

// providerTimeout is the per-provider timeout of the gateways over the
// base providers (the fan-out sets set their own).
const providerTimeout = 2 * time.Second

// provider is one demo-provider process.
type provider struct {
	ID, Vertical, Secret string
	Port                 int
	Latency              time.Duration
	Stall                bool
}

func (p provider) url() string { return fmt.Sprintf("http://127.0.0.1:%d", p.Port) }

// target is one GraphQL endpoint under test.
type target struct {
	name string
	proc *proc
	url  string
	// admin is the Plaza process's admin listener (pprof, /metrics), empty
	// for the peers.
	admin string
}

type harness struct {
	o                               options
	out                             io.Writer
	procs                           *procs
	work                            string
	plazaBin, benchBin, providerBin string
	providerArgs                    func(p provider) []string
	rdb                             *redis.Client
	redisURL                        string
	base                            []provider
	products                        []string // local IDs at the first grocery provider, in catalogue order
	storeOf                         map[string]string
	targets                         map[string]*target
	token                           string
	rows                            []row
	notes                           []string
	// traffic holds the traffic roll-ups section's metrics (nil: not run).
	traffic benchMetrics
	// grading holds the service-level grading section's metrics (nil: not run).
	grading benchMetrics
	started time.Time
	// pinned is where the harness's threads may run, as the kernel
	// reports it after pinProcess (threadCPUs), for the report.
	pinned string
	// baseline is the gateway built at -compare (nil without it).
	baseline *baseline
	// app is the app's section (appInteractive), appErr why it is missing.
	app    *appResult
	appErr error
	// indexBench are the embedded index's figures (index.go).
	indexBench []indexFigure
}

func newHarness(o options, out io.Writer) (*harness, error) {
	root, err := filepath.Abs(o.root)
	if err != nil {
		return nil, err
	}
	o.root = root
	work := filepath.Join(root, "bench", "work")
	if err := os.MkdirAll(work, 0o755); err != nil {
		return nil, err
	}
	return &harness{o: o, out: out, work: work, procs: &procs{dir: work}, targets: map[string]*target{}, storeOf: map[string]string{}, started: time.Now()}, nil
}

func (h *harness) logf(format string, args ...any) {
	fmt.Fprintf(h.out, "[%5.1fs] %s\n", time.Since(h.started).Seconds(), fmt.Sprintf(format, args...))
}

// cmd runs a command to completion. Once the harness is pinned (pinProcess)
// its children would inherit CPU 0 alone: cmd gives them every CPU back
// (taskset), for the builds, the Go benchmarks and the directory benchmarks.
func (h *harness) cmd(ctx context.Context, dir string, env []string, name string, args ...string) (string, error) {
	if h.pinned != "" && runtime.NumCPU() >= 2 {
		args = append([]string{"-c", fmt.Sprintf("0-%d", runtime.NumCPU()-1), name}, args...)
		name = "taskset"
	}
	c := exec.CommandContext(ctx, name, args...)
	c.Dir = dir
	c.Env = append(os.Environ(), env...)
	out, err := c.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("%s %s: %w\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out), nil
}

func (h *harness) run(ctx context.Context) error {
	if runtime.NumCPU() < 2 {
		h.notes = append(h.notes, "fewer than 2 CPUs: the gateway and the load generator share a core")
	}
	if err := h.build(ctx); err != nil {
		return err
	}
	// The load generator runs in this process: pin it to CPU 0, with the
	// providers and Redis, away from the gateway on CPU 1. (The builds above
	// ran unpinned, to use both cores.)
	if runtime.NumCPU() >= 2 {
		if err := pinProcess(0); err != nil {
			return err
		}
	}
	h.pinned = threadCPUs()
	h.logf("harness (load generator) threads may run on CPU %s", h.pinned)
	if err := h.startRedis(ctx); err != nil {
		return err
	}
	if err := h.startBase(ctx); err != nil {
		return err
	}
	if err := h.discover(ctx); err != nil {
		return err
	}
	if err := h.startGateways(ctx); err != nil {
		return err
	}
	if err := h.mainWorkloads(ctx); err != nil {
		return err
	}
	if err := h.searchOver(ctx); err != nil {
		return err
	}
	if err := h.searchInProcess(ctx); err != nil {
		return err
	}
	var micro []bench
	if h.o.only != nil {
		h.procs.stopAll()
		h.notes = append(h.notes, fmt.Sprintf("only the workloads matching %q ran (-only)", h.o.only))
	} else {
		if err := h.connections(ctx); err != nil {
			return err
		}
		h.procs.stopAll()
		var err error
		micro, err = h.microbench(ctx)
		if err != nil {
			h.notes = append(h.notes, "Go benchmarks failed: "+firstLine(err.Error()))
		}
	}
	if h.selected(appSection) {
		// Alone on the machine: the gateways and providers of the run
		// have stopped.
		h.app, h.appErr = h.appInteractive(ctx)
	}
	if h.selected(indexSection) {
		h.procs.stopAll()
		h.indexBenchmarks(ctx)
	}
	var dir benchMetrics
	if !h.o.skipDirectory && h.selected(dirSection) {
		var err error
		if dir, err = h.directoryScale(ctx); err != nil {
			h.notes = append(h.notes, "directory scale: "+firstLine(err.Error())+" (see bench/work/directory-*.txt)")
		}
		sup, err := h.supplyScale(ctx)
		if err != nil {
			h.notes = append(h.notes, "supply index scale: "+firstLine(err.Error())+" (see bench/work/supply-*.txt)")
		}
		if dir == nil {
			dir = benchMetrics{}
		}
		for name, m := range sup {
			dir[name] = m
		}
	}
	if h.selected(trafficSection) {
		var err error
		if h.traffic, err = h.trafficScale(ctx); err != nil {
			h.notes = append(h.notes, "traffic roll-ups: "+firstLine(err.Error())+" (see bench/work/traffic.txt)")
		}
	}
	if h.selected(gradingSection) {
		var err error
		if h.grading, err = h.gradingScale(ctx); err != nil {
			h.notes = append(h.notes, "service-level grading: "+firstLine(err.Error())+" (see bench/work/growth.txt)")
		}
	}
	return h.report(ctx, micro, dir)
}

func firstLine(s string) string { l, _, _ := strings.Cut(s, "\n"); return l }

// build compiles the shipped gateway, the harness itself (which serves the
// uncached gateway and the stand-in provider) and cmd/demo-provider.
func (h *harness) build(ctx context.Context) error {
	h.plazaBin, h.benchBin = filepath.Join(h.work, "plaza"), filepath.Join(h.work, "bench")
	h.logf("building the gateway and the harness")
	if _, err := h.cmd(ctx, h.o.root, nil, "go", "build", "-o", h.plazaBin, "."); err != nil {
		return err
	}
	if _, err := h.cmd(ctx, h.o.root, nil, "go", "build", "-o", h.benchBin, "./bench"); err != nil {
		return err
	}
	h.providerBin = h.benchBin
	h.providerArgs = func(p provider) []string {
		a := []string{h.benchBin, "serve-provider", "--vertical", p.Vertical, "--provider", p.ID, "--secret", p.Secret,
			"--addr", fmt.Sprintf("127.0.0.1:%d", p.Port), "--latency", p.Latency.String()}
		if p.Stall {
			a = append(a, "--fail-rate", "1", "--fault-mode", "stall")
		}
		return a
	}
	if h.o.compare != "" {
		b, err := h.buildBaseline(ctx, h.o.compare)
		if err != nil {
			return err
		}
		h.baseline = b
	}
	demoBin := filepath.Join(h.work, "demo-provider")
	if _, err := h.cmd(ctx, h.o.root, nil, "go", "build", "-o", demoBin, "./cmd/demo-provider"); err != nil {
		h.notes = append(h.notes, "cmd/demo-provider did not build; the providers ran as `bench serve-provider` (the same demo connector, httpprovider handler, faults and stats)")
		return nil
	}
	help, _ := exec.CommandContext(ctx, demoBin, "-h").CombinedOutput()
	if !bytes.Contains(help, []byte("latency")) || !bytes.Contains(help, []byte("secret")) {
		h.notes = append(h.notes, "cmd/demo-provider lacks --latency/--secret; the providers ran as `bench serve-provider`")
		return nil
	}
	h.providerArgs = func(p provider) []string {
		if p.Stall { // cmd/demo-provider may not offer a stall mode
			return []string{h.benchBin, "serve-provider", "--vertical", p.Vertical, "--provider", p.ID, "--secret", p.Secret,
				"--addr", fmt.Sprintf("127.0.0.1:%d", p.Port), "--latency", p.Latency.String(), "--fail-rate", "1", "--fault-mode", "stall"}
		}
		return []string{demoBin, "--vertical", p.Vertical, "--provider", p.ID, "--secret", p.Secret,
			"--addr", fmt.Sprintf("127.0.0.1:%d", p.Port), "--latency", p.Latency.String(), "--fail-rate", "0"}
	}
	return nil
}

// startRedis runs a private redis-server so the command counts are ours
// alone (the machine's shared Redis serves other people's tests).
func (h *harness) startRedis(ctx context.Context) error {
	port := freePort()
	p, err := h.procs.start("redis", "0", h.work, nil, "redis-server", "--port", fmt.Sprint(port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no")
	if err != nil {
		return err
	}
	h.redisURL = fmt.Sprintf("redis://127.0.0.1:%d", port)
	h.rdb = redis.NewClient(&redis.Options{Addr: fmt.Sprintf("127.0.0.1:%d", port)})
	for range 100 {
		if h.rdb.Ping(ctx).Err() == nil {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("redis-server did not start:\n%s", p.tail())
}

func (h *harness) startProviders(ctx context.Context, ps []provider) error {
	for i := range ps {
		p, err := h.procs.start("provider-"+ps[i].ID, "0", h.work, nil, h.providerArgs(ps[i])...)
		if err != nil {
			return err
		}
		if err := waitHTTP(ctx, p, ps[i].url()+httpprovider.PathStats, 20*time.Second); err != nil {
			return err
		}
	}
	return nil
}

func (h *harness) startBase(ctx context.Context) error {
	specs := [][2]string{{"freshcart", "grocery"}, {"greenbasket", "grocery"}, {"mediquick", "medical"}, {"carepoint", "medical"},
		{"lexassist", "legal"}, {"justicehub", "legal"}, {"govdesk", "public-service"}, {"citizenhub", "public-service"}}
	for _, s := range specs {
		h.base = append(h.base, provider{ID: s[0], Vertical: s[1], Secret: "bench-secret-" + s[0], Port: freePort()})
	}
	h.logf("starting %d demo providers (0 ms)", len(h.base))
	return h.startProviders(ctx, h.base)
}

// discover reads the first grocery provider's catalogue over the contract,
// so the workloads name real products without hard-coding demo data.
func (h *harness) discover(ctx context.Context) error {
	p := h.base[0]
	out, err := providerCall(ctx, http.DefaultClient, p.url(), p.Secret, httpprovider.PathGrocerySearchProducts, []byte(`{"first":1000}`))
	if err != nil {
		return err
	}
	var page struct {
		Items []struct {
			ID      string `json:"id"`
			StoreID string `json:"storeId"`
		} `json:"items"`
	}
	if err := json.Unmarshal(out, &page); err != nil {
		return err
	}
	for _, it := range page.Items {
		h.products = append(h.products, it.ID)
		h.storeOf[it.ID] = it.StoreID
	}
	if len(h.products) < 1000 {
		return fmt.Errorf("%s lists %d products; the 1,000-item workload needs 1,000", p.ID, len(h.products))
	}
	v, err := auth.NewVerifier(auth.Config{Secret: []byte(jwtSecret)})
	if err != nil {
		return err
	}
	h.token, err = v.Issue("demo-1", time.Hour)
	return err
}

// gatewayConfig writes a registry file for ps and returns its path.
func (h *harness) gatewayConfig(name string, ps []provider, timeout time.Duration) (string, error) {
	var b strings.Builder
	b.WriteString("providers:\n")
	for _, p := range ps {
		// max_batch is the demo providers' own limit (their descriptor's
		// MaxBatch), as an operator would configure it: larger batches (the
		// list of 1,000) are split into calls of at most 500 ids.
		fmt.Fprintf(&b, "  - id: %s\n    vertical: %s\n    url: %s\n    secret: %s\n    timeout: %s\n    max_concurrent: 256\n    max_batch: 500\n",
			p.ID, p.Vertical, p.url(), p.Secret, timeout)
	}
	path := filepath.Join(h.work, name+".yaml")
	return path, os.WriteFile(path, []byte(b.String()), 0o644)
}

// startPlaza starts one gateway on core 1 with GOMAXPROCS=1: the shipped
// binary when shipped is true (REDIS_URL from env), else the uncached wiring.
func (h *harness) startPlaza(ctx context.Context, name string, ps []provider, timeout time.Duration, shipped bool, env []string) (*target, error) {
	return h.startPlazaOf(ctx, h.plazaBin, h.benchBin, name, ps, timeout, shipped, env)
}

// startPlazaOf is startPlaza with the binaries given: the shipped gateway
// and the harness serving the uncached one (this tree's, or -compare's).
func (h *harness) startPlazaOf(ctx context.Context, plazaBin, benchBin, name string, ps []provider, timeout time.Duration, shipped bool, env []string) (*target, error) {
	bin := []string{benchBin, "serve-gateway"}
	if shipped {
		bin = []string{plazaBin}
	}
	return h.launchPlaza(ctx, bin, name, ps, timeout, env, nil, 30*time.Second)
}

// startGateway starts this tree's uncached gateway (bench serve-gateway)
// with extra flags (-index, -generated ...), waiting up to wait for it to
// serve: feeding an index comes first.
func (h *harness) startGateway(ctx context.Context, name string, ps []provider, timeout time.Duration, env, args []string, wait time.Duration) (*target, error) {
	return h.launchPlaza(ctx, []string{h.benchBin, "serve-gateway"}, name, ps, timeout, env, args, wait)
}

func (h *harness) launchPlaza(ctx context.Context, bin []string, name string, ps []provider, timeout time.Duration, env, args []string, wait time.Duration) (*target, error) {
	cfg, err := h.gatewayConfig(name, ps, timeout)
	if err != nil {
		return nil, err
	}
	port := freePort()
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	argv := append(append(slices.Clone(bin), "--config", cfg, "--addr", addr), args...)
	// The admin listener (pprof) gets its own port: several gateways run at once.
	// Production mode (JSON access logs) wants an explicit JWT secret; the
	// harness signs its tokens with the development one.
	admin := fmt.Sprintf("127.0.0.1:%d", freePort())
	// PLAZA_CONFIG repeats --config: a gateway of a revision before the
	// configuration struct (-compare) read it from the environment only.
	env = append(env, "GOMAXPROCS=1", "PLAZA_ENV=production", "PLAZA_JWT_SECRET="+jwtSecret,
		"PLAZA_ADMIN_ADDR="+admin, "PLAZA_CONFIG="+cfg,
		// One load generator on one address is not the traffic the per-IP
		// and per-user limits are for.
		"PLAZA_RATE_USER=off", "PLAZA_RATE_IP=off", "PLAZA_RATE_KEY=off")
	p, err := h.procs.start(name, "1", h.work, env, argv...)
	if err != nil {
		return nil, err
	}
	base := "http://" + addr
	if err := waitHTTP(ctx, p, base+"/healthz", wait); err != nil {
		return nil, err
	}
	t := &target{name: name, proc: p, url: base + "/query", admin: "http://" + admin}
	h.targets[name] = t
	return t, nil
}

func (h *harness) startGateways(ctx context.Context) error {
	h.logf("starting Plaza (uncached) and Plaza (shipped binary, Redis cache)")
	if _, err := h.startPlaza(ctx, "plaza", h.base, providerTimeout, false, nil); err != nil {
		return err
	}
	if _, err := h.startPlaza(ctx, "plaza+redis", h.base, providerTimeout, true, []string{"REDIS_URL=" + h.redisURL}); err != nil {
		return err
	}
	// The shipped binary without REDIS_URL: the in-process cache, for the
	// cached list's memory-tier row.
	if h.selected("cached: list of 50 + store") {
		if _, err := h.startPlaza(ctx, "plaza+memory", h.base, providerTimeout, true, nil); err != nil {
			return err
		}
	}
	if err := h.startBaseline(ctx); err != nil {
		return err
	}
	if err := h.startFloor(ctx); err != nil {
		return err
	}
	if h.selected("scaling: list of 10 + store") || h.selected("scaling: list of 100 + store") || h.selected("scaling: list of 1000 + store") {
		if _, err := h.startPlaza(ctx, "plaza-scaling", h.base, providerTimeout, false, slices.Clone(scalingLimits)); err != nil {
			return err
		}
	}
	if h.o.skipPeers {
		return nil
	}
	if err := h.installPeers(ctx); err != nil {
		return err
	}
	return h.startPeers(ctx)
}

// startFloor starts the floor (floor.go) for the first grocery provider,
// placed as the gateways are: CPU 1, GOMAXPROCS=1.
func (h *harness) startFloor(ctx context.Context) error {
	p := h.base[0]
	addr := fmt.Sprintf("127.0.0.1:%d", freePort())
	fp, err := h.procs.start("floor", "1", h.work, []string{"GOMAXPROCS=1"},
		h.benchBin, "serve-floor", "--provider", p.ID, "--url", p.url(), "--secret", p.Secret, "--addr", addr)
	if err != nil {
		return err
	}
	if err := waitHTTP(ctx, fp, "http://"+addr+"/healthz", 30*time.Second); err != nil {
		return err
	}
	h.targets["floor"] = &target{name: "floor", proc: fp, url: "http://" + addr + "/query"}
	return nil
}

// installPeers installs the pinned npm packages (npm ci when a lock file is
// committed) unless node_modules is already current.
func (h *harness) installPeers(ctx context.Context) error {
	for _, peer := range []string{"yoga", "hive"} {
		dir := filepath.Join(h.o.root, "bench", "peers", peer)
		lock, errLock := os.Stat(filepath.Join(dir, "package-lock.json"))
		installed, errInst := os.Stat(filepath.Join(dir, "node_modules", ".package-lock.json"))
		if errLock == nil && errInst == nil && !installed.ModTime().Before(lock.ModTime()) {
			continue
		}
		h.logf("installing the %s peer from npm (first run only)", peer)
		verb := "install"
		if errLock == nil {
			verb = "ci"
		}
		if _, err := h.cmd(ctx, dir, nil, "npm", verb, "--no-audit", "--no-fund", "--loglevel=error"); err != nil {
			return err
		}
	}
	return nil
}

func (h *harness) startPeers(ctx context.Context) error {
	p := h.base[0]
	env := []string{"NODE_ENV=production", "PROVIDER_URL=" + p.url(), "PROVIDER_SECRET=" + p.Secret}
	// yoga
	port := freePort()
	yoga, err := h.procs.start("yoga", "1", filepath.Join(h.o.root, "bench", "peers", "yoga"),
		append(env, fmt.Sprintf("PORT=%d", port)), "node", "server.mjs")
	if err != nil {
		return err
	}
	if err := waitHTTP(ctx, yoga, fmt.Sprintf("http://127.0.0.1:%d/query", port), 30*time.Second); err != nil {
		return err
	}
	h.targets["yoga"] = &target{name: "yoga", proc: yoga, url: fmt.Sprintf("http://127.0.0.1:%d/query", port)}
	// Hive Gateway over the Mesh composition of our contract.
	dir := filepath.Join(h.o.root, "bench", "peers", "hive")
	if err := h.copyContract(filepath.Join(dir, "openapi.yaml")); err != nil {
		return err
	}
	h.logf("composing the Mesh supergraph from connectors/httpprovider/openapi.yaml")
	if _, err := h.cmd(ctx, dir, env, "npx", "--no-install", "mesh-compose", "-o", "supergraph.graphql"); err != nil {
		return err
	}
	port = freePort()
	hive, err := h.procs.start("hive", "1", dir, append(env, fmt.Sprintf("PORT=%d", port)),
		"npx", "--no-install", "hive-gateway", "supergraph", "--jit", "--fork", "1")
	if err != nil {
		return err
	}
	if err := waitHTTP(ctx, hive, fmt.Sprintf("http://127.0.0.1:%d/query", port), 60*time.Second); err != nil {
		return err
	}
	h.targets["hive"] = &target{name: "hive", proc: hive, url: fmt.Sprintf("http://127.0.0.1:%d/query", port)}
	return nil
}

// copyContract copies the provider contract's OpenAPI document for Mesh. It
// repairs one known defect if present (an `items:` whose `$ref` sits at the
// same indent, which makes `results` a single object instead of a list) and
// says so in the results, since the document is not ours to edit.
func (h *harness) copyContract(dst string) error {
	src, err := os.ReadFile(filepath.Join(h.o.root, "connectors", "httpprovider", "openapi.yaml"))
	if err != nil {
		return fmt.Errorf("the Hive peer composes connectors/httpprovider/openapi.yaml: %w", err)
	}
	lines := strings.Split(string(src), "\n")
	fixed := 0
	for i := 0; i+1 < len(lines); i++ {
		if strings.TrimSpace(lines[i]) != "items:" {
			continue
		}
		indent := len(lines[i]) - len(strings.TrimLeft(lines[i], " "))
		next := lines[i+1]
		if strings.HasPrefix(strings.TrimLeft(next, " "), "$ref:") && len(next)-len(strings.TrimLeft(next, " ")) == indent {
			lines[i+1] = "  " + next
			fixed++
		}
	}
	if fixed > 0 {
		h.notes = append(h.notes, fmt.Sprintf("connectors/httpprovider/openapi.yaml has %d `items:` with a mis-indented `$ref` (arrays read as single objects); the harness indented them in its copy for Mesh", fixed))
	}
	return os.WriteFile(dst, []byte(strings.Join(lines, "\n")), 0o644)
}

// providerCalls sums the providers' own call counters.
func providerCalls(ctx context.Context, ps []provider) (int64, error) {
	var total int64
	for _, p := range ps {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, p.url()+httpprovider.PathStats, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, err
		}
		var rep httpprovider.StatsReport
		err = json.NewDecoder(resp.Body).Decode(&rep)
		resp.Body.Close()
		if err != nil {
			return 0, err
		}
		total += rep.Total
	}
	return total, nil
}

// redisCommands sums INFO commandstats, less the INFO calls themselves.
func (h *harness) redisCommands(ctx context.Context) int64 {
	info, err := h.rdb.Info(ctx, "commandstats").Result()
	if err != nil {
		return 0
	}
	var total int64
	for _, line := range strings.Split(info, "\n") {
		name, rest, ok := strings.Cut(strings.TrimSpace(line), ":calls=")
		if !ok || name == "cmdstat_info" {
			continue
		}
		var n int64
		fmt.Sscanf(rest, "%d", &n)
		total += n
	}
	return total
}

func globalProducts(provider string, ids []string) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = gid.Encode(gid.Product, provider, id)
	}
	return out
}

func (h *harness) storesOf(ids []string) []string {
	var out []string
	for _, id := range ids {
		if s := h.storeOf[id]; !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}
