package resilience

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/plaza-gateway/plaza/connectors"
)

func TestTimeouts(t *testing.T) {
	blockUntilDone := func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }

	t.Run("ends an attempt after the provider's timeout and reports PROVIDER_TIMEOUT", func(t *testing.T) {
		c := testConfig()
		c.Timeout = 20 * time.Millisecond
		p, _ := newTestPolicy(t, c)
		start := time.Now()
		err := p.Do(context.Background(), vert, prov, false, blockUntilDone)
		mustKind(t, err, connectors.KindTimeout)
		if e, _ := connectors.AsError(err); e.Provider != prov || !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("error = %#v, want provider %q wrapping the deadline", e, prov)
		}
		if d := time.Since(start); d < 20*time.Millisecond || d > time.Second {
			t.Fatalf("took %s, want about 20ms", d)
		}
	})

	t.Run("gives each retry a fresh attempt timeout", func(t *testing.T) {
		c := testConfig()
		c.Timeout = 10 * time.Millisecond
		c.RetryTimeouts = true
		p, _ := newTestPolicy(t, c)
		var deadlines []time.Time
		err := p.Do(context.Background(), vert, prov, true, func(ctx context.Context) error {
			d, _ := ctx.Deadline()
			deadlines = append(deadlines, d)
			if len(deadlines) < 3 {
				return blockUntilDone(ctx)
			}
			return nil
		})
		if err != nil || len(deadlines) != 3 || !deadlines[2].After(deadlines[0]) {
			t.Fatalf("err = %v, deadlines = %v; want success on the third attempt with a later deadline", err, deadlines)
		}
	})

	t.Run("keeps the caller's shorter deadline and does not blame the provider", func(t *testing.T) {
		c := testConfig()
		c.Timeout = time.Minute
		c.BreakerConsecutiveFailures = 1
		p, _ := newTestPolicy(t, c)
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		defer cancel()
		parent, _ := ctx.Deadline()
		var got time.Time
		err := p.Do(ctx, vert, prov, true, func(ctx context.Context) error {
			got, _ = ctx.Deadline()
			return blockUntilDone(ctx)
		})
		if !got.Equal(parent) {
			t.Fatalf("attempt deadline = %v, want the caller's %v", got, parent)
		}
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err = %v, want the caller's deadline", err)
		}
		mustStatus(t, p, "ACTIVE")
	})

	t.Run("does not count the caller's cancellation against the breaker", func(t *testing.T) {
		c := testConfig()
		c.BreakerConsecutiveFailures = 1
		p, _ := newTestPolicy(t, c)
		ctx, cancel := context.WithCancel(context.Background())
		err := p.Do(ctx, vert, prov, true, func(ctx context.Context) error {
			cancel()
			return connectors.Wrap(ctx.Err(), connectors.KindUnavailable, "request aborted")
		})
		mustKind(t, err, connectors.KindUnavailable)
		mustStatus(t, p, "ACTIVE")
		fn, calls := script()
		if err := p.Do(context.Background(), vert, prov, true, fn); err != nil || calls.Load() != 1 {
			t.Fatalf("next call: err = %v, calls = %d; want it to run", err, calls.Load())
		}
	})
}

func TestRetries(t *testing.T) {
	retryableProvider := &connectors.Error{Kind: connectors.KindProvider, Message: "502", Retryable: true}
	cases := []struct {
		name       string
		read       bool
		maxRetries int
		errs       []error
		wantCalls  int32
		wantKind   connectors.Kind // "" for success
	}{
		{"retries a read that was unavailable until it succeeds", true, 2,
			[]error{kindErr(connectors.KindUnavailable), kindErr(connectors.KindUnavailable)}, 3, ""},
		{"does not retry a read that timed out (it already waited a whole timeout)", true, 2,
			[]error{kindErr(connectors.KindTimeout)}, 1, connectors.KindTimeout},
		{"retries a rate-limited read", true, 2, []error{kindErr(connectors.KindRateLimited)}, 2, ""},
		{"retries a provider error the provider marked retryable", true, 2, []error{retryableProvider}, 2, ""},
		{"does not retry a plain provider error", true, 2, []error{kindErr(connectors.KindProvider)}, 1, connectors.KindProvider},
		{"does not retry an untyped error", true, 2, []error{errors.New("boom")}, 1, connectors.KindInternal},
		{"never retries a mutation", false, 2, []error{kindErr(connectors.KindUnavailable)}, 1, connectors.KindUnavailable},
		{"never retries NOT_FOUND even when marked retryable", true, 2,
			[]error{&connectors.Error{Kind: connectors.KindNotFound, Retryable: true}}, 1, connectors.KindNotFound},
		{"never retries BAD_USER_INPUT", true, 2, []error{kindErr(connectors.KindInvalid)}, 1, connectors.KindInvalid},
		{"never retries CONFLICT", true, 2, []error{kindErr(connectors.KindConflict)}, 1, connectors.KindConflict},
		{"gives up after MaxRetries and returns the last error", true, 2,
			[]error{kindErr(connectors.KindUnavailable), kindErr(connectors.KindUnavailable), kindErr(connectors.KindUnavailable), nil}, 3, connectors.KindUnavailable},
		{"does not retry when MaxRetries is negative", true, -1, []error{kindErr(connectors.KindUnavailable)}, 1, connectors.KindUnavailable},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := testConfig()
			c.MaxRetries = tc.maxRetries
			p, rec := newTestPolicy(t, c)
			fn, calls := script(tc.errs...)
			err := p.Do(context.Background(), vert, prov, tc.read, fn)
			if calls.Load() != tc.wantCalls {
				t.Fatalf("calls = %d, want %d", calls.Load(), tc.wantCalls)
			}
			if tc.wantKind == "" && err != nil {
				t.Fatalf("err = %v, want success", err)
			}
			if tc.wantKind != "" {
				mustKind(t, err, tc.wantKind)
			}
			if rec.retries != int(tc.wantCalls)-1 || len(rec.recordedSleeps()) != int(tc.wantCalls)-1 {
				t.Fatalf("observed %d retries and %d sleeps, want %d", rec.retries, len(rec.sleeps), tc.wantCalls-1)
			}
		})
	}
}

