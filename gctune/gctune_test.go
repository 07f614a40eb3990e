package gctune

import (
	"math"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"sync/atomic"
	"testing"
	"time"
)

func TestApply(t *testing.T) {
	gogc, limit := debug.SetGCPercent(-1), debug.SetMemoryLimit(-1)
	debug.SetGCPercent(gogc)
	t.Cleanup(func() { debug.SetGCPercent(gogc); debug.SetMemoryLimit(limit) })
	dir := t.TempDir()
	cg := filepath.Join(dir, "memory.max")
	defer func(p string) { cgroupMemoryMax = p }(cgroupMemoryMax)
	cgroupMemoryMax = cg

	perCPU := (32 + 48*int64(runtime.GOMAXPROCS(0))) << 20
	for _, tc := range []struct {
		name       string
		env        map[string]string
		cgroup     string // "" : no file
		wantGC     int
		wantLimit  int64
		wantSource string
	}{
		{"defaults without a cgroup", nil, "", DefaultGCPercent, perCPU, "default"},
		{"cgroup without a limit", nil, "max\n", DefaultGCPercent, perCPU, "default"},
		{"cgroup limit", nil, "1073741824\n", DefaultGCPercent, 1073741824 / 10 * 9, "cgroup"},
		{"operator's GOGC and GOMEMLIMIT win", map[string]string{"GOGC": "150", "GOMEMLIMIT": "300MiB"}, "1073741824", 150, 300 << 20, "GOMEMLIMIT"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			os.Remove(cg)
			if tc.cgroup != "" {
				if err := os.WriteFile(cg, []byte(tc.cgroup), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			// The runtime reads GOGC and GOMEMLIMIT at start; stand in for it.
			debug.SetGCPercent(100)
			debug.SetMemoryLimit(math.MaxInt64)
			if tc.env["GOGC"] != "" {
				debug.SetGCPercent(150)
			}
			if tc.env["GOMEMLIMIT"] != "" {
				debug.SetMemoryLimit(300 << 20)
			}
			s := Apply(func(k string) string { return tc.env[k] })
			if s.GCPercent != tc.wantGC || s.MemoryLimit != tc.wantLimit || s.LimitSource != tc.wantSource {
				t.Fatalf("got %+v, want GOGC %d, limit %d (%s)", s, tc.wantGC, tc.wantLimit, tc.wantSource)
			}
			if got := debug.SetGCPercent(-1); got != tc.wantGC {
				t.Fatalf("GOGC in effect %d, want %d", got, tc.wantGC)
			}
			debug.SetGCPercent(tc.wantGC)
			if got := debug.SetMemoryLimit(-1); got != tc.wantLimit {
				t.Fatalf("memory limit in effect %d, want %d", got, tc.wantLimit)
			}
		})
	}
}

func TestApplySetsTheMemProfileRateOnlyFromTheRuntimesDefault(t *testing.T) {
	rate := runtime.MemProfileRate
	gogc, limit := debug.SetGCPercent(-1), debug.SetMemoryLimit(-1)
	debug.SetGCPercent(gogc)
	t.Cleanup(func() { runtime.MemProfileRate = rate; debug.SetGCPercent(gogc); debug.SetMemoryLimit(limit) })
	for _, tc := range []struct {
		name     string
		before   int
		wantRate int
	}{
		{"the runtime's default becomes Plaza's", runtimeMemProfileRate, DefaultMemProfileRate},
		{"a rate set before (GODEBUG=memprofilerate) is kept", 64 << 10, 64 << 10},
		{"profiling turned off stays off", 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			runtime.MemProfileRate = tc.before
			s := Apply(func(string) string { return "" })
			if runtime.MemProfileRate != tc.wantRate || s.MemProfileRate != tc.wantRate {
				t.Fatalf("MemProfileRate %d (settings %d), want %d", runtime.MemProfileRate, s.MemProfileRate, tc.wantRate)
			}
		})
	}
}

