import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { NodeHttpSender } from '../../shared/adapters/http/node-http-sender.ts';
import { UndiciHttpSender } from '../../shared/adapters/http/undici-http-sender.ts';
import { failedAttemptOutcome } from '../../shared/domain/attempt-outcome.ts';
import { ATTEMPT_OUTCOMES } from '../../shared/domain/metric-names.ts';
import type { SendResult } from '../../shared/usecases/ports.ts';

const error = (sentence: string) => ({ kind: 'error', error: sentence }) as const;

describe('failedAttemptOutcome', () => {
  it('classes every answer that is not a 2xx as status, redirects and 410 included', () => {
    for (const statusCode of [301, 400, 404, 410, 429, 500, 503]) expect(failedAttemptOutcome({ kind: 'response', statusCode })).toBe('status');
  });

  it.each([
    ['timeout: no answer within 10000 ms', 'timeout'],
    ['timeout: could not connect', 'timeout'],
    ['connection refused', 'refused'],
    ['connection reset by the receiver', 'refused'],
    ['refused: the URL has a private address', 'refused'],
    ['refused: hooks.example.com resolves to a loopback address, which webhooks may not reach', 'refused'],
    ['TLS error: CERT_HAS_EXPIRED', 'tls'],
    ['TLS error: ERR_SSL_WRONG_VERSION_NUMBER', 'tls'],
    ['DNS lookup failed', 'dns'],
    ['OAuth2 token endpoint answered HTTP 401', 'other'],
    ['OAuth2 token request failed: timeout: no answer within 10000 ms', 'other'],
    ['invalid URL', 'other'],
    ['request failed: EHOSTUNREACH', 'other'],
    ['', 'other'],
  ])('classes the delivery-log sentence %j as %s', (sentence, outcome) => {
    expect(failedAttemptOutcome(error(sentence))).toBe(outcome);
  });

  it('classes a sentence that only resembles one of a class as other', () => {
    for (const sentence of ['timeouts exceeded', 'TLS', 'DNS', 'connection closed', 'receiver refused: nope']) {
      expect(failedAttemptOutcome(error(sentence))).toBe('other');
    }
  });

  it('answers only the outcomes the dashboard graphs', () => {
    const seen = new Set(['timeout: x', 'connection refused', 'TLS error: x', 'DNS lookup failed', 'x'].map((s) => failedAttemptOutcome(error(s))));
    seen.add(failedAttemptOutcome({ kind: 'response', statusCode: 500 }));
    expect([...seen].sort()).toEqual([...ATTEMPT_OUTCOMES].sort());
  });
});

/**
 * The sentences come from the real sender: each failure provoked on loopback is classed as the
 * dashboard expects, so a reworded sentence, or one client's own error, cannot slip into `other`
 * unseen. Both senders: Lambda's (node:http) and the one-machine runtime's (undici).
 */
describe.each([
  ['NodeHttpSender', NodeHttpSender],
  ['UndiciHttpSender', UndiciHttpSender],
] as const)('failedAttemptOutcome of %s failures (127.0.0.1)', (_name, Sender) => {
  const servers: Server[] = [];
  const sockets = new Set<Socket>();
  let sender: NodeHttpSender | UndiciHttpSender;
  beforeEach(() => {
    sender = new Sender({
      policy: { allowPrivateTargets: true, allowedPorts: [] },
      // Resolution fails for every name, as for a domain that does not exist (no DNS traffic).
      resolve: (hostname, callback) => callback(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }), []),
    });
  });
  afterEach(async () => {
    await sender.close();
    for (const s of sockets) s.destroy();
    await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
  });

  /** A loopback HTTP server doing `handle` with each request; its base URL. */
  async function serve(handle: (socket: Socket, answer: (status: number) => void) => void): Promise<string> {
    const server = createServer((req, res) => handle(req.socket, (status) => res.writeHead(status).end()));
    server.on('connection', (s) => {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return `127.0.0.1:${(server.address() as AddressInfo).port}`;
  }
  const post = (url: string, timeoutMs = 5_000): Promise<SendResult> => sender.post({ url, headers: {}, body: '{}', timeoutMs });
  const outcomeOf = async (result: Promise<SendResult>) => {
    const r = await result;
    if (r.kind === 'response' && r.statusCode < 300) throw new Error(`expected a failure, got ${r.statusCode}`);
    return failedAttemptOutcome(r);
  };

  it('a 503 is status', async () => {
    const host = await serve((_, answer) => answer(503));
    expect(await outcomeOf(post(`http://${host}/`))).toBe('status');
  });

  it('a receiver that never answers is timeout', async () => {
    const host = await serve(() => undefined);
    expect(await outcomeOf(post(`http://${host}/`, 200))).toBe('timeout');
  });

  it('a closed port and a reset connection are refused', async () => {
    const closed = await serve(() => undefined);
    await new Promise((resolve) => servers.pop()!.close(resolve));
    expect(await outcomeOf(post(`http://${closed}/`))).toBe('refused');
    const resetting = await serve((socket) => socket.resetAndDestroy());
    expect(await outcomeOf(post(`http://${resetting}/`))).toBe('refused');
  });

  it('an address the target policy refuses is refused', async () => {
    const host = await serve((_, answer) => answer(200));
    const strict = new Sender({ policy: { allowPrivateTargets: false, allowedPorts: [] } });
    try {
      expect(await outcomeOf(strict.post({ url: `http://${host}/`, headers: {}, body: '{}', timeoutMs: 5_000 }))).toBe('refused');
    } finally {
      await strict.close();
    }
  });

  it('HTTPS to a server that speaks plain HTTP is tls', async () => {
    const host = await serve((_, answer) => answer(200));
    expect(await outcomeOf(post(`https://${host}/`))).toBe('tls');
  });

  it('a name that does not resolve is dns', async () => {
    expect(await outcomeOf(post('http://receiver.example.com/'))).toBe('dns');
  });
});
