package growth

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/plaza-gateway/plaza/connectors"
	"github.com/plaza-gateway/plaza/directory"
)

// Thresholds grade a provider's service level over a rolling window. A
// rate is errors (failures and timeouts) or slow calls (over SlowCall, so a
// slow share above 1% means a p99 above SlowCall) per call.
type Thresholds struct {
	Window   time.Duration
	MinCalls int64 // fewer calls in the window grade nothing
	SlowCall time.Duration
	// Warning, Demoted and Suspended are the error rates from which each
	// state applies; the Slow ones the slow-call shares.
	WarningErrors, DemotedErrors, SuspendedErrors float64
	WarningSlow, DemotedSlow                      float64
	// Cancellations are graded over their own, longer window (orders are
	// fewer than calls), from MinOrders records changed in it: the share
	// cancelled from WarningCancels and DemotedCancels.
	CancelWindow                   time.Duration
	MinOrders                      int64
	WarningCancels, DemotedCancels float64
	// A catalogue that has not reached the supply index for StaleCatalog
	// warns, for DemotedCatalog demotes (a provider that never published
	// is not graded on it).
	StaleCatalog, DemotedCatalog time.Duration
	// FailedConformance is the state a failed last conformance run puts
	// the provider in (WARNING or DEMOTED) until a run passes.
	FailedConformance Level
}

// DefaultThresholds are the thresholds without configuration.
var DefaultThresholds = Thresholds{Window: 15 * time.Minute, MinCalls: 20, SlowCall: 2 * time.Second,
	WarningErrors: 0.02, DemotedErrors: 0.10, SuspendedErrors: 0.50, WarningSlow: 0.01, DemotedSlow: 0.05,
	CancelWindow: 24 * time.Hour, MinOrders: 10, WarningCancels: 0.10, DemotedCancels: 0.25,
	StaleCatalog: 48 * time.Hour, DemotedCatalog: 7 * 24 * time.Hour, FailedConformance: LevelDemoted}

// SuspensionReason is the directory's reason for a service-level
// suspension.
const SuspensionReason = "service level"

// SuspensionActor records the job as the one who suspended.
const SuspensionActor = "service-level"

var severity = map[Level]int{LevelOK: 0, LevelWarning: 1, LevelDemoted: 2, LevelSuspended: 3}

// Inputs are what one provider is graded on.
type Inputs struct {
	Calls  Counters
	Orders OrderCounts
	Facts  Facts
}

// grade returns the state in deserves at now and why: the most severe of
// its call, cancellation, catalogue and conformance grades, each reason
// with what to fix.
func (t Thresholds) grade(in Inputs, now time.Time) (Level, string) {
	level, why := t.gradeCalls(in.Calls)
	worse := func(l Level, reason string) {
		switch {
		case severity[l] > severity[level]:
			level, why = l, reason
		case severity[l] == severity[level] && l != LevelOK:
			why += "; " + reason
		}
	}
	if o := in.Orders; o.Orders >= t.MinOrders && o.Orders > 0 {
		rate := float64(o.Cancelled) / float64(o.Orders)
		what := fmt.Sprintf("cancellation rate %.1f%% (%d of %d orders in the last %s)", 100*rate, o.Cancelled, o.Orders, t.CancelWindow)
		switch {
		case rate >= t.DemotedCancels:
			worse(LevelDemoted, what+fmt.Sprintf("; fix: cancel fewer than %.0f%% of orders to leave DEMOTED", 100*t.DemotedCancels))
		case rate >= t.WarningCancels:
			worse(LevelWarning, what+fmt.Sprintf("; fix: cancel fewer than %.0f%% of orders", 100*t.WarningCancels))
		}
	}
	if at := in.Facts.CatalogAt; !at.IsZero() {
		age := now.Sub(at).Truncate(time.Minute)
		what := fmt.Sprintf("catalogue last reached the index %s ago", age)
		switch {
		case t.DemotedCatalog > 0 && age >= t.DemotedCatalog:
			worse(LevelDemoted, what+fmt.Sprintf("; fix: publish your catalogue (at least every %s)", t.StaleCatalog))
		case t.StaleCatalog > 0 && age >= t.StaleCatalog:
			worse(LevelWarning, what+fmt.Sprintf("; fix: publish your catalogue at least every %s", t.StaleCatalog))
		}
	}
	if in.Facts.Conformance == ConformanceFailed && t.FailedConformance != "" {
		worse(t.FailedConformance, fmt.Sprintf("the conformance run of %s failed; fix: pass the conformance kit (recertify)",
			in.Facts.ConformanceAt.Format(time.RFC3339)))
	}
	return level, why
}

