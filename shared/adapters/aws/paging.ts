import { QueryCommand, type DynamoDBDocumentClient, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import { ValidationError } from '../../errors.ts';
import type { ListPage, PageRequest } from '../../usecases/manage-webhooks.ts';
import { StoreError } from './errors.ts';

/** A Query over one partition, and what its cursors are bound to. */
export interface PagedQuery {
  /** What is listed, for the StoreError of a failed read: `could not list <what>`. */
  readonly what: string;
  /** The Query; its key condition must select the partition `partitionValue` only. */
  readonly input: QueryCommandInput;
  /** Names of the table's partition and sort key attributes. */
  readonly keyNames: { readonly partition: string; readonly sort: string };
  readonly partitionValue: string;
  /**
   * Who and what the list is of, e.g. `webhooks/<tenant>`: a cursor is accepted only by the
   * list it was made for, so one tenant's cursor never opens another tenant's list.
   */
  readonly boundTo: string;
}

/** What a cursor is bound to (the one-machine store's lists use the same cursors). */
export type CursorList = Pick<PagedQuery, 'keyNames' | 'partitionValue' | 'boundTo'>;

/** What a cursor holds: the list it belongs to, the page number it leads to, and where that page starts. */
export interface CursorPayload {
  readonly v: 1;
  readonly of: string;
  readonly p: number;
  readonly k: Record<string, string>;
}

const MAX_SORT_KEY_LENGTH = 1024;

/**
 * A page of a Query, by number or after a cursor. By number it reads the items of the pages
 * before it (the API bounds how deep that goes); after a cursor it starts right there
 * (DynamoDB's ExclusiveStartKey), so every page costs the same. One item past the page is read
 * to tell whether more follow; the next cursor is the key of the page's last item. A refused
 * cursor throws a ValidationError before anything is read; a failed read, a StoreError.
 */
export async function queryPage(
  doc: DynamoDBDocumentClient,
  query: PagedQuery,
  request: PageRequest,
): Promise<ListPage<Record<string, unknown>>> {
  const start = request.cursor === undefined ? undefined : decodeCursor(request.cursor, query);
  const page = start?.p ?? request.page;
  const skip = start ? 0 : (request.page - 1) * request.perPage;
  const wanted = skip + request.perPage + 1;
  const collected: Record<string, unknown>[] = [];
  let startKey: Record<string, unknown> | undefined = start?.k;
  try {
    do {
      const out = await doc.send(
        new QueryCommand({ ...query.input, Limit: Math.min(1000, wanted - collected.length), ExclusiveStartKey: startKey }),
      );
      collected.push(...(out.Items ?? []));
      startKey = out.LastEvaluatedKey;
    } while (startKey && collected.length < wanted);
  } catch (err) {
    throw new StoreError(`could not list ${query.what}`, { cause: err });
  }

  const items = collected.slice(skip, skip + request.perPage);
  const last = items.at(-1);
  const hasMore = collected.length > skip + request.perPage;
  return {
    items,
    page,
    hasMore,
    ...(hasMore && last ? { nextCursor: encodeCursor({ v: 1, of: query.boundTo, p: page + 1, k: keyOf(last, query) }) } : {}),
  };
}

function keyOf(item: Record<string, unknown>, query: PagedQuery): Record<string, string> {
  const { partition, sort } = query.keyNames;
  return { [partition]: String(item[partition]), [sort]: String(item[sort]) };
}

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
