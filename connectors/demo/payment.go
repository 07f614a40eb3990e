package demo

import (
	"context"
	"slices"
	"time"

	"github.com/plaza-gateway/plaza/connectors"
	"github.com/plaza-gateway/plaza/gid"
)

var _ connectors.OrderPayer = (*Grocery)(nil)

// WithPayments makes a grocery provider take payment through Plaza
// (contract 1.4): each new order is AWAITING_PAYMENT until PayOrder, and one
// unpaid after window is CANCELLED with its stock and slot capacity put
// back. Without it orders are PLACED at once (paid on delivery). The
// provider's payment processor is a sandbox that knows only the test tokens
// connectors.PaymentTokenApproved and connectors.PaymentTokenDeclined.
func WithPayments(window time.Duration) Option {
	return func(c *config) {
		if window > 0 {
			c.payWindow = window
		}
	}
}

// charge is the demo's payment processor: the test tokens, nothing real.
func charge(token string) error {
	switch token {
	case connectors.PaymentTokenApproved:
		return nil
	case connectors.PaymentTokenDeclined:
		return connectors.Errorf(connectors.KindPaymentDeclined, "the card was declined and nothing was charged; the order can be paid with another card")
	}
	return connectors.Errorf(connectors.KindInvalid, "paymentToken is not a payment method this provider knows (sandbox tokens: %s approves, %s declines)",
		connectors.PaymentTokenApproved, connectors.PaymentTokenDeclined)
}

// awaitPayment makes the new order o wait for payment. The caller holds g.mu.
func (g *Grocery) awaitPayment(o *connectors.GroceryOrder, now time.Time) {
	due := now.Add(g.payWindow)
	o.Status, o.PaymentDueBy = connectors.StatusAwaitingPayment, &due
	g.unpaid = append(g.unpaid, o)
	// Reads and mutations expire due orders too; the timer only tells a
	// subscriber who reads nothing.
	g.progress.after(g.payWindow, g.expireDue)
}

// expireDue cancels every unpaid order past its PaymentDueBy, putting its
// stock and slot capacity back, and announces each. Cheap (a read lock)
// when none is due.
func (g *Grocery) expireDue() {
	if g.payWindow == 0 {
		return
	}
	now := g.now()
	g.mu.RLock()
	due := slices.ContainsFunc(g.unpaid, func(o *connectors.GroceryOrder) bool { return !o.PaymentDueBy.After(now) })
	g.mu.RUnlock()
	if !due {
		return
	}
	var expired []string
	g.mu.Lock()
	g.unpaid = slices.DeleteFunc(g.unpaid, func(o *connectors.GroceryOrder) bool {
		if o.Status != connectors.StatusAwaitingPayment {
			return true // paid or cancelled meanwhile
		}
		if o.PaymentDueBy.After(now) {
			return false
		}
		g.release(o)
		o.Status = connectors.StatusCancelled
		expired = append(expired, o.ID)
		return true
	})
	g.mu.Unlock()
	for _, id := range expired {
		g.progress.announce(gid.Encode(gid.GroceryOrder, g.desc.ID, id), connectors.StatusCancelled)
	}
}

// PayOrder charges the payment token for userID's AWAITING_PAYMENT order
// and moves it to PLACED, from where it moves along its delivery path. A
// declined charge changes nothing and is not remembered under the
// idempotency key, so paying again (with another card) works.
func (g *Grocery) PayOrder(ctx context.Context, in connectors.PayOrderInput) (connectors.GroceryOrder, error) {
	if err := ctx.Err(); err != nil {
		return connectors.GroceryOrder{}, err
	}
	switch {
	case in.UserID == "":
		return connectors.GroceryOrder{}, errUserRequired()
	case in.OrderID == "":
		return connectors.GroceryOrder{}, connectors.Errorf(connectors.KindInvalid, "orderId is required")
	case in.PaymentToken == "":
		return connectors.GroceryOrder{}, connectors.Errorf(connectors.KindInvalid, "paymentToken is required")
	}
	g.expireDue()
	o, paid, err := g.pay(in)
	if err != nil || !paid {
		return o, err
	}
	g.progress.announce(gid.Encode(gid.GroceryOrder, g.desc.ID, o.ID), o.Status)
	g.progress.start(gid.GroceryOrder, g.desc.ID, o.ID, orderPath,
		advanceIn(&g.mu, g.orders, o.ID, func(o *connectors.GroceryOrder) *string { return &o.Status }))
	return o, nil
}

// pay is PayOrder's critical section; paid is false for a remembered retry.
func (g *Grocery) pay(in connectors.PayOrderInput) (connectors.GroceryOrder, bool, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if o, ok, err := g.paid.lookup(in.UserID, in.IdempotencyKey, in); ok || err != nil {
		return o, false, err
	}
	o, ok := g.orders[in.OrderID]
	switch {
	case !ok || o.UserID != in.UserID:
		return connectors.GroceryOrder{}, false, connectors.NotFound("order", in.OrderID)
	case o.Status == connectors.StatusCancelled:
		return connectors.GroceryOrder{}, false, connectors.Errorf(connectors.KindConflict, "order %q was cancelled (unpaid orders expire at paymentDueBy); place it again", in.OrderID)
	case o.Status != connectors.StatusAwaitingPayment:
		return connectors.GroceryOrder{}, false, connectors.Errorf(connectors.KindConflict, "order %q is already paid", in.OrderID)
	}
	if err := charge(in.PaymentToken); err != nil {
		return connectors.GroceryOrder{}, false, err
	}
	o.Status, o.PaymentDueBy = connectors.StatusPlaced, nil
	g.unpaid = slices.DeleteFunc(g.unpaid, func(u *connectors.GroceryOrder) bool { return u == o })
	g.paid.remember(in.UserID, in.IdempotencyKey, in, *o)
	return cloneOrder(o), true, nil
}
