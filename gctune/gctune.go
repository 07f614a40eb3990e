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
package gctune

import (
	"math"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
)

// DefaultGCPercent is GOGC when the environment does not set it.
const DefaultGCPercent = 200

// Settings are what Apply left in effect, for the startup log.
type Settings struct {
	GCPercent   int
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
	s := Settings{GCPercent: DefaultGCPercent, MemoryLimit: math.MaxInt64}
	if v := getenv("GOGC"); v != "" {
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
