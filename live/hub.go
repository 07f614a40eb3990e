package live

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
)

// Limits bound what subscribers may hold on one instance.
type Limits struct {
	// PerUser caps one user's open subscriptions on an instance (over all
	// their connections); PerConnection caps one connection's (see
	// WithConnection). Zero or negative: no cap.
	PerUser, PerConnection int
	// Buffer is how many changes a subscriber may have waiting; one more
	// and it is dropped as a slow consumer (ErrSlowConsumer), so it never
	// holds up the others. Default DefaultBuffer.
	Buffer int
}

// DefaultBuffer is the changes a subscriber may have waiting: an order
// moves through four statuses, so 16 is far more than a healthy client
// ever lags.
const DefaultBuffer = 16

// The errors a subscriber sees.
var (
	ErrTooManyForUser       = errors.New("live: too many subscriptions for this user")
	ErrTooManyForConnection = errors.New("live: too many subscriptions on this connection")
	// ErrSlowConsumer ends a subscription that did not take its changes as
	// fast as they came (its buffer was full).
	ErrSlowConsumer = errors.New("live: subscriber too slow, dropped")
)

// Hub fans changes out to this instance's subscribers, keyed by object ID.
// One Hub per instance, fed by one Bus subscription; Deliver never blocks.
type Hub struct {
	limits Limits
	seats  Seats // nil: PerUser counts this instance only

	mu     sync.Mutex
	byID   map[string]map[*Subscription]struct{}
	byUser map[string]int

	delivered, dropped, seatErrors atomic.Int64
}

// HubOption configures a Hub.
type HubOption func(*Hub)

// WithSeats makes Limits.PerUser hold over every instance sharing seats
// (RedisSeats). The hub still counts its own, so a user never holds more
// than PerUser on one instance. When seats fail (Redis down) a
// subscription is let through under that count alone: fail open, as a
// Redis outage never fails a query here; live status matters more than an
// abuse cap that, for the outage, is PerUser per instance instead of per
// cluster (Stats.SeatErrors counts those).
func WithSeats(seats Seats) HubOption { return func(h *Hub) { h.seats = seats } }

// NewHub returns a hub enforcing l.
func NewHub(l Limits, opts ...HubOption) *Hub {
	if l.Buffer <= 0 {
		l.Buffer = DefaultBuffer
	}
	h := &Hub{limits: l, byID: map[string]map[*Subscription]struct{}{}, byUser: map[string]int{}}
	for _, o := range opts {
		o(h)
	}
	return h
}

// Sink takes one subscriber's changes. The hub calls it with its lock
// held, so neither method may block or call back into the hub.
type Sink interface {
	// Send takes c, or returns false when it cannot now (its buffer is
	// full): the subscriber is then dropped as a slow consumer.
	Send(c Change) bool
	// End is called once, when the subscription ends: err is
	// ErrSlowConsumer after a drop, nil after Close.
	End(err error)
}

// Subscription is one subscriber's following of one object. The hub holds
// no goroutine for it: changes go straight into its Sink.
type Subscription struct {
	hub   *Hub
	id    string
	user  string
	conn  *connCount
	seat  string // its seat in Seats; "" without
	sink  Sink
	ended bool // guarded by hub.mu
}

// connKey carries a connection's subscription count.
type connKey struct{}

type connCount struct {
	mu sync.Mutex
	n  int
}

// WithConnection marks ctx as one connection's (a websocket): every
// subscription made with it counts against Limits.PerConnection.
func WithConnection(ctx context.Context) context.Context {
	return context.WithValue(ctx, connKey{}, &connCount{})
}

// Buffer is how many changes a subscriber may have waiting (Limits.Buffer):
// the size of a Sink's buffer.
func (h *Hub) Buffer() int { return h.limits.Buffer }

// Subscribe follows object id for user, handing its changes to sink. It
// fails with ErrTooManyForUser or ErrTooManyForConnection when a cap is
// reached. Close the subscription when done.
func (h *Hub) Subscribe(ctx context.Context, user, id string, sink Sink) (*Subscription, error) {
	conn, _ := ctx.Value(connKey{}).(*connCount)
	if conn != nil {
		conn.mu.Lock()
		if h.limits.PerConnection > 0 && conn.n >= h.limits.PerConnection {
			conn.mu.Unlock()
			return nil, ErrTooManyForConnection
		}
		conn.n++
		conn.mu.Unlock()
	}
	seat, err := h.takeSeat(ctx, user)
	if err != nil {
		conn.release()
		return nil, err
	}
	h.mu.Lock()
	if h.limits.PerUser > 0 && h.byUser[user] >= h.limits.PerUser {
		h.mu.Unlock()
		conn.release()
		h.releaseSeat(user, seat)
		return nil, ErrTooManyForUser
	}
	s := &Subscription{hub: h, id: id, user: user, conn: conn, seat: seat, sink: sink}
	subs := h.byID[id]
	if subs == nil {
		subs = map[*Subscription]struct{}{}
		h.byID[id] = subs
	}
	subs[s] = struct{}{}
	h.byUser[user]++
	h.mu.Unlock()
	return s, nil
}

