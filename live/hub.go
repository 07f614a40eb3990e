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

	mu     sync.Mutex
	byID   map[string]map[*Subscription]struct{}
	byUser map[string]int

	delivered, dropped atomic.Int64
}

// NewHub returns a hub enforcing l.
func NewHub(l Limits) *Hub {
	if l.Buffer <= 0 {
		l.Buffer = DefaultBuffer
	}
	return &Hub{limits: l, byID: map[string]map[*Subscription]struct{}{}, byUser: map[string]int{}}
}

// Subscription is one subscriber's following of one object. C yields its
// changes; it is closed by Close or when the subscriber is dropped (then
// Err says why).
type Subscription struct {
	C <-chan Change

	ch    chan Change
	hub   *Hub
	id    string
	user  string
	conn  *connCount
	err   error // set before ch is closed by a drop
	ended bool  // guarded by hub.mu
}

// Err is why C was closed by the hub: ErrSlowConsumer, or nil after Close.
// Read it only once C is closed.
func (s *Subscription) Err() error { return s.err }

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

// Subscribe follows object id for user. It fails with ErrTooManyForUser or
// ErrTooManyForConnection when a cap is reached. Close the subscription
// when done.
func (h *Hub) Subscribe(ctx context.Context, user, id string) (*Subscription, error) {
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
	h.mu.Lock()
	if h.limits.PerUser > 0 && h.byUser[user] >= h.limits.PerUser {
		h.mu.Unlock()
		conn.release()
		return nil, ErrTooManyForUser
	}
	ch := make(chan Change, h.limits.Buffer)
	s := &Subscription{C: ch, ch: ch, hub: h, id: id, user: user, conn: conn}
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

func (c *connCount) release() {
	if c == nil {
		return
	}
	c.mu.Lock()
	c.n--
	c.mu.Unlock()
}

// Close ends s and frees its place under the caps. Safe to call twice and
// after a drop.
func (s *Subscription) Close() {
	h := s.hub
	h.mu.Lock()
	ended := s.ended
	if !ended {
		h.removeLocked(s)
		close(s.ch)
	}
	h.mu.Unlock()
	if !ended {
		s.conn.release()
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
// subscriber whose buffer is full is dropped (its C closed, Err
// ErrSlowConsumer), the others get c.
func (h *Hub) Deliver(c Change) {
	var dropped []*Subscription
	h.mu.Lock()
	for s := range h.byID[c.ID] {
		select {
		case s.ch <- c:
			h.delivered.Add(1)
		default:
			s.err = ErrSlowConsumer
			h.removeLocked(s)
			close(s.ch)
			dropped = append(dropped, s)
			h.dropped.Add(1)
		}
	}
	h.mu.Unlock()
	for _, s := range dropped {
		s.conn.release()
	}
}

// Stats are a hub's counters (metrics, tests).
type Stats struct {
	Subscriptions, Objects, Users int
	Delivered, Dropped            int64
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
		Delivered: h.delivered.Load(), Dropped: h.dropped.Load()}
}

// OnConnection reports whether ctx is a connection's (WithConnection): a
// websocket, which can carry an error message when a subscription ends.
func OnConnection(ctx context.Context) bool {
	_, ok := ctx.Value(connKey{}).(*connCount)
	return ok
}
