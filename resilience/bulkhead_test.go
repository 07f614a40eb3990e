package resilience

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/plaza-gateway/plaza/connectors"
)

// occupy starts n calls that hold their bulkhead slots until release is
// closed, and returns once all of them are inside fn.
func occupy(t *testing.T, p *Policy, n int) (release func(), done <-chan error) {
	t.Helper()
	started, hold := make(chan struct{}), make(chan struct{})
	errs := make(chan error, n)
	for range n {
		go func() {
			errs <- p.Do(context.Background(), vert, prov, true, func(context.Context) error {
				started <- struct{}{}
				<-hold
				return nil
			})
		}()
	}
	for range n {
		<-started
	}
	return sync.OnceFunc(func() { close(hold) }), errs
}

func bulkheadConfig(queue time.Duration) ProviderConfig {
	c := testConfig()
	c.MaxConcurrent = 2
	c.QueueTimeout = queue
	return c
}

func TestBulkhead(t *testing.T) {
	t.Run("rejects a third call after the queue timeout and admits one once a slot frees", func(t *testing.T) {
		p, rec := newTestPolicy(t, bulkheadConfig(30*time.Millisecond))
		release, done := occupy(t, p, 2)
		defer release()

		fn, calls := script()
		start := time.Now()
		err := p.Do(context.Background(), vert, prov, true, fn)
		waited := time.Since(start)
		mustKind(t, err, connectors.KindUnavailable)
		if e, _ := connectors.AsError(err); e.Message != "provider at capacity" || !errors.Is(err, ErrAtCapacity) {
			t.Fatalf("err = %v, want provider at capacity", err)
		}
		if calls.Load() != 0 || waited < 30*time.Millisecond || waited > time.Second {
			t.Fatalf("calls = %d after %s; want none after about 30ms", calls.Load(), waited)
		}
		if rec.rejections(ReasonAtCapacity) != 1 || rec.retries != 0 {
			t.Fatalf("rejections = %v, retries = %d; want one at_capacity and no retry", rec.rejected, rec.retries)
		}

		release()
		for range 2 {
			if err := <-done; err != nil {
				t.Fatalf("held call: %v", err)
			}
		}
		if err := p.Do(context.Background(), vert, prov, true, fn); err != nil || calls.Load() != 1 {
			t.Fatalf("after release: err = %v, calls = %d", err, calls.Load())
		}
	})

	t.Run("admits a queued call when a slot frees within the queue timeout", func(t *testing.T) {
		p, _ := newTestPolicy(t, bulkheadConfig(5*time.Second))
		release, _ := occupy(t, p, 2)
		time.AfterFunc(10*time.Millisecond, release)
		fn, calls := script()
		if err := p.Do(context.Background(), vert, prov, true, fn); err != nil || calls.Load() != 1 {
			t.Fatalf("err = %v, calls = %d; want the queued call to run", err, calls.Load())
		}
	})

	t.Run("stops queueing at the caller's deadline", func(t *testing.T) {
		p, _ := newTestPolicy(t, bulkheadConfig(5*time.Second))
		release, _ := occupy(t, p, 2)
		defer release()
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		defer cancel()
		start := time.Now()
		fn, _ := script()
		err := p.Do(ctx, vert, prov, true, fn)
		if !errors.Is(err, ErrAtCapacity) || time.Since(start) > time.Second {
			t.Fatalf("err = %v after %s; want at capacity at the 20ms deadline", err, time.Since(start))
		}
	})

	t.Run("does not count a full bulkhead against the breaker", func(t *testing.T) {
		c := bulkheadConfig(time.Millisecond)
		c.BreakerConsecutiveFailures = 1
		p, _ := newTestPolicy(t, c)
		release, _ := occupy(t, p, 2)
		defer release()
		fn, _ := script()
		_ = p.Do(context.Background(), vert, prov, true, fn)
		mustStatus(t, p, "ACTIVE")
	})

	t.Run("releases the slot when fn panics", func(t *testing.T) {
		c := bulkheadConfig(time.Millisecond)
		c.MaxConcurrent = 1
		p, _ := newTestPolicy(t, c)
		func() {
			defer func() { _ = recover() }()
			_ = p.Do(context.Background(), vert, prov, true, func(context.Context) error { panic("bug") })
		}()
		fn, calls := script()
		if err := p.Do(context.Background(), vert, prov, true, fn); err != nil || calls.Load() != 1 {
			t.Fatalf("err = %v, calls = %d; want the slot back", err, calls.Load())
		}
	})
}
