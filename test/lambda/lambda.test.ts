/**
 * The Lambda suite (issue 9): the stack is synthesized once with bundling, and every function's
 * bundle from the cloud assembly runs as Lambda runs it (a warm Node process per function, the
 * template's Handler and environment, `Ref`s resolved to stand-ins) with only its role's
 * permissions: each AWS call passes an IAM proxy that checks it against the template. The flows
 * of the contract are driven through the bundles only, with the events API Gateway, the SQS
 * event source mappings and EventBridge Scheduler build. Any AccessDenied fails the
 * test it happens in; the grants no call used are printed at the end.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Message } from '@aws-sdk/client-sqs';
import type { HooklineSettings } from '../../infra/stack/settings.ts';
import { SCHEDULER_FROM_SECONDS } from '../../shared/adapters/aws/ladder-retry-scheduler.ts';
import { ENV } from '../../shared/config.ts';
import { LOG_SHARDS } from '../../shared/adapters/aws/tables.ts';
import { shardOf } from '../../shared/domain/ids.ts';
import { METRIC, METRICS_NAMESPACE } from '../../shared/domain/metric-names.ts';
import { RATE_LIMIT_CACHE_MS } from '../../shared/usecases/rate-limits.ts';
import { KEY_CACHE_MS } from '../../shared/usecases/tenants.ts';
import { verifyHex, verifyStandardWebhooks, WEBHOOKS } from '../support/hookline.ts';
import { startReceiver, type Receiver } from '../support/receiver.ts';
import { eventually } from '../support/runtime.ts';
import { unusedGrantsTable, withoutGrant } from './grants.ts';
import { Harness, type ApiClient } from './harness.ts';
import { describeDenial } from './iam.ts';
import type { CallMeter } from './iam-proxy.ts';
import { sqsRecord } from './sqs-mapping.ts';
import { synthesize } from './synth.ts';
import { newTenant, newWebhook, publish, type SuiteTenant } from './tenant-api.ts';
import { StackModel } from './template.ts';

const ADMIN_KEY = `hkadm_${randomBytes(24).toString('base64url')}`;
const SENDER = 'hooks@example.com';
const PUBLIC_URL = 'https://hooks.example.com';
/**
 * The last rung (3 h) is past SCHEDULER_FROM_SECONDS: it goes through EventBridge Scheduler. (A
 * shorter long rung hops through the deliveries queue 15 minutes at a time, in real time on fauxqs.)
 */
const RETRY_DELAYS = [0, 1, 3 * 3600];
const SETTINGS: HooklineSettings = {
  retryDelaysSeconds: RETRY_DELAYS,
  senderEmail: SENDER,
  publicUrl: PUBLIC_URL,
  // The receivers are on 127.0.0.1; on AWS private targets are refused.
  allowPrivateTargets: true,
  // The delivery log split over two tables: every bundle that uses the log must find each
  // attempt in its shard's table, under grants on both.
  logTables: 2,
};

let dir: string;
let model: StackModel;
let h: Harness;
let admin: ApiClient;
const receivers: Receiver[] = [];
let denialsSeen = 0;
let errorsSeen = 0;

async function receiver(status = 200): Promise<Receiver> {
  const r = await startReceiver({ status });
  receivers.push(r);
  return r;
}

const logicalIdOf = (type: string, pathFragment: string) => model.findByPath(type, pathFragment);

type EmfLine = { _aws: { CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string; Unit: string }[] }[] } } & Record<string, unknown>;
/** The first CloudWatch EMF line in function `fn`'s logs that carries `metric` (and matches `also`). */
const emfLine = (fn: string, metric: string, also: (doc: EmfLine) => boolean = () => true) =>
  eventually(`${metric} in ${fn}'s logs`, async () =>
    h.functions
      .get(fn)!
      .container.logs.filter((line) => line.startsWith('{"_aws"'))
      .map((line) => JSON.parse(line) as EmfLine)
      .find((doc) => metric in doc && also(doc)),
  );

/**
 * The messages the bundles send to SQS, as sent: fauxqs keeps a standard queue's MessageGroupId
 * but does not return it, so the fair-queue groups are read from the requests.
 */
const sqsSends: { principal: string; queueUrl: string; groupIds: (string | undefined)[] }[] = [];
const recordSqsSends: CallMeter = {
  async begin(principal, call, body) {
    if (call.service === 'sqs' && call.protocol === 'json' && (call.operation === 'SendMessage' || call.operation === 'SendMessageBatch')) {
      const input = JSON.parse(body.toString('utf8')) as { QueueUrl: string; MessageGroupId?: string; Entries?: { MessageGroupId?: string }[] };
      const entries = call.operation === 'SendMessage' ? [input] : (input.Entries ?? []);
      sqsSends.push({ principal, queueUrl: input.QueueUrl, groupIds: entries.map((e) => e.MessageGroupId) });
    }
    return undefined;
  },
};

