/**
 * Failures of the AWS adapters, translated from SDK exceptions so that use cases never see an
 * SDK type. All of them are infrastructure faults: the caller retries (SQS redelivery) or
 * answers 500.
 */
export class StoreError extends Error {
  override name = 'StoreError';
}

export class QueueError extends Error {
  override name = 'QueueError';
}

export class SecretStoreError extends Error {
  override name = 'SecretStoreError';
}

export const isConditionalCheckFailed = (err: unknown): boolean =>
  err instanceof Error && err.name === 'ConditionalCheckFailedException';

export const errorName = (err: unknown): string => (err instanceof Error ? err.name : typeof err);
