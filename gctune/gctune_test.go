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
	// state is the long-lived memory; its size is read by the follower's
	// goroutine.
	var state []byte
	var size atomic.Int64
	stateBytes := size.Load
	setState := func(n int) {
		state = make([]byte, n) // live whether or not its pages are touched
		size.Store(int64(len(state)))
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
			return gcPercent() < 40 && debug.SetMemoryLimit(-1) == budget+256<<20
		})
		setState(0)
		eventually("once the state is gone", func() bool {
			return gcPercent() > 150 && debug.SetMemoryLimit(-1) == budget
		})
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
		eventually("while following", func() bool { return debug.SetMemoryLimit(-1) == budget+64<<20 })
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
