package resolvers

import (
	"context"
	"errors"
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
// the user's: another user's reads NOT_FOUND, as with `node`.
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
	sub, err := r.opt.live.Subscribe(ctx, me, id)
	if err != nil {
		return nil, liveError(err)
	}
	n, err := r.node(ctx, id)
	if err != nil {
		sub.Close()
		return nil, err
	}
	status := statusOf(n)
	out := make(chan *model.StatusUpdate, 1)
	out <- &model.StatusUpdate{ID: id, Status: status, ChangedAt: time.Now().UTC(), Current: n}
	go r.follow(ctx, sub, out, status, p.Expires)
	return out, nil
}

// errTokenExpired ends a subscription whose token expired.
var errTokenExpired = connectors.Errorf(connectors.KindUnauthenticated, "token expired: subscribe again with a fresh token")

// follow forwards sub's changes to out until a final status, the end of
// ctx (unsubscribed or disconnected), the token's expiry or a drop. A drop
// is reported as an error message on a websocket; an SSE stream completes.
func (r *Resolver) follow(ctx context.Context, sub *live.Subscription, out chan<- *model.StatusUpdate, last string, expires time.Time) {
	defer close(out)
	defer sub.Close()
	if connectors.FinalStatus(last) {
		return
	}
	var expired <-chan time.Time
	if !expires.IsZero() {
		t := time.NewTimer(time.Until(expires))
		defer t.Stop()
		expired = t.C
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-expired:
			subscriptionError(ctx, errTokenExpired)
			return
		case c, ok := <-sub.C:
			if !ok {
				subscriptionError(ctx, liveError(sub.Err()))
				return
			}
			if c.Status == last {
				continue
			}
			last = c.Status
			select {
			case out <- &model.StatusUpdate{ID: c.ID, Status: c.Status, ChangedAt: c.At.UTC()}:
			case <-ctx.Done():
				return
			}
			if connectors.FinalStatus(c.Status) {
				return
			}
		}
	}
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
// websocket (graphql-transport-ws `error`). Over SSE, whose gqlgen
// transport has no error frame after the start, the stream completes.
func subscriptionError(ctx context.Context, err error) {
	if err == nil || !live.OnConnection(ctx) {
		return
	}
	var e *connectors.Error
	if !errors.As(err, &e) {
		return
	}
	transport.AddSubscriptionError(ctx, &gqlerror.Error{Message: e.Message, Extensions: map[string]any{"code": string(e.Kind)}})
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
