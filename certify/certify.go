// Package certify certifies newly registered providers: it runs the
// conformance kit (connectors/conformance) against a PENDING provider's
// endpoint as a background job, stores the results check by check in the
// directory, and moves the provider on when every check passed.
//
// The read-only checks call the provider's endpoint. The checks that create
// orders, bookings or applications call its sandbox endpoint only; without
// one they are recorded as skipped, and the provider waits as CERTIFIED for
// an operator's approval. With a sandbox, a passing provider becomes ACTIVE
// at once, unless the directory requires approval.
//
// Runs survive a restart: a run is stored as RUNNING before it is queued,
// and Run picks up every PENDING provider whose latest run is still RUNNING
// (or that has none) when it starts and on every sweep after.
package certify

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/plaza-gateway/plaza/connectors/conformance"
	"github.com/plaza-gateway/plaza/connectors/httpprovider"
	"github.com/plaza-gateway/plaza/directory"
)

// Actor is who the directory's history names for the lifecycle changes a
// run makes.
const Actor = "certification"

// Store is what certification needs of the directory.
type Store interface {
	Snapshot() *directory.Snapshot
	Get(ctx context.Context, id string) (directory.Provider, error)
	Secrets(ctx context.Context, id string) ([]string, error)
	SaveCertification(ctx context.Context, run directory.CertificationRun) (directory.CertificationRun, error)
	Certifications(ctx context.Context, id string) ([]directory.CertificationRun, error)
	Transition(ctx context.Context, id string, to directory.Lifecycle, actor, reason string) (directory.Provider, error)
}

// Config tunes the runner. Zero fields take the defaults.
type Config struct {
	// Concurrency bounds the runs in progress at once (default 2): each run
	// is a few dozen calls to one provider, and registrations trickle in.
	Concurrency int
	// RequireApproval keeps a provider that passed as CERTIFIED until an
	// operator approves it, even with a sandbox endpoint.
	RequireApproval bool
	// CallTimeout bounds each call of the kit (default
	// conformance.DefaultCallTimeout), so a hanging provider fails its
	// checks instead of holding a worker.
	CallTimeout time.Duration
	// Sweep is how often runs left RUNNING (a full queue, a restart, another
	// instance that died mid-run) are picked up again (default 1m).
	Sweep time.Duration
	// QueueSize bounds the runs waiting for a worker (default 256). A run
	// that finds the queue full stays RUNNING in the store for the sweep.
	QueueSize int
	// Finished, when set, hears each run's outcome once it is stored
	// (merchant growth grades the conformance status in service levels).
	Finished func(ctx context.Context, provider string, passed bool, at time.Time)
	// Options are extra conformance options (tests pass a seed or a clock).
	Options []conformance.Option
}

// MaxMessageLength bounds the message stored per check: a provider's error
// text is its own, and the directory stores it.
const MaxMessageLength = 1000

// Runner is the certification job. Build it with New, start it with Run.
type Runner struct {
	store Store
	cfg   Config
	log   *slog.Logger
	now   func() time.Time

	queue chan string
	mu    sync.Mutex
	busy  map[string]bool // queued or running on this instance
}

// New returns a runner over store. log may be nil.
func New(store Store, cfg Config, log *slog.Logger) *Runner {
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 2
	}
	if cfg.CallTimeout <= 0 {
		cfg.CallTimeout = conformance.DefaultCallTimeout
	}
	if cfg.Sweep <= 0 {
		cfg.Sweep = time.Minute
	}
	if cfg.QueueSize <= 0 {
		cfg.QueueSize = 256
	}
	if log == nil {
		log = slog.Default()
	}
	return &Runner{store: store, cfg: cfg, log: log, now: time.Now,
		queue: make(chan string, cfg.QueueSize), busy: map[string]bool{}}
}

