/**
 * docs/receivers.md holds what receivers copy: a table of test vectors and the verification code
 * for Node and Python. This test reads both out of the Markdown and checks:
 * - every row against Hookline's own signer (shared/domain/signing.ts), the independent
 *   `standardwebhooks` package and NetRecon's verification snippet (the hex column);
 * - the Node block (run by Node, importing the real `standardwebhooks`) and the Python block (run
 *   by `python3`; skipped, saying so, where there is none) against every row, tampered rows, and
 *   real deliveries of the one-machine runtime to a receiver on 127.0.0.1, a secret rotation included.
 * The Go block is not run: Go is not part of the project's toolchain (the document says so).
 */
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Webhook } from 'standardwebhooks';
import { hexSignature, standardWebhooksSignature } from '../../shared/domain/signing.ts';
import { createWebhook, publish, verifyWebhook, WEBHOOKS } from '../support/hookline.ts';
import { startReceiver, type ReceivedRequest, type Receiver } from '../support/receiver.ts';
import { api, REPO_ROOT, startRuntime, type Runtime } from '../support/runtime.ts';
import { codeBlockAfter, tableUnder } from './markdown.ts';

const DOC = readFileSync(join(REPO_ROOT, 'docs', 'receivers.md'), 'utf8');
const HEX_HEADER = 'x-hookline-signature';

interface Vector {
  readonly secret: string;
  readonly id: string;
  readonly timestamp: number;
  readonly body: string;
  readonly signature: string;
  readonly hex: string;
}

const VECTORS: Vector[] = tableUnder(DOC, 'Test vectors').map((row) => ({
  secret: row['secret']!,
  id: row['webhook-id']!,
  timestamp: Number(row['webhook-timestamp']),
  body: row['body']!,
  signature: row['webhook-signature']!,
  hex: row['X-Hookline-Signature']!,
}));

/** A request as the snippets get it: raw body bytes (base64 here), lower-case headers, the secret. */
interface SnippetCase {
  readonly name: string;
  readonly body: string;
  readonly headers: Record<string, string>;
  readonly secret: string;
  /** Unix seconds the snippet's clock reads; the real clock when absent. */
  readonly now?: number;
}
interface SnippetResult {
  readonly verified: boolean;
  readonly hex: boolean;
}

const headersOf = (v: Vector, changes: Partial<Record<string, string>> = {}): Record<string, string> => ({
  'webhook-id': v.id,
  'webhook-timestamp': String(v.timestamp),
  'webhook-signature': v.signature,
  [HEX_HEADER]: v.hex,
  ...changes,
});
const base64 = (text: string | Buffer): string => Buffer.from(text).toString('base64');
/** The body with its first digit changed (the vectors' bodies all hold one). */
const tampered = (body: string): string => body.replace(/\d/, (d) => String((Number(d) + 1) % 10));

/** Per vector: as is (both verify), tampered body (neither), another timestamp (hex only), no clock override (too old: hex only). */
function vectorCases(): { cases: SnippetCase[]; expected: SnippetResult[] } {
  const cases: SnippetCase[] = [];
  const expected: SnippetResult[] = [];
  VECTORS.forEach((v, i) => {
    const add = (name: string, c: Omit<SnippetCase, 'name' | 'secret'>, result: SnippetResult) => {
      cases.push({ name: `row ${i + 1}: ${name}`, secret: v.secret, ...c });
      expected.push(result);
    };
    add('as in the table', { body: base64(v.body), headers: headersOf(v), now: v.timestamp }, { verified: true, hex: true });
    add('body changed', { body: base64(tampered(v.body)), headers: headersOf(v), now: v.timestamp }, { verified: false, hex: false });
    add('timestamp changed', { body: base64(v.body), headers: headersOf(v, { 'webhook-timestamp': String(v.timestamp + 1) }), now: v.timestamp }, { verified: false, hex: true });
    add('checked today (too old)', { body: base64(v.body), headers: headersOf(v) }, { verified: false, hex: true });
  });
  return { cases, expected };
}

/** Runs a program with `input` on stdin; resolves with stdout, rejects with stderr on a non-zero exit. */
function run(command: string, args: readonly string[], input: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: REPO_ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (err += c));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`${command} exited with ${code}:\n${err}`))));
    child.stdin.end(input);
  });
}

