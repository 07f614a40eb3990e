package demo

import (
	"context"
	"sync"
	"time"

	"github.com/plaza-gateway/plaza/connectors"
	"github.com/plaza-gateway/plaza/gid"
	"github.com/plaza-gateway/plaza/live"
)

// The paths new orders and bookings take, one step apart: what a real
// provider's warehouse, clinic or office would report by webhook.
var (
	orderPath       = []string{connectors.StatusPlaced, connectors.StatusPicking, connectors.StatusOutForDelivery, connectors.StatusDelivered}
	appointmentPath = []string{connectors.StatusConfirmed, connectors.StatusCheckedIn, connectors.StatusCompleted}
	applicationPath = []string{connectors.StatusPending, connectors.StatusApproved, connectors.StatusCompleted}
	legalPath       = []string{connectors.StatusPending, connectors.StatusConfirmed}
	// consultationPath: a question asked online is answered one step later.
	consultationPath = []string{connectors.StatusPending, connectors.StatusAnswered}
)

// WithStatusUpdates makes the provider move each new order or booking
// through its statuses, one step apart, and publish every change to pub,
// the interface the gateway's status webhook publishes through. Without
// it statuses change only by the user's own mutations.
func WithStatusUpdates(pub live.Publisher, step time.Duration) Option {
	return func(c *config) {
		if pub != nil && step > 0 {
			c.progress = &progress{pub: pub, step: step}
		}
	}
}

// progress schedules the status changes of one provider. It holds one
// timer per object still moving, nothing once the object is final.
type progress struct {
	pub  live.Publisher
	step time.Duration
	// wg tracks the timers' callbacks so tests can wait for them.
	wg sync.WaitGroup
}

// start moves the object (kind, provider, local) along path from path[0].
// advance sets the status from → to under the provider's lock and reports
// whether the object was still in from (a cancelled order stops moving).
func (p *progress) start(kind gid.Kind, provider, local string, path []string, advance func(from, to string) bool) {
	if p == nil {
		return
	}
	id := gid.Encode(kind, provider, local)
	var step func(i int)
	step = func(i int) {
		p.wg.Add(1)
		time.AfterFunc(p.step, func() {
			defer p.wg.Done()
			if !advance(path[i-1], path[i]) {
				return
			}
			p.announce(id, path[i])
			if i+1 < len(path) {
				step(i + 1)
			}
		})
	}
	step(1)
}

// announce publishes that the object with global ID id is now in status.
// A lost change is made up for by the current state a new subscription
// starts with; the demo has nobody to retry for.
func (p *progress) announce(id, status string) {
	if p == nil {
		return
	}
	_ = p.pub.Publish(context.Background(), live.Change{ID: id, Status: status, At: time.Now().UTC()})
}

// after runs fn once d has passed (tracked like the steps, so tests can
// wait for it); nothing without status updates.
func (p *progress) after(d time.Duration, fn func()) {
	if p == nil {
		return
	}
	p.wg.Add(1)
	time.AfterFunc(d, func() {
		defer p.wg.Done()
		fn()
	})
}

// advanceIn returns the advance func for one object of a provider's map.
func advanceIn[T any](mu *sync.RWMutex, objects map[string]*T, local string, status func(*T) *string) func(from, to string) bool {
	return func(from, to string) bool {
		mu.Lock()
		defer mu.Unlock()
		o, ok := objects[local]
		if !ok || *status(o) != from {
			return false
		}
		*status(o) = to
		return true
	}
}