// Start records a RUNNING run for provider id and queues it. Only a
// PENDING provider is certified (Conflict otherwise); a provider whose run
// is already queued or running gets that run back.
func (r *Runner) Start(ctx context.Context, id string) (directory.CertificationRun, error) {
	p, err := r.store.Get(ctx, id)
	if err != nil {
		return directory.CertificationRun{}, err
	}
	if p.Lifecycle != directory.Pending {
		return directory.CertificationRun{}, &directory.Error{Code: directory.Conflict, Field: "lifecycle",
			Message: fmt.Sprintf("only a PENDING provider is certified; %s is %s", id, p.Lifecycle)}
	}
	if cur, ok := r.running(ctx, id); ok {
		r.enqueue(id)
		return cur, nil
	}
	run, err := r.store.SaveCertification(ctx, directory.CertificationRun{ProviderID: id, Outcome: directory.RunRunning,
		Sandbox: p.SandboxEndpoint != "", StartedAt: r.now()})
	if err != nil {
		return directory.CertificationRun{}, err
	}
	r.enqueue(id)
	return run, nil
}

// running returns the provider's latest run if it is still RUNNING.
func (r *Runner) running(ctx context.Context, id string) (directory.CertificationRun, bool) {
	runs, err := r.store.Certifications(ctx, id)
	if err != nil || len(runs) == 0 || runs[0].Outcome != directory.RunRunning {
		return directory.CertificationRun{}, false
	}
	return runs[0], true
}

// enqueue hands id to the workers unless it is already with them. A full
// queue leaves the RUNNING run for the next sweep.
func (r *Runner) enqueue(id string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.busy[id] {
		return
	}
	select {
	case r.queue <- id:
		r.busy[id] = true
	default:
		r.log.Warn("certification queue full; the run waits for the next sweep", "provider", id, "sweep", r.cfg.Sweep)
	}
}

func (r *Runner) release(id string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.busy, id)
}

// Run works the queue with Config.Concurrency workers until ctx ends,
// sweeping for unfinished runs at once and then every Config.Sweep. It
// returns when every worker has stopped.
func (r *Runner) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for range r.cfg.Concurrency {
		wg.Go(func() {
			for {
				select {
				case <-ctx.Done():
					return
				case id := <-r.queue:
					r.certify(ctx, id)
					r.release(id)
				}
			}
		})
	}
	t := time.NewTicker(r.cfg.Sweep)
	defer t.Stop()
	for {
		r.sweep(ctx)
		select {
		case <-ctx.Done():
			wg.Wait()
			return
		case <-t.C:
		}
	}
}

// sweep queues every PENDING provider whose latest run is unfinished. It
// scans the snapshot, O(providers) without I/O, and reads runs only for
// the PENDING ones, which are few: registrations waiting for certification.
func (r *Runner) sweep(ctx context.Context) {
	snap := r.store.Snapshot()
	for i := range snap.Len() {
		e := snap.At(i)
		if e.Lifecycle() != directory.Pending {
			continue
		}
		id := e.ID()
		if _, ok := r.running(ctx, id); ok {
			r.enqueue(id)
		}
	}
}

// certify runs the kit for id's unfinished run and stores the outcome.
func (r *Runner) certify(ctx context.Context, id string) {
	run, ok := r.running(ctx, id)
	if !ok {
		return // finished meanwhile (another instance's sweep)
	}
	p, err := r.store.Get(ctx, id)
	if err != nil {
		r.log.Warn("certification: provider not readable; retried on the next sweep", "provider", id, "err", err)
		return
	}
	if p.Lifecycle != directory.Pending {
		run.Checks = []directory.CheckResult{{Name: "lifecycle", Outcome: directory.CheckFailed,
			Message: fmt.Sprintf("the provider became %s before its run; only PENDING providers are certified", p.Lifecycle)}}
		r.finish(ctx, run, false)
		return
	}
	secrets, err := r.store.Secrets(ctx, id)
	if err != nil || len(secrets) == 0 {
		r.log.Warn("certification: signing secret not readable; retried on the next sweep", "provider", id, "err", err)
		return
	}
	// Each run its own seed: the kit derives its idempotency keys from it,
	// and a second run against the same sandbox must not replay the first.
	seed := uint64(run.StartedAt.UnixNano()) ^ uint64(run.ID)<<32
	run.Checks, run.Sandbox = r.evaluate(ctx, p, secrets[0], seed)
	if ctx.Err() != nil {
		return // shutting down: the run stays RUNNING and is picked up again
	}
	passed := !slices.ContainsFunc(run.Checks, func(c directory.CheckResult) bool { return c.Outcome == directory.CheckFailed })
	if passed {
		// Promote first: a client that sees the run finished sees the
		// lifecycle it led to.
		r.promote(ctx, p, run)
	}
	r.finish(ctx, run, passed)
}

