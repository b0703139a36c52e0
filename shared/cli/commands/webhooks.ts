/** `hookline webhooks ls|get|create|update|rm|test|rotate`: a tenant's webhooks. */
import { jsonOption, listOption, parseCommand, parseDuration } from '../args.ts';
import { WEBHOOKS_PATH, webhookPath } from '../client.ts';
import { commandGroup, type Command } from '../command.ts';
import { UsageError } from '../errors.ts';
import { printJson, printLine, printTable, shortTime, type Io } from '../output.ts';

/** The webhook object of the API (CONTRACT.md section 4), as far as the CLI shows it. */
export interface WebhookView {
  readonly id: string;
  readonly url: string;
  readonly events: string[];
  readonly active: boolean;
  readonly status: string;
  readonly description: string;
  readonly format: string;
  readonly auth: { readonly type: string };
  readonly filter?: unknown;
  readonly owner_email: string;
  readonly created_at: string;
  readonly updated_at: string;
  readonly secret?: string;
}

/** Options shared by create and update: each maps to one field of the request body. */
const FIELD_OPTIONS = {
  url: { type: 'string' },
  event: { type: 'string', short: 'e', multiple: true },
  secret: { type: 'string' },
  description: { type: 'string' },
  format: { type: 'string' },
  'owner-email': { type: 'string' },
  auth: { type: 'string' },
  filter: { type: 'string' },
} as const;

const FIELD_HELP = `  --url <url>            where events are POSTed
  -e, --event <type>     event type or pattern (scan.completed, alert.*, *); repeat or comma-separate
  --secret <secret>      signing secret (default on create: generated, shown once)
  --description <text>
  --format <format>      standard | wrapped | subject_body | data | cloudevents
  --owner-email <email>  who is emailed when the webhook fails
  --auth <json>          how the receiver authenticates us, e.g. '{"type":"bearer","token":"..."}'
  --filter <json>        conditions on the event, e.g. '{"data.severity":{"in":["high"]}}'`;

type FieldValues = { [K in keyof typeof FIELD_OPTIONS]?: (typeof FIELD_OPTIONS)[K] extends { multiple: true } ? string[] : string };

function bodyFields(values: FieldValues, usage: string): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  if (values.url !== undefined) body['url'] = values.url;
  const events = listOption(values.event);
  if (events.length > 0) body['events'] = events;
  if (values.secret !== undefined) body['secret'] = values.secret;
  if (values.description !== undefined) body['description'] = values.description;
  if (values.format !== undefined) body['format'] = values.format;
  if (values['owner-email'] !== undefined) body['owner_email'] = values['owner-email'];
  if (values.auth !== undefined) body['auth'] = jsonOption('auth', values.auth, usage);
  if (values.filter !== undefined) body['filter'] = jsonOption('filter', values.filter, usage);
  return body;
}

const lsUsage = `Usage: hookline webhooks ls [--json]

Lists every webhook of the tenant (all pages), oldest first.`;

const ls: Command = {
  name: 'ls',
  summary: 'list the webhooks',
  usage: lsUsage,
  run: async (argv, ctx) => {
    const { values } = parseCommand(argv, { usage: lsUsage, options: {} });
    const webhooks = await (await ctx.client()).all<WebhookView>(WEBHOOKS_PATH);
    if (values.json) printJson(ctx.io, webhooks);
    else printWebhookTable(ctx.io, webhooks);
    return 0;
  },
};

export function printWebhookTable(io: Io, webhooks: readonly WebhookView[]): void {
  printTable(
    io,
    webhooks,
    [
      { header: 'ID', value: (w) => w.id },
      { header: 'STATUS', value: (w) => (w.active ? w.status : 'paused') },
      { header: 'EVENTS', value: (w) => w.events.join(','), maxWidth: 30 },
      { header: 'URL', value: (w) => w.url, maxWidth: 60 },
      { header: 'DESCRIPTION', value: (w) => w.description, maxWidth: 40 },
    ],
    'No webhooks yet: create one with `hookline webhooks create --url <url> --event <type>`.',
  );
}

