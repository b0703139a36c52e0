/** `hookline portal`: a link to the customer portal, signed for a short time. */
import { parseCommand, parseDuration } from '../args.ts';
import type { Command } from '../command.ts';
import { printJson, printLine, shortTime } from '../output.ts';

const usage = `Usage: hookline portal [--webhook <id>]... [--read-only] [--ttl <duration>] [--json]

Creates a portal session and prints its URL: a page where your customer sees their webhooks,
what was sent and what came back, and can resend. The link is the credential: share it only
with the person it is for. It expires after --ttl.

Options:
  --webhook <id>     limit the session to this webhook (repeatable; default: all)
  --read-only        the session can look but not change anything
  --ttl <duration>   how long the link works: 15m, 1h (default), at most 24h
  --json             print {"url", "expires_at"}`;

export const portal: Command = {
  name: 'portal',
  summary: 'print a short-lived portal URL for your customer',
  usage,
  run: async (argv, ctx) => {
    const { values } = parseCommand(argv, {
      usage,
      options: { webhook: { type: 'string', multiple: true }, 'read-only': { type: 'boolean' }, ttl: { type: 'string' } },
    });
    const body: Record<string, unknown> = {};
    if (values.ttl !== undefined) body['expires_in'] = parseDuration('ttl', values.ttl, usage);
    if (values.webhook) body['webhook_ids'] = values.webhook;
    if (values['read-only']) body['read_only'] = true;
    const session = await (await ctx.client()).post<{ url: string; expires_at: string }>('/api/v1/portal-sessions', body);
    if (values.json) printJson(ctx.io, session);
    else {
      printLine(ctx.io, session.url);
      // The URL alone on stdout (for `$(hookline portal)`); when it expires on stderr.
      ctx.io.stderr.write(`Expires ${shortTime(session.expires_at)} UTC.\n`);
    }
    return 0;
  },
};
