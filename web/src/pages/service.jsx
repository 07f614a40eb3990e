import { useState } from 'preact/hooks';
import { useMutation, useQuery } from '@urql/preact';
import ServiceQuery from '../operations/GovService.graphql';
import Apply from '../operations/ApplyForService.graphql';
import { useSignal } from '../signal.js';
import { session } from '../session.js';
import { money, when, idempotencyKey } from '../format.js';
import { Loading, Problems, Stars } from '../ui.jsx';
import { MutationResult } from './advice.jsx';

function useService(id) {
  const { city } = useSignal(session);
  return useQuery({ query: ServiceQuery, variables: { id, city: city || null } });
}

export function ServicePage({ params }) {
  const [res, retry] = useService(params.id);
  const s = res.data && res.data.node;
  return (
    <section class="detail">
      <Problems result={res} retry={retry} />
      {res.fetching && !s && <Loading />}
      {s && (
        <>
          <p class="kind kind-GovService">Public service</p>
          <h1>{s.name}</h1>
          <p>{s.category} · {money(s.fee)} · about {s.processingDays} days <Stars rating={s.rating} reviews={s.reviewCount} /></p>
          <p>{s.description}</p>
          <h2>Bring</h2>
          <ul>{s.requiredDocuments.map((d) => <li key={d}>{d}</li>)}</ul>
          <h2>Offices</h2>
          {s.offices ? (
            <div class="list">
              {s.offices.map((o) => (
                <a class="card" key={o.id} data-kind="Office" href={`/app/service/${encodeURIComponent(s.id)}/office/${encodeURIComponent(o.id)}`}>
                  <span class="card-main"><span class="card-title">{o.name}</span><span class="card-sub">{o.city} · {o.address}</span></span>
                  <span class="card-side">{o.slots.filter((x) => x.available).length} slots</span>
                </a>
              ))}
              {s.offices.length === 0 && <p class="muted">No office in this city; choose another city above.</p>}
            </div>
          ) : <p class="muted">Offices are missing (see above).</p>}
        </>
      )}
    </section>
  );
}

// OfficePage is one office of a service: its visit slots, and applying for
// the service at one of them with the required documents.
export function OfficePage({ params }) {
  const { token } = useSignal(session);
  const [res, retry] = useService(params.id);
  const s = res.data && res.data.node;
  const office = s && s.offices && s.offices.find((o) => o.id === params.office);
  return (
    <section class="detail">
      <Problems result={res} retry={retry} />
      {res.fetching && !s && <Loading />}
      {s && !office && !res.fetching && <p>This office does not handle {s.name} in the chosen city.</p>}
      {office && (
        <>
          <p class="kind">Office</p>
          <h1>{office.name}</h1>
          <p>{office.city} · {office.address}</p>
          <p>Handles <a href={`/app/service/${encodeURIComponent(s.id)}`}>{s.name}</a></p>
          <h2>Apply at a visit slot</h2>
          {token ? <ApplyForm service={s} office={office} /> : <p class="muted"><a href="/app/signin">Sign in</a> to apply.</p>}
        </>
      )}
    </section>
  );
}

function ApplyForm({ service, office }) {
  const slots = office.slots.filter((x) => x.available);
  const [slot, setSlot] = useState('');
  const [docs, setDocs] = useState(() => new Set());
  const [key] = useState(idempotencyKey);
  const [res, apply] = useMutation(Apply);
  const a = res.data && res.data.applyForGovService;
  if (!slots.length) return <p class="muted">No free visit slots at this office.</p>;
  const toggle = (d) => setDocs((prev) => { const n = new Set(prev); if (n.has(d)) n.delete(d); else n.add(d); return n; });
  const ready = service.requiredDocuments.every((d) => docs.has(d));
  return (
    <form class="form" aria-label="Apply for the service" onSubmit={(e) => { e.preventDefault(); apply({ input: { serviceId: service.id, officeId: office.id, slotId: slot || slots[0].id, documents: [...docs], idempotencyKey: key } }); }}>
      <label>Visit
        <select name="slot" value={slot || slots[0].id} onChange={(e) => setSlot(e.target.value)}>
          {slots.slice(0, 12).map((x) => <option key={x.id} value={x.id}>{when(x.start)}</option>)}
        </select>
      </label>
      <fieldset>
        <legend>I will bring</legend>
        {service.requiredDocuments.map((d) => (
          <label class="check" key={d}><input type="checkbox" checked={docs.has(d)} onChange={() => toggle(d)} /> {d}</label>
        ))}
      </fieldset>
      <button type="submit" class="primary" disabled={!ready || res.fetching || !!a}>Apply</button>
      {!ready && <p class="muted">Tick every required document.</p>}
      <MutationResult res={res} done={a && `Applied: ${a.status}.`} />
    </form>
  );
}
