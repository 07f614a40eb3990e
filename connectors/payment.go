package connectors

import "context"

// The payment step (contract 1.4). A grocery provider that takes payment
// through Plaza creates each order AWAITING_PAYMENT with a PaymentDueBy; the
// user pays it with PayOrder, which moves it to PLACED (and on along its
// delivery path). An order unpaid by PaymentDueBy is CANCELLED and its stock
// and slot capacity go back. A provider without the capability creates
// orders PLACED (paid on delivery or elsewhere), as before 1.4.

// Test payment tokens every provider that implements OrderPayer accepts in
// its sandbox (the conformance kit pays with them), named after the test
// tokens payment processors publish, so no card number crosses Plaza.
const (
	// PaymentTokenApproved is a test card whose charge succeeds.
	PaymentTokenApproved = "tok_visa"
	// PaymentTokenDeclined is a test card whose charge is declined
	// (KindPaymentDeclined).
	PaymentTokenDeclined = "tok_chargeDeclined"
)

// PayOrderInput pays one of the user's AWAITING_PAYMENT orders.
type PayOrderInput struct {
	UserID  string `json:"userId"`
	OrderID string `json:"orderId"`
	// PaymentToken is the payment processor's token for the user's payment
	// method (never a card number).
	PaymentToken   string `json:"paymentToken"`
	IdempotencyKey string `json:"-"`
}

// OrderPayer is implemented by grocery providers that take payment through
// Plaza. PayOrder returns KindNotFound for an order that is not the user's,
// KindPaymentDeclined when the charge is refused (the order stays
// AWAITING_PAYMENT, payable again), KindConflict for an order already paid,
// cancelled or expired, and KindInvalid for a malformed input. A retry with
// the same idempotency key returns the first success and charges nothing.
type OrderPayer interface {
	PayOrder(ctx context.Context, in PayOrderInput) (GroceryOrder, error)
}
