/**
 * Issue 8, paging: page numbers are bounded (reaching page n reads every item before it), and
 * lists are walked with opaque cursors that work only for the list they were made for. Through
 * the one-machine runtime's API, as a customer pages.
 */
import { createTenant, createWebhook, publish, WEBHOOKS } from '../support/hookline.ts';
import { startReceiver, type Receiver } from '../support/receiver.ts';
import { api, eventually, startRuntime, type Api, type ApiResponse, type Runtime } from '../support/runtime.ts';
import { expectJsonError } from '../security/helpers.ts';

let rt: Runtime;
let receiver: Receiver;
let failing: Receiver;

beforeAll(async () => {
  // Three attempts at once: a failing delivery's history is three log entries in a second.
  [rt, receiver, failing] = await Promise.all([startRuntime({ env: { HOOKLINE_RETRY_DELAYS: '0,0,0' } }), startReceiver(), startReceiver({ status: 500 })]);
});

afterAll(async () => {
  await rt?.cleanup();
  await receiver?.close();
  await failing?.close();
});

/** Every page of a list, following next_cursor from the first page. */
async function walk(client: Api, path: string, perPage: number): Promise<ApiResponse[]> {
  const first = await client.get(`${path}?per_page=${perPage}`);
  const pages = [first];
  for (let last = first; last.json?.next_cursor; ) {
    if (pages.length > 50) throw new Error(`walking ${path} does not end`);
    last = await client.get(`${path}?per_page=${perPage}&cursor=${last.json.next_cursor}`);
    pages.push(last);
  }
  return pages;
}

async function webhooksOf(client: Api, n: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) ids.push((await createWebhook(client, { url: `${receiver.url}/hook-${i}`, events: ['scan.completed'] })).id);
  return ids;
}

/** A 400 that shows no list: no items, no cursor. */
function expectRefused(res: ApiResponse): void {
  expectJsonError(res, 400);
  expect(res.json).not.toHaveProperty('items');
  expect(res.json).not.toHaveProperty('next_cursor');
}

describe('GET /api/v1/integrations/webhooks with cursors', () => {
  it('walks every webhook exactly once, oldest first, with numbered pages and next_cursor null on the last', async () => {
    const t = await createTenant(rt);
    const ids = await webhooksOf(t.api, 7);

    const pages = await walk(t.api, WEBHOOKS, 3);
    for (const page of pages) expect(page.status).toBe(200);
    expect(pages.flatMap((p) => p.json.items.map((w: { id: string }) => w.id))).toEqual(ids);
    expect(pages.map((p) => [p.json.page, p.json.per_page, p.json.has_more])).toEqual([
      [1, 3, true],
      [2, 3, true],
      [3, 3, false],
    ]);
    expect(pages.at(-1)!.json.next_cursor).toBeNull();
    // Page numbers still work within the bound, and agree with the cursor walk.
    const byNumber = await t.api.get(`${WEBHOOKS}?page=2&per_page=3`);
    expect(byNumber.json.items).toEqual(pages[1]!.json.items);
    expect(byNumber.json.next_cursor).toBe(pages[1]!.json.next_cursor);
  });

  it("refuses another tenant's cursor, and garbage, with a 400 that shows no data", async () => {
    const mine = await createTenant(rt);
    const theirs = await createTenant(rt);
    await webhooksOf(mine.api, 2);
    await webhooksOf(theirs.api, 2);
    const theirCursor = (await theirs.api.get(`${WEBHOOKS}?per_page=1`)).json.next_cursor as string;
    expect(theirCursor).toMatch(/^[A-Za-z0-9_-]+$/);

    expectRefused(await mine.api.get(`${WEBHOOKS}?per_page=1&cursor=${theirCursor}`));
    const forged = Buffer.from(JSON.stringify({ v: 1, of: 'webhooks/default', p: 2, k: { tenant_id: theirs.id, webhook_id: 'wh_0' } })).toString('base64url');
    for (const cursor of ['garbage', forged, 'x'.repeat(3000), '%2F%2F', 'a.b', '']) {
      expectRefused(await api(rt.baseUrl, rt.apiKey).get(`${WEBHOOKS}?cursor=${cursor}`));
    }
    // Their cursor still works for them.
    const next = await theirs.api.get(`${WEBHOOKS}?per_page=1&cursor=${theirCursor}`);
    expect(next.status).toBe(200);
    expect(next.json.items).toHaveLength(1);
  });

  it('bounds page numbers at page × per_page = 1000 and points past it to cursor', async () => {
    const client = api(rt.baseUrl, rt.apiKey);
    expect((await client.get(`${WEBHOOKS}?page=10&per_page=100`)).status).toBe(200);
    expect((await client.get(`${WEBHOOKS}?page=1000&per_page=1`)).status).toBe(200);
    for (const query of ['page=11&per_page=100', 'page=1001&per_page=1', 'page=10000']) {
      const res = await client.get(`${WEBHOOKS}?${query}`);
      expectRefused(res);
      expect(JSON.stringify(res.json)).toContain('cursor');
    }
  });
});

