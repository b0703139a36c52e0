import { failedAttemptOutcome, type FailedAttemptResult } from '../domain/attempt-outcome.ts';
import type { AttemptOutcome } from '../domain/metric-names.ts';

/**
 * Port: the business metrics (shared/domain/metric-names.ts), told by the use cases that know
 * the facts. Recording is synchronous and never throws: a metric is not worth failing or slowing
 * a delivery for. Per-tenant and per-webhook numbers are not metrics here; they go to the logs.
 */
export interface BusinessMetrics {
  /** Events newly stored by ingest (a replayed id is not counted again). */
  eventsPublished(count: number): void;
  /** A delivery answered with a 2xx; `latencyMs` from the event's receipt, when it measures the pipeline. */
  deliverySucceeded(latencyMs: number | undefined): void;
  /** An attempt that failed, by what kept it from a 2xx. */
  attemptFailed(outcome: AttemptOutcome): void;
  /** A webhook whose status this process changed to `failing` or `disabled`. */
  webhookTurned(status: 'failing' | 'disabled'): void;
  /** An email handed to the mailer without error (owner notifications and verification links). */
  emailSent(): void;
}

/** The small ports each use case takes. */
export type PublishMetrics = Pick<BusinessMetrics, 'eventsPublished'>;
export type DeliveryMetrics = Pick<BusinessMetrics, 'deliverySucceeded' | 'attemptFailed'>;
export type HealthMetrics = Pick<BusinessMetrics, 'webhookTurned' | 'emailSent'>;
export type EmailMetrics = Pick<BusinessMetrics, 'emailSent'>;

/**
 * What a composition root holds: the metrics, and `flush`, called once at the end of every
 * invocation (Lambda may freeze the container right after the handler returns).
 */
export interface MetricsRecorder extends BusinessMetrics {
  flush(): void;
}

/** Records nothing: the default of every use case, and the one-machine runtime's unless told otherwise. */
export const noMetrics: MetricsRecorder = {
  eventsPublished: () => {},
  deliverySucceeded: () => {},
  attemptFailed: () => {},
  webhookTurned: () => {},
  emailSent: () => {},
  flush: () => {},
};

/** One attempt, as DispatchDelivery saw it end. */
export interface CountedAttempt {
  readonly success: boolean;
  readonly result: FailedAttemptResult;
  /** A manual attempt (retry, recover) comes when someone asks: its wait is not the pipeline's latency. */
  readonly manual: boolean;
  /** When ingest received the event (`received_at`). */
  readonly receivedAt: string;
  /** When the attempt ended. */
  readonly endedAt: Date;
}

/** Counts one attempt: a success with its publish-to-2xx latency, a failure by its outcome class. */
export function countAttempt(metrics: DeliveryMetrics, attempt: CountedAttempt): void {
  if (!attempt.success) return metrics.attemptFailed(failedAttemptOutcome(attempt.result));
  const latencyMs = attempt.manual ? NaN : attempt.endedAt.getTime() - Date.parse(attempt.receivedAt);
  metrics.deliverySucceeded(Number.isFinite(latencyMs) ? latencyMs : undefined);
}