/** The admin key in its secret (as the platform team would read it after the deploy), SES verified for the sender. */
const harnessOptions = (m: StackModel) => ({
  secretValues: { [m.physicalName(m.findByPath('AWS::SecretsManager::Secret', '/AdminApiKey/'))]: ADMIN_KEY },
  verifiedIdentities: [SENDER],
  meter: { calls: recordSqsSends },
});

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'hookline-lambda-'));
  model = await synthesize(join(dir, 'cdk.out'), 'Hookline', SETTINGS);
  h = await Harness.start(model, harnessOptions(model));
  admin = h.api(ADMIN_KEY);
  await h.warm();
}, 180_000);

afterEach(() => {
  if (!h) return;
  // A call the role does not allow fails on AWS the same way: the suite fails with it.
  const denials = h.log.denials.slice(denialsSeen);
  const errors = h.functionErrors.slice(errorsSeen);
  denialsSeen = h.log.denials.length;
  errorsSeen = h.functionErrors.length;
  if (denials.length > 0 || errors.length > 0) {
    const lines = [...denials.map((d) => `AccessDenied: ${describeDenial(d)}`), ...errors.map((e) => `function error in an event source mapping: ${e}`)];
    throw new Error(`${lines.join('\n')}${errors.length > 0 ? `\n${h.logs()}` : ''}`);
  }
});

