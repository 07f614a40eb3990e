package conformance

import (
	"context"
	"fmt"

	"github.com/plaza-gateway/plaza/connectors"
)

// payOf is g's PayOrder when g takes payment through Plaza.
func payOf(g connectors.Grocery) func(context.Context, connectors.PayOrderInput) (connectors.GroceryOrder, error) {
	if p, ok := g.(connectors.OrderPayer); ok {
		return p.PayOrder
	}
	return nil
}

// checkPayment (contract 1.4, grocery): the kit's user places an order;
// a provider that creates it AWAITING_PAYMENT with a paymentDueBy must
// refuse another user's payment (NOT_FOUND), decline the declining test
// token (PAYMENT_DECLINED) leaving the order payable, move it to PLACED
// with the approving one, replay a retry with the same key, and refuse a
// second payment (CONFLICT). A provider whose orders are PLACED at once
// takes no payment through Plaza and is skipped.
func checkPayment(ctx context.Context, e *env) (string, error) {
	if e.v.pay == nil {
		return "", skipf("the connector takes no payment (%ss)", e.v.entity)
	}
	m, err := e.prepare(ctx, false)
	if err != nil {
		return "", err
	}
	mine, err := e.do(ctx, m, e.key("payment"))
	if err != nil {
		return "", fmt.Errorf("%s: %w", m.what, err)
	}
	defer e.undo(context.WithoutCancel(ctx), m, mine.id)
	o, _ := mine.value.(connectors.GroceryOrder)
	if o.Status != connectors.StatusAwaitingPayment {
		return "", skipf("order %s is %s at once: the provider takes no payment through Plaza", mine.id, o.Status)
	}
	if o.PaymentDueBy == nil {
		return "", fmt.Errorf("order %s is AWAITING_PAYMENT without a paymentDueBy", mine.id)
	}
	pay := func(user, token, key string) (connectors.GroceryOrder, error) {
		cctx, done := e.call(ctx)
		defer done()
		return e.v.pay(cctx, connectors.PayOrderInput{UserID: user, OrderID: mine.id, PaymentToken: token, IdempotencyKey: key})
	}
	if _, err := pay(e.cfg.user+"-other", connectors.PaymentTokenApproved, ""); connectors.KindOf(err) != connectors.KindNotFound {
		return "", fmt.Errorf("another user's payment of %s: got %v, want NOT_FOUND", mine.id, err)
	}
	if _, err := pay(e.cfg.user, connectors.PaymentTokenDeclined, ""); connectors.KindOf(err) != connectors.KindPaymentDeclined {
		return "", fmt.Errorf("payment of %s with %s: got %v, want PAYMENT_DECLINED", mine.id, connectors.PaymentTokenDeclined, err)
	}
	res, err := func() ([]item, error) {
		cctx, done := e.call(ctx)
		defer done()
		return e.v.records(cctx, []string{mine.id})
	}()
	if err != nil || len(res) != 1 || res[0].err != nil {
		return "", fmt.Errorf("reading order %s back after a declined payment: %v", mine.id, err)
	}
	if s := statusOf(res[0].value); s != connectors.StatusAwaitingPayment {
		return "", fmt.Errorf("after a declined payment order %s is %s, want AWAITING_PAYMENT (payable again)", mine.id, s)
	}
	key := e.key("pay")
	paid, err := pay(e.cfg.user, connectors.PaymentTokenApproved, key)
	if err != nil {
		return "", fmt.Errorf("payment of %s with %s: %w", mine.id, connectors.PaymentTokenApproved, err)
	}
	if err := paid.Validate(); err != nil || paid.Status != connectors.StatusPlaced {
		return "", fmt.Errorf("paid order %s has status %q, want PLACED (%v)", mine.id, paid.Status, err)
	}
	again, err := pay(e.cfg.user, connectors.PaymentTokenApproved, key)
	if err != nil || again.ID != paid.ID || again.Status != connectors.StatusPlaced {
		return "", fmt.Errorf("a retried payment of %s with the same key: got %s %v, want the first payment's order", mine.id, again.Status, err)
	}
	if _, err := pay(e.cfg.user, connectors.PaymentTokenApproved, e.key("pay")); connectors.KindOf(err) != connectors.KindConflict {
		return "", fmt.Errorf("a second payment of %s: got %v, want CONFLICT", mine.id, err)
	}
	return fmt.Sprintf("%s: AWAITING_PAYMENT, declined card PAYMENT_DECLINED and still payable, PLACED once paid, retry replayed, second payment CONFLICT, another user's NOT_FOUND", mine.id), nil
}
