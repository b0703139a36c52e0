/**
 * The stand-ins of the Lambda suite, built from the template: dynalite (in a worker thread, in
 * memory) with a table per `AWS::DynamoDB::Table` (its keys and global secondary indexes), and
 * fauxqs with a queue per `AWS::SQS::Queue` (its attributes and redrive policy), both listening
 * on 127.0.0.1 only. Tables and queues get the names the template's `Ref`s resolve to.
 */
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateQueueCommand, SQSClient } from '@aws-sdk/client-sqs';
import { Worker } from 'node:worker_threads';
import { buildApp } from 'fauxqs';
import { ACCOUNT, REGION, StackModel } from './template.ts';

export interface StandIns {
  readonly dynamoOrigin: string;
  readonly sqsOrigin: string;
  /** The harness's own client of fauxqs (the event source mappings, Scheduler's sends). */
  readonly sqs: SQSClient;
  /** The URL of a queue on fauxqs, by its logical id. */
  queueUrl(logicalId: string): string;
  stop(): Promise<void>;
}

const CREDENTIALS = { accessKeyId: 'lambda-suite', secretAccessKey: 'lambda-suite' };

/** Queue attributes of `AWS::SQS::Queue` that SQS's CreateQueue takes as they are. */
const QUEUE_ATTRIBUTES = ['DelaySeconds', 'MaximumMessageSize', 'MessageRetentionPeriod', 'ReceiveMessageWaitTimeSeconds', 'VisibilityTimeout'];

export async function startStandIns(model: StackModel): Promise<StandIns> {
  const db = new Worker(new URL('../../infra/local/dynalite-worker.ts', import.meta.url), { workerData: { path: undefined } });
  const dbPort = await new Promise<number>((resolve, reject) => {
    db.once('error', reject);
    db.once('message', (m: { port: number }) => resolve(m.port));
  });
  const dynamoOrigin = `http://127.0.0.1:${dbPort}`;
  const fauxqs = buildApp({ logger: false, defaultRegion: REGION });
  await fauxqs.listen({ port: 0, host: '127.0.0.1' });
  const sqsOrigin = `http://127.0.0.1:${(fauxqs.server.address() as { port: number }).port}`;
  const sqs = new SQSClient({ endpoint: sqsOrigin, region: REGION, credentials: CREDENTIALS });
  const dynamo = new DynamoDBClient({ endpoint: dynamoOrigin, region: REGION, credentials: CREDENTIALS });
  const ctx = { sqsOrigin };

  await Promise.all(
    model.ofType('AWS::DynamoDB::Table').map((id) => {
      const p = model.resolve(model.resource(id).Properties, ctx);
      return dynamo.send(
        new CreateTableCommand({
          TableName: model.physicalName(id),
          KeySchema: p.KeySchema,
          AttributeDefinitions: p.AttributeDefinitions,
          BillingMode: 'PAY_PER_REQUEST',
          ...(p.GlobalSecondaryIndexes?.length
            ? { GlobalSecondaryIndexes: p.GlobalSecondaryIndexes.map((i: any) => ({ IndexName: i.IndexName, KeySchema: i.KeySchema, Projection: i.Projection })) }
            : {}),
          ...(p.LocalSecondaryIndexes?.length ? { LocalSecondaryIndexes: p.LocalSecondaryIndexes } : {}),
        }),
      );
    }),
  );
  dynamo.destroy();

  // Dead-letter queues before the queues whose redrive policy names them.
  const queues = model.ofType('AWS::SQS::Queue');
  const dlqOf = (id: string) => StackModel.target(model.resource(id).Properties?.RedrivePolicy?.deadLetterTargetArn);
  const ordered = [...queues.filter((id) => !dlqOf(id)), ...queues.filter((id) => dlqOf(id))];
  for (const id of ordered) {
    const p = model.resolve(model.resource(id).Properties ?? {}, ctx);
    const attributes: Record<string, string> = {};
    for (const name of QUEUE_ATTRIBUTES) if (p[name] !== undefined) attributes[name] = String(p[name]);
    if (p.RedrivePolicy) attributes['RedrivePolicy'] = JSON.stringify(p.RedrivePolicy);
    if (p.FifoQueue) attributes['FifoQueue'] = String(p.FifoQueue);
    await sqs.send(new CreateQueueCommand({ QueueName: model.physicalName(id), Attributes: attributes }));
  }

  return {
    dynamoOrigin,
    sqsOrigin,
    sqs,
    queueUrl: (logicalId) => `${sqsOrigin}/${ACCOUNT}/${model.physicalName(logicalId)}`,
    async stop() {
      sqs.destroy();
      await fauxqs.close();
      await new Promise<void>((resolve) => {
        db.once('message', () => resolve());
        db.postMessage('stop');
      });
      await db.terminate();
    },
  };
}
