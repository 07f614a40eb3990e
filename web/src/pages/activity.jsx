import { useMutation, useQuery } from '@urql/preact';
import MyActivity from '../operations/MyActivity.graphql';
import CancelOrder from '../operations/CancelOrder.graphql';
import { money, when } from '../format.js';
import { Loading, Problems } from '../ui.jsx';

function Status({ status }) {
  return <span class={`status status-${status}`}>{status.replace(/_/g, ' ').toLowerCase()}</span>;
}

// Activity is "My orders and bookings": every order, appointment, question,
// legal consultation and application, at every provider.
export function Activity({ query }) {
  const [res, retry] = useQuery({ query: MyActivity, requestPolicy: 'cache-and-network' });
  const [, cancel] = useMutation(CancelOrder);
  const me = res.data && res.data.me;
  const placed = query.get('placed');
  return (
    <section class="activity">
      <h1>My orders and bookings</h1>
      {placed && <p class="ok" role="status">Order placed.</p>}
      <Problems result={res} retry={retry} />
      {res.fetching && !me && <Loading />}
      {me && (
        <>
          <h2>Orders</h2>
          <ul class="items" data-list="orders">
            {me.orders.edges.map(({ node: o }) => (
              <li key={o.id} data-id={o.id} class={o.id === placed ? 'new' : ''}>
                <span class="card-title">{o.store ? o.store.name : 'Store unavailable'} · {money(o.total)}</span>
                <span class="card-sub">{o.items.map((i) => `${i.quantity}× ${i.product ? i.product.name : '?'}`).join(', ')}</span>
                <span class="card-sub">{o.slot ? `Delivery ${when(o.slot.start)}` : ''}</span>
                <Status status={o.status} />
                {(o.status === 'PLACED' || o.status === 'CONFIRMED') && <button type="button" onClick={() => cancel({ id: o.id })}>Cancel</button>}
              </li>
            ))}
            {me.orders.edges.length === 0 && <li class="muted">No orders yet.</li>}
          </ul>
          <h2>Appointments</h2>
          <ul class="items" data-list="appointments">
            {me.appointments.edges.map(({ node: a }) => (
              <li key={a.id}><span class="card-title">{a.doctor ? `${a.doctor.name}, ${a.doctor.specialty}` : 'Doctor unavailable'}</span><span class="card-sub">{when(a.start)} · {a.reason}</span><Status status={a.status} /></li>
            ))}
            {me.appointments.edges.length === 0 && <li class="muted">No appointments.</li>}
          </ul>
          <h2>Questions to doctors</h2>
          <ul class="items" data-list="consultations">
            {me.consultations.edges.map(({ node: c }) => (
              <li key={c.id}><span class="card-title">{c.question}</span><span class="card-sub">{c.answer || c.specialty}</span><Status status={c.status} /></li>
            ))}
            {me.consultations.edges.length === 0 && <li class="muted">No questions.</li>}
          </ul>
          <h2>Legal consultations</h2>
          <ul class="items" data-list="legal">
            {me.legalConsultations.edges.map(({ node: l }) => (
              <li key={l.id}><span class="card-title">{l.topic}{l.lawyer ? ` with ${l.lawyer.name}` : ''}</span><span class="card-sub">{l.scheduledAt ? when(l.scheduledAt) : when(l.createdAt)}</span><Status status={l.status} /></li>
            ))}
            {me.legalConsultations.edges.length === 0 && <li class="muted">No legal consultations.</li>}
          </ul>
          <h2>Applications</h2>
          <ul class="items" data-list="applications">
            {me.applications.edges.map(({ node: a }) => (
              <li key={a.id}><span class="card-title">{a.service ? a.service.name : 'Service unavailable'}</span><span class="card-sub">{a.documents.join(', ')}</span><Status status={a.status} /></li>
            ))}
            {me.applications.edges.length === 0 && <li class="muted">No applications.</li>}
          </ul>
          <button type="button" onClick={() => retry({ requestPolicy: 'network-only' })}>Refresh</button>
        </>
      )}
    </section>
  );
}