func TestPaceLeavesOnlyUnscannedLongLivedBytesOutOfTheBase(t *testing.T) {
	const mb = 1 << 20
	s := Settings{GCPercent: 200, GCSource: "default", MemoryLimit: 80 * mb, LimitSource: "default"}
	// left is what Follow leaves out of the base of u unscanned bytes: all
	// but unscannedMargin's share.
	left := func(u int64) int64 { return u - u/unscannedMargin }
	// paced is GOGC 200 scaled to the base that is left.
	paced := func(live, u int64) int { return int(200 * (live - left(u)) / live) }
	for _, tc := range []struct {
		name      string
		h         heap
		wantGC    int
		wantLimit int64
	}{
		{"no long-lived state: GOGC as set", heap{live: 20 * mb, scan: 10 * mb}, 200, 80 * mb},
		// The runtime's metadata grows with the heap the state makes
		// large: not the requests' budget (80 + 153 + 2·100 + 39).
		{"the runtime's own memory raises the limit", heap{live: 180 * mb, scan: 120 * mb, runtime: 39 * mb, stateBytes: 153 * mb, stateScan: 100 * mb},
			paced(180*mb, 53*mb), 472 * mb},
		// The directory's snapshot at 10^6 providers: arenas the collector
		// does not scan. Paced by the requests' 10 MB (and the margin).
		{"a pointer-free snapshot leaves the base", heap{live: 170 * mb, scan: 6 * mb, stateBytes: 160 * mb, stateScan: 1 * mb},
			paced(170*mb, 159*mb), 242 * mb},
		// An index of maps and strings, marked in full every cycle: paced
		// by all of it, as the runtime would (the rule before paced by the
		// requests' 10 MB alone: GOGC 1, a collection every few MB that
		// re-marked 1 GB), and the limit makes room for the heap to grow
		// by GOGC% of it.
		{"a pointer-heavy index stays in the base", heap{live: 1034 * mb, scan: 1030 * mb, stateBytes: 1024 * mb, stateScan: 1024 * mb},
			200, 3152 * mb},
		{"an index's unscanned part leaves the base, its scanned part stays",
			heap{live: 1194 * mb, scan: 420 * mb, stateBytes: 1184 * mb, stateScan: 410 * mb},
			paced(1194*mb, 774*mb), 2084 * mb},
		// The embedded index at 2·10^6 items, its estimates a quarter low:
		// the heap beyond the budget stands for them in the limit (with
		// the estimates alone, 3350 MB: a third of GOGC's room).
		{"the heap beyond the budget stands for estimates that err low",
			heap{live: 1900 * mb, scan: 1400 * mb, runtime: 170 * mb, stateBytes: 1500 * mb, stateScan: 800 * mb},
			paced(1900*mb, 500*mb), (80+1820+170)*mb + 2*(1900*mb-left(500*mb)-80*mb)},
		// Estimates err: the state cannot leave out more unscanned bytes
		// than the live heap holds.
		{"no more is left out than the heap holds unscanned", heap{live: 100 * mb, scan: 60 * mb, stateBytes: 90 * mb},
			paced(100*mb, 40*mb), 170 * mb},
		{"the requests are paced by no less than minPaced", heap{live: 164 * mb, stateBytes: 170 * mb},
			200 * 4 / 164, 250 * mb},
		{"a heap smaller than minPaced: GOGC as set", heap{live: 2 * mb}, 200, 80 * mb},
		// The embedded index in its pointer-free item store, its estimate
		// the budget low: the heap beyond the budget stands for it, and
		// the limit would be 16 MB above the live heap (80 + 1013 + 2·8 +
		// 40). Half the budget stays above it, and the runtime's headroom
		// (3% of its goal).
		{"a pointer-free state that errs low keeps room above the live heap",
			heap{live: 1093 * mb, scan: 3 * mb / 2, runtime: 40 * mb, stateBytes: 1013 * mb},
			paced(1093*mb, 1013*mb), (1093+40+40)*mb + 1093*mb/32},
	} {
		t.Run(tc.name, func(t *testing.T) {
			gc, limit := s.pace(tc.h)
			if gc != tc.wantGC || limit != tc.wantLimit {
				t.Fatalf("pace(%+v) = GOGC %d, limit %d MiB; want %d, %d MiB", tc.h, gc, limit>>20, tc.wantGC, tc.wantLimit>>20)
			}
		})
	}
}

