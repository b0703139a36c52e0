/**
 * The `hookline` CLI end to end, part 2: publishing events, the deliveries log (and following
 * it), recovery. Its bin runs in a child process against the one-machine runtime, with real
 * receivers on 127.0.0.1; what it prints is checked against the API and the receivers.
 */
import { randomUUID } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { run } from '../../shared/cli/main.ts';
import { WEBHOOKS } from '../support/hookline.ts';
import { eventually } from '../support/runtime.ts';
import { cli, expectExit, startCli, useCliSuite } from './cli.ts';

// One attempt per delivery: a failure is final at once, so `recover` has something to reopen.
const s = useCliSuite({ HOOKLINE_RETRY_DELAYS: '0' });

const ndjson = (events: readonly unknown[]): string => events.map((e) => JSON.stringify(e)).join('\n') + '\n';

describe('events publish', () => {
  it('publishes 250 events from an NDJSON file in batches of 100, each delivered once', async () => {
    const r = await s.receiver();
    const hook = await s.createWebhook(r.url, '--event', 'scan.completed');
    const run = randomUUID();
    const events = Array.from({ length: 250 }, (_, i) => ({ event: 'scan.completed', id: `${run}-${i}`, data: { n: i } }));
    const file = join(s.dir, `events-${run}.ndjson`);
    await writeFile(file, ndjson(events));

    const result = expectExit(await cli(s.config, ['events', 'publish', file, '--json']), 0);
    expect(result.json).toEqual({ published: 250, batches: 3, ids: events.map((e) => e.id) });
    // stderr is not a terminal here: no progress bar.
    expect(result.stderr).toBe('');
    const got = await r.waitFor(250, 30_000);
    expect(new Set(got.map((req) => req.json.id))).toEqual(new Set(events.map((e) => e.id)));
    await cli(s.config, ['webhooks', 'rm', hook.id]);
  });

  it('publishes a JSON array from stdin', async () => {
    const r = await s.receiver();
    const hook = await s.createWebhook(r.url, '--event', 'alert.created');
    const events = [1, 2, 3].map((n) => ({ event: 'alert.created', data: { alert: n } }));
    const result = expectExit(await cli(s.config, ['events', 'publish'], { input: JSON.stringify(events) }), 0);
    expect(result.stdout).toBe('Published 3 event(s) in 1 batch(es).\n');
    const got = await r.waitFor(3);
    expect(got.map((req) => req.json.data.alert).sort()).toEqual([1, 2, 3]);
    await cli(s.config, ['webhooks', 'rm', hook.id]);
  });

  it('publishes nothing when a line of the input is not JSON', async () => {
    const r = await s.receiver();
    const hook = await s.createWebhook(r.url, '--event', 'device.offline');
    const input = `${JSON.stringify({ event: 'device.offline', data: { n: 1 } })}\n{"event": "device.offline", "data": \n`;
    const result = expectExit(await cli(s.config, ['events', 'publish', '-'], { input }), 1);
    expect(result.stderr).toMatch(/^hookline: stdin: line 2 is not JSON/);
    // No events at all, however written, is the same error.
    for (const empty of ['', '[]', '{"events": []}']) {
      expect(expectExit(await cli(s.config, ['events', 'publish', '-'], { input: empty }), 1).stderr).toBe('hookline: stdin holds no events\n');
    }
    // A marker published afterwards arrives alone: the valid first line was never sent.
    expectExit(await cli(s.config, ['events', 'publish'], { input: JSON.stringify({ event: 'device.offline', data: { marker: true } }) }), 0);
    const [first] = await r.waitFor(1);
    expect(first!.json.data).toEqual({ marker: true });
    await cli(s.config, ['webhooks', 'rm', hook.id]);
  });

  it('names the event of a rejected batch by its place in the input', async () => {
    const events = [{ event: 'scan.completed', data: {} }, { event: 'scan.nope', data: {} }];
    const result = expectExit(await cli(s.config, ['events', 'publish'], { input: ndjson(events) }), 1);
    expect(result.stderr).toMatch(/batch 1 of 1 \(events 1-2\) was rejected: POST \/v1\/events answered 400/);
    expect(result.stderr).toMatch(/scan\.nope/);
    expect(result.stderr).toMatch(/Nothing before it was published\./);
  });
});

