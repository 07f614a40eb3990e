package main

import (
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func rusageCPU(t *testing.T) time.Duration {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// procCPU must agree with the kernel's other account of the same process
// (getrusage), within its clock-tick resolution, however loaded the machine.
func TestProcCPU(t *testing.T) {
	r0, p0 := rusageCPU(t), procCPU(os.Getpid())
	deadline := time.Now().Add(30 * time.Second)
	x := 0
	for rusageCPU(t)-r0 < 200*time.Millisecond {
		if time.Now().After(deadline) {
			t.Skip("not 200 ms of CPU in 30 s: the machine is too busy to tell")
		}
		for range 100_000 {
			x++
		}
	}
	runtime.KeepAlive(x)
	p1, r1 := procCPU(os.Getpid()), rusageCPU(t)
	if d, want := p1-p0, r1-r0; d < want-40*time.Millisecond || d > want+40*time.Millisecond {
		t.Fatalf("procCPU counted %s where getrusage counted %s", d, want)
	}
	if got := procCPU(-1); got != 0 {
		t.Fatalf("procCPU of no process = %s, want 0", got)
	}
}

func TestPinProcess(t *testing.T) {
	var allowed unix.CPUSet
	if err := unix.SchedGetaffinity(0, &allowed); err != nil {
		t.Skipf("no sched_getaffinity: %v", err)
	}
	cpu := -1
	for c := range 1024 {
		if allowed.IsSet(c) {
			cpu = c
		}
	}
	t.Cleanup(func() {
		if err := setAffinity(allowed); err != nil {
			t.Errorf("restore the CPU set: %v", err)
		}
	})
	if err := pinProcess(cpu); err != nil {
		t.Fatal(err)
	}
	// A thread started after the pin inherits it.
	done := make(chan struct{})
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		<-done
	}()
	time.Sleep(50 * time.Millisecond)
	got := threadCPUs()
	close(done)
	if parts := strings.Split(got, ", "); len(parts) != 1 || !strings.HasPrefix(got, strconv.Itoa(cpu)+" (") {
		t.Fatalf("after pinning to CPU %d the threads may run on %s", cpu, got)
	}
}
