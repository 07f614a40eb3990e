import { useState } from 'preact/hooks';
import { useMutation, useQuery, useSubscription } from '@urql/preact';
import DoctorQuery from '../operations/Doctor.graphql';
import RescheduleAppointment from '../operations/RescheduleAppointment.graphql';
import GovServiceQuery from '../operations/GovService.graphql';
import RescheduleApplication from '../operations/RescheduleApplication.graphql';
import MyActivity from '../operations/MyActivity.graphql';
import OrderQuery from '../operations/Order.graphql';
import FollowStatus from '../operations/FollowStatus.graphql';
import CancelOrder from '../operations/CancelOrder.graphql';
import CancelAppointment from '../operations/CancelAppointment.graphql';
import CancelLegalConsultation from '../operations/CancelLegalConsultation.graphql';
import CancelApplication from '../operations/CancelApplication.graphql';
import { money, when } from '../format.js';
import { Loading, Problems, Picture } from '../ui.jsx';
import { PayLater } from './payment.jsx';

// The statuses after which nothing changes (the gateway completes the
// subscription there too); everything else is followed live.
const final = new Set(['DELIVERED', 'COMPLETED', 'CANCELLED', 'REJECTED', 'ANSWERED']);

// Which statuses each kind can be cancelled from (schema: cancel* mutations).
const cancellable = {
  order: new Set(['AWAITING_PAYMENT', 'PLACED', 'CONFIRMED']),
  appointment: new Set(['CONFIRMED']),
  legal: new Set(['PENDING', 'CONFIRMED']),
  application: new Set(['PENDING']),
};

// Status shows an order's or booking's status and, while it can still
// change, follows it with statusChanged: the update's node is normalised by
// graphcache, so every screen showing the object re-renders by itself.
// follow=false shows the status without following it.
function Status({ id, status, follow = true }) {
  const live = follow && !final.has(status);
  useSubscription({ query: FollowStatus, variables: { id }, pause: !live });
  return <span class={`status status-${status}`} data-status={status} aria-live="polite">{status.replace(/_/g, ' ').toLowerCase()}</span>;
}

// A websocket holds at most PLAZA_SUBSCRIPTIONS_PER_CONNECTION (20)
// subscriptions; Mine follows the newest moving objects up to followLimit,
// leaving room for a detail page's own. The rest update on Refresh.
const followLimit = 15;

function following(me) {
  const moving = [me.orders, me.appointments, me.legalConsultations, me.applications, me.consultations]
    .flatMap((c) => c.edges.map((e) => e.node))
    .filter((n) => !final.has(n.status));
  return new Set(moving.slice(0, followLimit).map((n) => n.id));
}

function Cancel({ kind, id, status, mutation, field }) {
  const [res, run] = useMutation(mutation);
  if (!cancellable[kind].has(status)) return null;
  return (
    <>
      <button type="button" disabled={res.fetching} onClick={() => run({ id })}>Cancel</button>
      {res.error && <Problems result={res} />}
      {res.data && !res.data[field] && <span class="muted">Not cancelled.</span>}
    </>
  );
}

// SlotPicker is a Reschedule button that opens a choice of slots (read
// with query, paused until then, and picked out of its answer by pick)
// and moves the booking with mutation, answered under field.
function SlotPicker({ id, query, variables, pick, mutation, field }) {
  const [open, setOpen] = useState(false);
  const [slot, setSlot] = useState('');
  // Slots change under every booking: read them afresh when asked for.
  const [read] = useQuery({ query, variables, pause: !open, requestPolicy: 'cache-and-network' });
  const [res, move] = useMutation(mutation);
  if (!open) return <button type="button" onClick={() => setOpen(true)}>Reschedule</button>;
  const slots = read.data ? pick(read.data) : [];
  return (
    <form class="form" aria-label="Reschedule" onSubmit={(e) => { e.preventDefault(); move({ id, slotId: slot || slots[0].id }).then((r) => r.data && r.data[field] && setOpen(false)); }}>
      <Problems result={read} />
      {slots.length ? (
        <label>New time
          <select name="newslot" value={slot || slots[0].id} onChange={(e) => setSlot(e.target.value)}>
            {slots.slice(0, 12).map((s) => <option key={s.id} value={s.id}>{when(s.start)}</option>)}
          </select>
        </label>
      ) : !read.fetching && <p class="muted">No other free slot.</p>}
      <button type="submit" class="primary" disabled={!slots.length || res.fetching}>Move</button>
      {res.error && <Problems result={res} />}
    </form>
  );
}

