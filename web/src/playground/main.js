// The playground: GraphiQL from npm (pinned in package.json), bundled with
// the app and served by the gateway itself, so it works with no network and
// its Content-Security-Policy allows no CDN. The analysts' example
// operations (GET /examples.json) open as tabs.
import { createElement } from 'react';
import { createRoot } from 'react-dom/client';
import { GraphiQL } from 'graphiql';
import { createGraphiQLFetcher } from '@graphiql/toolkit';
import 'graphiql/graphiql.css';
import './playground.css';

const fetcher = createGraphiQLFetcher({ url: new URL('/query', window.location.href).toString() });

async function examples() {
  try {
    const res = await fetch('/examples.json', { headers: { Accept: 'application/json' } });
    if (!res.ok) return [];
    return await res.json();
  } catch {
    return [];
  }
}

const list = await examples();
const tabs = list.map((e) => ({
  query: e.query,
  variables: e.variables ? JSON.stringify(e.variables, null, 2) : undefined,
  headers: e.headers ? JSON.stringify(e.headers, null, 2) : undefined,
}));
// /examples/<name> links here with the document in the URL: it opens first.
const params = new URLSearchParams(window.location.search);
if (params.get('query')) {
  tabs.unshift({ query: params.get('query'), variables: params.get('variables') || undefined, headers: params.get('headers') || undefined });
}
// GraphiQL takes the open tab's editors from these props, not from the tab.
const first = tabs[0] || {};

createRoot(document.getElementById('graphiql')).render(
  createElement(GraphiQL, {
    fetcher,
    defaultTabs: tabs.length ? tabs : undefined,
    query: first.query,
    variables: first.variables,
    headers: first.headers,
    defaultEditorToolsVisibility: true,
    shouldPersistHeaders: true,
  }),
);
