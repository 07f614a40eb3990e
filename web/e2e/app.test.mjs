// The app's journeys in Debian's Chromium against a real gateway: sign in,
// search with a typo and page, detail pages, order, book a doctor, ask a
// doctor, request a lawyer, apply for a service, a provider process stopped
// (its part missing, named, with a retry) and started again, personalisation
// off. Each screen is saved under docs/screenshots/.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { providersFile, startGateway, startHTTPProvider } from './gateway.mjs';
import { checkout, launch, pay, phone, placeOrder } from './browser.mjs';

const shots = fileURLToPath(new URL('../../docs/screenshots/', import.meta.url));
const timeout = 15_000; // generous: the machine is shared
let gw, browser, context, page, carepoint;
const carepointSpec = { id: 'carepoint', vertical: 'medical', secret: 'e2e-secret-carepoint' };

before(async () => {
  mkdirSync(shots, { recursive: true });
  // Paid demo orders move PLACED → PICKING → OUT_FOR_DELIVERY → DELIVERED one
  // step apart (30 s by default): 2 s lets the journey watch it to the end.
  // CarePoint, a medical provider, runs as its own process over HTTP, so a
  // journey can stop it and start it again.
  carepoint = await startHTTPProvider(carepointSpec);
  gw = await startGateway({ PLAZA_DEMO_STATUS_STEP: '2s', ...providersFile({ carepoint: { url: carepoint.url, secret: carepointSpec.secret } }) });
  browser = await launch();
  context = await browser.newContext({ ...phone, baseURL: gw.url });
  context.setDefaultTimeout(timeout);
  page = await context.newPage();
  page.on('pageerror', (e) => console.error('page error:', e));
});

after(async () => {
  await browser?.close();
  await gw?.stop();
  await carepoint?.stop();
});

const shot = (name) => page.screenshot({ path: shots + name + '.png' });

async function searchFor(text, vertical) {
  await page.goto(`/app/search?q=${encodeURIComponent(text)}${vertical ? '&vertical=' + vertical : ''}`);
  await page.locator(`.results[data-state="ready"][data-text="${text}"] a.card`).first().waitFor();
}

const isQuery = (u) => u.pathname === '/query';

// isOp tells which persisted operation a request runs (by its hash).
const hashes = {};
async function isOp(route, name) {
  if (!hashes[name]) {
    const docs = await (await fetch(gw.url + '/app/persisted-documents.json')).json();
    for (const [h, q] of Object.entries(docs)) hashes[/^(?:query|mutation|subscription) (\w+)/.exec(q)[1]] = h;
  }
  // Queries go by GET (cacheable), mutations by POST.
  const req = route.request();
  const ext = req.method() === 'GET' ? JSON.parse(new URL(req.url()).searchParams.get('extensions') || 'null') : req.postDataJSON().extensions;
  return !!ext && !!ext.persistedQuery && ext.persistedQuery.sha256Hash === hashes[name];
}

test('the first load of /app is under 200 KB compressed', async () => {
  const p = await context.newPage();
  let bytes = 0;
  p.on('response', async (r) => {
    if (!r.url().includes('/app')) return;
    const sizes = await r.request().sizes().catch(() => null);
    if (sizes) bytes += sizes.responseBodySize + sizes.responseHeadersSize;
  });
  const start = Date.now();
  await p.goto('/app/signin');
  await p.getByRole('button', { name: 'Sign in' }).waitFor();
  const interactive = Date.now() - start; // reported, not asserted: make bench measures it (bench/app.go)
  await p.waitForLoadState('networkidle');
  await p.close();
  console.log(`first load of /app/signin: ${(bytes / 1024).toFixed(1)} KB transferred, interactive after ${interactive} ms`);
  assert.ok(bytes > 1000 && bytes <= 200 * 1024, `transferred ${bytes} bytes`);
});

