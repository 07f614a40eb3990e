package recommend

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// ParamStore shares fitted parameters between gateway instances, and lets
// one instance fit at a time. MemoryParamStore (one process) and
// RedisParamStore (every instance on one Redis) implement it.
type ParamStore interface {
	// Load returns the stored parameters; ok is false when none are stored.
	Load(ctx context.Context) (p Params, ok bool, err error)
	// Save stores p for every instance.
	Save(ctx context.Context, p Params) error
	// TryLock takes the fitting lock for at most ttl. ok is false when
	// another fitter holds it; release gives it back early.
	TryLock(ctx context.Context, ttl time.Duration) (release func(), ok bool, err error)
}

// History returns the events to fit on, with Time in [from, to), and the
// item metadata known for them.
type History func(ctx context.Context, from, to time.Time) ([]Event, []Item, error)

// RefitConfig bounds the periodic refit.
type RefitConfig struct {
	// Every is how often an instance tries to refit (default 6h). Sync is
	// how often it reads parameters another instance stored (default 1m).
	Every time.Duration
	Sync  time.Duration
	// Window is how much history a fit reads (default 28 days), MaxEvents
	// the most recent events it keeps of it (default 500,000), Timeout how
	// long one fit may run (default 2m; the lock lasts as long).
	Window    time.Duration
	MaxEvents int
	Timeout   time.Duration
	// Fit steers the fit itself (seed, validation share, ...).
	Fit FitOptions
}

func (c RefitConfig) withDefaults() RefitConfig {
	orDefault(&c.Every, 6*time.Hour)
	orDefault(&c.Sync, time.Minute)
	orDefault(&c.Window, 28*24*time.Hour)
	orDefault(&c.MaxEvents, 500_000)
	orDefault(&c.Timeout, 2*time.Minute)
	return c
}

// Refitter keeps an engine's parameters fitted to the gateway's own recent
// history: on start and every Every, the instance that wins the store's
// lock fits on a bounded window and stores the result if it validates at
// least as well as the parameters in use; every instance applies what the
// store holds. Until a fit succeeds the engine keeps what it has.
type Refitter struct {
	engine  *Engine
	store   ParamStore
	history History
	cfg     RefitConfig
	log     *slog.Logger
	now     func() time.Time
}

// NewRefitter returns a refitter for engine. log may be nil.
func NewRefitter(engine *Engine, store ParamStore, history History, cfg RefitConfig, log *slog.Logger) *Refitter {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Refitter{engine: engine, store: store, history: history, cfg: cfg.withDefaults(), log: log, now: time.Now}
}

// Run syncs and refits until ctx ends, then returns nil.
func (r *Refitter) Run(ctx context.Context) error {
	r.Sync(ctx)
	r.refitLogged(ctx)
	sync := time.NewTicker(r.cfg.Sync)
	defer sync.Stop()
	refit := time.NewTicker(r.cfg.Every)
	defer refit.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-sync.C:
			r.Sync(ctx)
		case <-refit.C:
			r.refitLogged(ctx)
		}
	}
}

func (r *Refitter) refitLogged(ctx context.Context) {
	p, adopted, err := r.Refit(ctx)
	switch {
	case errors.Is(err, ErrLocked):
		r.log.Debug("recommend: another instance is fitting")
	case errors.Is(err, ErrTooFewEvents):
		r.log.Info("recommend: too few events to fit yet; keeping the current parameters", "err", err)
	case err != nil:
		r.log.Warn("recommend: refit failed; keeping the current parameters", "err", err)
	case adopted:
		r.log.Info("recommend: new parameters", "hr", p.Fit.HR, "ndcg", p.Fit.NDCG, "users", p.Fit.ValidationUsers, "took", p.Fit.Duration)
	default:
		r.log.Info("recommend: refit validated worse; keeping the current parameters", "hr", p.Fit.HR, "previous_hr", deref(p.Fit.PreviousHR))
	}
}

func deref(f *float64) float64 {
	if f == nil {
		return 0
	}
	return *f
}

// Sync applies the stored parameters, if any. A store failure keeps what
// the engine has.
func (r *Refitter) Sync(ctx context.Context) {
	p, ok, err := r.store.Load(ctx)
	if err != nil {
		r.log.Warn("recommend: loading parameters", "err", err)
		return
	}
	if !ok {
		return
	}
	if err := r.engine.SetParams(p); err != nil {
		r.log.Warn("recommend: stored parameters rejected", "err", err)
	}
}

// ErrLocked is returned by Refit when another fitter holds the lock.
var ErrLocked = errors.New("recommend: another instance is fitting")

// Refit fits once under the store's lock, within Timeout, on the last
// Window of history (at most MaxEvents events). The result is stored and
// applied only when it validates at least as well as the parameters in use
// (scored on the same validation users); adopted says which happened.
func (r *Refitter) Refit(ctx context.Context) (p Params, adopted bool, err error) {
	ctx, cancel := context.WithTimeout(ctx, r.cfg.Timeout)
	defer cancel()
	release, ok, err := r.store.TryLock(ctx, r.cfg.Timeout)
	if err != nil {
		return Params{}, false, fmt.Errorf("recommend: refit lock: %w", err)
	}
	if !ok {
		return Params{}, false, ErrLocked
	}
	defer release()
	to := r.now()
	evs, items, err := r.history(ctx, to.Add(-r.cfg.Window), to)
	if err != nil {
		return Params{}, false, fmt.Errorf("recommend: refit history: %w", err)
	}
	if len(evs) > r.cfg.MaxEvents {
		evs = evs[len(evs)-r.cfg.MaxEvents:] // history comes oldest first
	}
	// The bar is what every instance serves: the stored parameters, or
	// this engine's own if none are stored (or the store cannot say).
	var previous *Params
	if stored, ok, err := r.store.Load(ctx); err == nil && ok && stored.Fit != nil {
		previous = &stored
	} else if cur := r.engine.Params(); cur.Fit != nil {
		previous = &cur
	}
	opt := r.cfg.Fit
	opt.Now = r.now
	p, err = Fit(ctx, r.engine.Config(), items, evs, opt, previous)
	if err != nil {
		return Params{}, false, err
	}
	if !p.Fit.Adopted {
		return p, false, nil
	}
	if err := r.store.Save(ctx, p); err != nil {
		return p, false, fmt.Errorf("recommend: storing parameters: %w", err)
	}
	return p, true, r.engine.SetParams(p)
}
