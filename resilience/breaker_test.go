package resilience

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/plaza-gateway/plaza/connectors"
)

// breakerConfig trips after three failures. Tests that must see the open
// state before the cool-down ends use a long one, so a slow machine cannot
// turn the breaker half-open under them.
func breakerConfig(cooldown time.Duration) ProviderConfig {
	c := testConfig()
	c.BreakerConsecutiveFailures = 3
	c.BreakerCooldown = cooldown
	return c
}

const (
	shortCooldown = 30 * time.Millisecond
	longCooldown  = time.Hour
)

func TestBreaker(t *testing.T) {
	t.Run("opens after N consecutive failures and then fails fast without calling fn", func(t *testing.T) {
		p, rec := newTestPolicy(t, breakerConfig(longCooldown))
		tripBreaker(t, p, 2)
		mustStatus(t, p, "DEGRADED")
		tripBreaker(t, p, 1)
		fn, calls := script()
		err := p.Do(context.Background(), vert, prov, true, fn)
		if calls.Load() != 0 {
			t.Fatal("fn was called through an open breaker")
		}
		mustKind(t, err, connectors.KindUnavailable)
		if e, _ := connectors.AsError(err); e.Message != "circuit open" || e.Provider != prov || !errors.Is(err, ErrCircuitOpen) {
			t.Fatalf("err = %#v, want %q from %q wrapping ErrCircuitOpen", e, "circuit open", prov)
		}
		if rec.rejections(ReasonCircuitOpen) != 1 || rec.retries != 0 {
			t.Fatalf("rejections = %v, retries = %d; want one circuit_open and no retry", rec.rejected, rec.retries)
		}
	})

	t.Run("closes when the half-open probe succeeds", func(t *testing.T) {
		p, rec := newTestPolicy(t, breakerConfig(shortCooldown))
		tripBreaker(t, p, 3)
		waitStatus(t, p, "DEGRADED")
		fn, calls := script()
		if err := p.Do(context.Background(), vert, prov, false, fn); err != nil || calls.Load() != 1 {
			t.Fatalf("probe: err = %v, calls = %d", err, calls.Load())
		}
		mustStatus(t, p, "ACTIVE")
		want := []string{"closed->open", "open->half-open", "half-open->closed"}
		if !slices.Equal(rec.states, want) {
			t.Fatalf("transitions = %v, want %v", rec.states, want)
		}
		if n := rec.logLines("changed state"); n != len(want) {
			t.Fatalf("logged %d transitions, want each of %d once", n, len(want))
		}
	})

	t.Run("reopens when the half-open probe fails", func(t *testing.T) {
		p, rec := newTestPolicy(t, breakerConfig(shortCooldown))
		tripBreaker(t, p, 3)
		waitStatus(t, p, "DEGRADED")
		tripBreaker(t, p, 1)
		want := []string{"closed->open", "open->half-open", "half-open->open"}
		if !slices.Equal(rec.states, want) {
			t.Fatalf("transitions = %v, want %v", rec.states, want)
		}
	})

	t.Run("lets only BreakerProbes calls through while half-open", func(t *testing.T) {
		p, _ := newTestPolicy(t, breakerConfig(shortCooldown))
		tripBreaker(t, p, 3)
		waitStatus(t, p, "DEGRADED")
		probing, release := make(chan struct{}), make(chan struct{})
		go func() {
			_ = p.Do(context.Background(), vert, prov, false, func(context.Context) error {
				close(probing)
				<-release
				return nil
			})
		}()
		<-probing
		fn, calls := script()
		err := p.Do(context.Background(), vert, prov, false, fn)
		close(release)
		if calls.Load() != 0 || !errors.Is(err, ErrCircuitOpen) {
			t.Fatalf("second call during the probe: err = %v, calls = %d; want it refused", err, calls.Load())
		}
	})

	t.Run("opens on the failure ratio once there are enough outcomes", func(t *testing.T) {
		c := testConfig()
		c.BreakerFailureRatio = 0.5
		c.BreakerMinRequests = 10
		p, _ := newTestPolicy(t, c)
		ok, _ := script()
		bad, _ := failing(kindErr(connectors.KindProvider))
		for i := range 10 {
			// Not open before the tenth outcome, whatever the ratio.
			want := connectors.StatusDegraded
			if i < 2 {
				want = connectors.StatusActive
			}
			mustStatus(t, p, want)
			if i%2 == 0 {
				_ = p.Do(context.Background(), vert, prov, false, ok)
			} else {
				_ = p.Do(context.Background(), vert, prov, false, bad)
			}
		}
		mustStatus(t, p, "UNAVAILABLE")
	})

	t.Run("does not count client errors or rate limiting as failures", func(t *testing.T) {
		c := breakerConfig(longCooldown)
		c.BreakerConsecutiveFailures = 1
		p, _ := newTestPolicy(t, c)
		for _, k := range []connectors.Kind{
			connectors.KindNotFound, connectors.KindInvalid, connectors.KindConflict,
			connectors.KindUnauthenticated, connectors.KindForbidden, connectors.KindRateLimited,
		} {
			fn, calls := failing(kindErr(k))
			err := p.Do(context.Background(), vert, prov, false, fn)
			mustKind(t, err, k)
			if calls.Load() != 1 {
				t.Fatalf("%s: calls = %d, want 1", k, calls.Load())
			}
		}
		mustStatus(t, p, "ACTIVE")
	})

	t.Run("counts a panicking call as a failure and lets the panic through", func(t *testing.T) {
		c := breakerConfig(longCooldown)
		c.BreakerConsecutiveFailures = 1
		p, _ := newTestPolicy(t, c)
		func() {
			defer func() {
				if recover() == nil {
					t.Fatal("panic was swallowed")
				}
			}()
			_ = p.Do(context.Background(), vert, prov, false, func(context.Context) error { panic("connector bug") })
		}()
		mustStatus(t, p, "UNAVAILABLE")
	})
}

func TestStatus(t *testing.T) {
	t.Run("reports an unknown provider ACTIVE", func(t *testing.T) {
		p, _ := newTestPolicy(t, breakerConfig(shortCooldown))
		if got := p.Status("nobody"); got != "ACTIVE" {
			t.Fatalf("Status = %s", got)
		}
	})

	t.Run("goes ACTIVE, UNAVAILABLE, DEGRADED (half-open), ACTIVE", func(t *testing.T) {
		p, _ := newTestPolicy(t, breakerConfig(200*time.Millisecond))
		ok, _ := script()
		_ = p.Do(context.Background(), vert, prov, true, ok)
		mustStatus(t, p, "ACTIVE")
		tripBreaker(t, p, 3)
		mustStatus(t, p, "UNAVAILABLE")
		waitStatus(t, p, "DEGRADED")
		_ = p.Do(context.Background(), vert, prov, true, ok)
		mustStatus(t, p, "ACTIVE")
	})

	t.Run("reports DEGRADED while recent calls failed but the breaker is closed", func(t *testing.T) {
		p, _ := newTestPolicy(t, breakerConfig(shortCooldown))
		tripBreaker(t, p, 1)
		mustStatus(t, p, "DEGRADED")
	})
}
