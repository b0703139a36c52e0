import { CreateTableCommand, DynamoDBClient, ListTablesCommand, type CreateTableCommandInput } from '@aws-sdk/client-dynamodb';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { startFauxqs } from 'fauxqs';
import { TABLES, type TableSchema } from '../../shared/adapters/aws/tables.ts';
import type { Settings } from '../../shared/config.ts';

/**
 * The embedded stand-ins: dynalite (DynamoDB on LevelDB, on disk in the data dir, in a worker
 * thread of its own) and fauxqs
 * (SQS, in memory: its SQLite persistence loses messages on ChangeMessageVisibility, and the
 * reconciler rebuilds the queues from DynamoDB after a restart anyway).
 */
export interface StandIns {
  readonly dynamoEndpoint: string;
  readonly sqsEndpoint: string;
  /** The delivery log is split over STAND_IN_LOG_TABLES tables, as the stack's `logTables` does. */
  readonly tables: Settings['tables'];
  readonly queues: { events: string; deliveries: string; eventsDlq: string; deliveriesDlq: string };
  stop(): Promise<void>;
}

export const QUEUE_SETTINGS = {
  /** Receives before a message goes to its DLQ, as in the CDK stack. */
  maxReceiveCount: 5,
  eventsVisibilitySeconds: 60,
  deliveriesVisibilitySeconds: 60,
};

const LOCAL_REGION = 'us-east-1';

/** Two: every test of the delivery log's adapter finds its entries over more than one table. */
export const STAND_IN_LOG_TABLES = 2;

export async function startStandIns(dataDir: string): Promise<StandIns> {
  const dbDir = join(dataDir, 'dynamodb');
  await mkdir(dbDir, { recursive: true, mode: 0o700 });
  const db = new Worker(new URL('./dynalite-worker.ts', import.meta.url), { workerData: { path: dbDir } });
  const port = await new Promise<number>((resolve, reject) => {
    db.once('error', reject);
    db.once('message', (m: { port: number }) => resolve(m.port));
  });
  const dynamoEndpoint = `http://127.0.0.1:${port}`;

  const sqs = await startFauxqs({ port: 0, logger: false, defaultRegion: LOCAL_REGION });
  const dlq = (name: string) => sqs.createQueue(`${name}-dlq`, { attributes: { MessageRetentionPeriod: '1209600' } });
  const queue = (name: string, visibility: number, dlqArn: string) =>
    sqs.createQueue(name, {
      attributes: {
        VisibilityTimeout: String(visibility),
        RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: QUEUE_SETTINGS.maxReceiveCount }),
      },
    });
  const eventsDlq = dlq('hookline-events');
  const deliveriesDlq = dlq('hookline-deliveries');
  const events = queue('hookline-events', QUEUE_SETTINGS.eventsVisibilitySeconds, eventsDlq.queueArn);
  const deliveries = queue('hookline-deliveries', QUEUE_SETTINGS.deliveriesVisibilitySeconds, deliveriesDlq.queueArn);

  // fauxqs names queues `sqs.<region>.localhost`, which needs DNS; the SDK sends to the queue
  // URL's host, so point the URLs at the loopback address the server listens on.
  const loopback = (queueUrl: string) => {
    const url = new URL(queueUrl);
    url.hostname = '127.0.0.1';
    return url.toString();
  };
  const tables = await createTables(dynamoEndpoint);
  return {
    dynamoEndpoint,
    sqsEndpoint: sqs.address,
    tables,
    queues: {
      events: loopback(events.queueUrl),
      deliveries: loopback(deliveries.queueUrl),
      eventsDlq: loopback(eventsDlq.queueUrl),
      deliveriesDlq: loopback(deliveriesDlq.queueUrl),
    },
    async stop() {
      await sqs.stop();
      await new Promise<void>((resolve) => {
        db.once('message', () => resolve());
        db.postMessage('stop');
      });
      await db.terminate();
    },
  };
}

/** Creates the tables of TABLES that do not exist yet, with the key schemas the CDK stack uses. */
async function createTables(endpoint: string): Promise<Settings['tables']> {
  const client = new DynamoDBClient({ endpoint, region: LOCAL_REGION, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  try {
    const existing = new Set((await client.send(new ListTablesCommand({}))).TableNames ?? []);
    const create = async (name: string, schema: TableSchema) => {
      if (!existing.has(name)) await client.send(new CreateTableCommand(createTableInput(name, schema)));
      return name;
    };
    const base = (schema: TableSchema) => `hookline-${schema.id.toLowerCase()}`;
    return {
      tenants: await create(base(TABLES.tenants), TABLES.tenants),
      webhooks: await create(base(TABLES.webhooks), TABLES.webhooks),
      events: await create(base(TABLES.events), TABLES.events),
      attempts: await Promise.all(
        Array.from({ length: STAND_IN_LOG_TABLES }, (_, i) => create(i === 0 ? base(TABLES.attempts) : `${base(TABLES.attempts)}-${i + 1}`, TABLES.attempts)),
      ),
    };
  } finally {
    client.destroy();
  }
}

function createTableInput(name: string, schema: TableSchema): CreateTableCommandInput {
  const attributes = new Map<string, 'S' | 'N'>();
  const keys = (pk: TableSchema['partitionKey'], sk?: TableSchema['partitionKey']) => {
    attributes.set(pk.name, pk.type);
    if (sk) attributes.set(sk.name, sk.type);
    return [{ AttributeName: pk.name, KeyType: 'HASH' as const }, ...(sk ? [{ AttributeName: sk.name, KeyType: 'RANGE' as const }] : [])];
  };
  const KeySchema = keys(schema.partitionKey, schema.sortKey);
  return {
    TableName: name,
    BillingMode: 'PAY_PER_REQUEST',
    KeySchema,
    AttributeDefinitions: [...attributes].map(([AttributeName, AttributeType]) => ({ AttributeName, AttributeType })),
  };
}
