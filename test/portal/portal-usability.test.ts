/**
 * The portal as a customer uses it, beyond what it can do (portal.test.ts): what a probe with a
 * real browser found wrong, each checked in real Chromium against the real runtime. An edit keeps
 * the event patterns the form has no box for; a delivery whose attempts straddle two pages of the
 * log shows once, with its whole history; a double click acts once; an endpoint a 410 disabled
 * can be enabled; a test event's attempt offers no resend and shows in the log at once; views
 * have addresses (Back, reload); an unreachable service, an ended session, a refused URL each say
 * so plainly; and the page fits a phone's width, with focus and names for assistive technology.
 */
import { existsSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { createTenant, createWebhook, publish, verifyHex, WEBHOOKS } from '../support/hookline.ts';
import { startReceiver, type Receiver } from '../support/receiver.ts';
import { eventually, startRuntime, type Api, type Runtime } from '../support/runtime.ts';
import { CHROMIUM, launchBrowser, screenshot, type Browser } from './browser.ts';

const SESSIONS = '/api/v1/portal-sessions';

let rt: Runtime;
let good: Receiver;
let failing: Receiver;
let gone: Receiver;
let browser: Browser;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: apt-get install -y chromium (or set HOOKLINE_CHROMIUM)`);
  [rt, good, failing, gone] = await Promise.all([
    // Three attempts at once: a failing delivery has three log entries within a second.
    startRuntime({ env: { HOOKLINE_RETRY_DELAYS: '0,0,0' } }),
    startReceiver(),
    startReceiver({ status: 500 }),
    startReceiver({ status: 410 }),
  ]);
  browser = await launchBrowser();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await Promise.all([rt?.cleanup(), good?.close(), failing?.close(), gone?.close()]);
});

/** A tenant of its own and a page on its portal link. */
async function portalOf(): Promise<{ tenant: Api; page: Page; url: string }> {
  const { api: tenant } = await createTenant(rt);
  const made = await tenant.post(SESSIONS, {});
  if (made.status !== 201) throw new Error(`POST ${SESSIONS} answered ${made.status}: ${made.text}`);
  const { page } = await browser.open();
  return { tenant, page, url: made.json.url };
}

async function open(page: Page, url: string, endpointUrl: string): Promise<void> {
  await page.goto(url);
  await page.getByRole('button', { name: `Open ${endpointUrl}` }).click();
  await page.locator('h2.url', { hasText: endpointUrl }).waitFor();
}

const notice = (page: Page) => page.locator('#notice');

/** The page's document, as the browser's scripts see it (the test's own types have no DOM). */
interface PageDocument {
  readonly documentElement: { readonly scrollWidth: number };
  readonly activeElement: { readonly textContent: string | null } | null;
}


describe('the portal, used as a customer uses it', () => {
  it('an edit keeps the event patterns the form has no single box for', async () => {
    const { tenant, page, url } = await portalOf();
    const hook = await createWebhook(tenant, { url: `${good.url}/patterns`, events: ['scan.*', 'alert.created'] });
    await open(page, url, hook.url);
    await page.getByRole('button', { name: 'Edit' }).click();
    expect(await page.getByLabel('Pattern (scan.*)').isChecked()).toBe(true);
    await page.getByLabel('Description').fill('only the description changed');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.locator('dd', { hasText: 'only the description changed' }).waitFor();
    expect((await tenant.get(`${WEBHOOKS}/${hook.id}`)).json.events).toEqual(['scan.*', 'alert.created']);
    await page.close();
  });

  it("sets a receiver's authentication, the body format and a secret of one's own; an edit keeps credentials left empty", async () => {
    const { tenant, page, url } = await portalOf();
    const path = '/authenticated';
    await page.goto(url);
    await page.getByRole('button', { name: 'Add endpoint' }).click();
    await page.getByLabel('URL').fill(`${good.url}${path}`);
    await page.getByLabel('All events (*)').check();
    await page.getByLabel('Body format').selectOption('cloudevents');
    await page.getByLabel('Receiver authentication').selectOption('bearer');
    await page.getByLabel('Token', { exact: true }).fill('portal-bearer-token-1');
    await page.getByLabel('Signing secret (optional)').fill('a-secret-of-my-own');
    await screenshot(page, 'portal-form');
    await page.getByRole('button', { name: 'Create' }).click();
    await page.locator('dd', { hasText: 'Bearer token' }).waitFor();
    // Chosen, so not shown back: only a generated secret is.
    expect(await page.locator('[data-secret]').count()).toBe(0);
    const sent = async (n: number) => {
      await page.getByRole('button', { name: 'Send test event' }).click();
      await page.getByText('Test event delivered').waitFor();
      const requests = await good.waitUntil(`test event ${n}`, (rs) => rs.filter((r) => r.path === path).length >= n);
      await page.locator('#action-result').evaluate((el) => el.replaceChildren());
      return requests.filter((r) => r.path === path)[n - 1]!;
    };
    const first = await sent(1);
    expect(first.headers['authorization']).toBe('Bearer portal-bearer-token-1');
    expect(first.headers['content-type']).toMatch(/^application\/cloudevents\+json/);
    expect(verifyHex(first, 'a-secret-of-my-own')).toBe(true);

    await page.getByRole('button', { name: 'Edit' }).click();
    expect(await page.getByLabel('Body format').inputValue()).toBe('cloudevents');
    expect(await page.getByLabel('Receiver authentication').inputValue()).toBe('bearer');
    await page.getByLabel('Description').fill('token kept');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.locator('dd', { hasText: 'token kept' }).waitFor();
    expect((await sent(2)).headers['authorization']).toBe('Bearer portal-bearer-token-1');

    await page.getByRole('button', { name: 'Edit' }).click();
    await page.getByLabel('Receiver authentication').selectOption('basic');
    await page.getByLabel('User name', { exact: true }).fill('scanner');
    await page.getByLabel('Password', { exact: true }).fill('pa55word');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.locator('dd', { hasText: 'Basic' }).waitFor();
    expect((await sent(3)).headers['authorization']).toBe(`Basic ${Buffer.from('scanner:pa55word').toString('base64')}`);
    const [hook] = (await tenant.get(WEBHOOKS)).json.items;
    expect(hook).toMatchObject({ format: 'cloudevents', auth: { type: 'basic' }, description: 'token kept' });
    await page.close();
  });

  it('an edit of one credential asks for all of the type\'s fields; a new path keeps the URL\'s token; values are sent as typed', async () => {
    const { tenant, page, url } = await portalOf();
    const path = '/typed?token=url-token';
    const hook = await createWebhook(tenant, { url: `${good.url}${path}`, events: ['scan.completed'], secret: '  spaced secret  ', auth: { type: 'basic', username: 'scanner', password: 'pa55word' } });
    await open(page, url, hook.url);
    await page.getByRole('button', { name: 'Edit' }).click();
    const user = page.getByLabel('User name', { exact: true });
    expect(await user.evaluate((el) => (el as unknown as { required: boolean }).required)).toBe(false);
    await page.getByLabel('Password', { exact: true }).fill(' new pass ');
    expect(await user.evaluate((el) => (el as unknown as { required: boolean }).required)).toBe(true);
    await user.fill('scanner2');
    await page.getByLabel('URL').fill(`${good.url}/moved?token=****`);
    await page.getByRole('button', { name: 'Save' }).click();
    await page.locator('h2.url', { hasText: '/moved?token=****' }).waitFor();
    await page.getByRole('button', { name: 'Send test event' }).click();
    await page.getByText('Test event delivered').waitFor();
    const [got] = await good.waitUntil('the test event', (rs) => rs.some((r) => r.path.startsWith('/moved')));
    const req = good.requests.find((r) => r.path.startsWith('/moved'))!;
    expect(got).toBeDefined();
    expect(req.path).toBe('/moved?token=url-token');
    expect(req.headers['authorization']).toBe(`Basic ${Buffer.from('scanner2: new pass ').toString('base64')}`);
    expect(verifyHex(req, '  spaced secret  ')).toBe(true);
    await page.close();
  });

  it('an answer for a view the user has left does not replace the one they went to', async () => {
    const { tenant, page, url } = await portalOf();
    const hook = await createWebhook(tenant, { url: `${good.url}/slow-view`, events: ['scan.completed'] });
    await page.goto(url);
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    await page.route(`**${WEBHOOKS}/${hook.id}`, async (route) => {
      await held;
      await route.continue();
    });
    await page.getByRole('button', { name: `Open ${hook.url}` }).click();
    await page.getByRole('button', { name: 'Event types' }).click();
    await page.getByRole('heading', { name: 'Event types' }).waitFor();
    const finished = page.waitForEvent('requestfinished', (req) => req.url().endsWith(`${WEBHOOKS}/${hook.id}`));
    release();
    await finished;
    // Its body is in: the page's handler of it runs within the turns after (the old page drew
    // the endpoint here, every time); a frame and a timer's turn later, it has run.
    await page.evaluate(() => new Promise((resolve) => (globalThis as unknown as { requestAnimationFrame(f: () => void): void }).requestAnimationFrame(() => setTimeout(resolve, 0))));
    expect(await page.getByRole('heading', { name: 'Event types' }).count()).toBe(1);
    expect(await page.locator('h2.url').count()).toBe(0);
    expect(await page.getByRole('button', { name: 'Event types' }).getAttribute('aria-pressed')).toBe('true');
    await page.close();
  });

  it('an address naming no endpoint says so; Back from a form returns to where it was opened', async () => {
    const { tenant, page, url } = await portalOf();
    const hook = await createWebhook(tenant, { url: `${good.url}/addressed-form`, events: ['scan.completed'] });
    await page.goto(url);
    await page.getByRole('heading', { name: 'Endpoints' }).waitFor();
    for (const bad of ['#/endpoints/wh_01ARZ3NDEKTSV4RRFFQ69G5FAV', '#/endpoints/%ZZ', '#/endpoints/garbage']) {
      await page.goto(`${rt.baseUrl}/portal${bad}`);
      await page.getByRole('heading', { name: 'No such endpoint' }).waitFor();
    }
    await page.getByRole('button', { name: 'All endpoints' }).click();
    await page.getByRole('heading', { name: 'Endpoints' }).waitFor();
    await page.getByRole('button', { name: 'Add endpoint' }).click();
    await page.getByRole('heading', { name: 'Add endpoint' }).waitFor();
    await page.goBack();
    await page.getByRole('heading', { name: 'Endpoints' }).waitFor();
    await page.getByRole('button', { name: `Open ${hook.url}` }).click();
    await page.getByRole('button', { name: 'Edit' }).click();
    await page.getByRole('heading', { name: 'Edit endpoint' }).waitFor();
    await page.goBack();
    await page.locator('h2.url', { hasText: hook.url }).waitFor();
    await page.close();
  });

  it('shows a delivery whose attempts straddle two pages once, with its whole history', async () => {
    const { tenant, page, url } = await portalOf();
    const hook = await createWebhook(tenant, { url: `${failing.url}/straddle`, events: ['scan.completed'] });
    await publish(tenant, { events: [1, 2, 3, 4].map((n) => ({ event: 'scan.completed', data: { n } })) });
    const log = await eventually('12 attempts', async () => {
      const items = (await tenant.get(`${WEBHOOKS}/${hook.id}/deliveries?per_page=100`)).json.items;
      return items.length === 12 ? (items as { delivery_id: string; id: string }[]) : undefined;
    });
    // The portal's pages hold 10 attempts: the fourth delivery's newest is on page 1, its others on page 2.
    const straddling = log[9]!.delivery_id;
    expect(log[10]!.delivery_id).toBe(straddling);
    await open(page, url, hook.url);
    const rows = () => page.locator('#deliveries tr[data-delivery]').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-delivery')));
    expect(await rows()).toEqual([...new Set(log.map((a) => a.delivery_id))]);
    await page.locator(`#deliveries tr[data-delivery="${straddling}"]`).getByRole('button').click();
    await page.locator('[data-attempt]').nth(2).waitFor();
    expect(await page.locator('[data-attempt]').evaluateAll((cards) => cards.map((c) => c.getAttribute('data-attempt')))).toEqual(
      log.filter((a) => a.delivery_id === straddling).map((a) => a.id).reverse(),
    );
    await page.getByRole('button', { name: 'Older →' }).click();
    await page.getByText('Page 2').waitFor();
    expect(await rows()).toEqual([]);
    await page.close();
  });

  it('passes over a page holding only the older attempts of a long delivery; the focus stays on the paging button', async () => {
    const { tenant, page, url } = await portalOf();
    const hook = await createWebhook(tenant, { url: `${failing.url}/long`, events: ['scan.completed'] });
    const logOf = async () => (await tenant.get(`${WEBHOOKS}/${hook.id}/deliveries?per_page=100`)).json.items as { delivery_id: string; attempt: number }[];
    await publish(tenant, { event: 'scan.completed', data: { n: 'older' } });
    await eventually('the older delivery', async () => ((await logOf()).length === 3 ? true : undefined));
    await publish(tenant, { event: 'scan.completed', data: { n: 'long' } });
    const long = await eventually('the long delivery', async () => ((await logOf()).length === 6 ? (await logOf())[0]!.delivery_id : undefined));
    // Resent until it has 25 attempts: the portal's pages of 10 hold its 25..16, then 15..6, then 5..1 and the older one.
    for (let n = 4; n <= 25; n++) {
      expect((await tenant.post(`${WEBHOOKS}/${hook.id}/deliveries/${long}/retry`)).status).toBe(202);
      await eventually(`attempt ${n}`, async () => ((await logOf()).some((a) => a.delivery_id === long && a.attempt === n) ? true : undefined));
    }
    const older = (await logOf()).at(-1)!.delivery_id;
    await open(page, url, hook.url);
    const rows = () => page.locator('#deliveries tr[data-delivery]').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-delivery')));
    expect(await rows()).toEqual([long]);
    await page.getByRole('button', { name: 'Older →' }).focus();
    await page.keyboard.press('Enter');
    await page.locator(`#deliveries tr[data-delivery="${older}"]`).waitFor();
    expect(await rows()).toEqual([older]);
    expect(await page.evaluate(() => (globalThis as unknown as { document: PageDocument }).document.activeElement?.textContent)).toBe('← Newer');
    await page.keyboard.press('Enter');
    await page.locator(`#deliveries tr[data-delivery="${long}"]`).waitFor();
    expect(await rows()).toEqual([long]);
    await page.close();
  }, 60_000);

  it('a double click creates one endpoint and sends one test event', async () => {
    const { tenant, page, url } = await portalOf();
    await page.goto(url);
    await page.getByRole('button', { name: 'Add endpoint' }).click();
    await page.getByLabel('URL').fill(`${good.url}/double`);
    await page.getByLabel('All events (*)').check();
    await page.getByRole('button', { name: 'Create' }).dblclick();
    await page.locator('[data-secret]').waitFor();
    const hooks = await eventually('the endpoint', async () => {
      const items = (await tenant.get(WEBHOOKS)).json.items;
      return items.length > 0 ? items : undefined;
    });
    const before = good.requests.filter((r) => r.path === '/double').length;
    await page.getByRole('button', { name: 'Send test event' }).dblclick();
    await page.getByText('Test event delivered').waitFor();
    // The log shows the test's attempt without reopening the endpoint: one, not two.
    await page.locator('#deliveries tr[data-delivery]').first().waitFor();
    const tests = (await tenant.get(`${WEBHOOKS}/${hooks[0].id}/deliveries`)).json.items;
    expect(tests).toHaveLength(1);
    expect(good.requests.filter((r) => r.path === '/double').length - before).toBe(1);
    expect((await tenant.get(WEBHOOKS)).json.items).toHaveLength(1);
    // A test event's attempt is no delivery: nothing to resend.
    await page.locator('#deliveries tr[data-delivery]').first().getByRole('button').click();
    await page.locator('[data-attempt]').first().waitFor();
    expect(await page.getByRole('button', { name: 'Resend' }).count()).toBe(0);
    await page.close();
  });

  it('an endpoint a 410 disabled offers Enable, which brings it back', async () => {
    const { tenant, page, url } = await portalOf();
    const hook = await createWebhook(tenant, { url: `${gone.url}/gone`, events: ['scan.completed'] });
    await publish(tenant, { event: 'scan.completed', data: {} });
    await eventually('the 410 to disable it', async () => ((await tenant.get(`${WEBHOOKS}/${hook.id}`)).json.status === 'disabled' ? true : undefined));
    await open(page, url, hook.url);
    expect(await page.getByRole('button', { name: 'Pause' }).count()).toBe(0);
    await page.getByRole('button', { name: 'Enable' }).click();
    await page.getByText('Enabled: events are sent to this endpoint again.').waitFor();
    expect((await tenant.get(`${WEBHOOKS}/${hook.id}`)).json).toMatchObject({ active: true, status: 'healthy' });
    await page.getByRole('button', { name: 'Pause' }).waitFor();
    await page.close();
  });

  it('views have addresses: Back returns to the list, a reload stays on the endpoint', async () => {
    const { tenant, page, url } = await portalOf();
    const hook = await createWebhook(tenant, { url: `${good.url}/addressed`, events: ['scan.completed'] });
    await open(page, url, hook.url);
    expect(new URL(page.url()).hash).toBe(`#/endpoints/${hook.id}`);
    await page.reload();
    await page.locator('h2.url', { hasText: hook.url }).waitFor();
    await page.goBack();
    await page.getByRole('heading', { name: 'Endpoints' }).waitFor();
    expect(page.url()).toBe(`${rt.baseUrl}/portal`);
    await page.goForward();
    await page.locator('h2.url', { hasText: hook.url }).waitFor();
    await page.close();
  });

  it('says plainly when the service cannot be reached, and the view and its navigation stay as they were', async () => {
    const { page, url } = await portalOf();
    await page.goto(url);
    await page.getByRole('heading', { name: 'Endpoints' }).waitFor();
    await page.route('**/api/v1/**', (route) => route.abort('connectionrefused'));
    await page.getByRole('button', { name: 'Event types' }).click();
    await notice(page).getByText('could not be reached').waitFor();
    expect(await notice(page).textContent()).not.toMatch(/Failed to fetch/);
    expect(await page.getByRole('button', { name: 'Event types' }).getAttribute('aria-pressed')).not.toBe('true');
    expect(await page.getByRole('heading', { name: 'Endpoints' }).count()).toBe(1);
    await page.unroute('**/api/v1/**');
    await page.close();
  });

  it('an ended session hides the navigation and says why in the words of a link', async () => {
    const { page } = await portalOf();
    await page.goto(`${rt.baseUrl}/portal#token=pst_garbage.${'A'.repeat(43)}`);
    await page.getByText('This portal link no longer works').waitFor();
    expect(await page.getByText('The link is not valid.').count()).toBe(1);
    expect(await page.locator('body').textContent()).not.toMatch(/API key/);
    expect(await page.getByRole('button', { name: 'Endpoints' }).isVisible()).toBe(false);
    expect(await page.getByRole('button', { name: 'Event types' }).isVisible()).toBe(false);
    await page.close();
  });

  it('a refused URL says why once', async () => {
    const { page, url } = await portalOf();
    await page.goto(url);
    await page.getByRole('button', { name: 'Add endpoint' }).click();
    await page.getByLabel('URL').fill('ftp://example.com/hook');
    await page.getByLabel('All events (*)').check();
    await page.getByRole('button', { name: 'Create' }).click();
    await notice(page).getByText('ftp', { exact: false }).waitFor();
    const text = (await notice(page).textContent())!;
    expect(text.match(/is not allowed/g)).toHaveLength(1);
    await page.close();
  });

  it('fits a 375 px screen, moves the focus to each new view, and names its buttons and columns', async () => {
    const { tenant, page, url } = await portalOf();
    const hook = await createWebhook(tenant, { url: `${good.url}/a-rather-long-path/that/goes/on/and/on/for-a-narrow-screen`, events: ['scan.completed'] });
    await publish(tenant, { event: 'scan.completed', data: {} });
    await eventually('the delivery', async () => ((await tenant.get(`${WEBHOOKS}/${hook.id}/deliveries`)).json.items.length > 0 ? true : undefined));
    await page.setViewportSize({ width: 375, height: 740 });
    await page.goto(url);
    await page.getByRole('heading', { name: 'Endpoints' }).waitFor();
    const pageWidth = () => page.evaluate(() => (globalThis as unknown as { document: PageDocument }).document.documentElement.scrollWidth);
    expect(await pageWidth()).toBeLessThanOrEqual(375);
    expect(await page.evaluate(() => (globalThis as unknown as { document: PageDocument }).document.activeElement?.textContent)).toBe('Endpoints');
    expect(await page.getByRole('columnheader', { name: 'Actions' }).count()).toBe(1);
    await page.getByRole('button', { name: `Open ${hook.url}` }).click();
    await page.locator('#deliveries tr[data-delivery]').first().waitFor();
    expect(await pageWidth()).toBeLessThanOrEqual(375);
    expect(await page.evaluate(() => (globalThis as unknown as { document: PageDocument }).document.activeElement?.textContent)).toBe(hook.url);
    const names = await page.locator('#deliveries tr[data-delivery] button').evaluateAll((bs) => bs.map((b) => b.getAttribute('aria-label')));
    expect(names).toEqual([expect.stringMatching(/^Open the scan\.completed delivery of /)]);
    await page.getByRole('button', { name: 'Edit' }).click();
    await page.getByRole('heading', { name: 'Edit endpoint' }).waitFor();
    expect(await pageWidth()).toBeLessThanOrEqual(375);
    await screenshot(page, 'portal-narrow');
    await page.close();
  });
});
