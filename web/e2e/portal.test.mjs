// The provider portal in Debian's Chromium against a real gateway: a
// provider signs in with the development token `plaza token --provider`
// prints, sees its own service level, rewards (from order records its
// status webhook sent), loan offer and keys, creates an API key, and signs
// in again with that key; a credential that is not a provider's is refused.
// Screens go to docs/screenshots/portal*.png.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { globalID, providersFile, pushStatus, startGateway } from './gateway.mjs';
import { launch, phone } from './browser.mjs';

const shots = fileURLToPath(new URL('../../docs/screenshots/', import.meta.url));
let gw, browser, page;
// FreshCart runs in process with a secret, so it can send its webhooks.
const secret = 'e2e-secret-freshcart-0123456789';

before(async () => {
  gw = await startGateway(providersFile({ freshcart: { secret } }));
  // Order records, as the provider reports them: two orders of demo-1
  // completed (a reward each, and a first-order bonus), the second then
  // cancelled (its reward reversed by a new entry).
  const order = (n) => globalID('GroceryOrder', 'freshcart', `o-e2e-${n}`);
  const amount = { amount: 12345, currency: 'CNY' };
  for (const changes of [
    [{ id: order(1), status: 'COMPLETED', amount, user: 'demo-1', city: 'Hangzhou' }],
    [{ id: order(2), status: 'COMPLETED', amount, user: 'demo-1', city: 'Hangzhou' }],
    [{ id: order(2), status: 'CANCELLED', amount, user: 'demo-1', city: 'Hangzhou' }],
  ]) {
    const status = await pushStatus(gw.url, 'freshcart', secret, changes);
    if (status !== 204) throw new Error(`status webhook: ${status}`);
  }
  browser = await launch();
  const context = await browser.newContext({ ...phone, baseURL: gw.url });
  context.setDefaultTimeout(15_000); // generous: the machine is shared
  page = await context.newPage();
  page.on('pageerror', (e) => console.error('page error:', e));
});

after(async () => {
  await browser?.close();
  await gw?.stop();
});

const shot = (name) => page.screenshot({ path: shots + name + '.png', fullPage: true });

async function signIn(credential) {
  await page.getByLabel('Token or API key').fill(credential);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

test('a provider signs in with its development token and sees its own service level, rewards, loan offer and keys', async () => {
  await page.goto('/app/provider');
  await page.waitForURL(/\/app\/provider\/signin/);
  await shot('portal-signin');
  // The token the gateway's own `plaza token --provider` prints (the same
  // development secret as the gateway it was started with).
  const token = execFileSync(gw.bin, ['token', '--provider', 'freshcart'], { env: { ...process.env, PLAZA_ENV: 'development' } }).toString().trim();
  await signIn(token);
  await page.waitForURL((u) => u.pathname === '/app/provider');
  await page.getByRole('heading', { name: 'FreshCart', level: 1 }).waitFor();
  assert.match(await page.locator('.portal-head').textContent(), /freshcart · Groceries · ACTIVE/);
  assert.equal(await page.locator('[data-panel="service-level"] .level').getAttribute('data-level'), 'OK');
  // ¥1.00 per completed order, ¥5.00 for demo-1's first: 1 + 5 + 1 − 1.
  assert.equal(await page.locator('[data-figure="payable"]').textContent(), '¥6.00');
  assert.match(await page.locator('[data-panel="rewards"]').textContent(), /¥1\.00 per completed order/);
  const kinds = await page.locator('[data-list="ledger"] li').evaluateAll((li) => li.map((l) => l.dataset.kind).sort());
  assert.deepEqual(kinds, ['REVERSAL', 'REWARD', 'REWARD', 'REWARD']);
  // The offer explains itself: each factor of the formula with its reason.
  const factors = await page.locator('[data-list="factors"] li').allTextContents();
  assert.ok(factors.length >= 3 && factors.some((f) => /tenure/.test(f)), `factors: ${factors}`);
  assert.match(await page.locator('[data-panel="loan-offer"]').textContent(), /Fee .* per started 30 days/);

  // An API key, created here and shown once, then a sign-in with it.
  await page.getByLabel('Label').fill('e2e portal');
  await page.getByRole('button', { name: 'Create key' }).click();
  const secret = page.locator('[data-secret]');
  await secret.waitFor();
  const key = (await secret.textContent()).trim();
  assert.match(key, /^plzp_/);
  const row = page.locator('[data-list="api-keys"] li', { hasText: 'e2e portal' });
  await row.waitFor();
  assert.equal(await row.getAttribute('data-revoked'), 'false');
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.waitForURL(/\/app\/provider\/signin/);
  await signIn(key);
  await page.waitForURL((u) => u.pathname === '/app/provider');
  await page.locator('[data-list="api-keys"] li', { hasText: 'e2e portal' }).waitFor();
  assert.equal(await page.locator('.portal-head h1').textContent(), 'FreshCart');
  await shot('portal');
});

test('a credential that is not a provider\u2019s is refused and nothing is kept', async () => {
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.waitForURL(/\/app\/provider\/signin/);
  // An app user's token: a person, not a provider (FORBIDDEN).
  const res = await fetch(gw.url + '/dev/token', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"user":"demo-2"}' });
  const { token } = await res.json();
  for (const credential of [token, 'plzp_not-a-key']) {
    await signIn(credential);
    await page.getByRole('alert').filter({ hasText: /does not accept this as a provider credential/ }).waitFor();
    assert.match(page.url(), /\/app\/provider\/signin/);
    assert.equal(await page.evaluate(() => localStorage.getItem('plaza.providerCredential')), null);
  }
  // A revoked key stops working: revoke it as the provider, then try it.
  const providerToken = execFileSync(gw.bin, ['token', '--provider', 'greenbasket'], { env: { ...process.env, PLAZA_ENV: 'development' } }).toString().trim();
  await signIn(providerToken);
  await page.getByRole('heading', { name: 'GreenBasket', level: 1 }).waitFor();
  // greenbasket sees none of freshcart's keys.
  assert.equal(await page.locator('[data-list="api-keys"] li', { hasText: 'e2e portal' }).count(), 0);
  await page.getByLabel('Label').fill('to revoke');
  await page.getByRole('button', { name: 'Create key' }).click();
  const key = (await page.locator('[data-secret]').textContent()).trim();
  const row = page.locator('[data-list="api-keys"] li', { hasText: 'to revoke' });
  await row.getByRole('button', { name: 'Revoke' }).click();
  await page.locator('[data-list="api-keys"] li[data-revoked="true"]', { hasText: 'to revoke' }).waitFor();
  await page.getByRole('button', { name: 'Sign out' }).click();
  await signIn(key);
  await page.getByRole('alert').filter({ hasText: /does not accept this as a provider credential/ }).waitFor();
});