func (r *Runner) finish(ctx context.Context, run directory.CertificationRun, passed bool) {
	run.Outcome, run.FinishedAt = directory.RunFailed, r.now()
	if passed {
		run.Outcome = directory.RunPassed
	}
	if _, err := r.store.SaveCertification(ctx, run); err != nil {
		r.log.Warn("certification: result not stored", "provider", run.ProviderID, "err", err)
		return
	}
	if r.cfg.Finished != nil {
		r.cfg.Finished(ctx, run.ProviderID, passed, run.FinishedAt)
	}
	r.log.Info("certification finished", "provider", run.ProviderID, "outcome", run.Outcome, "sandbox", run.Sandbox)
}

// promote moves a provider that passed to CERTIFIED, and on to ACTIVE when
// no operator needs to approve it.
func (r *Runner) promote(ctx context.Context, p directory.Provider, run directory.CertificationRun) {
	if _, err := r.store.Transition(ctx, p.ID, directory.Certified, Actor, fmt.Sprintf("certification run %d passed", run.ID)); err != nil {
		r.log.Warn("certification: passed, but the provider could not become CERTIFIED", "provider", p.ID, "err", err)
		return
	}
	switch {
	case !run.Sandbox:
		return // the mutating checks did not run: an operator decides
	case r.cfg.RequireApproval:
		return
	}
	if _, err := r.store.Transition(ctx, p.ID, directory.Active, Actor,
		fmt.Sprintf("certification run %d passed with a sandbox; no approval required", run.ID)); err != nil {
		r.log.Warn("certification: certified, but the provider could not become ACTIVE", "provider", p.ID, "err", err)
	}
}

// evaluate runs every check of the kit: the read-only ones against the
// endpoint, the mutating ones against the sandbox (skipped without one).
func (r *Runner) evaluate(ctx context.Context, p directory.Provider, secret string, seed uint64) ([]directory.CheckResult, bool) {
	var readOnly, mutating []string
	for _, c := range conformance.Checks() {
		if c.Mutates() {
			mutating = append(mutating, c.Name)
		} else {
			readOnly = append(readOnly, c.Name)
		}
	}
	out := make([]directory.CheckResult, 0, 1+len(readOnly)+len(mutating))
	desc := r.descriptor(ctx, p, p.Endpoint, secret)
	out = append(out, desc)
	if desc.Outcome == directory.CheckFailed {
		for _, c := range conformance.Checks() {
			out = append(out, directory.CheckResult{Name: c.Name, Outcome: directory.CheckSkipped,
				Message: "not run: the endpoint failed the descriptor check"})
		}
		return out, p.SandboxEndpoint != ""
	}
	out = append(out, r.kit(ctx, p, p.Endpoint, secret, seed, readOnly)...)
	if p.SandboxEndpoint == "" {
		for _, name := range mutating {
			out = append(out, directory.CheckResult{Name: name, Outcome: directory.CheckSkipped,
				Message: "no sandbox endpoint: checks that place orders or book slots never run against the live endpoint; an operator must approve"})
		}
		return out, false
	}
	if sd := r.descriptor(ctx, p, p.SandboxEndpoint, secret); sd.Outcome == directory.CheckFailed {
		sd.Name = "sandbox-descriptor"
		return append(out, sd), true
	}
	return append(out, r.kit(ctx, p, p.SandboxEndpoint, secret, seed, mutating)...), true
}