test('signing in as a demo user opens the home page with its sections and reasons', async () => {
  await page.goto('/app/');
  await page.waitForURL(/\/app\/signin/);
  await shot('signin');
  await page.getByLabel('Demo user').fill('demo-3');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL((u) => u.pathname === '/app/');
  await page.locator('.section').first().waitFor();
  const sections = await page.locator('.section h2').allTextContents();
  assert.ok(sections.length >= 2, `sections: ${sections}`);
  assert.ok(await page.locator('.section .reason').count() > 0, 'no item has a reason');
  await shot('home');
});

test('a search with a typo finds milk, filters by facet and pages by scrolling', async () => {
  await page.getByRole('link', { name: 'Search' }).click();
  await page.locator('.results[data-state="ready"] a.card').first().waitFor(); // browsing: an empty search
  // The answer for "mlik" is held back a while: until it lands the page
  // shows no results, not the empty search's under "results for “mlik”".
  let release;
  const held = new Promise((res) => { release = res; });
  const hold = async (route) => {
    const req = route.request();
    if (await isOp(route, 'Search') && (req.url() + (req.postData() || '')).includes('mlik')) await held;
    return route.continue();
  };
  await page.route(isQuery, hold);
  await page.getByLabel('Search').fill('mlik');
  await page.getByRole('button', { name: 'Search' }).click();
  await page.waitForURL(/q=mlik/);
  const results = page.locator('.results[data-text="mlik"]');
  await results.waitFor({ state: 'attached' }); // empty: not visible
  assert.equal(await results.getAttribute('data-state'), 'loading');
  assert.equal(await page.locator('.results a.card').count(), 0, 'results of another search shown');
  assert.equal(await page.getByText(/results for “mlik”/).count(), 0);
  release();
  await page.locator('.results[data-state="ready"][data-text="mlik"]').waitFor();
  await page.unroute(isQuery, hold);
  const first = page.locator('.results a.card .card-title').first();
  assert.match(await first.textContent(), /milk/i);
  await shot('search');
  const before = await page.locator('.results a.card').count();
  assert.ok(before >= 10, `${before} results`);
  await page.locator('.sentinel').scrollIntoViewIfNeeded();
  await page.waitForFunction((n) => document.querySelectorAll('.results a.card').length > n, before);
  assert.ok(await page.locator('.results a.card').count() > before);
  // A facet is a filter: choosing one leaves only its vertical.
  await searchFor('child');
  const medical = page.locator('.facets [data-vertical="MEDICAL"]');
  await medical.click();
  await page.waitForURL(/vertical=MEDICAL/);
  await page.waitForFunction(() => [...document.querySelectorAll('.results a.card')].every((a) => a.dataset.kind === 'Doctor') && document.querySelectorAll('.results a.card').length > 0);
  await shot('search-facet');
  // The city chooser narrows the search to one city.
  await page.getByLabel('City').selectOption('Beijing');
  await page.waitForFunction(() => {
    const cards = [...document.querySelectorAll('.results a.card .card-sub')];
    return cards.length > 0 && cards.every((c) => c.textContent.endsWith('Beijing'));
  });
  await shot('search-city');
  await page.getByLabel('City').selectOption('');
});

