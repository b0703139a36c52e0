import { isWebhookId } from '../domain/ids.ts';
import type { Webhook } from '../domain/webhooks.ts';
import { NotFoundError } from '../errors.ts';
import type { WebhookRepository } from './manage-webhooks.ts';

/**
 * A tenant's webhook as the API finds it: read consistently (a webhook just created must be
 * found), and a 404 for a malformed id or a miss.
 */
export async function findWebhook(webhooks: Pick<WebhookRepository, 'get'>, tenantId: string, webhookId: string): Promise<Webhook> {
  const webhook = isWebhookId(webhookId) ? await webhooks.get(tenantId, webhookId, true) : undefined;
  if (!webhook) throw new NotFoundError(`No webhook ${webhookId}`);
  return webhook;
}
