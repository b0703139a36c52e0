/**
 * `hookline verify` offline: messages signed by the `standardwebhooks` package (the reference
 * implementation, independent of Hookline's signer) and hex signatures made with node:crypto,
 * checked by the CLI in a child process. Every failure reason is one a receiver's developer
 * meets: a wrong secret, an old timestamp, a body their framework re-serialized, a header that
 * is not what it should be.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Webhook } from 'standardwebhooks';
import { cli, expectExit, type CliResult } from './cli.ts';

const SECRET = `whsec_${randomBytes(32).toString('base64')}`;
const OTHER_SECRET = `whsec_${randomBytes(32).toString('base64')}`;
const BODY = JSON.stringify({ id: 'evt_1', event: 'scan.completed', timestamp: '2026-03-15T10:30:00Z', tenant_id: 't', data: { hosts: 3, note: 'café' } });
const MSG_ID = 'evt_1';

let dir: string;
/** Not used by verify (it needs no login), but every CLI run gets its own config file. */
let config: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hookline-verify-'));
  config = join(dir, 'config.json');
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** The Standard Webhooks headers of BODY (or `body`) signed by the reference package. */
function signed(secret = SECRET, at = new Date(), body = BODY): Record<string, string> {
  return {
    'webhook-id': MSG_ID,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': new Webhook(secret).sign(MSG_ID, at, body),
  };
}

const hex = (secret: string, body: string): string => 'sha256=' + createHmac('sha256', secret).update(body).digest('hex');

/** Runs `hookline verify --json` with the body on stdin and each header as -H. */
async function verify(headers: Record<string, string>, options: { body?: string; secrets?: string[]; args?: string[] } = {}): Promise<CliResult> {
  const args = ['verify', '--json', ...(options.secrets ?? [SECRET]).flatMap((s) => ['--secret', s])];
  for (const [name, value] of Object.entries(headers)) args.push('-H', `${name}: ${value}`);
  return cli(config, [...args, ...(options.args ?? [])], { input: options.body ?? BODY });
}

async function failure(result: Promise<CliResult>): Promise<{ reason: string; message: string; checks: any[] }> {
  return expectExit(await result, 1).json;
}