test('a product page, its store, the cart and checkout place an order that shows under Mine', async () => {
  await searchFor('milk', 'GROCERY');
  await page.locator('.results a.card[data-kind="Product"]').first().click();
  await page.waitForURL(/\/app\/product\//);
  const name = await page.locator('h1').textContent();
  assert.match(name, /milk/i);
  await shot('product');
  await page.getByRole('button', { name: 'Add to cart' }).click();
  await page.locator('.detail a[href^="/app/store/"]').click();
  await page.waitForURL(/\/app\/store\//);
  await page.locator('.slots li').first().waitFor();
  await shot('store');
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: /Cart/ }).click();
  await page.locator('select[name="slot"] option').first().waitFor({ state: 'attached' });
  await page.getByRole('button', { name: 'One more ' + name }).click();
  assert.equal(await page.locator('[data-qty]').first().textContent(), '2');
  assert.notEqual(await page.locator('select[name="slot"]').inputValue(), '', 'no delivery slot shown as chosen');
  await shot('cart');
  // The cart survives a reload (localStorage).
  await page.reload();
  // Up to the store's minimum order, placed, a declined card, then paid.
  const qty = await checkout(page, { decline: true, onPayment: (declined) => shot(declined ? 'payment-declined' : 'payment') });
  const placed = new URL(page.url()).searchParams.get('placed');
  const row = page.locator(`[data-list="orders"] li[data-id="${placed}"]`);
  await row.waitFor();
  assert.match(await row.textContent(), new RegExp(`${qty}× ${name}`));
  await shot('orders');
});

test('the order page and Mine follow the status live until DELIVERED, without a reload', async () => {
  const placed = new URL(page.url()).searchParams.get('placed');
  const row = page.locator(`[data-list="orders"] li[data-id="${placed}"]`);
  // A reload would drop this marker; the statuses must arrive over the websocket.
  await page.evaluate(() => { window.plazaNoReload = true; });
  const sockets = [];
  page.on('websocket', (ws) => sockets.push(ws.url()));
  await row.locator('.status[data-status="DELIVERED"]').waitFor({ timeout: 60_000 });
  assert.equal(await row.getByRole('button', { name: 'Cancel' }).count(), 0, 'a delivered order offers no cancel');
  await page.locator('.ok a', { hasText: 'Follow it' }).click();
  await page.waitForURL(/\/app\/order\//);
  await page.locator('.order .status[data-status="DELIVERED"]').waitFor();
  assert.equal(await page.evaluate(() => window.plazaNoReload), true, 'the page was reloaded');
  await shot('order');
  // A new order, followed on its own page from PLACED on.
  await searchFor('milk', 'GROCERY');
  await page.locator('.results a.card[data-kind="Product"]').first().click();
  await page.getByRole('button', { name: 'Add to cart' }).click();
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: /Cart/ }).click();
  await checkout(page);
  await page.locator('.ok a', { hasText: 'Follow it' }).click();
  await page.waitForURL(/\/app\/order\//);
  await page.evaluate(() => { window.plazaNoReload = true; });
  const seen = new Set();
  const status = page.locator('.order .status');
  await status.waitFor();
  const deadline = Date.now() + 60_000;
  while (!seen.has('DELIVERED') && Date.now() < deadline) {
    seen.add(await status.getAttribute('data-status'));
    await page.waitForTimeout(100);
  }
  assert.ok(seen.has('DELIVERED'), `statuses seen: ${[...seen]}`);
  assert.ok(seen.size >= 2, `only ${[...seen]} seen: the page did not follow the order`);
  assert.equal(await page.evaluate(() => window.plazaNoReload), true, 'the page was reloaded');
  assert.ok(sockets.some((u) => /^ws:\/\/.*\/query$/.test(u)), `websockets: ${sockets}`);
});