func TestFollowPacesByTheHeapBeyondLongLivedState(t *testing.T) {
	gogc, limit := debug.SetGCPercent(-1), debug.SetMemoryLimit(-1)
	debug.SetGCPercent(gogc)
	t.Cleanup(func() { debug.SetGCPercent(gogc); debug.SetMemoryLimit(limit) })
	const budget = 128 << 20
	defaults := Settings{GCPercent: 200, GCSource: "default", MemoryLimit: budget, LimitSource: "default"}
	gcPercent := func() int {
		p := debug.SetGCPercent(-1)
		debug.SetGCPercent(p)
		return p
	}
	// limitNear reports whether the limit in effect is want plus the
	// runtime's own memory (a few MiB in a test).
	limitNear := func(want int64) bool {
		l := debug.SetMemoryLimit(-1)
		return l >= want && l < want+32<<20
	}
	// eventually runs collections until ok holds (the follower updates on
	// its own goroutine after each), with a generous deadline.
	eventually := func(what string, ok func() bool) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for !ok() {
			if time.Now().After(deadline) {
				t.Fatalf("%s: GOGC %d, limit %d MiB", what, gcPercent(), debug.SetMemoryLimit(-1)>>20)
			}
			runtime.GC()
			time.Sleep(10 * time.Millisecond)
		}
	}
	// state is the long-lived memory, pointer-free or made of pointers;
	// its size is read by the follower's goroutine.
	var state []byte
	var pointers []*byte
	var size, scan atomic.Int64
	stateBytes := func() (int64, int64) { return size.Load(), scan.Load() }
	setState := func(n int) {
		state, pointers = make([]byte, n), nil // live whether or not its pages are touched
		size.Store(int64(len(state)))
		scan.Store(0)
	}
	setPointers := func(n int) {
		state, pointers = nil, make([]*byte, n/8)
		size.Store(int64(n))
		scan.Store(int64(n))
	}

	t.Run("long-lived state gets no room of its own", func(t *testing.T) {
		debug.SetGCPercent(200)
		debug.SetMemoryLimit(budget)
		stop := Follow(defaults, stateBytes)
		defer stop()
		setState(256 << 20) // a directory snapshot loaded after start
		// A test's own heap is a few MiB beside the state: GOGC falls
		// far below 200, and the limit makes room for the state.
		eventually("with 256 MiB of long-lived state", func() bool {
			return gcPercent() < 40 && limitNear(budget+256<<20)
		})
		setState(0)
		eventually("once the state is gone", func() bool {
			return gcPercent() > 150 && limitNear(budget)
		})
	})

	t.Run("long-lived state the collector scans stays in the pacing base", func(t *testing.T) {
		debug.SetGCPercent(200)
		debug.SetMemoryLimit(budget)
		stop := Follow(defaults, stateBytes)
		defer stop()
		setPointers(256 << 20) // an index of pointers, marked every cycle
		eventually("with 256 MiB of pointers", func() bool {
			return gcPercent() == 200 && limitNear(budget+3*256<<20)
		})
		runtime.KeepAlive(pointers)
		setState(0)
	})

	t.Run("an operator's GOGC, GOMEMLIMIT or cgroup limit stays as set", func(t *testing.T) {
		for _, s := range []Settings{
			{GCPercent: 150, GCSource: "GOGC", MemoryLimit: 300 << 20, LimitSource: "GOMEMLIMIT"},
			{GCPercent: 150, GCSource: "GOGC", MemoryLimit: 300 << 20, LimitSource: "cgroup"},
		} {
			debug.SetGCPercent(150)
			debug.SetMemoryLimit(300 << 20)
			setState(64 << 20)
			stop := Follow(s, stateBytes)
			runtime.GC()
			runtime.GC()
			time.Sleep(50 * time.Millisecond)
			if p, l := gcPercent(), debug.SetMemoryLimit(-1); p != 150 || l != 300<<20 {
				t.Fatalf("%s: GOGC moved to %d, limit to %d MiB", s.LimitSource, p, l>>20)
			}
			stop()
			setState(0)
		}
	})

	t.Run("stop ends the updates", func(t *testing.T) {
		debug.SetGCPercent(200)
		debug.SetMemoryLimit(budget)
		setState(64 << 20)
		stop := Follow(defaults, stateBytes)
		eventually("while following", func() bool { return limitNear(budget + 64<<20) })
		stop()
		debug.SetMemoryLimit(budget)
		runtime.GC()
		runtime.GC()
		time.Sleep(50 * time.Millisecond)
		if got := debug.SetMemoryLimit(-1); got != budget {
			t.Fatalf("limit moved to %d MiB after stop", got>>20)
		}
		setState(0)
	})
}
