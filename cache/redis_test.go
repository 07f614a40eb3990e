package cache

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/plaza-gateway/plaza/cache/cachetest"
)

// logBuffer collects log output from concurrent goroutines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) count(s string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return strings.Count(b.buf.String(), s)
}

func (b *logBuffer) logger() *slog.Logger { return slog.New(slog.NewTextHandler(b, nil)) }

func TestRedis(t *testing.T) {
	ctx := context.Background()

	t.Run("stores keys under its prefix with an expiry of TTL plus grace", func(t *testing.T) {
		client := cachetest.Redis(t)
		prefix := cachetest.Prefix(t)
		r := NewRedis(client, WithPrefix(prefix), WithTimeout(2*time.Second))
		t.Cleanup(r.Close)
		mustSet(t, r, Item{Key: "Product:p1:42", Value: []byte("v"), TTL: 10 * time.Second, Grace: 20 * time.Second})
		pttl, err := client.PTTL(ctx, prefix+"Product:p1:42").Result()
		if err != nil {
			t.Fatalf("PTTL: %v", err)
		}
		if pttl <= 29*time.Second || pttl > 30*time.Second {
			t.Errorf("PTTL = %v, want just under 30s", pttl)
		}
	})

	t.Run("uses plaza:v1: as the default prefix", func(t *testing.T) {
		if got := NewRedis(cachetest.Redis(t)).prefix; got != "plaza:v1:" {
			t.Errorf("default prefix = %q", got)
		}
	})

	t.Run("treats a value without its header as a miss and counts an error", func(t *testing.T) {
		client := cachetest.Redis(t)
		prefix := cachetest.Prefix(t)
		r := NewRedis(client, WithPrefix(prefix), WithTimeout(2*time.Second))
		t.Cleanup(r.Close)
		if err := client.Set(ctx, prefix+"foreign", "no header here, just bytes", time.Minute).Err(); err != nil {
			t.Fatal(err)
		}
		mustGet(t, r, []string{"foreign"}, Entry{})
		if s := r.Stats(); s.Errors != 1 || s.Misses != 1 {
			t.Errorf("Stats() = %+v, want 1 error and 1 miss", s)
		}
		if !r.Healthy() {
			t.Error("a bad value made Redis unhealthy")
		}
	})

	t.Run("answers misses without an error when Redis was never reachable, and says a delete did not happen", func(t *testing.T) {
		var logs logBuffer
		client := redis.NewClient(&redis.Options{Addr: fmt.Sprintf("127.0.0.1:%d", freePort(t))})
		t.Cleanup(func() { _ = client.Close() })
		r := NewRedis(client, WithLogger(logs.logger()), WithProbeInterval(20*time.Millisecond))
		t.Cleanup(r.Close)
		mustSet(t, r, item("a", "1"))
		mustGet(t, r, []string{"a", "b"}, Entry{}, Entry{})
		if err := r.DeleteMany(ctx, []string{"a"}); !errors.Is(err, ErrUnavailable) {
			t.Errorf("DeleteMany: %v, want ErrUnavailable: the old value may still be in Redis", err)
		}
		// go-redis retries the dial past the timeout, so the first calls time
		// out, and Redis is bypassed once the PING confirming it fails too.
		eventually(t, 5*time.Second, "Healthy() false with nothing listening", func() bool { return !r.Healthy() })
		failed := r.Stats().Errors
		mustGet(t, r, []string{"a"}, Entry{})
		time.Sleep(100 * time.Millisecond) // several probe intervals
		if n := logs.count("redis unavailable"); n != 1 {
			t.Errorf("logged %d unavailable lines over several probes, want 1:\n%s", n, logs.buf.String())
		}
		if s := r.Stats(); s.Bypassed == 0 || s.Errors != failed {
			t.Errorf("Stats() = %+v, want bypassed calls and no errors after the %d before bypassing", s, failed)
		}
	})

	t.Run("stops waiting for a hung Redis after its timeout, then recovers", func(t *testing.T) {
		srv := startRedisServer(t)
		client := redis.NewClient(&redis.Options{Addr: srv.addr()})
		t.Cleanup(func() { _ = client.Close() })
		const timeout = 100 * time.Millisecond
		r := NewRedis(client, WithPrefix("plaza:v1:"), WithTimeout(timeout), WithProbeInterval(20*time.Millisecond))
		t.Cleanup(r.Close)
		mustSet(t, r, item("a", "1"))

		srv.pause()
		t.Cleanup(srv.resume) // let kill's Wait return even if the test fails here
		start := time.Now()
		mustGet(t, r, []string{"a"}, Entry{})
		if took := time.Since(start); took > timeout+time.Second {
			t.Errorf("GetMany on a hung Redis took %v, want about %v", took, timeout)
		}
		// Bypassed once a PING, given the probe interval, fails too.
		eventually(t, 5*time.Second, "Healthy() false after a timeout and a failed PING", func() bool { return !r.Healthy() })

		srv.resume()
		eventually(t, 5*time.Second, "Healthy() after resuming", r.Healthy)
		eventually(t, 5*time.Second, "the value written before the pause is served again", func() bool {
			e, err := r.GetMany(ctx, []string{"a"})
			return err == nil && e[0].Found && string(e[0].Value) == "1"
		})
	})

	t.Run("keeps using a Redis that answers after a call timed out", func(t *testing.T) {
		// A saturated instance misses deadlines waiting for its own CPU; Redis
		// answering the PING that follows means it is slow, not down.
		srv := startRedisServer(t)
		client := redis.NewClient(&redis.Options{Addr: srv.addr()})
		t.Cleanup(func() { _ = client.Close() })
		var logs logBuffer
		r := NewRedis(client, WithPrefix("plaza:v1:"), WithTimeout(50*time.Millisecond), WithProbeInterval(5*time.Second),
			WithLogger(logs.logger()))
		t.Cleanup(r.Close)
		mustSet(t, r, item("a", "1"))

		srv.pause()
		t.Cleanup(srv.resume)
		mustGet(t, r, []string{"a"}, Entry{}) // the timeout: a miss
		srv.resume()
		eventually(t, 10*time.Second, "the PING confirming the timeout answered", func() bool { return !r.confirming.Load() })
		if !r.Healthy() || r.Stats().Bypassed != 0 || logs.count("redis unavailable") != 0 {
			t.Errorf("Healthy() = %v, Stats() = %+v after a timeout Redis answered the PING of:\n%s", r.Healthy(), r.Stats(), logs.buf.String())
		}
		mustGet(t, r, []string{"a"}, fresh("1"))
	})

	t.Run("keeps callers error-free while Redis is killed and restarted under load", func(t *testing.T) {
		testRedisKilledUnderLoad(t)
	})
}

