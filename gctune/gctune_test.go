package gctune

import (
	"math"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"testing"
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
