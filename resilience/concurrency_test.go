package resilience

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/plaza-gateway/plaza/connectors"
)

func TestConcurrentUse(t *testing.T) {
	before := runtime.NumGoroutine()

	c := testConfig()
	c.Timeout = 5 * time.Millisecond
	c.MaxConcurrent = 4
	c.QueueTimeout = time.Millisecond
	c.BreakerConsecutiveFailures = 5
	p, _ := newTestPolicy(t, c)
	p.sleep = sleepContext // real waits, so calls overlap

	providers := []string{"a", "b", "c"}
	errs := []error{
		nil, kindErr(connectors.KindUnavailable), kindErr(connectors.KindNotFound),
		kindErr(connectors.KindRateLimited), nil,
	}
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Go(func() {
			for i := range 50 {
				id := providers[(g+i)%len(providers)]
				err := errs[(g*7+i)%len(errs)]
				_ = p.Do(context.Background(), vert, id, i%2 == 0, func(ctx context.Context) error {
					if i%11 == 0 { // now and then, outlive the attempt timeout
						<-ctx.Done()
						return ctx.Err()
					}
					return err
				})
				_ = p.Status(id)
			}
		})
	}
	wg.Go(func() {
		for i := range 20 {
			p.SetProviders(map[string]ProviderConfig{
				"a": {}, "b": {MaxRetries: i%3 + 1}, fmt.Sprint("x", i): {},
			})
			time.Sleep(time.Millisecond)
		}
	})
	wg.Wait()

	// Timers and contexts of finished calls must not leave goroutines behind.
	deadline := time.Now().Add(2 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("goroutines: %d before, %d after\n%s", before, runtime.NumGoroutine(), buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// BenchmarkDo measures the policy's overhead on a call that succeeds at once.
func BenchmarkDo(b *testing.B) {
	ok := func(context.Context) error { return nil }
	for _, bc := range []struct {
		name    string
		timeout time.Duration
	}{
		{"with an attempt timeout", 3 * time.Second},
		{"without an attempt timeout", -1},
	} {
		c := DefaultProviderConfig()
		c.Timeout = bc.timeout
		p := New(Config{Defaults: c})
		ctx := context.Background()
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := p.Do(ctx, vert, prov, true, ok); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(bc.name+" in parallel", func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := p.Do(ctx, vert, prov, true, ok); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}