afterAll(async () => {
  if (h) {
    const inits = [...h.functions.values()].map((f) => `${f.spec.name} ${f.container.coldStarts.map((ms) => `${ms} ms`).join(', ') || '-'}`);
    console.log(`${unusedGrantsTable(h.unusedGrants())}\n\nCold starts (bundle import; all started at once, on this machine): ${inits.join('; ')}`);
  }
  await Promise.all(receivers.map((r) => r.close()));
  await h?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 30_000);

describe('the bundles, run as Lambda runs them, under their roles', () => {
  let tenant: SuiteTenant;

  it('reads the admin key from its secret, creates a tenant; a registered webhook gets a published event, fanned out, dispatched and signed', async () => {
    expect((await h.api('hkadm_wrong-key-wrong-key-wrong-key').post('/admin/v1/tenants', { name: 'x', owner_email: 'x@example.com' })).status).toBe(401);
    tenant = await newTenant(h, ADMIN_KEY);
    const r = await receiver();
    const webhook = await newWebhook(h, tenant.api, { url: `${r.url}/hooks`, events: ['scan.*'] });
    expect(webhook.secret).toMatch(/^whsec_/);

    const [eventId] = await publish(h, tenant.api, { event: 'scan.completed', data: { scan_id: 'scn_1', hosts: 12 } });
    const [request] = await r.waitFor(1);
    expect(request!.json).toMatchObject({ id: eventId, event: 'scan.completed', tenant_id: tenant.id, data: { scan_id: 'scn_1', hosts: 12 } });
    expect(verifyStandardWebhooks(request!, webhook.secret)).toBeDefined();
    expect(verifyHex(request!, webhook.secret)).toBe(true);
    expect(request!.headers['webhook-id']).toBe(eventId);

    const log = await eventually('the attempt in the deliveries log', async () => {
      const res = await tenant.api.get(`${WEBHOOKS}/${webhook.id}/deliveries?page=1&per_page=25`);
      return res.status === 200 && res.json.items.length > 0 ? res.json.items : undefined;
    });
    expect(log[0]).toMatchObject({ event_id: eventId, attempt: 1, success: true, status_code: 200 });
  });

  it('writes the business metrics as CloudWatch EMF lines: ingest counts the event, the dispatcher the delivery and its latency', async () => {
    const r = await receiver();
    await newWebhook(h, tenant.api, { url: `${r.url}/metrics`, events: ['scan.completed'] });
    await publish(h, tenant.api, { event: 'scan.completed', data: { scan_id: 'scn_metrics', hosts: 1 } });
    await r.waitFor(1);
    const published = await emfLine('ingest', METRIC.eventsPublished);
    expect(published._aws.CloudWatchMetrics).toEqual([{ Namespace: METRICS_NAMESPACE, Dimensions: [[]], Metrics: [{ Name: METRIC.eventsPublished, Unit: 'Count' }] }]);
    const delivered = await emfLine('dispatcher', METRIC.deliveriesSucceeded);
    expect(delivered._aws.CloudWatchMetrics[0]).toMatchObject({ Namespace: METRICS_NAMESPACE, Dimensions: [[]] });
    expect(delivered._aws.CloudWatchMetrics[0]!.Metrics).toEqual(
      expect.arrayContaining([
        { Name: METRIC.deliveriesSucceeded, Unit: 'Count' },
        { Name: METRIC.deliveryLatency, Unit: 'Milliseconds' },
      ]),
    );
    expect(delivered).not.toHaveProperty('service');
  });

  it('accepts an event published again with the same id and delivers it once', async () => {
    const r = await receiver();
    await newWebhook(h, tenant.api, { url: `${r.url}/once`, events: ['cve.matched'] });
    const event = { id: `cve-${randomBytes(4).toString('hex')}`, event: 'cve.matched', data: { cve: 'CVE-2024-0001' } };
    expect(await publish(h, tenant.api, event)).toEqual([event.id]);
    await r.waitFor(1);
    expect(await publish(h, tenant.api, event)).toEqual([event.id]);
    await h.settle();
    expect(r.requests).toHaveLength(1);
  });

  it("writes each attempt to its shard's table of the split delivery log (logTables: 2), and the log lists them from both", async () => {
    const r = await receiver();
    const webhook = await newWebhook(h, tenant.api, { url: `${r.url}/split`, events: ['device.discovered'] });
    const from = h.log.calls.length;
    const events = Array.from({ length: 12 }, (_, i) => ({ id: `split-${i}-${randomBytes(3).toString('hex')}`, event: 'device.discovered', data: { ip: `10.0.0.${i}` } }));
    expect(await publish(h, tenant.api, { events })).toHaveLength(12);
    await r.waitFor(12);
    await h.settle();
    const listed = (await tenant.api.get(`${WEBHOOKS}/${webhook.id}/deliveries?per_page=50`)).json.items as { delivery_id: string; success: boolean }[];
    expect(listed).toHaveLength(12);
    expect(listed.every((a) => a.success)).toBe(true);
    // Shard s of the webhook's log is in table s mod 2, in the order of the stack's tables.
    const tables = ['/Attempts/', '/Attempts2/'].map((path) => model.physicalName(model.findByPath('AWS::DynamoDB::Table', path)));
    const homes = new Set(listed.map((a) => tables[shardOf(a.delivery_id, LOG_SHARDS) % tables.length]!));
    const written = new Set(
      h.log.calls.slice(from).filter((c) => c.principal === 'dispatcher' && c.action === 'dynamodb:PutItem' && c.allowed).map((c) => c.resource.split('/').at(-1)!)
        .filter((name) => tables.includes(name)),
    );
    expect([...written].sort()).toEqual([...homes].sort());
  });

  it("sends every events and deliveries message with its tenant as MessageGroupId, so each queue is an SQS fair queue", async () => {
    const r = await receiver();
    const other = await newTenant(h, ADMIN_KEY, `fair-queue-${randomBytes(3).toString('hex')}`);
    const queueName = (url: string) => url.split('/').at(-1)!;
    const queues = { events: queueName(h.mappings.get('fanout')!.options.queueUrl), deliveries: queueName(h.mappings.get('dispatcher')!.options.queueUrl) };
    const from = sqsSends.length;
    for (const t of [tenant, other]) {
      await newWebhook(h, t.api, { url: `${r.url}/fair-${t.id}`, events: ['rogue.detected'] });
      await publish(h, t.api, { event: 'rogue.detected', data: { mac: '00:11:22:33:44:55' } });
    }
    await r.waitFor(2);
    await h.settle();
    const sent = sqsSends.slice(from);
    const groups = (principal: string, queue: string) => sent.filter((s) => s.principal === principal && queueName(s.queueUrl) === queue).flatMap((s) => s.groupIds);
    expect(groups('ingest', queues.events).sort()).toEqual([tenant.id, other.id].sort());
    expect(groups('fanout', queues.deliveries).sort()).toEqual([tenant.id, other.id].sort());
  });

  it('lists event types, reads, lists, changes and deletes webhooks', async () => {
    const r = await receiver();
    expect((await tenant.api.get('/api/v1/event-types')).json.items.map((t: { type: string }) => t.type)).toContain('scan.completed');
    const webhook = await newWebhook(h, tenant.api, { url: `${r.url}/a`, events: ['alert.*'], secret: 'a-secret-of-the-tenant' });
    expect(webhook.secret).toBeUndefined();
    expect((await tenant.api.get(`${WEBHOOKS}/${webhook.id}`)).json).toMatchObject({ id: webhook.id, events: ['alert.*'] });
    const patched = await tenant.api.patch(`${WEBHOOKS}/${webhook.id}`, { description: 'alerts', events: ['alert.created'] });
    expect(patched.status).toBe(200);
    expect(patched.json).toMatchObject({ description: 'alerts', events: ['alert.created'] });
    const list = await tenant.api.get(`${WEBHOOKS}?per_page=1`);
    expect(list.status).toBe(200);
    expect(list.json).toMatchObject({ per_page: 1, has_more: true });
    expect((await tenant.api.del(`${WEBHOOKS}/${webhook.id}`)).status).toBe(204);
    expect((await tenant.api.get(`${WEBHOOKS}/${webhook.id}`)).status).toBe(404);
  });

  it('POST .../test sends a signed webhook.test event now and logs the attempt', async () => {
    const r = await receiver();
    const webhook = await newWebhook(h, tenant.api, { url: `${r.url}/test`, events: ['scan.completed'] });
    const res = await tenant.api.post(`${WEBHOOKS}/${webhook.id}/test`);
    expect(r.requests).toHaveLength(1);
    expect(r.requests[0]!.json).toMatchObject({ event: 'webhook.test', tenant_id: tenant.id });
    expect(verifyStandardWebhooks(r.requests[0]!, webhook.secret)).toBeDefined();
    // Sent and logged by the webhook-test bundle, under its own role (the webhooks API's may not PutItem on attempts).
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ delivered: true, status_code: 200 });
    expect(h.log.calls.some((c) => c.principal === 'webhook-test' && c.action === 'dynamodb:PutItem' && /Attempts/.test(c.resource) && c.allowed)).toBe(true);
    const log = await tenant.api.get(`${WEBHOOKS}/${webhook.id}/deliveries`);
    expect(log.json.items).toEqual([expect.objectContaining({ event: 'webhook.test', trigger: 'test', success: true })]);
  });

  it('rotates a secret: the new one signs, the old one still verifies during the grace period', async () => {
    const r = await receiver();
    const webhook = await newWebhook(h, tenant.api, { url: `${r.url}/rotate`, events: ['device.*'] });
    const rotated = await tenant.api.post(`${WEBHOOKS}/${webhook.id}/rotate-secret`, { grace_period_seconds: 3600 });
    expect(rotated.status).toBe(200);
    expect(rotated.json.secret).toMatch(/^whsec_/);
    await publish(h, tenant.api, { event: 'device.offline', data: { device: 'sw-1' } });
    const [request] = await r.waitFor(1);
    expect(String(request!.headers['webhook-signature']).split(' ')).toHaveLength(2);
    expect(verifyStandardWebhooks(request!, rotated.json.secret)).toBeDefined();
    expect(verifyStandardWebhooks(request!, webhook.secret)).toBeDefined();
    expect(verifyHex(request!, rotated.json.secret)).toBe(true);
  });

  it("sends a verification link by SESv2 from the webhooks API to an owner address that is not the tenant's; opening it verifies the address", async () => {
    const r = await receiver();
    const webhook = await newWebhook(h, tenant.api, { url: `${r.url}/owner`, events: ['backup.*'] });
    const patched = await tenant.api.patch(`${WEBHOOKS}/${webhook.id}`, { owner_email: 'oncall@acme.example' });
    expect(patched.status).toBe(200);
    expect(patched.json.owner_email_verified).toBe(false);
    const email = await eventually('the verification email', async () => h.fakes.ses.sent.find((e) => e.to.includes('oncall@acme.example')));
    expect(email).toMatchObject({ from: SENDER, sentBy: 'webhooks-api' });
    const link = new RegExp(`${PUBLIC_URL.replace(/\./g, '\\.')}(/api/v1/email-verifications/\\S+)`).exec(email.text);
    expect(link).not.toBeNull();
    const opened = await h.api().get(link![1]!);
    expect(opened.status).toBe(200);
    expect(opened.json).toMatchObject({ webhook_id: webhook.id, owner_email_verified: true });
  });

  it('GET /openapi.json is served by its bundle, which calls no AWS service', async () => {
    const res = await h.api().get('/openapi.json');
    expect(res.status).toBe(200);
    expect(res.json.openapi).toMatch(/^3\./);
    expect(Object.keys(res.json.paths)).toEqual(expect.arrayContaining(['/v1/events', WEBHOOKS]));
    expect(h.log.calls.filter((c) => c.principal === 'openapi')).toEqual([]);
  });

  it('makes a portal session (its signing key created in Secrets Manager on first use) whose token lists the webhooks in its scope; the openapi bundle serves the page', async () => {
    const r = await receiver();
    const webhook = await newWebhook(h, tenant.api, { url: `${r.url}/portal`, events: ['scan.*'] });
    const made = await tenant.api.post('/api/v1/portal-sessions', { webhook_ids: [webhook.id], read_only: true });
    expect(made.status).toBe(201);
    expect(made.json.url).toMatch(new RegExp(`^${PUBLIC_URL.replace(/\./g, '\\.')}/portal#token=pst_`));
    const portal = h.api(new URL(made.json.url).hash.slice('#token='.length));
    const listed = await portal.get(WEBHOOKS);
    expect(listed.status).toBe(200);
    expect(listed.json.items.map((w: { id: string }) => w.id)).toEqual([webhook.id]);
    expect((await portal.patch(`${WEBHOOKS}/${webhook.id}`, { description: 'no' })).status).toBe(403);
    // The webhook-test bundle checks the token too (the key and the session under its own role): read-only, no test event.
    expect((await portal.post(`${WEBHOOKS}/${webhook.id}/test`)).status).toBe(403);
    expect(r.requests).toHaveLength(0);
    expect((await tenant.api.del(`/api/v1/portal-sessions/${made.json.id}`)).status).toBe(204);
    // Another container may trust the session for up to 30 s; the one that revoked it forgets it at once.
    const page = await h.api().get('/portal');
    expect(page.status).toBe(200);
    expect(page.text).toContain('portal/portal.js');
    // The build ships every module the page imports beside the bundle.
    for (const file of ['portal.js', 'portal-session.js', 'portal-deliveries.js', 'portal-form.js', 'portal.css']) expect((await h.api().get(`/portal/${file}`)).status).toBe(200);
  });

  it('answers GET /healthz, and an unknown path with a 404 in the contract\'s JSON error shape', async () => {
    expect(await h.api().get('/healthz')).toMatchObject({ status: 200, json: { status: 'ok' } });
    const unknown = await h.api().get('/no/such/route');
    expect(unknown.status).toBe(404);
    expect(unknown.json).toEqual({ error: expect.any(String) });
  });

  // The tests below move the containers' clocks forward (never back). Standard Webhooks
  // verification checks a signature's timestamp against the real time, so it is done above.
  describe('a webhook that keeps failing', () => {
    let r: Receiver;
    let webhook: any;
    let deliveryId: string;

    it('is retried on the ladder: at once, after 1 s through SQS, after 3 h through an EventBridge Scheduler schedule; then it is failing, with exactly one SESv2 email', async () => {
      r = await receiver(500);
      // An owner address not yet verified: the failure email goes to the tenant's own address.
      webhook = await newWebhook(h, tenant.api, { url: `${r.url}/failing`, events: ['scan.failed'], owner_email: 'unverified@acme.example' });
      const [eventId] = await publish(h, tenant.api, { event: 'scan.failed', data: { reason: 'timeout' } });
      await r.waitFor(2);

      const schedule = await eventually('the retry schedule of attempt 3', async () =>
        h.fakes.scheduler.list().find((s) => JSON.parse(s.target.Input ?? '{}').event_id === eventId),
      );
      const input = JSON.parse(schedule.target.Input!);
      deliveryId = input.delivery_id;
      expect(input).toMatchObject({ webhook_id: webhook.id, attempt: 3 });
      expect(schedule).toMatchObject({
        group: model.physicalName(logicalIdOf('AWS::Scheduler::ScheduleGroup', '/Retries/')),
        actionAfterCompletion: 'DELETE',
        createdBy: 'dispatcher',
        target: {
          Arn: model.arnOf(logicalIdOf('AWS::SQS::Queue', '/DeliveriesQueue/')),
          RoleArn: model.arnOf(logicalIdOf('AWS::IAM::Role', '/SchedulerRole/')),
          DeadLetterConfig: { Arn: model.arnOf(logicalIdOf('AWS::SQS::Queue', '/SchedulerDLQ/')) },
        },
      });
      // Never early: the schedule fires at or after the rung, and the message says when it is due.
      expect(RETRY_DELAYS[2]).toBeGreaterThan(SCHEDULER_FROM_SECONDS);
      const firstAttemptAt = Number(r.requests[0]!.headers['webhook-timestamp']) * 1000;
      expect(schedule.at!.getTime()).toBeGreaterThanOrEqual(firstAttemptAt + (RETRY_DELAYS[1]! + RETRY_DELAYS[2]!) * 1000 - 1000);
      expect(Date.parse(input.not_before)).toBeLessThanOrEqual(schedule.at!.getTime());
      expect(r.requests).toHaveLength(2);

      await h.fire(schedule);
      const requests = await r.waitFor(3);
      expect(Number(requests[2]!.headers['webhook-timestamp']) * 1000 - firstAttemptAt).toBeGreaterThanOrEqual(RETRY_DELAYS[2]! * 1000);

      await eventually('the webhook to be failing', async () => ((await tenant.api.get(`${WEBHOOKS}/${webhook.id}`)).json.status === 'failing' ? true : undefined));
      await h.settle();
      const emails = h.fakes.ses.sent.filter((e) => e.sentBy === 'dispatcher' && e.text.includes(webhook.id));
      expect(emails).toHaveLength(1);
      expect(emails[0]).toMatchObject({ from: SENDER, to: [tenant.ownerEmail], sentBy: 'dispatcher' });
      expect(h.fakes.scheduler.list().filter((s) => s.name === schedule.name)).toEqual([]);

      const failed = await emfLine('dispatcher', METRIC.attemptsFailed, (doc) => doc.Outcome === 'status');
      expect(failed._aws.CloudWatchMetrics).toEqual([{ Namespace: METRICS_NAMESPACE, Dimensions: [['Outcome'], []], Metrics: [{ Name: METRIC.attemptsFailed, Unit: 'Count' }] }]);
      expect((await emfLine('dispatcher', METRIC.webhooksFailing))._aws.CloudWatchMetrics[0]!.Dimensions).toEqual([[]]);
      expect((await emfLine('dispatcher', METRIC.emailsSent))._aws.CloudWatchMetrics[0]!.Dimensions).toEqual([[]]);
    });

    it('gets one more attempt on a manual retry, and recover brings the failed delivery through: healthy again', async () => {
      const since = new Date(h.now().getTime() - 3_600_000).toISOString();
      const retried = await tenant.api.post(`${WEBHOOKS}/${webhook.id}/deliveries/${deliveryId}/retry`);
      expect(retried.status).toBe(202);
      expect(retried.json).toMatchObject({ delivery_id: deliveryId, attempt: 4 });
      await r.waitFor(4);
      await h.settle();
      expect((await tenant.api.get(`${WEBHOOKS}/${webhook.id}`)).json.status).toBe('failing');
      expect(h.fakes.ses.sent.filter((e) => e.sentBy === 'dispatcher' && e.text.includes(webhook.id))).toHaveLength(1);

      r.setStatus(200);
      const recovered = await tenant.api.post(`${WEBHOOKS}/${webhook.id}/recover`, { since });
      expect(recovered.status).toBe(202);
      expect(recovered.json).toEqual({ queued: 1 });
      await r.waitFor(5);
      await eventually('the webhook to be healthy', async () => ((await tenant.api.get(`${WEBHOOKS}/${webhook.id}`)).json.status === 'healthy' ? true : undefined));

      // The delivery's whole history, through the webhooks-api bundle under its role: one log partition, paged.
      const history = `${WEBHOOKS}/${webhook.id}/deliveries?delivery_id=${deliveryId}`;
      const all = await eventually('its five attempts', async () => {
        const items = (await tenant.api.get(`${history}&per_page=100`)).json.items as { attempt: number }[];
        return items.length === 5 ? items : undefined;
      });
      expect(all.map((a) => a.attempt)).toEqual([5, 4, 3, 2, 1]);
      const first = (await tenant.api.get(`${history}&per_page=2`)).json;
      expect(first.items.map((a: { attempt: number }) => a.attempt)).toEqual([5, 4]);
      const second = (await tenant.api.get(`${history}&per_page=2&cursor=${first.next_cursor}`)).json;
      expect(second.items.map((a: { attempt: number }) => a.attempt)).toEqual([3, 2]);
    });
  });

  it('a deliveries message carries its event, and one received again (its delete lost) is not sent again: its attempt is in the delivery log', async () => {
    const r = await receiver();
    const webhook = await newWebhook(h, tenant.api, { url: `${r.url}/again`, events: ['honeypot.hit'] });
    const dispatcher = h.mappings.get('dispatcher')!;
    await h.settle();
    await dispatcher.pause();
    try {
      const [eventId] = await publish(h, tenant.api, { event: 'honeypot.hit', data: { ip: '203.0.113.9' } });
      const container = h.fn('dispatcher').container;
      const calls = h.log.calls.length;
      const dispatcherCalls = (action: string, table: RegExp) => h.log.calls.slice(calls).filter((c) => c.principal === 'dispatcher' && c.action === action && table.test(c.resource) && c.allowed);
      const invoke = (m: Message) => container.invoke({ Records: [sqsRecord(m, dispatcher.options.queueArn)] });

      const [first] = await dispatcher.take(1);
      const body = JSON.parse(first!.Body!);
      expect(body).toMatchObject({ tenant_id: tenant.id, webhook_id: webhook.id, event_id: eventId, attempt: 1, trigger: 'scheduled', event: { id: eventId, data: { ip: '203.0.113.9' } } });
      expect(await invoke(first!)).toMatchObject({ ok: true, value: { batchItemFailures: [] } });
      expect(r.requests).toHaveLength(1);
      // The delete did not reach SQS: the message comes back once its visibility timeout is over.
      await dispatcher.giveBack([first!]);
      const [again] = await dispatcher.take(1);
      expect(again!.MessageId).toBe(first!.MessageId);
      expect(again!.Attributes?.ApproximateReceiveCount).toBe('2');
      expect(await invoke(again!)).toMatchObject({ ok: true, value: { batchItemFailures: [] } });
      await dispatcher.remove([again!]);
      expect(r.requests).toHaveLength(1);
      // A first receive cannot have been attempted: only the second read the log. One entry was
      // written, and no event was read (it came in the message).
      expect(dispatcherCalls('dynamodb:GetItem', /Attempts/)).toHaveLength(1);
      expect(dispatcherCalls('dynamodb:PutItem', /Attempts/)).toHaveLength(1);
      expect(dispatcherCalls('dynamodb:GetItem', /Events/)).toEqual([]);
      const log = await tenant.api.get(`${WEBHOOKS}/${webhook.id}/deliveries`);
      expect(log.json.items).toEqual([expect.objectContaining({ delivery_id: body.delivery_id, event_id: eventId, attempt: 1, success: true })]);
    } finally {
      dispatcher.resume();
    }
  });

  it('the per-webhook limit holds across two dispatcher containers (a DynamoDB lease, with only the calls the role allows); the rest waits its turn', async () => {
    const LIMIT = 2;
    const HOLD_MS = 3000;
    const owner = await newTenant(h, ADMIN_KEY);
    const r = await receiver();
    r.setResponder(() => ({ delayMs: HOLD_MS }));
    const webhook = await newWebhook(h, owner.api, { url: `${r.url}/limited`, events: ['scan.completed'] });
    const dispatcher = h.mappings.get('dispatcher')!;
    await h.settle();
    await dispatcher.pause();
    try {
      const ids = await publish(h, owner.api, { events: Array.from({ length: 4 }, (_, i) => ({ event: 'scan.completed', data: { i } })) });
      // The fan-out's four messages, taken off the queue as Lambda's pollers would.
      const messages = await dispatcher.take(4);
      const byEvent = new Map(messages.map((m) => [JSON.parse(m.Body!).event_id as string, m]));
      expect([...byEvent.keys()].sort()).toEqual([...ids].sort());
      expect(new Set(messages.map((m) => JSON.parse(m.Body!).webhook_id))).toEqual(new Set([webhook.id]));
      // Two batches of two, handed to two containers at once.
      const record = (eventId: string) => sqsRecord(byEvent.get(eventId)!, dispatcher.options.queueArn);
      const env = { [ENV.maxConcurrentPerWebhook]: String(LIMIT) };
      const containers = [h.scaleOut('dispatcher', env), h.scaleOut('dispatcher', env)];
      await Promise.all(containers.map((c) => c.warm()));

      const results = await Promise.all(containers.map((c, i) => c.invoke({ Records: ids.slice(2 * i, 2 * i + 2).map(record) })));
      expect(results).toEqual([expect.objectContaining({ ok: true, value: { batchItemFailures: [] } }), expect.objectContaining({ ok: true, value: { batchItemFailures: [] } })]);
      await dispatcher.remove(messages);
      // Each container would have sent both of its records with a limit of its own: 4 at once.
      expect(r.requests).toHaveLength(LIMIT);
      const open = (at: number) => r.requests.filter((q) => q.receivedAt <= at && at < q.receivedAt + HOLD_MS).length;
      expect(Math.max(...r.requests.map((q) => open(q.receivedAt)))).toBe(LIMIT);
      const leaseCalls = h.log.calls.filter((c) => c.principal === 'dispatcher' && /Tenants/.test(c.resource));
      expect(new Set(leaseCalls.map((c) => c.action))).toEqual(new Set(['dynamodb:GetItem', 'dynamodb:UpdateItem']));

      // The two that found the webhook at its limit were sent round again, and are delivered
      // (each once).
      r.setResponder(undefined);
      dispatcher.resume();
      const delivered = await r.waitFor(4, 20_000);
      expect(new Set(delivered.map((q) => q.json.id))).toEqual(new Set(ids));
      await h.settle();
      expect(r.requests).toHaveLength(4);
    } finally {
      dispatcher.resume();
    }
  }, 60_000);

  it("a tenant over its own rate limit gets 429 + Retry-After while another tenant is served; the admin API raises the limit and it passes", async () => {
    const noisy = await newTenant(h, ADMIN_KEY);
    const calm = await newTenant(h, ADMIN_KEY);
    const limitPath = `/admin/v1/tenants/${noisy.id}/rate-limit`;
    expect(await admin.get(limitPath)).toMatchObject({ status: 200, json: { tenant_id: noisy.id, requests_per_second: 100, burst: 200, source: 'default' } });
    expect((await admin.request('PUT', limitPath, { requests_per_second: 0 })).status).toBe(400);
    expect((await admin.request('PUT', limitPath, { requests_per_second: 5, burst: 2 })).status).toBe(400);
    expect((await admin.request('PUT', '/admin/v1/tenants/ten_nobody/rate-limit', { requests_per_second: 5 })).status).toBe(404);
    expect((await admin.get('/admin/v1/tenants/ten_nobody/rate-limit')).status).toBe(404);
    // Five requests, then one a second: windows of 5 s, shared by publishing and the webhooks API.
    const lowered = await admin.request('PUT', limitPath, { requests_per_second: 1, burst: 5 });
    expect(lowered).toMatchObject({ status: 200, json: { tenant_id: noisy.id, requests_per_second: 1, burst: 5, source: 'tenant' } });

    const burst = (tenant: SuiteTenant) =>
      Array.from({ length: 12 }, (_, i) => (i % 2 === 0 ? tenant.api.post('/v1/events', { event: 'scan.started', data: { i } }) : tenant.api.get(WEBHOOKS)));
    // The other tenant's requests are queued behind the noisy ones in the same containers.
    const [noisyAnswers, calmAnswers] = await Promise.all([Promise.all(burst(noisy)), Promise.all([calm.api.post('/v1/events', { event: 'scan.started', data: {} }), calm.api.get(WEBHOOKS)])]);
    expect(calmAnswers.map((r) => r.status)).toEqual([202, 200]);
    const refused = noisyAnswers.filter((r) => r.status === 429);
    // 12 requests in well under 5 s span at most two windows of 5.
    expect(noisyAnswers.filter((r) => r.status === 202 || r.status === 200).length).toBeGreaterThanOrEqual(5);
    expect(refused.length).toBeGreaterThanOrEqual(2);
    expect(refused.length + noisyAnswers.filter((r) => r.status < 300).length).toBe(12);
    for (const r of refused) {
      expect(r.json).toEqual({ error: expect.any(String) });
      expect(Number(r.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expect(Number(r.headers['retry-after'])).toBeLessThanOrEqual(5);
    }

    const raised = await admin.request('PUT', limitPath, { requests_per_second: 50, burst: 100 });
    expect(raised).toMatchObject({ status: 200, json: { requests_per_second: 50, burst: 100, source: 'tenant' } });
    expect((await admin.get(limitPath)).json).toMatchObject({ requests_per_second: 50, burst: 100, source: 'tenant' });
    // Each warm container reads the new limit once its cached one is stale (the documented bound).
    h.advanceClock(RATE_LIMIT_CACHE_MS + 5000);
    expect((await Promise.all(burst(noisy))).map((r) => r.status)).toEqual(Array.from({ length: 12 }, (_, i) => (i % 2 === 0 ? 202 : 200)));
  });

  it('a revoked tenant key is refused by every warm container once its cache entry is stale', async () => {
    const keys = `/admin/v1/tenants/${tenant.id}/keys`;
    const created = await admin.post(keys);
    expect(created.status).toBe(201);
    const other = h.api(created.json.api_key);
    expect((await other.get('/api/v1/event-types')).status).toBe(200);
    expect((await admin.get(keys)).json.items.map((k: { id: string }) => k.id)).toContain(created.json.id);
    expect((await admin.del(`${keys}/${created.json.id}`)).status).toBe(204);
    // A container that never saw the key reads the table: refused at once.
    expect((await other.post('/v1/events', { event: 'scan.started', data: {} })).status).toBe(401);
    // One that authenticated it trusts it for KEY_CACHE_MS (the documented bound on AWS).
    h.advanceClock(KEY_CACHE_MS + 1000);
    expect((await other.get('/api/v1/event-types')).status).toBe(401);
  });
});

describe('a template with a grant removed', () => {
  it("is caught: without the dispatcher's secretsmanager:GetSecretValue the delivery is refused AccessDenied", async () => {
    const dispatcherRole = model.functions().find((f) => f.name === 'dispatcher')!.roleLogicalId;
    const edited = new StackModel(withoutGrant(model.template, dispatcherRole, 'secretsmanager:GetSecretValue'), model.assemblyDir, model.stackName);
    const other = await Harness.start(edited, harnessOptions(edited));
    try {
      const denied = await newTenant(other, ADMIN_KEY);
      const r = await receiver();
      await newWebhook(other, denied.api, { url: `${r.url}/denied`, events: ['*'] });
      await publish(other, denied.api, { event: 'scan.started', data: {} });

      const denial = await eventually('the denial', async () => other.log.denials.find((d) => d.principal === 'dispatcher'), 20_000);
      expect(denial).toMatchObject({
        action: 'secretsmanager:GetSecretValue',
        resource: `arn:aws:secretsmanager:us-east-1:000000000000:secret:${SETTINGS.secretPrefix ?? 'hookline/'}tenants/${denied.id}-AbCdEf`,
      });
      await eventually('the batch item failure', async () => other.mappings.get('dispatcher')!.batches.find((b) => b.failed > 0));
      expect(r.requests).toHaveLength(0);
    } finally {
      await other.close();
    }
  });
});