func TestBackoff(t *testing.T) {
	c := testConfig()
	c.MaxRetries = 5
	c.BaseBackoff = 10 * time.Millisecond
	c.MaxBackoff = 40 * time.Millisecond
	c.MinRetriesPerSecond = 1e6 // this test is about waits, not the budget
	ceilings := []time.Duration{10, 20, 40, 40, 40}
	for i := range ceilings {
		ceilings[i] *= time.Millisecond
	}
	unavailable := kindErr(connectors.KindUnavailable)

	t.Run("doubles the ceiling on each retry up to MaxBackoff", func(t *testing.T) {
		top := func(n int64) int64 { return n - 1 }
		p, rec := newTestPolicy(t, c, WithRand(top))
		fn, _ := failing(unavailable)
		_ = p.Do(context.Background(), vert, prov, true, fn)
		got := rec.recordedSleeps()
		if len(got) != len(ceilings) {
			t.Fatalf("sleeps = %v, want %v", got, ceilings)
		}
		for i := range got {
			if got[i] != ceilings[i] {
				t.Fatalf("sleeps = %v, want %v", got, ceilings)
			}
		}
	})

	t.Run("draws every wait uniformly below its ceiling", func(t *testing.T) {
		src := rand.New(rand.NewPCG(1, 2))
		var mu sync.Mutex
		randN := func(n int64) int64 { mu.Lock(); defer mu.Unlock(); return src.Int64N(n) }
		p, rec := newTestPolicy(t, c, WithRand(randN))
		fn, _ := failing(unavailable)
		const calls = 200
		for range calls {
			_ = p.Do(context.Background(), vert, prov, true, fn)
		}
		got := rec.recordedSleeps()
		if len(got) != calls*len(ceilings) {
			t.Fatalf("recorded %d sleeps, want %d", len(got), calls*len(ceilings))
		}
		var sum [5]time.Duration
		for i, d := range got {
			k := i % len(ceilings)
			if d < 0 || d > ceilings[k] {
				t.Fatalf("retry %d slept %s, outside [0, %s]", k+1, d, ceilings[k])
			}
			sum[k] += d
		}
		for k, s := range sum {
			// Full jitter averages half the ceiling; 200 draws land well within ±20%.
			mean, want := s/calls, ceilings[k]/2
			if mean < want*8/10 || mean > want*12/10 {
				t.Fatalf("retry %d: mean wait %s, want about %s", k+1, mean, want)
			}
		}
	})
}

