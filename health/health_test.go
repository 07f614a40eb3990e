package health_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/plaza-gateway/plaza/health"
)

func TestProbe(t *testing.T) {
	t.Run("is ok before the first check", func(t *testing.T) {
		p := health.NewProbe(func(context.Context) error { return errors.New("never run") }, 0, 0)
		if st := p.Status(); st.State != health.StateOK {
			t.Fatalf("%+v", st)
		}
	})
	t.Run("a failed check is down with its reason, a passing one ok again", func(t *testing.T) {
		var fail atomic.Bool
		fail.Store(true)
		p := health.NewProbe(func(context.Context) error {
			if fail.Load() {
				return errors.New("dial tcp 127.0.0.1:1: connect: connection refused")
			}
			return nil
		}, 0, 0)
		if st := p.Check(context.Background()); st.State != health.StateDown || st.Reason != "dial tcp 127.0.0.1:1: connect: connection refused" {
			t.Fatalf("%+v", st)
		}
		if ok, reason := p.Healthy(); ok || reason == "" {
			t.Fatalf("Healthy() = %v, %q", ok, reason)
		}
		fail.Store(false)
		if st := p.Check(context.Background()); st.State != health.StateOK || st.Reason != "" {
			t.Fatalf("%+v", st)
		}
	})
	t.Run("a check that outlasts the timeout is down", func(t *testing.T) {
		p := health.NewProbe(func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }, 0, 20*time.Millisecond)
		if st := p.Check(context.Background()); st.State != health.StateDown || st.Reason != context.DeadlineExceeded.Error() {
			t.Fatalf("%+v", st)
		}
	})
	t.Run("runs in the background until its context ends", func(t *testing.T) {
		var checks atomic.Int64
		p := health.NewProbe(func(context.Context) error { checks.Add(1); return nil }, 5*time.Millisecond, 0)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { p.Run(ctx); close(done) }()
		for deadline := time.Now().Add(5 * time.Second); checks.Load() < 3; time.Sleep(5 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("%d checks in 5s", checks.Load())
			}
		}
		cancel()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatal("Run did not return after its context ended")
		}
	})
}
