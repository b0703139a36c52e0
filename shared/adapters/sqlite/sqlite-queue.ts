import { EventEmitter } from 'node:events';
import type { StatementSync } from 'node:sqlite';
import type { Clock } from '../../usecases/ports.ts';
import type { HooklineDatabase } from './database.ts';
import { RowBackedLane } from './row-backed-lane.ts';
import type { DeadLetter, OutgoingMessage, QueuedMessage, QueueName, QueueSettings, RowBackedMessage } from './queue-messages.ts';
import { BOUND_INT } from './sqlite-table.ts';

/**
 * The one-machine runtime's queues, durable in the same SQLite database as the stores: what the
 * use cases rely on from SQS, and nothing more. A message is held back (`delay`), hidden while
 * a consumer works on it (visibility timeout), seen again if not deleted in time (redelivery), and
 * moved to the dead-letter table once received `maxReceiveCount` times, as SQS's redrive policy
 * does. Consumers (QueuePoller) delete what succeeded and leave the rest: partial batch failure.
 *
 * All SQL runs synchronously (node:sqlite), so a send inside a caller's transaction is part of it.
 *
 * A message whose work a durable row elsewhere already records may skip the table
 * (sendRowBacked): it is kept in memory with the same semantics (RowBackedLane), and whoever
 * sent it rebuilds it from that row after a restart.
 */

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
  CREATE INDEX IF NOT EXISTS queue_dead_letters_dead_at ON queue_dead_letters (dead_at);
