/** Reading what the user hands the CLI: a file or stdin, and the events in it. */
import { readFile } from 'node:fs/promises';
import { InputError } from './errors.ts';
import type { Io } from './output.ts';

export async function readStream(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks);
}

/** A file's bytes, or stdin's when `path` is `-`. */
export async function readInput(io: Io, path: string): Promise<Buffer> {
  if (path === '-') return readStream(io.stdin);
  try {
    return await readFile(path);
  } catch (error) {
    throw new InputError(`cannot read ${path}: ${(error as Error).message}`, { cause: error });
  }
}

export interface EventInput {
  readonly event: string;
  readonly [field: string]: unknown;
}

/**
 * The events in a publish input: a JSON array of events, one event object, a batch body
 * `{"events": [...]}`, or NDJSON (one event per line). Everything is parsed before anything is
 * sent, so a typo on line 180 publishes nothing.
 */
export function parseEvents(text: string, source: string): EventInput[] {
  const trimmed = text.trim();
  if (trimmed === '') throw new InputError(`${source} holds no events`);
  let values: unknown[];
  let whole: unknown;
  let wholeParsed = false;
  try {
    whole = JSON.parse(trimmed);
    wholeParsed = true;
  } catch {
    // Not one JSON document: NDJSON, read line by line below.
  }
  if (wholeParsed) {
    if (Array.isArray(whole)) values = whole;
    else if (isObject(whole) && Array.isArray(whole['events'])) values = whole['events'];
    else values = [whole];
    // An empty list is no more a publish than an empty file.
    if (values.length === 0) throw new InputError(`${source} holds no events`);
    return values.map((value, i) => checkEvent(value, `${source}: event ${i + 1}`));
  }
  const events: EventInput[] = [];
  trimmed.split(/\r?\n/).forEach((line, i) => {
    if (line.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      throw new InputError(`${source}: line ${i + 1} is not JSON (${(error as Error).message}); expected a JSON array or one event per line`);
    }
    events.push(checkEvent(value, `${source}: line ${i + 1}`));
  });
  return events;
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

function checkEvent(value: unknown, where: string): EventInput {
  if (!isObject(value)) throw new InputError(`${where} is not a JSON object`);
  if (typeof value['event'] !== 'string' || value['event'] === '') throw new InputError(`${where} has no "event" type`);
  return value as EventInput;
}

/** `[1..250]` in pieces of `size`: [[1..100], [101..200], [201..250]]. */
export function chunk<T>(items: readonly T[], size: number): T[][] {
  const chunks: T[][] = [];
  for (let i = 0; i < items.length; i += size) chunks.push(items.slice(i, i + size));
  return chunks;
}
