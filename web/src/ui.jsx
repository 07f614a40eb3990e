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

// Stars shows a rating and, when the provider says, how many reviews it averages.
// short: the count alone, for cards.
export function Stars({ rating, reviews, short }) {
  if (rating == null) return null;
  return (
    <span class="rating" title={`rated ${rating.toFixed(1)} of 5`}>
      ★ {rating.toFixed(1)}{reviews > 0 && <span class="reviews" title={`${reviews} reviews`}> ({short ? reviews : `${reviews} ${reviews === 1 ? 'review' : 'reviews'}`})</span>}
    </span>
  );
}

// Picture is an Image of the schema drawn at most size CSS pixels wide,
// its height kept in proportion (width and height reserve the space, so the
// page does not jump when it loads). Lazy: lists hold many.
export function Picture({ image, alt, size = 48, class: cls = 'pic' }) {
  if (!image) return null;
  const w = Math.min(size, image.width || size);
  const h = image.width ? Math.round((w * image.height) / image.width) : w;
  return <img class={cls} src={image.url} alt={alt} width={w} height={h} loading="lazy" decoding="async" />;
}

// Price shows a price and, for a discounted product, the price before and
// the percent off.
export function Price({ price, original, discount, class: cls = 'price' }) {
  if (!price) return null;
  return (
    <span class={cls}>
      {money(price)}
      {original && discount > 0 && <> <s class="was">{money(original)}</s> <span class="off">−{discount}%</span></>}
    </span>
  );
}

// Card shows any search result or home item in one line or two.
export function Card({ node, reason, onOpen }) {
  if (!node) return null;
  let title = node.name, sub = '', price = null, pic = null;
  switch (node.__typename) {
    case 'Product': sub = [node.unit, node.store && node.store.name, node.provider && node.provider.name].filter(Boolean).join(' · '); price = <Price price={node.price} original={node.originalPrice} discount={node.discountPercent} />; pic = node.images && node.images[0]; break;
    case 'Store': sub = [node.openNow === true ? 'Open now' : node.openNow === false ? 'Closed' : '', node.city, node.address].filter(Boolean).join(' · '); pic = node.logo; break;
    case 'Doctor': sub = [node.specialty, node.hospital, node.city].filter(Boolean).join(' · '); pic = node.portrait; break;
    case 'Lawyer': sub = [node.practiceAreas && node.practiceAreas.join(', '), node.firm].filter(Boolean).join(' · '); pic = node.portrait; break;
    case 'GovService': sub = [node.category, node.processingDays != null && `${node.processingDays} days`].filter(Boolean).join(' · '); price = <span class="price">{money(node.fee)}</span>; break;
    case 'Provider': sub = verticalLabel[node.vertical] || node.vertical; pic = node.monogram; break; // aliased: Store.logo is nullable, Provider.logo not
  }
  return (
    <a class="card" href={pathOf(node)} data-kind={node.__typename} data-provider={node.provider && node.provider.name} onClick={onOpen}>
      {pic ? <Picture image={pic} alt="" size={44} /> : <span class="pic none" aria-hidden="true" />}
      <span class={`kind kind-${node.__typename}`}>{node.__typename === 'GovService' ? 'Service' : node.__typename}</span>
      <span class="card-main">
        <span class="card-title">{title}</span>
        {sub && <span class="card-sub">{sub}</span>}
        {reason && <span class="reason">{reason}</span>}
      </span>
      <span class="card-side">
        {price}
        <Stars rating={node.rating} reviews={node.reviewCount} short />
      </span>
    </a>
  );
}
