// Debian's Chromium (/usr/bin/chromium), driven by playwright-core: no
// browser download. The flags keep it off the network it does not need.
import { chromium } from 'playwright-core';

export function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
}

// A phone-sized page: the app is mobile first.
export const phone = { viewport: { width: 390, height: 844 }, deviceScaleFactor: 1, isMobile: true, hasTouch: true };

// checkout orders the cart from the cart page: one more of the first line
// until the store's minimum order is met (the store refuses less), Place
// order, then the payment step (the demo providers take payment through
// Plaza). With decline, the declined sandbox card first: the order stays
// payable and the approved card pays it. onPayment(declined) runs on the
// payment step (screenshots). Returns the first line's quantity; ends on Mine.
export async function checkout(page, { decline = false, onPayment = async () => {} } = {}) {
  const qty = await placeOrder(page);
  const payment = page.locator('form[aria-label="Payment"]');
  await onPayment(false);
  await pay(payment, { decline, onDeclined: () => onPayment(true) });
  await page.waitForURL(/\/app\/me\?placed=/);
  return qty;
}

// placeOrder places the cart's order up to the store's minimum and stops
// at the payment step. Returns the first line's quantity.
export async function placeOrder(page) {
  await page.locator('select[name="slot"] option').first().waitFor({ state: 'attached' });
  const more = page.getByRole('button', { name: /^One more / }).first();
  for (let i = 0; i < 100 && (await page.locator('[data-minimum]').count()) > 0; i++) await more.click();
  const qty = Number(await page.locator('[data-qty]').first().textContent());
  await page.getByRole('button', { name: 'Place order' }).click();
  await page.locator('form[aria-label="Payment"]').waitFor();
  return qty;
}

// pay pays with the payment form (a locator): with decline, the declined
// sandbox card first (its error shown, onDeclined run), then the approved.
export async function pay(payment, { decline = false, onDeclined = async () => {} } = {}) {
  if (decline) {
    await payment.getByLabel('Card').selectOption('tok_chargeDeclined');
    await payment.getByRole('button', { name: 'Pay' }).click();
    await payment.locator('[data-code="PAYMENT_DECLINED"]').waitFor();
    await onDeclined();
  }
  await payment.getByLabel('Card').selectOption('tok_visa');
  await payment.getByRole('button', { name: 'Pay' }).click();
}
