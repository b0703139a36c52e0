import type { SQSRecord } from 'aws-lambda';
import type { Logger } from '../logging.ts';

/**
 * One queue record's work on its parsed body, a failure logged (with the message's ids) before
 * it fails the record. Powertools' batch processor keeps a record's error to itself: Lambda is
 * told which records failed, and a whole batch's failure (`FullBatchFailureError`) names none of
 * the causes. Without this line a fault that repeats (a secret that does not parse, a table that
 * refuses writes) says nothing of why while its messages go round to the dead-letter queue.
 */
export async function processLogged<M, T>(
  logger: Logger,
  failure: string,
  record: SQSRecord,
  idsOf: (message: M) => Record<string, unknown>,
  work: (message: M) => Promise<T>,
): Promise<T> {
  let message: M | undefined;
  try {
    message = JSON.parse(record.body) as M;
    return await work(message);
  } catch (error) {
    const ids = { message_id: record.messageId, ...(message === undefined ? {} : idsOf(message)) };
    logger.error(failure, ids, error instanceof Error ? error : String(error));
    throw error;
  }
}
