import { SendMessageBatchCommand, SQSClient, type SendMessageBatchCommandInput } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { MAX_SQS_MESSAGE_BYTES, sqsMessageBytes, sqsSafeJson } from '../../shared/adapters/aws/sqs-messages.ts';
import { SqsQueue } from '../../shared/adapters/aws/sqs-queue.ts';
import { SqsDeliveryQueue, SqsEventQueue } from '../../shared/adapters/aws/queues.ts';
import { QueueError } from '../../shared/adapters/aws/errors.ts';
import type { DeliveryMessage } from '../../shared/domain/deliveries.ts';
import type { PublishedEvent } from '../../shared/domain/events.ts';
import { rejection } from '../support/rejection.ts';

const QUEUE_URL = 'https://sqs.us-east-1.amazonaws.com/000000000000/hookline-deliveries';
const sqs = mockClient(SQSClient);
const client = () => new SQSClient({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' } });

/** Accepts every entry, as SQS does when nothing fails. */
const acceptAll = (input: SendMessageBatchCommandInput) => ({
  Successful: (input.Entries ?? []).map((e) => ({ Id: e.Id!, MessageId: `m-${e.Id}`, MD5OfMessageBody: 'x' })),
  Failed: [],
});

const batchInputs = (): SendMessageBatchCommandInput[] => sqs.commandCalls(SendMessageBatchCommand).map((c) => c.args[0].input);

beforeEach(() => sqs.reset());
afterAll(() => sqs.restore());

describe('SqsQueue.sendMany', () => {
  it('sends 23 messages as SendMessageBatch calls of 10, 10 and 3 with ids unique within each call', async () => {
    sqs.on(SendMessageBatchCommand).callsFake(acceptAll);
    const bodies = Array.from({ length: 23 }, (_, i) => `body-${i}`);
    await new SqsQueue(client(), QUEUE_URL).sendMany(bodies.map((body) => ({ body })));

    const inputs = batchInputs();
    expect(inputs.map((i) => i.Entries!.length).sort((a, b) => b - a)).toEqual([10, 10, 3]);
    for (const input of inputs) {
      expect(input.QueueUrl).toBe(QUEUE_URL);
      const ids = input.Entries!.map((e) => e.Id);
      expect(new Set(ids).size).toBe(ids.length);
      // SQS batch entry ids: alphanumerics, hyphens and underscores, up to 80 characters.
      for (const id of ids) expect(id).toMatch(/^[A-Za-z0-9_-]{1,80}$/);
      // A message without a delay carries no DelaySeconds (the queue's default applies).
      for (const e of input.Entries!) expect(e.DelaySeconds).toBeUndefined();
    }
    // Every message is sent exactly once.
    expect(inputs.flatMap((i) => i.Entries!.map((e) => e.MessageBody)).sort()).toEqual([...bodies].sort());
  });

  it('keeps a batch under SQS\'s 1 MiB in all: 10 messages of 300 KB go as 4 calls', async () => {
    sqs.on(SendMessageBatchCommand).callsFake(acceptAll);
    const bodies = Array.from({ length: 10 }, (_, i) => JSON.stringify({ i, pad: 'x'.repeat(300_000) }));
    await new SqsQueue(client(), QUEUE_URL).sendMany(bodies.map((body) => ({ body })));
    const inputs = batchInputs();
    for (const input of inputs) {
      expect(input.Entries!.reduce((n, e) => n + Buffer.byteLength(e.MessageBody!), 0)).toBeLessThanOrEqual(MAX_SQS_MESSAGE_BYTES);
    }
    expect(inputs).toHaveLength(4);
    expect(inputs.flatMap((i) => i.Entries!.map((e) => e.MessageBody)).sort()).toEqual([...bodies].sort());
  });

  it('sends non-ASCII text as its UTF-8 bytes; only what SQS or its stand-in refuses is escaped', () => {
    const text = JSON.stringify({ cjk: '日本語のテキスト', accents: 'héllo ü', emoji: '😀', forbidden: '\uffff' });
    const safe = sqsSafeJson(text);
    expect(JSON.parse(safe)).toEqual(JSON.parse(text));
    expect(safe).toContain('日本語のテキスト');
    expect(safe).toContain('héllo ü');
    expect(safe).toContain('\\ud83d\\ude00');
    expect(safe).toContain('\\uffff');
    // 250 KB of CJK costs its UTF-8 size, not 6 bytes a character as \u escapes did.
    const cjk = JSON.stringify({ text: '字'.repeat(80_000) });
    expect(sqsMessageBytes(cjk)).toBe(Buffer.byteLength(cjk, 'utf8'));
  });

  it('with coalesceMs, concurrent callers share SendMessageBatch calls and each learns its outcome', async () => {
    sqs.on(SendMessageBatchCommand).callsFake(acceptAll);
    const queue = new SqsQueue(client(), QUEUE_URL, { coalesceMs: 5 });
    await Promise.all(Array.from({ length: 12 }, (_, i) => queue.sendMany([{ body: `one-${i}` }])));
    expect(batchInputs().map((i) => i.Entries!.length).sort((a, b) => b - a)).toEqual([10, 2]);

    sqs.reset();
    sqs.on(SendMessageBatchCommand).rejects(new Error('throttled'));
    const outcomes = await Promise.allSettled([queue.sendMany([{ body: 'a' }]), queue.sendMany([{ body: 'b' }])]);
    expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'rejected']);
    expect(batchInputs()).toHaveLength(1);
  });

  it('sends nothing for no messages', async () => {
    sqs.on(SendMessageBatchCommand).callsFake(acceptAll);
    await new SqsQueue(client(), QUEUE_URL).sendMany([]);
    expect(batchInputs()).toHaveLength(0);
  });

  it('rounds DelaySeconds up to whole seconds and caps it at 900', async () => {
    sqs.on(SendMessageBatchCommand).callsFake(acceptAll);
    await new SqsQueue(client(), QUEUE_URL).sendMany([
      { body: 'a', delaySeconds: 0.2 },
      { body: 'b', delaySeconds: 29.01 },
      { body: 'c', delaySeconds: 900 },
      { body: 'd', delaySeconds: 899.5 },
      { body: 'e', delaySeconds: 901 },
      { body: 'f', delaySeconds: 7200 },
    ]);
    const entries = batchInputs()[0]!.Entries!;
    expect(Object.fromEntries(entries.map((e) => [e.MessageBody, e.DelaySeconds]))).toEqual({
      a: 1,
      b: 30,
      c: 900,
      d: 900,
      e: 900,
      f: 900,
    });
  });

  it('retries only the entries reported in Failed, once, and succeeds when the retry is accepted', async () => {
    sqs
      .on(SendMessageBatchCommand)
      .callsFakeOnce((input: SendMessageBatchCommandInput) => ({
        Successful: input.Entries!.filter((e) => !['m1', 'm3'].includes(e.MessageBody!)).map((e) => ({ Id: e.Id!, MessageId: 'x', MD5OfMessageBody: 'x' })),
        Failed: input.Entries!.filter((e) => ['m1', 'm3'].includes(e.MessageBody!)).map((e) => ({
          Id: e.Id!,
          SenderFault: false,
          Code: 'InternalError',
        })),
      }))
      .callsFake(acceptAll);
    await new SqsQueue(client(), QUEUE_URL).sendMany(['m0', 'm1', 'm2', 'm3'].map((body) => ({ body, delaySeconds: 5 })));
    const inputs = batchInputs();
    expect(inputs).toHaveLength(2);
    expect(inputs[1]!.Entries!.map((e) => e.MessageBody)).toEqual(['m1', 'm3']);
    // The retried entries keep their delay.
    expect(inputs[1]!.Entries!.map((e) => e.DelaySeconds)).toEqual([5, 5]);
  });

  it('throws a QueueError when an entry fails again on the retry', async () => {
    sqs.on(SendMessageBatchCommand).callsFake((input: SendMessageBatchCommandInput) => ({
      Successful: input.Entries!.slice(1).map((e) => ({ Id: e.Id!, MessageId: 'x', MD5OfMessageBody: 'x' })),
      Failed: input.Entries!.slice(0, 1).map((e) => ({ Id: e.Id!, SenderFault: false, Code: 'InternalError' })),
    }));
    const err = await rejection(new SqsQueue(client(), QUEUE_URL).sendMany(['a', 'b', 'c'].map((body) => ({ body }))));
    expect(err).toBeInstanceOf(QueueError);
    expect(err.name).toBe('QueueError');
    // One first try, one retry: never more.
    const inputs = batchInputs();
    expect(inputs).toHaveLength(2);
    expect(inputs[1]!.Entries!.map((e) => e.MessageBody)).toEqual(['a']);
  });

  it('wraps a rejected SendMessageBatch call in a QueueError with the SDK error as cause', async () => {
    const sdkError = new Error('throttled');
    sqs.on(SendMessageBatchCommand).rejects(sdkError);
    const err = await rejection(new SqsQueue(client(), QUEUE_URL).sendMany([{ body: 'a' }]));
    expect(err).toBeInstanceOf(QueueError);
    expect(err.cause).toBe(sdkError);
  });
});

