/**
 * How the runtime takes stop signals: Ctrl-C on `npm start` signals the terminal's whole
 * foreground process group, so the runtime gets SIGINT twice (from the terminal, and from npm
 * forwarding its own); that is one request to stop, and the stop drains. A second signal a
 * while later (Ctrl-C again, the drain taking too long) stops at once.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WEBHOOKS } from '../support/hookline.ts';
import { api, eventually, randomKey, REPO_ROOT, sleep, startRuntime, type Runtime } from '../support/runtime.ts';

it('drains and exits 0 when Ctrl-C signals the process group of `npm start` (npm forwards it again)', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'hookline-e2e-ctrl-c-'));
  // An endpoint that answers after half a second: the drain waits for its attempt, so npm's
  // forwarded SIGINT surely comes while the runtime is stopping.
  const received: IncomingMessage[] = [];
  const slow = createServer((req, res) => {
    received.push(req);
    req.resume();
    setTimeout(() => res.end('ok'), 500);
  });
  await new Promise<void>((listening) => slow.listen(0, '127.0.0.1', listening));
  try {
    const apiKey = randomKey('hk_e2e_');
    const env = { ...process.env, PORT: '0', HOST: '127.0.0.1', HOOKLINE_DATA_DIR: dataDir, HOOKLINE_API_KEY: apiKey, HOOKLINE_ADMIN_KEY: randomKey('hkadm_e2e_') };
    // npm itself, as `npm test` ran it (npm_execpath), else the one on the PATH; in a process
    // group of its own, as a terminal's foreground job.
    const npm = process.env['npm_execpath'];
    const [command, args] = npm ? [process.execPath, [npm, 'start']] : ['npm', ['start']];
    const child = spawn(command, args, { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let out = '';
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    const exited = new Promise<number | null>((resolveExit) => child.once('exit', (code) => resolveExit(code)));
    const baseUrl = await eventually('the banner', async () => /Hookline is running at (http:\/\/\S+)/.exec(out)?.[1], 30_000);
    const client = api(baseUrl, apiKey);
    const url = `http://127.0.0.1:${(slow.address() as AddressInfo).port}/hook`;
    expect((await client.post(WEBHOOKS, { url, events: ['*'] })).status).toBe(201);
    expect((await client.post('/v1/events', { id: 'in-flight-at-ctrl-c', event: 'scan.completed', data: {} })).status).toBe(202);
    await eventually('the attempt in flight', async () => (received.length > 0 ? true : undefined));

    process.kill(-child.pid!, 'SIGINT');
    expect(await exited).toBe(0);
    expect(out).toContain('SIGINT: stopping...\nstopped\n');
    expect(out).not.toContain('again');
    expect(await readdir(dataDir)).not.toContain('runtime.pid');
  } finally {
    slow.closeAllConnections();
    slow.close();
    const left = Number(await readFile(join(dataDir, 'runtime.pid'), 'utf8').catch(() => ''));
    if (left > 0) process.kill(left, 'SIGKILL');
    await rm(dataDir, { recursive: true, force: true });
  }
});

describe('a second signal a second after the first', () => {
  let rt: Runtime | undefined;
  let hanging: Server | undefined;
  afterAll(async () => {
    hanging?.closeAllConnections();
    hanging?.close();
    await rt?.cleanup();
  });

  it('stops at once, without waiting for the attempt in flight', async () => {
    // An endpoint that takes the POST and never answers: the drain waits for it (up to 20 s).
    const received: IncomingMessage[] = [];
    hanging = createServer((req) => received.push(req));
    await new Promise<void>((listening) => hanging!.listen(0, '127.0.0.1', listening));
    rt = await startRuntime({ env: { HOOKLINE_REQUEST_TIMEOUT_MS: '20000' } });
    const client = api(rt.baseUrl, rt.apiKey);
    const url = `http://127.0.0.1:${(hanging.address() as AddressInfo).port}/hook`;
    expect((await client.post(WEBHOOKS, { url, events: ['*'] })).status).toBe(201);
    expect((await client.post('/v1/events', { id: 'held-in-flight', event: 'scan.completed', data: {} })).status).toBe(202);
    await eventually('the attempt in flight', async () => (received.length > 0 ? true : undefined));

    const stopped = rt.stop();
    await eventually('the drain', async () => (rt!.stdout().includes('SIGTERM: stopping...') ? true : undefined));
    // Past the window in which a signal counts as the first one delivered again.
    await sleep(1_200);
    expect(rt.stdout()).not.toContain('stopped');
    process.kill(rt.pid, 'SIGTERM');
    expect(await stopped).toBe(1);
    expect(rt.stdout()).toContain('SIGTERM again: stopping without waiting');
  });
});