describe('progress on a terminal', () => {
  /** Runs the CLI in this process with a stderr that says it is a terminal. */
  async function runOnTerminal(argv: string[], input: string): Promise<{ code: number; stdout: string; stderr: string }> {
    const stdout = new PassThrough();
    const stderr = Object.assign(new PassThrough(), { isTTY: true, columns: 80 });
    let out = '';
    let err = '';
    stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
    stderr.setEncoding('utf8').on('data', (c: string) => (err += c));
    const code = await run(argv, { stdin: Readable.from([input]), stdout, stderr, env: { HOOKLINE_CONFIG: s.config } }, new AbortController().signal);
    return { code, stdout: out, stderr: err };
  }

  it('draws a bar on stderr that advances one batch of 100 at a time', async () => {
    const events = Array.from({ length: 250 }, (_, i) => ({ event: 'backup.completed', data: { n: i } }));
    const result = await runOnTerminal(['events', 'publish'], ndjson(events));
    expect(result.code).toBe(0);
    const frames = result.stderr.split('\r').filter((f) => f !== '');
    expect(frames.map((f) => /(\d+)\/250/.exec(f)?.[1])).toEqual(['0', '100', '200', '250']);
    expect(frames.at(-1)).toMatch(/^Publishing \[#+\] 250\/250\n$/);
    expect(result.stdout).toBe('Published 250 event(s) in 3 batch(es).\n');
  });
});

describe('deliveries', () => {
  it('lists the latest attempts as JSON and as a table, oldest first', async () => {
    const r = await s.receiver();
    const hook = await s.createWebhook(r.url, '--event', 'ids.alert');
    const events = Array.from({ length: 7 }, (_, i) => ({ event: 'ids.alert', id: `ls-${randomUUID()}-${i}`, data: { i } }));
    expectExit(await cli(s.config, ['events', 'publish'], { input: ndjson(events) }), 0);
    const log = await eventually('7 attempts in the log', async () => {
      const res = await s.tenant.get(`${WEBHOOKS}/${hook.id}/deliveries?per_page=100`);
      return res.json.items.length >= 7 ? (res.json.items as any[]) : undefined;
    });

    const listed = expectExit(await cli(s.config, ['deliveries', 'ls', hook.id, '--limit', '5', '--json']), 0).json;
    expect(listed).toEqual(log.slice(0, 5).reverse().map((a) => ({ webhook_id: hook.id, ...a })));

    const table = expectExit(await cli(s.config, ['deliveries', 'ls', hook.id]), 0).stdout.trimEnd().split('\n');
    expect(table[0]).toMatch(/^TIME \(UTC\)\s+EVENT\s+EVENT ID\s+DELIVERY\s+#\s+RESULT\s+MS\s+NOTE$/);
    expect(table).toHaveLength(8);
    for (const attempt of log) {
      expect(table.find((line) => line.includes(attempt.event_id))).toMatch(new RegExp(`ids\\.alert\\s+${attempt.event_id}\\s+${attempt.delivery_id}\\s+1\\s+ok 200\\s+\\d+$`));
    }
    await cli(s.config, ['webhooks', 'rm', hook.id]);
  });

  it("retry makes one more attempt, and show prints every attempt of that delivery, oldest first", async () => {
    const r = await s.receiver(503);
    const hook = await s.createWebhook(r.url, '--event', 'rogue.detected');
    expectExit(await cli(s.config, ['events', 'publish'], { input: JSON.stringify({ event: 'rogue.detected', id: `show-${randomUUID()}`, data: {} }) }), 0);
    const [first] = await eventually('the failed first attempt', async () => {
      const items = (await s.tenant.get(`${WEBHOOKS}/${hook.id}/deliveries`)).json.items as any[];
      return items.length === 1 ? items : undefined;
    });
    for (const n of [2, 3]) {
      expect(expectExit(await cli(s.config, ['deliveries', 'retry', hook.id, first.delivery_id]), 0).stdout).toBe(`Queued attempt ${n} of delivery ${first.delivery_id}.\n`);
      await eventually(`attempt ${n}`, async () => ((await s.tenant.get(`${WEBHOOKS}/${hook.id}/deliveries`)).json.items.length === n ? true : undefined));
    }
    const history = (await s.tenant.get(`${WEBHOOKS}/${hook.id}/deliveries?delivery_id=${first.delivery_id}`)).json.items as any[];
    const shown = expectExit(await cli(s.config, ['deliveries', 'show', hook.id, first.delivery_id, '--json']), 0).json;
    expect(shown).toEqual([...history].reverse().map((a) => ({ webhook_id: hook.id, ...a })));
    expect(shown.map((a: any) => [a.attempt, a.trigger])).toEqual([[1, 'scheduled'], [2, 'manual'], [3, 'manual']]);
    const table = expectExit(await cli(s.config, ['deliveries', 'show', hook.id, first.delivery_id]), 0).stdout.trimEnd().split('\n');
    expect(table[0]).toBe(`Delivery ${first.delivery_id}: event rogue.detected (${first.event_id})`);
    expect(table[1]).toMatch(/^TIME \(UTC\)\s+#\s+TRIGGER\s+RESULT\s+MS\s+NOTE$/);
    expect(table.slice(2).map((line) => line.split(/\s{2,}/).slice(1, 4))).toEqual([
      ['1', 'scheduled', 'failed 503'],
      ['2', 'manual', 'failed 503'],
      ['3', 'manual', 'failed 503'],
    ]);
    expect(expectExit(await cli(s.config, ['deliveries', 'show', hook.id, 'dlv_01ARZ3NDEKTSV4RRFFQ69G5FAV']), 0).stdout).toBe(
      `No attempts of delivery dlv_01ARZ3NDEKTSV4RRFFQ69G5FAV in the log of webhook ${hook.id}.\n`,
    );
    await cli(s.config, ['webhooks', 'rm', hook.id]);
  });

  it('--follow prints each new attempt as it is made, and stops on Ctrl-C', async () => {
    const r = await s.receiver();
    const hook = await s.createWebhook(r.url, '--event', 'honeypot.hit');
    expectExit(await cli(s.config, ['events', 'publish'], { input: JSON.stringify({ event: 'honeypot.hit', id: `before-${randomUUID()}`, data: {} }) }), 0);
    await r.waitFor(1);
    await eventually('the first attempt in the log', async () => ((await s.tenant.get(`${WEBHOOKS}/${hook.id}/deliveries`)).json.items.length > 0 ? true : undefined));

    const follow = startCli(s.config, ['deliveries', 'ls', '--follow', '--json']);
    try {
      // The attempt made before it started comes first: once it is printed, the CLI is following.
      await follow.waitForLine('the earlier attempt', (line) => line.includes('"before-'));
      const id = `followed-${randomUUID()}`;
      expectExit(await cli(s.config, ['events', 'publish'], { input: JSON.stringify({ event: 'honeypot.hit', id, data: { port: 22 } }) }), 0);
      const lines = await follow.waitForLine('the new attempt', (line) => line.includes(id));
      const attempt = JSON.parse(lines.find((line) => line.includes(id))!);
      expect(attempt).toMatchObject({ webhook_id: hook.id, event_id: id, event: 'honeypot.hit', success: true, status_code: 200, attempt: 1 });
      // Each attempt is printed once: the earlier one was not printed again by the poll that found the new one.
      expect(lines.filter((line) => line.includes(id))).toHaveLength(1);
      expect(lines.filter((line) => line.includes('"before-'))).toHaveLength(1);
    } finally {
      expect(await follow.stop('SIGINT')).toBe(0);
    }
    expect(follow.stderr()).toBe('');
    await cli(s.config, ['webhooks', 'rm', hook.id]);
  });

  it('--follow ends quietly with exit 0 once what reads it stops reading (| head)', async () => {
    const r = await s.receiver();
    const hook = await s.createWebhook(r.url, '--event', 'honeypot.hit');
    expectExit(await cli(s.config, ['events', 'publish'], { input: JSON.stringify({ event: 'honeypot.hit', id: `before-${randomUUID()}`, data: {} }) }), 0);
    await eventually('the first attempt in the log', async () => ((await s.tenant.get(`${WEBHOOKS}/${hook.id}/deliveries`)).json.items.length > 0 ? true : undefined));

    const follow = startCli(s.config, ['deliveries', 'ls', hook.id, '--follow']);
    try {
      await follow.waitForLine('the earlier attempt', (line) => line.includes('honeypot.hit'));
      follow.stopReading();
      // The next attempt's line meets a pipe without a reader.
      expectExit(await cli(s.config, ['events', 'publish'], { input: JSON.stringify({ event: 'honeypot.hit', id: `after-${randomUUID()}`, data: {} }) }), 0);
      expect(await follow.exited).toBe(0);
      expect(follow.stderr()).toBe('');
    } finally {
      await follow.stop('SIGINT');
    }
    await cli(s.config, ['webhooks', 'rm', hook.id]);
  });
});

describe('recover', () => {
  it('queues another attempt of the deliveries that failed since a duration ago', async () => {
    const r = await s.receiver(500);
    const hook = await s.createWebhook(r.url, '--event', 'cve.matched');
    const id = `recover-${randomUUID()}`;
    expectExit(await cli(s.config, ['events', 'publish'], { input: JSON.stringify({ event: 'cve.matched', id, data: {} }) }), 0);
    await r.waitFor(1);
    r.setStatus(200);

    // The delivery is `failed` just after its attempt is logged: ask until the CLI finds it.
    const recovered = await eventually('recover to queue the failed delivery', async () => {
      const result = expectExit(await cli(s.config, ['recover', '--since', '10m', '--webhook', hook.id, '--json']), 0);
      return result.json.queued > 0 ? result.json : undefined;
    });
    expect(recovered).toMatchObject({ queued: 1, webhooks: [{ id: hook.id, queued: 1 }] });
    expect(Date.parse(recovered.since)).toBeLessThan(Date.now() - 9 * 60_000);
    const [, again] = await r.waitFor(2);
    expect(again!.json.id).toBe(id);

    // Over every webhook, as a table: nothing is left to recover for this one.
    const table = expectExit(await cli(s.config, ['recover', '--since', new Date(Date.now() - 600_000).toISOString()]), 0).stdout;
    expect(table).toMatch(new RegExp(`^${hook.id}\\s+0\\s+${r.url}/$`, 'm'));
    expect(table).toMatch(/^Queued \d+ failed deliver(y|ies) since \S+Z for another attempt\.$/m);
    await cli(s.config, ['webhooks', 'rm', hook.id]);
  });
});