describe('SqsEventQueue', () => {
  it('sends each event whole as a JSON body', async () => {
    sqs.on(SendMessageBatchCommand).callsFake(acceptAll);
    const event: PublishedEvent = {
      tenant_id: 't1',
      id: 'evt_1',
      event: 'scan.completed',
      timestamp: '2025-01-01T00:00:00.000Z',
      data: { n: 1 },
      received_at: '2025-01-01T00:00:01.000Z',
    };
    await new SqsEventQueue(client(), QUEUE_URL).enqueue([event]);
    expect(JSON.parse(batchInputs()[0]!.Entries![0]!.MessageBody!)).toEqual(event);
    // The tenant is the fair queue's group: one tenant's flood does not hold up the others.
    expect(batchInputs()[0]!.Entries![0]!.MessageGroupId).toBe('t1');
  });
});

describe('MessageGroupId (SQS fair queues)', () => {
  const message = (tenant: string, n: number): DeliveryMessage => ({ delivery_id: `d${n}`, tenant_id: tenant, webhook_id: 'w1', event_id: `e${n}`, attempt: 1 });
  const groups = () => Object.fromEntries(batchInputs().flatMap((i) => i.Entries!.map((e) => [JSON.parse(e.MessageBody!).delivery_id, e.MessageGroupId])));

  beforeEach(() => sqs.on(SendMessageBatchCommand).callsFake(acceptAll));

  it('is the tenant of every delivery message, enqueued or scheduled', async () => {
    const queue = new SqsDeliveryQueue(client(), QUEUE_URL, () => new Date('2025-03-01T12:00:00.000Z'));
    await queue.enqueue([message('ten_A', 1), message('ten_B', 2), message('ten_A', 3)]);
    await queue.schedule(message('ten_B', 4), new Date('2025-03-01T12:00:01.000Z'));
    await queue.schedule(message('ten_A', 5), new Date('2025-03-01T15:00:00.000Z'));
    expect(groups()).toEqual({ d1: 'ten_A', d2: 'ten_B', d3: 'ten_A', d4: 'ten_B', d5: 'ten_A' });
  });

  it('is kept on a retried entry, and absent from a message without a tenant', async () => {
    sqs
      .on(SendMessageBatchCommand)
      .callsFakeOnce((input: SendMessageBatchCommandInput) => ({
        Successful: [],
        Failed: input.Entries!.map((e) => ({ Id: e.Id!, SenderFault: false, Code: 'InternalError' })),
      }))
      .callsFake(acceptAll);
    await new SqsQueue(client(), QUEUE_URL).sendMany([{ body: 'a', tenantId: 'ten_A' }, { body: 'b' }]);
    const [first, retry] = batchInputs();
    for (const input of [first!, retry!]) {
      expect(input.Entries!.map((e) => [e.MessageBody, e.MessageGroupId])).toEqual([
        ['a', 'ten_A'],
        ['b', undefined],
      ]);
    }
  });
});

