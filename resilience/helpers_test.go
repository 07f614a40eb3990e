package resilience

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/plaza-gateway/plaza/connectors"
)

const (
	prov = "grocery-a"
	vert = connectors.VerticalGrocery
)

// testConfig is quick to trip and quick to recover, with no bulkhead limit
// and breakers that stay out of the way unless a test turns them on.
func testConfig() ProviderConfig {
	return ProviderConfig{
		Timeout:                    time.Second,
		MaxConcurrent:              -1,
		QueueTimeout:               20 * time.Millisecond,
		MaxRetries:                 2,
		BaseBackoff:                10 * time.Millisecond,
		MaxBackoff:                 40 * time.Millisecond,
		MaxRetryWait:               time.Second,
		RetryRatio:                 0.1,
		MinRetriesPerSecond:        3,
		RetryBurst:                 10,
		BreakerConsecutiveFailures: -1,
		BreakerFailureRatio:        -1,
		BreakerMinRequests:         10,
		BreakerWindow:              time.Minute,
		BreakerCooldown:            30 * time.Millisecond,
		BreakerProbes:              1,
	}
}

// recorder is an Observer, a sleeper and a log sink in one.
type recorder struct {
	mu       sync.Mutex
	sleeps   []time.Duration
	retries  int
	rejected map[string]int
	states   []string
	log      bytes.Buffer
}

func (r *recorder) Retry(connectors.Vertical) { r.mu.Lock(); r.retries++; r.mu.Unlock() }
func (r *recorder) Rejected(_ connectors.Vertical, reason string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.rejected == nil {
		r.rejected = map[string]int{}
	}
	r.rejected[reason]++
}
func (r *recorder) BreakerState(_ connectors.Vertical, from, to string) {
	r.mu.Lock()
	r.states = append(r.states, from+"->"+to)
	r.mu.Unlock()
}

// sleep records d and returns at once, unless ctx is already done.
func (r *recorder) sleep(ctx context.Context, d time.Duration) error {
	r.mu.Lock()
	r.sleeps = append(r.sleeps, d)
	r.mu.Unlock()
	return ctx.Err()
}

func (r *recorder) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.log.Write(p)
}

func (r *recorder) logLines(substr string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Count(r.log.String(), substr)
}

func (r *recorder) recordedSleeps() []time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]time.Duration(nil), r.sleeps...)
}

func (r *recorder) rejections(reason string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.rejected[reason]
}

// newTestPolicy returns a policy over c for every provider, recording into rec.
func newTestPolicy(tb testing.TB, c ProviderConfig, opts ...Option) (*Policy, *recorder) {
	tb.Helper()
	rec := &recorder{}
	opts = append([]Option{
		WithObserver(rec),
		WithSleep(rec.sleep),
		WithLogger(slog.New(slog.NewTextHandler(rec, nil))),
	}, opts...)
	return New(Config{Defaults: c}, opts...), rec
}

// script returns a fn that returns errs in turn, then nil, and counts calls.
func script(errs ...error) (func(context.Context) error, *atomic.Int32) {
	var calls atomic.Int32
	return func(context.Context) error {
		n := int(calls.Add(1))
		if n <= len(errs) {
			return errs[n-1]
		}
		return nil
	}, &calls
}

func failing(err error) (func(context.Context) error, *atomic.Int32) {
	var calls atomic.Int32
	return func(context.Context) error { calls.Add(1); return err }, &calls
}

func kindErr(k connectors.Kind) *connectors.Error {
	return &connectors.Error{Kind: k, Message: strings.ToLower(string(k))}
}

func mustKind(tb testing.TB, err error, want connectors.Kind) {
	tb.Helper()
	if got := connectors.KindOf(err); got != want {
		tb.Fatalf("error kind = %q (%v), want %q", got, err, want)
	}
}

func mustStatus(tb testing.TB, p *Policy, want connectors.Status) {
	tb.Helper()
	if got := p.Status(prov); got != want {
		tb.Fatalf("Status = %s, want %s", got, want)
	}
}

// waitStatus polls until the breaker's real-time cool-down has passed.
// gobreaker reads time.Now itself, so this is the one place tests wait.
func waitStatus(tb testing.TB, p *Policy, want connectors.Status) {
	tb.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for p.Status(prov) != want {
		if time.Now().After(deadline) {
			tb.Fatalf("Status stuck at %s, want %s", p.Status(prov), want)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// tripBreaker makes n provider-side failures.
func tripBreaker(tb testing.TB, p *Policy, n int) {
	tb.Helper()
	fn, _ := failing(kindErr(connectors.KindUnavailable))
	for range n {
		_ = p.Do(context.Background(), vert, prov, false, fn)
	}
}
