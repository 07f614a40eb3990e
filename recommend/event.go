package recommend

import (
	"fmt"
	"strings"
	"time"
)

// EventKind says what a user did with an item. The kind decides how much an
// interaction counts (Config.KindWeights) and the verb used in reasons.
type EventKind uint8

// Event kinds. The zero value is deliberately not a valid kind, so a
// forgotten field shows up as Unknown rather than as a silent View.
const (
	Unknown EventKind = iota
	View
	Search
	Order
	Booking
	Consultation
	Application
	Renewal
	numKinds
)

var kindNames = [numKinds]string{"unknown", "view", "search", "order", "booking", "consultation", "application", "renewal"}

// verbs are used in reasons: "You order this every week".
var kindVerbs = [numKinds][2]string{
	{"use", "used"}, {"view", "viewed"}, {"look for", "looked for"}, {"order", "ordered"},
	{"book", "booked"}, {"consult", "consulted"}, {"apply for", "applied for"}, {"renew", "renewed"},
}

func (k EventKind) String() string {
	if k >= numKinds {
		return fmt.Sprintf("EventKind(%d)", k)
	}
	return kindNames[k]
}

func (k EventKind) verb() string {
	if k >= numKinds {
		k = Unknown
	}
	return kindVerbs[k][0]
}

func (k EventKind) pastVerb() string {
	if k >= numKinds {
		k = Unknown
	}
	return kindVerbs[k][1]
}

// ParseEventKind maps a kind name ("order", "Booking", ...) to its EventKind.
func ParseEventKind(s string) (EventKind, error) {
	for k, name := range kindNames {
		if k != int(Unknown) && strings.EqualFold(s, name) {
			return EventKind(k), nil
		}
	}
	return Unknown, fmt.Errorf("recommend: unknown event kind %q", s)
}

// Event is one interaction of a user with an item.
type Event struct {
	UserID string
	ItemID string
	Kind   EventKind
	// Time is when it happened. Time-of-day and day-of-week signals read it in
	// the zone of City (citytz), whatever zone it is stamped in.
	Time time.Time
	// Category is optional (a vertical or product category); it fills in the
	// item's category when no Item metadata was registered.
	Category string
	// City is optional; events without a city do not feed city trends.
	City string
}

// Item is the metadata the engine knows about an item. All fields but ID are
// optional; Provider and Category drive the diversity quotas.
type Item struct {
	ID string
	// Name is optional; reasons quote it ("People who ordered Baby formula
	// also booked this") and fall back to the ID.
	Name     string
	Category string
	City     string
	Provider string
	Tags     []string
}
