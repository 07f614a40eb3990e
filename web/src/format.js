// Display helpers.
export function money(m) {
  if (!m) return '';
  // A minus before the currency sign: −¥1.00 (ledger postings credit with negative amounts).
  const sign = m.amount < 0 ? '\u2212' : '';
  const v = (Math.abs(m.amount) / 100).toFixed(2);
  return m.currency === 'CNY' ? `${sign}¥${v}` : `${sign}${v} ${m.currency}`;
}

export function when(t) {
  if (!t) return '';
  return new Date(t).toLocaleString(undefined, { weekday: 'short', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
}

// path is the app page of a search result or home item.
export function pathOf(node) {
  switch (node && node.__typename) {
    case 'Product': return `/app/product/${encodeURIComponent(node.id)}`;
    case 'Store': return `/app/store/${encodeURIComponent(node.id)}`;
    case 'Doctor': return `/app/doctor/${encodeURIComponent(node.id)}`;
    case 'Lawyer': return `/app/lawyer/${encodeURIComponent(node.id)}`;
    case 'GovService': return `/app/service/${encodeURIComponent(node.id)}`;
    case 'Provider': return `/app/search?q=${encodeURIComponent(node.name)}`;
    default: return '/app/';
  }
}

export const verticalLabel = { GROCERY: 'Groceries', MEDICAL: 'Doctors', LEGAL: 'Lawyers', PUBLIC_SERVICE: 'Public services' };

export function idempotencyKey() {
  return (crypto.randomUUID && crypto.randomUUID()) || String(Date.now()) + Math.random().toString(16).slice(2);
}
