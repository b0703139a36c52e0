/**
 * The list cursors of both adapter sets (DynamoDB's Query pages, aws/paging.ts, and the SQLite
 * store's, sqlite/paging.ts): the same format, bound to the same list, refused the same way.
 */
import { ValidationError } from '../errors.ts';

/** What a cursor is bound to (the one-machine store's lists use the same cursors). */
export interface CursorList {
  /** Names of the list's partition and sort key attributes. */
  readonly keyNames: { readonly partition: string; readonly sort: string };
  readonly partitionValue: string;
  /**
   * Who and what the list is of, e.g. `webhooks/<tenant>`: a cursor is accepted only by the
   * list it was made for, so one tenant's cursor never opens another tenant's list.
   */
  readonly boundTo: string;
}

/** What a cursor holds: the list it belongs to, the page number it leads to, and where that page starts. */
export interface CursorPayload {
  readonly v: 1;
  readonly of: string;
  readonly p: number;
  readonly k: Record<string, string>;
}

const MAX_SORT_KEY_LENGTH = 1024;

export const encodeCursor = (payload: CursorPayload): string => Buffer.from(JSON.stringify(payload), 'utf8').toString('base64url');

/**
 * Reads a cursor back, refusing anything this list did not hand out: not base64url JSON, another
 * version, another list (tenant or webhook), or a key outside the list's partition. A refused
 * cursor is a 400 and nothing is read.
 */
export function decodeCursor(cursor: string, query: CursorList): CursorPayload {
  const refused = (why: string) =>
    new ValidationError('cursor is not valid for this list: pass the next_cursor of one of its pages, or start again without one', [
      { path: 'cursor', message: why },
    ]);
  let payload: unknown;
  try {
    payload = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw refused('not a cursor');
  }
  if (!isRecord(payload) || payload['v'] !== 1 || !isRecord(payload['k'])) throw refused('not a cursor');
  if (payload['of'] !== query.boundTo) throw refused('made for another list');
  const page = payload['p'];
  if (typeof page !== 'number' || !Number.isSafeInteger(page) || page < 2) throw refused('not a cursor');
  const key = payload['k'];
  const { partition, sort } = query.keyNames;
  const sortValue = key[sort];
  if (
    Object.keys(key).length !== 2 ||
    key[partition] !== query.partitionValue ||
    typeof sortValue !== 'string' ||
    sortValue.length === 0 ||
    sortValue.length > MAX_SORT_KEY_LENGTH
  ) {
    throw refused('made for another list');
  }
  return { v: 1, of: query.boundTo, p: page, k: { [partition]: query.partitionValue, [sort]: sortValue } };
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);
