import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { Worker } from 'node:worker_threads';
import { readFile } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NodeHttpSender } from '../../shared/adapters/http/node-http-sender.ts';
import { ThreadedHttpSender } from '../../shared/adapters/http/threaded-http-sender.ts';
import { UndiciHttpSender } from '../../shared/adapters/http/undici-http-sender.ts';
import { AnswerJournal } from '../../shared/adapters/local/answer-journal.ts';
import type { TargetPolicy } from '../../shared/domain/targets.ts';
import type { HttpSender, OutboundRequest, SendResult } from '../../shared/usecases/ports.ts';
import { bundleSenderThread } from '../../infra/local/sender-bundle.ts';

interface Received {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  rawHeaders: string[];
  body: Buffer;
}

interface TestServer {
  url: string;
  received: Received[];
  /** TCP connections accepted so far. */
  connections(): number;
  close(): Promise<void>;
}

const servers: TestServer[] = [];

/** A real HTTP server on 127.0.0.1:<ephemeral> that records what it receives. */
async function serve(handler: (req: IncomingMessage, res: ServerResponse, body: Buffer) => void): Promise<TestServer> {
  const received: Received[] = [];
  const sockets = new Set<Socket>();
  let connections = 0;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      received.push({ method: req.method!, url: req.url!, headers: req.headers, rawHeaders: req.rawHeaders, body });
      handler(req, res, body);
    });
  });
  server.on('connection', (s) => {
    connections++;
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const ts: TestServer = {
    url: `http://127.0.0.1:${port}`,
    received,
    connections: () => connections,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
  servers.push(ts);
  return ts;
}

type ClosableSender = HttpSender & { close(): Promise<void> };
const PRIVATE_ALLOWED: TargetPolicy = { allowPrivateTargets: true, allowedPorts: [] };
let bundled: Promise<string | undefined> | undefined;
const bundle = () =>
  (bundled ??= bundleSenderThread((error) => {
    throw error;
  }).then((script) => {
    if (!script) throw new Error('the sender thread was not bundled');
    return script;
  }));

/**
 * The same behaviour from the sender Lambda uses (NodeHttpSender) and from the one-machine
 * runtime's sender thread (UndiciHttpSender on the thread: what crosses is plain data), the
 * thread both as the runtime starts it (bundled) and from its TypeScript sources (the fallback).
 */
const SENDERS: [string, (policy: TargetPolicy) => ClosableSender][] = [
  ['NodeHttpSender', (policy) => new NodeHttpSender({ policy })],
  ['UndiciHttpSender', (policy) => new UndiciHttpSender({ policy })],
  ['ThreadedHttpSender, bundled', (policy) => new ThreadedHttpSender({ policy, script: bundle() })],
  ['ThreadedHttpSender, from its sources', (policy) => new ThreadedHttpSender({ policy })],
];

let sender: ClosableSender;
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

const post = (url: string, extra: Partial<OutboundRequest> = {}): Promise<SendResult> =>
  sender.post({ url, headers: { 'content-type': 'application/json' }, body: '{}', timeoutMs: 5_000, ...extra });

function asResponse(r: SendResult) {
  if (r.kind !== 'response') throw new Error(`expected a response, got ${JSON.stringify(r)}`);
  return r;
}
function asError(r: SendResult) {
  if (r.kind !== 'error') throw new Error(`expected an error, got ${JSON.stringify(r)}`);
  return r;
}

describe.each(SENDERS)('%s', (_name, makeSender) => {
  // One sender for the block, as the runtime keeps one: each test's servers are its own, and a
  // thread started from the TypeScript sources for each test was most of this file's CPU.
  beforeAll(() => {
    sender = makeSender(PRIVATE_ALLOWED);
  });
  afterAll(() => sender.close());

  it('refuses a connection to one of its own ports, whatever the policy allows otherwise', async () => {
    const srv = await serve((_req, res) => res.end('reached'));
    await sender.close();
    sender = makeSender({ ...PRIVATE_ALLOWED, ownPorts: [Number(new URL(srv.url).port)], localAddresses: [] });
    const r = asError(await post(`${srv.url}/hook`));
    expect(r.error).toMatch(/^refused/);
    expect(srv.received).toHaveLength(0);
  });

  it('returns the status, headers and body of a 200', async () => {
    const srv = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain', 'x-receiver': 'yes' });
      res.end('thanks');
    });
    const r = asResponse(await post(`${srv.url}/hook`));
    expect(r.statusCode).toBe(200);
    expect(r.bodyPrefix).toBe('thanks');
    expect(r.headers['x-receiver']).toBe('yes');
    expect(r.headers['content-type']).toBe('text/plain');
    expect(r.durationMs).toBeGreaterThanOrEqual(0);
    expect(Number.isInteger(r.durationMs)).toBe(true);
  });

  it('keeps at most 1024 characters of a 200 KB answer', async () => {
    const big = 'abcdefghij'.repeat(20 * 1024);
    const srv = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(big);
    });
    const r = asResponse(await post(srv.url));
    expect(r.statusCode).toBe(200);
    expect(r.bodyPrefix.length).toBeLessThanOrEqual(1024);
    expect(r.bodyPrefix).toBe(big.slice(0, 1024));
  });

  it('returns non-2xx answers as responses', async () => {
    const srv = await serve((_req, res) => {
      res.writeHead(503);
      res.end('busy');
    });
    const r = asResponse(await post(srv.url));
    expect(r.statusCode).toBe(503);
    expect(r.bodyPrefix).toBe('busy');
  });

  it('returns a 302 as it is and does not follow its Location', async () => {
    const target = await serve((_req, res) => {
      res.writeHead(200);
      res.end('followed');
    });
    const srv = await serve((_req, res) => {
      res.writeHead(302, { location: `${target.url}/elsewhere` });
      res.end();
    });
    const r = asResponse(await post(srv.url));
    expect(r.statusCode).toBe(302);
    expect(r.headers['location']).toBe(`${target.url}/elsewhere`);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(target.received).toHaveLength(0);
    expect(srv.received).toHaveLength(1);
  });

  it('reuses a keep-alive connection for the next POST to the same receiver', async () => {
    const srv = await serve((_req, res) => {
      res.writeHead(200);
      res.end('ok');
    });
    for (let i = 0; i < 3; i++) {
      expect(asResponse(await post(`${srv.url}/hook`)).statusCode).toBe(200);
      // undici hands a connection back to its pool one turn of the event loop after the answer
      // (in case the server closes it after all); a POST sent in the same turn opens another.
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(srv.received).toHaveLength(3);
    expect(srv.connections()).toBe(1);
  });

  it('drops the connection of an answer longer than it reads (64 KiB), and opens a new one next time', async () => {
    const srv = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('x'.repeat(1024 * 1024));
    });
    expect(asResponse(await post(srv.url)).bodyPrefix).toHaveLength(1024);
    expect(asResponse(await post(srv.url)).statusCode).toBe(200);
    expect(srv.connections()).toBe(2);
  });

  it('sends the method, path, headers and body exactly as given', async () => {
    const srv = await serve((_req, res) => {
      res.writeHead(204);
      res.end();
    });
    const body = JSON.stringify({ type: 'scan.completed', data: { name: 'é ✓ 日本', n: 1 } });
    const headers = {
      'content-type': 'application/json',
      'webhook-id': 'evt_01',
      'webhook-timestamp': '1700000000',
      'webhook-signature': 'v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4=',
      authorization: 'Bearer tok_123',
      'user-agent': 'Hookline/1.0',
    };
    const r = asResponse(await post(`${srv.url}/receive/here?x=1`, { headers, body }));
    expect(r.statusCode).toBe(204);
    expect(r.bodyPrefix).toBe('');
    expect(srv.received).toHaveLength(1);
    const got = srv.received[0]!;
    expect(got.method).toBe('POST');
    expect(got.url).toBe('/receive/here?x=1');
    for (const [name, value] of Object.entries(headers)) expect(got.headers[name]).toBe(value);
    expect(got.body.equals(Buffer.from(body, 'utf8'))).toBe(true);
    expect(Number(got.headers['content-length'])).toBe(Buffer.byteLength(body));
  });

  it('gives up on a receiver that never answers: kind error, "timeout..."', async () => {
    const srv = await serve(() => {
      /* never answers */
    });
    const started = Date.now();
    const r = asError(await post(srv.url, { timeoutMs: 300 }));
    expect(r.error).toMatch(/^timeout/);
    expect(r.error).toBe('timeout: no answer within 300 ms');
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(r.durationMs).toBeGreaterThanOrEqual(250);
  });

  it('reads an answer that came in time though this process was busy past the deadline, instead of failing it', async () => {
    // The receiver runs on a thread of its own, so it answers while this thread is blocked.
    const receiver = new Worker(
      `const { createServer } = require('node:http');
       const { parentPort } = require('node:worker_threads');
       const server = createServer((req, res) => { req.resume(); req.on('end', () => setTimeout(() => res.writeHead(200, { 'content-type': 'text/plain' }).end('in time'), 40)); });
       server.listen(0, '127.0.0.1', () => parentPort.postMessage(server.address().port));
       parentPort.on('message', () => server.close(() => process.exit(0)));`,
      { eval: true },
    );
    try {
      const port = await new Promise<number>((resolve) => receiver.once('message', resolve));
      // A timeout well above the receiver's 40 ms: a sender on a thread of its own is not blocked
      // below, and must not miss the answer only because the test machine is loaded.
      const sent = post(`http://127.0.0.1:${port}/busy`, { timeoutMs: 250 });
      // Busy for three times the timeout in an I/O callback, as the runtime is with other work,
      // from just after the request went out (the receiver answers 40 ms after it): the answer
      // waits in the socket while the deadline passes, and the loop's next turn runs timers
      // before it reads sockets.
      await new Promise((resolve) => setTimeout(resolve, 20));
      await new Promise<void>((resolve) =>
        readFile(fileURLToPath(import.meta.url), () => {
          const until = Date.now() + 750;
          while (Date.now() < until) {
            /* a process busy with something else */
          }
          resolve();
        }),
      );
      const r = asResponse(await sent);
      expect(r.statusCode).toBe(200);
      expect(r.bodyPrefix).toBe('in time');
    } finally {
      receiver.postMessage('stop');
      await new Promise((resolve) => receiver.once('exit', resolve));
    }
  });

  it('returns the status of a receiver that answers but then stalls its body, with what arrived, within the timeout', async () => {
    const srv = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('partial');
      // never ends the body
    });
    const started = Date.now();
    const r = asResponse(await post(srv.url, { timeoutMs: 300 }));
    expect(r.statusCode).toBe(200);
    expect(r.bodyPrefix).toBe('partial');
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it('returns the status of a receiver that destroys the socket halfway through its body', async () => {
    const srv = await serve((req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '1000' });
      res.write('first part');
      setTimeout(() => req.socket.destroy(), 20);
    });
    const r = asResponse(await post(srv.url));
    expect(r.statusCode).toBe(200);
    expect(r.bodyPrefix).toBe('first part');
  });

  it('reports a closed port as "connection refused"', async () => {
    const srv = await serve(() => undefined);
    const url = srv.url;
    await srv.close();
    servers.splice(servers.indexOf(srv), 1);
    const r = asError(await post(url));
    expect(r.error).toBe('connection refused');
  });

  it('reports a receiver that destroys the socket as "connection reset by the receiver"', async () => {
    const srv = await serve((req) => {
      req.socket.destroy();
    });
    const r = asError(await post(srv.url));
    expect(r.error).toBe('connection reset by the receiver');
  });

  it('reports a receiver that resets the connection (RST) as "connection reset by the receiver"', async () => {
    const srv = await serve((req) => {
      req.socket.resetAndDestroy();
    });
    const r = asError(await post(srv.url));
    expect(r.error).toBe('connection reset by the receiver');
  });

  it('reports an unparsable URL as "invalid URL" and a name that does not resolve as a DNS failure', async () => {
    expect(asError(await post('not a url')).error).toBe('invalid URL');
    expect(asError(await post('http://hookline-test.invalid/')).error).toBe('DNS lookup failed');
  });

  it('answers a header value the client refuses (a line break) with an error, not a throw, and without the value', async () => {
    const srv = await serve((_req, res) => res.end('ok'));
    const r = asError(await post(srv.url, { headers: { 'x-signature': 'secret-part\r\ninjected: 1' } }));
    expect(r.error).not.toContain('secret-part');
    expect(srv.received).toHaveLength(0);
  });

  it('never puts request header values in the error sentence', async () => {
    const srv = await serve((req) => req.socket.destroy());
    const r = asError(await post(srv.url, { headers: { authorization: 'Bearer super-secret-token' } }));
    expect(r.error).not.toContain('super-secret-token');
  });
});