// takeSeat takes one of user's cluster-wide seats (WithSeats): "" without
// seats, or when they failed (fail open, see WithSeats).
func (h *Hub) takeSeat(ctx context.Context, user string) (string, error) {
	if h.seats == nil || h.limits.PerUser <= 0 {
		return "", nil
	}
	seat, ok, err := h.seats.Take(ctx, user, h.limits.PerUser)
	switch {
	case err != nil:
		h.seatErrors.Add(1)
		return "", nil
	case !ok:
		return "", ErrTooManyForUser
	}
	return seat, nil
}

func (h *Hub) releaseSeat(user, seat string) {
	if seat != "" {
		h.seats.Release(user, seat)
	}
}

func (c *connCount) release() {
	if c == nil {
		return
	}
	c.mu.Lock()
	c.n--
	c.mu.Unlock()
}

// Close ends s (its sink's End(nil)) and frees its place under the caps.
// Safe to call twice and after a drop; it must not be called from a Sink.
func (s *Subscription) Close() {
	h := s.hub
	h.mu.Lock()
	ended := s.ended
	if !ended {
		h.removeLocked(s)
		s.sink.End(nil)
	}
	h.mu.Unlock()
	if !ended {
		s.conn.release()
		h.releaseSeat(s.user, s.seat)
	}
}

// removeLocked takes s out of the hub's maps; h.mu is held.
func (h *Hub) removeLocked(s *Subscription) {
	s.ended = true
	if subs := h.byID[s.id]; subs != nil {
		delete(subs, s)
		if len(subs) == 0 {
			delete(h.byID, s.id)
		}
	}
	if h.byUser[s.user]--; h.byUser[s.user] <= 0 {
		delete(h.byUser, s.user)
	}
}

// Deliver hands c to every subscriber of c.ID without waiting: a
// subscriber whose sink cannot take it is dropped (End(ErrSlowConsumer)),
// the others get c.
func (h *Hub) Deliver(c Change) {
	var dropped []*Subscription
	h.mu.Lock()
	for s := range h.byID[c.ID] {
		if s.sink.Send(c) {
			h.delivered.Add(1)
			continue
		}
		h.removeLocked(s)
		s.sink.End(ErrSlowConsumer)
		dropped = append(dropped, s)
		h.dropped.Add(1)
	}
	h.mu.Unlock()
	for _, s := range dropped {
		s.conn.release()
		if s.seat != "" {
			go h.releaseSeat(s.user, s.seat) // a Redis call: not on the bus's goroutine
		}
	}
}

// ChanSink is a Sink over a buffered channel: C yields the changes and is
// closed when the subscription ends, Err then saying why.
type ChanSink struct {
	C   chan Change
	err error
}

// NewChanSink returns a sink holding up to buffer changes.
func NewChanSink(buffer int) *ChanSink { return &ChanSink{C: make(chan Change, buffer)} }

func (c *ChanSink) Send(ch Change) bool {
	select {
	case c.C <- ch:
		return true
	default:
		return false
	}
}

func (c *ChanSink) End(err error) { c.err = err; close(c.C) }

// Err is why C was closed: ErrSlowConsumer, or nil after Close. Read it
// only once C is closed.
func (c *ChanSink) Err() error { return c.err }

// Stats are a hub's counters (metrics, tests).
type Stats struct {
	Subscriptions, Objects, Users int
	Delivered, Dropped            int64
	// SeatErrors counts subscriptions let through under the instance's
	// count alone because Seats failed (WithSeats).
	SeatErrors int64
}

// Stats returns the hub's current counters.
func (h *Hub) Stats() Stats {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, subs := range h.byID {
		n += len(subs)
	}
	return Stats{Subscriptions: n, Objects: len(h.byID), Users: len(h.byUser),
		Delivered: h.delivered.Load(), Dropped: h.dropped.Load(), SeatErrors: h.seatErrors.Load()}
}

// OnConnection reports whether ctx is a connection's (WithConnection): a
// websocket, which can carry an error message when a subscription ends.
func OnConnection(ctx context.Context) bool {
	_, ok := ctx.Value(connKey{}).(*connCount)
	return ok
}
