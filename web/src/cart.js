// The cart lives in the browser (localStorage), so it survives a reload and
// costs the gateway nothing until checkout. A grocery order is placed at
// one store, so the cart holds the items of one store at a time.
import { signal } from './signal.js';

const KEY = 'plaza.cart';

function load() {
  try {
    return JSON.parse(localStorage.getItem(KEY)) || { store: null, items: [] };
  } catch {
    return { store: null, items: [] };
  }
}

export const cart = signal(load());

function save(c) {
  localStorage.setItem(KEY, JSON.stringify(c));
  cart.set(c);
}

// add puts quantity of product into the cart; a product of another store
// starts a new cart (the caller asks the user first).
export function add(product, quantity = 1) {
  let c = cart.get();
  if (c.store && c.store.id !== product.store.id) c = { store: null, items: [] };
  const items = c.items.filter((i) => i.id !== product.id);
  const prev = c.items.find((i) => i.id === product.id);
  items.push({ id: product.id, name: product.name, price: product.price, quantity: (prev ? prev.quantity : 0) + quantity });
  save({ store: { id: product.store.id, name: product.store.name }, items });
}

export function setQuantity(id, quantity) {
  const c = cart.get();
  const items = c.items.map((i) => (i.id === id ? { ...i, quantity } : i)).filter((i) => i.quantity > 0);
  save(items.length ? { ...c, items } : { store: null, items: [] });
}

export function clear() {
  save({ store: null, items: [] });
}

export function otherStore(product) {
  const c = cart.get();
  return c.store && product.store && c.store.id !== product.store.id;
}