func TestRetryAfter(t *testing.T) {
	rateLimited := func(ms int64) error {
		return &connectors.Error{Kind: connectors.KindRateLimited, Message: "slow down", RetryAfterMs: ms}
	}
	cases := []struct {
		name       string
		retryAfter int64
		deadline   time.Duration // 0: none
		sleepErr   error
		wantCalls  int32
		wantSleeps []time.Duration
	}{
		{"waits at least Retry-After when it is longer than the backoff", 300, 0, nil, 2, []time.Duration{300 * time.Millisecond}},
		{"waits the backoff when it is longer than Retry-After", 1, 0, nil, 2, []time.Duration{10 * time.Millisecond}},
		{"waits Retry-After when it ends before the deadline", 300, 5 * time.Second, nil, 2, []time.Duration{300 * time.Millisecond}},
		{"does not retry when Retry-After would pass the deadline", 500, 100 * time.Millisecond, nil, 1, nil},
		{"does not retry when Retry-After exceeds MaxRetryWait", 5000, 0, nil, 1, nil},
		{"abandons the retry when the context ends while waiting", 300, 0, context.Canceled, 1, []time.Duration{300 * time.Millisecond}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, rec := newTestPolicy(t, testConfig(), WithRand(func(n int64) int64 { return n - 1 }))
			var slept []time.Duration
			p.sleep = func(_ context.Context, d time.Duration) error { slept = append(slept, d); return tc.sleepErr }
			ctx := context.Background()
			if tc.deadline > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tc.deadline)
				defer cancel()
			}
			fn, calls := script(rateLimited(tc.retryAfter))
			err := p.Do(ctx, vert, prov, true, fn)
			if calls.Load() != tc.wantCalls || len(slept) != len(tc.wantSleeps) {
				t.Fatalf("calls = %d, sleeps = %v; want %d and %v", calls.Load(), slept, tc.wantCalls, tc.wantSleeps)
			}
			for i := range slept {
				if slept[i] != tc.wantSleeps[i] {
					t.Fatalf("sleeps = %v, want %v", slept, tc.wantSleeps)
				}
			}
			if tc.wantCalls == 1 {
				mustKind(t, err, connectors.KindRateLimited)
			}
			if rec.retries != int(tc.wantCalls)-1 {
				t.Fatalf("observed %d retries, want %d", rec.retries, tc.wantCalls-1)
			}
		})
	}
}

func TestRetryBudget(t *testing.T) {
	c := testConfig()
	c.MaxRetries = 5
	now := time.Unix(1_700_000_000, 0)
	clock := func() time.Time { return now }
	unavailable := kindErr(connectors.KindUnavailable)

	t.Run("1000 reads failing retryably retry exactly 10% of calls plus the 3-token floor", func(t *testing.T) {
		p, rec := newTestPolicy(t, c, WithClock(clock))
		fn, calls := failing(unavailable)
		const n = 1000
		for range n {
			_ = p.Do(context.Background(), vert, prov, true, fn)
		}
		// 1000 calls x 0.1 earned + 3 from the floor (the clock stands still,
		// so the floor never refills) = 103.
		const bound = n/10 + 3
		if rec.retries != bound || calls.Load() != n+bound {
			t.Fatalf("retries = %d, provider calls = %d; want %d and %d", rec.retries, calls.Load(), bound, n+bound)
		}
		if rec.rejections(ReasonRetryBudget) == 0 {
			t.Fatal("no retry_budget rejections observed")
		}
	})

	t.Run("lets a cold provider retry at once", func(t *testing.T) {
		p, _ := newTestPolicy(t, c, WithClock(clock))
		fn, calls := script(unavailable)
		if err := p.Do(context.Background(), vert, prov, true, fn); err != nil || calls.Load() != 2 {
			t.Fatalf("err = %v, calls = %d; want success on the retry", err, calls.Load())
		}
	})

	t.Run("refills the floor with time and never beyond one second's worth", func(t *testing.T) {
		local := now
		p, rec := newTestPolicy(t, c, WithClock(func() time.Time { return local }))
		fn, _ := failing(unavailable)
		_ = p.Do(context.Background(), vert, prov, true, fn) // spends the 3-token floor
		// Ten seconds would refill 30 tokens without the cap (and are well
		// within IdleAfter, so the provider's state is kept).
		local = local.Add(10 * time.Second)
		_ = p.Do(context.Background(), vert, prov, true, fn)
		_ = p.Do(context.Background(), vert, prov, true, fn)
		if rec.retries != 6 {
			t.Fatalf("retries = %d, want 3 + 3 after the refill", rec.retries)
		}
	})
}

