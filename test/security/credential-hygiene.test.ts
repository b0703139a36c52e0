/**
 * Security round two, the low findings about a webhook's own credentials: a receiver that echoes
 * them must not get them into the delivery log (nor the webhook's masked URL, see maskUrl's tests),
 * header auth cannot set the headers that frame or sign the request, and rotation cannot pile up
 * secrets.
 */
import { credentialValues, scrub } from '../../shared/domain/credential-scrub.ts';
import type { WebhookCredentials } from '../../shared/domain/webhooks.ts';
import { createWebhook, publish, verifyStandardWebhooks, WEBHOOKS } from '../support/hookline.ts';
import { startReceiver, type ReceivedRequest, type Receiver } from '../support/receiver.ts';
import { api, eventually, startRuntime, type Api, type Runtime } from '../support/runtime.ts';

describe('scrub(credentialValues)', () => {
  const base: Omit<WebhookCredentials, 'auth'> = { signing_secrets: ['whsec_current1234'], previous_secrets: [{ secret: 'old-secret-9876', expires_at: '2999-01-01T00:00:00Z' }] };
  it('removes every secret a request carries, as written and URL-encoded', () => {
    const cases: [WebhookCredentials, string][] = [
      [{ ...base, auth: { type: 'bearer', token: 'tok/en+1' } }, 'Authorization: Bearer tok/en+1 and tok%2Fen%2B1'],
      [{ ...base, auth: { type: 'basic', username: 'bob', password: 'hunter22' } }, `pw hunter22 blob ${Buffer.from('bob:hunter22').toString('base64')}`],
      [{ ...base, auth: { type: 'header', name: 'X-Api-Key', value: 'k-5678' } }, 'x-api-key: k-5678'],
      [{ ...base, auth: { type: 'none' }, url: 'https://r.example/h?key=v%20one&BARETOKEN' }, 'Location: https://r.example/h?key=v%20one&BARETOKEN (v one)'],
      [{ ...base, auth: { type: 'none' } }, 'signed with whsec_current1234 and old-secret-9876'],
    ];
    for (const [credentials, text] of cases) {
      const out = scrub(text, credentialValues(credentials));
      expect(out).toContain('****');
      for (const secret of ['tok/en+1', 'tok%2Fen%2B1', 'hunter22', 'k-5678', 'v%20one', 'v one', 'BARETOKEN', 'whsec_current1234', 'old-secret-9876']) {
        expect(out).not.toContain(secret);
      }
    }
  });
});

