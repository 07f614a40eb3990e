import { useState } from 'preact/hooks';
import { useQuery } from '@urql/preact';
import ProductQuery from '../operations/Product.graphql';
import StoreQuery from '../operations/Store.graphql';
import { add, otherStore } from '../cart.js';
import { money } from '../format.js';
import { Loading, Problems, Stars, Picture, Price } from '../ui.jsx';

function AddToCart({ product }) {
  const [added, setAdded] = useState(false);
  if (!product.inStock) return <p class="muted">Out of stock</p>;
  if (!product.store) return <p class="muted">The store cannot be reached; try again later.</p>;
  return (
    <div>
      <button type="button" class="primary" onClick={() => {
        if (otherStore(product) && !window.confirm('Your cart holds another store\u2019s items. Start a new cart?')) return;
        add(product, 1);
        setAdded(true);
      }}>Add to cart</button>
      {added && <span class="ok"> Added. <a href="/app/cart">Go to cart</a></span>}
    </div>
  );
}

export function ProductPage({ params }) {
  const [res, retry] = useQuery({ query: ProductQuery, variables: { id: params.id } });
  const p = res.data && res.data.node;
  return (
    <section class="detail">
      <Problems result={res} retry={retry} />
      {res.fetching && !p && <Loading />}
      {p && (
        <>
          <p class="kind kind-Product">Product</p>
          {p.images.length > 0 && <div class="gallery">{p.images.map((im, i) => <Picture key={i} image={im} alt={i ? '' : p.name} size={200} class="photo" />)}</div>}
          <h1>{p.name}</h1>
          <p class="big"><Price price={p.price} original={p.originalPrice} discount={p.discountPercent} /> <span class="muted">/ {p.unit}</span></p>
          <p><Stars rating={p.rating} reviews={p.reviewCount} /> · {p.category} · from {p.origin}</p>
          <p>{p.description}</p>
          <p class="muted">{p.inStock ? `${p.stock} in stock` : 'Out of stock'} · sold by {p.store ? <a href={`/app/store/${encodeURIComponent(p.store.id)}`}>{p.store.name}</a> : 'a store that cannot be reached'} ({p.provider.name})</p>
          <AddToCart product={p} />
        </>
      )}
      {res.data && !p && <p>This product no longer exists.</p>}
    </section>
  );
}

export function StorePage({ params }) {
  const [res, retry] = useQuery({ query: StoreQuery, variables: { id: params.id } });
  const s = res.data && res.data.node;
  return (
    <section class="detail">
      <Problems result={res} retry={retry} />
      {res.fetching && !s && <Loading />}
      {s && (
        <>
          <p class="kind kind-Store">Store</p>
          <h1 class="with-pic"><Picture image={s.logo} alt="" size={48} />{s.name}</h1>
          <p><Stars rating={s.rating} reviews={s.reviewCount} /> · {s.city} · {s.address}</p>
          <p class="store-facts">
            {s.openNow != null && <span class={s.openNow ? 'open' : 'closed'}>{s.openNow ? 'Open now' : 'Closed now'}</span>}
            {s.minimumOrder && <span>Minimum order {money(s.minimumOrder)}</span>}
            {s.deliveryFee && <span>Delivery {s.deliveryFee.amount === 0 ? 'free' : money(s.deliveryFee)}</span>}
          </p>
          {s.openingHours.length > 0 && <Hours hours={s.openingHours} />}
          <p class="muted">{s.tags.join(' · ')} — {s.provider.name}</p>
          <h2>Products</h2>
          {s.products ? (
            <div class="list">
              {s.products.edges.map(({ node }) => (
                <a class="card" key={node.id} href={`/app/product/${encodeURIComponent(node.id)}`}>
                  {node.images[0] ? <Picture image={node.images[0]} alt="" size={44} /> : <span class="pic none" aria-hidden="true" />}
                  <span class="card-main"><span class="card-title">{node.name}</span><span class="card-sub">{node.unit}{node.inStock ? '' : ' · out of stock'}</span></span>
                  <span class="card-side"><Price price={node.price} original={node.originalPrice} discount={node.discountPercent} /></span>
                </a>
              ))}
            </div>
          ) : <p class="muted">Products are missing (see above).</p>}
          <h2>Next delivery slots</h2>
          {s.deliverySlots ? <SlotList slots={s.deliverySlots} /> : <p class="muted">Delivery slots are missing (see above).</p>}
        </>
      )}
    </section>
  );
}

const dayName = { MONDAY: 'Mon', TUESDAY: 'Tue', WEDNESDAY: 'Wed', THURSDAY: 'Thu', FRIDAY: 'Fri', SATURDAY: 'Sat', SUNDAY: 'Sun' };

// Hours lists the opening periods in the store's city's local time, a day's
// periods on one line.
function Hours({ hours }) {
  const byDay = new Map();
  hours.forEach((h) => byDay.set(h.day, [...(byDay.get(h.day) || []), h.opens === '00:00' && h.closes === '24:00' ? 'all day' : `${h.opens}–${h.closes}`]));
  return (
    <details class="hours"><summary>Opening hours (local time)</summary>
      <ul>{[...byDay].map(([d, p]) => <li key={d}><b>{dayName[d]}</b> {p.join(', ')}</li>)}</ul>
    </details>
  );
}

function SlotList({ slots }) {
  return <ul class="slots">{slots.slice(0, 6).map((sl) => <li key={sl.id}>{new Date(sl.start).toLocaleString()} – {new Date(sl.end).toLocaleTimeString()} · {sl.remaining} left</li>)}</ul>;
}
