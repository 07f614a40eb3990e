import { useState } from 'preact/hooks';
import { useMutation, useQuery } from '@urql/preact';
import StoreQuery from '../operations/Store.graphql';
import PlaceOrder from '../operations/PlaceOrder.graphql';
import { useSignal } from '../signal.js';
import { cart, clear, setQuantity } from '../cart.js';
import { navigate } from '../router.js';
import { money, when, idempotencyKey } from '../format.js';
import { Problems } from '../ui.jsx';
import { Payment } from './payment.jsx';

// CartPage is the cart and its checkout: a delivery slot of the cart's
// store, then placeGroceryOrder with an idempotency key (a retried click
// places one order), then, when the provider takes payment through Plaza
// (the order is AWAITING_PAYMENT), the payment step.
export function CartPage() {
  const c = useSignal(cart);
  // A placed order is no longer in the cart (a second click cannot order
  // it again); one awaiting payment stays here until paid, or payable
  // from Mine when the user leaves.
  const [unpaid, setUnpaid] = useState(null);
  if (unpaid) return <section class="cart"><h1>Checkout</h1><Payment order={unpaid} onPaid={paid} /></section>;
  if (!c.items.length) return <section><h1>Cart</h1><p class="muted">Your cart is empty. <a href="/app/search">Find something</a>.</p></section>;
  const total = c.items.reduce((n, i) => n + i.price.amount * i.quantity, 0);
  return (
    <section class="cart">
      <h1>Cart</h1>
      <p class="muted">From <a href={`/app/store/${encodeURIComponent(c.store.id)}`}>{c.store.name}</a></p>
      <ul class="lines">
        {c.items.map((i) => (
          <li key={i.id}>
            <span class="card-title">{i.name}</span>
            <span class="qty">
              <button type="button" aria-label={`One less ${i.name}`} onClick={() => setQuantity(i.id, i.quantity - 1)}>−</button>
              <span data-qty>{i.quantity}</span>
              <button type="button" aria-label={`One more ${i.name}`} onClick={() => setQuantity(i.id, i.quantity + 1)}>+</button>
            </span>
            <span class="price">{money({ amount: i.price.amount * i.quantity, currency: i.price.currency })}</span>
          </li>
        ))}
      </ul>
      <p class="total">Items <b>{money({ amount: total, currency: c.items[0].price.currency })}</b></p>
      <Checkout store={c.store} items={c.items} total={total} onUnpaid={setUnpaid} />
    </section>
  );
}

function paid(id) {
  navigate('/me?placed=' + encodeURIComponent(id));
}

function Checkout({ store, items, total, onUnpaid }) {
  const [res, retry] = useQuery({ query: StoreQuery, variables: { id: store.id }, requestPolicy: 'cache-and-network' });
  const s = res.data && res.data.node;
  // The store's minimum order and delivery fee, as its provider states them
  // (null: not said). Below the minimum the order cannot be placed (the
  // store refuses it with BELOW_MINIMUM_ORDER).
  const short = s && s.minimumOrder && total < s.minimumOrder.amount ? s.minimumOrder : null;
  const slots = ((res.data && res.data.node && res.data.node.deliverySlots) || []).filter((s) => s.remaining > 0);
  const [slot, setSlot] = useState('');
  const [key] = useState(idempotencyKey);
  const [placed, place] = useMutation(PlaceOrder);
  async function submit(e) {
    e.preventDefault();
    const r = await place({ input: { storeId: store.id, slotId: slot || slots[0].id, items: items.map((i) => ({ productId: i.id, quantity: i.quantity })), idempotencyKey: key } });
    const o = r.data && r.data.placeGroceryOrder;
    if (!o) return;
    if (o.status === 'AWAITING_PAYMENT') onUnpaid(o);
    clear();
    if (o.status !== 'AWAITING_PAYMENT') paid(o.id);
  }
  return (
    <form class="form" aria-label="Checkout" onSubmit={submit}>
      <h2>Delivery</h2>
      <Problems result={res} retry={retry} />
      {slots.length ? (
        <label>Delivery slot
          <select name="slot" value={slot || slots[0].id} onChange={(e) => setSlot(e.target.value)}>
            {slots.slice(0, 12).map((s) => <option key={s.id} value={s.id}>{when(s.start)} ({s.remaining} left)</option>)}
          </select>
        </label>
      ) : !res.fetching && <p class="muted">No delivery slot is free.</p>}
      {s && s.deliveryFee && <p class="muted" data-fee>Delivery fee {s.deliveryFee.amount === 0 ? 'free' : money(s.deliveryFee)}</p>}
      {short && <p class="muted" data-minimum>The store's minimum order is {money(short)} ({money({ amount: short.amount - total, currency: short.currency })} more).</p>}
      <button type="submit" class="primary" disabled={!slots.length || placed.fetching || !!short}>Place order</button>
      {placed.error && <Problems result={placed} />}
    </form>
  );
}
