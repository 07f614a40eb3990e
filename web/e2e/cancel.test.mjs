// Cancelling a booking of each kind from Mine. Its own gateway, with the
// demo statuses at their default pace (30 s a step), so an appointment is
// still CONFIRMED and an application still PENDING when the button is
// clicked (app.test.mjs runs them at 2 s a step to watch an order arrive).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway } from './gateway.mjs';
import { checkout, launch, phone } from './browser.mjs';

let gw, browser, page;

before(async () => {
  gw = await startGateway({ PLAZA_DEMO_STATUS_STEP: '30s' });
  browser = await launch();
  const context = await browser.newContext({ ...phone, baseURL: gw.url });
  context.setDefaultTimeout(15_000); // generous: the machine is shared
  page = await context.newPage();
  page.on('pageerror', (e) => console.error('page error:', e));
  await page.goto('/app/signin');
  await page.getByLabel('Demo user').fill('demo-7');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL((u) => u.pathname === '/app/');
});

after(async () => {
  await browser?.close();
  await gw?.stop();
});

async function open(text, vertical, kind) {
  await page.goto(`/app/search?q=${encodeURIComponent(text)}&vertical=${vertical}`);
  await page.locator(`.results a.card[data-kind="${kind}"]`).first().click();
}

// cancelIn cancels the first row of list whose status is want and checks
// that it reads CANCELLED without its button.
async function cancelIn(list, want) {
  await page.getByRole('link', { name: 'Mine' }).click();
  const row = page.locator(`[data-list="${list}"] li`).filter({ has: page.locator(`.status[data-status="${want}"]`) }).first();
  const id = await row.getAttribute('data-id');
  await row.getByRole('button', { name: 'Cancel' }).click();
  const same = page.locator(`[data-list="${list}"] li[data-id="${id}"]`);
  await same.locator('.status[data-status="CANCELLED"]').waitFor();
  assert.equal(await same.getByRole('button', { name: 'Cancel' }).count(), 0, 'a cancelled booking still offers Cancel');
}

test('a booked appointment is moved to another slot, then cancelled, from Mine', async () => {
  await open('paediatrician', 'MEDICAL', 'Doctor');
  await page.getByLabel('Reason').fill('Check-up before school');
  await page.getByRole('button', { name: 'Book' }).click();
  await page.getByText(/^Booked: .*CONFIRMED/).waitFor();
  await page.getByRole('link', { name: 'Mine' }).click();
  const row = page.locator('[data-list="appointments"] li', { hasText: 'Check-up before school' });
  const before = await row.locator('.card-sub').textContent();
  await row.getByRole('button', { name: 'Reschedule' }).click();
  const choice = row.locator('select[name="newslot"] option').nth(1);
  await choice.waitFor({ state: 'attached' });
  await row.locator('select[name="newslot"]').selectOption(await choice.getAttribute('value'));
  await row.getByRole('button', { name: 'Move' }).click();
  await page.waitForFunction((b) => {
    const li = [...document.querySelectorAll('[data-list="appointments"] li')].find((l) => l.textContent.includes('Check-up before school'));
    return li && li.querySelector('.card-sub').textContent !== b;
  }, before);
  await cancelIn('appointments', 'CONFIRMED');
});

test('a pending application is moved to another office slot, then withdrawn, from Mine', async () => {
  await open('ID card', 'PUBLIC_SERVICE', 'GovService');
  await page.locator('a.card[data-kind="Office"]').first().click();
  await page.waitForURL(/\/office\//);
  for (const box of await page.locator('fieldset input[type="checkbox"]').all()) await box.check();
  await page.getByRole('button', { name: 'Apply' }).click();
  await page.getByText(/^Applied: /).waitFor();
  await page.getByRole('link', { name: 'Mine' }).click();
  const row = page.locator('[data-list="applications"] li').filter({ has: page.locator('.status[data-status="PENDING"]') }).first();
  await row.waitFor();
  const id = await row.getAttribute('data-id');
  const same = page.locator(`[data-list="applications"] li[data-id="${id}"]`);
  const before = await same.locator('.card-sub').textContent();
  await same.getByRole('button', { name: 'Reschedule' }).click();
  const choice = same.locator('select[name="newslot"] option').nth(1);
  await choice.waitFor({ state: 'attached' });
  await same.locator('select[name="newslot"]').selectOption(await choice.getAttribute('value'));
  await same.getByRole('button', { name: 'Move' }).click();
  await page.waitForFunction(([i, b]) => {
    const li = document.querySelector(`[data-list="applications"] li[data-id="${i}"]`);
    return li && li.querySelector('.card-sub').textContent !== b;
  }, [id, before]);
  assert.equal(await same.locator('.status').getAttribute('data-status'), 'PENDING', 'a moved application changed its status');
  await cancelIn('applications', 'PENDING');
});

test('an order is cancelled from its page', async () => {
  await open('milk', 'GROCERY', 'Product');
  await page.getByRole('button', { name: 'Add to cart' }).click();
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: /Cart/ }).click();
  await checkout(page);
  await page.locator('.ok a', { hasText: 'Follow it' }).click();
  await page.locator('.order .status[data-status="PLACED"]').waitFor();
  await page.getByRole('button', { name: 'Cancel' }).click();
  await page.locator('.order .status[data-status="CANCELLED"]').waitFor();
  assert.equal(await page.getByRole('button', { name: 'Cancel' }).count(), 0);
});
