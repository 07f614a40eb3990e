package resolvers

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/plaza-gateway/plaza/auth"
	"github.com/plaza-gateway/plaza/connectors"
	"github.com/plaza-gateway/plaza/gid"
	"github.com/plaza-gateway/plaza/graph/model"
	"github.com/plaza-gateway/plaza/live"
)

// WithLive serves the statusChanged subscription from h (one per
// instance, fed by the status bus). Without it the subscription answers
// UNAVAILABLE.
func WithLive(h *live.Hub) Option { return func(o *options) { o.live = h } }

// statusChanged subscribes before it reads the current state, so a change
// published between the two is not lost (it may repeat the state, and is
// then skipped). Reading the object through the loaders checks that it is
// the user's: another user's reads NOT_FOUND, as with `node`. No goroutine
// is held per subscription besides gqlgen's own: the hub sends into the
// channel gqlgen reads (statusSink), and timers end it.
func (r *Resolver) statusChanged(ctx context.Context, id string) (<-chan *model.StatusUpdate, error) {
	me, err := user(ctx)
	if err != nil {
		return nil, err
	}
	p, _ := auth.From(ctx)
	if !p.Expires.IsZero() && !time.Now().Before(p.Expires) {
		return nil, errTokenExpired
	}
	if r.opt.live == nil {
		return nil, connectors.Errorf(connectors.KindUnavailable, "live status is not enabled on this gateway")
	}
	g, err := gid.Decode(id)
	if err != nil || !live.Followable(g.Kind) {
		return nil, connectors.Errorf(connectors.KindInvalid, "statusChanged follows an order or booking ID (GroceryOrder, Appointment, Consultation, LegalConsultation or ServiceApplication)")
	}
	hub := r.opt.live
	sink := &statusSink{ctx: ctx, out: make(chan *model.StatusUpdate, hub.Buffer()+1)}
	sub, err := hub.Subscribe(ctx, me, id, sink)
	if err != nil {
		return nil, liveError(err)
	}
	// Loaders of its own: the operation's would stay referenced for as
	// long as the subscription lasts (about 5 KB each, measured with
	// 10,000 idle subscriptions).
	n, err := r.node(WithLoaders(ctx, r.gw), id)
	if err != nil {
		sub.Close()
		return nil, err
	}
	stop := context.AfterFunc(ctx, sub.Close) // unsubscribed or disconnected
	var expiry *time.Timer
	if !p.Expires.IsZero() {
		expiry = time.AfterFunc(time.Until(p.Expires), func() { sink.expired.Store(true); sub.Close() })
	}
	end := func() {
		stop()
		if expiry != nil {
			expiry.Stop()
		}
		sub.Close()
	}
	if sink.start(&model.StatusUpdate{ID: id, Status: model.BookingStatus(statusOf(n)), ChangedAt: time.Now().UTC(), Current: n}, end) {
		end()
	}
	return sink.out, nil
}

// errTokenExpired ends a subscription whose token expired.
var errTokenExpired = connectors.Errorf(connectors.KindUnauthenticated, "token expired: subscribe again with a fresh token")

// statusSink turns one subscription's changes into updates on the channel
// gqlgen reads. The hub calls Send and End under its lock; until start,
// changes wait in pending so the current state goes first.
type statusSink struct {
	ctx     context.Context
	out     chan *model.StatusUpdate
	expired atomic.Bool
	close   func() // ends the subscription, off the hub's lock (set by start)

	mu      sync.Mutex
	started bool
	pending []live.Change
	last    string
	ended   bool
	final   bool
}

var _ live.Sink = (*statusSink)(nil)

// start sends the first update, then the changes that came meanwhile, and
// reports whether the subscription should end now (the object is final).
// end is how a final status met later ends it.
func (s *statusSink) start(first *model.StatusUpdate, end func()) (done bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ended { // dropped or cancelled while the state was read
		return true
	}
	s.close = end
	s.out <- first
	s.last, s.started = string(first.Status), true
	for _, c := range s.pending {
		s.sendLocked(c)
	}
	s.pending = nil
	return connectors.FinalStatus(s.last) || s.final
}

