/**
 * `hookline deliveries ls [--follow]`, `deliveries show` (one delivery's every attempt) and
 * `deliveries retry`: the deliveries log, one
 * line per attempt. `--follow` polls the first page of each webhook's log (newest first) and
 * prints the attempts it has not printed yet; when a whole page is new it walks `next_cursor`
 * back to the last one it knows, so a burst between two polls is not cut off.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { parseCommand, parseDuration } from '../args.ts';
import { WEBHOOKS_PATH, webhookPath, type ApiClient, type Page } from '../client.ts';
import { commandGroup, type Command, type Context } from '../command.ts';
import { ApiError, UsageError } from '../errors.ts';
import { formatTable, printJson, printJsonLine, printLine, shortTime, truncate, type Column, type Io } from '../output.ts';

/** The attempt object of the API (CONTRACT.md section 4) and the webhook it belongs to. */
export interface AttemptLine {
  readonly webhook_id: string;
  readonly id: string;
  readonly delivery_id: string;
  readonly event_id: string;
  readonly event: string;
  readonly attempt: number;
  readonly trigger?: string;
  readonly success: boolean;
  readonly status_code: number | null;
  readonly response_time_ms: number;
  readonly error?: string;
  readonly attempted_at: string;
  readonly next_attempt_at?: string;
}

const PAGE = 100;
/** How many pages back a poll walks for one webhook before it stops looking for the last known attempt. */
const MAX_PAGES_PER_POLL = 10;
/** Attempt ids remembered by --follow; the oldest are forgotten first (they are far off page 1 by then). */
const MAX_REMEMBERED = 50_000;
/** Parallel requests of one poll. */
const CONCURRENCY = 4;
/** --follow waits at least this long per webhook between two polls. */
const MS_PER_WEBHOOK = 50;
/** With --follow over every webhook, the list of webhooks is read again every this many polls. */
const WEBHOOK_REFRESH_POLLS = 5;

const lsUsage = `Usage: hookline deliveries ls [<webhook id>...] [--limit <n>] [--follow [--interval <duration>]] [--json]

Shows the latest attempts of the given webhooks (default: every webhook of the tenant), oldest
first like a log: time, webhook, event, attempt number, result, latency and error.

Options:
  -n, --limit <n>         how many attempts to show (default 25)
  -f, --follow            keep running and print new attempts as they are made; Ctrl-C stops
  --interval <duration>   how often --follow asks (default 1s; at least 1s per 20 webhooks)
  --json                  a JSON array; with --follow one JSON object per line`;