describe('GET /api/v1/integrations/webhooks/{id}/deliveries with cursors', () => {
  it('walks every attempt exactly once, newest first', async () => {
    const t = await createTenant(rt);
    const [hook] = await webhooksOf(t.api, 1);
    for (let i = 0; i < 5; i++) expect((await t.api.post(`${WEBHOOKS}/${hook}/test`)).status).toBe(200);

    const path = `${WEBHOOKS}/${hook}/deliveries`;
    const pages = await walk(t.api, path, 2);
    expect(pages.map((p) => p.json.items.length)).toEqual([2, 2, 1]);
    expect(pages.map((p) => p.json.page)).toEqual([1, 2, 3]);
    const walked = pages.flatMap((p) => p.json.items);
    const all = (await t.api.get(`${path}?per_page=100`)).json.items;
    expect(all).toHaveLength(5);
    expect(walked).toEqual(all);
    const times = walked.map((a: { attempted_at: string }) => Date.parse(a.attempted_at));
    expect(times).toEqual([...times].sort((a, b) => b - a));
  });

  it("refuses a cursor of another webhook or another tenant's webhook, with no data", async () => {
    const mine = await createTenant(rt);
    const theirs = await createTenant(rt);
    const [a, b] = await webhooksOf(mine.api, 2);
    const [c] = await webhooksOf(theirs.api, 1);
    for (const [client, hook] of [[mine.api, a], [mine.api, b], [theirs.api, c]] as const) {
      for (let i = 0; i < 2; i++) expect((await client.post(`${WEBHOOKS}/${hook}/test`)).status).toBe(200);
    }
    const cursorOf = async (client: Api, hook: string) => (await client.get(`${WEBHOOKS}/${hook}/deliveries?per_page=1`)).json.next_cursor as string;

    expectRefused(await mine.api.get(`${WEBHOOKS}/${a}/deliveries?per_page=1&cursor=${await cursorOf(mine.api, b)}`));
    expectRefused(await mine.api.get(`${WEBHOOKS}/${a}/deliveries?per_page=1&cursor=${await cursorOf(theirs.api, c)}`));
    expectRefused(await mine.api.get(`${WEBHOOKS}/${a}/deliveries?cursor=garbage`));
    // A webhooks-list cursor is not a deliveries cursor either.
    const listCursor = (await mine.api.get(`${WEBHOOKS}?per_page=1`)).json.next_cursor as string;
    expectRefused(await mine.api.get(`${WEBHOOKS}/${a}/deliveries?cursor=${listCursor}`));
    // Another tenant's webhook stays a 404, cursor or not.
    expect((await mine.api.get(`${WEBHOOKS}/${c}/deliveries?cursor=${await cursorOf(theirs.api, c)}`)).status).toBe(404);
    expect((await mine.api.get(`${WEBHOOKS}/${a}/deliveries?per_page=1&cursor=${await cursorOf(mine.api, a)}`)).status).toBe(200);
  });
});

describe('GET /api/v1/integrations/webhooks/{id}/deliveries?delivery_id=', () => {
  it("gives one delivery's whole history where the log's pages split it, and nothing of another webhook's", async () => {
    const t = await createTenant(rt);
    const hook = await createWebhook(t.api, { url: `${failing.url}/always-500`, events: ['scan.completed'] });
    const other = await createWebhook(t.api, { url: `${failing.url}/other`, events: ['scan.completed'] });
    await publish(t.api, { event: 'scan.completed', data: { n: 1 } });
    const path = `${WEBHOOKS}/${hook.id}/deliveries`;
    await eventually('the first delivery to use its three attempts', async () => ((await t.api.get(`${path}?per_page=100`)).json.items.length === 3 ? true : undefined));
    await publish(t.api, { event: 'scan.completed', data: { n: 2 } });
    const log = await eventually('both deliveries to use their three attempts', async () => {
      const items = (await t.api.get(`${path}?per_page=100`)).json.items;
      return items.length === 6 ? items : undefined;
    });
    // Page 1 of 4 ends inside the older delivery: its newest attempt there, its two others on page 2.
    const older = log[3].delivery_id as string;
    const page1 = (await t.api.get(`${path}?per_page=4`)).json.items as { delivery_id: string; attempt: number }[];
    expect(page1.filter((a) => a.delivery_id === older).map((a) => a.attempt)).toEqual([3]);

    const own = await t.api.get(`${path}?delivery_id=${older}&per_page=100`);
    expect(own.status).toBe(200);
    expect(own.json.items.map((a: { delivery_id: string; attempt: number }) => [a.delivery_id, a.attempt])).toEqual([[older, 3], [older, 2], [older, 1]]);
    expect(own.json.items).toEqual(log.slice(3));
    // Paged by cursor too, and its cursor is for that delivery only.
    const first = await t.api.get(`${path}?delivery_id=${older}&per_page=2`);
    expect(first.json.items).toEqual(log.slice(3, 5));
    const rest = await t.api.get(`${path}?delivery_id=${older}&per_page=2&cursor=${first.json.next_cursor}`);
    expect(rest.json).toMatchObject({ items: log.slice(5), page: 2, has_more: false, next_cursor: null });
    expectRefused(await t.api.get(`${path}?per_page=2&cursor=${first.json.next_cursor}`));
    // Another webhook's view of that delivery id: nothing. A malformed id: a 400.
    expect((await t.api.get(`${WEBHOOKS}/${other.id}/deliveries?delivery_id=${older}`)).json).toMatchObject({ items: [], has_more: false });
    expectJsonError(await t.api.get(`${path}?delivery_id=evt_1`), 400);
  });
});

describe('the OpenAPI document', () => {
  it('documents cursor on both lists and next_cursor in their answers', async () => {
    const doc = (await api(rt.baseUrl, undefined).get('/openapi.json')).json;
    for (const path of [WEBHOOKS, `${WEBHOOKS}/{id}/deliveries`]) {
      const op = doc.paths[path].get;
      expect(op.parameters.map((p: { name: string }) => p.name)).toEqual(expect.arrayContaining(['page', 'per_page', 'cursor']));
      expect(op.responses['200'].content['application/json'].schema.properties).toHaveProperty('next_cursor');
    }
  });
});