/** The Node block of the document, then a driver that feeds it the cases (ESM, resolved from the repository root). */
const NODE_DRIVER = `
const realNow = Date.now;
let input = '';
for await (const chunk of process.stdin) input += chunk;
const results = [];
for (const c of JSON.parse(input)) {
  Date.now = c.now === undefined ? realNow : () => c.now * 1000;
  const rawBody = Buffer.from(c.body, 'base64');
  let verified = false;
  try {
    verifyHookline(rawBody, c.headers, c.secret);
    verified = true;
  } catch (error) {
    if (error.name !== 'WebhookVerificationError') throw error;
  }
  results.push({ verified, hex: verifyHexSignature(rawBody, c.headers['${HEX_HEADER}'], c.secret) });
}
process.stdout.write(JSON.stringify(results));
`;

async function runNodeSnippet(cases: readonly SnippetCase[]): Promise<SnippetResult[]> {
  const block = codeBlockAfter(DOC, 'test:node');
  expect(block.language).toBe('js');
  return JSON.parse(await run(process.execPath, ['--input-type=module', '-e', block.code + NODE_DRIVER], JSON.stringify(cases)));
}

const PYTHON_DRIVER = `
import json, sys
results = []
for c in json.load(sys.stdin):
    raw = base64.b64decode(c["body"])
    results.append({
        "verified": verify_hookline(raw, c["headers"], c["secret"], c.get("now")),
        "hex": verify_hex_signature(raw, c["headers"].get("${HEX_HEADER}", ""), c["secret"]),
    })
print(json.dumps(results))
`;

const python = spawnSync('python3', ['--version'], { encoding: 'utf8' });
const hasPython = python.status === 0;
const itWithPython = hasPython ? it : it.skip;
const withPython = (title: string) => (hasPython ? title : `${title} [SKIPPED: python3 is not installed]`);
if (!hasPython) console.warn('docs/receivers.md: python3 not found, the Python snippet is not run');

async function runPythonSnippet(cases: readonly SnippetCase[]): Promise<SnippetResult[]> {
  const block = codeBlockAfter(DOC, 'test:python');
  expect(block.language).toBe('python');
  return JSON.parse(await run('python3', ['-c', block.code + PYTHON_DRIVER], JSON.stringify(cases)));
}

/** Results named by case, so a failure says which case of which row. */
const named = (cases: readonly SnippetCase[], results: readonly SnippetResult[]) => Object.fromEntries(cases.map((c, i) => [c.name, results[i]]));

describe('docs/receivers.md test vectors', () => {
  it('has rows: whsec_ and plain secrets, non-ASCII bodies and secrets', () => {
    const nonAscii = (text: string) => Buffer.byteLength(text, 'utf8') !== text.length;
    expect(VECTORS.length).toBeGreaterThanOrEqual(4);
    expect(VECTORS.some((v) => v.secret.startsWith('whsec_'))).toBe(true);
    expect(VECTORS.some((v) => !v.secret.startsWith('whsec_'))).toBe(true);
    expect(VECTORS.some((v) => nonAscii(v.body))).toBe(true);
    expect(VECTORS.some((v) => nonAscii(v.secret))).toBe(true);
    for (const v of VECTORS) expect(Number.isInteger(v.timestamp)).toBe(true);
  });

  it.each(VECTORS.map((v, i) => [i + 1, v] as const))('row %i is what Hookline signs', (_row, v) => {
    expect(standardWebhooksSignature([v.secret], v.id, v.timestamp, v.body)).toBe(v.signature);
    expect(hexSignature(v.secret, v.body)).toBe(v.hex);
  });

  it.each(VECTORS.map((v, i) => [i + 1, v] as const))('row %i is what the standardwebhooks package and NetRecon\'s snippet compute', (_row, v) => {
    // The package keys whsec_ secrets with the decoded base64, others given as raw bytes.
    const webhook = v.secret.startsWith('whsec_') ? new Webhook(v.secret) : new Webhook(new Uint8Array(Buffer.from(v.secret, 'utf8')), { format: 'raw' });
    expect(webhook.sign(v.id, new Date(v.timestamp * 1000), v.body)).toBe(v.signature);
    expect(verifyWebhook(v.body, v.hex, v.secret)).toBe(true);
  });

  it('the Node block verifies every row, and refuses a changed body, a changed timestamp and an old one', async () => {
    const { cases, expected } = vectorCases();
    expect(named(cases, await runNodeSnippet(cases))).toEqual(named(cases, expected));
  });

  itWithPython(withPython('the Python block verifies every row, and refuses a changed body, a changed timestamp and an old one'), async () => {
    const { cases, expected } = vectorCases();
    expect(named(cases, await runPythonSnippet(cases))).toEqual(named(cases, expected));
  });
});