test('an order left unpaid at checkout is paid from Mine, a declined card leaving it payable, then moves on live', async () => {
  await searchFor('milk', 'GROCERY');
  await page.locator('.results a.card[data-kind="Product"]').first().click();
  await page.getByRole('button', { name: 'Add to cart' }).click();
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: /Cart/ }).click();
  await placeOrder(page);
  // The user leaves the payment step: the cart is empty, the order waits.
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Mine' }).click();
  const waiting = page.locator('[data-list="orders"] li').filter({ has: page.locator('.status[data-status="AWAITING_PAYMENT"]') }).first();
  await waiting.waitFor();
  const row = page.locator(`[data-list="orders"] li[data-id="${await waiting.getAttribute('data-id')}"]`);
  const due = new Date(await row.locator('[data-pay-by]').getAttribute('data-pay-by'));
  assert.ok(due > new Date(), `due ${due.toISOString()} is not in the future`);
  assert.match(await row.locator('[data-pay-by]').textContent(), /^Pay by /);
  await page.evaluate(() => { window.plazaNoReload = true; });
  await row.getByRole('button', { name: 'Pay' }).click();
  const payment = row.locator('form[aria-label="Payment"]');
  await pay(payment, {
    decline: true,
    onDeclined: async () => {
      assert.equal(await row.locator('.status').getAttribute('data-status'), 'AWAITING_PAYMENT', 'a declined payment moved the order');
      assert.equal(await payment.getByRole('button', { name: 'Pay' }).isEnabled(), true, 'a declined order is no longer payable');
      await shot('pay-later-declined');
    },
  });
  const seen = new Set();
  const status = row.locator('.status');
  const deadline = Date.now() + 60_000;
  while (!seen.has('DELIVERED') && Date.now() < deadline) {
    seen.add(await status.getAttribute('data-status'));
    await page.waitForTimeout(100);
  }
  assert.ok(seen.has('DELIVERED'), `statuses seen: ${[...seen]}`);
  assert.ok(['PICKING', 'OUT_FOR_DELIVERY'].some((s) => seen.has(s)), `only ${[...seen]} seen: Mine did not follow the paid order`);
  assert.equal(await row.getByRole('button', { name: 'Pay' }).count(), 0, 'a paid order still offers Pay');
  assert.equal(await page.evaluate(() => window.plazaNoReload), true, 'the page was reloaded');
});

