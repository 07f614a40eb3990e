import { useState } from 'preact/hooks';
import { useQuery } from '@urql/preact';
import ProductQuery from '../operations/Product.graphql';
import StoreQuery from '../operations/Store.graphql';
import { add, otherStore } from '../cart.js';
import { money } from '../format.js';
import { Loading, Problems, Stars } from '../ui.jsx';

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
          <h1>{p.name}</h1>
          <p class="price big">{money(p.price)} <span class="muted">/ {p.unit}</span></p>
          <p><Stars rating={p.rating} /> · {p.category} · from {p.origin}</p>
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
          <h1>{s.name}</h1>
          <p><Stars rating={s.rating} /> · {s.city} · {s.address}</p>
          <p class="muted">{s.tags.join(' · ')} — {s.provider.name}</p>
          <h2>Products</h2>
          {s.products ? (
            <div class="list">
              {s.products.edges.map(({ node }) => (
                <a class="card" key={node.id} href={`/app/product/${encodeURIComponent(node.id)}`}>
                  <span class="card-main"><span class="card-title">{node.name}</span><span class="card-sub">{node.unit}{node.inStock ? '' : ' · out of stock'}</span></span>
                  <span class="card-side"><span class="price">{money(node.price)}</span></span>
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

function SlotList({ slots }) {
  return <ul class="slots">{slots.slice(0, 6).map((sl) => <li key={sl.id}>{new Date(sl.start).toLocaleString()} – {new Date(sl.end).toLocaleTimeString()} · {sl.remaining} left</li>)}</ul>;
}
