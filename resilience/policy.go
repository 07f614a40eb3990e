// Package resilience is the gateway's per-provider call policy: a timeout per
// attempt, a bulkhead capping calls in flight, a circuit breaker, and
// jittered, budgeted retries for reads. It implements gateway.Policy and
// reports provider health for gateway.WithStatus:
//
//	p := resilience.New(cfg, resilience.WithObserver(o), resilience.WithLogger(log))
//	gw := gateway.New(reg, gateway.WithPolicy(p), gateway.WithStatus(p.Status))
//
// A provider's state (breaker, bulkhead, retry budget) is created on its
// first call and dropped once idle or pushed out by Config.MaxProviders
// busier ones (package idlecache), so the policy's memory follows the
// providers being called, not the number registered. The package imports
// nothing of the gateway's: the status type it reports lives in connectors.
package resilience

import (
	"context"
	"errors"
	"log/slog"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sony/gobreaker/v2"

	"github.com/plaza-gateway/plaza/connectors"
	"github.com/plaza-gateway/plaza/idlecache"
)

// Causes of the policy's own rejections, in the Err of the *connectors.Error
// it returns, for errors.Is.
var (
	ErrCircuitOpen = errors.New("resilience: circuit breaker open")
	ErrAtCapacity  = errors.New("resilience: bulkhead full")
)

// Reasons passed to Observer.Rejected.
const (
	ReasonCircuitOpen = "circuit_open" // the breaker refused the call
	ReasonAtCapacity  = "at_capacity"  // no bulkhead slot within the queue timeout
	ReasonRetryBudget = "retry_budget" // a retry was skipped: budget spent
)

// Observer is told what the policy does, for metrics. It is told the
// provider's vertical, never the provider: metric labels must stay bounded
// whatever the number of providers (the log names the provider of each
// breaker transition). Its methods are called synchronously on the call
// path (BreakerState under the breaker's lock), so they must be quick and
// must not call back into the Policy.
type Observer interface {
	// Retry is called before each retry attempt.
	Retry(vertical connectors.Vertical)
	// BreakerState is called once per breaker transition, with the states
	// "closed", "open" and "half-open".
	BreakerState(vertical connectors.Vertical, from, to string)
	// Rejected is called when the policy refuses a call or a retry.
	Rejected(vertical connectors.Vertical, reason string)
}

// Option configures optional parts of a Policy.
type Option func(*Policy)

// WithObserver reports retries, breaker transitions and rejections to o.
func WithObserver(o Observer) Option { return func(p *Policy) { p.obs = o } }

// WithLogger sets the logger for breaker transitions (default: slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(p *Policy) { p.log = l } }

// WithSleep replaces how the policy waits between retries (default: a timer
// that stops early when ctx is done). sleep must return ctx's error when it
// stops early; the retry is then abandoned.
func WithSleep(sleep func(ctx context.Context, d time.Duration) error) Option {
	return func(p *Policy) { p.sleep = sleep }
}

// WithClock injects the clock used for the retry budget's refill and for
// checking a retry's wait against the context deadline (default: time.Now).
// The breaker's cool-down runs on the real clock: gobreaker has no hook.
func WithClock(now func() time.Time) Option { return func(p *Policy) { p.now = now } }

// WithRand injects the jitter source: randN(n) must return a uniform value
// in [0, n) and be safe for concurrent use (default: math/rand/v2.Int64N).
func WithRand(randN func(n int64) int64) Option { return func(p *Policy) { p.randN = randN } }

// Policy applies the per-provider call policy. Build it with New; it is safe
// for concurrent use.
type Policy struct {
	obs   Observer
	log   *slog.Logger
	sleep func(context.Context, time.Duration) error
	now   func() time.Time
	randN func(int64) int64

	mu  sync.RWMutex
	cfg Config
	// generation counts SetProviderLookup calls: a provider's state checks
	// its settings again on its first call after one (provider.generation).
	generation atomic.Uint64

	// providers holds the state of the providers being called, keyed by ID.
	providers *idlecache.Cache[string, *provider]
	// tripped counts the held breakers that are not closed, per vertical,
	// for metrics (Breakers).
	trippedMu sync.Mutex
	tripped   map[connectors.Vertical]*BreakerCount
}