func (s *statusSink) Send(c live.Change) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.final {
		return true // the subscription is completing; nothing more to say
	}
	if !s.started {
		if len(s.pending) >= cap(s.out)-1 {
			return false
		}
		s.pending = append(s.pending, c)
		return true
	}
	return s.sendLocked(c)
}

// sendLocked sends c unless it repeats the last status; s.mu is held.
func (s *statusSink) sendLocked(c live.Change) bool {
	if c.Status == s.last {
		return true
	}
	select {
	case s.out <- &model.StatusUpdate{ID: c.ID, Status: model.BookingStatus(c.Status), ChangedAt: c.At.UTC()}:
	default:
		return false
	}
	s.last = c.Status
	if connectors.FinalStatus(c.Status) {
		s.final = true
		if s.started {
			go s.close() // not under the hub's lock
		}
	}
	return true
}

func (s *statusSink) End(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ended {
		return
	}
	s.ended = true
	switch {
	case err != nil:
		subscriptionError(s.ctx, liveError(err))
	case s.expired.Load():
		subscriptionError(s.ctx, errTokenExpired)
	}
	close(s.out)
}

// statusUpdateNode is the object of an update: the one read for the first
// update, read afresh (with loaders of its own, the subscription's would
// answer from their memo) for the others.
func (r *Resolver) statusUpdateNode(ctx context.Context, u *model.StatusUpdate) (model.Node, error) {
	if u.Current != nil {
		return u.Current, nil
	}
	return r.node(WithLoaders(ctx, r.gw), u.ID)
}

// liveError gives the hub's refusals a kind the client sees.
func liveError(err error) error {
	switch {
	case errors.Is(err, live.ErrTooManyForUser):
		return connectors.Errorf(connectors.KindRateLimited, "too many subscriptions for this user: close one first")
	case errors.Is(err, live.ErrTooManyForConnection):
		return connectors.Errorf(connectors.KindRateLimited, "too many subscriptions on this connection: close one or open another connection")
	case errors.Is(err, live.ErrSlowConsumer):
		return connectors.Errorf(connectors.KindRateLimited, "updates were not read fast enough: subscribe again (the first update is the current state)")
	}
	return err
}

// subscriptionError reports err as the subscription's error message on a
// websocket (graphql-transport-ws `error`), or leaves it for an SSE stream
// (WithEndNote), whose transport sends it as a last `next` before
// `complete`.
func subscriptionError(ctx context.Context, err error) {
	var e *connectors.Error
	if err == nil || !errors.As(err, &e) {
		return
	}
	gqlErr := &gqlerror.Error{Message: e.Message, Extensions: map[string]any{"code": string(e.Kind)}}
	if live.OnConnection(ctx) {
		transport.AddSubscriptionError(ctx, gqlErr)
		return
	}
	if n, ok := ctx.Value(endNoteKey{}).(*endNote); ok {
		n.set(gqlErr)
	}
}

// endNoteKey carries an SSE stream's endNote.
type endNoteKey struct{}

// endNote is why a stream's subscription ended early (dropped, token
// expired): the first reason wins.
type endNote struct {
	mu  sync.Mutex
	err *gqlerror.Error
}

func (n *endNote) set(err *gqlerror.Error) {
	n.mu.Lock()
	if n.err == nil {
		n.err = err
	}
	n.mu.Unlock()
}

// WithEndNote marks ctx as a stream without an error message of its own
// (SSE): a subscription cut partway by the gateway leaves its error there,
// and ended returns it once the subscription's channel is closed (nil when
// it ended normally: a final status, or the client went away).
func WithEndNote(ctx context.Context) (_ context.Context, ended func() *gqlerror.Error) {
	n := &endNote{}
	return context.WithValue(ctx, endNoteKey{}, n), func() *gqlerror.Error {
		n.mu.Lock()
		defer n.mu.Unlock()
		return n.err
	}
}

// statusOf is the status of an order or booking.
func statusOf(n model.Node) string {
	switch v := n.(type) {
	case *model.GroceryOrder:
		return string(v.Status)
	case *model.Appointment:
		return string(v.Status)
	case *model.Consultation:
		return string(v.Status)
	case *model.LegalConsultation:
		return string(v.Status)
	case *model.ServiceApplication:
		return string(v.Status)
	}
	return ""
}
