import { useState } from 'preact/hooks';
import { useMutation, useQuery } from '@urql/preact';
import DoctorQuery from '../operations/Doctor.graphql';
import LawyerQuery from '../operations/Lawyer.graphql';
import BookDoctor from '../operations/BookDoctor.graphql';
import AskDoctor from '../operations/AskDoctor.graphql';
import RequestLegal from '../operations/RequestLegal.graphql';
import { useSignal } from '../signal.js';
import { session } from '../session.js';
import { money, when, idempotencyKey } from '../format.js';
import { Loading, Problems, Stars, Picture } from '../ui.jsx';

// MutationResult shows what a mutation answered: done, or why not.
export function MutationResult({ res, done }) {
  if (res.fetching) return <p class="muted">Sending…</p>;
  if (res.error) return <Problems result={res} />;
  if (res.data) return <p class="ok" role="status">{done}</p>;
  return null;
}

function NeedsSignIn() {
  return <p class="muted"><a href="/app/signin">Sign in</a> to book or ask.</p>;
}

function BookForm({ doctor }) {
  const slots = (doctor.slots || []).filter((s) => s.available);
  const [slot, setSlot] = useState('');
  const [reason, setReason] = useState('');
  const [key] = useState(idempotencyKey);
  const [res, book] = useMutation(BookDoctor);
  if (!doctor.slots) return <p class="muted">Slots are missing (see above).</p>;
  if (!slots.length) return <p class="muted">No free slots.</p>;
  const appt = res.data && res.data.bookDoctorAppointment;
  return (
    <form class="form" aria-label="Book an appointment" onSubmit={(e) => { e.preventDefault(); book({ input: { doctorId: doctor.id, slotId: slot || slots[0].id, reason, idempotencyKey: key } }); }}>
      <label>Time
        <select name="slot" value={slot || slots[0].id} onChange={(e) => setSlot(e.target.value)}>
          {slots.slice(0, 12).map((s) => <option key={s.id} value={s.id}>{when(s.start)}</option>)}
        </select>
      </label>
      <label>Reason <input name="reason" value={reason} onInput={(e) => setReason(e.target.value)} required maxLength={500} /></label>
      <button type="submit" class="primary" disabled={res.fetching || !!appt}>Book</button>
      <MutationResult res={res} done={appt && `Booked: ${when(appt.start)}, ${appt.status}.`} />
    </form>
  );
}

function AskForm({ doctor }) {
  const [question, setQuestion] = useState('');
  const [key] = useState(idempotencyKey);
  const [res, ask] = useMutation(AskDoctor);
  const c = res.data && res.data.askDoctor;
  return (
    <form class="form" aria-label="Ask a doctor" onSubmit={(e) => { e.preventDefault(); ask({ input: { doctorId: doctor.id, specialty: doctor.specialty, question, idempotencyKey: key } }); }}>
      <label>Question <textarea name="question" value={question} onInput={(e) => setQuestion(e.target.value)} required maxLength={2000} /></label>
      <button type="submit" disabled={res.fetching || !!c}>Ask</button>
      <MutationResult res={res} done={c && `Asked: ${c.status}. The answer will appear under Mine.`} />
    </form>
  );
}

export function DoctorPage({ params }) {
  const { token } = useSignal(session);
  const [res, retry] = useQuery({ query: DoctorQuery, variables: { id: params.id } });
  const d = res.data && res.data.node;
  return (
    <section class="detail">
      <Problems result={res} retry={retry} />
      {res.fetching && !d && <Loading />}
      {d && (
        <>
          <p class="kind kind-Doctor">Doctor</p>
          <h1 class="with-pic"><Picture image={d.portrait} alt={`Portrait of ${d.name}`} size={64} />{d.name}</h1>
          <p>{d.specialty} · {d.hospital} · {d.city}</p>
          <p><Stars rating={d.rating} reviews={d.reviewCount} /> · {money(d.fee)} per visit · speaks {d.languages.join(', ')}</p>
          <p>{d.bio}</p>
          <h2>Book an appointment</h2>
          {token ? <BookForm doctor={d} /> : <NeedsSignIn />}
          <h2>Ask a question</h2>
          {token ? <AskForm doctor={d} /> : <NeedsSignIn />}
        </>
      )}
    </section>
  );
}

function LegalForm({ lawyer }) {
  const [topic, setTopic] = useState(lawyer.practiceAreas[0] || '');
  const [description, setDescription] = useState('');
  const [key] = useState(idempotencyKey);
  const [res, request] = useMutation(RequestLegal);
  const c = res.data && res.data.requestLegalConsultation;
  return (
    <form class="form" aria-label="Request a consultation" onSubmit={(e) => { e.preventDefault(); request({ input: { lawyerId: lawyer.id, topic, description, idempotencyKey: key } }); }}>
      <label>Topic
        <select name="topic" value={topic} onChange={(e) => setTopic(e.target.value)}>
          {lawyer.practiceAreas.map((a) => <option key={a} value={a}>{a}</option>)}
        </select>
      </label>
      <label>What happened <textarea name="description" value={description} onInput={(e) => setDescription(e.target.value)} required maxLength={2000} /></label>
      <button type="submit" class="primary" disabled={res.fetching || !!c}>Request consultation</button>
      <MutationResult res={res} done={c && `Requested: ${c.status}${c.scheduledAt ? `, ${when(c.scheduledAt)}` : ''}.`} />
    </form>
  );
}

export function LawyerPage({ params }) {
  const { token } = useSignal(session);
  const [res, retry] = useQuery({ query: LawyerQuery, variables: { id: params.id } });
  const l = res.data && res.data.node;
  return (
    <section class="detail">
      <Problems result={res} retry={retry} />
      {res.fetching && !l && <Loading />}
      {l && (
        <>
          <p class="kind kind-Lawyer">Lawyer</p>
          <h1 class="with-pic"><Picture image={l.portrait} alt={`Portrait of ${l.name}`} size={64} />{l.name}</h1>
          <p>{l.firm} · {l.city}</p>
          <p><Stars rating={l.rating} reviews={l.reviewCount} /> · {money(l.fee)} per consultation · {l.practiceAreas.join(', ')}</p>
          <p>{l.bio}</p>
          <h2>Request a consultation</h2>
          {token ? <LegalForm lawyer={l} /> : <NeedsSignIn />}
        </>
      )}
    </section>
  );
}