describe('hookline verify', () => {
  it('accepts a message signed by the standardwebhooks package, and a hex signature of the same body', async () => {
    const result = expectExit(await verify({ ...signed(), 'X-Hookline-Signature': hex(SECRET, BODY) }), 0).json;
    expect(result).toMatchObject({ valid: true });
    expect(result.checks).toEqual([
      expect.objectContaining({ scheme: 'standard-webhooks', valid: true, secret_index: 0 }),
      expect.objectContaining({ scheme: 'hex', header: 'x-hookline-signature', valid: true, secret_index: 0 }),
    ]);
  });

  it('accepts either secret of a rotation, and says which one matched', async () => {
    const at = new Date();
    const headers = signed(OTHER_SECRET, at);
    headers['webhook-signature'] = `${headers['webhook-signature']} ${signed(SECRET, at)['webhook-signature']}`;
    const result = expectExit(await verify(headers, { secrets: [OTHER_SECRET, SECRET], args: ['--tolerance', '1m'] }), 0).json;
    expect(result.checks[0]).toMatchObject({ valid: true, secret_index: 0 });
    const old = expectExit(await verify(headers, { secrets: [SECRET] }), 0).json;
    expect(old.checks[0]).toMatchObject({ valid: true, secret_index: 0 });
  });

  it('wrong secret', async () => {
    const result = await failure(verify(signed(OTHER_SECRET)));
    expect(result.reason).toBe('wrong_secret');
    expect(result.message).toMatch(/matches none of the secret given/);
  });

  it('wrong secret: pasted without its whsec_ prefix', async () => {
    const result = await failure(verify(signed(), { secrets: [SECRET.slice('whsec_'.length)] }));
    expect(result).toMatchObject({ reason: 'wrong_secret' });
    expect(result.message).toMatch(/matches the secret with its whsec_ prefix/);
  });

  it('timestamp outside the tolerance, which --tolerance widens', async () => {
    const hourAgo = new Date(Date.now() - 3600_000);
    const result = await failure(verify(signed(SECRET, hourAgo)));
    expect(result.reason).toBe('timestamp_outside_tolerance');
    expect(result.message).toMatch(/webhook-timestamp is 36\d\d s old, outside the tolerance of 300 s .*; the signature itself matches/);
    expectExit(await verify(signed(SECRET, hourAgo), { args: ['--tolerance', '2h'] }), 0);
    const future = await failure(verify(signed(SECRET, new Date(Date.now() + 3600_000))));
    expect(future.message).toMatch(/s in the future/);
  });

  it('body changed: re-serialized by a framework before verification', async () => {
    const pretty = JSON.stringify(JSON.parse(BODY), null, 2);
    const result = await failure(verify({ ...signed(), 'X-Hookline-Signature': hex(SECRET, BODY) }, { body: pretty }));
    expect(result.reason).toBe('body_changed');
    expect(result.checks.map((c) => c.reason)).toEqual(['body_changed', 'body_changed']);
    expect(result.message).toMatch(/matches it serialized as compact JSON \(the body was re-serialized\): verify the raw bytes/);
  });

  it('body changed: a trailing newline added', async () => {
    const result = await failure(verify(signed(), { body: BODY + '\n' }));
    expect(result).toMatchObject({ reason: 'body_changed' });
    expect(result.message).toMatch(/without the trailing newline/);
  });

  it('a body changed beyond recognition cannot be told from a wrong secret, and the message says both', async () => {
    const result = await failure(verify(signed(), { body: BODY.replace('café', 'cafe') }));
    expect(result.reason).toBe('wrong_secret');
    expect(result.message).toMatch(/or the body is not the exact bytes received/);
  });

  it('no matching version: only signatures of a scheme it does not know', async () => {
    const headers = { ...signed(), 'webhook-signature': `v1a,${randomBytes(64).toString('base64')}` };
    const result = await failure(verify(headers));
    expect(result).toMatchObject({ reason: 'no_matching_version' });
    expect(result.message).toMatch(/no v1 \(HMAC-SHA256\) signature, only v1a/);
    const sha1 = await failure(verify({ 'X-Hookline-Signature': `sha1=${createHmac('sha1', SECRET).update(BODY).digest('hex')}` }));
    expect(sha1).toMatchObject({ reason: 'no_matching_version' });
  });

  it('malformed headers', async () => {
    const good = signed();
    const cases: Record<string, string>[] = [
      { ...good, 'webhook-signature': good['webhook-signature']!.replace('v1,', 'v1:') },
      { ...good, 'webhook-signature': 'v1,not-base64!' },
      { ...good, 'webhook-timestamp': 'yesterday' },
      { 'X-Hookline-Signature': 'sha256=abc' },
    ];
    for (const headers of cases) {
      expect(await failure(verify(headers))).toMatchObject({ reason: 'malformed_header' });
    }
  });

  it('missing headers', async () => {
    expect(await failure(verify({}))).toMatchObject({ reason: 'missing_header' });
    const { 'webhook-id': _id, ...noId } = signed();
    expect((await failure(verify(noId))).message).toMatch(/webhook-id is missing/);
  });

  it('reads the headers of a captured HTTP request and a branded hex header name', async () => {
    const head = ['POST /hooks/netrecon HTTP/1.1', 'Host: 127.0.0.1', 'X-NetRecon-Signature: ' + hex(SECRET, BODY), '', ''].join('\r\n');
    const headersFile = join(dir, 'head.txt');
    const bodyFile = join(dir, 'body.json');
    await writeFile(headersFile, head);
    await writeFile(bodyFile, BODY);
    const ok = expectExit(await cli(config, ['verify', '--secret', SECRET, '--headers', headersFile, '--body', bodyFile, '--signature-header', 'X-NetRecon-Signature']), 0);
    expect(ok.stdout).toBe('ok    x-netrecon-signature: valid sha256 signature\nSignature valid.\n');
    // Human output: the reason on stderr, exit code 1.
    const bad = expectExit(await cli(config, ['verify', '--secret', OTHER_SECRET, '--headers', headersFile, '--body', bodyFile, '--signature-header', 'X-NetRecon-Signature']), 1);
    expect(bad.stdout).toMatch(/^FAIL {2}x-netrecon-signature matches none/);
    expect(bad.stderr).toBe('hookline: signature does not verify (wrong_secret)\n');
  });
});
