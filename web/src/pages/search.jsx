import { useEffect, useRef, useState } from 'preact/hooks';
import { useQuery } from '@urql/preact';
import { useSignal } from '../signal.js';
import { session } from '../session.js';
import { navigate } from '../router.js';
import { verticalLabel } from '../format.js';
import SearchQuery from '../operations/Search.graphql';
import { Card, Loading, Problems } from '../ui.jsx';

const PAGE = 10;

// Search is one box over every vertical. The text and the vertical filter
// live in the URL (shareable); pages load by cursor as the list's end
// scrolls into view, and graphcache's relayPagination merges them.
export function Search({ query }) {
  const { city } = useSignal(session);
  const text = query.get('q') || '';
  const vertical = query.get('vertical') || null;
  const [input, setInput] = useState(text);
  // The cursor of the last page asked for belongs to one search: a new
  // text, vertical or city starts from the first page in the same render
  // (a cursor sent with another search is BAD_USER_INPUT).
  const key = JSON.stringify([text, vertical, city]);
  const [paging, setPaging] = useState({ key, after: null });
  const after = paging.key === key ? paging.after : null;
  useEffect(() => { setInput(text); }, [text, vertical, city]);
  const vars = { text: text || null, vertical, city: city || null, first: PAGE, after };
  const [res, retry] = useQuery({ query: SearchQuery, variables: vars });
  // urql keeps the last result while the next query is fetched: after a new
  // text, vertical or city that is the previous search's answer. Show a
  // result only under the search it answers (another page of the same
  // search is the same list, merged by relayPagination).
  const current = !!res.operation && sameSearch(res.operation.variables, vars);
  const search = current && res.data && res.data.search;
  // data-state tells what the list shows: loading (nothing yet for this
  // search), more (the next page is on its way), refreshing (these results
  // are being fetched again: a retry, a stale cache answer), ready.
  let state = 'refreshing';
  if (!current || (res.fetching && !search)) state = 'loading';
  else if (!res.fetching && !res.stale) state = 'ready';
  else if ((res.operation.variables.after ?? null) !== after) state = 'more';
  const sentinel = useRef(null);
  const more = search && search.pageInfo.hasNextPage && !res.fetching;
  useEffect(() => {
    if (!more || !sentinel.current) return undefined;
    const io = new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting)) setPaging({ key, after: search.pageInfo.endCursor });
    });
    io.observe(sentinel.current);
    return () => io.disconnect();
  }, [more, search && search.pageInfo.endCursor]);

  function go(params) {
    const q = new URLSearchParams();
    const t = params.q !== undefined ? params.q : text;
    const v = params.vertical !== undefined ? params.vertical : vertical;
    if (t) q.set('q', t);
    if (v) q.set('vertical', v);
    navigate('/search' + (q.toString() ? '?' + q : ''));
  }
  return (
    <section class="search">
      <form class="searchbar" onSubmit={(e) => { e.preventDefault(); go({ q: input.trim() }); }}>
        <input type="search" name="q" value={input} onInput={(e) => setInput(e.target.value)} placeholder="Search groceries, doctors, lawyers, services" aria-label="Search" />
        <button type="submit">Search</button>
      </form>
      {search && (
        <div class="facets" role="group" aria-label="Filter by kind">
          <button type="button" class={!vertical ? 'chip on' : 'chip'} onClick={() => go({ vertical: '' })}>All</button>
          {search.facets.verticals.map((f) => (
            <button type="button" key={f.value} data-vertical={f.value} class={vertical === f.value ? 'chip on' : 'chip'} onClick={() => go({ vertical: vertical === f.value ? '' : f.value })}>
              {f.label || verticalLabel[f.value] || f.value} <span class="count">{f.count}</span>
            </button>
          ))}
        </div>
      )}
      {current && <Problems result={res} retry={retry} />}
      {search && <p class="muted" data-total={search.totalCount}>{search.totalCount} results{text ? ` for “${text}”` : ''}{city ? ` in ${city}` : ''}</p>}
      <div class={state === 'refreshing' ? 'list results stale' : 'list results'} data-state={state} data-text={text} aria-busy={state !== 'ready'}>
        {search && search.edges.map((e) => <Card key={e.cursor} node={e.node} />)}
      </div>
      {state !== 'ready' && <Loading />}
      {more && <div ref={sentinel} class="sentinel" aria-hidden="true" />}
      {search && !search.pageInfo.hasNextPage && search.edges.length > 0 && <p class="muted end">That is everything.</p>}
    </section>
  );
}

// sameSearch: a and b ask for the same list (its pages aside).
function sameSearch(a, b) {
  return !!a && ['text', 'vertical', 'city', 'first'].every((k) => (a[k] ?? null) === (b[k] ?? null));
}
