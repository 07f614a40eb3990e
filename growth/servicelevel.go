package growth

import (
	"context"
	"errors"
	"fmt"
	"strconv"
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
}

// DefaultThresholds are the thresholds without configuration.
var DefaultThresholds = Thresholds{Window: 15 * time.Minute, MinCalls: 20, SlowCall: 2 * time.Second,
	WarningErrors: 0.02, DemotedErrors: 0.10, SuspendedErrors: 0.50, WarningSlow: 0.01, DemotedSlow: 0.05}

// SuspensionReason is the directory's reason for a service-level
// suspension.
const SuspensionReason = "service level"

// SuspensionActor records the job as the one who suspended.
const SuspensionActor = "service-level"

var severity = map[Level]int{LevelOK: 0, LevelWarning: 1, LevelDemoted: 2, LevelSuspended: 3}

// grade returns the state c deserves and why.
func (t Thresholds) grade(c Counters) (Level, string) {
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

// EvaluateLevels grades every provider that had calls in the window or is
// not OK, and records each change with its reason. A provider graded
// SUSPENDED is suspended in the directory (reason "service level"); it
// stays SUSPENDED whatever its counters until an operator's lift is
// approved. The cost follows the providers with traffic, not the
// directory. Run it under the job lock (RunLevels).
func (s *Service) EvaluateLevels(ctx context.Context) error {
	now := s.now().UTC()
	counters, err := s.store.CountersSince(ctx, now.Add(-s.levels.Window))
	if err != nil {
		return err
	}
	current, err := s.store.Levels(ctx)
	if err != nil {
		return err
	}
	providers := make(map[string]struct{}, len(counters)+len(current))
	for p := range counters {
		providers[p] = struct{}{}
	}
	for p := range current {
		providers[p] = struct{}{}
	}
	var errs []error
	for p := range providers {
		from := current[p]
		if from == "" {
			from = LevelOK
		}
		if from == LevelSuspended {
			continue // only an approved lift ends it
		}
		to, why := s.levels.grade(counters[p])
		if to == from {
			continue
		}
		if to == LevelSuspended {
			if _, err := s.dir.Transition(ctx, p, directory.Suspended, SuspensionActor, SuspensionReason); err != nil && !errors.Is(err, directory.ErrConflict) {
				errs = append(errs, fmt.Errorf("suspend %s: %w", p, err))
				continue
			}
		}
		if severity[to] < severity[from] {
			why = "recovered: " + why
		}
		if err := s.store.SetLevel(ctx, Transition{Provider: p, From: from, To: to, Reason: why, At: now}); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
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
// demoted-errors=0.1,suspended-errors=0.5,warning-slow=0.01,demoted-slow=0.05`
// (any subset; the rest keep DefaultThresholds' values). Each severity's
// rate must exceed the one below it.
func ParseThresholds(spec string) (Thresholds, error) {
	t := DefaultThresholds
	err := eachSetting(spec, func(name, value string) error {
		var err error
		switch name {
		case "window", "slow-call":
			var d time.Duration
			if d, err = time.ParseDuration(value); err == nil && d <= 0 {
				err = errors.New("not positive")
			}
			if name == "window" {
				t.Window = d
			} else {
				t.SlowCall = d
			}
		case "min-calls":
			t.MinCalls, err = strconv.ParseInt(value, 10, 64)
			if err == nil && t.MinCalls < 1 {
				err = errors.New("below 1")
			}
		case "warning-errors", "demoted-errors", "suspended-errors", "warning-slow", "demoted-slow":
			var r float64
			if r, err = strconv.ParseFloat(value, 64); err == nil && (r <= 0 || r > 1) {
				err = errors.New("not in (0, 1]")
			}
			*map[string]*float64{"warning-errors": &t.WarningErrors, "demoted-errors": &t.DemotedErrors, "suspended-errors": &t.SuspendedErrors,
				"warning-slow": &t.WarningSlow, "demoted-slow": &t.DemotedSlow}[name] = r
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
	if !(t.WarningErrors < t.DemotedErrors && t.DemotedErrors < t.SuspendedErrors && t.WarningSlow < t.DemotedSlow) {
		return Thresholds{}, errors.New("each state's rate must be above the one before it (warning < demoted < suspended)")
	}
	return t, nil
}
