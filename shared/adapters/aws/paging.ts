import { QueryCommand, type DynamoDBDocumentClient, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import type { ListPage, PageRequest } from '../../usecases/manage-webhooks.ts';
import { decodeCursor, encodeCursor, type CursorList } from '../cursors.ts';
import { StoreError } from './errors.ts';

/** A Query over one partition, and what its cursors are bound to. */
export interface PagedQuery extends CursorList {
  /** What is listed, for the StoreError of a failed read: `could not list <what>`. */
  readonly what: string;
  /** The Query; its key condition must select the partition `partitionValue` only. */
  readonly input: QueryCommandInput;
}

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