describe('SqsDeliveryQueue.schedule', () => {
  const NOW = new Date('2025-03-01T12:00:00.000Z');
  const clock = () => new Date(NOW);
  const message: DeliveryMessage = { delivery_id: 'd1', tenant_id: 't1', webhook_id: 'w1', event_id: 'e1', attempt: 2 };

  const sent = () => {
    const entry = batchInputs()[0]!.Entries![0]!;
    return { delay: entry.DelaySeconds, body: JSON.parse(entry.MessageBody!) as Record<string, unknown> };
  };

  beforeEach(() => sqs.on(SendMessageBatchCommand).callsFake(acceptAll));

  it('holds a message due in 30 s back 30 s, without not_before', async () => {
    await new SqsDeliveryQueue(client(), QUEUE_URL, clock).schedule(message, new Date(NOW.getTime() + 30_000));
    const { delay, body } = sent();
    expect(delay).toBe(30);
    expect(body).toEqual(message);
    expect(body).not.toHaveProperty('not_before');
  });

  it('drops a stale not_before from the message when the new due time is within 15 minutes', async () => {
    await new SqsDeliveryQueue(client(), QUEUE_URL, clock).schedule(
      { ...message, not_before: '2025-03-01T11:00:00.000Z' },
      new Date(NOW.getTime() + 60_000),
    );
    const { delay, body } = sent();
    expect(delay).toBe(60);
    expect(body).not.toHaveProperty('not_before');
  });

  it('holds a message due in 2 h back 900 s and carries not_before = the due time', async () => {
    const at = new Date(NOW.getTime() + 2 * 3600_000);
    await new SqsDeliveryQueue(client(), QUEUE_URL, clock).schedule(message, at);
    const { delay, body } = sent();
    expect(delay).toBe(900);
    expect(body).toEqual({ ...message, not_before: '2025-03-01T14:00:00.000Z' });
  });

  it('sends a message already due without a delay', async () => {
    await new SqsDeliveryQueue(client(), QUEUE_URL, clock).schedule(message, new Date(NOW.getTime() - 5_000));
    const { delay, body } = sent();
    expect(delay ?? 0).toBe(0);
    expect(body).toEqual(message);
  });

  it('enqueue passes the delay to every message', async () => {
    await new SqsDeliveryQueue(client(), QUEUE_URL, clock).enqueue([message, { ...message, delivery_id: 'd2' }], 10);
    expect(batchInputs()[0]!.Entries!.map((e) => e.DelaySeconds)).toEqual([10, 10]);
  });
});