// Reschedule moves a CONFIRMED appointment to another free slot of the
// same doctor; the doctor's slots are read only once it is asked for.
function Reschedule({ appointment: a }) {
  const pick = (data) => ((data.node && data.node.slots) || []).filter((s) => s.available && s.start !== a.start);
  return <SlotPicker id={a.id} query={DoctorQuery} variables={{ id: a.doctor.id }} pick={pick} mutation={RescheduleAppointment} field="rescheduleAppointment" />;
}

// RescheduleVisit moves a PENDING application to another free slot of its
// office (the service's offices, as the office page reads them).
function RescheduleVisit({ application: a }) {
  const pick = (data) => {
    const office = ((data.node && data.node.offices) || []).find((o) => o.id === a.office.id);
    return ((office && office.slots) || []).filter((s) => s.available && (!a.visitSlot || s.id !== a.visitSlot.id));
  };
  return <SlotPicker id={a.id} query={GovServiceQuery} variables={{ id: a.service.id }} pick={pick} mutation={RescheduleApplication} field="rescheduleApplication" />;
}

// Activity is "My orders and bookings": every order, appointment, question,
// legal consultation and application, at every provider.
export function Activity({ query }) {
  const [res, retry] = useQuery({ query: MyActivity, requestPolicy: 'cache-and-network' });
  const me = res.data && res.data.me;
  const placed = query.get('placed');
  const followed = me ? following(me) : new Set();
  return (
    <section class="activity">
      <h1>My orders and bookings</h1>
      {placed && <p class="ok" role="status">Order placed. <a href={`/app/order/${encodeURIComponent(placed)}`}>Follow it</a>.</p>}
      <Problems result={res} retry={retry} />
      {res.fetching && !me && <Loading />}
      {me && (
        <>
          <h2>Orders</h2>
          <ul class="items" data-list="orders">
            {me.orders.edges.map(({ node: o }) => (
              <li key={o.id} data-id={o.id} class={o.id === placed ? 'new' : ''}>
                <a class="card-title" href={`/app/order/${encodeURIComponent(o.id)}`}>{o.store ? o.store.name : 'Store unavailable'} · {money(o.total)}</a>
                <span class="card-sub">{o.items.map((i) => `${i.quantity}× ${i.product ? i.product.name : '?'}`).join(', ')}</span>
                <span class="card-sub">{o.slot ? `Delivery ${when(o.slot.start)}` : ''}</span>
                <Status id={o.id} status={o.status} follow={followed.has(o.id)} />
                <PayLater order={o} />
                <Cancel kind="order" id={o.id} status={o.status} mutation={CancelOrder} field="cancelGroceryOrder" />
              </li>
            ))}
            {me.orders.edges.length === 0 && <li class="muted">No orders yet.</li>}
          </ul>
          <h2>Appointments</h2>
          <ul class="items" data-list="appointments">
            {me.appointments.edges.map(({ node: a }) => (
              <li key={a.id} data-id={a.id}>
                <span class="card-title">{a.doctor ? `${a.doctor.name}, ${a.doctor.specialty}` : 'Doctor unavailable'}</span>
                <span class="card-sub">{when(a.start)} · {a.reason}</span>
                <Status id={a.id} status={a.status} follow={followed.has(a.id)} />
                <Cancel kind="appointment" id={a.id} status={a.status} mutation={CancelAppointment} field="cancelAppointment" />
                {a.status === 'CONFIRMED' && a.doctor && <Reschedule appointment={a} />}
              </li>
            ))}
            {me.appointments.edges.length === 0 && <li class="muted">No appointments.</li>}
          </ul>
          <h2>Questions to doctors</h2>
          <ul class="items" data-list="consultations">
            {me.consultations.edges.map(({ node: c }) => (
              <li key={c.id} data-id={c.id}><span class="card-title">{c.question}</span><span class="card-sub">{c.answer || c.specialty}</span><Status id={c.id} status={c.status} follow={followed.has(c.id)} /></li>
            ))}
            {me.consultations.edges.length === 0 && <li class="muted">No questions.</li>}
          </ul>
          <h2>Legal consultations</h2>
          <ul class="items" data-list="legal">
            {me.legalConsultations.edges.map(({ node: l }) => (
              <li key={l.id} data-id={l.id}>
                <span class="card-title">{l.topic}{l.lawyer ? ` with ${l.lawyer.name}` : ''}</span>
                <span class="card-sub">{l.scheduledAt ? when(l.scheduledAt) : when(l.createdAt)}</span>
                <Status id={l.id} status={l.status} follow={followed.has(l.id)} />
                <Cancel kind="legal" id={l.id} status={l.status} mutation={CancelLegalConsultation} field="cancelLegalConsultation" />
              </li>
            ))}
            {me.legalConsultations.edges.length === 0 && <li class="muted">No legal consultations.</li>}
          </ul>
          <h2>Applications</h2>
          <ul class="items" data-list="applications">
            {me.applications.edges.map(({ node: a }) => (
              <li key={a.id} data-id={a.id}>
                <span class="card-title">{a.service ? a.service.name : 'Service unavailable'}</span>
                <span class="card-sub">{[a.office && a.office.name, a.visitSlot && when(a.visitSlot.start)].filter(Boolean).join(' · ') || a.documents.join(', ')}</span>
                <Status id={a.id} status={a.status} follow={followed.has(a.id)} />
                <Cancel kind="application" id={a.id} status={a.status} mutation={CancelApplication} field="cancelApplication" />
                {a.status === 'PENDING' && a.service && a.office && <RescheduleVisit application={a} />}
              </li>
            ))}
            {me.applications.edges.length === 0 && <li class="muted">No applications.</li>}
          </ul>
          <button type="button" onClick={() => retry({ requestPolicy: 'network-only' })}>Refresh</button>
        </>
      )}
    </section>
  );
}