// gradeCalls returns the state c deserves and why.
func (t Thresholds) gradeCalls(c Counters) (Level, string) {
	if c.Calls < t.MinCalls {
		return LevelOK, fmt.Sprintf("%d calls in the last %s (fewer than %d are not graded)", c.Calls, t.Window, t.MinCalls)
	}
	errs, slow := float64(c.Errors)/float64(c.Calls), float64(c.Slow)/float64(c.Calls)
	what := fmt.Sprintf("error and timeout rate %.1f%%, calls over %s %.1f%% (of %d calls in the last %s)", 100*errs, t.SlowCall, 100*slow, c.Calls, t.Window)
	switch {
	case errs >= t.SuspendedErrors:
		return LevelSuspended, what + fmt.Sprintf("; suspended from an error rate of %.0f%%", 100*t.SuspendedErrors)
	case errs >= t.DemotedErrors || slow >= t.DemotedSlow:
		return LevelDemoted, what + fmt.Sprintf("; fix: keep errors under %.0f%% and slow calls under %.0f%% to leave DEMOTED", 100*t.DemotedErrors, 100*t.DemotedSlow)
	case errs >= t.WarningErrors || slow >= t.WarningSlow:
		return LevelWarning, what + fmt.Sprintf("; fix: keep errors under %.0f%% and slow calls under %.0f%%", 100*t.WarningErrors, 100*t.WarningSlow)
	}
	return LevelOK, what
}

// EvaluateLevels grades the providers whose state may have changed, and
// records each change with its reason. A provider graded SUSPENDED is
// suspended in the directory (reason "service level"); it stays SUSPENDED
// whatever its counters until an operator's lift is approved.
//
// A run first expires the call minutes and order hours that left their
// windows, then grades every provider whose window changed since this
// Service's last run (new calls or orders, or buckets expired: the first
// run of a process grades every window, so changed thresholds apply to
// all), and the providers in trouble (not OK, a stale catalogue, a failed
// conformance run). Its cost follows the providers with activity since the
// last run and those in trouble, not the directory, nor the number of
// orders. Run it under the job lock (RunLevels).
func (s *Service) EvaluateLevels(ctx context.Context) error {
	now := s.now().UTC()
	if err := s.store.ExpireCounters(ctx, now.Add(-s.levels.Window), now.Add(-s.levels.CancelWindow)); err != nil {
		return err
	}
	stale := now.Add(-s.levels.StaleCatalog)
	if s.levels.StaleCatalog <= 0 {
		stale = time.Time{}
	}
	facts, err := s.store.TroubledFacts(ctx, stale)
	if err != nil {
		return err
	}
	current, err := s.store.Levels(ctx)
	if err != nil {
		return err
	}
	// troubled are graded whatever their window: time moves a catalogue's
	// age, a conformance run changes, a bad window ages out.
	troubled := make(map[string]bool, len(facts)+len(current))
	for p := range facts {
		troubled[p] = true
	}
	for p := range current {
		troubled[p] = true
	}
	// Grading reads no more than the windows: the moves are made after the
	// read, so the read's connection is never held while another is
	// awaited (a pool shared with the other jobs would deadlock on it).
	var moves []Transition
	grade := func(p string, w Window) error {
		delete(troubled, p)
		if t, ok := s.move(p, current[p], Inputs{Calls: w.Calls, Orders: w.Orders, Facts: facts[p]}, now); ok {
			moves = append(moves, t)
		}
		return nil
	}
	s.markMu.Lock()
	defer s.markMu.Unlock()
	mark, err := s.store.ChangedWindows(ctx, s.mark, grade)
	if err != nil {
		return err
	}
	rest := make([]string, 0, len(troubled))
	for p := range troubled {
		rest = append(rest, p)
	}
	windows, err := s.store.Windows(ctx, rest)
	if err != nil {
		return err
	}
	for _, p := range rest {
		_ = grade(p, windows[p])
	}
	var errs []error
	for _, t := range moves {
		if err := s.record(ctx, t); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) == 0 {
		s.mark = mark // a provider that failed is read again next run
	}
	return errors.Join(errs...)
}

