import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { startStandIns, type StandIns } from '../../infra/local/standins.ts';
import { SqsPoller } from '../../infra/local/sqs-poller.ts';

let dataDir: string;
let standIns: StandIns;
let sqs: SQSClient;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'hookline-poller-'));
  standIns = await startStandIns(dataDir);
  sqs = new SQSClient({
    endpoint: standIns.sqsEndpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
});

afterAll(async () => {
  sqs?.destroy();
  await standIns?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

/** fauxqs answers with `sqs.<region>.localhost` URLs: point them at the loopback address. */
const loopback = (queueUrl: string) => {
  const url = new URL(queueUrl);
  url.hostname = '127.0.0.1';
  return url.toString();
};

async function createQueue(name: string, attributes: Record<string, string>) {
  const out = await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }));
  const url = loopback(out.QueueUrl!);
  const attrs = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }));
  return { url, arn: attrs.Attributes!['QueueArn']! };
}

/** A queue that hides a received message for 1 s and dead-letters it after 2 receives. */
async function queueWithDlq() {
  const suffix = randomUUID().slice(0, 8);
  const dlq = await createQueue(`poller-test-dlq-${suffix}`, {});
  const queue = await createQueue(`poller-test-${suffix}`, {
    VisibilityTimeout: '1',
    RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlq.arn, maxReceiveCount: 2 }),
  });
  return { queue, dlq };
}

async function send(url: string, bodies: string[]) {
  for (let i = 0; i < bodies.length; i += 10) {
    const Entries = bodies.slice(i, i + 10).map((MessageBody, j) => ({ Id: String(j), MessageBody }));
    await sqs.send(new SendMessageBatchCommand({ QueueUrl: url, Entries }));
  }
}

async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs: number, what: string) {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Every message on a queue now (received with a long visibility so each is seen once). */
async function drain(url: string): Promise<string[]> {
  const bodies: string[] = [];
  for (;;) {
    const out = await sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, VisibilityTimeout: 60 }));
    if (!out.Messages?.length) return bodies;
    bodies.push(...out.Messages.map((m) => m.Body!));
  }
}

const pollers: SqsPoller[] = [];
afterEach(async () => {
  await Promise.all(pollers.splice(0).map((p) => p.stop()));
});

function startPoller(queue: { url: string; arn: string }, handler: (event: SQSEvent) => Promise<SQSBatchResponse | void>, errors: unknown[] = []) {
  const poller = new SqsPoller({
    name: 'test-consumer',
    client: sqs,
    queueUrl: queue.url,
    queueArn: queue.arn,
    handler: (event) => handler(event),
    batchSize: 10,
    concurrency: 1,
    onError: (e) => errors.push(e),
  });
  pollers.push(poller);
  poller.start();
  return poller;
}

