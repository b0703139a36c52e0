/**
 * Security round two, the high finding: with private targets allowed (the one-machine default), a
 * tenant aimed a webhook at the runtime's own DynamoDB stand-in with `X-Amz-Target:
 * DynamoDB_20120810.Scan` and read every tenant's events from the delivery log. Every outbound
 * request now refuses the runtime's own listening ports on every local address, private targets
 * allowed or not, at registration and again on the socket's actual peer. (The runtime now keeps its
 * store and queues in a SQLite file: its API is the one port left, and the rule still guards it.)
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import type { Resolve } from '../../shared/adapters/http/guarded-lookup.ts';
import { NodeHttpSender } from '../../shared/adapters/http/node-http-sender.ts';
import { UndiciHttpSender } from '../../shared/adapters/http/undici-http-sender.ts';
import { DEFAULT_ALLOWED_PORTS, endpointRefusal, urlRefusal, type TargetPolicy } from '../../shared/domain/targets.ts';
import { createWebhook, publish, WEBHOOKS } from '../support/hookline.ts';
import { startReceiver, type Receiver } from '../support/receiver.ts';
import { api, startRuntime, type Runtime } from '../support/runtime.ts';
import { startProbe, type Probe } from './helpers.ts';

/** TCP ports a process listens on: its socket inodes (/proc/<pid>/fd) matched in /proc/net/tcp{,6}. */
function listeningPorts(pid: number): number[] {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.add(m[1]!);
    } catch {
      // the fd closed while we looked
    }
  }
  const ports = new Set<number>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      // st 0A is LISTEN; cols[9] is the inode
      if (cols[3] === '0A' && inodes.has(cols[9]!)) ports.add(parseInt(cols[1]!.split(':')[1]!, 16));
    }
  }
  return [...ports].sort((a, b) => a - b);
}

describe('the one-machine runtime never sends a webhook to its own services', () => {
  let rt: Runtime;
  let ownPorts: number[];
  let receiver: Receiver;
  beforeAll(async () => {
    rt = await startRuntime();
    receiver = await startReceiver();
    ownPorts = listeningPorts(rt.pid);
  });
  afterAll(async () => {
    await receiver?.close();
    await rt?.cleanup();
  });

  it('listens on its API port alone (the store and queues are a file, not services), and still refuses it', () => {
    const apiPort = Number(new URL(rt.baseUrl).port);
    expect(ownPorts).toEqual([apiPort]);
    expect(rt.stdout()).toMatch(/may point at loopback and private addresses/);
  });

  it('refuses at registration every spelling of every own port, the API included (400, nothing created)', async () => {
    const client = api(rt.baseUrl, rt.apiKey);
    const before = (await client.get(WEBHOOKS)).json.items.length;
    for (const port of ownPorts) {
      for (const host of ['127.0.0.1', 'localhost', 'LOCALHOST.', '[::1]', '127.0.0.2', '0.0.0.0', '[::ffff:127.0.0.1]', '2130706433', '0x7f.1']) {
        const res = await client.post(WEBHOOKS, {
          url: `http://${host}:${port}/`,
          events: ['*'],
          format: 'data',
          auth: { type: 'header', name: 'X-Amz-Target', value: 'DynamoDB_20120810.Scan' },
        });
        expect({ host, port, status: res.status }).toEqual({ host, port, status: 400 });
        expect(res.json.error).toMatch(/Hookline's own services/);
      }
    }
    // A webhook that publishes back into Hookline (an amplification loop) is one of them.
    const loop = await client.post(WEBHOOKS, { url: `${rt.baseUrl}/v1/events`, events: ['*'], auth: { type: 'bearer', token: rt.apiKey } });
    expect(loop.status).toBe(400);
    expect((await client.get(WEBHOOKS)).json.items.length).toBe(before);
  });

  it('cannot be moved onto an own port by PATCH either; other local receivers still work', async () => {
    const client = api(rt.baseUrl, rt.apiKey);
    const hook = await createWebhook(client, { url: receiver.url, events: ['scan.completed'], format: 'data' });
    const patched = await client.patch(`${WEBHOOKS}/${hook.id}`, { url: `http://127.0.0.1:${ownPorts[0]}/` });
    expect(patched.status).toBe(400);
    await publish(client, { event: 'scan.completed', data: { TableName: 'anything' } });
    const [req] = await receiver.waitFor(1);
    expect(req!.json).toEqual({ TableName: 'anything' });
    expect((await client.get(`${WEBHOOKS}/${hook.id}`)).json.url).toBe(`${receiver.url}/`);
  });
});

describe("the sender checks the socket's actual peer, whatever a name resolved to", () => {
  let own: Probe;
  let other: Probe;
  beforeAll(async () => {
    own = await startProbe({ respond: () => ({ status: 200, body: 'internal data' }) });
    other = await startProbe({ respond: () => ({ status: 200, body: 'ok' }) });
  });
  afterAll(async () => {
    await own?.close();
    await other?.close();
  });

  // A resolver that answers loopback for an innocent-looking name: the pre-check cannot see it.
  const toLoopback: Resolve = (_host, callback) => setImmediate(() => callback(null, [{ address: '127.0.0.1', family: 4 }]));

  it.each([
    ['NodeHttpSender', NodeHttpSender],
    ['UndiciHttpSender', UndiciHttpSender],
  ] as const)('%s refuses an own port reached through DNS, before a byte is sent, and reaches other local ports', async (_name, Sender) => {
    const policy: TargetPolicy = { allowPrivateTargets: true, allowedPorts: DEFAULT_ALLOWED_PORTS, ownPorts: [own.port] };
    const sender = new Sender({ policy, resolve: toLoopback });
    const reachedBefore = other.requests.length;
    try {
      const refused = await sender.post({ url: `http://innocent.test:${own.port}/`, headers: {}, body: '{}', timeoutMs: 5000 });
      expect(refused).toMatchObject({ kind: 'error', error: expect.stringMatching(/^refused: .*Hookline's own services/) });
      const allowed = await sender.post({ url: `http://innocent.test:${other.port}/`, headers: {}, body: '{}', timeoutMs: 5000 });
      expect(allowed).toMatchObject({ kind: 'response', statusCode: 200 });
      expect(other.requests).toHaveLength(reachedBefore + 1);
      expect(own.requests).toHaveLength(0);
    } finally {
      await sender.close();
    }
  });

  it('refuses cloud metadata addresses even where private targets are allowed', () => {
    const local: TargetPolicy = { allowPrivateTargets: true, allowedPorts: DEFAULT_ALLOWED_PORTS };
    for (const address of ['169.254.169.254', '::ffff:169.254.169.254', 'fd00:ec2::254', '169.254.170.2']) {
      expect(endpointRefusal(address, 80, local)).toMatch(/metadata/);
    }
    expect(urlRefusal(new URL('http://169.254.169.254/latest/meta-data/'), local)).toMatch(/metadata/);
    expect(urlRefusal(new URL('http://10.0.0.8:8080/'), local)).toBeUndefined();
  });

  it("refuses Hookline's own public API host (HOOKLINE_PUBLIC_URL on AWS), with or without a trailing dot", () => {
    const policy: TargetPolicy = { allowPrivateTargets: false, allowedPorts: DEFAULT_ALLOWED_PORTS, ownHosts: ['hooks.example.com'] };
    expect(urlRefusal(new URL('https://HOOKS.example.com./v1/events'), policy)).toMatch(/own API/);
    expect(urlRefusal(new URL('https://receiver.example.com/'), policy)).toBeUndefined();
  });
});
