package events_test

import (
	"context"
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/plaza-gateway/plaza/cache/cachetest"
	"github.com/plaza-gateway/plaza/events"
	"github.com/plaza-gateway/plaza/recommend"
	"github.com/plaza-gateway/plaza/traffic"
)

// BenchmarkRedisAppend is the writer's cost of storing the views of one
// list of 50 (anonymous, as the harness's requests are) in the Redis log.
func BenchmarkRedisAppend(b *testing.B) {
	ctx := context.Background()
	clk := newClock()
	rdb := cachetest.Redis(b)
	prefix := cachetest.Prefix(b)
	store, err := events.NewRedisStore(rdb, events.RedisConfig{Prefix: prefix, LogCap: 1000, Now: clk.Now})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { rdb.Del(ctx, prefix+"log") })
	evs := make([]events.Event, 50)
	for i := range evs {
		evs[i] = events.Event{Kind: events.KindView, Item: fmt.Sprintf("UHJvZHVjdDpmcmVzaGNhcnQ6cHJvZC0%03d", i), Provider: "freshcart",
			Name: "Organic whole milk 1 l", Category: "dairy", Vertical: "GROCERY", Time: clk.Now()}
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := store.Append(ctx, evs); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRecorderListViews is the writer's cost per cached list of 50 as
// the shipped gateway records it: the 50 anonymous views of one list, 40
// lists per flush (some 2,000 events, about one batch of the writer), into
// each store, with the recommendation engine and traffic sinks. cpu-µs/op
// is the process's CPU time per list (the benchmark goroutine waits in
// Flush, Redis's own time is not counted): run it with -cpu 1, as the
// gateway's writer shares one core with its requests.
func BenchmarkRecorderListViews(b *testing.B) {
	stores := map[string]func(b *testing.B) events.Store{
		"memory": func(*testing.B) events.Store { return events.NewMemoryStore(events.MemoryConfig{}) },
		"redis": func(b *testing.B) events.Store {
			rdb, prefix := cachetest.Redis(b), cachetest.Prefix(b)
			s, err := events.NewRedisStore(rdb, events.RedisConfig{Prefix: prefix, LogCap: 1000})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() {
				ctx := context.Background()
				keys, _ := rdb.Keys(ctx, prefix+"*").Result()
				if len(keys) > 0 {
					rdb.Del(ctx, keys...)
				}
			})
			return s
		},
	}
	for _, name := range []string{"memory", "redis"} {
		b.Run(name, func(b *testing.B) {
			ctx, cancel := context.WithCancel(context.Background())
			rec := events.NewRecorder(stores[name](b), events.WithSink(events.EngineSink(recommend.New(recommend.DefaultConfig()))),
				events.WithSink(traffic.NewCollector().Sink()))
			done := make(chan struct{})
			go func() { defer close(done); _ = rec.Run(ctx) }()
			b.Cleanup(func() { cancel(); <-done })
			ids := make([]string, 50)
			for i := range ids {
				ids[i] = fmt.Sprintf("UHJvZHVjdDpmcmVzaGNhcnQ6cHJvZC0%03d", i)
			}
			views := func() []events.Event {
				evs := make([]events.Event, len(ids))
				for i, id := range ids {
					evs[i] = events.Event{Kind: events.KindView, Item: id, Provider: "freshcart",
						Name: "Organic whole milk 1 l", Category: "dairy", Vertical: "GROCERY"}
				}
				return evs
			}
			b.ReportAllocs()
			cpu0 := processCPU(b)
			n := 0
			for b.Loop() {
				rec.RecordMany(views())
				if n++; n%40 == 0 {
					if err := rec.Flush(ctx); err != nil {
						b.Fatal(err)
					}
				}
			}
			if err := rec.Flush(ctx); err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64((processCPU(b)-cpu0).Microseconds())/float64(b.N), "cpu-µs/op")
			if d := rec.Dropped(); d > 0 {
				b.Fatalf("%d events dropped", d)
			}
		})
	}
}

// processCPU is the process's user + system CPU time so far.
func processCPU(tb testing.TB) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
