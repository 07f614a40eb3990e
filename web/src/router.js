// Client-side routing under /app: the gateway answers every /app/... path
// with index.html, so deep links and reloads land on the right page.
import { signal } from './signal.js';

export const BASE = '/app';
export const location = signal(read());

function read() {
  const path = window.location.pathname.startsWith(BASE) ? window.location.pathname.slice(BASE.length) || '/' : '/';
  return { path, query: new URLSearchParams(window.location.search) };
}

export function navigate(to, { replace = false } = {}) {
  const url = BASE + to;
  if (replace) history.replaceState(null, '', url);
  else history.pushState(null, '', url);
  location.set(read());
  window.scrollTo(0, 0);
}

window.addEventListener('popstate', () => location.set(read()));

// match returns the params of pattern ("/doctor/:id") in path, or null.
export function match(pattern, path) {
  const p = pattern.split('/');
  const s = path.split('/');
  if (p.length !== s.length) return null;
  const params = {};
  for (let i = 0; i < p.length; i++) {
    if (p[i].startsWith(':')) params[p[i].slice(1)] = decodeURIComponent(s[i]);
    else if (p[i] !== s[i]) return null;
  }
  return params;
}

// link makes an anchor's click a client-side navigation.
export function onLink(e) {
  const a = e.target.closest && e.target.closest('a[href]');
  if (!a || e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey) return;
  const href = a.getAttribute('href');
  if (!href.startsWith(BASE)) return;
  e.preventDefault();
  navigate(href.slice(BASE.length) || '/');
}