test('booking a doctor and asking a doctor', async () => {
  await searchFor('paediatrician', 'MEDICAL');
  await page.locator('.results a.card[data-kind="Doctor"]').first().click();
  await page.waitForURL(/\/app\/doctor\//);
  await page.getByLabel('Reason').fill('Fever and a rash');
  await page.getByRole('button', { name: 'Book' }).click();
  await page.getByText(/^Booked: .*CONFIRMED/).waitFor();
  await page.getByLabel('Question').fill('How long does a fever usually last in a toddler?');
  await page.getByRole('button', { name: 'Ask' }).click();
  await page.getByText(/^Asked: /).waitFor();
  await shot('doctor');
});

test('requesting a legal consultation', async () => {
  await searchFor('family', 'LEGAL');
  await page.locator('.results a.card[data-kind="Lawyer"]').first().click();
  await page.waitForURL(/\/app\/lawyer\//);
  await page.getByLabel('What happened').fill('We are divorcing and need to agree on custody.');
  await page.getByRole('button', { name: 'Request consultation' }).click();
  await page.getByText(/^Requested: /).waitFor();
  await shot('lawyer');
});

test('applying for a government service at an office slot', async () => {
  await searchFor('ID card', 'PUBLIC_SERVICE');
  await page.locator('.results a.card[data-kind="GovService"]').first().click();
  await page.waitForURL(/\/app\/service\/[^/]+$/);
  await page.locator('a.card[data-kind="Office"]').first().waitFor();
  await shot('service');
  await page.locator('a.card[data-kind="Office"]').first().click();
  await page.waitForURL(/\/office\//);
  for (const box of await page.locator('fieldset input[type="checkbox"]').all()) await box.check();
  await page.getByRole('button', { name: 'Apply' }).click();
  await page.getByText(/^Applied: /).waitFor();
  await shot('office');
  await page.getByRole('link', { name: 'Mine' }).click();
  await page.locator('[data-list="applications"] li .status').first().waitFor();
  await page.locator('[data-list="appointments"] li .status').first().waitFor();
  await page.locator('[data-list="legal"] li .status').first().waitFor();
  await shot('mine');
  // A legal consultation can be cancelled while PENDING or CONFIRMED (the
  // demo moves it from one to the other): the button, then the status.
  const legal = page.locator('[data-list="legal"] li').first();
  await legal.getByRole('button', { name: 'Cancel' }).click();
  await legal.locator('.status[data-status="CANCELLED"]').waitFor();
  assert.equal(await legal.getByRole('button', { name: 'Cancel' }).count(), 0);
});

test('a provider that stops leaves its part out, says which, and Retry brings it back once it is up', async () => {
  // CarePoint is a real demo-provider process the gateway calls over HTTP
  // (its registry file, gateway.mjs); the others run in process.
  await searchFor('ophthalmologist', 'MEDICAL');
  const href = await page.locator('.results a.card[data-provider="CarePoint"]').first().getAttribute('href');
  await carepoint.stop();
  // The doctor was loaded by the search and is still in the gateway's
  // cache; its slots are asked of the provider, which is gone.
  await page.goto(href);
  const alert = page.locator('.problems');
  await alert.waitFor();
  assert.match(await alert.textContent(), /Missing: node › slots — provider carepoint is unavailable/);
  assert.ok(await page.locator('.detail h1').isVisible(), 'the rest of the page shows');
  assert.equal(await page.getByRole('button', { name: 'Book' }).count(), 0);
  await shot('provider-down');
  await restartCarepoint();
  await retryUntilWhole(alert);
  await page.getByRole('button', { name: 'Book' }).waitFor();

  // A search while it is down: the other provider's doctors, and a note
  // naming the one that did not answer; Retry completes the page.
  await carepoint.stop();
  await searchFor('dermatologist', 'MEDICAL');
  await alert.waitFor();
  assert.match(await alert.textContent(), /provider carepoint is unavailable/);
  assert.match(await alert.textContent(), /Some results are missing: carepoint did not answer/);
  const shown = await page.locator('.results a.card').evaluateAll((cards) => cards.map((c) => c.dataset.provider));
  assert.ok(shown.length > 0 && !shown.includes('CarePoint'), `shown while CarePoint is down: ${shown}`);
  await shot('search-provider-down');
  await restartCarepoint();
  await retryUntilWhole(alert);
  await page.locator('.results a.card[data-provider="CarePoint"]').first().waitFor();
});

// restartCarepoint starts the provider again where the gateway calls it.
async function restartCarepoint() {
  carepoint = await startHTTPProvider({ ...carepointSpec, addr: carepoint.addr });
}

// retryUntilWhole clicks Retry until the page has no missing part: the
// gateway's breaker may still be open for the provider for a few seconds
// (its cooldown, 5 s by default), as a person retrying would find.
async function retryUntilWhole(alert) {
  const deadline = Date.now() + 30_000;
  let clicks = 0;
  while (await alert.count() > 0) {
    assert.ok(Date.now() < deadline, `still missing after ${clicks} retries: ${await alert.textContent()}`);
    await alert.getByRole('button', { name: 'Retry' }).click();
    clicks++;
    await alert.waitFor({ state: 'detached', timeout: 2_000 }).catch(() => {});
  }
}

test('switching personalisation off is kept by the gateway', async () => {
  await page.getByRole('link', { name: 'Settings' }).click();
  const box = page.getByRole('checkbox', { name: /Personalise/ });
  await box.waitFor();
  assert.equal(await box.isChecked(), true);
  await box.click(); // controlled: it changes once the gateway has said so
  await page.getByText(/^Off: nothing you do is recorded/).waitFor();
  await page.reload();
  await page.getByText(/^Off: nothing you do is recorded/).waitFor();
  assert.equal(await page.getByRole('checkbox', { name: /Personalise/ }).isChecked(), false);
  await shot('settings');
  await page.getByRole('link', { name: 'Home' }).click();
  await page.locator('.section').first().waitFor();
});

test('a deep link opens its page directly', async () => {
  await searchFor('lawyer');
  await page.goto('/app/no/such/page');
  await page.getByText('There is no such page').waitFor();
});
