/**
 * Failures of the SQLite adapters. A failed statement is the same infrastructure fault as a
 * failed DynamoDB call, so it is the AWS adapters' StoreError (a plain Error class, no SDK type):
 * callers and tests treat both adapter sets alike.
 */
export { StoreError } from '../aws/errors.ts';

/** The database file cannot be used: not a database, not writable, or in another format. */
export class DatabaseOpenError extends Error {
  override name = 'DatabaseOpenError';
}

/** The database was written by a newer Hookline, whose tables this one does not know. */
export class DatabaseVersionError extends DatabaseOpenError {
  override name = 'DatabaseVersionError';
}

/** A transaction callback returned a promise: its work would not be inside the transaction. */
export class AsyncTransactionError extends Error {
  override name = 'AsyncTransactionError';
}

/**
 * SQLite ended the group commit's shared transaction on its own (a full disk, an I/O error): what
 * every handler wrote since the last commit is gone, and which of them cannot be told.
 */
export class GroupCommitLostError extends Error {
  override name = 'GroupCommitLostError';
}
