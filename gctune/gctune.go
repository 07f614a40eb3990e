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
// some 150 MB at 10^6 providers; the embedded supply index) from counting
// against the memory limit, and its pointer-free part from spacing the
// collections out.
package gctune

import (
	"math"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
)

// DefaultGCPercent is GOGC when the environment does not set it.
const DefaultGCPercent = 200

// DefaultMemProfileRate is runtime.MemProfileRate unless something set it
// before Apply (GODEBUG=memprofilerate=N, which the runtime applies at
// start): one heap-profile sample per 4 MiB allocated on average, not the
// runtime's 512 KiB. Each sample records the allocating goroutine's stack,
// some 60 frames deep in a list query: at the runtime's rate that walk was
// 1.6% of the gateway's CPU at 16 connections and 4.4% at 64 (list of 50,
// uncached, one core). A heap profile stays an unbiased estimate, from
// fewer samples.
const DefaultMemProfileRate = 4 << 20

// runtimeMemProfileRate is the runtime's own default of MemProfileRate.
const runtimeMemProfileRate = 512 << 10

// Settings are what Apply left in effect, for the startup log.
type Settings struct {
	GCPercent      int
	GCSource       string // "GOGC", "default"
	MemoryLimit    int64  // bytes; math.MaxInt64 means none
	LimitSource    string // "GOMEMLIMIT", "cgroup", "default"
	MemProfileRate int    // bytes per heap-profile sample
}

// cgroupMemoryMax is the cgroup v2 memory limit of the process's container.
var cgroupMemoryMax = "/sys/fs/cgroup/memory.max"

