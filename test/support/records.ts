import { randomUUID } from 'node:crypto';
import type { Attempt } from '../../shared/domain/deliveries.ts';

/**
 * Attempt `n` of a webhook's delivery log, for the attempt-log tests of both stores: even numbers
 * succeed (200, body "ok"), odd ones fail (connection refused).
 */
export const newAttempt = (webhookId: string, n: number, attemptedAt: Date, extra: Partial<Attempt> = {}): Attempt => ({
  id: `att_${randomUUID().replaceAll('-', '')}`,
  tenant_id: 'ten_1',
  webhook_id: webhookId,
  delivery_id: `dlv_${n}`,
  event_id: `evt_${n}`,
  event: 'scan.completed',
  attempt: 1,
  trigger: 'scheduled',
  success: n % 2 === 0,
  status_code: n % 2 === 0 ? 200 : null,
  response_time_ms: 12 + n,
  ...(n % 2 === 0 ? { response_body: 'ok' } : { error: 'connection refused' }),
  attempted_at: attemptedAt.toISOString(),
  ...extra,
});
