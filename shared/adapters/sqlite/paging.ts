import { decodeCursor, encodeCursor, type CursorList } from '../cursors.ts';
import type { ListPage, PageRequest } from '../../usecases/manage-webhooks.ts';

/**
 * A page of a list, by number or after a cursor, with the DynamoDB adapters' cursors (the same
 * format, bound to the same list, refused the same way: ../cursors.ts). `read(after, skip,
 * count)` returns up to `count` items in the list's order, starting `skip` items in, or right
 * after the item whose sort key is `after`. One item past the page is read to tell whether
 * more follow; the next cursor holds the key of the page's last item. A refused cursor throws a
 * ValidationError before anything is read.
 */
export function readPage<T>(
  request: PageRequest,
  list: CursorList,
  read: (after: string | undefined, skip: number, count: number) => T[],
  sortKeyOf: (item: T) => string,
): ListPage<T> {
  const start = request.cursor === undefined ? undefined : decodeCursor(request.cursor, list);
  const page = start?.p ?? request.page;
  const skip = start ? 0 : (request.page - 1) * request.perPage;
  const rows = read(start?.k[list.keyNames.sort], skip, request.perPage + 1);
  const items = rows.slice(0, request.perPage);
  const last = items.at(-1);
  const hasMore = rows.length > request.perPage;
  if (!hasMore || last === undefined) return { items, page, hasMore };
  const { partition, sort } = list.keyNames;
  const k = { [partition]: list.partitionValue, [sort]: sortKeyOf(last) };
  return { items, page, hasMore, nextCursor: encodeCursor({ v: 1, of: list.boundTo, p: page + 1, k }) };
}
