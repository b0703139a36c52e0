import type { Attempt, AttemptSummary, Delivery, HealthFollowUp } from '../../domain/deliveries.ts';
import type { Completion, OutcomeRecorder } from '../../usecases/dispatch.ts';
import { deliveryAfter } from '../delivery-states.ts';
import type { HooklineDatabase } from './database.ts';
import type { SqliteAttemptLog } from './sqlite-attempt-log.ts';
import type { SqliteDeliveryStore } from './sqlite-delivery-store.ts';

/**
 * An attempt's log entry and its delivery's completion in one transaction. A kill leaves both or
 * neither, so after a restart a claim either has its result (and is not sent again) or has none
 * (and is sent again, as attempt N once more: the log never shows attempt N twice). A completion
 * the delivery's state refuses (another dispatcher took the claim over) logs nothing either.
 */
export class SqliteOutcomes implements OutcomeRecorder {
  private readonly db: HooklineDatabase;
  private readonly attempts: Pick<SqliteAttemptLog, 'recordSync'>;
  private readonly deliveries: Pick<SqliteDeliveryStore, 'completeSync' | 'getSync'>;

  constructor(db: HooklineDatabase, attempts: Pick<SqliteAttemptLog, 'recordSync'>, deliveries: Pick<SqliteDeliveryStore, 'completeSync' | 'getSync'>) {
    this.db = db;
    this.attempts = attempts;
    this.deliveries = deliveries;
  }

  recordOutcome(attempt: Attempt, completion: Completion, now: Date, summary: AttemptSummary, followUp?: HealthFollowUp): Promise<Delivery | undefined> {
    try {
      return Promise.resolve(
        this.db.transaction(() => {
          if (!this.deliveries.completeSync(attempt.delivery_id, attempt.attempt, completion, now, summary, followUp)) return undefined;
          this.attempts.recordSync(attempt);
          // A health step owed reads the row: the owner's email lists the attempts it keeps
          // (a manual attempt's message carries none). Otherwise nothing reads it back.
          return followUp === undefined ? deliveryAfter(attempt, completion, undefined) : this.deliveries.getSync(attempt.delivery_id);
        }),
      );
    } catch (error) {
      return Promise.reject(error as Error);
    }
  }
}
