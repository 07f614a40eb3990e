// The signed-in user's token and chosen city, kept in localStorage so a
// reload keeps them.
import { signal } from './signal.js';

const TOKEN = 'plaza.token';
const USER = 'plaza.user';
const CITY = 'plaza.city';

export const session = signal({
  token: localStorage.getItem(TOKEN) || '',
  user: localStorage.getItem(USER) || '',
  city: localStorage.getItem(CITY) || '',
});

export function signIn(user, token) {
  localStorage.setItem(TOKEN, token);
  localStorage.setItem(USER, user);
  session.set({ ...session.get(), user, token });
}

export function signOut() {
  localStorage.removeItem(TOKEN);
  localStorage.removeItem(USER);
  session.set({ ...session.get(), user: '', token: '' });
}

export function setCity(city) {
  if (city) localStorage.setItem(CITY, city);
  else localStorage.removeItem(CITY);
  session.set({ ...session.get(), city });
}

// devToken asks the gateway's development sign-in for a demo user's token.
// It exists only outside production (404 there).
export async function devToken(user) {
  const res = await fetch('/dev/token', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ user }),
  });
  if (res.status === 404) throw new Error('Development sign-in is off on this gateway (production).');
  const body = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(body.error || `sign-in failed (${res.status})`);
  return body.token;
}
