// Package health keeps the state of the shared dependencies an instance can
// serve without (Redis today), for /readyz. A Probe checks its dependency in
// the background and /readyz reads the last result, so the answer costs no
// I/O and a slow request path cannot make it flap: the check has its own
// timeout, far longer than the cache's per-call one, and its own connection.
package health

import (
	"context"
	"sync/atomic"
	"time"
)

// States of a dependency.
const (
	StateOK   = "ok"
	StateDown = "down"
)

// Status is a dependency's state and, when down, why.
type Status struct {
	State  string `json:"state"`
	Reason string `json:"reason,omitempty"`
}

// Defaults of a Probe: the check runs every second and may take 2 s, so a
// dependency is reported down only when it fails to answer a single ping
// within 2 s, which no load on our side explains.
const (
	DefaultInterval = time.Second
	DefaultTimeout  = 2 * time.Second
)

// Probe runs check periodically and keeps the result.
type Probe struct {
	check    func(context.Context) error
	interval time.Duration
	timeout  time.Duration
	last     atomic.Pointer[Status]
}

// NewProbe probes with check every interval, each check bounded by timeout
// (zero values take the defaults). Until the first check the status is ok.
func NewProbe(check func(context.Context) error, interval, timeout time.Duration) *Probe {
	if interval <= 0 {
		interval = DefaultInterval
	}
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	p := &Probe{check: check, interval: interval, timeout: timeout}
	p.last.Store(&Status{State: StateOK})
	return p
}

// Check runs the check once now and records the result.
func (p *Probe) Check(ctx context.Context) Status {
	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	st := Status{State: StateOK}
	if err := p.check(ctx); err != nil {
		st = Status{State: StateDown, Reason: err.Error()}
	}
	p.last.Store(&st)
	return st
}

// Run checks every interval until ctx ends.
func (p *Probe) Run(ctx context.Context) {
	t := time.NewTicker(p.interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			p.Check(ctx)
		}
	}
}

// Status is the last result.
func (p *Probe) Status() Status { return *p.last.Load() }

// Healthy is the last result as ok/reason, the shape api.WithDependency takes.
func (p *Probe) Healthy() (ok bool, reason string) {
	st := p.Status()
	return st.State == StateOK, st.Reason
}
