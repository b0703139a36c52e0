import { TEST_EVENT_TYPE } from '../domain/catalogue.ts';
import { newAttemptId, ulid } from '../domain/ids.ts';
import type { AttemptSender } from './attempt-sender.ts';
import type { CredentialsCache } from './credentials.ts';
import { findWebhook } from './find-webhook.ts';
import type { AttemptRecorder } from './dispatch.ts';
import type { WebhookRepository } from './manage-webhooks.ts';
import { attemptOutcome } from './outbound-request.ts';
import type { Clock } from './ports.ts';

/** What the receiver made of the test event (CONTRACT.md section 4, `POST .../{id}/test`). */
export interface TestResult {
  readonly delivered: boolean;
  readonly status_code: number | null;
  readonly response_time_ms: number;
  readonly error?: string;
}

/**
 * How long a test event's requests may take in all (an OAuth2 webhook's: a token, the POST, and
 * after a 401 both again): its answer is synchronous, and API Gateway gives up after 30 s.
 */
export const TEST_TOTAL_TIMEOUT_MS = 25_000;

/**
 * The test event: a `webhook.test` event sent now, in the webhook's format and auth, logged like
 * any attempt, and the receiver's answer reported. Its own use case (and function): only it and
 * the dispatcher POST to receivers.
 */
export class TestWebhook {
  private readonly deps: {
    readonly webhooks: Pick<WebhookRepository, 'get'>;
    readonly attempts: AttemptRecorder;
    /** The container's cache of the tenant's secret, as the dispatcher reads it. */
    readonly credentials: Pick<CredentialsCache, 'get'>;
    readonly sender: Pick<AttemptSender, 'send'>;
    readonly clock: Clock;
  };
  constructor(deps: TestWebhook['deps']) {
    this.deps = deps;
  }

  async execute(tenantId: string, webhookId: string): Promise<TestResult> {
    const webhook = await findWebhook(this.deps.webhooks, tenantId, webhookId);
    const credentials = await this.deps.credentials.get(webhook);
    const now = this.deps.clock();
    const event = {
      tenant_id: tenantId,
      id: `evt_test_${ulid()}`,
      event: TEST_EVENT_TYPE,
      timestamp: now.toISOString(),
      data: { message: 'Hello, world!', webhook_id: webhookId },
      received_at: now.toISOString(),
    };
    const result = await this.deps.sender.send(webhook, credentials, event, now, { totalTimeoutMs: TEST_TOTAL_TIMEOUT_MS });
    const outcome = attemptOutcome(result, this.deps.clock());
    await this.deps.attempts.record({
      id: newAttemptId(),
      tenant_id: tenantId,
      webhook_id: webhookId,
      // Time-ordered like a real delivery's, so it lists by its time (it has no ladder to retry).
      delivery_id: `dlv_${ulid()}`,
      event_id: event.id,
      event: event.event,
      attempt: 1,
      trigger: 'test',
      success: outcome.success,
      status_code: outcome.statusCode,
      response_time_ms: result.durationMs,
      ...(outcome.error === undefined ? {} : { error: outcome.error }),
      // What the receiver answered, as a scheduled attempt logs it (scrubbed and cut by the sender).
      ...(result.kind === 'response' && result.bodyPrefix ? { response_body: result.bodyPrefix } : {}),
      attempted_at: now.toISOString(),
    });
    return {
      delivered: outcome.success,
      status_code: outcome.statusCode,
      response_time_ms: result.durationMs,
      ...(outcome.error === undefined ? {} : { error: outcome.error }),
    };
  }
}
