/**
 * The business metrics Hookline emits (CloudWatch EMF) and the dashboard and alarms read. One list, so the
 * functions that emit a metric and the construct that graphs it cannot drift apart.
 *
 * Dimensions stay low-cardinality: only `AttemptsFailed` carries one (`Outcome`, six values). Per-tenant and
 * per-webhook numbers belong in logs, never in a metric dimension.
 */
export const METRICS_NAMESPACE = 'Hookline';

export const METRIC = {
  /** Count: events accepted by ingest (one per event, not per matching webhook). */
  eventsPublished: 'EventsPublished',
  /** Count: delivery attempts answered with a 2xx. */
  deliveriesSucceeded: 'DeliveriesSucceeded',
  /** Count: delivery attempts that failed, with the `Outcome` dimension (one of {@link ATTEMPT_OUTCOMES}). */
  attemptsFailed: 'AttemptsFailed',
  /** Milliseconds: from the event's publication to the receiver's 2xx. */
  deliveryLatency: 'DeliveryLatency',
  /** Count: webhooks that turned failing. */
  webhooksFailing: 'WebhooksFailing',
  /** Count: webhooks that were disabled after failing too long. */
  webhooksDisabled: 'WebhooksDisabled',
  /** Count: owner notification emails sent. */
  emailsSent: 'EmailsSent',
} as const;

export type MetricName = (typeof METRIC)[keyof typeof METRIC];

/** The dimension of `AttemptsFailed`. */
export const OUTCOME_DIMENSION = 'Outcome';

/**
 * Why an attempt failed: a non-2xx `status`, a `timeout`, a connection `refused` (or reset), a `tls` failure,
 * a `dns` failure, or anything `other`.
 */
export const ATTEMPT_OUTCOMES = ['status', 'timeout', 'refused', 'tls', 'dns', 'other'] as const;

export type AttemptOutcome = (typeof ATTEMPT_OUTCOMES)[number];
