// Package live carries status changes of users' orders and bookings from
// the providers that make them to the subscribers that follow them: a
// Publisher takes a change (from the signed webhook or an in-process demo
// provider), a Bus carries it to every instance (Redis pub/sub, or in
// process without Redis), and each instance's Hub hands it to the
// subscriptions following that object.
//
// Delivery is at most once, as Redis pub/sub is: a subscriber that was not
// connected when a change was published does not see it. That is why a
// subscription starts with the object's current state (fetched from its
// provider by the resolver), so a client that reconnects misses nothing
// that matters.
package live

import (
	"context"
	"errors"
	"time"

	"github.com/plaza-gateway/plaza/gid"
)

// Change is one object's new status.
type Change struct {
	// ID is the object's global ID (package gid): a GroceryOrder,
	// Appointment, Consultation, LegalConsultation or ServiceApplication.
	ID     string    `json:"id"`
	Status string    `json:"status"`
	At     time.Time `json:"at"`
	// Published is when this instance or another one published the change;
	// it measures the latency from the webhook to the subscriber.
	Published time.Time `json:"published"`
}

// Publisher takes status changes from providers. The signed webhook and
// the in-process demo providers publish through the same interface.
type Publisher interface {
	Publish(ctx context.Context, c Change) error
}

// Bus carries changes to every instance: Publish on any instance reaches
// the deliver func of Run on every instance, this one included.
type Bus interface {
	Publisher
	// Run hands every change published on the bus to deliver until ctx
	// ends. deliver must not block (Hub.Deliver does not).
	Run(ctx context.Context, deliver func(Change)) error
}

// ErrUnavailable is a Publish that could not reach the bus (Redis down):
// the webhook answers 503 so the provider retries.
var ErrUnavailable = errors.New("live: the status bus is unavailable")

// Followable reports whether objects of kind have a status users may
// follow: their personal orders and bookings.
func Followable(kind gid.Kind) bool {
	switch kind {
	case gid.GroceryOrder, gid.Appointment, gid.Consultation, gid.LegalConsultation, gid.ServiceApplication:
		return true
	}
	return false
}
