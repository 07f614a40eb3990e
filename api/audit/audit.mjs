// Runs the graphql-http audit suite (GraphQL over HTTP conformance, its MUSTs
// and SHOULDs) against the GraphQL endpoint given as the first argument.
// Prints one line per audit and exits non-zero unless every audit passed:
// Plaza requires the SHOULDs (status "warn") as well as the MUSTs.
// Run by audit_test.go in the parent directory.
import { serverAudits } from 'graphql-http';

const url = process.argv[2];
if (!url) {
  console.error('usage: node audit.mjs http://127.0.0.1:PORT/query');
  process.exit(2);
}
// AUDIT_HEADERS (a JSON object) adds headers to every request, e.g. an
// analyst API key: in production introspection, which some audits use, is for
// analysts only.
const extra = JSON.parse(process.env.AUDIT_HEADERS || '{}');
const fetchFn = (input, init = {}) => {
  const headers = new Headers(init.headers);
  for (const [k, v] of Object.entries(extra)) headers.set(k, v);
  return fetch(input, { ...init, headers });
};
const audits = serverAudits({ url, fetchFn });
const results = await Promise.all(audits.map(({ fn }) => fn()));
let failed = 0;
for (const r of results) {
  if (r.status === 'ok') {
    console.log(`PASS ${r.id} ${r.name}`);
    continue;
  }
  failed++;
  let body = '';
  try {
    body = r.response ? ` (HTTP ${r.response.status}: ${await r.response.text()})` : '';
  } catch {
    // the body was already read by the audit
  }
  console.log(`FAIL ${r.id} ${r.name} [${r.status}]: ${r.reason}${body}`);
}
console.log(`${results.length - failed} of ${results.length} audits passed`);
process.exit(failed === 0 ? 0 : 1);