const ls: Command = {
  name: 'ls',
  summary: 'show the deliveries log; --follow tails it',
  usage: lsUsage,
  run: async (argv, ctx) => {
    const { values, positionals } = parseCommand(argv, {
      usage: lsUsage,
      options: {
        limit: { type: 'string', short: 'n' },
        follow: { type: 'boolean', short: 'f' },
        interval: { type: 'string' },
      },
      positionals: [0, 100],
    });
    const limit = values.limit === undefined ? 25 : Number(values.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new UsageError('--limit must be a whole number from 1 to 1000', lsUsage);
    // At most a day: a timer past 2^31 - 1 ms fires at once, which would poll without a pause.
    const intervalMs = values.interval === undefined ? 1000 : parseDuration('interval', values.interval, lsUsage, 86_400) * 1000;
    if (values.interval !== undefined && !values.follow) throw new UsageError('--interval goes with --follow', lsUsage);
    if (values.follow && intervalMs < 1000) throw new UsageError('--interval must be at least 1s', lsUsage);

    const client = await ctx.client();
    const pinned = positionals.length > 0 ? positionals : undefined;
    const log = new DeliveryLog(client, pinned);
    const initial = await log.catchUp(limit);
    if (!values.follow) {
      if (values.json) printJson(ctx.io, initial);
      else printLine(ctx.io, initial.length === 0 ? 'No deliveries yet.' : formatTable(initial, columns(pinned)));
      return 0;
    }
    const print = values.json ? (a: AttemptLine) => printJsonLine(ctx.io, a) : streamPrinter(ctx.io, columns(pinned));
    initial.forEach(print);
    return followLog(ctx, log, intervalMs, print);
  },
};

async function followLog(ctx: Context, log: DeliveryLog, intervalMs: number, print: (a: AttemptLine) => void): Promise<number> {
  for (let poll = 1; !ctx.signal.aborted; poll++) {
    try {
      // Each poll reads one page per webhook: keep to about 20 requests a second, well under a tenant's limit.
      await sleep(Math.max(intervalMs, log.webhookCount * MS_PER_WEBHOOK), undefined, { signal: ctx.signal });
      (await log.poll(poll % WEBHOOK_REFRESH_POLLS === 0)).forEach(print);
    } catch (error) {
      if (ctx.signal.aborted) break;
      throw error;
    }
  }
  return 0;
}

/** The deliveries log of some webhooks, and which of its attempts were handed out already. */
class DeliveryLog {
  private readonly client: ApiClient;
  private readonly pinned: readonly string[] | undefined;
  private webhookIds: string[] = [];
  private readonly seen = new Set<string>();
  constructor(client: ApiClient, pinned: readonly string[] | undefined) {
    this.client = client;
    this.pinned = pinned;
  }

  get webhookCount(): number {
    return this.webhookIds.length;
  }

  /** The latest `limit` attempts, oldest first; every attempt on the pages read counts as seen. */
  async catchUp(limit: number): Promise<AttemptLine[]> {
    this.webhookIds = this.pinned ? [...this.pinned] : await this.allWebhookIds();
    const pages = await mapLimit(this.webhookIds, CONCURRENCY, async (id) => {
      const attempts: AttemptLine[] = [];
      let cursor: string | null = null;
      do {
        // A full first page even for a small limit: the next poll reads a full page 1, and
        // everything on it that is old must already be known.
        const page = await this.page(id, PAGE, cursor);
        attempts.push(...page.items);
        cursor = page.has_more ? page.next_cursor : null;
      } while (cursor && attempts.length < limit);
      return attempts;
    });
    const all = pages.flat();
    this.remember(all);
    return chronological(all).slice(-limit);
  }

  /** Attempts made since the last call, oldest first. */
  async poll(refreshWebhooks: boolean): Promise<AttemptLine[]> {
    if (refreshWebhooks && !this.pinned) this.webhookIds = await this.allWebhookIds();
    const fresh = await mapLimit(this.webhookIds, CONCURRENCY, async (id) => {
      const attempts: AttemptLine[] = [];
      let cursor: string | null = null;
      for (let pages = 0; pages < MAX_PAGES_PER_POLL; pages++) {
        let page: Page<AttemptLine>;
        try {
          page = await this.page(id, PAGE, cursor);
        } catch (error) {
          // A webhook deleted while we follow the whole tenant: stop asking for it.
          if (error instanceof ApiError && error.status === 404 && !this.pinned) {
            this.webhookIds = this.webhookIds.filter((w) => w !== id);
            return [];
          }
          throw error;
        }
        const unseen = page.items.filter((a) => !this.seen.has(a.id));
        attempts.push(...unseen);
        if (unseen.length < page.items.length || !page.has_more || !page.next_cursor) break;
        cursor = page.next_cursor;
      }
      return attempts;
    });
    const all = fresh.flat();
    this.remember(all);
    return chronological(all);
  }

  private async page(webhookId: string, perPage: number, cursor: string | null): Promise<Page<AttemptLine>> {
    const query = `per_page=${perPage}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    const page = await this.client.get<Page<Omit<AttemptLine, 'webhook_id'>>>(`${webhookPath(webhookId, '/deliveries')}?${query}`);
    return { ...page, items: page.items.map((a) => ({ webhook_id: webhookId, ...a })) };
  }

  private async allWebhookIds(): Promise<string[]> {
    return (await this.client.all<{ id: string }>(WEBHOOKS_PATH)).map((w) => w.id);
  }

  private remember(attempts: readonly AttemptLine[]): void {
    for (const a of attempts) this.seen.add(a.id);
    for (const id of this.seen) {
      if (this.seen.size <= MAX_REMEMBERED) break;
      this.seen.delete(id);
    }
  }
}

/**
 * Oldest first, in the log's own order, reversed: its key is `<delivery_id>#<attempt>`, and a
 * delivery id starts with its event's arrival time, so logs of several webhooks merge by it too.
 */
const chronological = (attempts: readonly AttemptLine[]): AttemptLine[] =>
  [...attempts].sort((a, b) => a.delivery_id.localeCompare(b.delivery_id) || a.attempt - b.attempt);

async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

const result = (a: AttemptLine): string => `${a.success ? 'ok' : 'failed'} ${a.status_code ?? '-'}`;
const note = (a: AttemptLine): string =>
  [a.error, a.next_attempt_at ? `next attempt ${shortTime(a.next_attempt_at)}` : undefined].filter(Boolean).join('; ');

/** Columns with the widths a streamed line is padded to (ids have a fixed length). */
function columns(pinned: readonly string[] | undefined): (Column<AttemptLine> & { width: number })[] {
  return [
    { header: 'TIME (UTC)', value: (a) => shortTime(a.attempted_at), width: 19 },
    // One webhook named on the command line: its id on every line says nothing.
    ...(pinned?.length === 1 ? [] : [{ header: 'WEBHOOK', value: (a: AttemptLine) => a.webhook_id, width: 29 }]),
    { header: 'EVENT', value: (a) => a.event, width: 18 },
    { header: 'EVENT ID', value: (a) => a.event_id, width: 35 },
    { header: 'DELIVERY', value: (a) => a.delivery_id, width: 35 },
    { header: '#', value: (a) => String(a.attempt), width: 2 },
    { header: 'RESULT', value: result, width: 10 },
    { header: 'MS', value: (a) => String(Math.round(a.response_time_ms)), width: 5 },
    { header: 'NOTE', value: note, width: 0, maxWidth: 60 },
  ];
}

/** Prints the header, then each attempt on its own line padded to the columns' widths. */
function streamPrinter(io: Io, cols: (Column<AttemptLine> & { width: number })[]): (a: AttemptLine) => void {
  const line = (cells: string[]) =>
    printLine(io, cells.map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(cols[i]!.width))).join('  ').trimEnd());
  line(cols.map((c) => c.header));
  return (a) => line(cols.map((c) => truncate(c.value(a).replace(/\s+/g, ' '), c.maxWidth)));
}

const showUsage = `Usage: hookline deliveries show <webhook id> <delivery id> [--json]

Shows every attempt of one delivery, oldest first: time, attempt number and what made it
(scheduled, manual, test), result, latency and error, and when the next one is due.`;

const show: Command = {
  name: 'show',
  summary: "show one delivery's every attempt",
  usage: showUsage,
  run: async (argv, ctx) => {
    const { values, positionals } = parseCommand(argv, { usage: showUsage, options: {}, positionals: [2, 2] });
    const [webhookId, deliveryId] = positionals as [string, string];
    const items = await (await ctx.client()).all<Omit<AttemptLine, 'webhook_id'>>(`${webhookPath(webhookId, '/deliveries')}?delivery_id=${encodeURIComponent(deliveryId)}`);
    const attempts = chronological(items.map((a) => ({ webhook_id: webhookId, ...a })));
    if (values.json) printJson(ctx.io, attempts);
    else if (attempts.length === 0) printLine(ctx.io, `No attempts of delivery ${deliveryId} in the log of webhook ${webhookId}.`);
    else {
      printLine(ctx.io, `Delivery ${deliveryId}: event ${attempts[0]!.event} (${attempts[0]!.event_id})`);
      printLine(ctx.io, formatTable(attempts, historyColumns));
    }
    return 0;
  },
};

const historyColumns: Column<AttemptLine>[] = [
  { header: 'TIME (UTC)', value: (a) => shortTime(a.attempted_at) },
  { header: '#', value: (a) => String(a.attempt) },
  { header: 'TRIGGER', value: (a) => a.trigger ?? '' },
  { header: 'RESULT', value: result },
  { header: 'MS', value: (a) => String(Math.round(a.response_time_ms)) },
  { header: 'NOTE', value: note, maxWidth: 80 },
];

const retryUsage = `Usage: hookline deliveries retry <webhook id> <delivery id> [--json]

Makes one more attempt of a delivery now (logged with trigger "manual").`;

const retry: Command = {
  name: 'retry',
  summary: 'attempt one delivery again now',
  usage: retryUsage,
  run: async (argv, ctx) => {
    const { values, positionals } = parseCommand(argv, { usage: retryUsage, options: {}, positionals: [2, 2] });
    const [webhookId, deliveryId] = positionals as [string, string];
    const queued = await (await ctx.client()).post<{ delivery_id: string; attempt: number }>(
      webhookPath(webhookId, `/deliveries/${encodeURIComponent(deliveryId)}/retry`),
    );
    if (values.json) printJson(ctx.io, queued);
    else printLine(ctx.io, `Queued attempt ${queued.attempt} of delivery ${queued.delivery_id}.`);
    return 0;
  },
};

export const deliveries = commandGroup('deliveries', 'read the deliveries log or one delivery; attempt one again', [ls, show, retry]);