function printWebhook(io: Io, w: WebhookView): void {
  const rows: [string, string][] = [
    ['id', w.id],
    ['url', w.url],
    ['events', w.events.join(', ')],
    ['status', w.status],
    ['active', String(w.active)],
    ['description', w.description],
    ['format', w.format],
    ['auth', w.auth.type],
    ...(w.filter === undefined ? [] : [['filter', JSON.stringify(w.filter)] as [string, string]]),
    ['owner email', w.owner_email],
    ['created', shortTime(w.created_at)],
    ['updated', shortTime(w.updated_at)],
  ];
  for (const [name, value] of rows) printLine(io, `${(name + ':').padEnd(13)}${value}`);
}

const getUsage = `Usage: hookline webhooks get <id> [--json]

Shows one webhook.`;

const get: Command = {
  name: 'get',
  summary: 'show one webhook',
  usage: getUsage,
  run: async (argv, ctx) => {
    const { values, positionals } = parseCommand(argv, { usage: getUsage, options: {}, positionals: [1, 1] });
    const webhook = await (await ctx.client()).get<WebhookView>(webhookPath(positionals[0]!));
    if (values.json) printJson(ctx.io, webhook);
    else printWebhook(ctx.io, webhook);
    return 0;
  },
};

const createUsage = `Usage: hookline webhooks create --url <url> --event <type>... [options]

Creates a webhook. Without --secret the server generates one and shows it once: keep it.

Options:
${FIELD_HELP}
  --inactive             create it paused
  --json                 print the API's answer`;

const create: Command = {
  name: 'create',
  summary: 'create a webhook (its generated secret is shown once)',
  usage: createUsage,
  run: async (argv, ctx) => {
    const { values } = parseCommand(argv, { usage: createUsage, options: { ...FIELD_OPTIONS, inactive: { type: 'boolean' } } });
    const body = bodyFields(values, createUsage);
    if (body['url'] === undefined) throw new UsageError('--url is required', createUsage);
    if (body['events'] === undefined) throw new UsageError('at least one --event is required', createUsage);
    if (values.inactive) body['active'] = false;
    const webhook = await (await ctx.client()).post<WebhookView>(WEBHOOKS_PATH, body);
    if (values.json) {
      printJson(ctx.io, webhook);
      return 0;
    }
    printLine(ctx.io, `Created webhook ${webhook.id}`);
    printWebhook(ctx.io, webhook);
    if (webhook.secret) printLine(ctx.io, `\nSecret (shown only now, keep it): ${webhook.secret}`);
    return 0;
  },
};

const updateUsage = `Usage: hookline webhooks update <id> [options]

Changes the given fields of a webhook; the others stay as they are.

Options:
${FIELD_HELP}
  --pause                stop deliveries (active: false)
  --resume               start them again (active: true)
  --no-filter            remove the filter
  --json                 print the API's answer`;

const update: Command = {
  name: 'update',
  summary: 'change, pause or resume a webhook',
  usage: updateUsage,
  run: async (argv, ctx) => {
    const { values, positionals } = parseCommand(argv, {
      usage: updateUsage,
      options: { ...FIELD_OPTIONS, pause: { type: 'boolean' }, resume: { type: 'boolean' }, 'no-filter': { type: 'boolean' } },
      positionals: [1, 1],
    });
    const body = bodyFields(values, updateUsage);
    if (values.pause && values.resume) throw new UsageError('--pause and --resume exclude each other', updateUsage);
    if (values.pause) body['active'] = false;
    if (values.resume) body['active'] = true;
    if (values['no-filter']) {
      if (values.filter !== undefined) throw new UsageError('--filter and --no-filter exclude each other', updateUsage);
      body['filter'] = null;
    }
    if (Object.keys(body).length === 0) throw new UsageError('nothing to change: give at least one option', updateUsage);
    const webhook = await (await ctx.client()).request<WebhookView>('PATCH', webhookPath(positionals[0]!), body);
    if (values.json) {
      printJson(ctx.io, webhook);
      return 0;
    }
    printLine(ctx.io, `Updated webhook ${webhook.id}`);
    printWebhook(ctx.io, webhook);
    return 0;
  },
};

