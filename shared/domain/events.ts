/** An event as published by a scanner and stored by ingest. */
export interface PublishedEvent {
  readonly tenant_id: string;
  readonly id: string;
  /** The event type, e.g. `scan.completed`. */
  readonly event: string;
  /** ISO 8601, as published, or the time ingest received it. */
  readonly timestamp: string;
  readonly data: Record<string, unknown>;
  readonly received_at: string;
}

/**
 * An event on the events queue. `again`: queued once more for a publisher that sent the same id
 * again (its first request may have failed after the event was stored, or its answer was lost),
 * so its deliveries may have been attempted already.
 */
export type QueuedEvent = PublishedEvent & { readonly again?: true };

export const MAX_EVENTS_PER_BATCH = 100;
export const MAX_EVENT_ID_LENGTH = 128;
export const MAX_INGEST_BODY_BYTES = 256 * 1024;
/** Event ids go into headers (`webhook-id`) and keys: printable, no spaces. */
export const EVENT_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:~-]*$/;
