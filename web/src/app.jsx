import { useQuery } from '@urql/preact';
import { useSignal } from './signal.js';
import { location, match, onLink, navigate } from './router.js';
import { session, setCity } from './session.js';
import { cart } from './cart.js';
import CitiesQuery from './operations/Cities.graphql';
import { SignIn } from './pages/signin.jsx';
import { Home } from './pages/home.jsx';
import { Search } from './pages/search.jsx';
import { ProductPage, StorePage } from './pages/grocery.jsx';
import { DoctorPage, LawyerPage } from './pages/advice.jsx';
import { ServicePage, OfficePage } from './pages/service.jsx';
import { CartPage } from './pages/cart.jsx';
import { Activity, OrderPage } from './pages/activity.jsx';
import { Settings } from './pages/settings.jsx';
import { Portal, PortalSignIn } from './pages/portal.jsx';

const routes = [
  ['/', Home],
  ['/signin', SignIn],
  ['/search', Search],
  ['/product/:id', ProductPage],
  ['/store/:id', StorePage],
  ['/doctor/:id', DoctorPage],
  ['/lawyer/:id', LawyerPage],
  ['/service/:id', ServicePage],
  ['/service/:id/office/:office', OfficePage],
  ['/cart', CartPage],
  ['/me', Activity],
  ['/order/:id', OrderPage],
  ['/settings', Settings],
];

// The provider portal: its own sign-in and header, none of the app's tabs.
const portalRoutes = [
  ['/provider', Portal],
  ['/provider/signin', PortalSignIn],
];

// Pages that work without signing in; the rest send you to sign in first.
const open = new Set([SignIn, Search, ProductPage, StorePage, DoctorPage, LawyerPage, ServicePage, OfficePage]);

function CityChooser() {
  const { city } = useSignal(session);
  const [res] = useQuery({ query: CitiesQuery });
  const cities = new Set(((res.data && res.data.cities) || []).map((c) => c.name));
  if (city) cities.add(city);
  return (
    <label class="city">
      <span class="sr">City</span>
      <select aria-label="City" value={city} onChange={(e) => setCity(e.target.value)}>
        <option value="">All cities</option>
        {[...cities].sort().map((c) => <option key={c} value={c}>{c}</option>)}
      </select>
    </label>
  );
}

function PortalShell({ loc }) {
  let Page = NotFound;
  for (const [pattern, component] of portalRoutes) {
    if (match(pattern, loc.path)) Page = component;
  }
  return (
    <div class="shell" onClick={onLink}>
      <header class="top">
        <a class="brand" href="/app/provider">Plaza for providers</a>
      </header>
      <main><Page query={loc.query} /></main>
    </div>
  );
}

export function App() {
  const loc = useSignal(location);
  if (loc.path === '/provider' || loc.path.startsWith('/provider/')) return <PortalShell loc={loc} />;
  return <UserApp loc={loc} />;
}

function UserApp({ loc }) {
  const { token } = useSignal(session);
  const c = useSignal(cart);
  let Page = null, params = {};
  for (const [pattern, component] of routes) {
    const m = match(pattern, loc.path);
    if (m) {
      Page = component;
      params = m;
      break;
    }
  }
  if (Page && !token && !open.has(Page)) {
    queueMicrotask(() => navigate('/signin?next=' + encodeURIComponent(loc.path), { replace: true }));
    return null;
  }
  const count = c.items.reduce((n, i) => n + i.quantity, 0);
  return (
    <div class="shell" onClick={onLink}>
      <header class="top">
        <a class="brand" href="/app/">Plaza</a>
        <CityChooser />
      </header>
      <main>{Page ? <Page params={params} query={loc.query} /> : <NotFound />}</main>
      <nav class="tabs" aria-label="Main">
        <a href="/app/" class={loc.path === '/' ? 'on' : ''}>Home</a>
        <a href="/app/search" class={loc.path === '/search' ? 'on' : ''}>Search</a>
        <a href="/app/cart" class={loc.path === '/cart' ? 'on' : ''}>Cart{count > 0 && <span class="badge">{count}</span>}</a>
        <a href="/app/me" class={loc.path === '/me' ? 'on' : ''}>Mine</a>
        <a href="/app/settings" class={loc.path === '/settings' ? 'on' : ''}>Settings</a>
      </nav>
    </div>
  );
}

function NotFound() {
  return <section><h1>Not found</h1><p>There is no such page. <a href="/app/">Go home</a>.</p></section>;
}
