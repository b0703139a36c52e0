/**
 * Issue 13, the portal page in real Chromium against the real runtime and real receivers on
 * 127.0.0.1: a tenant makes a portal session through the API, and its customer, in the browser,
 * lists, creates, edits, pauses, tests, rotates and deletes endpoints, reads the event catalogue,
 * pages through deliveries and their attempts, resends one and recovers failed ones. What the page
 * shows is checked against the API. A receiver's answer carrying script is shown as text and never
 * runs; an expired, forged or revoked link shows a clear message and no data; no request leaves
 * 127.0.0.1 and none carries the token in a Referer. Screenshots go to test-results/.
 */
import { existsSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { createTenant, createWebhook, publish, verifyStandardWebhooks, WEBHOOKS } from '../support/hookline.ts';
import { startReceiver, type Receiver } from '../support/receiver.ts';
import { api, eventually, startRuntime, type Api, type Runtime } from '../support/runtime.ts';
import { CHROMIUM, launchBrowser, screenshot, type Browser, type Watch } from './browser.ts';
import { PORTAL_FILES } from '../../functions/openapi/portal.ts';

const SESSIONS = '/api/v1/portal-sessions';
/** What a receiver answers to make a page that renders it as HTML run script. */
const XSS = `<img src=x onerror="window.__xss=1"><script>window.__xss=2</script><b>bold</b>`;
const PORTAL_BUDGET_BYTES = 100 * 1024;


let rt: Runtime;
let tenant: Api;
let good: Receiver;
let hostile: Receiver;
let browser: Browser;

beforeAll(async () => {
  // CI installs it (.ci/run); a missing browser is a failure, never a skipped test.
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: apt-get install -y chromium (or set HOOKLINE_CHROMIUM)`);
  [rt, good, hostile] = await Promise.all([
    // A single attempt: a failing delivery is finished (and recoverable) at once.
    // More webhooks a tenant than the page's list takes at once (100).
    startRuntime({ env: { HOOKLINE_RETRY_DELAYS: '0', HOOKLINE_MAX_WEBHOOKS_PER_TENANT: '110' } }),
    startReceiver(),
    startReceiver({ respond: () => ({ status: 500, headers: { 'content-type': 'text/html' }, body: XSS }) }),
  ]);
  tenant = api(rt.baseUrl, rt.apiKey);
  browser = await launchBrowser();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await Promise.all([rt?.cleanup(), good?.close(), hostile?.close()]);
});

async function portalLink(body: Record<string, unknown> = {}): Promise<{ id: string; url: string; token: string }> {
  const res = await tenant.post(SESSIONS, body);
  if (res.status !== 201) throw new Error(`POST ${SESSIONS} answered ${res.status}: ${res.text}`);
  return { ...res.json, token: new URL(res.json.url).hash.replace(/^#token=/, '') };
}

/** The texts of the cells of a column of the visible table's rows. */
const column = (page: Page, index: number) => page.locator(`#view table tbody tr td:nth-child(${index})`).allTextContents();
const deliveryRows = (page: Page) => page.locator('#deliveries tr[data-delivery]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-delivery')));
const uniqueDeliveries = (items: { delivery_id: string }[]) => [...new Set(items.map((a) => a.delivery_id))];

async function openEndpoint(page: Page, url: string): Promise<void> {
  await page.getByRole('button', { name: 'Endpoints', exact: true }).click();
  await page.getByRole('button', { name: `Open ${url}` }).click();
  await page.locator('h2.url', { hasText: url }).waitFor();
}

/** Nothing went wrong in the browser: no console error, nothing off loopback, no Referer with the token. */
function expectClean(watch: Watch, token: string): void {
  expect(watch.errors).toEqual([]);
  expect(watch.offHost).toEqual([]);
  expect(watch.urls.every((u) => new URL(u).hostname === '127.0.0.1')).toBe(true);
  // Referrer-Policy: no-referrer: no Referer at all, so certainly not the token.
  expect(watch.referers).toEqual([]);
  expect(watch.referers.filter((r) => r.referer.includes(token))).toEqual([]);
}

describe('the portal page in Chromium', () => {
  it('is one small static page with a strict CSP and no referrer', async () => {
    const page = await fetch(`${rt.baseUrl}/portal`);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('content-security-policy')).toBe(
      "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    );
    expect(page.headers.get('referrer-policy')).toBe('no-referrer');
    const html = await page.text();
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/i);
    expect(html).not.toMatch(/\son\w+=/i);
    let total = Buffer.byteLength(html);
    for (const file of Object.keys(PORTAL_FILES).filter((name) => name !== 'portal.html')) {
      const res = await fetch(`${rt.baseUrl}/portal/${file}`);
      expect(res.status).toBe(200);
      const text = await res.text();
      total += Buffer.byteLength(text);
      if (file.endsWith('.js')) expect(text).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(/);
    }
    expect(total).toBeLessThanOrEqual(PORTAL_BUDGET_BYTES);
  });

  it('does everything a customer needs with a session, as the API says', async () => {
    // Before the session: one endpoint with 25 deliveries, one whose receiver answers with script.
    const steady = await createWebhook(tenant, { url: `${good.url}/steady`, events: ['scan.completed'], description: 'Steady receiver' });
    const hostileHook = await createWebhook(tenant, { url: `${hostile.url}/hostile`, events: ['alert.created'], description: '<i>not italic</i>' });
    await publish(tenant, { events: Array.from({ length: 25 }, (_, i) => ({ event: 'scan.completed', data: { scan_id: `s${i}` } })) });
    await publish(tenant, { event: 'alert.created', data: { alert_id: 'a1' } });
    await eventually('25 deliveries to the steady endpoint', async () => {
      const res = await tenant.get(`${WEBHOOKS}/${steady.id}/deliveries?per_page=100`);
      return res.json.items.length >= 25 ? true : undefined;
    });
    // The hostile one's delivery is finished (failed): there is no retry to wait for.
    await eventually('the hostile delivery to fail for good', async () => {
      const res = await tenant.get(`${WEBHOOKS}/${hostileHook.id}/deliveries`);
      return res.json.items.some((a: any) => !a.success && a.next_attempt_at === undefined) ? true : undefined;
    });

    const link = await portalLink();
    const { page, watch } = await browser.open();
    await page.goto(link.url);
    await page.locator('#view table').waitFor();
    // The token left the address at once.
    expect(page.url()).toBe(`${rt.baseUrl}/portal`);

    // The list: the API's endpoints, with their status.
    const listed = (await tenant.get(WEBHOOKS)).json.items;
    expect((await column(page, 1)).map((t) => t.trim())).toEqual(listed.map((w: any) => `${w.url}${w.description}`));
    expect(await column(page, 3)).toEqual(listed.map((w: any) => (w.active ? w.status : 'paused')));
    // A description is text, not markup.
    expect(await page.locator('#view i').count()).toBe(0);
    await screenshot(page, 'portal-endpoints');

    // The event catalogue.
    await page.getByRole('button', { name: 'Event types' }).click();
    await page.locator('#view h2', { hasText: 'Event types' }).waitFor();
    const types = (await tenant.get('/api/v1/event-types')).json.items.map((t: any) => t.type);
    expect(await column(page, 1)).toEqual(types);
    await screenshot(page, 'portal-event-types');

    // Create an endpoint: the secret is shown once, and signs what the receiver gets.
    await page.getByRole('button', { name: 'Endpoints', exact: true }).click();
    await page.getByRole('button', { name: 'Add endpoint' }).click();
    const createdUrl = `${good.url}/created`;
    await page.getByLabel('URL').fill(createdUrl);
    await page.getByLabel('Description').fill('Made in the portal');
    await page.getByLabel('Scan completed (scan.completed)').check();
    await page.getByLabel('Alert created (alert.created)').check();
    await page.getByRole('button', { name: 'Create' }).click();
    await page.locator('h2.url', { hasText: createdUrl }).waitFor();
    const secret = (await page.locator('[data-secret]').textContent())!;
    expect(secret).toMatch(/^whsec_/);
    const made = (await tenant.get(WEBHOOKS)).json.items.find((w: any) => w.url === createdUrl);
    expect(made).toMatchObject({ description: 'Made in the portal', events: ['alert.created', 'scan.completed'], active: true });
    await screenshot(page, 'portal-created');

    // Send a test event: the page says what the receiver answered, and the receiver can verify it.
    await page.getByRole('button', { name: 'Send test event' }).click();
    await page.getByText('Test event delivered').waitFor();
    await page.getByText('HTTP 200', { exact: false }).waitFor();
    const [test] = await good.waitUntil('the test event', (rs) => rs.some((r) => r.path === '/created'));
    const testRequest = good.requests.find((r) => r.path === '/created')!;
    expect(test).toBeDefined();
    expect(() => verifyStandardWebhooks(testRequest, secret)).not.toThrow();

    // Edit.
    await page.getByRole('button', { name: 'Edit' }).click();
    await page.getByLabel('Description').fill('Changed in the portal');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.locator('dd', { hasText: 'Changed in the portal' }).waitFor();
    expect((await tenant.get(`${WEBHOOKS}/${made.id}`)).json.description).toBe('Changed in the portal');

    // Pause, then resume.
    await page.getByRole('button', { name: 'Pause' }).click();
    await page.locator('#view .badge.paused').waitFor();
    expect((await tenant.get(`${WEBHOOKS}/${made.id}`)).json.active).toBe(false);
    await page.getByRole('button', { name: 'Resume' }).click();
    await page.getByRole('button', { name: 'Pause' }).waitFor();
    expect((await tenant.get(`${WEBHOOKS}/${made.id}`)).json.active).toBe(true);

    // Rotate the secret: a new one, shown once, that signs the next test event.
    await page.getByRole('button', { name: 'Rotate secret' }).click();
    await page.getByText('New signing secret', { exact: false }).waitFor();
    const rotated = (await page.locator('[data-secret]').textContent())!;
    expect(rotated).toMatch(/^whsec_/);
    expect(rotated).not.toBe(secret);
    await page.getByRole('button', { name: 'Send test event' }).click();
    await page.getByText('Test event delivered').waitFor();
    const afterRotation = await good.waitUntil('the second test event', (rs) => rs.filter((r) => r.path === '/created').length >= 2);
    expect(() => verifyStandardWebhooks(afterRotation.filter((r) => r.path === '/created')[1]!, rotated)).not.toThrow();
    await screenshot(page, 'portal-rotated');

    // Delete.
    await page.getByRole('button', { name: 'Delete' }).click();
    await page.getByText('Endpoint deleted.').waitFor();
    expect((await tenant.get(`${WEBHOOKS}/${made.id}`)).status).toBe(404);
    expect(await page.getByRole('button', { name: `Open ${createdUrl}` }).count()).toBe(0);

    // Page through the deliveries: each page is the API's, one row per delivery.
    await openEndpoint(page, steady.url);
    const first = (await tenant.get(`${WEBHOOKS}/${steady.id}/deliveries?per_page=10`)).json;
    await page.locator('#deliveries table').waitFor();
    expect(await deliveryRows(page)).toEqual(uniqueDeliveries(first.items));
    await page.getByRole('button', { name: 'Older →' }).click();
    await page.getByText('Page 2').waitFor();
    const second = (await tenant.get(`${WEBHOOKS}/${steady.id}/deliveries?per_page=10&cursor=${first.next_cursor}`)).json;
    expect(await deliveryRows(page)).toEqual(uniqueDeliveries(second.items));
    await page.getByRole('button', { name: '← Newer' }).click();
    await page.getByText('Page 1').waitFor();

    // Open one: its attempt as the API logged it; resend it.
    const chosen = first.items[0];
    await page.locator(`#deliveries tr[data-delivery="${chosen.delivery_id}"]`).getByRole('button', { name: 'Open' }).click();
    const attemptCard = page.locator(`[data-attempt="${chosen.id}"]`);
    await attemptCard.waitFor();
    expect(await attemptCard.locator('dd').allTextContents()).toEqual(
      expect.arrayContaining([String(chosen.status_code), `${chosen.response_time_ms} ms`, chosen.response_body]),
    );
    expect(await page.locator('body').textContent()).not.toMatch(/undefined|NaN|\[object/);
    await screenshot(page, 'portal-delivery');
    await page.getByRole('button', { name: 'Resend' }).click();
    await page.getByText('Attempt 2 of the delivery is queued.').waitFor();
    const resent = await eventually('the manual attempt', async () => {
      const items = (await tenant.get(`${WEBHOOKS}/${steady.id}/deliveries?per_page=5`)).json.items;
      return items.find((a: any) => a.delivery_id === chosen.delivery_id && a.attempt === 2);
    });
    expect(resent).toMatchObject({ trigger: 'manual', success: true });
    await openEndpoint(page, steady.url);
    await page.locator(`#deliveries tr[data-delivery="${chosen.delivery_id}"]`).getByRole('button', { name: 'Open' }).click();
    await page.locator(`[data-attempt="${resent.id}"]`).getByText('Attempt 2 (manual)').waitFor();

    // The hostile receiver's answer is shown as text, and its script never runs.
    await openEndpoint(page, hostileHook.url);
    const hostileAttempts = (await tenant.get(`${WEBHOOKS}/${hostileHook.id}/deliveries`)).json.items;
    await page.locator('#deliveries tr[data-delivery]').first().getByRole('button', { name: 'Open' }).click();
    const shown = page.locator(`[data-attempt="${hostileAttempts[0].id}"] pre.response-body`);
    await shown.waitFor();
    expect(await shown.textContent()).toBe(XSS);
    expect(await page.locator('#view img, #view script, #view b').count()).toBe(0);
    expect(await page.evaluate(() => (globalThis as { __xss?: number }).__xss)).toBeUndefined();
    await screenshot(page, 'portal-hostile-answer');

    // Recover since an hour ago: the failed delivery is queued again and reaches the receiver.
    const before = hostile.requests.length;
    await page.getByLabel('Resend failed deliveries since').fill(new Date(Date.now() - 3600_000).toISOString().slice(0, 16));
    await page.getByRole('button', { name: 'Recover' }).click();
    await page.getByText('1 failed deliveries queued again.').waitFor();
    await hostile.waitUntil('the recovered delivery', (rs) => rs.length > before);

    expect(await page.evaluate(() => (globalThis as { __xss?: number }).__xss)).toBeUndefined();
    expect(await page.locator('body').textContent()).not.toMatch(/undefined|null|NaN|\[object/);
    expectClean(watch, link.token);
    await page.close();
  }, 180_000);

  it('a read-only session shows no way to change anything; a scoped one shows only its endpoints', async () => {
    const hooks = (await tenant.get(WEBHOOKS)).json.items;
    const readOnly = await portalLink({ read_only: true });
    const { page, watch } = await browser.open();
    await page.goto(readOnly.url);
    await page.locator('#view table').waitFor();
    expect(await page.getByRole('button', { name: 'Add endpoint' }).count()).toBe(0);
    await page.getByRole('button', { name: `Open ${hooks[0].url}` }).click();
    await page.locator('#deliveries').waitFor();
    for (const name of ['Edit', 'Pause', 'Delete', 'Rotate secret', 'Send test event', 'Recover']) {
      expect(await page.getByRole('button', { name }).count()).toBe(0);
    }
    expect(await page.locator('#session').textContent()).toContain('read-only');

    const scoped = await portalLink({ webhook_ids: [hooks[0].id] });
    await page.goto('about:blank');
    await page.goto(scoped.url);
    await page.locator('#view table').waitFor();
    expect((await column(page, 1)).map((t) => t.trim())).toEqual([`${hooks[0].url}${hooks[0].description}`]);
    expect(await page.getByRole('button', { name: 'Add endpoint' }).count()).toBe(0);
    expectClean(watch, scoped.token);
    await page.close();
  });

  it('lists every endpoint of a tenant with more than a page of them', async () => {
    const other = await createTenant(rt);
    for (let i = 0; i < 101; i++) await createWebhook(other.api, { url: `${good.url}/many-${i}`, events: ['scan.completed'] });
    const made = await other.api.post(SESSIONS, {});
    expect(made.status).toBe(201);
    const { page, watch } = await browser.open();
    await page.goto(made.json.url);
    await page.locator('#view table').waitFor();
    const urls = await page.locator('#view table tbody tr td:nth-child(1) .url').allTextContents();
    expect(new Set(urls)).toEqual(new Set(Array.from({ length: 101 }, (_, i) => `${good.url}/many-${i}`)));
    expectClean(watch, new URL(made.json.url).hash.replace(/^#token=/, ''));
    await page.close();
  });

  it('takes a token from the query too, and removes it from the address at once', async () => {
    const link = await portalLink();
    const { page, watch } = await browser.open();
    await page.goto(`${rt.baseUrl}/portal?token=${link.token}`);
    await page.locator('#view table').waitFor();
    expect(page.url()).toBe(`${rt.baseUrl}/portal`);
    expectClean(watch, link.token);
    await page.close();
  });
});

describe('a link that no longer works shows a clear message and no data', () => {
  /** The only errors: the browser's note of the 401 answer. */
  const only401 = (watch: Watch) => expect(watch.errors.filter((e) => !/status of 401/.test(e))).toEqual([]);

  it('expired', async () => {
    await createWebhook(tenant, { url: `${good.url}/kept`, events: ['scan.completed'] });
    const link = await portalLink({ expires_in: 1 });
    await eventually('the link to expire', async () => ((await api(rt.baseUrl, link.token).get(WEBHOOKS)).status === 401 ? true : undefined));
    const { page, watch } = await browser.open();
    await page.goto(link.url);
    await page.getByText('This portal link no longer works').waitFor();
    const text = (await page.locator('body').textContent()) ?? '';
    expect(text).toMatch(/expired/i);
    const hooks = (await tenant.get(WEBHOOKS)).json.items;
    expect(hooks.some((w: any) => text.includes(w.url))).toBe(false);
    expect(await page.locator('#view table').count()).toBe(0);
    await screenshot(page, 'portal-expired');
    only401(watch);
    expect(watch.offHost).toEqual([]);
    await page.close();
  });

  it('forged', async () => {
    const link = await portalLink();
    const forged = link.url.slice(0, -3) + (link.url.endsWith('AAA') ? 'BBB' : 'AAA');
    const { page, watch } = await browser.open();
    await page.goto(forged);
    await page.getByText('This portal link no longer works').waitFor();
    const text = (await page.locator('body').textContent()) ?? '';
    const hooks = (await tenant.get(WEBHOOKS)).json.items;
    expect(hooks.some((w: any) => text.includes(w.url))).toBe(false);
    await screenshot(page, 'portal-forged');
    only401(watch);
    await page.close();
  });

  it('revoked while open: the next action ends the page and clears what it showed', async () => {
    const link = await portalLink();
    const { page, watch } = await browser.open();
    await page.goto(link.url);
    await page.locator('#view table').waitFor();
    expect((await tenant.del(`${SESSIONS}/${link.id}`)).status).toBe(204);
    await page.getByRole('button', { name: 'Event types' }).click();
    await page.getByText('This portal link no longer works').waitFor();
    const text = (await page.locator('body').textContent()) ?? '';
    expect(text).toMatch(/revoked/i);
    const hooks = (await tenant.get(WEBHOOKS)).json.items;
    expect(hooks.some((w: any) => text.includes(w.url))).toBe(false);
    // A reload does not bring it back: the page forgot the token.
    await page.reload();
    await page.getByText('This portal link no longer works').waitFor();
    only401(watch);
    await page.close();
  });

  it('no token at all', async () => {
    const { page, watch } = await browser.open();
    await page.goto(`${rt.baseUrl}/portal`);
    await page.getByText('This page needs a portal link').waitFor();
    expect(watch.errors).toEqual([]);
    await page.close();
  });
});