// OrderPage is one grocery order, its status followed live until it is final.
export function OrderPage({ params }) {
  const [res, retry] = useQuery({ query: OrderQuery, variables: { id: params.id }, requestPolicy: 'cache-and-network' });
  const o = res.data && res.data.node;
  return (
    <section class="detail order">
      <Problems result={res} retry={retry} />
      {res.fetching && !o && <Loading />}
      {o && (
        <>
          <h1>{o.store && <Picture image={o.store.logo} alt="" size={40} />} Order from {o.store ? o.store.name : 'an unavailable store'}</h1>
          <p>Status: <Status id={o.id} status={o.status} /></p>
          <p class="muted">Placed {when(o.createdAt)}{o.slot ? ` · delivery ${when(o.slot.start)}` : ''}</p>
          <ul class="lines">
            {o.items.map((i, n) => (
              <li key={n}><span class="card-title">{i.quantity}× {i.product ? i.product.name : 'Product unavailable'}</span><span class="price">{money(i.lineTotal)}</span></li>
            ))}
          </ul>
          <p class="total">Total <b>{money(o.total)}</b></p>
          <PayLater order={o} />
          <Cancel kind="order" id={o.id} status={o.status} mutation={CancelOrder} field="cancelGroceryOrder" />
        </>
      )}
    </section>
  );
}