describe('ThreadedHttpSender', () => {
  afterEach(() => sender.close());

  it('answers every POST in hand, and later ones, with an error once closed', async () => {
    const srv = await serve(() => {
      /* never answers */
    });
    sender = new ThreadedHttpSender({ policy: PRIVATE_ALLOWED, script: bundle() });
    const inHand = post(srv.url, { timeoutMs: 60_000 });
    // The request is in the thread's hands once the receiver has it.
    while (srv.received.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    await sender.close();
    expect(asError(await inHand).error).toBe('the sender was closed');
    expect(asError(await post(srv.url)).error).toBe('the sender is closed');
  });

  it("has a 2xx answer in its journal by the time the answer is handed back", async () => {
    const srv = await serve((_req, res) => res.end('ok'));
    const journalDir = await mkdtemp(join(tmpdir(), 'hookline-journal-'));
    try {
      sender = new ThreadedHttpSender({ policy: PRIVATE_ALLOWED, script: bundle(), journalDir });
      const answers = await Promise.all(['dlv_T#001', 'dlv_T#002', 'dlv_T#003'].map((attemptKey) => post(srv.url, { attemptKey })));
      expect(answers.map((a) => asResponse(a).statusCode)).toEqual([200, 200, 200]);
      // Read as the next start would, while this thread still runs (a kill now).
      expect([...new AnswerJournal(journalDir).takeOver().keys()].sort()).toEqual(['dlv_T#001', 'dlv_T#002', 'dlv_T#003']);
    } finally {
      await rm(journalDir, { recursive: true, force: true });
    }
  });

  it("prestart resolves once the thread has warmed up (the runtime changes V8's flags only then)", async () => {
    const threaded = new ThreadedHttpSender({ policy: PRIVATE_ALLOWED, script: bundle() });
    sender = threaded;
    // The thread stays up: only its 'warm' message can resolve this.
    await threaded.prestart();
    const srv = await serve((_req, res) => res.end('ok'));
    expect(asResponse(await post(srv.url)).bodyPrefix).toBe('ok');
  });

  it('prestart resolves too when the thread cannot start', async () => {
    const threaded = new ThreadedHttpSender({ policy: PRIVATE_ALLOWED, script: Promise.resolve('this is not JavaScript (') });
    sender = threaded;
    await threaded.prestart();
    expect(asError(await post('http://127.0.0.1:9/never')).error).toBe("the sender thread stopped: Unexpected identifier 'is'");
  });

  it('answers with an error when its thread cannot start', async () => {
    sender = new ThreadedHttpSender({ policy: PRIVATE_ALLOWED, script: Promise.resolve('this is not JavaScript (') });
    // The script fails to compile in the thread: its SyntaxError ends the thread.
    expect(asError(await post('http://127.0.0.1:9/never')).error).toBe("the sender thread stopped: Unexpected identifier 'is'");
  });

  it('answers the POSTs a dying thread had in hand with an error, and starts a new thread for the next', async () => {
    const srv = await serve((_req, res) => res.end('ok'));
    // A thread dies on its first batch while the flag file exists, when it starts.
    const flag = join(await mkdtemp(join(tmpdir(), 'hookline-sender-')), 'die');
    const script = bundle().then(
      (real) => `if (require('node:fs').existsSync(${JSON.stringify(flag)})) {
        require('node:worker_threads').parentPort.on('message', () => { throw new Error('the thread died'); });
      } else {
        ${real}
      }`,
    );
    await writeFile(flag, '');
    try {
      sender = new ThreadedHttpSender({ policy: PRIVATE_ALLOWED, script });
      const r = asError(await post(srv.url));
      expect(r.error).toBe('the sender thread stopped: the thread died');
    } finally {
      await rm(dirname(flag), { recursive: true, force: true });
    }
    expect(asResponse(await post(srv.url)).bodyPrefix).toBe('ok');
    expect(srv.received).toHaveLength(1);
  });

  it('stops a thread that leaves a POST unanswered past its deadline, says so, and answers later POSTs from a new thread', async () => {
    const srv = await serve((_req, res) => res.end('ok'));
    // A thread hangs (its event loop never turns again) on its first batch while the flag file exists, when it starts.
    const flag = join(await mkdtemp(join(tmpdir(), 'hookline-sender-')), 'hang');
    const script = bundle().then(
      (real) => `if (require('node:fs').existsSync(${JSON.stringify(flag)})) {
        require('node:worker_threads').parentPort.on('message', () => { for (;;) {} });
      } else {
        ${real}
      }`,
    );
    await writeFile(flag, '');
    const faults: string[] = [];
    try {
      sender = new ThreadedHttpSender({ policy: PRIVATE_ALLOWED, script, hangGraceMs: 200, onFault: (reason) => faults.push(reason) });
      const r = asError(await post(srv.url, { timeoutMs: 100 }));
      expect(r.error).toBe("the sender thread did not answer within the attempt's deadline and 200 ms more: it was stopped");
      expect(faults).toEqual([r.error]);
    } finally {
      await rm(dirname(flag), { recursive: true, force: true });
    }
    expect(asResponse(await post(srv.url)).bodyPrefix).toBe('ok');
    expect(srv.received).toHaveLength(1);
    expect(faults).toHaveLength(1);
  });

  it('is unhealthy while its thread keeps failing', async () => {
    const faults: string[] = [];
    const threaded = new ThreadedHttpSender({ policy: PRIVATE_ALLOWED, script: Promise.resolve('throw new Error("broken build")'), onFault: (reason) => faults.push(reason) });
    sender = threaded;
    expect(threaded.healthy()).toBe(true);
    for (let i = 0; i < 3; i++) expect(asError(await post('http://127.0.0.1:9/never')).error).toBe('the sender thread stopped: broken build');
    expect(faults).toHaveLength(3);
    expect(threaded.healthy()).toBe(false);
    // A minute without another fault: healthy again.
    expect(threaded.healthy(performance.now() + 61_000)).toBe(true);
  });
});
