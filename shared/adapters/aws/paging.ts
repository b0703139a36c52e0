import { QueryCommand, type DynamoDBDocumentClient, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';

export interface Page<T> {
  readonly items: T[];
  readonly hasMore: boolean;
}

/**
 * Page-number pagination (the contract's `page`/`per_page`) over a DynamoDB Query: reads the
 * items before the page and one past it, so deep pages cost more reads but no Scan.
 */
export async function queryPage(
  doc: DynamoDBDocumentClient,
  input: QueryCommandInput,
  page: number,
  perPage: number,
): Promise<Page<Record<string, unknown>>> {
  const skip = (page - 1) * perPage;
  const wanted = skip + perPage + 1;
  const collected: Record<string, unknown>[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const out = await doc.send(
      new QueryCommand({ ...input, Limit: Math.min(1000, wanted - collected.length), ExclusiveStartKey: startKey }),
    );
    collected.push(...(out.Items ?? []));
    startKey = out.LastEvaluatedKey;
  } while (startKey && collected.length < wanted);
  return { items: collected.slice(skip, skip + perPage), hasMore: collected.length > skip + perPage };
}