// Apply sets GOGC and the soft memory limit unless getenv has them. The
// default limit is 90% of the container's cgroup limit when there is one,
// else 32 MiB plus 48 MiB per CPU the process may use (GOMAXPROCS): room for
// the base process, the in-process cache and the requests admission lets
// run at once (api.DefaultMaxInFlight per CPU).
//
// It also sets runtime.MemProfileRate to DefaultMemProfileRate when it is
// still the runtime's default.
func Apply(getenv func(string) string) Settings {
	if runtime.MemProfileRate == runtimeMemProfileRate {
		runtime.MemProfileRate = DefaultMemProfileRate
	}
	s := Settings{GCPercent: DefaultGCPercent, GCSource: "default", MemoryLimit: math.MaxInt64,
		MemProfileRate: runtime.MemProfileRate}
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

// LongLived reports long-lived state's heap: all its bytes, and the part
// of them the collector scans (objects that hold pointers: map buckets,
// slices of pointers or strings, structs with strings). Both should err
// low rather than high, and be cheap: Follow calls it once a collection.
type LongLived func() (bytes, scan int64)

// Follow keeps the defaults Apply chose from counting long-lived state
// (the provider directory's snapshot, the embedded supply index; several
// are summed, nil ones skipped) against the requests, updating them after
// every collection until stop is called:
//   - the default GOGC applies to the heap beyond that state's unscanned
//     bytes: with a live heap of L bytes, U of them long-lived and holding
//     no pointer, the collector runs after GOGC% of L-U more are
//     allocated, not GOGC% of L;
//   - the default soft memory limit is the budget plus all that state,
//     the growth GOGC allows on its scanned part, and the memory the
//     runtime maps for its own use.
//
// Only unscanned bytes leave the pacing base because a collection costs
// its marking: a pointer-free arena of 160 MB (the directory's snapshot at
// 10^6 providers) costs a cycle next to nothing, so pacing by it would only
// let the heap grow by 2x 160 MB between collections and allocate on fresh
// pages (issue 14: product detail p50 at 10^6 providers 1.3-1.4x the same
// at 10). A pointer-heavy index, by contrast, is marked in full every
// cycle: left out of the base, the collector ran after every few MB the
// requests allocated and re-marked the whole index each time (issue 15: 24
// ms of CPU per search at 10^5 in-process providers, 7.1 ms with the
// collector paced by the whole heap). Kept in the base, the collector's
// cost per byte allocated stays what GOGC intends, whatever the index's
// size. The limit makes room for all of it either way, or the default 128
// MiB would sit below the live heap, where the collector runs without
// pause. An operator's GOGC, GOMEMLIMIT or cgroup limit is left alone.
//
// The unscanned bytes are the difference of two estimates, and the heap
// beyond them is the few MB the requests hold beside them: an estimate 5%
// high of a 160 MB snapshot left the requests nothing to pace by
// (minPaced), and the collector ran 2.4x as often at 10^6 providers as at
// 10 (issue 14, BenchmarkDirectoryEndToEnd). So they are also capped by
// the runtime's own count of the live heap's unscanned bytes
// (/gc/heap/live:bytes less /gc/scan/heap:bytes).
func Follow(s Settings, longLived ...LongLived) (stop func()) {
	longLived = slices.DeleteFunc(slices.Clone(longLived), func(l LongLived) bool { return l == nil })
	if len(longLived) == 0 || (s.GCSource != "default" && s.LimitSource != "default") {
		return func() {}
	}
	f := &follower{s: s, longLived: longLived}
	f.sample = []metrics.Sample{{Name: "/gc/heap/live:bytes"}, {Name: "/gc/scan/heap:bytes"}, {Name: "/memory/classes/total:bytes"},
		{Name: "/memory/classes/heap/free:bytes"}, {Name: "/memory/classes/heap/objects:bytes"}, {Name: "/memory/classes/heap/released:bytes"},
		{Name: "/memory/classes/heap/stacks:bytes"}, {Name: "/memory/classes/heap/unused:bytes"}}
	f.update()
	f.arm()
	return func() { f.stopped.Store(true) }
}

// unscannedMargin: Follow leaves out of the pacing base all but 1/128 of
// the unscanned long-lived bytes. They are the difference of two estimates
// of some 160 MB at 10^6 providers, beside requests holding about 6 MB, so
// an estimate 0.3% high cut the requests' room by a tenth: at 10^6 the
// collector ran 8.0 times per 1,000 requests against 6.8 at 10, and the
// product detail's p99 was 1.11x (BenchmarkDirectoryEndToEnd; the
// collector's cost per cycle is otherwise equal at both sizes now that the
// snapshot holds no pointers). A margin of 1/128 (1.25 MB there) gave 6.0
// collections against 6.8 and p99 ratios of 0.92 and 0.99; 1/64 gave 5.2,
// 0.90 and 1.03 (the same run's method, one after the other).
const unscannedMargin = 128

// minPaced is the least heap Follow paces by (the runtime's own minimum
// heap is 4 MB).
const minPaced = 4 << 20

type follower struct {
	s         Settings
	longLived []LongLived
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
	var v [8]int64
	for i, s := range f.sample {
		if s.Value.Kind() != metrics.KindUint64 {
			return
		}
		v[i] = int64(s.Value.Uint64())
	}
	// The runtime's own memory is what it maps beside the heap's classes.
	h := heap{live: v[0], scan: v[1], runtime: v[2] - v[3] - v[4] - v[5] - v[6] - v[7]}
	for _, l := range f.longLived {
		b, s := l()
		b = max(b, 0)
		h.stateBytes += b
		h.stateScan += min(max(s, 0), b)
	}
	gcPercent, limit := f.s.pace(h)
	// Set every time (a lock each, once a collection), not only on a
	// change: nothing else may have set them since.
	if f.s.GCSource == "default" && f.s.GCPercent > 0 {
		debug.SetGCPercent(gcPercent)
	}
	if f.s.LimitSource == "default" {
		debug.SetMemoryLimit(limit)
	}
}

// heap is what Follow paces by: the runtime's live heap and the scannable
// part of it, the memory the runtime maps for itself (span and GC
// metadata, stacks outside the heap), and the long-lived state's bytes and
// scanned bytes.
type heap struct {
	live, scan, runtime   int64
	stateBytes, stateScan int64
}

// pace is the GOGC and the soft memory limit for h under the defaults s:
// GOGC scaled so that the collector runs after s.GCPercent% of the live
// heap less the state's unscanned bytes; the limit s's plus all the
// state's bytes, the growth that GOGC allows on its scanned bytes, and the
// runtime's own memory.
//
// The limit must make room for what GOGC paces, or the limit, not GOGC,
// sets when the collector runs: with the embedded index of 2·10^5 items
// (a live heap of 180 MB, 110 MB of it scanned), a limit of budget plus
// the index left some 40 MB between collections, which the searches
// allocated in 24 requests, and each collection marked the index: 11 ms
// of CPU per search against 4 ms without a limit. The runtime's metadata
// (spans, GC bitmaps) grows with the heap the state makes large, and with
// the peak of a bulk feed, which it keeps (39 MB there): it is not the
// requests' budget either. The state's estimates err low (the embedded
// index's by a quarter at 2·10^6 items, where the limit then left a third
// of GOGC's room), so the live and paced heap beyond the budget, which the
// requests cannot hold for long, stand for them when larger.
//
// That alone left no room when the state is pointer-free and its estimate
// low by more than the budget: the limit was then the live heap plus the
// runtime's own memory, and the collector ran after every megabyte (the
// embedded index at 2·10^6 items in its item store: 667 collections per
// 1,000 searches, 10.3 ms of CPU per search against 3.0). So the limit
// leaves at least half the budget above the live heap, plus the 3% of its
// goal that the runtime keeps as headroom under a limit (about 35 MB of a
// 1.1 GB heap: with half the budget alone its goal was the live heap, and
// it still collected 524 times per 1,000 searches).
func (s Settings) pace(h heap) (gcPercent int, limit int64) {
	live := max(h.live, 1)
	unscanned := min(h.stateBytes-h.stateScan, max(live-h.scan, 0))
	unscanned -= unscanned / unscannedMargin
	paced := max(live-unscanned, minPaced)
	gcPercent = int(max(int64(s.GCPercent)*min(paced, live)/live, 1))
	state := max(h.stateBytes, live-s.MemoryLimit)
	scanned := max(h.stateScan, min(paced, live)-s.MemoryLimit)
	growth := scanned * int64(max(s.GCPercent, 0)) / 100
	return gcPercent, max(s.MemoryLimit+state+growth, live+live/32+s.MemoryLimit/2) + max(h.runtime, 0)
}

// settleCycles is how many collections Settle runs before handing memory
// back: the runtime paces its scavenger by the ratio of the last two
// collections' heap goals, so two cycles under the settings Follow sets
// (the first of them also applying Follow's update) leave that ratio at
// about one.
const settleCycles = 3

// Settle collects after a bulk load (a start-up feed of the embedded
// index) until the collector's pacing follows the settings again, then
// hands the free heap back to the OS. Call it once Follow is set, before
// serving.
//
// A collection right after the load alone is not enough. Its heap goal
// was the load's (gigabytes), the next one's is the serving heap's, and
// the runtime sets its scavenger's goal from the ratio of the two: at
// 10^6 providers that ratio was a quarter, the scavenger aimed at a third
// of the live heap, and every span a request took was first released and
// then faulted back in (madvise and page clearing were 40% of the
// gateway's CPU for its first seconds; a search's p50 was 3–5 ms against
// 1.2 ms twenty seconds later).
func Settle() {
	for range settleCycles {
		runtime.GC()
		// Follow's update runs as a cleanup after the collection: let it
		// run before the next one starts.
		runtime.Gosched()
	}
	debug.FreeOSMemory()
}
