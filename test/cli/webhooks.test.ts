/**
 * The `hookline` CLI end to end, part 1: login, webhooks, portal links and the launcher, its bin
 * in a child process against the one-machine runtime, with real receivers on 127.0.0.1. What it
 * prints is checked against the API.
 */
import { randomUUID } from 'node:crypto';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { WEBHOOKS } from '../support/hookline.ts';
import { api } from '../support/runtime.ts';
import { cli, expectExit, useCliSuite } from './cli.ts';

const s = useCliSuite();

describe('login', () => {
  it('saves the URL and the key from stdin in a file only its owner can read', async () => {
    const file = join(s.dir, `login-${randomUUID()}.json`);
    const result = expectExit(await cli(file, ['login', '--url', s.rt.baseUrl], { input: `${s.rt.apiKey}\n` }), 0);
    expect(result.stdout).toContain(`Logged in to ${s.rt.baseUrl}`);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(JSON.parse(await readFile(file, 'utf8'))).toEqual({ url: s.rt.baseUrl, key: s.rt.apiKey });
    // The login file of this suite was made the same way, its URL without the trailing slash.
    expect(JSON.parse(await readFile(s.config, 'utf8')).url).toBe(s.rt.baseUrl);
    expect((await stat(s.config)).mode & 0o777).toBe(0o600);
  });

  it('refuses a key the API refuses, and saves nothing', async () => {
    const file = join(s.dir, `refused-${randomUUID()}.json`);
    const result = expectExit(await cli(file, ['login', '--url', s.rt.baseUrl, '--key', 'hk_not_a_key']), 1);
    expect(result.stderr).toMatch(/refused the key \(401\): nothing saved/);
    await expect(stat(file)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('says to log in first when there is no saved login', async () => {
    const result = expectExit(await cli(join(s.dir, 'missing.json'), ['webhooks', 'ls']), 1);
    expect(result.stderr).toMatch(/not logged in .*hookline login/);
    expect(result.stdout).toBe('');
  });
});

describe('webhooks', () => {
  it('creates, lists, shows, updates, tests, rotates and deletes a webhook as the API sees it', async () => {
    const r = await s.receiver();
    const created = await s.createWebhook(`${r.url}/hook`, '--event', 'scan.*,alert.created', '--description', 'from the CLI');
    expect(created.secret).toMatch(/^whsec_/);
    expect(created).toMatchObject({ url: `${r.url}/hook`, events: ['scan.*', 'alert.created'], description: 'from the CLI', active: true });
    const { secret: _secret, ...view } = created;
    expect((await s.tenant.get(`${WEBHOOKS}/${created.id}`)).json).toEqual(view);

    const listed = expectExit(await cli(s.config, ['webhooks', 'ls', '--json']), 0).json;
    expect(listed).toContainEqual(view);
    const table = expectExit(await cli(s.config, ['webhooks', 'ls']), 0).stdout.split('\n');
    expect(table[0]).toMatch(/^ID\s+STATUS\s+EVENTS\s+URL\s+DESCRIPTION$/);
    expect(table.find((line) => line.startsWith(created.id))).toMatch(new RegExp(`^${created.id}\\s+healthy\\s+scan\\.\\*,alert\\.created\\s+${r.url}/hook\\s+from the CLI$`));

    const shown = expectExit(await cli(s.config, ['webhooks', 'get', created.id]), 0).stdout;
    expect(shown).toMatch(new RegExp(`^url:\\s+${r.url}/hook$`, 'm'));

    const paused = expectExit(await cli(s.config, ['webhooks', 'update', created.id, '--pause', '--event', 'scan.completed', '--json']), 0).json;
    expect(paused).toMatchObject({ active: false, events: ['scan.completed'] });
    expect((await s.tenant.get(`${WEBHOOKS}/${created.id}`)).json).toMatchObject({ active: false, events: ['scan.completed'] });
    expect(expectExit(await cli(s.config, ['webhooks', 'ls']), 0).stdout).toMatch(new RegExp(`^${created.id}\\s+paused\\s`, 'm'));
    expect(expectExit(await cli(s.config, ['webhooks', 'update', created.id, '--resume']), 0).stdout).toMatch(/^active:\s+true$/m);

    const tested = expectExit(await cli(s.config, ['webhooks', 'test', created.id]), 0);
    expect(tested.stdout).toMatch(/^Delivered: HTTP 200 in \d+ ms$/m);
    const [testRequest] = await r.waitFor(1);
    expect(testRequest!.json).toMatchObject({ event: 'webhook.test' });

    r.setStatus(503);
    const failed = expectExit(await cli(s.config, ['webhooks', 'test', created.id]), 1);
    expect(failed.stdout).toMatch(/^Not delivered: HTTP 503 after \d+ ms/m);
    r.setStatus(200);

    const rotated = expectExit(await cli(s.config, ['webhooks', 'rotate', created.id, '--grace', '1h', '--json']), 0).json;
    expect(rotated.secret).toMatch(/^whsec_/);
    expect(rotated.secret).not.toBe(created.secret);
    // During the grace period an attempt is signed with both secrets; `hookline verify` accepts either.
    expectExit(await cli(s.config, ['webhooks', 'test', created.id]), 0);
    const [, , signed] = await r.waitFor(3);
    const headersFile = join(s.dir, `headers-${randomUUID()}.json`);
    const bodyFile = join(s.dir, `body-${randomUUID()}.json`);
    await writeFile(headersFile, JSON.stringify(signed!.headers));
    await writeFile(bodyFile, signed!.rawBody);
    const verify = (...args: string[]) => cli(s.config, ['verify', '--body', bodyFile, '--headers', headersFile, ...args]);
    const withNew = expectExit(await verify('--secret', rotated.secret), 0).stdout;
    expect(withNew).toMatch(/^ok\s+webhook-signature: valid v1 signature$/m);
    expect(withNew).toMatch(/^ok\s+x-hookline-signature: valid sha256 signature$/m);
    // The hex header carries the newest secret's signature only: the old secret verifies webhook-signature.
    const withOld = expectExit(await verify('--secret', created.secret), 1);
    expect(withOld.stdout).toMatch(/^ok\s+webhook-signature: valid v1 signature$/m);
    expect(withOld.stdout).toMatch(/^FAIL\s+x-hookline-signature is signed with the newest secret only while a rotation is in progress/m);
    expect(withOld.stderr).toBe('hookline: signature does not verify (wrong_secret)\n');
    expect(expectExit(await verify('--secret', created.secret, '--scheme', 'standard-webhooks'), 0).stdout).toMatch(/Signature valid\.$/m);

    expect(expectExit(await cli(s.config, ['webhooks', 'rm', created.id]), 0).stdout).toBe(`Deleted webhook ${created.id}\n`);
    expect((await s.tenant.get(`${WEBHOOKS}/${created.id}`)).status).toBe(404);
  });

  it('verifies what a receiver got from a webhook with its own secret, in both signature headers', async () => {
    const r = await s.receiver();
    const secret = `s3cret-${randomUUID()}`;
    const hook = await s.createWebhook(r.url, '--event', 'scan.completed', '--secret', secret);
    expect(hook).not.toHaveProperty('secret');
    expectExit(await cli(s.config, ['events', 'publish'], { input: JSON.stringify({ event: 'scan.completed', data: { scan_id: 'v-1' } }) }), 0);
    const [req] = await r.waitFor(1);
    const headerArgs = Object.entries(req!.headers).flatMap(([name, value]) => ['-H', `${name}: ${String(value)}`]);
    const verified = expectExit(await cli(s.config, ['verify', '--secret', secret, ...headerArgs, '--json'], { input: req!.rawBody }), 0).json;
    expect(verified).toMatchObject({ valid: true });
    expect(verified.checks.map((c: any) => [c.scheme, c.valid])).toEqual([['standard-webhooks', true], ['hex', true]]);
    await cli(s.config, ['webhooks', 'rm', hook.id]);
  });

  it('prints an API error on stderr with its details, and exits with 1', async () => {
    const result = expectExit(await cli(s.config, ['webhooks', 'create', '--url', 'http://127.0.0.1:9/x', '--event', 'scan.completed', '--format', 'fancy']), 1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/^hookline: POST \/api\/v1\/integrations\/webhooks answered 400: Request body is invalid$/m);
    expect(result.stderr).toMatch(/^ {2}format: .*"standard"/m);

    const missing = expectExit(await cli(s.config, ['webhooks', 'rm', 'wh_00000000000000000000000000']), 1);
    expect(missing.stderr).toMatch(/answered 404: No webhook wh_00000000000000000000000000/);
  });

  it('rejects a command line it cannot run with exit code 2 and the usage', async () => {
    const result = expectExit(await cli(s.config, ['webhooks', 'create', '--url', 'http://127.0.0.1:9/x', '--bogus']), 2);
    expect(result.stderr).toMatch(/Unknown option '--bogus'/);
    expect(result.stderr).toContain('Usage: hookline webhooks create');
    // Durations past what they can mean: a poll without a pause, a time before any delivery.
    const interval = expectExit(await cli(s.config, ['deliveries', 'ls', '--follow', '--interval', '30d']), 2);
    expect(interval.stderr).toContain('--interval must be at most 86400s (got "30d")');
    const since = expectExit(await cli(s.config, ['recover', '--since', '100000000d']), 2);
    expect(since.stderr).toContain('--since must be an ISO 8601 time');
    const login = expectExit(await cli(s.config, ['login', '--url', 'ftp://files.example.com', '--key', 'hk_x']), 2);
    expect(login.stderr).toContain('the URL must be http:// or https://, got ftp:');
    const help = expectExit(await cli(s.config, ['deliveries', 'ls', '--help']), 0);
    expect(help.stdout).toMatch(/^Usage: hookline deliveries ls/);
  });
});

describe('portal', () => {
  it('prints a portal URL whose session is limited to the webhooks, the rights and the time asked for', async () => {
    const r = await s.receiver();
    const hook = await s.createWebhook(r.url, '--event', 'scan.completed');
    const other = await s.createWebhook(r.url, '--event', 'scan.failed');
    const before = Date.now();
    const session = expectExit(await cli(s.config, ['portal', '--webhook', hook.id, '--read-only', '--ttl', '30m', '--json']), 0).json;
    expect(session.url).toMatch(new RegExp(`^${s.rt.baseUrl}/portal#token=pst_`));
    const lifetime = Date.parse(session.expires_at) - before;
    expect(lifetime).toBeGreaterThan(25 * 60_000);
    expect(lifetime).toBeLessThanOrEqual(30 * 60_000 + 1000);

    // What the page can do with the link's token: see the one webhook, change nothing.
    const token = new URL(session.url).hash.replace(/^#token=/, '');
    const customer = api(s.rt.baseUrl, decodeURIComponent(token));
    const seen = await customer.get(WEBHOOKS);
    expect(seen.status).toBe(200);
    expect(seen.json.items.map((w: any) => w.id)).toEqual([hook.id]);
    expect((await customer.patch(`${WEBHOOKS}/${hook.id}`, { description: 'changed' })).status).toBe(403);

    // Human output: the URL alone on stdout, so `open "$(hookline portal)"` works.
    const plain = expectExit(await cli(s.config, ['portal']), 0);
    expect(plain.stdout).toMatch(new RegExp(`^${s.rt.baseUrl}/portal#token=pst_\\S+\n$`));
    expect(plain.stderr).toMatch(/^Expires \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\.$/m);

    const tooLong = expectExit(await cli(s.config, ['portal', '--ttl', '25h']), 1);
    expect(tooLong.stderr).toMatch(/^hookline: POST \/api\/v1\/portal-sessions answered 400: [\s\S]*expires_in/);
    await cli(s.config, ['webhooks', 'rm', hook.id, other.id]);
  });
});

describe('the launcher', () => {
  it('runs itself again with the Node of node_modules when the Node it got cannot strip types', async () => {
    const version = expectExit(await cli(s.config, ['--version'], { nodeArgs: ['--no-experimental-strip-types'] }), 0);
    expect(version.stdout).toMatch(/^hookline \d+\.\d+\.\d+\n$/);
    const listed = expectExit(await cli(s.config, ['webhooks', 'ls', '--json'], { nodeArgs: ['--no-experimental-strip-types'] }), 0);
    expect(Array.isArray(listed.json)).toBe(true);
    // The exit code of the inner run is passed through.
    expectExit(await cli(s.config, ['no-such-command'], { nodeArgs: ['--no-experimental-strip-types'] }), 2);
  });
});
