// Package gctune sets the Go garbage collector for a gateway process when
// the operator has not: a higher GOGC, bounded by a soft memory limit.
//
// A gateway's live heap is small (the requests in progress, which api's
// admission bound caps, plus the in-process cache tier) and it allocates at
// a high rate, so with the runtime's default GOGC=100 the collector ran
// about a fifth of the CPU of a list query at full load. GOGC=200 halves the
// collections (the list-of-50 query on one core: 699 -> 838..865 req/s, peak
// RSS 51 -> 66 MiB at 64 connections). The soft memory limit keeps that
// from growing the process without bound: near it the collector runs more
// often (never more than about half the CPU, the runtime's own cap) and
// returns free memory to the system.
//
// GOGC and GOMEMLIMIT, when set, win: the runtime has applied them already.
//
// The defaults are for the requests and caches: Follow keeps long-lived
// state that grows with the deployment (the provider directory's snapshot,
// some 150 MB at 10^6 providers) from counting against them.
package gctune

import (
	"math"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync/atomic"
)

// DefaultGCPercent is GOGC when the environment does not set it.
const DefaultGCPercent = 200

// Settings are what Apply left in effect, for the startup log.
type Settings struct {
	GCPercent   int
	GCSource    string // "GOGC", "default"
	MemoryLimit int64  // bytes; math.MaxInt64 means none
	LimitSource string // "GOMEMLIMIT", "cgroup", "default"
}

// cgroupMemoryMax is the cgroup v2 memory limit of the process's container.
var cgroupMemoryMax = "/sys/fs/cgroup/memory.max"

// Apply sets GOGC and the soft memory limit unless getenv has them. The
// default limit is 90% of the container's cgroup limit when there is one,
// else 32 MiB plus 48 MiB per CPU the process may use (GOMAXPROCS): room for
// the base process, the in-process cache and the requests admission lets
// run at once (api.DefaultMaxInFlight per CPU).
func Apply(getenv func(string) string) Settings {
	s := Settings{GCPercent: DefaultGCPercent, GCSource: "default", MemoryLimit: math.MaxInt64}
	if v := getenv("GOGC"); v != "" {
		s.GCSource = "GOGC"
		s.GCPercent = debug.SetGCPercent(-1)
		debug.SetGCPercent(s.GCPercent)
	} else {
		debug.SetGCPercent(DefaultGCPercent)
	}
	switch {
	case getenv("GOMEMLIMIT") != "":
		s.MemoryLimit, s.LimitSource = debug.SetMemoryLimit(-1), "GOMEMLIMIT"
		return s
	case cgroupLimit() > 0:
		s.MemoryLimit, s.LimitSource = cgroupLimit()/10*9, "cgroup"
	default:
		s.MemoryLimit, s.LimitSource = (32+48*int64(runtime.GOMAXPROCS(0)))<<20, "default"
	}
	debug.SetMemoryLimit(s.MemoryLimit)
	return s
}

// cgroupLimit returns the cgroup v2 memory limit in bytes, or 0 when there
// is none ("max") or no cgroup v2.
func cgroupLimit() int64 {
	b, err := os.ReadFile(cgroupMemoryMax)
	if err != nil {
		return 0
	}
	n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	if err != nil || n <= 0 {
		return 0
	}
	return n
}

// Follow keeps the defaults Apply chose from counting long-lived state
// (longLived: its bytes, such as the provider directory's snapshot; nil:
// none) against the requests, updating them after every collection until
// stop is called:
//   - the default GOGC applies to the heap beyond that state: with a live
//     heap of L bytes, S of them long-lived, the collector runs after
//     GOGC% of L-S more are allocated, not GOGC% of L;
//   - the default soft memory limit is the budget plus that state.
//
// So at 10^6 providers the collector runs as often as at 10 and reuses as
// much memory, instead of letting the heap grow by 2x a 150 MB snapshot
// between collections (issue 14: product detail p50 at 10^6 providers was
// 1.3-1.4x the same at 10, from allocating on fresh pages), and the
// default 128 MiB limit does not sit below the live heap, where the
// collector would run without pause. An operator's GOGC, GOMEMLIMIT or
// cgroup limit is left alone.
//
// longLived should err low, never high: the heap beyond it is the few MB
// the requests hold, the difference of two large numbers, so an estimate 5%
// above a 160 MB snapshot left the requests nothing to pace by (minPaced)
// and the collector ran 2.4x as often at 10^6 providers as at 10 (issue 14,
// BenchmarkDirectoryEndToEnd); one a few percent low only makes it run a
// little less often.
func Follow(s Settings, longLived func() int64) (stop func()) {
	if longLived == nil || (s.GCSource != "default" && s.LimitSource != "default") {
		return func() {}
	}
	f := &follower{s: s, longLived: longLived}
	f.sample = []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	f.update()
	f.arm()
	return func() { f.stopped.Store(true) }
}

// minPaced is the least heap Follow paces by (the runtime's own minimum
// heap is 4 MB).
const minPaced = 4 << 20

type follower struct {
	s         Settings
	longLived func() int64
	stopped   atomic.Bool
	// Used only by update, which runs on the goroutine that runs cleanups
	// (and once in Follow, before the first is armed).
	sample []metrics.Sample
}

// arm schedules an update after the next collection: a cleanup on an
// object nothing references runs once a cycle has found it unreachable.
func (f *follower) arm() {
	runtime.AddCleanup(new([16]byte), func(f *follower) {
		if f.stopped.Load() {
			return
		}
		f.update()
		f.arm()
	}, f)
}

func (f *follower) update() {
	metrics.Read(f.sample)
	if f.sample[0].Value.Kind() != metrics.KindUint64 {
		return
	}
	live := max(int64(f.sample[0].Value.Uint64()), 1)
	state := max(f.longLived(), 0)
	// Set every time (a lock each, once a collection), not only on a
	// change: nothing else may have set them since.
	if f.s.GCSource == "default" && f.s.GCPercent > 0 {
		debug.SetGCPercent(int(max(int64(f.s.GCPercent)*max(live-state, minPaced)/live, 1)))
	}
	if f.s.LimitSource == "default" {
		debug.SetMemoryLimit(f.s.MemoryLimit + state)
	}
}
