/** Errors of the composition roots. */

/** A root asked for an AWS adapter its function's kit (functions/<name>/aws.ts) does not give. */
export class MissingAwsAdapterError extends Error {
  override readonly name = 'MissingAwsAdapterError';
  constructor(fn: string, adapter: string) {
    super(`${fn}: no AWS adapter "${adapter}" was given (add it to functions/${fn}/aws.ts; on one machine, a local adapter is missing)`);
  }
}
