package main

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// pinProcess restricts every thread of the harness to cpu. The load
// generator runs in the harness (load.go), so this is what keeps it off
// the gateway's core. sched_setaffinity applies to one thread, and Go
// starts threads whenever it likes: every thread in /proc/self/task is
// pinned, and the pass is repeated until one finds nothing left to pin
// (a thread created meanwhile inherits the mask of the thread that made
// it, which may have been pinned or not). Threads started later inherit
// the mask, and so do the processes the harness starts (the builds, the
// Go benchmarks), unless they are started under taskset.
func pinProcess(cpu int) error {
	var want unix.CPUSet
	want.Set(cpu)
	if err := setAffinity(want); err != nil {
		return fmt.Errorf("pin the harness to CPU %d: %w", cpu, err)
	}
	return nil
}

// setAffinity gives every thread of the process the CPU set want.
func setAffinity(want unix.CPUSet) error {
	for pass := 0; pass < 10; pass++ {
		tasks, err := os.ReadDir("/proc/self/task")
		if err != nil {
			return err
		}
		changed := false
		for _, t := range tasks {
			tid, err := strconv.Atoi(t.Name())
			if err != nil {
				continue
			}
			var got unix.CPUSet
			if err := unix.SchedGetaffinity(tid, &got); err == nil && got == want {
				continue
			}
			if err := unix.SchedSetaffinity(tid, &want); err != nil {
				if err == unix.ESRCH { // the thread has exited
					continue
				}
				return fmt.Errorf("thread %d: %w", tid, err)
			}
			changed = true
		}
		if !changed {
			return nil
		}
	}
	return errors.New("threads kept appearing with another CPU set")
}

// threadCPUs is the set of CPUs each of the harness's threads may run on,
// as the kernel reports it (Cpus_allowed_list), with the number of threads
// on each distinct set: "0 (9 threads)" once pinProcess has run.
func threadCPUs() string {
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return "unknown"
	}
	count := map[string]int{}
	var order []string
	for _, t := range tasks {
		b, err := os.ReadFile("/proc/self/task/" + t.Name() + "/status")
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "Cpus_allowed_list:"); ok {
				v = strings.TrimSpace(v)
				if count[v] == 0 {
					order = append(order, v)
				}
				count[v]++
			}
		}
	}
	parts := make([]string, len(order))
	for i, v := range order {
		parts[i] = fmt.Sprintf("%s (%d threads)", v, count[v])
	}
	return strings.Join(parts, ", ")
}