const rmUsage = `Usage: hookline webhooks rm <id>... [--json]

Deletes webhooks: they receive nothing more, and their secrets are erased.`;

const rm: Command = {
  name: 'rm',
  summary: 'delete webhooks',
  usage: rmUsage,
  run: async (argv, ctx) => {
    const { values, positionals } = parseCommand(argv, { usage: rmUsage, options: {}, positionals: [1, 100] });
    const client = await ctx.client();
    for (const id of positionals) {
      await client.request('DELETE', webhookPath(id));
      if (!values.json) printLine(ctx.io, `Deleted webhook ${id}`);
    }
    if (values.json) printJson(ctx.io, { deleted: positionals });
    return 0;
  },
};

interface TestResult {
  readonly delivered: boolean;
  readonly status_code: number | null;
  readonly response_time_ms: number;
  readonly error?: string;
}

const testUsage = `Usage: hookline webhooks test <id> [--json]

Sends a webhook.test event to the webhook now and shows what came back. Exits with 1 when it
was not delivered.`;

const test: Command = {
  name: 'test',
  summary: 'send a webhook.test event now',
  usage: testUsage,
  run: async (argv, ctx) => {
    const { values, positionals } = parseCommand(argv, { usage: testUsage, options: {}, positionals: [1, 1] });
    const result = await (await ctx.client()).post<TestResult>(webhookPath(positionals[0]!, '/test'));
    const answer = result.status_code === null ? 'no response' : `HTTP ${result.status_code}`;
    if (values.json) printJson(ctx.io, result);
    else if (result.delivered) printLine(ctx.io, `Delivered: ${answer} in ${result.response_time_ms} ms`);
    else printLine(ctx.io, `Not delivered: ${answer} after ${result.response_time_ms} ms${result.error ? ` (${result.error})` : ''}`);
    return result.delivered ? 0 : 1;
  },
};

const rotateUsage = `Usage: hookline webhooks rotate <id> [--secret <secret>] [--grace <duration>] [--json]

Replaces the signing secret. Until the grace period ends, attempts carry a signature with the old
secret too, so receivers can switch over without losing a message.

Options:
  --secret <secret>    the new secret (default: generated, shown once)
  --grace <duration>   how long the old secret keeps signing: 0, 90s, 15m, 24h, 7d (default 24h)`;

const rotate: Command = {
  name: 'rotate',
  summary: 'rotate the signing secret',
  usage: rotateUsage,
  run: async (argv, ctx) => {
    const { values, positionals } = parseCommand(argv, {
      usage: rotateUsage,
      options: { secret: { type: 'string' }, grace: { type: 'string' } },
      positionals: [1, 1],
    });
    const body: Record<string, unknown> = {};
    if (values.secret !== undefined) body['secret'] = values.secret;
    if (values.grace !== undefined) body['grace_period_seconds'] = parseDuration('grace', values.grace, rotateUsage);
    const result = await (await ctx.client()).post<{ secret?: string; previous_secret_expires_at: string }>(
      webhookPath(positionals[0]!, '/rotate-secret'),
      body,
    );
    if (values.json) {
      printJson(ctx.io, result);
      return 0;
    }
    printLine(ctx.io, `Rotated the secret of webhook ${positionals[0]}.`);
    if (result.secret) printLine(ctx.io, `New secret (shown only now, keep it): ${result.secret}`);
    printLine(ctx.io, `The previous secret keeps signing until ${shortTime(result.previous_secret_expires_at)} UTC.`);
    return 0;
  },
};

export const webhooks = commandGroup('webhooks', 'manage the webhooks of your tenant', [ls, get, create, update, rm, test, rotate]);