describe('through the runtime', () => {
  let rt: Runtime;
  let client: Api;
  let echo: Receiver;
  beforeAll(async () => {
    rt = await startRuntime({ env: { HOOKLINE_RETRY_DELAYS: '0' } });
    client = api(rt.baseUrl, rt.apiKey);
    // A receiver that mirrors what it got: its headers in the body, its URL in a redirect.
    echo = await startReceiver({
      respond: (req) => ({ status: 302, headers: { location: `https://elsewhere.example${req.path}` }, body: JSON.stringify(req.headers) }),
    });
  });
  afterAll(async () => {
    await echo?.close();
    await rt?.cleanup();
  });

  it('an echoing receiver does not get the URL token, the bearer token or the secret into the delivery log', async () => {
    const token = 'urltoken-abcdef123456';
    const bearer = 'bearer-secret-0987654321';
    const hook = await createWebhook(client, { url: `${echo.url}/in?${token}`, events: ['scan.completed'], auth: { type: 'bearer', token: bearer } });
    await publish(client, { event: 'scan.completed', data: { n: 1 } });
    await echo.waitFor(1);
    const log = await eventually('the attempt in the delivery log', async () => {
      const page = (await client.get(`${WEBHOOKS}/${hook.id}/deliveries`)).json;
      return page.items.length > 0 ? page : undefined;
    });
    const [attempt] = log.items;
    expect(attempt.status_code).toBe(302);
    // The echo really happened: the body names the header, the error names the redirect.
    expect(attempt.response_body).toContain('authorization');
    expect(attempt.error).toContain('elsewhere.example/in?');
    const stored = JSON.stringify(log);
    for (const secret of [token, bearer, hook.secret]) expect(stored).not.toContain(secret);
    expect(attempt.response_body).toContain('****');
    expect(attempt.error).toContain('****');

    // The test endpoint answers and logs the same, scrubbed.
    const tested = await client.post(`${WEBHOOKS}/${hook.id}/test`);
    expect(tested.status).toBe(200);
    expect(tested.text).not.toContain(token);
    expect(JSON.stringify((await client.get(`${WEBHOOKS}/${hook.id}/deliveries`)).json)).not.toContain(bearer);
    // The webhook itself shows the URL masked, the bare token included.
    expect((await client.get(`${WEBHOOKS}/${hook.id}`)).json.url).toBe(`${echo.url}/in?****`);
  });

  it("a credential echoed across the log's 1024-character cut leaves none of itself behind", async () => {
    const bearer = 'straddling-bearer-token-0123456789abcdef';
    const straddler = await startReceiver({ respond: (req) => ({ status: 200, body: `${'a'.repeat(1000)}${String(req.headers['authorization'])}` }) });
    try {
      const hook = await createWebhook(client, { url: `${straddler.url}/in`, events: ['cve.matched'], auth: { type: 'bearer', token: bearer } });
      await publish(client, { event: 'cve.matched', data: { n: 2 } });
      await straddler.waitFor(1);
      const [attempt] = (
        await eventually('the attempt in the delivery log', async () => {
          const page = (await client.get(`${WEBHOOKS}/${hook.id}/deliveries`)).json;
          return page.items.length > 0 ? page : undefined;
        })
      ).items;
      // 1000 characters, then "Bearer " and the token, scrubbed whole before the cut.
      expect(attempt.response_body).toBe(`${'a'.repeat(1000)}Bearer ****`);
      expect(attempt.response_body).not.toContain(bearer.slice(0, 8));
    } finally {
      await straddler.close();
    }
  });

  it('header auth may not set reserved or signature headers, nor break a header line or carry what no client sends (400, nothing created)', async () => {
    const before = (await client.get(WEBHOOKS)).json.items.length;
    const refused = [
      { type: 'header', name: 'Host', value: 'internal' },
      { type: 'header', name: 'content-type', value: 'text/plain' },
      { type: 'header', name: 'Content-Length', value: '0' },
      { type: 'header', name: 'Transfer-Encoding', value: 'chunked' },
      { type: 'header', name: 'User-Agent', value: 'x' },
      { type: 'header', name: 'X-Hookline-Signature', value: 'sha256=forged' },
      { type: 'header', name: 'webhook-signature', value: 'v1,forged' },
      { type: 'header', name: 'Webhook-Id', value: 'x' },
      { type: 'header', name: 'X-Ok', value: 'a\r\nX-Injected: 1' },
      { type: 'header', name: 'X-Ok', value: 'a\nb' },
      { type: 'header', name: 'X-Ok', value: 'a\u0000b' },
      // No HTTP client sends these in a header: every attempt would fail before it is sent.
      { type: 'header', name: 'X-Ok', value: 'a\u0001b' },
      { type: 'header', name: 'X-Ok', value: '日本' },
      { type: 'bearer', token: 'tok\u007fx' },
      { type: 'bearer', token: 'é😀' },
      { type: 'bearer', token: 'abc\r\nX-Injected: 1' },
      { type: 'basic', username: 'a:b', password: 'pw' },
      { type: 'basic', username: 'a', password: 'p\nw' },
    ];
    for (const auth of refused) {
      const res = await client.post(WEBHOOKS, { url: echo.url, events: ['*'], auth });
      expect({ auth, status: res.status }).toEqual({ auth, status: 400 });
      expect(res.json.details?.[0]?.path).toMatch(/^auth\./);
    }
    expect((await client.get(WEBHOOKS)).json.items.length).toBe(before);
    // An ordinary auth header, Authorization included, is still fine, and so is Latin-1.
    for (const value of ['Token t-123', 'caf\u00e9\tt-123']) {
      const ok = await client.post(WEBHOOKS, { url: echo.url, events: ['*'], auth: { type: 'header', name: 'Authorization', value } });
      expect(ok.status).toBe(201);
      await client.del(`${WEBHOOKS}/${ok.json.id}`);
    }
  });

  it('rotating many times keeps at most three secrets signing; the newest one verifies', async () => {
    const r = await startReceiver();
    try {
      const hook = await createWebhook(client, { url: r.url, events: ['scan.completed'] });
      let newest = '';
      for (let i = 0; i < 12; i++) {
        const res = await client.post(`${WEBHOOKS}/${hook.id}/rotate-secret`, {});
        expect(res.status).toBe(200);
        newest = res.json.secret;
      }
      await publish(client, { event: 'scan.completed', data: { n: 1 } });
      const [req] = await r.waitFor(1);
      const signatures = String(req!.headers['webhook-signature']).split(' ');
      expect(signatures).toHaveLength(3);
      expect(() => verifyStandardWebhooks(req as ReceivedRequest, newest)).not.toThrow();
      // The original secret's grace ended when later rotations pushed it out.
      expect(() => verifyStandardWebhooks(req as ReceivedRequest, hook.secret)).toThrow();
    } finally {
      await r.close();
    }
  });
});