// client builds the connector the gateway would call the provider with.
func (r *Runner) client(p directory.Provider, base, secret string, maxBatch int) (*httpprovider.Client, error) {
	return httpprovider.New(httpprovider.Config{ID: p.ID, Name: p.Name, Vertical: p.Vertical, BaseURL: base,
		Secret: secret, Timeout: r.cfg.CallTimeout, MaxBatch: maxBatch})
}

// descriptor checks that base answers the contract's descriptor and serves
// the vertical the provider registered for.
func (r *Runner) descriptor(ctx context.Context, p directory.Provider, base, secret string) directory.CheckResult {
	res := directory.CheckResult{Name: "descriptor", Outcome: directory.CheckFailed}
	c, err := r.client(p, base, secret, 0)
	if err != nil {
		res.Message = trim(err.Error())
		return res
	}
	defer c.CloseIdleConnections()
	cctx, cancel := context.WithTimeout(ctx, r.cfg.CallTimeout)
	defer cancel()
	d, err := c.RemoteDescriptor(cctx)
	switch {
	case err != nil:
		res.Message = trim(fmt.Sprintf("GET %s: %v", httpprovider.PathDescriptor, err))
	case d.Vertical != p.Vertical:
		res.Message = fmt.Sprintf("the endpoint describes itself as %s, registered as %s", d.Vertical, p.Vertical)
	default:
		res.Outcome, res.Message = directory.CheckPassed, fmt.Sprintf("answers as a %s provider", d.Vertical)
	}
	return res
}

// kit runs the named checks of the conformance kit against base.
func (r *Runner) kit(ctx context.Context, p directory.Provider, base, secret string, seed uint64, names []string) []directory.CheckResult {
	maxBatch := 0
	if probe, err := r.client(p, base, secret, 0); err == nil {
		cctx, cancel := context.WithTimeout(ctx, r.cfg.CallTimeout)
		if d, err := probe.RemoteDescriptor(cctx); err == nil {
			maxBatch = d.MaxBatch
		}
		cancel()
		probe.CloseIdleConnections()
	}
	fail := func(err error) []directory.CheckResult {
		out := make([]directory.CheckResult, len(names))
		for i, n := range names {
			out[i] = directory.CheckResult{Name: n, Outcome: directory.CheckFailed, Message: trim(err.Error())}
		}
		return out
	}
	c, err := r.client(p, base, secret, maxBatch)
	if err != nil {
		return fail(err)
	}
	defer c.CloseIdleConnections()
	opts := append([]conformance.Option{conformance.WithHTTP(base, secret), conformance.WithCallTimeout(r.cfg.CallTimeout),
		conformance.WithSeed(seed), conformance.Only(names...)}, r.cfg.Options...)
	results, err := conformance.Evaluate(ctx, c, opts...)
	if err != nil {
		return fail(err)
	}
	out := make([]directory.CheckResult, 0, len(results))
	for _, res := range results {
		out = append(out, directory.CheckResult{Name: res.Check, Outcome: outcome(res.Status), Message: trim(res.Reason)})
	}
	return out
}

func outcome(s conformance.Status) directory.CheckOutcome {
	switch s {
	case conformance.Pass:
		return directory.CheckPassed
	case conformance.Skip:
		return directory.CheckSkipped
	}
	return directory.CheckFailed
}

func trim(s string) string {
	if len(s) <= MaxMessageLength {
		return s
	}
	cut := MaxMessageLength
	for cut > 0 && s[cut]&0xC0 == 0x80 { // not inside a UTF-8 sequence
		cut--
	}
	return s[:cut] + "…"
}
