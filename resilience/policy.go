// Package resilience is the gateway's per-provider call policy: a timeout per
// attempt, a bulkhead capping calls in flight, a circuit breaker, and
// jittered, budgeted retries for reads. It implements gateway.Policy and
// reports provider health for gateway.WithStatus:
//
//	p := resilience.New(cfg, resilience.WithObserver(o), resilience.WithLogger(log))
//	gw := gateway.New(reg, gateway.WithPolicy(p), gateway.WithStatus(p.Status))
package resilience

import (
	"context"
	"errors"
	"log/slog"
	"maps"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/sony/gobreaker/v2"

	"github.com/plaza-gateway/plaza/connectors"
	"github.com/plaza-gateway/plaza/gateway"
)

var _ gateway.Policy = (*Policy)(nil)

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

// Observer is told what the policy does, for metrics. Its methods are called
// synchronously on the call path (BreakerState under the breaker's lock), so
// they must be quick and must not call back into the Policy.
type Observer interface {
	// Retry is called before each retry attempt.
	Retry(provider string)
	// BreakerState is called once per breaker transition, with the states
	// "closed", "open" and "half-open".
	BreakerState(provider, from, to string)
	// Rejected is called when the policy refuses a call or a retry.
	Rejected(provider, reason string)
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

	mu        sync.RWMutex
	cfg       Config
	providers map[string]*provider
}

// provider is one provider's state. It is replaced as a whole when its
// settings change; calls in flight finish on the state they started with.
type provider struct {
	id       string
	cfg      ProviderConfig
	breaker  *breaker
	bulkhead bulkhead
	budget   *retryBudget
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
	p.cfg = Config{Defaults: cfg.Defaults}
	p.providers = map[string]*provider{}
	p.SetProviders(cfg.Providers)
	return p
}

// SetProviders applies new per-provider settings, e.g. after a registry
// reload. Providers whose effective settings are unchanged keep their state
// (breaker, budget, calls in flight); changed ones start afresh; providers
// missing from settings are dropped and fall back to the defaults (with
// fresh state) if they are called again.
func (p *Policy) SetProviders(settings map[string]ProviderConfig) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cfg.Providers = maps.Clone(settings)
	next := make(map[string]*provider, len(settings))
	for id := range settings {
		c := p.cfg.resolve(id)
		if old, ok := p.providers[id]; ok && old.cfg == c {
			next[id] = old
			continue
		}
		next[id] = p.newProvider(id, c)
	}
	p.providers = next
}

// Settings returns the effective settings of provider id.
func (p *Policy) Settings(id string) ProviderConfig {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if pr, ok := p.providers[id]; ok {
		return pr.cfg
	}
	return p.cfg.resolve(id)
}

func (p *Policy) newProvider(id string, c ProviderConfig) *provider {
	return &provider{
		id:       id,
		cfg:      c,
		breaker:  newBreaker(id, c, p.breakerChanged),
		bulkhead: newBulkhead(c.MaxConcurrent),
		budget:   newRetryBudget(c, p.now()),
	}
}

func (p *Policy) breakerChanged(id string, from, to gobreaker.State) {
	p.log.Info("provider circuit breaker changed state",
		slog.String("provider", id), slog.String("from", from.String()), slog.String("to", to.String()))
	p.obs.BreakerState(id, from.String(), to.String())
}

func (p *Policy) lookup(id string) *provider {
	p.mu.RLock()
	pr := p.providers[id]
	p.mu.RUnlock()
	return pr
}

func (p *Policy) provider(id string) *provider {
	if pr := p.lookup(id); pr != nil {
		return pr
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	pr, ok := p.providers[id]
	if !ok {
		pr = p.newProvider(id, p.cfg.resolve(id))
		p.providers[id] = pr
	}
	return pr
}

// Status reports provider's health: UNAVAILABLE while its breaker is open,
// DEGRADED while half-open or when calls failed within the breaker window,
// ACTIVE otherwise and for providers the policy has not seen.
func (p *Policy) Status(id string) gateway.ProviderStatus {
	pr := p.lookup(id)
	if pr == nil {
		return gateway.StatusActive
	}
	switch pr.breaker.State() { // State also rolls the window forward.
	case gobreaker.StateOpen:
		return gateway.StatusUnavailable
	case gobreaker.StateHalfOpen:
		return gateway.StatusDegraded
	}
	if pr.breaker.Counts().TotalFailures > 0 {
		return gateway.StatusDegraded
	}
	return gateway.StatusActive
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
func (p *Policy) Do(ctx context.Context, id string, read bool, fn func(context.Context) error) error {
	pr := p.provider(id)
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
			p.obs.Rejected(id, ReasonRetryBudget)
			return err
		}
		if p.sleep(ctx, wait) != nil {
			return err
		}
		p.obs.Retry(id)
	}
}

// attempt runs fn once through the bulkhead, the breaker and the attempt
// timeout. refused is true when the policy did not run fn.
func (p *Policy) attempt(ctx context.Context, pr *provider, fn func(context.Context) error) (refused bool, err error) {
	if !pr.bulkhead.acquire(ctx, pr.cfg.QueueTimeout) {
		p.obs.Rejected(pr.id, ReasonAtCapacity)
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
		p.obs.Rejected(pr.id, ReasonCircuitOpen)
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

func (nopObserver) Retry(string)                        {}
func (nopObserver) BreakerState(string, string, string) {}
func (nopObserver) Rejected(string, string)             {}