describe('SqsPoller', () => {
  it('deletes what the handler did not report, redelivers the reported failure, and it lands in the DLQ after max receives', async () => {
    const { queue, dlq } = await queueWithDlq();
    await send(queue.url, ['ok-1', 'bad', 'ok-2']);

    const seen: { body: string; receiveCount: string; arn: string; messageId: string }[] = [];
    const errors: unknown[] = [];
    startPoller(
      queue,
      async (event) => {
        for (const r of event.Records) {
          seen.push({ body: r.body, receiveCount: r.attributes.ApproximateReceiveCount, arn: r.eventSourceARN, messageId: r.messageId });
        }
        return { batchItemFailures: event.Records.filter((r) => r.body === 'bad').map((r) => ({ itemIdentifier: r.messageId })) };
      },
      errors,
    );

    // Received twice (maxReceiveCount 2), then moved to the DLQ on the third receive.
    await waitFor(() => seen.filter((s) => s.body === 'bad').length >= 2, 10_000, 'the failed message to come back');
    const dead: string[] = [];
    await waitFor(
      async () => {
        dead.push(...(await drain(dlq.url)));
        return dead.length > 0;
      },
      10_000,
      'the DLQ',
    );
    // Give the poller one more visibility timeout to show that nothing else comes back.
    await new Promise((r) => setTimeout(r, 1_500));
    dead.push(...(await drain(dlq.url)));

    expect(dead).toEqual(['bad']);
    const bodies = seen.map((s) => s.body);
    expect(bodies.filter((b) => b === 'ok-1')).toHaveLength(1);
    expect(bodies.filter((b) => b === 'ok-2')).toHaveLength(1);
    expect(bodies.filter((b) => b === 'bad')).toHaveLength(2);
    expect(seen.filter((s) => s.body === 'bad').map((s) => s.receiveCount)).toEqual(['1', '2']);
    expect(new Set(seen.map((s) => s.arn))).toEqual(new Set([queue.arn]));
    expect(errors).toEqual([]);
  });

  it('redelivers every message of a batch whose handler throws', async () => {
    const { queue } = await queueWithDlq();
    await send(queue.url, ['x', 'y']);
    const seen: string[] = [];
    let calls = 0;
    const errors: unknown[] = [];
    startPoller(
      queue,
      async (event) => {
        seen.push(...event.Records.map((r) => r.body));
        if (++calls === 1) throw new Error('handler crashed');
      },
      errors,
    );
    await waitFor(() => seen.filter((b) => b === 'x').length >= 2 && seen.filter((b) => b === 'y').length >= 2, 10_000, 'the redelivery');
    expect(errors.map((e) => (e as Error).message)).toContain('handler crashed');
    // The second run succeeded: after another visibility timeout the queue is empty.
    await new Promise((r) => setTimeout(r, 1_300));
    expect(seen.filter((b) => b === 'x')).toHaveLength(2);
    expect(await drain(queue.url)).toEqual([]);
  });

  it('deletes every message of a handler that returns nothing', async () => {
    const { queue, dlq } = await queueWithDlq();
    await send(queue.url, Array.from({ length: 12 }, (_, i) => `m${i}`));
    const seen: string[] = [];
    startPoller(queue, async (event) => {
      seen.push(...event.Records.map((r) => r.body));
      // Each record is a full Lambda SQS record.
      for (const r of event.Records) {
        expect(r.eventSource).toBe('aws:sqs');
        expect(r.receiptHandle).toBeTruthy();
        expect(r.messageId).toBeTruthy();
      }
    });
    await waitFor(() => seen.length >= 12, 10_000, 'the 12 messages');
    await new Promise((r) => setTimeout(r, 1_300));
    expect([...seen].sort()).toEqual(Array.from({ length: 12 }, (_, i) => `m${i}`).sort());
    expect(await drain(queue.url)).toEqual([]);
    expect(await drain(dlq.url)).toEqual([]);
  });

  // DIVERGENCE from Lambda (sqs-poller.ts:76,82): Lambda's SQS event source mapping treats a batch
  // as a complete failure when an itemIdentifier is empty, null, or not a message id of the batch
  // (AWS Lambda guide, "Handling errors for an SQS event source", success and failure conditions),
  // so every message comes back. The poller deletes every message whose id is not listed, so a
  // handler that reports a wrong id loses the whole batch locally instead of retrying it.
  it('treats a batchItemFailures id that is not in the batch as a failure of the whole batch, as Lambda does', async () => {
    const { queue } = await queueWithDlq();
    await send(queue.url, ['p', 'q']);
    const seen: string[] = [];
    let calls = 0;
    startPoller(queue, async (event) => {
      seen.push(...event.Records.map((r) => r.body));
      return ++calls === 1 ? { batchItemFailures: [{ itemIdentifier: 'not-a-message-of-this-batch' }] } : undefined;
    });
    await waitFor(() => seen.filter((b) => b === 'p').length >= 2 && seen.filter((b) => b === 'q').length >= 2, 3_000, 'the redelivery');
  });

  /** A poller of batches of 1 whose handler holds every `slow-*` message until released. */
  async function holdingPoller(concurrency: number) {
    const queue = await createQueue(`poller-test-slow-${randomUUID().slice(0, 8)}`, { VisibilityTimeout: '60' });
    const state = { handled: [] as string[], held: [] as (() => void)[], inFlight: 0, maxInFlight: 0, holding: true };
    const poller = new SqsPoller({
      name: 'test-consumer',
      client: sqs,
      queueUrl: queue.url,
      queueArn: queue.arn,
      handler: async (event) => {
        state.maxInFlight = Math.max(state.maxInFlight, ++state.inFlight);
        state.handled.push(...event.Records.map((r) => r.body));
        if (state.holding && event.Records.some((r) => r.body.startsWith('slow'))) await new Promise<void>((r) => state.held.push(r));
        state.inFlight--;
      },
      batchSize: 1,
      concurrency,
      receivers: 2,
      onError: () => undefined,
    });
    // Let go of everything before afterEach stops the poller, which waits for it.
    releaseHeld.push(() => {
      state.holding = false;
      state.held.splice(0).forEach((release) => release());
    });
    pollers.push(poller);
    poller.start();
    return { queue, state };
  }
  const releaseHeld: (() => void)[] = [];
  afterEach(() => {
    for (const release of releaseHeld.splice(0)) release();
  });

  it('keeps receiving while batches hang', async () => {
    const { queue, state } = await holdingPoller(3);
    await send(queue.url, ['slow-0', 'slow-1']);
    await waitFor(() => state.held.length === 2, 10_000, 'two held batches');
    await send(queue.url, ['fast']);
    await waitFor(() => state.handled.includes('fast'), 10_000, 'the quick message');
    expect(state.held).toHaveLength(2);
  });

  it('has at most `concurrency` invocations in flight, and starts the next when one ends', async () => {
    const { queue, state } = await holdingPoller(3);
    await send(queue.url, Array.from({ length: 6 }, (_, i) => `slow-${i}`));
    await waitFor(() => state.held.length === 3, 10_000, 'three held batches');
    state.held.shift()!();
    await waitFor(() => state.handled.length === 4, 10_000, 'a fourth batch');
    expect(state.maxInFlight).toBe(3);
    await waitFor(
      () => {
        state.held.splice(0).forEach((release) => release());
        return state.handled.length === 6 && state.inFlight === 0;
      },
      10_000,
      'every batch',
    );
    expect(state.maxInFlight).toBe(3);
    expect([...state.handled].sort()).toEqual(Array.from({ length: 6 }, (_, i) => `slow-${i}`));
  });

  it('stop() waits for the invocations in flight', async () => {
    const { queue } = await queueWithDlq();
    await send(queue.url, ['held']);
    let release: (() => void) | undefined;
    let finished = false;
    const poller = startPoller(queue, async () => {
      await new Promise<void>((r) => (release = r));
      finished = true;
    });
    await waitFor(() => release !== undefined, 10_000, 'the invocation');
    const stopped = poller.stop().then(() => finished);
    release!();
    await expect(stopped).resolves.toBe(true);
  });

  it('stop() ends a long poll promptly', async () => {
    const { queue } = await queueWithDlq();
    const poller = startPoller(queue, async () => undefined);
    await new Promise((r) => setTimeout(r, 100));
    const started = Date.now();
    await poller.stop();
    expect(Date.now() - started).toBeLessThan(1_000);
  });
});
