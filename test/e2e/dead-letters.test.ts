/**
 * A message that failed every receive goes to the dead-letter table, and the runtime says so in
 * its log (as SQS's dead-letter queue alarm would on AWS): the queue, the message, the work's ids,
 * never the event's data. The message is put in the queue as the last process would have left it,
 * received 5 times (the stack's maxReceiveCount), so that the next receive buries it. Before
 * that, each failed receive is logged with its cause.
 */
import { writeFile } from 'node:fs/promises';
import { DatabaseSync } from 'node:sqlite';
import { join } from 'node:path';
import { createWebhook, publish } from '../support/hookline.ts';
import { api, eventually, startRuntime, type Runtime } from '../support/runtime.ts';

let rt: Runtime | undefined;
afterAll(async () => {
  await rt?.cleanup();
});

it('logs a warning with the ids of the work, and not its data, when a message goes to the dead-letter table', async () => {
  rt = await startRuntime();
  await rt.stop();
  const message = {
    delivery_id: 'dlv_01JDEADLETTERTEST000000000',
    tenant_id: 'default',
    webhook_id: 'wh_01JDEADLETTERTEST000000000',
    event_id: 'evt-dead-letter',
    attempt: 2,
    trigger: 'scheduled',
    event: { id: 'evt-dead-letter', tenant_id: 'default', event: 'scan.completed', data: { marker: 'data-that-stays-out-of-logs' } },
  };
  const db = new DatabaseSync(join(rt.dataDir, 'hookline.db'));
  try {
    db.prepare('INSERT INTO queue_messages (queue, body, group_id, sent_at, visible_at, receive_count) VALUES (?, ?, ?, ?, ?, ?)').run(
      'deliveries',
      JSON.stringify(message),
      'default',
      Date.now(),
      0,
      5,
    );
  } finally {
    db.close();
  }

  rt = await rt.restart();
  const line = await eventually('the dead letter in the log', async () => rt!.stdout().split('\n').find((l) => l.includes('dead-letter table')));
  expect(JSON.parse(line)).toMatchObject({
    level: 'WARN',
    message: 'a message went to the dead-letter table after failing every receive',
    queue: 'deliveries',
    receive_count: 5,
    tenant_id: 'default',
    delivery_id: message.delivery_id,
    attempt: 2,
  });
  expect(rt.stdout() + rt.stderr()).not.toContain('data-that-stays-out-of-logs');
  await rt.stop();

  const after = new DatabaseSync(join(rt.dataDir, 'hookline.db'));
  try {
    expect(after.prepare("SELECT COUNT(*) AS n FROM queue_messages WHERE queue = 'deliveries'").get()).toEqual({ n: 0 });
    expect(after.prepare("SELECT queue, receive_count FROM queue_dead_letters").all()).toEqual([{ queue: 'deliveries', receive_count: 5 }]);
  } finally {
    after.close();
  }
});

it("logs each failed receive of a delivery message with its ids and its cause (the batch processor's error names none)", async () => {
  rt = await startRuntime();
  await createWebhook(api(rt.baseUrl, rt.apiKey), { url: 'http://127.0.0.1:9/never-reached', events: ['scan.completed'] });
  await rt.stop();
  // The tenant's credentials secret no longer parses: every attempt fails before it is sent.
  await writeFile(join(rt.dataDir, 'secrets', `${encodeURIComponent('hookline/tenants/default')}.secret`), '{"wh_');
  rt = await rt.restart();
  await publish(api(rt.baseUrl, rt.apiKey), { event: 'scan.completed', data: { n: 1 } });
  const line = await eventually('the failed receive in the log', async () => rt!.stdout().split('\n').find((l) => l.includes('delivery message failed')));
  const entry = JSON.parse(line);
  expect(entry).toMatchObject({ level: 'ERROR', message: 'delivery message failed; it is received again', attempt: 1, message_id: expect.any(String) });
  expect(entry.delivery_id).toMatch(/^dlv_/);
  // The cause, however the store wraps it: the secret's JSON that does not parse.
  expect(JSON.stringify(entry.error)).toMatch(/JSON/);
});