func TestSetProviders(t *testing.T) {
	c := testConfig()
	c.BreakerConsecutiveFailures = 1
	c.BreakerCooldown = time.Hour
	open := func(p *Policy, id string) {
		fn, _ := failing(kindErr(connectors.KindUnavailable))
		_ = p.Do(context.Background(), vert, id, false, fn)
	}

	t.Run("keeps the state of providers whose settings did not change", func(t *testing.T) {
		p, _ := newTestPolicy(t, c)
		p.SetProviders(map[string]ProviderConfig{prov: {}})
		open(p, prov)
		p.SetProviders(map[string]ProviderConfig{prov: {}, "legal-b": {}})
		mustStatus(t, p, "UNAVAILABLE")
	})

	t.Run("starts afresh a provider whose settings changed", func(t *testing.T) {
		p, _ := newTestPolicy(t, c)
		p.SetProviders(map[string]ProviderConfig{prov: {}})
		open(p, prov)
		p.SetProviders(map[string]ProviderConfig{prov: {Timeout: 2 * time.Second}})
		mustStatus(t, p, "ACTIVE")
		if got := p.Settings(prov).Timeout; got != 2*time.Second {
			t.Fatalf("Timeout = %s, want the new 2s", got)
		}
	})

	t.Run("drops removed providers, which fall back to the defaults", func(t *testing.T) {
		p, _ := newTestPolicy(t, c)
		p.SetProviders(map[string]ProviderConfig{prov: {Timeout: 2 * time.Second}})
		open(p, prov)
		p.SetProviders(map[string]ProviderConfig{"legal-b": {}})
		mustStatus(t, p, "ACTIVE")
		if got := p.Settings(prov).Timeout; got != c.Timeout {
			t.Fatalf("Timeout = %s, want the default %s", got, c.Timeout)
		}
	})
}

func TestSetProviderLookup(t *testing.T) {
	c := testConfig()
	c.BreakerConsecutiveFailures = 1
	c.BreakerCooldown = time.Hour
	open := func(p *Policy, id string) {
		fn, _ := failing(kindErr(connectors.KindUnavailable))
		_ = p.Do(context.Background(), vert, id, false, fn)
	}
	lookup := func(m map[string]ProviderConfig) func(string) (ProviderConfig, bool) {
		return func(id string) (ProviderConfig, bool) { pc, ok := m[id]; return pc, ok }
	}

	t.Run("keeps the state of providers whose settings did not change", func(t *testing.T) {
		p, _ := newTestPolicy(t, c)
		p.SetProviderLookup(lookup(map[string]ProviderConfig{prov: {}}))
		open(p, prov)
		p.SetProviderLookup(lookup(map[string]ProviderConfig{prov: {}, "legal-b": {}}))
		mustStatus(t, p, "UNAVAILABLE")
		if err := p.Do(context.Background(), vert, prov, true, func(context.Context) error { return nil }); !errors.Is(err, ErrCircuitOpen) {
			t.Fatalf("a call after an unrelated change = %v, want the breaker still open", err)
		}
	})

	t.Run("starts afresh a provider whose settings changed, on its next call", func(t *testing.T) {
		p, _ := newTestPolicy(t, c)
		p.SetProviderLookup(lookup(map[string]ProviderConfig{prov: {}}))
		open(p, prov)
		p.SetProviderLookup(lookup(map[string]ProviderConfig{prov: {Timeout: 2 * time.Second}}))
		mustStatus(t, p, "ACTIVE")
		if got := p.Settings(prov).Timeout; got != 2*time.Second {
			t.Fatalf("Timeout = %s, want the new 2s", got)
		}
		if err := p.Do(context.Background(), vert, prov, true, func(context.Context) error { return nil }); err != nil {
			t.Fatalf("a call after its settings changed = %v, want a fresh breaker", err)
		}
	})

	t.Run("a provider the lookup does not know falls back to the defaults", func(t *testing.T) {
		p, _ := newTestPolicy(t, c)
		p.SetProviderLookup(lookup(map[string]ProviderConfig{prov: {Timeout: 2 * time.Second}}))
		open(p, prov)
		p.SetProviderLookup(lookup(nil))
		mustStatus(t, p, "ACTIVE")
		if got := p.Settings(prov).Timeout; got != c.Timeout {
			t.Fatalf("Timeout = %s, want the default %s", got, c.Timeout)
		}
	})
}

func TestSettings(t *testing.T) {
	defaults := ProviderConfig{Timeout: time.Second, MaxRetries: 4}
	p := New(Config{Defaults: defaults, Providers: map[string]ProviderConfig{
		"slow": {Timeout: 10 * time.Second, MaxRetries: -1},
	}})
	builtin := DefaultProviderConfig()
	cases := []struct {
		name, id string
		want     func(ProviderConfig) bool
	}{
		{"an override wins over the defaults", "slow", func(c ProviderConfig) bool { return c.Timeout == 10*time.Second && c.MaxRetries == -1 }},
		{"an override inherits the fields it leaves zero", "slow", func(c ProviderConfig) bool { return c.MaxConcurrent == builtin.MaxConcurrent }},
		{"an unknown provider gets Config.Defaults", "other", func(c ProviderConfig) bool { return c.Timeout == time.Second && c.MaxRetries == 4 }},
		{"zero defaults fall back to DefaultProviderConfig", "other", func(c ProviderConfig) bool { return c.BreakerCooldown == builtin.BreakerCooldown }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := p.Settings(tc.id); !tc.want(got) {
				t.Fatalf("Settings(%q) = %+v", tc.id, got)
			}
		})
	}
}
