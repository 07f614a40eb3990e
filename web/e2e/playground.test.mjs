// The playground with the network blocked: every request that is not to
// the gateway on loopback is aborted, yet GraphiQL loads (its assets come
// from the gateway), shows the schema's docs and runs a query.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { startGateway } from './gateway.mjs';
import { launch } from './browser.mjs';

const shots = fileURLToPath(new URL('../../docs/screenshots/', import.meta.url));
let gw, browser;

before(async () => {
  mkdirSync(shots, { recursive: true });
  gw = await startGateway();
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await gw?.stop();
});

test('the playground works with no network', async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  context.setDefaultTimeout(15_000);
  const blocked = [];
  await context.route('**/*', (route) => {
    const host = new URL(route.request().url()).hostname;
    if (host === '127.0.0.1' || host === 'localhost' || host === '[::1]') return route.continue();
    blocked.push(route.request().url());
    return route.abort('internetdisconnected');
  });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  const resp = await page.goto(gw.url + '/');
  const csp = resp.headers()['content-security-policy'];
  assert.ok(!/https?:/.test(csp), `the policy names another origin: ${csp}`);
  await page.locator('.graphiql-container').waitFor();
  // The analysts' examples open as tabs.
  await page.locator('.graphiql-tab').first().waitFor();
  assert.ok(await page.locator('.graphiql-tab').count() >= 2, 'the examples are not preloaded');
  // Schema docs, from introspection over /query.
  await page.getByRole('button', { name: /Show Documentation Explorer/i }).click();
  await page.locator('.graphiql-doc-explorer').getByText('Query', { exact: true }).first().waitFor();
  await page.locator('.graphiql-doc-explorer a', { hasText: 'Query' }).first().click();
  await page.locator('.graphiql-doc-explorer').getByText('search', { exact: true }).first().waitFor();
  // Run the open example.
  await page.getByRole('button', { name: /Execute query/i }).click();

  await page.waitForFunction(() => /"data"/.test(document.querySelector('.result-window')?.textContent || ''));
  const result = await page.locator('.result-window').textContent();
  assert.ok(!/"errors"/.test(result), result.slice(0, 500));
  await page.screenshot({ path: shots + 'playground.png' });
  assert.deepEqual(errors, []);
  assert.deepEqual(blocked, [], 'the playground asked for something off this machine');
  await context.close();
});
