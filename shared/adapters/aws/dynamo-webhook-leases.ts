import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { SlotHolder } from '../../usecases/dispatch-ports.ts';
import type { WebhookLeases } from '../../usecases/webhook-slots.ts';
import { dynamoCall, type AwsAdapter, type AwsCalls } from './aws-calls.ts';
import { DynamoTable } from './dynamo-table.ts';
import { isConditionalCheckFailed, StoreError } from './errors.ts';

const DAY_MS = 86_400_000;
/** Takes that lose a race to another container's write try again this many times, then count as busy. */
const ROUNDS = 3;

/**
 * The per-webhook attempt leases of every dispatcher container: one small item per webhook in
 * the tenants table (`SLOTS#<tenant>#<webhook>`), a map of lease id -> expiry (epoch ms) and a
 * version. A take reads the item (consistently), counts the unexpired leases and writes its own
 * with the expired ones removed, on condition that the version is still the one it read: two
 * containers can never both take the last slot. A release only removes its entry (a stale read
 * then sees one lease too many: it waits, never overshoots). DynamoDB's TTL deletes items of
 * webhooks no longer attempted a day after their last lease.
 */
export class DynamoWebhookLeases extends DynamoTable implements WebhookLeases, AwsAdapter {
  readonly awsCalls: AwsCalls<DynamoWebhookLeases> = {
    take: [dynamoCall('tenants', 'GetItem', 'UpdateItem')],
    drop: [dynamoCall('tenants', 'UpdateItem')],
  };

  async take(holder: SlotHolder, id: string, until: Date, now: Date, limit?: number): Promise<boolean> {
    const key = keyOf(holder);
    for (let round = 0; round < ROUNDS; round++) {
      const item = await this.read(key);
      const leases = Object.entries((item?.['leases'] ?? {}) as Record<string, number>);
      const expired = leases.filter(([, expiry]) => expiry <= now.getTime()).map(([leaseId]) => leaseId);
      if (limit !== undefined && leases.length - expired.length >= limit) return false;
      if (await this.write(key, item?.['version'] as number | undefined, id, until, expired)) return true;
    }
    return false;
  }

  async drop(holder: SlotHolder, id: string): Promise<void> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: keyOf(holder),
          UpdateExpression: 'REMOVE leases.#id',
          // Never creates an item: a lease that is gone (expired and removed) is already free.
          ConditionExpression: 'attribute_exists(leases.#id)',
          ExpressionAttributeNames: { '#id': id },
        }),
      );
    } catch (err) {
      if (isConditionalCheckFailed(err)) return;
      throw new StoreError('could not give back a webhook lease', { cause: err });
    }
  }

  private async read(key: Record<string, string>): Promise<Record<string, unknown> | undefined> {
    try {
      const out = await this.doc.send(new GetCommand({ TableName: this.table, Key: key, ConsistentRead: true }));
      return out.Item;
    } catch (err) {
      throw new StoreError('could not read a webhook lease', { cause: err });
    }
  }

  /** Adds lease `id` if the item is still at `version` (absent: if it still does not exist). */
  private async write(key: Record<string, string>, version: number | undefined, id: string, until: Date, expired: readonly string[]): Promise<boolean> {
    const names: Record<string, string> = { '#id': id, '#v': 'version' };
    expired.forEach((leaseId, i) => (names[`#x${i}`] = leaseId));
    const values: Record<string, unknown> = { ':next': (version ?? 0) + 1, ':expires': Math.ceil((until.getTime() + DAY_MS) / 1000) };
    let update: string;
    if (version === undefined) {
      values[':leases'] = { [id]: until.getTime() };
      update = 'SET leases = :leases, #v = :next, expires_at = :expires';
    } else {
      values[':until'] = until.getTime();
      values[':version'] = version;
      update = `SET leases.#id = :until, #v = :next, expires_at = :expires${expired.length ? ` REMOVE ${expired.map((_, i) => `leases.#x${i}`).join(', ')}` : ''}`;
    }
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: key,
          UpdateExpression: update,
          ConditionExpression: version === undefined ? 'attribute_not_exists(pk)' : '#v = :version',
          ExpressionAttributeNames: version === undefined ? { '#v': 'version' } : names,
          ExpressionAttributeValues: values,
        }),
      );
      return true;
    } catch (err) {
      if (isConditionalCheckFailed(err)) return false;
      throw new StoreError('could not take a webhook lease', { cause: err });
    }
  }
}

const keyOf = (holder: SlotHolder): Record<string, string> => ({ pk: `SLOTS#${holder.tenant_id}#${holder.webhook_id}` });
