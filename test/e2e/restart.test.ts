/**
 * Stop and start again on the same data dir (CONTRACT.md section 1): webhooks, secrets, tenants,
 * the deliveries log and the idempotency of event ids survive; an event accepted (202) right
 * before the process dies is still delivered after the restart. Secret files are mode 0600.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { chmod, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RUNTIME_ENTRY, RUNTIME_NODE_FLAGS } from '../../infra/local/node-flags.ts';
import { createTenant, verifyHex, verifyStandardWebhooks, WEBHOOKS } from '../support/hookline.ts';
import { startReceiver, type Receiver } from '../support/receiver.ts';
import { api, eventually, killedIfLeft, randomKey, REPO_ROOT, sleep, startRuntime, type Runtime } from '../support/runtime.ts';

const QUIET_MS = 1_500;

let rt: Runtime;
const receivers: Receiver[] = [];

afterAll(async () => {
  await Promise.all(receivers.map((r) => r.close()));
  await rt?.cleanup();
});

it('finds webhooks, secrets, tenants and the deliveries log again after SIGTERM and a new start', async () => {
  const apiKey = randomKey('hk_e2e_');
  const adminKey = randomKey('hkadm_e2e_');
  rt = await startRuntime({ apiKey, adminKey });
  const [rGen, rOwn] = await Promise.all([startReceiver(), startReceiver()]);
  receivers.push(rGen, rOwn);
  let client = api(rt.baseUrl, apiKey);

  const generated = (await client.post(WEBHOOKS, { url: rGen.url, events: ['scan.*'] })).json;
  expect(generated.secret).toMatch(/^whsec_/);
  const ownSecret = `own-secret-${randomUUID()}`;
  const token = `tok_${randomUUID()}`;
  const own = await client.post(WEBHOOKS, { url: rOwn.url, events: ['scan.completed'], secret: ownSecret, auth: { type: 'bearer', token } });
  expect(own.status).toBe(201);
  const other = await createTenant(rt, 'survivor');

  const first = `before-${randomUUID()}`;
  expect((await client.post('/v1/events', { id: first, event: 'scan.completed', data: { n: 1 } })).json.ids).toEqual([first]);
  await Promise.all([rGen.waitFor(1), rOwn.waitFor(1)]);
  const logBefore = await eventually('the first attempt in the log', async () => {
    const res = await client.get(`${WEBHOOKS}/${generated.id}/deliveries`);
    return res.json.items.length >= 1 ? res.json.items : undefined;
  });
  const listBefore = (await client.get(`${WEBHOOKS}?per_page=100`)).json.items;
  expect(listBefore).toHaveLength(2);

  // Secrets at rest: one file per secret, readable by the owner only.
  const secretsDir = join(rt.dataDir, 'secrets');
  const files = (await readdir(secretsDir)).filter((f) => !f.endsWith('.tmp'));
  expect(files.length).toBeGreaterThanOrEqual(2);
  for (const file of files) {
    const mode = (await stat(join(secretsDir, file))).mode & 0o777;
    expect({ file, mode: mode.toString(8) }).toEqual({ file, mode: '600' });
  }
  // So is the database, every tenant's data, whatever the umask (SQLite's WAL files take its mode).
  const databaseModes = async () =>
    Promise.all(['hookline.db', 'hookline.db-wal', 'hookline.db-shm'].map(async (file) => ({ file, mode: ((await stat(join(rt.dataDir, file))).mode & 0o777).toString(8) })));
  const privateFiles = ['hookline.db', 'hookline.db-wal', 'hookline.db-shm'].map((file) => ({ file, mode: '600' }));
  expect(await databaseModes()).toEqual(privateFiles);

  expect(await rt.stop()).toBe(0);
  expect(rt.stdout()).toContain('SIGTERM');
  // A database left readable by others (an older version, a copy) is made private at start.
  await chmod(join(rt.dataDir, 'hookline.db'), 0o644);
  rt = await rt.restart();
  expect(await databaseModes()).toEqual(privateFiles);
  client = api(rt.baseUrl, apiKey);

  // Everything is where it was.
  const listAfter = await client.get(`${WEBHOOKS}?per_page=100`);
  expect(listAfter.status).toBe(200);
  expect(listAfter.json.items).toEqual(listBefore);
  const logAfter = await client.get(`${WEBHOOKS}/${generated.id}/deliveries`);
  expect(logAfter.status).toBe(200);
  expect(logAfter.json.items).toEqual(logBefore);
  expect((await api(rt.baseUrl, other.key).get(WEBHOOKS)).status).toBe(200); // the new process listens on a new port
  expect((await api(rt.baseUrl, adminKey).post('/admin/v1/tenants', { name: 'after', owner_email: 'a@example.com' })).status).toBe(201);

  // A new event is delivered, signed with the secrets of before, with the same bearer token.
  const second = `after-${randomUUID()}`;
  expect((await client.post('/v1/events', { id: second, event: 'scan.completed', data: { n: 2 } })).json.ids).toEqual([second]);
  const [, gen2] = await rGen.waitFor(2);
  const [, own2] = await rOwn.waitFor(2);
  expect(gen2!.json.id).toBe(second);
  expect(own2!.json.id).toBe(second);
  expect(verifyHex(gen2!, generated.secret)).toBe(true);
  expect(() => verifyStandardWebhooks(gen2!, generated.secret)).not.toThrow();
  expect(verifyHex(own2!, ownSecret)).toBe(true);
  expect(() => verifyStandardWebhooks(own2!, ownSecret)).not.toThrow();
  expect(own2!.headers['authorization']).toBe(`Bearer ${token}`);

  // The id published before the restart is still known: not delivered again.
  expect((await client.post('/v1/events', { id: first, event: 'scan.completed', data: { n: 3 } })).json.ids).toEqual([first]);
  await sleep(QUIET_MS);
  expect(rGen.requests.map((q) => q.json.id)).toEqual([first, second]);
  expect(rOwn.requests.map((q) => q.json.id)).toEqual([first, second]);
});

it('delivers an event accepted with 202 even when the process is killed right after', async () => {
  const r = await startReceiver();
  receivers.push(r);
  const client = api(rt.baseUrl, rt.apiKey);
  const hook = (await client.post(WEBHOOKS, { url: r.url, events: ['backup.completed'] })).json;
  const id = `killed-${randomUUID()}`;
  const res = await client.post('/v1/events', { id, event: 'backup.completed', data: { size: 1 } });
  expect(res.status).toBe(202);
  await rt.kill();
  rt = await rt.restart();
  // At least once: it may have gone out before the kill, and must go out after it otherwise.
  await r.waitFor(1);
  expect(r.requests.every((q) => q.json.id === id)).toBe(true);
  expect(verifyHex(r.requests[0]!, hook.secret)).toBe(true);
});

it('takes new settings at a restart: the hex signature header (HOOKLINE_SIGNATURE_HEADER) and the owner address of new webhooks (HOOKLINE_OWNER_EMAIL)', async () => {
  const before = (await api(rt.baseUrl, rt.apiKey).get(WEBHOOKS)).json.items as { owner_email: string }[];
  expect(before.length).toBeGreaterThan(0);
  rt = await rt.restart({ HOOKLINE_SIGNATURE_HEADER: 'X-NetRecon-Signature', HOOKLINE_OWNER_EMAIL: 'ops@example.com' });
  const client = api(rt.baseUrl, rt.apiKey);
  const r = await startReceiver();
  receivers.push(r);
  const hook = (await client.post(WEBHOOKS, { url: r.url, events: ['honeypot.hit'] })).json;
  expect(hook.owner_email).toBe('ops@example.com');
  // Webhooks made before keep the address they were given.
  const kept = (await client.get(WEBHOOKS)).json.items as { id: string; owner_email: string }[];
  expect(kept.filter((w) => w.id !== hook.id).map((w) => w.owner_email)).toEqual(before.map((w) => w.owner_email));
  expect(before.every((w) => w.owner_email !== 'ops@example.com')).toBe(true);
  const [id] = (await client.post('/v1/events', { event: 'honeypot.hit', data: { src: '10.0.0.9' } })).json.ids;
  const [req] = await r.waitFor(1);
  expect(req!.json.id).toBe(id);
  expect(req!.headers['x-hookline-signature']).toBeUndefined();
  expect(verifyHex(req!, hook.secret, 'x-netrecon-signature')).toBe(true);
  expect(() => verifyStandardWebhooks(req!, hook.secret)).not.toThrow();
});

it('stops with exit 0 on a SIGTERM at any point of its start: at once while starting, and the next start finds its data', async () => {
  // A fixed free port: the runtime listens (answering 503) before it is ready, and prints its URL only then.
  const port = await new Promise<number>((resolvePort) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port: free } = probe.address() as { port: number };
      probe.close(() => resolvePort(free));
    });
  });
  const accepts = () =>
    new Promise<boolean>((resolveAccepts) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => resolveAccepts(true)).once('error', () => resolveAccepts(false));
      socket.once('connect', () => socket.destroy());
    });
  const dataDir = await mkdtemp(join(tmpdir(), 'hookline-e2e-starting-'));
  try {
    const env = { ...process.env, PORT: String(port), HOST: '127.0.0.1', HOOKLINE_DATA_DIR: dataDir, HOOKLINE_API_KEY: randomKey('hk_e2e_'), HOOKLINE_ADMIN_KEY: randomKey('hkadm_e2e_') };
    // The signal goes later at each try, from as soon as the port accepts (the start's first
    // steps) to past the end of the start, until both ways of stopping were seen. Whichever
    // handler the signal meets (at once while starting; draining once running, including at
    // the moment one hands over to the other), the process must end with exit 0.
    const seen = { starting: 0, running: 0 };
    for (const delayMs of [0, 0, 4, 16, 64, 256, 1024]) {
      const child = spawn(process.execPath, [...RUNTIME_NODE_FLAGS, RUNTIME_ENTRY], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
      killedIfLeft(child);
      let out = '';
      child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
      const exited = new Promise<number | null>((resolveExit) => child.once('exit', (code) => resolveExit(code)));
      while (child.exitCode === null && !(await accepts())) await sleep(1);
      await sleep(delayMs);
      child.kill('SIGTERM');
      const code = await Promise.race([exited, sleep(10_000).then(() => 'still running' as const)]);
      if (code === 'still running') child.kill('SIGKILL');
      expect({ delayMs, code, out }).toMatchObject({ code: 0 });
      if (out.includes('SIGTERM while starting: stopped')) {
        seen.starting++;
        expect(out).not.toContain('Hookline is running');
      } else {
        seen.running++;
        expect(out).toMatch(/Hookline is running[^]*SIGTERM: stopping\.\.\.\nstopped\n$/);
      }
      if (seen.starting > 0 && seen.running > 0) break;
    }
    expect(seen.starting).toBeGreaterThan(0);
    expect(seen.running).toBeGreaterThan(0);
    const again = await startRuntime({ dataDir });
    expect((await fetch(`${again.baseUrl}/healthz`)).status).toBe(200);
    expect(await again.stop()).toBe(0);
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
});