`;

/**
 * How long a dead letter is kept: as the stack's dead-letter queues (SQS's longest retention).
 * The work it names is not lost with it: the reconciler queues overdue work again from its rows.
 */
export const DEAD_LETTER_RETENTION_MS = 14 * 24 * 60 * 60_000;

/** A visible message's row (`due`, rows as arrays: see HooklineDatabase.prepareRowsAsArrays). */
type DueRow = [id: number, body: string, group_id: string | null, sent_at: number, receive_count: number];

/** The queue tables, and the statements every queue of the database shares. */
export class SqliteQueues {
  private readonly db: HooklineDatabase;
  private readonly clock: Clock;
  private readonly settings: Readonly<Record<QueueName, QueueSettings>>;
  /** `sent` (queue name): a consumer waiting for messages wakes at once instead of on its next poll. */
  private readonly sent = new EventEmitter();
  /** Each queue's messages kept in memory (sendRowBacked), made on first use. */
  private readonly lanes: Partial<Record<QueueName, RowBackedLane>> = {};
  private readonly laneCapacity: number;
  /** Which a receive looks at first, the table or the lane, alternates: neither can starve the other. */
  private laneFirst = false;
  /** The lanes' message numbers, one sequence for all, so that a receipt names one message of one queue. */
  private laneMessages = 0;
  private readonly statements: {
    insert: StatementSync;
    due: StatementSync;
    take: StatementSync;
    bury: StatementSync;
    remove: StatementSync;
    setReceiveCount: StatementSync;
    deleteByReceipt: StatementSync;
    nextVisible: StatementSync;
    depth: StatementSync;
    deadLetters: StatementSync;
    purgeDeadLetters: StatementSync;
  };
  /** Told of each message moved to the dead-letter table (onDeadLetter). */
  private readonly deadLetterListeners = new Set<(letter: DeadLetter) => void>();

  /** `laneCapacity`: how many messages a queue keeps in memory (sendRowBacked) before it sends to the table. */
  constructor(db: HooklineDatabase, settings: Readonly<Record<QueueName, QueueSettings>>, clock: Clock, laneCapacity = 10_000) {
    this.db = db;
    this.clock = clock;
    this.settings = settings;
    this.laneCapacity = laneCapacity;
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
      setReceiveCount: db.prepare('UPDATE queue_messages SET receive_count = ? WHERE id = ?'),
      deleteByReceipt: db.prepare('DELETE FROM queue_messages WHERE id = ? AND receipt = ?'),
      nextVisible: db.prepare('SELECT MIN(visible_at) AS at FROM queue_messages WHERE queue = ?'),
      depth: db.prepare('SELECT COUNT(*) AS n FROM queue_messages WHERE queue = ?'),
      deadLetters: db.prepare('SELECT id, queue, body, receive_count, dead_at FROM queue_dead_letters WHERE queue = ? ORDER BY id'),
      purgeDeadLetters: db.prepare(`DELETE FROM queue_dead_letters WHERE id IN (SELECT id FROM queue_dead_letters WHERE dead_at <= ? LIMIT ${BOUND_INT})`),
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
   * Sends messages whose work a durable row already records, so that they need no row of their
   * own (RowBackedLane): kept in memory while the lane has room, else sent as `send` does. Whoever
   * calls this rebuilds them from those rows after a restart. Never delayed.
   */
  sendRowBacked(queue: QueueName, messages: readonly RowBackedMessage[]): void {
    const lane = (this.lanes[queue] ??= new RowBackedLane(this.laneCapacity, () => ++this.laneMessages));
    if (!lane.fits(messages.length)) return this.send(queue, messages.map((m) => ({ body: JSON.stringify(m.payload), ...(m.groupId ? { groupId: m.groupId } : {}) })));
    const now = this.clock();
    for (const m of messages) lane.add(m.payload, m.groupId, now);
    if (messages.length > 0) this.sent.emit(queue);
  }

  /**
   * Receives up to `max` visible messages, oldest first (the table's and the lane's in turns),
   * and hides them for the queue's visibility timeout. A message already received
   * `maxReceiveCount` times goes to the dead-letter table instead.
   */
  receive(queue: QueueName, max: number): QueuedMessage[] {
    const lane = this.lanes[queue];
    if (!lane || lane.size === 0) return this.receiveStored(queue, max);
    const { visibilityMs, maxReceiveCount } = this.settings[queue];
    const now = this.clock().getTime();
    const fromLane = (n: number) => lane.receive(n, now, visibilityMs, maxReceiveCount, (m) => this.buryRowBacked(queue, m, now));
    this.laneFirst = !this.laneFirst;
    const first = this.laneFirst ? fromLane(max) : this.receiveStored(queue, max);
    if (first.length === max) return first;
    return first.concat(this.laneFirst ? this.receiveStored(queue, max - first.length) : fromLane(max - first.length));
  }

  /** receive, from the table. */
  private receiveStored(queue: QueueName, max: number): QueuedMessage[] {
    const { visibilityMs, maxReceiveCount } = this.settings[queue];
    const now = this.clock().getTime();
    const buried: DeadLetter[] = [];
    const taken = this.inTransaction(() => {
      const received: QueuedMessage[] = [];
      for (const [id, body, groupId, sentAt, receivedBefore] of this.statements.due.all(queue, now, max) as unknown as DueRow[]) {
        if (receivedBefore >= maxReceiveCount) {
          this.statements.bury.run(now, id);
          this.statements.remove.run(id);
          buried.push({ id: String(id), queue, body, receiveCount: receivedBefore, deadAt: new Date(now) });
          continue;
        }
        const receiveCount = receivedBefore + 1;
        const receipt = `${id}.${receiveCount}`;
        this.statements.take.run(now + visibilityMs, receipt, id);
        received.push({ id: String(id), receipt, body, groupId: groupId ?? undefined, sentAt: new Date(sentAt), receiveCount });
      }
      return received;
    });
    buried.forEach((letter) => this.tellDeadLetter(letter));
    return taken;
  }

  /** Deletes received messages by their receipts, in one transaction. */
  delete(receipts: readonly string[]): void {
    const stored: string[] = [];
    for (const receipt of receipts) {
      // A lane's receipts are unique across lanes (one numbering): only the lane that gave it out holds it.
      if (RowBackedLane.owns(receipt)) for (const lane of Object.values(this.lanes)) lane.delete(receipt);
      else stored.push(receipt);
    }
    if (stored.length === 0) return;
    this.inTransaction(() => {
      for (const receipt of stored) {
        const id = Number(receipt.split('.')[0]);
        this.statements.deleteByReceipt.run(id, receipt);
      }
    });
  }

  /** A lane's message received too often goes to the dead-letter table as the table's do (through it, for an id of its own). */
  private buryRowBacked(queue: QueueName, message: QueuedMessage, now: number): void {
    const id = this.inTransaction(() => {
      const { lastInsertRowid } = this.statements.insert.run(queue, message.body, message.groupId ?? null, message.sentAt.getTime(), now);
      this.statements.setReceiveCount.run(message.receiveCount, lastInsertRowid);
      this.statements.bury.run(now, lastInsertRowid);
      this.statements.remove.run(lastInsertRowid);
      return lastInsertRowid;
    });
    this.tellDeadLetter({ id: String(id), queue, body: message.body, receiveCount: message.receiveCount, deadAt: new Date(now) });
  }

  private tellDeadLetter(letter: DeadLetter): void {
    for (const listener of this.deadLetterListeners) listener(letter);
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
    const stored = row?.at ?? undefined;
    const inLane = this.lanes[queue]?.nextVisibleAt(this.clock().getTime());
    return stored === undefined ? inLane : inLane === undefined ? stored : Math.min(stored, inLane);
  }

  /** Messages in the queue, visible or not. */
  /** How many more messages the queue's memory lane takes before sendRowBacked sends to the table. */
  laneRoom(queue: QueueName): number {
    return this.laneCapacity - (this.lanes[queue]?.size ?? 0);
  }

  depth(queue: QueueName): number {
    return Number((this.statements.depth.get(queue) as { n: number }).n) + (this.lanes[queue]?.size ?? 0);
  }

  deadLetters(queue: QueueName): DeadLetter[] {
    return (this.statements.deadLetters.all(queue) as { id: number; queue: QueueName; body: string; receive_count: number; dead_at: number }[]).map(
      (r) => ({ id: String(r.id), queue: r.queue, body: r.body, receiveCount: r.receive_count, deadAt: new Date(r.dead_at) }),
    );
  }

  /**
   * Deletes dead letters older than DEAD_LETTER_RETENTION_MS, at most `limit` a call (one short
   * statement on the runtime's main thread; the purge timer comes back); returns how many.
   */
  purgeDeadLetters(now: Date, limit = 1_000): number {
    return Number(this.statements.purgeDeadLetters.run(now.getTime() - DEAD_LETTER_RETENTION_MS, limit).changes);
  }

  /** Calls `listener` with each message moved to the dead-letter table (the runtime logs it); returns the unsubscribe. */
  onDeadLetter(listener: (letter: DeadLetter) => void): () => void {
    this.deadLetterListeners.add(listener);
    return () => this.deadLetterListeners.delete(listener);
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
