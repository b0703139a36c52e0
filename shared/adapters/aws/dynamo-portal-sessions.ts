import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { PortalSession, PortalSessionStore } from '../../usecases/portal-sessions.ts';
import { DynamoTable } from './dynamo-table.ts';
import { isConditionalCheckFailed, StoreError } from './errors.ts';
import { dynamoCall, type AwsAdapter, type AwsCalls } from './aws-calls.ts';

/** A session's item outlives its expiry by this much before DynamoDB's TTL may delete it. */
const KEEP_SECONDS = 86_400;

/**
 * Portal sessions in the tenants table (`PORTAL#<tenant>#<session id>`), one small item each,
 * deleted by DynamoDB's TTL a day after the session expires (an expired token is refused by its
 * own signed expiry first). Revoking sets `revoked_at` on the item.
 */
export class DynamoPortalSessions extends DynamoTable implements PortalSessionStore, AwsAdapter {
  readonly awsCalls: AwsCalls<DynamoPortalSessions> = {
    create: [dynamoCall('tenants', 'PutItem')],
    get: [dynamoCall('tenants', 'GetItem')],
    revoke: [dynamoCall('tenants', 'UpdateItem')],
  };

  async create(session: PortalSession): Promise<void> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: { pk: key(session.tenant_id, session.id), session, expires_at: Math.ceil(Date.parse(session.expires_at) / 1000) + KEEP_SECONDS },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    } catch (err) {
      throw new StoreError('could not store a portal session', { cause: err });
    }
  }

  async get(tenantId: string, sessionId: string): Promise<PortalSession | undefined> {
    try {
      const out = await this.doc.send(new GetCommand({ TableName: this.table, Key: { pk: key(tenantId, sessionId) }, ConsistentRead: true }));
      if (!out.Item) return undefined;
      const revokedAt = out.Item['revoked_at'] as string | undefined;
      return { ...(out.Item['session'] as PortalSession), ...(revokedAt ? { revoked_at: revokedAt } : {}) };
    } catch (err) {
      throw new StoreError('could not read a portal session', { cause: err });
    }
  }

  async revoke(tenantId: string, sessionId: string, at: string): Promise<boolean> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: key(tenantId, sessionId) },
          UpdateExpression: 'SET revoked_at = if_not_exists(revoked_at, :at)',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: { ':at': at },
        }),
      );
      return true;
    } catch (err) {
      if (isConditionalCheckFailed(err)) return false;
      throw new StoreError('could not revoke a portal session', { cause: err });
    }
  }
}

const key = (tenantId: string, sessionId: string): string => `PORTAL#${tenantId}#${sessionId}`;
