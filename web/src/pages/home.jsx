import { useQuery } from '@urql/preact';
import { useSignal } from '../signal.js';
import { session } from '../session.js';
import { navigate } from '../router.js';
import HomeQuery from '../operations/Home.graphql';
import { Card, Loading, Problems } from '../ui.jsx';

export function Home() {
  const { city, user } = useSignal(session);
  const [res, retry] = useQuery({ query: HomeQuery, variables: { city: city || null } });
  const home = res.data && res.data.home;
  return (
    <section class="home">
      <form class="searchbar" action="/app/search" onSubmit={(e) => { e.preventDefault(); navigate('/search?q=' + encodeURIComponent(new FormData(e.target).get('q'))); }}>
        <input name="q" type="search" placeholder="Search groceries, doctors, lawyers, services" aria-label="Search" />
      </form>
      <p class="muted">Signed in as {user}{home && home.city ? ` · ${home.city}` : ''}</p>
      <Problems result={res} retry={retry} />
      {res.fetching && !home && <Loading />}
      {home && home.sections.map((s) => (
        <div class="section" key={s.key} data-section={s.key}>
          <h2>{s.title}</h2>
          <div class="list">
            {s.items.map((it, i) => <Card key={i} node={it.node} reason={it.reason} />)}
          </div>
        </div>
      ))}
      {home && home.sections.length === 0 && <p class="muted">Nothing to show yet.</p>}
    </section>
  );
}
