// Shared pieces: problems (a missing part of a page, with a retry), cards.
import { money, pathOf, verticalLabel } from './format.js';

// describe turns one GraphQL error into words: which part of the page is
// missing and why (the provider named in extensions.provider).
function describe(e) {
  const ext = e.extensions || {};
  const part = e.path && e.path.length ? e.path.filter((p) => typeof p === 'string').join(' › ') : 'this page';
  let why = e.message;
  if (ext.provider) why = `provider ${ext.provider} is unavailable`;
  else if (ext.code === 'UNAUTHENTICATED') why = 'you are not signed in';
  return { part, why, code: ext.code };
}

// Problems lists what is missing from a result and offers a retry; the rest
// of the page renders from whatever data came back.
export function Problems({ result, retry }) {
  const errors = (result.error && result.error.graphQLErrors) || [];
  const network = result.error && result.error.networkError;
  const degraded = (result.extensions && result.extensions.plaza && result.extensions.plaza.degraded) || [];
  if (!errors.length && !network && !degraded.length) return null;
  return (
    <div class="problems" role="alert">
      {network && <p>The gateway cannot be reached: {network.message}</p>}
      {errors.map((e, i) => {
        const d = describe(e);
        return <p key={i} data-code={d.code}><b>Missing: {d.part}</b> — {d.why}.</p>;
      })}
      {degraded.length > 0 && <p>Some results are missing: {degraded.map((d) => (typeof d === 'string' ? d : d.provider || JSON.stringify(d))).join(', ')} did not answer.</p>}
      {retry && <button type="button" onClick={() => retry({ requestPolicy: 'network-only' })}>Retry</button>}
    </div>
  );
}

export function Loading() {
  return <p class="muted">Loading…</p>;
}

export function Stars({ rating }) {
  return rating == null ? null : <span class="rating" title={`rated ${rating.toFixed(1)} of 5`}>★ {rating.toFixed(1)}</span>;
}

// Card shows any search result or home item in one line or two.
export function Card({ node, reason, onOpen }) {
  if (!node) return null;
  let title = node.name, sub = '', price = null;
  switch (node.__typename) {
    case 'Product': sub = [node.unit, node.store && node.store.name, node.provider && node.provider.name].filter(Boolean).join(' · '); price = money(node.price); break;
    case 'Store': sub = [node.city, node.address].filter(Boolean).join(' · '); break;
    case 'Doctor': sub = [node.specialty, node.hospital, node.city].filter(Boolean).join(' · '); break;
    case 'Lawyer': sub = [node.practiceAreas && node.practiceAreas.join(', '), node.firm].filter(Boolean).join(' · '); break;
    case 'GovService': sub = [node.category, node.processingDays != null && `${node.processingDays} days`].filter(Boolean).join(' · '); price = money(node.fee); break;
    case 'Provider': sub = verticalLabel[node.vertical] || node.vertical; break;
  }
  return (
    <a class="card" href={pathOf(node)} data-kind={node.__typename} onClick={onOpen}>
      <span class={`kind kind-${node.__typename}`}>{node.__typename === 'GovService' ? 'Service' : node.__typename}</span>
      <span class="card-main">
        <span class="card-title">{title}</span>
        {sub && <span class="card-sub">{sub}</span>}
        {reason && <span class="reason">{reason}</span>}
      </span>
      <span class="card-side">
        {price && <span class="price">{price}</span>}
        <Stars rating={node.rating} />
      </span>
    </a>
  );
}