// move grades provider p, now at level from ("" is OK), on in, and
// returns the transition to record if its state changes.
func (s *Service) move(p string, from Level, in Inputs, now time.Time) (Transition, bool) {
	if from == "" {
		from = LevelOK
	}
	if from == LevelSuspended {
		return Transition{}, false // only an approved lift ends it
	}
	to, why := s.levels.grade(in, now)
	if to == from {
		return Transition{}, false
	}
	if severity[to] < severity[from] {
		why = "recovered: " + why
	}
	return Transition{Provider: p, From: from, To: to, Reason: why, At: now}, true
}

// record makes move t: a suspension in the directory first, then the
// state and its transition.
func (s *Service) record(ctx context.Context, t Transition) error {
	if t.To == LevelSuspended {
		if _, err := s.dir.Transition(ctx, t.Provider, directory.Suspended, SuspensionActor, SuspensionReason); err != nil && !errors.Is(err, directory.ErrConflict) {
			return fmt.Errorf("suspend %s: %w", t.Provider, err)
		}
	}
	return s.store.SetLevel(ctx, t)
}

// RunLevels evaluates every interval while ctx lives, one instance at a
// time (the store's job lock); the others skip their turn.
func (s *Service) RunLevels(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if _, err := s.store.WithJobLock(ctx, s.EvaluateLevels); err != nil && ctx.Err() == nil {
			s.log.Warn("service levels: evaluation failed", "err", err)
		}
		// Every instance, job or not, reads the levels it ranks with.
		if err := s.RefreshLevels(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("service levels: refresh failed; ranking with the last levels read", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// DemotedPenalty is the share of its score a DEMOTED provider's items lose
// in search.
const DemotedPenalty = 0.5

// Penalty returns the share of its score provider's items lose in search:
// DemotedPenalty while DEMOTED, else 0. It reads this instance's copy of
// the levels (RefreshLevels), no I/O.
func (s *Service) Penalty(provider string) float64 {
	if m := s.demoted.Load(); m != nil && (*m)[provider] {
		return DemotedPenalty
	}
	return 0
}

// RefreshLevels reloads this instance's copy of the DEMOTED providers
// (bounded by the providers not OK, not by the directory).
func (s *Service) RefreshLevels(ctx context.Context) error {
	levels, err := s.store.Levels(ctx)
	if err != nil {
		return err
	}
	demoted := make(map[string]bool)
	for p, l := range levels {
		if l == LevelDemoted {
			demoted[p] = true
		}
	}
	s.demoted.Store(&demoted)
	return nil
}

// ServiceLevel is a provider's state with its recent transitions.
type ServiceLevel struct {
	Level       Level
	Since       time.Time
	Transitions []Transition
}

// ServiceLevel returns provider's state and its last 20 transitions.
func (s *Service) ServiceLevel(ctx context.Context, provider string) (ServiceLevel, error) {
	l, since, err := s.store.Level(ctx, provider)
	if err != nil {
		return ServiceLevel{}, err
	}
	ts, err := s.store.Transitions(ctx, provider, 20)
	return ServiceLevel{Level: l, Since: since, Transitions: ts}, err
}

// Counter aggregates call outcomes in process and adds them to the store
// every flush: one write per provider called in the interval, whatever the
// request rate. It is a gateway.Observer.
type Counter struct {
	mu       sync.Mutex
	pending  map[string]Counters
	slowCall time.Duration
	store    Store
	now      func() time.Time
}

// NewCounter returns a counter writing to store, slowCall being the
// latency bound of Thresholds.
func NewCounter(store Store, slowCall time.Duration, now func() time.Time) *Counter {
	if now == nil {
		now = time.Now
	}
	return &Counter{pending: map[string]Counters{}, slowCall: slowCall, store: store, now: now}
}

// ObserveCall implements gateway.Observer. Input errors (the caller's
// fault) are not the provider's.
func (c *Counter) ObserveCall(_ connectors.Vertical, provider, _ string, _ int, d time.Duration, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	cur := c.pending[provider]
	cur.Calls++
	if err != nil && connectors.KindOf(err) != connectors.KindInvalid && connectors.KindOf(err) != connectors.KindNotFound {
		cur.Errors++
	}
	if d > c.slowCall {
		cur.Slow++
	}
	c.pending[provider] = cur
}

// Flush writes what was counted since the last flush.
func (c *Counter) Flush(ctx context.Context) error {
	c.mu.Lock()
	batch := c.pending
	c.pending = make(map[string]Counters, len(batch))
	c.mu.Unlock()
	minute := c.now().UTC().Truncate(time.Minute)
	var errs []error
	for p, n := range batch {
		if err := c.store.AddCounters(ctx, p, minute, n); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Run flushes every interval while ctx lives, and once more at the end.
func (c *Counter) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			_ = c.Flush(context.Background())
			return
		case <-t.C:
			_ = c.Flush(ctx)
		}
	}
}

// ParseThresholds reads `window=15m,min-calls=20,slow-call=2s,warning-errors=0.02,
// demoted-errors=0.1,suspended-errors=0.5,warning-slow=0.01,demoted-slow=0.05,
// cancel-window=24h,min-orders=10,warning-cancels=0.1,demoted-cancels=0.25,
// stale-catalog=48h,demoted-catalog=168h,failed-conformance=DEMOTED` (any
// subset; the rest keep DefaultThresholds' values). Each severity's rate
// must exceed the one below it; stale-catalog=0 or demoted-catalog=0 turns
// that grade off, failed-conformance=OK the conformance grade.
func ParseThresholds(spec string) (Thresholds, error) {
	t := DefaultThresholds
	err := eachSetting(spec, func(name, value string) error {
		var err error
		switch name {
		case "window", "slow-call", "cancel-window":
			var d time.Duration
			if d, err = time.ParseDuration(value); err == nil && d <= 0 {
				err = errors.New("not positive")
			}
			*map[string]*time.Duration{"window": &t.Window, "slow-call": &t.SlowCall, "cancel-window": &t.CancelWindow}[name] = d
		case "stale-catalog", "demoted-catalog":
			var d time.Duration
			if d, err = time.ParseDuration(value); err == nil && d < 0 {
				err = errors.New("negative")
			}
			*map[string]*time.Duration{"stale-catalog": &t.StaleCatalog, "demoted-catalog": &t.DemotedCatalog}[name] = d
		case "min-calls", "min-orders":
			var n int64
			n, err = strconv.ParseInt(value, 10, 64)
			if err == nil && n < 1 {
				err = errors.New("below 1")
			}
			*map[string]*int64{"min-calls": &t.MinCalls, "min-orders": &t.MinOrders}[name] = n
		case "warning-errors", "demoted-errors", "suspended-errors", "warning-slow", "demoted-slow", "warning-cancels", "demoted-cancels":
			var r float64
			if r, err = strconv.ParseFloat(value, 64); err == nil && (r <= 0 || r > 1) {
				err = errors.New("not in (0, 1]")
			}
			*map[string]*float64{"warning-errors": &t.WarningErrors, "demoted-errors": &t.DemotedErrors, "suspended-errors": &t.SuspendedErrors,
				"warning-slow": &t.WarningSlow, "demoted-slow": &t.DemotedSlow, "warning-cancels": &t.WarningCancels,
				"demoted-cancels": &t.DemotedCancels}[name] = r
		case "failed-conformance":
			switch l := Level(strings.ToUpper(value)); l {
			case LevelOK, LevelWarning, LevelDemoted:
				t.FailedConformance = l
			default:
				err = errors.New("want OK, WARNING or DEMOTED")
			}
		default:
			return fmt.Errorf("unknown threshold %q", name)
		}
		if err != nil {
			return fmt.Errorf("%s=%s: %w", name, value, err)
		}
		return nil
	})
	if err != nil {
		return Thresholds{}, err
	}
	if !(t.WarningErrors < t.DemotedErrors && t.DemotedErrors < t.SuspendedErrors && t.WarningSlow < t.DemotedSlow &&
		t.WarningCancels < t.DemotedCancels) {
		return Thresholds{}, errors.New("each state's rate must be above the one before it (warning < demoted < suspended)")
	}
	if t.StaleCatalog > 0 && t.DemotedCatalog > 0 && t.DemotedCatalog <= t.StaleCatalog {
		return Thresholds{}, errors.New("demoted-catalog must be longer than stale-catalog")
	}
	return t, nil
}

// CatalogReached records in store that provider's catalogue reached the
// supply index at (a push or a pull applied): the freshness the service
// level grades. The catalogue ingest calls it once per applied batch
// (before the Service exists, hence a function of the store).
func CatalogReached(ctx context.Context, store Store, provider string, at time.Time) error {
	return store.SetCatalogAt(ctx, provider, at.UTC())
}

// ConformanceRun records in store the outcome of provider's conformance
// run (certification or recertification): a failure grades it
// Thresholds.FailedConformance until a run passes.
func ConformanceRun(ctx context.Context, store Store, provider string, passed bool, at time.Time) error {
	outcome := ConformanceFailed
	if passed {
		outcome = ConformancePassed
	}
	return store.SetConformance(ctx, provider, outcome, at.UTC())
}
