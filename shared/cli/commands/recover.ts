/** `hookline recover --since`: one more attempt of every failed delivery since a time. */
import { parseCommand, parseSince } from '../args.ts';
import { WEBHOOKS_PATH, webhookPath } from '../client.ts';
import type { Command } from '../command.ts';
import { UsageError } from '../errors.ts';
import { printJson, printLine, printTable, ProgressBar } from '../output.ts';
import type { WebhookView } from './webhooks.ts';

const usage = `Usage: hookline recover --since <time|duration> [--webhook <id>]... [--json]

Queues one more attempt of every delivery that failed since a time: for the given webhooks, or
for every active webhook of the tenant (paused and disabled ones are skipped: they would receive
nothing). A progress bar over the webhooks is drawn on stderr when it is a terminal.

Options:
  --since <when>     2026-03-15T10:30:00Z, or a duration back from now: 30m, 2h, 1d
  --webhook <id>     a webhook to recover (repeatable; default: all)
  --json             print {"since", "queued", "webhooks": [{"id", "queued"|"skipped"}]}`;

interface Outcome {
  readonly id: string;
  readonly url: string;
  readonly queued?: number;
  readonly skipped?: string;
}

export const recover: Command = {
  name: 'recover',
  summary: 'attempt again every delivery that failed since a time',
  usage,
  run: async (argv, ctx) => {
    const { values } = parseCommand(argv, {
      usage,
      options: { since: { type: 'string' }, webhook: { type: 'string', multiple: true } },
    });
    if (values.since === undefined) throw new UsageError('--since is required', usage);
    const since = parseSince(values.since, ctx.now(), usage);
    const client = await ctx.client();
    const targets: Outcome[] = values.webhook
      ? values.webhook.map((id) => ({ id, url: '' }))
      : (await client.all<WebhookView>(WEBHOOKS_PATH)).map((w) => ({
          id: w.id,
          url: w.url,
          ...(w.active && w.status !== 'disabled' ? {} : { skipped: w.active ? 'disabled' : 'paused' }),
        }));

    const progress = new ProgressBar(ctx.io, 'Recovering', targets.length);
    const outcomes: Outcome[] = [];
    progress.update(0);
    try {
      for (const target of targets) {
        if (target.skipped) outcomes.push(target);
        else outcomes.push({ ...target, queued: (await client.post<{ queued: number }>(webhookPath(target.id, '/recover'), { since })).queued });
        progress.update(outcomes.length);
      }
    } finally {
      progress.finish();
    }
    const queued = outcomes.reduce((sum, o) => sum + (o.queued ?? 0), 0);
    if (values.json) {
      printJson(ctx.io, { since, queued, webhooks: outcomes.map(({ id, queued: q, skipped }) => ({ id, ...(skipped ? { skipped } : { queued: q }) })) });
      return 0;
    }
    printTable(
      ctx.io,
      outcomes,
      [
        { header: 'WEBHOOK', value: (o) => o.id },
        { header: 'QUEUED', value: (o) => (o.skipped ? `skipped (${o.skipped})` : String(o.queued)) },
        { header: 'URL', value: (o) => o.url, maxWidth: 60 },
      ],
      'No webhooks to recover.',
    );
    printLine(ctx.io, `Queued ${queued} failed deliver${queued === 1 ? 'y' : 'ies'} since ${since} for another attempt.`);
    return 0;
  },
};
