// Package events records what users do (searches, detail views, orders,
// bookings, consultations, applications, clicks) and what each provider call
// cost, without slowing or failing the request that caused it: a Recorder
// buffers them in a bounded channel and a background writer stores them.
//
// A Store keeps three things: the raw event log (capped), a capped recent
// history per user, and time-bucketed counters (hourly, a capped number of
// distinct fields per hour) that the analysts' queries (Analytics) read.
// Everything older than the retention window is gone, and every structure is
// bounded by size too, whatever clients send: user text is stored only in
// its normalised, bounded form (NormalizeText). MemoryStore and RedisStore implement Store side by side.
//
// Users who turned personalisation off (Settings) are counted without a
// user id: their events feed the aggregate counters and the sinks (the
// providers' traffic roll-ups) anonymised, and never the raw log or a
// history. The pipeline may drop events under load (Recorder), so it feeds
// statistics only, never money.
package events

import (
	"context"
	"time"
)

// Kind says what a user did.
type Kind string

// Event kinds.
const (
	KindSearch       Kind = "search"
	KindView         Kind = "view"
	KindClick        Kind = "click"
	KindOrder        Kind = "order"
	KindBooking      Kind = "booking"
	KindConsultation Kind = "consultation"
	KindApplication  Kind = "application"
	// KindHome is a home page shown; its Shown lists the items on it.
	KindHome Kind = "home"
)

// Conversion reports whether k is a conversion (something was ordered,
// booked, asked or applied for).
func (k Kind) Conversion() bool {
	switch k {
	case KindOrder, KindBooking, KindConsultation, KindApplication:
		return true
	}
	return false
}

// Event is one interaction. Item and Items hold global IDs; Query holds the
// search text. What is stored is bounded: Query (and a search's City) in
// its NormalizeText form, every other text cut to MaxText bytes, IDs up to
// MaxID bytes, at most MaxItems items.
type Event struct {
	// User is the signed-in user; empty for anonymous callers, whose events
	// only feed the aggregate counters and the raw log.
	User string `json:"user,omitempty"`
	Kind Kind   `json:"kind"`
	// Item is the object acted on: the viewed or clicked item, the store of
	// an order, the doctor of a booking, the lawyer or doctor of a
	// consultation, the service of an application.
	Item string `json:"item,omitempty"`
	// Items are the products of an order.
	Items []string `json:"items,omitempty"`
	// Query is the search text (searches and clicks).
	Query    string `json:"query,omitempty"`
	Vertical string `json:"vertical,omitempty"`
	City     string `json:"city,omitempty"`
	Provider string `json:"provider,omitempty"`
	// Results is how many results a search found.
	Results int `json:"results,omitempty"`
	// Name and Category describe Item for the recommendation engine
	// (optional).
	Name     string `json:"name,omitempty"`
	Category string `json:"category,omitempty"`
	// Shown are the impressions of a search's first page or a home page:
	// which items it showed, at which rank, for which provider. They feed
	// the sinks only (the traffic roll-ups), not the raw log, whose entries
	// stay small.
	Shown []Impression `json:"shown,omitempty"`
	// Value is an order's value in Currency's minor units (0 when unknown).
	Value    int64     `json:"value,omitempty"`
	Currency string    `json:"currency,omitempty"`
	Time     time.Time `json:"time"`
}

// Impression is one item a page showed.
type Impression struct {
	Item     string `json:"item"`
	Provider string `json:"provider"`
	// Rank is the item's position on the page, from 1 (a home page numbers
	// its items across sections, top to bottom).
	Rank int `json:"rank"`
}

// Call is one provider call as the gateway's observer saw it.
type Call struct {
	Provider string
	Op       string
	Duration time.Duration
	Failed   bool
	Time     time.Time
}

// Store keeps events and counters. Implementations are safe for concurrent
// use; every write carries the retention window as its expiry.
type Store interface {
	// Append adds events to the raw log and, for events with a user, to
	// that user's recent history.
	Append(ctx context.Context, evs []Event) error
	// Add applies counter deltas.
	Add(ctx context.Context, c Counts) error
	// Counts returns the counters of the hourly buckets in [from, to).
	Counts(ctx context.Context, from, to time.Time) (Counts, error)
	// Log returns the raw events with Time in [from, to), oldest first.
	Log(ctx context.Context, from, to time.Time) ([]Event, error)
	// History returns up to n of user's most recent events, newest first.
	History(ctx context.Context, user string, n int) ([]Event, error)
	// Forget deletes user's history (opt-out or erasure). The raw log keeps
	// no entries of opted-out users; older entries expire with retention.
	Forget(ctx context.Context, user string) error
}

// DefaultRetention is how long events and counters are kept.
const DefaultRetention = 90 * 24 * time.Hour

// DefaultPrefix is the Redis key prefix of the event store.
const DefaultPrefix = "plaza:v1:ev:"
