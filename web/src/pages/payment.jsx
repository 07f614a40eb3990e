import { useState } from 'preact/hooks';
import { useMutation } from '@urql/preact';
import PayOrder from '../operations/PayOrder.graphql';
import { money, when, idempotencyKey } from '../format.js';
import { Problems } from '../ui.jsx';

// The sandbox cards of the demo providers' payment processor, by token
// (Plaza never sees a card number).
const cards = [
  { token: 'tok_visa', label: 'Test Visa •••• 4242 (approved)' },
  { token: 'tok_chargeDeclined', label: 'Test card •••• 0002 (declined)' },
];

// Payment pays an AWAITING_PAYMENT order: the checkout's last step, and
// Mine's and the order page's for an order left unpaid. One idempotency key
// for the payment: a retried click charges once; a declined card charged
// nothing, so paying again with another card under the same key is a new
// attempt. The paid order (PLACED) lands in graphcache, so every screen
// showing it moves on by itself; onPaid runs after.
export function Payment({ order, onPaid = () => {} }) {
  const [token, setToken] = useState(cards[0].token);
  const [key] = useState(idempotencyKey);
  const [paid, pay] = useMutation(PayOrder);
  async function submit(e) {
    e.preventDefault();
    const r = await pay({ input: { orderId: order.id, paymentToken: token, idempotencyKey: key } });
    if (r.data && r.data.payGroceryOrder) onPaid(order.id);
  }
  const errors = (paid.error && paid.error.graphQLErrors) || [];
  const declined = errors.some((e) => e.extensions && e.extensions.code === 'PAYMENT_DECLINED');
  const due = order.total.amount + (order.deliveryFee ? order.deliveryFee.amount : 0);
  return (
    <form class="form" aria-label="Payment" onSubmit={submit} data-status={order.status}>
      <h2>Payment</h2>
      <p>To pay <b data-due>{money({ amount: due, currency: order.total.currency })}</b>{order.deliveryFee && order.deliveryFee.amount > 0 ? ' with delivery' : ''}.
        {order.paymentDueBy && <> The order is held until {when(order.paymentDueBy)}, then cancelled unless paid.</>}</p>
      <label>Card
        <select name="card" value={token} onChange={(e) => setToken(e.target.value)}>
          {cards.map((c) => <option key={c.token} value={c.token}>{c.label}</option>)}
        </select>
      </label>
      {declined
        ? <p class="problems" role="alert" data-code="PAYMENT_DECLINED">The card was declined and nothing was charged. Choose another card.</p>
        : paid.error && <Problems result={paid} />}
      <button type="submit" class="primary" disabled={paid.fetching}>Pay</button>
    </form>
  );
}

// PayLater is the Pay button of an order left AWAITING_PAYMENT (the user
// left the checkout before paying): the time it is held until, then the
// payment step once asked for. Nothing for an order in any other status.
export function PayLater({ order }) {
  const [open, setOpen] = useState(false);
  if (order.status !== 'AWAITING_PAYMENT') return null;
  return (
    <>
      {order.paymentDueBy && !open && <span class="card-sub" data-pay-by={order.paymentDueBy}>Pay by {when(order.paymentDueBy)}, or it is cancelled.</span>}
      {open ? <Payment order={order} onPaid={() => setOpen(false)} /> : <button type="button" class="primary" onClick={() => setOpen(true)}>Pay</button>}
    </>
  );
}