func testRedisKilledUnderLoad(t *testing.T) {
	srv := startRedisServer(t)
	client := redis.NewClient(&redis.Options{Addr: srv.addr()})
	t.Cleanup(func() { _ = client.Close() })
	var logs logBuffer
	// 250 ms rather than the 50 ms default so a busy CI machine does not add spurious outages; the behaviour
	// under test is the same.
	const timeout = 250 * time.Millisecond
	r := NewRedis(client, WithTimeout(timeout), WithProbeInterval(25*time.Millisecond), WithLogger(logs.logger()))
	t.Cleanup(r.Close)

	var (
		errs, ops  atomic.Int64
		maxLatency atomic.Int64
		stop       = make(chan struct{})
		wg         sync.WaitGroup
	)
	ctx := context.Background()
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				keys := make([]string, 10)
				items := make([]Item, 10)
				for j := range keys {
					keys[j] = fmt.Sprintf("load:%d:%d", w, (i+j)%50)
					items[j] = item(keys[j], keys[j])
				}
				start := time.Now()
				if err := r.SetMany(ctx, items); err != nil {
					errs.Add(1)
				}
				entries, err := r.GetMany(ctx, keys)
				if err != nil || len(entries) != len(keys) {
					errs.Add(1)
				}
				for j, e := range entries {
					if e.Found && string(e.Value) != keys[j] {
						errs.Add(1)
					}
				}
				if i%5 == 0 {
					// A delete that could not happen says so (ErrUnavailable); nothing else is an error.
					if err := r.DeleteMany(ctx, keys[:2]); err != nil && !errors.Is(err, ErrUnavailable) {
						errs.Add(1)
					}
				}
				if d := int64(time.Since(start)); d > maxLatency.Load() {
					maxLatency.Store(d) // racy maximum, good enough for a bound
				}
				ops.Add(1)
			}
		}()
	}
	defer func() {
		select {
		case <-stop:
		default:
			close(stop)
		}
		wg.Wait()
	}()

	eventually(t, 5*time.Second, "hits before the kill", func() bool { return r.Stats().Hits > 100 })
	srv.kill()
	eventually(t, 2*time.Second, "Healthy() false after the kill", func() bool { return !r.Healthy() })
	bypassed := r.Stats().Bypassed
	opsBefore := ops.Load()
	time.Sleep(300 * time.Millisecond)
	if r.Stats().Bypassed <= bypassed || ops.Load() <= opsBefore {
		t.Errorf("while Redis was down: bypassed %d -> %d, ops %d -> %d; want both to grow",
			bypassed, r.Stats().Bypassed, opsBefore, ops.Load())
	}

	srv.start()
	eventually(t, 5*time.Second, "Healthy() true after the restart", r.Healthy)
	eventually(t, 5*time.Second, "values round-trip after the restart", func() bool {
		hits := r.Stats().Hits
		if err := r.SetMany(ctx, []Item{item("after", "restart")}); err != nil {
			return false
		}
		e, err := r.GetMany(ctx, []string{"after"})
		return err == nil && e[0].Found && string(e[0].Value) == "restart" && r.Stats().Hits > hits
	})
	close(stop)
	wg.Wait()

	if n := errs.Load(); n != 0 {
		t.Errorf("callers saw %d errors or wrong values; want 0", n)
	}
	if d := time.Duration(maxLatency.Load()); d > 3*timeout+time.Second {
		t.Errorf("slowest SetMany+GetMany+DeleteMany took %v, want it bounded by the timeout (%v each)", d, timeout)
	}
	down, up := logs.count("redis unavailable"), logs.count("redis recovered")
	if down < 1 || up < 1 || down > up+1 {
		t.Errorf("logged %d unavailable and %d recovered lines; want one of each per outage:\n%s", down, up, logs.buf.String())
	}
	t.Logf("%d operations, stats %+v, %d outage(s) logged", ops.Load(), r.Stats(), down)
}
