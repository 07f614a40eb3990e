package resilience

import (
	"context"
	"errors"
	"fmt"
	"go/build"
	"runtime"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/plaza-gateway/plaza/connectors"
)

// TestProviderState checks that a provider's breaker, bulkhead and budget
// exist only while it is being called: built on its first call, held for
// at most MaxProviders providers, dropped when idle.
func TestProviderState(t *testing.T) {
	ok := func(context.Context) error { return nil }
	bounded := func(c ProviderConfig, max int, idle time.Duration, opts ...Option) (*Policy, *recorder) {
		rec := &recorder{}
		return New(Config{Defaults: c, MaxProviders: max, IdleAfter: idle}, append([]Option{WithObserver(rec), WithSleep(rec.sleep)}, opts...)...), rec
	}

	t.Run("builds nothing for the providers in its settings until they are called", func(t *testing.T) {
		settings := map[string]ProviderConfig{}
		for i := range 1000 {
			settings[fmt.Sprint("p-", i)] = ProviderConfig{Timeout: time.Second}
		}
		p := New(Config{Defaults: testConfig(), Providers: settings})
		p.SetProviders(settings)
		if n := p.Providers(); n != 0 {
			t.Fatalf("holds %d providers before any call, want 0", n)
		}
		_ = p.Do(context.Background(), vert, "p-7", true, ok)
		if n := p.Providers(); n != 1 || p.Settings("p-7").Timeout != time.Second {
			t.Fatalf("after one call: holds %d, timeout %s; want 1 and the provider's own 1s", n, p.Settings("p-7").Timeout)
		}
	})

	t.Run("holds at most MaxProviders after 10^5 providers are called once each", func(t *testing.T) {
		p, _ := bounded(testConfig(), 1000, 0)
		for i := range 100_000 {
			_ = p.Do(context.Background(), vert, "p-"+strconv.Itoa(i), true, ok)
		}
		if n := p.Providers(); n > 1000 {
			t.Fatalf("holds %d providers, want at most 1000", n)
		}
	})

	t.Run("drops an idle provider, whose next call starts with a closed breaker", func(t *testing.T) {
		c := breakerConfig(longCooldown)
		c.BreakerConsecutiveFailures = 1
		now := time.Unix(1_700_000_000, 0)
		p, _ := bounded(c, 100, time.Minute, WithClock(func() time.Time { return now }))
		tripBreaker(t, p, 1)
		mustStatus(t, p, connectors.StatusUnavailable)
		now = now.Add(2 * time.Minute)
		_ = p.Do(context.Background(), vert, "another", true, ok) // the call that sweeps
		mustStatus(t, p, connectors.StatusActive)
		if got := p.Breakers(); len(got) != 1 || got[0].Open != 0 {
			t.Fatalf("Breakers = %+v, want the dropped open breaker uncounted", got)
		}
		fn, calls := script()
		if err := p.Do(context.Background(), vert, prov, true, fn); err != nil || calls.Load() != 1 {
			t.Fatalf("next call: err = %v, calls = %d; want it to run", err, calls.Load())
		}
	})

	t.Run("keeps the state of a provider with a call in flight, so its bulkhead still counts it", func(t *testing.T) {
		c := bulkheadConfig(10 * time.Millisecond)
		c.MaxConcurrent = 1
		p, _ := bounded(c, 1, 0)
		release, done := occupy(t, p, 1)
		for i := range 10 {
			_ = p.Do(context.Background(), vert, fmt.Sprint("other-", i), true, ok)
		}
		err := p.Do(context.Background(), vert, prov, true, ok)
		release()
		if !errors.Is(err, ErrAtCapacity) {
			t.Fatalf("second call while one is in flight: err = %v, want the bulkhead full", err)
		}
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	})

	t.Run("counts open and half-open breakers per vertical, and uncounts providers whose settings changed", func(t *testing.T) {
		c := breakerConfig(longCooldown)
		c.BreakerConsecutiveFailures = 1
		p, rec := bounded(c, 100, 0)
		fail, _ := failing(kindErr(connectors.KindUnavailable))
		for _, call := range []struct {
			v  connectors.Vertical
			id string
		}{{connectors.VerticalGrocery, "g1"}, {connectors.VerticalGrocery, "g2"}, {connectors.VerticalLegal, "l1"}} {
			_ = p.Do(context.Background(), call.v, call.id, false, fail)
		}
		want := []BreakerCount{{Vertical: connectors.VerticalGrocery, Open: 2}, {Vertical: connectors.VerticalLegal, Open: 1}}
		if got := p.Breakers(); !slices.Equal(got, want) {
			t.Fatalf("Breakers = %+v, want %+v", got, want)
		}
		if len(rec.states) != 3 {
			t.Fatalf("observed transitions %v, want three closed->open", rec.states)
		}
		p.SetProviders(map[string]ProviderConfig{"g1": {Timeout: 2 * time.Second}})
		want[0].Open = 1
		if got := p.Breakers(); !slices.Equal(got, want) {
			t.Fatalf("after g1's settings changed: Breakers = %+v, want %+v", got, want)
		}
	})
}

// TestNoGatewayImport keeps the layering: the policy implements
// gateway.Policy (policy_contract_test.go checks it) without importing the
// gateway.
func TestNoGatewayImport(t *testing.T) {
	pkg, err := build.ImportDir(".", 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, imp := range pkg.Imports {
		if imp == "github.com/plaza-gateway/plaza/gateway" {
			t.Fatal("package resilience imports the gateway; define what it needs where it is used (connectors.Status)")
		}
	}
}

// BenchmarkProviderState reports the heap one provider's state takes
// (breaker, bulkhead of 64, retry budget, cache entry): what
// Config.MaxProviders multiplies.
func BenchmarkProviderState(b *testing.B) {
	ok := func(context.Context) error { return nil }
	p := New(Config{Defaults: DefaultProviderConfig(), MaxProviders: b.N + 1})
	ids := make([]string, b.N)
	for i := range ids {
		ids[i] = "provider-" + strconv.Itoa(i)
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	b.ResetTimer()
	for _, id := range ids {
		_ = p.Do(context.Background(), vert, id, true, ok)
	}
	b.StopTimer()
	runtime.GC()
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(int64(after.HeapAlloc)-int64(before.HeapAlloc))/float64(b.N), "B/provider")
	runtime.KeepAlive(p)
}