// provider is one provider's state. It is replaced as a whole when its
// settings change; calls in flight finish on the state they started with.
// Its parts are built on its first call (once), whose vertical is the one
// the policy reports for it; built says they are, to readers that do not
// go through once (Status, Settings, SetProviders).
type provider struct {
	id       string
	once     sync.Once
	built    atomic.Bool
	vertical connectors.Vertical
	cfg      ProviderConfig
	breaker  *breaker
	bulkhead bulkhead
	budget   *retryBudget
	// generation is the Policy.generation at which cfg was last found
	// current.
	generation atomic.Uint64

	// counted is the breaker state Breakers counts this provider in, and
	// gone that the cache has let go of it; both under Policy.trippedMu.
	counted gobreaker.State
	gone    bool
}

// BreakerCount is how many providers of a vertical the policy holds with
// their breaker open and half-open.
type BreakerCount struct {
	Vertical connectors.Vertical
	Open     int
	HalfOpen int
}

// New returns a policy with cfg's settings. Providers not named in
// cfg.Providers get cfg.Defaults when they are first called.
func New(cfg Config, opts ...Option) *Policy {
	p := &Policy{
		obs:   nopObserver{},
		log:   slog.Default(),
		sleep: sleepContext,
		now:   time.Now,
		randN: rand.Int64N,
	}
	for _, o := range opts {
		o(p)
	}
	p.cfg = Config{Defaults: cfg.Defaults, Providers: maps.Clone(cfg.Providers), Lookup: cfg.Lookup}
	p.tripped = map[connectors.Vertical]*BreakerCount{}
	idle := cfg.IdleAfter
	if idle == 0 {
		idle = DefaultIdleAfter
	}
	maxProviders := cfg.MaxProviders
	if maxProviders == 0 {
		maxProviders = DefaultMaxProviders
	}
	p.providers = idlecache.New(idlecache.Config[string, *provider]{
		// A provider's vertical is that of its first call: New cannot see
		// it, so Do fills it in (see provider).
		New:       func(id string) *provider { return &provider{id: id} },
		Drop:      func(_ string, pr *provider) { p.forget(pr) },
		Max:       maxProviders,
		IdleAfter: max(idle, 0),
		Now:       p.now,
	})
	return p
}

// SetProviders applies new per-provider settings, e.g. after a registry
// reload. Providers whose effective settings are unchanged keep their state
// (breaker, budget, calls in flight); the state of changed ones and of those
// missing from settings (which fall back to the defaults) is dropped, and
// starts afresh on their next call. Nothing is built for a provider until
// it is called.
func (p *Policy) SetProviders(settings map[string]ProviderConfig) {
	p.mu.Lock()
	p.cfg.Providers, p.cfg.Lookup = maps.Clone(settings), nil
	cfg := p.cfg
	p.mu.Unlock()
	p.providers.RemoveIf(func(id string, pr *provider) bool {
		return pr.ready() && pr.cfg != cfg.resolve(id)
	})
}

// SetProviderLookup applies new per-provider settings read through lookup
// (a directory version), in O(1) whatever the number of providers: nothing
// is visited now. Each held provider checks its settings on its next call;
// one whose effective settings changed starts afresh (as with SetProviders),
// the others keep their state.
func (p *Policy) SetProviderLookup(lookup func(id string) (ProviderConfig, bool)) {
	p.mu.Lock()
	p.cfg.Providers, p.cfg.Lookup = nil, lookup
	p.generation.Add(1)
	p.mu.Unlock()
}

// Settings returns the effective settings of provider id.
func (p *Policy) Settings(id string) ProviderConfig {
	if pr, ok := p.providers.Peek(id); ok && pr.ready() && pr.generation.Load() == p.generation.Load() {
		return pr.cfg
	}
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.cfg.resolve(id)
}

// ready reports whether pr's parts are built (see Policy.acquire).
func (pr *provider) ready() bool { return pr.built.Load() }

// acquire returns provider id's state, building its parts on first use,
// and marks it in use until release.
func (p *Policy) acquire(vertical connectors.Vertical, id string) (*provider, func()) {
	for {
		e := p.providers.Acquire(id)
		pr := e.Value
		pr.once.Do(func() { p.build(pr, vertical) })
		if pr.generation.Load() == p.generation.Load() || p.current(pr) {
			return pr, e.Release
		}
		// Its settings changed since it was built: drop it (calls in
		// flight finish on it) and build afresh.
		e.Release()
		p.providers.Remove(id, func(held *provider) bool { return held == pr })
	}
}

