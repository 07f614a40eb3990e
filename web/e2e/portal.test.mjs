// The provider portal in Debian's Chromium against a real gateway: a
// provider signs in with the development token `plaza token --provider`
// prints, sees its own service level, rewards (from order records its
// status webhook sent), loan offer and keys, creates an API key, and signs
// in again with that key; a credential that is not a provider's is refused.
// GreenBasket, with 90 days of completed orders behind it, applies for a
// loan from its offer (refused above the offer, without consent, and a
// second time), sees it with its schedule and repays early; FreshCart sees
// the traffic of the searches this test made. Screens go to
// docs/screenshots/portal*.png.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { globalID, providersFile, pushStatus, startGateway } from './gateway.mjs';
import { launch, phone } from './browser.mjs';

const shots = fileURLToPath(new URL('../../docs/screenshots/', import.meta.url));
let gw, browser, page;
// FreshCart and GreenBasket run in process with a secret, so they can send
// their webhooks.
const secret = 'e2e-secret-freshcart-0123456789';
const greenSecret = 'e2e-secret-greenbasket-0123456789';

before(async () => {
  gw = await startGateway(providersFile({ freshcart: { secret }, greenbasket: { secret: greenSecret } }));
  // GreenBasket's history: an order of ¥500.00 completed on each of the
  // last 90 days (its loan offer follows its sales and its days on Plaza).
  const day = 86_400_000;
  const history = Array.from({ length: 90 }, (_, i) => ({ id: globalID('GroceryOrder', 'greenbasket', `h-${i + 1}`), status: 'COMPLETED',
    amount: { amount: 50_000, currency: 'CNY' }, user: `history-${i % 7}`, city: 'Hangzhou', at: new Date(Date.now() - (i + 1) * day).toISOString() }));
  const pushed = await pushStatus(gw.url, 'greenbasket', greenSecret, history);
  if (pushed !== 204) throw new Error(`greenbasket's history: ${pushed}`);
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

// providerToken is what `plaza token --provider` prints for provider.
function providerToken(provider) {
  return execFileSync(gw.bin, ['token', '--provider', provider], { env: { ...process.env, PLAZA_ENV: 'development' } }).toString().trim();
}

async function signInAs(provider, name) {
  if (!/\/app\/provider\/signin/.test(page.url())) {
    await page.goto('/app/provider/signin');
  }
  await signIn(providerToken(provider));
  await page.getByRole('heading', { name, level: 1 }).waitFor();
}

test('a provider applies for a loan from its offer, sees it with its schedule and repays early', async () => {
  await signInAs('greenbasket', 'GreenBasket');
  const offer = page.locator('[data-panel="loan-offer"]');
  const most = Number((await offer.locator('[data-figure="max-amount"]').textContent()).replace(/[^0-9.]/g, ''));
  assert.ok(most >= 1000, `offer ¥${most}: 90 days of ¥500 a day should earn one`);
  const form = page.getByRole('form', { name: 'Apply for a loan' });
  const refusal = form.locator('[data-refusal]');
  const apply = () => form.getByRole('button', { name: 'Apply for the loan' }).click();

  // Above the offer: refused by the gateway, naming the offer.
  await form.getByLabel(/^Amount/).fill(String(most + 100));
  await form.getByLabel(/I agree/).check();
  await apply();
  await refusal.filter({ hasText: /above your offer/ }).waitFor();
  assert.equal(await refusal.locator('p').first().getAttribute('data-code'), 'BAD_USER_INPUT');
  // Without consent: refused, nothing lent.
  await form.getByLabel(/^Amount/).fill('1000');
  await form.getByLabel(/^Term/).fill('60');
  await form.getByLabel(/I agree/).uncheck();
  // The offer's cost, shown before applying: 1.5% per started 30 days.
  assert.equal(await form.locator('[data-figure="fee"]').textContent(), '¥30.00');
  assert.equal(await form.locator('[data-figure="total-cost"]').textContent(), '¥1030.00');
  assert.match(await form.locator('[data-figure="repayment"]').textContent(), /10% of each day's settled sales, at least ¥17\.17 a day/);
  await apply();
  await refusal.filter({ hasText: /explicit consent/ }).waitFor();
  assert.equal(await page.locator('[data-list="loans"] li').count(), 0);

  // With consent: approved, disbursed, and listed with its schedule.
  await form.getByLabel(/I agree/).check();
  await apply();
  const loan = page.locator('[data-list="loans"] li[data-status="OPEN"]');
  await loan.waitFor();
  assert.match(await loan.textContent(), /¥1000\.00 OPEN/);
  assert.equal(await loan.locator('[data-figure="outstanding"]').textContent(), '¥1030.00');
  assert.match(await loan.locator('[data-figure="schedule"]').textContent(), /10% of each day's settled sales, at least ¥17\.17 a day/);
  assert.equal(await page.locator('[data-figure="loan-outstanding"]').textContent(), '¥1030.00');

  // Applying again while it is open: CONFLICT, in the gateway's words.
  const again = page.getByRole('form', { name: 'Apply for a loan' });
  await again.getByLabel(/^Amount/).fill('1000');
  await again.getByLabel(/I agree/).check();
  await again.getByRole('button', { name: 'Apply for the loan' }).click();
  await again.locator('[data-refusal]').filter({ hasText: /a loan is open already/ }).waitFor();
  assert.equal(await again.locator('[data-refusal] p').first().getAttribute('data-code'), 'CONFLICT');
  assert.equal(await page.locator('[data-list="loans"] li').count(), 1);

  // Early repayment of ¥500.00.
  await loan.getByRole('textbox', { name: /Repay early/ }).fill('500');
  await loan.getByRole('button', { name: 'Repay' }).click();
  await page.locator('[data-list="loans"] [data-figure="outstanding"]', { hasText: '¥530.00' }).waitFor();
  await page.locator('[data-panel="loans"]').scrollIntoViewIfNeeded();
  await shot('portal-loan');
});

// search runs a search as an anonymous app user would and returns how many
// of provider's items it showed.
async function search(text, city, provider) {
  const res = await fetch(gw.url + '/query', { method: 'POST', headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
    body: JSON.stringify({ query: 'query($t: String, $c: String) { search(text: $t, city: $c, first: 10) { edges { node { ... on Product { id } ... on Store { id } } } } }',
      variables: { t: text, c: city } }) });
  const body = await res.json();
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  const ids = body.data.search.edges.map((e) => e.node.id).filter(Boolean);
  const mine = ids.filter((id) => Buffer.from(id, 'base64url').toString().split(':')[2] === provider);
  return { shown: mine.length, first: mine[0] };
}

test('a provider sees the traffic of the searches users made: impressions, clicks, top queries and where it ranks', async () => {
  let shown = 0;
  let item;
  for (const text of ['milk', 'Milk']) { // one normalised query, searched twice
    const r = await search(text, 'Hangzhou', 'freshcart');
    shown += r.shown;
    item ||= r.first;
  }
  assert.ok(shown > 0 && item, 'the demo search for milk in Hangzhou shows FreshCart');
  const click = await fetch(gw.url + '/query', { method: 'POST', headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
    body: JSON.stringify({ query: 'mutation($id: ID!) { reportSearchClick(query: "milk", itemId: $id, city: "Hangzhou") }', variables: { id: item } }) });
  assert.equal((await click.json()).data.reportSearchClick, true);

  await signInAs('freshcart', 'FreshCart');
  // The roll-up lands every few seconds: reload until it has.
  const today = new Date().toISOString().slice(0, 10);
  const row = page.locator(`[data-list="traffic"] tr[data-day="${today}"][data-city="hangzhou"]`);
  const deadline = Date.now() + 60_000;
  while (await row.count() === 0 || await row.locator('[data-figure="search"]').textContent() !== String(shown)) {
    if (Date.now() > deadline) throw new Error(`no traffic row of ${shown} search impressions for ${today} in hangzhou`);
    await new Promise((r) => setTimeout(r, 1000));
    await page.reload();
    await page.locator('[data-panel="traffic"] h2').waitFor();
    await page.locator('[data-panel="traffic"] [data-list="traffic"]').waitFor();
  }
  assert.equal(await row.locator('[data-figure="clicks"]').textContent(), '1');
  const [orders, bookings] = await Promise.all(['orders', 'bookings'].map(async (f) => Number(await row.locator(`[data-figure="${f}"]`).textContent())));
  assert.equal(await row.locator('[data-figure="conversion"]').textContent(), `${(100 * (orders + bookings)).toFixed(1)}%`); // of one click
  const milk = page.locator('[data-list="top-queries"] li[data-query="milk"]');
  assert.equal(await milk.locator('[data-figure="impressions"]').textContent(), String(shown));
  assert.equal(await milk.locator('[data-figure="clicks"]').textContent(), '1');
  // Where it ranks for its top query now, with the reasons.
  const placed = page.locator('[data-list="placement"] li').first();
  await placed.waitFor();
  assert.match(await placed.textContent(), /text .*rating .*city/);
  await page.locator('[data-panel="traffic"]').scrollIntoViewIfNeeded();
  await shot('portal-traffic');
});
