import { EventEmitter } from 'node:events';
import type { StatementSync } from 'node:sqlite';
import type { DeliveryMessage } from '../../domain/deliveries.ts';
import type { PublishedEvent } from '../../domain/events.ts';
import type { RetryScheduler } from '../../usecases/dispatch.ts';
import type { DeliveryQueue } from '../../usecases/fan-out.ts';
import type { Clock } from '../../usecases/ports.ts';
import type { EventQueue } from '../../usecases/publish-events.ts';
import type { HooklineDatabase } from './database.ts';
import { BOUND_INT } from './sqlite-table.ts';

/**
 * The one-machine runtime's queues, durable in the same SQLite database as the stores: what the
 * use cases rely on from SQS, and nothing more. A message is held back (`delay`), hidden while
 * a consumer works on it (visibility timeout), seen again if not deleted in time (redelivery), and
 * moved to the dead-letter table once received `maxReceiveCount` times, as SQS's redrive policy
 * does. Consumers (QueuePoller) delete what succeeded and leave the rest: partial batch failure.
 *
 * All SQL runs synchronously (node:sqlite), so a send inside a caller's transaction is part of it.
 */

/** The queues the pipeline uses, as on AWS. */
export type QueueName = 'events' | 'deliveries';

export interface QueueSettings {
  /** How long a received message stays hidden before it is seen again (as the queue's VisibilityTimeout). */
  readonly visibilityMs: number;
  /** Receives after which a message goes to the dead-letter table (the redrive policy's maxReceiveCount). */
  readonly maxReceiveCount: number;
}

/** One message as a consumer receives it; `receipt` deletes it (a receipt of an earlier receive deletes nothing). */
export interface QueuedMessage {
  readonly id: string;
  readonly receipt: string;
  readonly body: string;
  readonly groupId: string | undefined;
  readonly sentAt: Date;
  /** This receive included. */
  readonly receiveCount: number;
}

export interface OutgoingMessage {
  readonly body: string;
  /** The message's tenant, as its SQS MessageGroupId. */
  readonly groupId?: string;
  readonly delayMs?: number;
}

/** A message moved to the dead-letter table. */
export interface DeadLetter {
  readonly id: string;
  readonly queue: QueueName;
  readonly body: string;
  readonly receiveCount: number;
  readonly deadAt: Date;
}

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS queue_messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    queue TEXT NOT NULL,
    body TEXT NOT NULL,
    group_id TEXT,
    sent_at INTEGER NOT NULL,
    visible_at INTEGER NOT NULL,
    receive_count INTEGER NOT NULL DEFAULT 0,
    receipt TEXT
  );
  CREATE INDEX IF NOT EXISTS queue_messages_visible ON queue_messages (queue, visible_at, id);
  CREATE TABLE IF NOT EXISTS queue_dead_letters (
    id INTEGER PRIMARY KEY,
    queue TEXT NOT NULL,
    body TEXT NOT NULL,
    group_id TEXT,
    sent_at INTEGER NOT NULL,
    receive_count INTEGER NOT NULL,
    dead_at INTEGER NOT NULL
  );