// current reports whether pr's settings are still those in force, and
// remembers the generation at which they were.
func (p *Policy) current(pr *provider) bool {
	p.mu.RLock()
	g := p.generation.Load()
	c := p.cfg.resolve(pr.id)
	p.mu.RUnlock()
	if c != pr.cfg {
		return false
	}
	pr.generation.Store(g)
	return true
}

// build fills in a fresh state's parts with the settings in force now.
func (p *Policy) build(pr *provider, vertical connectors.Vertical) {
	p.mu.RLock()
	c := p.cfg.resolve(pr.id)
	pr.generation.Store(p.generation.Load())
	p.mu.RUnlock()
	pr.vertical, pr.cfg = vertical, c
	pr.bulkhead = newBulkhead(c.MaxConcurrent)
	pr.budget = newRetryBudget(c, p.now())
	pr.breaker = newBreaker(pr.id, c, func(_ string, from, to gobreaker.State) { p.breakerChanged(pr, from, to) })
	pr.built.Store(true)
}

func (p *Policy) breakerChanged(pr *provider, from, to gobreaker.State) {
	p.log.Info("provider circuit breaker changed state",
		slog.String("provider", pr.id), slog.String("vertical", string(pr.vertical)),
		slog.String("from", from.String()), slog.String("to", to.String()))
	p.trippedMu.Lock()
	if !pr.gone { // a call that outlived its state's drop is not counted
		p.count(pr.vertical, pr.counted, -1)
		p.count(pr.vertical, to, +1)
		pr.counted = to
	}
	p.trippedMu.Unlock()
	p.obs.BreakerState(pr.vertical, from.String(), to.String())
}

// forget uncounts the breaker of a state the cache dropped.
func (p *Policy) forget(pr *provider) {
	p.trippedMu.Lock()
	defer p.trippedMu.Unlock()
	pr.gone = true
	p.count(pr.vertical, pr.counted, -1)
}

// count adds delta to v's count of breakers in state s; p.trippedMu is held.
func (p *Policy) count(v connectors.Vertical, s gobreaker.State, delta int) {
	if s == gobreaker.StateClosed {
		return
	}
	c := p.tripped[v]
	if c == nil {
		c = &BreakerCount{Vertical: v}
		p.tripped[v] = c
	}
	if s == gobreaker.StateOpen {
		c.Open += delta
	} else {
		c.HalfOpen += delta
	}
}

// Breakers returns, per vertical the policy has seen a breaker of trip,
// how many of the providers it holds have their breaker open and half-open.
// A breaker's state is as of its last call or Status: an open breaker whose
// cool-down has passed counts as open until it is next asked.
func (p *Policy) Breakers() []BreakerCount {
	p.trippedMu.Lock()
	defer p.trippedMu.Unlock()
	out := make([]BreakerCount, 0, len(p.tripped))
	for _, c := range p.tripped {
		out = append(out, *c)
	}
	slices.SortFunc(out, func(a, b BreakerCount) int { return strings.Compare(string(a.Vertical), string(b.Vertical)) })
	return out
}

// Providers is how many providers' state the policy holds (at most
// Config.MaxProviders plus those with calls in flight).
func (p *Policy) Providers() int { return p.providers.Len() }

// Status reports provider's health: UNAVAILABLE while its breaker is open,
// DEGRADED while half-open or when calls failed within the breaker window,
// ACTIVE otherwise and for providers the policy does not hold (not called
// lately, or never).
func (p *Policy) Status(id string) connectors.Status {
	pr, ok := p.providers.Peek(id)
	if !ok || !pr.ready() || (pr.generation.Load() != p.generation.Load() && !p.current(pr)) {
		// Not called yet, or its settings changed: its next call starts afresh.
		return connectors.StatusActive
	}
	b := pr.breaker
	switch b.State() { // State also rolls the window forward.
	case gobreaker.StateOpen:
		return connectors.StatusUnavailable
	case gobreaker.StateHalfOpen:
		return connectors.StatusDegraded
	}
	if b.Counts().TotalFailures > 0 {
		return connectors.StatusDegraded
	}
	return connectors.StatusActive
}

