/** The runtime's deliveries log through its public API, and what a lost delivery is. */
import { api, type Runtime } from '../support/runtime.ts';

export const WEBHOOKS = '/api/v1/integrations/webhooks';

export interface LoggedAttempt {
  readonly delivery_id: string;
  readonly event_id: string;
  readonly attempt: number;
  readonly success: boolean;
  readonly status_code: number | null;
  readonly error?: string;
  readonly attempted_at: string;
  readonly next_attempt_at?: string;
}

/** Every attempt in a webhook's deliveries log, newest first. */
export async function* attemptLog(rt: Runtime, apiKey: string, webhookId: string): AsyncGenerator<LoggedAttempt> {
  const client = api(rt.baseUrl, apiKey);
  // By cursor: page numbers stop at 1000 attempts.
  for (let cursor = ''; ; ) {
    const res = await client.get(`${WEBHOOKS}/${webhookId}/deliveries?per_page=100${cursor && `&cursor=${cursor}`}`);
    if (res.status !== 200) throw new Error(`deliveries log of ${webhookId}, page ${res.json?.page}: ${res.status} ${res.text}`);
    yield* res.json.items as LoggedAttempt[];
    if (!res.json.next_cursor) return;
    cursor = res.json.next_cursor;
  }
}

export interface MissingPair {
  readonly webhookId: string;
  readonly receiverUrl: string;
  readonly eventId: string;
  /** Requests the receiver got for it (none answered 2xx). */
  readonly requests: number;
}
