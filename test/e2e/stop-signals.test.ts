/**
 * How the runtime takes stop signals: Ctrl-C on `npm start` signals the terminal's whole
 * foreground process group, so the runtime gets SIGINT twice (from the terminal, and from npm
 * forwarding its own); that is one request to stop, and the stop drains. SIGTERM to npm itself
 * (a supervisor, `timeout`) reaches the runtime too, since its script `exec`s Node. A second signal a
 * while later (Ctrl-C again, the drain taking too long) stops at once. A stop is not held up by
 * connections with no request in progress, nor ended early by a stdout nobody reads any more.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HEADERS_TIMEOUT_MS } from '../../infra/local/http-server.ts';
import { RUNTIME_ENTRY, RUNTIME_NODE_FLAGS } from '../../infra/local/node-flags.ts';
import { createWebhook, WEBHOOKS } from '../support/hookline.ts';
import { startReceiver, type Receiver } from '../support/receiver.ts';
import { api, eventually, killedIfLeft, npmStart, randomKey, REPO_ROOT, sleep, startRuntime, type Runtime } from '../support/runtime.ts';

it('stops, data and port released, when `npm start` is sent SIGTERM, as a supervisor or `timeout` stops it', async () => {
  const npm = await npmStart();
  try {
    expect((await fetch(`${npm.baseUrl}/healthz`)).status).toBe(200);
    npm.child.kill('SIGTERM');
    expect(await npm.exited).toBe(0);
    // npm waits for its script: once it has exited, so has the runtime, which let go of its data
    // dir (a process left behind would hold runtime.pid and keep answering).
    expect(await readdir(npm.dataDir)).not.toContain('runtime.pid');
    expect(await fetch(`${npm.baseUrl}/healthz`).then(() => 'answered', () => 'refused')).toBe('refused');
    expect(npm.out()).toContain('SIGTERM: stopping...\nstopped\n');
  } finally {
    await npm.cleanup();
  }
});

it('drains and exits 0 when Ctrl-C signals the process group of `npm start` (npm forwards it again)', async () => {
  // An endpoint that answers after half a second: the drain waits for its attempt, so npm's
  // forwarded SIGINT surely comes while the runtime is stopping.
  const received: IncomingMessage[] = [];
  const slow = createServer((req, res) => {
    received.push(req);
    req.resume();
    setTimeout(() => res.end('ok'), 500);
  });
  await new Promise<void>((listening) => slow.listen(0, '127.0.0.1', listening));
  // In a process group of its own, as a terminal's foreground job.
  const npm = await npmStart({ detached: true });
  try {
    const client = api(npm.baseUrl, npm.apiKey);
    const url = `http://127.0.0.1:${(slow.address() as AddressInfo).port}/hook`;
    expect((await client.post(WEBHOOKS, { url, events: ['*'] })).status).toBe(201);
    expect((await client.post('/v1/events', { id: 'in-flight-at-ctrl-c', event: 'scan.completed', data: {} })).status).toBe(202);
    await eventually('the attempt in flight', async () => (received.length > 0 ? true : undefined));

    process.kill(-npm.child.pid!, 'SIGINT');
    expect(await npm.exited).toBe(0);
    expect(npm.out()).toContain('SIGINT: stopping...\nstopped\n');
    expect(npm.out()).not.toContain('again');
    expect(await readdir(npm.dataDir)).not.toContain('runtime.pid');
  } finally {
    slow.closeAllConnections();
    slow.close();
    await npm.cleanup();
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

  it('stops at once, without waiting for the attempt in flight; the first may be a SIGHUP (its terminal closed), which drains as SIGTERM does', async () => {
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

    process.kill(rt.pid, 'SIGHUP');
    await eventually('the drain', async () => (rt!.stdout().includes('SIGHUP: stopping...') ? true : undefined));
    // Past the window in which a signal counts as the first one delivered again.
    await sleep(1_200);
    expect(rt.stdout()).not.toContain('stopped');
    expect(await rt.stop()).toBe(1);
    expect(rt.stdout()).toContain('SIGTERM again: stopping without waiting');
  });
});

describe('connections open when the stop comes', () => {
  let rt: Runtime | undefined;
  let receiver: Receiver | undefined;
  const sockets: Socket[] = [];
  afterAll(async () => {
    sockets.forEach((s) => s.destroy());
    await receiver?.close();
    await rt?.cleanup();
  });

  it('closes those without a request at once, and answers a request in progress first', async () => {
    rt = await startRuntime();
    receiver = await startReceiver();
    await createWebhook(api(rt.baseUrl, rt.apiKey), { url: receiver.url, events: ['scan.completed'] });
    const { port } = new URL(rt.baseUrl);
    const open = async (first: string) => {
      const socket = connect(Number(port), '127.0.0.1');
      sockets.push(socket);
      let answer = '';
      socket.setEncoding('utf8').on('data', (chunk: string) => (answer += chunk));
      const ended = new Promise<void>((resolveEnded) => socket.once('close', () => resolveEnded()));
      socket.on('error', () => undefined);
      await new Promise<void>((connected) => socket.once('connect', connected));
      socket.write(first);
      return { socket, ended, answer: () => answer };
    };
    // One that has sent nothing, one only part of its headers (Node's own close waits for both
    // until the headers timeout), and a publish whose body has not all arrived.
    const silent = await open('');
    const halfHeaders = await open('POST /v1/events HTTP/1.1\r\nHost: hookline\r\n');
    const body = JSON.stringify({ id: 'sent-during-the-stop', event: 'scan.completed', data: {} });
    // Its `100 Continue` says the server took its headers and is answering it.
    const publishing = await open(
      `POST /v1/events HTTP/1.1\r\nHost: hookline\r\nAuthorization: Bearer ${rt.apiKey}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nExpect: 100-continue\r\n\r\n`,
    );
    await eventually('100 Continue', async () => (publishing.answer().startsWith('HTTP/1.1 100 Continue\r\n\r\n') ? true : undefined));
    publishing.socket.write(body.slice(0, 10));

    const stopped = rt.stop();
    await eventually('the drain', async () => (rt!.stdout().includes('SIGTERM: stopping...') ? true : undefined));
    // Long before the headers timeout would let them go.
    const closedFirst = Promise.all([silent.ended, halfHeaders.ended]).then(() => 'closed');
    expect(await Promise.race([closedFirst, sleep(HEADERS_TIMEOUT_MS / 2).then(() => 'still open')])).toBe('closed');
    expect(rt.stdout()).not.toContain('stopped');
    publishing.socket.write(body.slice(10));
    await publishing.ended;
    expect(publishing.answer()).toMatch(/^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 202 /);
    expect(await stopped).toBe(0);
    // What was accepted during the stop is delivered (by the next start, if not before).
    rt = await rt.restart();
    const [request] = await receiver.waitFor(1);
    expect(request!.json).toMatchObject({ id: 'sent-during-the-stop' });
  });
});

it('runs on, and stops with exit 0, when whoever read its output went away', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'hookline-e2e-reader-gone-'));
  try {
    const env = { ...process.env, PORT: '0', HOST: '127.0.0.1', HOOKLINE_DATA_DIR: dataDir, HOOKLINE_API_KEY: randomKey('hk_e2e_'), HOOKLINE_ADMIN_KEY: randomKey('hkadm_e2e_') };
    const child = spawn(process.execPath, [...RUNTIME_NODE_FLAGS, RUNTIME_ENTRY], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    killedIfLeft(child);
    const exited = new Promise<number | null>((resolveExit) => child.once('exit', (code) => resolveExit(code)));
    let out = '';
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    const baseUrl = await eventually('the banner', async () => /Hookline is running at (\S+)/.exec(out)?.[1]);
    // The reading end closed, as `npm start | head` or a log shipper that restarts: the
    // runtime's next line to stdout ("SIGTERM: stopping...") meets a pipe without a reader.
    child.stdout!.destroy();
    expect((await fetch(`${baseUrl}/healthz`)).status).toBe(200);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    // A drain, not a crash: the data dir was let go.
    expect(await readdir(dataDir)).not.toContain('runtime.pid');
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
});