// Do runs fn against provider under the policy. A read (read == true) that
// fails retryably is tried again up to MaxRetries times, after a jittered
// exponential backoff or the provider's Retry-After, whichever is longer, as
// long as the wait ends before ctx's deadline and the retry budget allows.
// Mutations run at most once.
//
// Errors: fn's own error, or a *connectors.Error with Provider set:
// PROVIDER_TIMEOUT when an attempt ran out of its Timeout, and
// PROVIDER_UNAVAILABLE wrapping ErrCircuitOpen or ErrAtCapacity when the
// policy refused the call without running fn.
func (p *Policy) Do(ctx context.Context, vertical connectors.Vertical, id string, read bool, fn func(context.Context) error) error {
	pr, release := p.acquire(vertical, id)
	defer release()
	pr.budget.deposit()
	for retry := 1; ; retry++ {
		refused, err := p.attempt(ctx, pr, fn)
		if err == nil || refused || !read || retry > pr.cfg.MaxRetries || !retryable(err) || ctx.Err() != nil {
			return err
		}
		if !pr.cfg.RetryTimeouts && connectors.KindOf(err) == connectors.KindTimeout {
			return err
		}
		wait := p.backoff(pr.cfg, retry, err)
		if !p.canWait(ctx, pr.cfg, wait) {
			return err
		}
		if !pr.budget.spend(p.now()) {
			p.obs.Rejected(pr.vertical, ReasonRetryBudget)
			return err
		}
		if p.sleep(ctx, wait) != nil {
			return err
		}
		p.obs.Retry(pr.vertical)
	}
}

// attempt runs fn once through the bulkhead, the breaker and the attempt
// timeout. refused is true when the policy did not run fn.
func (p *Policy) attempt(ctx context.Context, pr *provider, fn func(context.Context) error) (refused bool, err error) {
	if !pr.bulkhead.acquire(ctx, pr.cfg.QueueTimeout) {
		p.obs.Rejected(pr.vertical, ReasonAtCapacity)
		return true, &connectors.Error{Kind: connectors.KindUnavailable, Message: "provider at capacity", Provider: pr.id, Err: ErrAtCapacity}
	}
	defer pr.bulkhead.release()

	// The closure does not escape Execute, so the happy path does not
	// allocate for it; it hands the breaker a verdict, not the error.
	_, verdict := pr.breaker.Execute(func() (struct{}, error) {
		actx := ctx
		if pr.cfg.Timeout > 0 {
			var cancel context.CancelFunc
			actx, cancel = context.WithTimeout(ctx, pr.cfg.Timeout)
			defer cancel()
		}
		err = fn(actx)
		if err != nil && ctx.Err() == nil && errors.Is(actx.Err(), context.DeadlineExceeded) {
			err = &connectors.Error{Kind: connectors.KindTimeout, Message: "provider timed out", Provider: pr.id, Retryable: true, Err: err}
		}
		return struct{}{}, judge(ctx, err)
	})
	if errors.Is(verdict, gobreaker.ErrOpenState) || errors.Is(verdict, gobreaker.ErrTooManyRequests) {
		p.obs.Rejected(pr.vertical, ReasonCircuitOpen)
		return true, &connectors.Error{Kind: connectors.KindUnavailable, Message: "circuit open", Provider: pr.id, Err: ErrCircuitOpen}
	}
	return false, err
}

// backoff returns the wait before the retry-th retry: full jitter over an
// exponentially growing ceiling (BaseBackoff, doubling up to MaxBackoff), or
// the provider's Retry-After if that is longer.
func (p *Policy) backoff(c ProviderConfig, retry int, err error) time.Duration {
	ceiling := max(c.BaseBackoff, 0)
	for i := 1; i < retry && ceiling < c.MaxBackoff; i++ {
		ceiling *= 2
	}
	ceiling = min(ceiling, c.MaxBackoff)
	var wait time.Duration
	if ceiling > 0 {
		wait = time.Duration(p.randN(int64(ceiling) + 1))
	}
	if e, ok := connectors.AsError(err); ok && e.RetryAfterMs > 0 {
		wait = max(wait, time.Duration(e.RetryAfterMs)*time.Millisecond)
	}
	return wait
}

// canWait reports whether a retry may wait d: not longer than MaxRetryWait,
// and not up to or past ctx's deadline, which would leave the retry no time.
func (p *Policy) canWait(ctx context.Context, c ProviderConfig, d time.Duration) bool {
	if c.MaxRetryWait > 0 && d > c.MaxRetryWait {
		return false
	}
	if deadline, ok := ctx.Deadline(); ok && !p.now().Add(d).Before(deadline) {
		return false
	}
	return true
}

func sleepContext(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

type nopObserver struct{}

func (nopObserver) Retry(connectors.Vertical)                        {}
func (nopObserver) BreakerState(connectors.Vertical, string, string) {}
func (nopObserver) Rejected(connectors.Vertical, string)             {}
