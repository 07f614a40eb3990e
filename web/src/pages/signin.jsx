import { useState } from 'preact/hooks';
import { devToken, signIn } from '../session.js';
import { BASE } from '../router.js';

// SignIn is the development sign-in: the gateway mints a token for a demo
// user (POST /dev/token, absent in production, which uses a real issuer).
export function SignIn({ query }) {
  const [user, setUser] = useState('demo-1');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  async function submit(e) {
    e.preventDefault();
    setBusy(true);
    setError('');
    try {
      signIn(user, await devToken(user));
      // A fresh start: nothing cached was fetched as someone else.
      window.location.replace(BASE + (query.get('next') || '/'));
    } catch (err) {
      setError(err.message);
    } finally {
      setBusy(false);
    }
  }
  return (
    <section class="signin">
      <h1>Sign in</h1>
      <p class="muted">Development sign-in: pick a demo user (demo-1 … demo-50).</p>
      <form onSubmit={submit}>
        <label>Demo user <input name="user" value={user} onInput={(e) => setUser(e.target.value)} required pattern="demo-[0-9]+" /></label>
        <button type="submit" disabled={busy}>Sign in</button>
      </form>
      {error && <p class="error" role="alert">{error}</p>}
    </section>
  );
}
