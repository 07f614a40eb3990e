package main

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/plaza-gateway/plaza/api/apitest"
)

// BenchmarkCachedListConcurrent is BenchmarkCachedList's shipped wirings
// under make bench's concurrency (16 and 64 requests in flight; run it with
// -cpu 1, as the harness pins the gateway to one core), where what a
// sequential loop never shows happens: the L1 copies expiring under
// requests in flight, and the event writer competing with them for the
// core. Besides cpu-µs/op it reports the in-process tier's misses per
// query (l1-misses/op), the events the recorder dropped per query
// (dropped/op: what plaza_events_dropped_total counts) and, with Redis, the
// Redis commands per query (redis-cmds/op: cache reads, event writes and
// counters together, each XADD of the log's script counted).
//
// Requests posted in process never wait for a socket, so the writer gets
// the core far less often than behind a real listener, and drops most
// events here: dropped/op and the writer's share of cpu-µs/op are make
// bench's to measure (events.BenchmarkRecorderListViews measures the writer alone).
func BenchmarkCachedListConcurrent(b *testing.B) {
	vars := map[string]any{"ids": apitest.ProductIDs(b, 50)}
	for _, tier := range []string{"memory", "redis"} {
		for _, c := range []int{16, 64} {
			b.Run(tier+"/c="+strconv.Itoa(c), func(b *testing.B) {
				var env map[string]string
				var rdb *redis.Client
				if tier == "redis" {
					addr := benchRedisServer(b)
					env = map[string]string{"REDIS_URL": "redis://" + addr}
					rdb = redis.NewClient(&redis.Options{Addr: addr})
					b.Cleanup(func() { _ = rdb.Close() })
				}
				a := benchShipped(b, env)
				benchPostConcurrent(b, a, c, benchListDoc, vars, rdb)
			})
		}
	}
}

// benchPostConcurrent is benchPost with c requests in flight.
func benchPostConcurrent(b *testing.B, a *app, c int, doc string, vars map[string]any, rdb *redis.Client) {
	b.Helper()
	post := warmPoster(b, a.server, doc, vars)
	a.flushEvents()
	dropped0 := a.personal.Recorder.Dropped()
	misses0 := l1Misses(b, a)
	cmds0 := redisCommands(b, rdb)
	b.ReportAllocs()
	cpu0 := processCPU(b)
	b.SetParallelism(c)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if w := post(); w.Code != http.StatusOK {
				panic("status " + strconv.Itoa(w.Code))
			}
		}
	})
	a.flushEvents()
	b.StopTimer()
	b.ReportMetric(float64((processCPU(b)-cpu0).Microseconds())/float64(b.N), "cpu-µs/op")
	b.ReportMetric(float64(a.personal.Recorder.Dropped()-dropped0)/float64(b.N), "dropped/op")
	b.ReportMetric(float64(l1Misses(b, a)-misses0)/float64(b.N), "l1-misses/op")
	if rdb != nil {
		b.ReportMetric(float64(redisCommands(b, rdb)-cmds0)/float64(b.N), "redis-cmds/op")
	}
}

// redisCommands is the number of commands rdb's server has processed, less
// the INFO calls that read it; 0 without a server.
func redisCommands(tb testing.TB, rdb *redis.Client) int64 {
	if rdb == nil {
		return 0
	}
	info, err := rdb.Info(context.Background(), "commandstats").Result()
	if err != nil {
		tb.Fatal(err)
	}
	var n int64
	for line := range strings.Lines(info) {
		name, rest, ok := strings.Cut(strings.TrimSpace(line), ":calls=")
		if !ok || name == "cmdstat_info" {
			continue
		}
		calls, _, _ := strings.Cut(rest, ",")
		v, err := strconv.ParseInt(calls, 10, 64)
		if err != nil {
			tb.Fatal(err)
		}
		n += v
	}
	return n
}

// l1Misses is the misses of the in-process tier so far (the L1 in front of
// Redis, or the memory cache).
func l1Misses(tb testing.TB, a *app) float64 {
	mfs, err := a.metrics.Registry.Gather()
	if err != nil {
		tb.Fatal(err)
	}
	var n float64
	for _, mf := range mfs {
		if mf.GetName() != "plaza_cache_tier_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["result"] == "miss" && (labels["tier"] == "l1" || labels["tier"] == "memory") {
				n += m.GetCounter().GetValue()
			}
		}
	}
	return n
}