`;

/** A visible message's row (`due`, rows as arrays: see HooklineDatabase.prepareRowsAsArrays). */
type DueRow = [id: number, body: string, group_id: string | null, sent_at: number, receive_count: number];

/** The queue tables, and the statements every queue of the database shares. */
export class SqliteQueues {
  private readonly db: HooklineDatabase;
  private readonly clock: Clock;
  private readonly settings: Readonly<Record<QueueName, QueueSettings>>;
  /** `sent` (queue name): a consumer waiting for messages wakes at once instead of on its next poll. */
  private readonly sent = new EventEmitter();
  private readonly statements: {
    insert: StatementSync;
    due: StatementSync;
    take: StatementSync;
    bury: StatementSync;
    remove: StatementSync;
    deleteByReceipt: StatementSync;
    nextVisible: StatementSync;
    depth: StatementSync;
    deadLetters: StatementSync;
  };

  constructor(db: HooklineDatabase, settings: Readonly<Record<QueueName, QueueSettings>>, clock: Clock) {
    this.db = db;
    this.clock = clock;
    this.settings = settings;
    this.sent.setMaxListeners(0);
    db.exec(SCHEMA);
    const due = db.prepareRowsAsArrays(
      `SELECT id, body, group_id, sent_at, receive_count FROM queue_messages WHERE queue = ? AND visible_at <= ? ORDER BY visible_at, id LIMIT ${BOUND_INT}`,
    );
    this.statements = {
      insert: db.prepare('INSERT INTO queue_messages (queue, body, group_id, sent_at, visible_at) VALUES (?, ?, ?, ?, ?)'),
      due,
      take: db.prepare('UPDATE queue_messages SET receive_count = receive_count + 1, visible_at = ?, receipt = ? WHERE id = ?'),
      bury: db.prepare(
        'INSERT INTO queue_dead_letters (id, queue, body, group_id, sent_at, receive_count, dead_at) SELECT id, queue, body, group_id, sent_at, receive_count, ? FROM queue_messages WHERE id = ?',
      ),
      remove: db.prepare('DELETE FROM queue_messages WHERE id = ?'),
      deleteByReceipt: db.prepare('DELETE FROM queue_messages WHERE id = ? AND receipt = ?'),
      nextVisible: db.prepare('SELECT MIN(visible_at) AS at FROM queue_messages WHERE queue = ?'),
      depth: db.prepare('SELECT COUNT(*) AS n FROM queue_messages WHERE queue = ?'),
      deadLetters: db.prepare('SELECT id, queue, body, receive_count, dead_at FROM queue_dead_letters WHERE queue = ? ORDER BY id'),
    };
  }

  /** Sends the messages in one transaction (or in the caller's). */
  send(queue: QueueName, messages: readonly OutgoingMessage[]): void {
    if (messages.length === 0) return;
    const now = this.clock().getTime();
    this.inTransaction(() => {
      for (const m of messages) {
        this.statements.insert.run(queue, m.body, m.groupId ?? null, now, now + Math.max(0, Math.ceil(m.delayMs ?? 0)));
      }
    });
    this.sent.emit(queue);
  }

  /**
   * Receives up to `max` visible messages, oldest first, and hides them for the queue's visibility
   * timeout. A message already received `maxReceiveCount` times goes to the dead-letter table instead.
   */
  receive(queue: QueueName, max: number): QueuedMessage[] {
    const { visibilityMs, maxReceiveCount } = this.settings[queue];
    const now = this.clock().getTime();
    return this.inTransaction(() => {
      const received: QueuedMessage[] = [];
      for (const [id, body, groupId, sentAt, receivedBefore] of this.statements.due.all(queue, now, max) as unknown as DueRow[]) {
        if (receivedBefore >= maxReceiveCount) {
          this.statements.bury.run(now, id);
          this.statements.remove.run(id);
          continue;
        }
        const receiveCount = receivedBefore + 1;
        const receipt = `${id}.${receiveCount}`;
        this.statements.take.run(now + visibilityMs, receipt, id);
        received.push({ id: String(id), receipt, body, groupId: groupId ?? undefined, sentAt: new Date(sentAt), receiveCount });
      }
      return received;
    });
  }

  /** Deletes received messages by their receipts, in one transaction. */
  delete(receipts: readonly string[]): void {
    if (receipts.length === 0) return;
    this.inTransaction(() => {
      for (const receipt of receipts) {
        const id = Number(receipt.split('.')[0]);
        this.statements.deleteByReceipt.run(id, receipt);
      }
    });
  }

  /**
   * This process is the queues' only consumer: at start, what an earlier process had received and
   * not deleted can be seen at once instead of after its visibility timeout.
   */
  releaseReceived(): Record<QueueName, number> {
    const release = this.db.prepare('UPDATE queue_messages SET visible_at = ?, receipt = NULL WHERE queue = ? AND receipt IS NOT NULL');
    const now = this.clock().getTime();
    return this.inTransaction(() => ({
      events: Number(release.run(now, 'events').changes),
      deliveries: Number(release.run(now, 'deliveries').changes),
    }));
  }

  /** When the queue's next message becomes visible (undefined: the queue is empty). */
  nextVisibleAt(queue: QueueName): number | undefined {
    const row = this.statements.nextVisible.get(queue) as { at: number | null } | undefined;
    return row?.at ?? undefined;
  }

  /** Messages in the queue, visible or not. */
  depth(queue: QueueName): number {
    return Number((this.statements.depth.get(queue) as { n: number }).n);
  }

  deadLetters(queue: QueueName): DeadLetter[] {
    return (this.statements.deadLetters.all(queue) as { id: number; queue: QueueName; body: string; receive_count: number; dead_at: number }[]).map(
      (r) => ({ id: String(r.id), queue: r.queue, body: r.body, receiveCount: r.receive_count, deadAt: new Date(r.dead_at) }),
    );
  }

  /** Calls `listener` whenever messages are sent to `queue`; returns the unsubscribe. */
  onSent(queue: QueueName, listener: () => void): () => void {
    this.sent.on(queue, listener);
    return () => this.sent.off(queue, listener);
  }

  /** All or nothing, in its own transaction or as a savepoint of the caller's (or the group commit's). */
  private inTransaction<T>(work: () => T): T {
    return this.db.transaction(work);
  }
}

/** The events queue: each message carries the whole event, as on SQS (ingest -> fan-out). */
export class SqliteEventQueue implements EventQueue {
  private readonly queues: SqliteQueues;
  /** The SQS queue's size rule (1 MiB), so that both runtimes accept the same events. */
  private readonly bodyFits: (body: string) => boolean;
  constructor(queues: SqliteQueues, bodyFits: (body: string) => boolean) {
    this.queues = queues;
    this.bodyFits = bodyFits;
  }
  enqueue(events: readonly PublishedEvent[]): Promise<void> {
    this.queues.send('events', events.map((e) => ({ body: JSON.stringify(e), groupId: e.tenant_id })));
    return Promise.resolve();
  }
  fits(event: PublishedEvent): boolean {
    return this.bodyFits(JSON.stringify(event));
  }
}

/**
 * The deliveries queue, also the retry timer: a retry is a message held back until it is due,
 * however far away (SQS holds one back 15 minutes at most; here a row's `visible_at` has no limit).
 */
export class SqliteDeliveryQueue implements DeliveryQueue, RetryScheduler {
  private readonly queues: SqliteQueues;
  private readonly clock: Clock;
  constructor(queues: SqliteQueues, clock: Clock) {
    this.queues = queues;
    this.clock = clock;
  }
  enqueue(messages: readonly DeliveryMessage[], delaySeconds = 0): Promise<void> {
    this.queues.send('deliveries', messages.map((m) => ({ body: JSON.stringify(m), groupId: m.tenant_id, delayMs: delaySeconds * 1000 })));
    return Promise.resolve();
  }
  schedule(message: DeliveryMessage, at: Date): Promise<void> {
    const { not_before: _due, ...rest } = message;
    const delayMs = at.getTime() - this.clock().getTime();
    this.queues.send('deliveries', [{ body: JSON.stringify(rest), groupId: message.tenant_id, delayMs }]);
    return Promise.resolve();
  }
}