describe('docs/receivers.md code against real deliveries', () => {
  let rt: Runtime;
  let receiver: Receiver;
  /** Per webhook: the requests it got and the secrets it had. */
  const received: { name: string; req: ReceivedRequest; secrets: { secret: string; hex: boolean }[] }[] = [];

  beforeAll(async () => {
    rt = await startRuntime();
    receiver = await startReceiver();
    const client = api(rt.baseUrl, rt.apiKey);
    const generated = await createWebhook(client, { url: `${receiver.url}/generated`, events: ['scan.completed'] });
    const ownSecret = 'sëcret-ü-8chars';
    await createWebhook(client, { url: `${receiver.url}/own`, events: ['scan.completed'], secret: ownSecret });
    await publish(client, { event: 'scan.completed', data: { scan_id: 'docs-1', note: 'Café ✓ – 12 hosts' } });
    const first = await receiver.waitFor(2);
    for (const req of first) {
      const own = req.path === '/own';
      received.push({ name: own ? 'own UTF-8 secret' : 'generated whsec_ secret', req, secrets: [{ secret: own ? ownSecret : generated.secret, hex: true }] });
    }

    // A rotation: webhook-signature carries both secrets, the hex header the new one only.
    const rotated = await client.post(`${WEBHOOKS}/${generated.id}/rotate-secret`, { grace_period_seconds: 3600 });
    if (rotated.status !== 200) throw new Error(`rotate-secret answered ${rotated.status}: ${rotated.text}`);
    await publish(client, { event: 'scan.completed', data: { scan_id: 'docs-2' } });
    const toGenerated = (reqs: readonly ReceivedRequest[]) => reqs.filter((r) => r.path === '/generated');
    const afterRotation = toGenerated(await receiver.waitUntil('the delivery after the rotation', (reqs) => toGenerated(reqs).length === 2))[1]!;
    received.push({
      name: 'during a rotation',
      req: afterRotation,
      secrets: [
        { secret: rotated.json.secret, hex: true },
        { secret: generated.secret, hex: false },
      ],
    });
  });

  afterAll(async () => {
    await receiver?.close();
    await rt?.cleanup();
  });

  /** Each delivery with each of its secrets, as received and with one byte of the body changed. */
  function deliveryCases(): { cases: SnippetCase[]; expected: SnippetResult[] } {
    const cases: SnippetCase[] = [];
    const expected: SnippetResult[] = [];
    for (const { name, req, secrets } of received) {
      const headers = Object.fromEntries(Object.entries(req.headers).filter((e): e is [string, string] => typeof e[1] === 'string'));
      for (const [i, { secret, hex }] of secrets.entries()) {
        cases.push({ name: `${name}, secret ${i + 1}`, body: base64(req.rawBody), headers, secret });
        expected.push({ verified: true, hex });
        cases.push({ name: `${name}, secret ${i + 1}, body changed`, body: base64(tampered(req.body)), headers, secret });
        expected.push({ verified: false, hex: false });
      }
    }
    return { cases, expected };
  }

  it('got the deliveries with every signature header', () => {
    expect(received.map((r) => r.name).sort()).toEqual(['during a rotation', 'generated whsec_ secret', 'own UTF-8 secret']);
    for (const { req } of received) {
      expect(req.headers['webhook-signature']).toMatch(/^v1,/);
      expect(req.headers[HEX_HEADER]).toMatch(/^sha256=[0-9a-f]{64}$/);
    }
    expect(String(received.find((r) => r.name === 'during a rotation')!.req.headers['webhook-signature']).split(' ')).toHaveLength(2);
  });

  it('the Node block verifies them (and refuses them with one byte of the body changed)', async () => {
    const { cases, expected } = deliveryCases();
    expect(named(cases, await runNodeSnippet(cases))).toEqual(named(cases, expected));
  });

  itWithPython(withPython('the Python block verifies them (and refuses them with one byte of the body changed)'), async () => {
    const { cases, expected } = deliveryCases();
    expect(named(cases, await runPythonSnippet(cases))).toEqual(named(cases, expected));
  });
});
