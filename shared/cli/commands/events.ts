/** `hookline events publish`: events from a file or stdin, in batches of 100. */
import { parseCommand } from '../args.ts';
import type { Command } from '../command.ts';
import { commandGroup } from '../command.ts';
import { ApiError, CliError, InputError } from '../errors.ts';
import { chunk, parseEvents, readInput } from '../input.ts';
import { formatDetail, printJson, printLine, ProgressBar } from '../output.ts';

/** The largest batch `POST /v1/events` takes (CONTRACT.md section 3). */
export const MAX_BATCH = 100;

const publishUsage = `Usage: hookline events publish [<file>|-] [--json]

Publishes events from a file, or from stdin when the file is - or left out. The input is a JSON
array of events, one event object, a batch {"events": [...]}, or NDJSON (one event per line);
each event is {"event": "<type>", "data": {...}, "id"?: "...", "timestamp"?: "..."}.

Everything is read and checked before anything is sent. Events go out in batches of ${MAX_BATCH}; a
batch is accepted or rejected as a whole. Give each event an "id" to make publishing again after
a failure safe: an id already published is accepted and delivered only once.

A progress bar is drawn on stderr when it is a terminal. --json prints {"published", "batches", "ids"}.`;

const publish: Command = {
  name: 'publish',
  summary: 'publish events from a file or stdin (JSON or NDJSON)',
  usage: publishUsage,
  run: async (argv, ctx) => {
    const { values, positionals } = parseCommand(argv, { usage: publishUsage, options: {}, positionals: [0, 1] });
    const source = positionals[0] ?? '-';
    if (source === '-' && ctx.io.stdin.isTTY) throw new InputError('no events: give a file, or pipe them into stdin');
    const events = parseEvents((await readInput(ctx.io, source)).toString('utf8'), source === '-' ? 'stdin' : source);
    const client = await ctx.client();
    const batches = chunk(events, MAX_BATCH);
    const progress = new ProgressBar(ctx.io, 'Publishing', events.length);
    const ids: string[] = [];
    progress.update(0);
    for (const [index, batch] of batches.entries()) {
      try {
        const answer = await client.post<{ ids: string[] }>('/v1/events', { events: batch });
        ids.push(...answer.ids);
      } catch (error) {
        progress.finish();
        const first = index * MAX_BATCH + 1;
        // A rejected batch kept nothing; one whose answer was lost may have been stored.
        const verdict = error instanceof ApiError ? 'was rejected' : 'may not have been published';
        throw new CliError(
          `batch ${index + 1} of ${batches.length} (events ${first}-${first + batch.length - 1}) ${verdict}: ${(error as Error).message}` +
            detailsOf(error, first) +
            `\n${afterFailure(ids.length, batches.length - index - 1)}`,
          { cause: error },
        );
      }
      progress.update(ids.length);
    }
    progress.finish();
    if (values.json) printJson(ctx.io, { published: ids.length, batches: batches.length, ids });
    else printLine(ctx.io, `Published ${ids.length} event(s) in ${batches.length} batch(es).`);
    return 0;
  },
};

function afterFailure(published: number, unsent: number): string {
  const before = published === 0 ? 'Nothing before it was published' : `The ${published} event(s) before it were published`;
  return unsent === 0 ? `${before}.` : `${before}; the ${unsent} batch(es) after it were not sent.`;
}

/**
 * An API error's details under the wrapping message; `events.<i>.<field>` (an index in the batch)
 * is renamed to the event's place in the input, which is what the user can find.
 */
function detailsOf(error: unknown, first: number): string {
  if (!(error instanceof ApiError) || !error.details) return '';
  return error.details
    .map((detail) => {
      const text = formatDetail(detail).replace(/^events\.(\d+)\.?/, (_, i: string) => `event ${first + Number(i)} of the input: `);
      return `\n  ${text}`;
    })
    .join('');
}

export const events = commandGroup('events', 'publish events', [publish]);
