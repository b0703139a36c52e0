import type { QueuedMessage } from './queue-messages.ts';

/** What the lane keeps of a message: a QueuedMessage before its receipt, and its body still an object. */
interface LaneMessage {
  readonly id: string;
  readonly payload: unknown;
  readonly groupId: string | undefined;
  readonly sentAt: Date;
  /** Receives so far. */
  receiveCount: number;
}

interface InFlight {
  readonly message: LaneMessage;
  readonly receipt: string;
  readonly visibleAt: number;
}

/** Messages taken from the front of `ready` before it is cut down to those left (when they are at most as many). */
const COMPACT_AFTER = 256;

/** Receipts and ids of lane messages start with this; the table's are numbers. */
const LANE_PREFIX = 'm';

/**
 * A queue's messages that need no row of their own, because a durable row elsewhere already
 * records their work: a first attempt queued by the fan-out is the delivery row it created,
 * pending and due (see SqliteDeliveryQueue). The lane keeps them in memory, with the table's
 * semantics while the process lives (visibility timeout, redelivery, receive counts; the caller
 * buries a message received too often); a restart rebuilds them from those rows
 * (LocalStore.resumeFirstAttempts). What it saves is the queue row's insert, its receive and its
 * delete: three B-tree writes of two entries each, per delivery, that the pipeline's profile
 * put at about 40 us of the main thread.
 *
 * At most `capacity` messages: past it the caller sends to the table, so that a backlog of any
 * size waits on disk rather than in the heap.
 */
export class RowBackedLane {
  private readonly capacity: number;
  private ready: LaneMessage[] = [];
  /** Where `ready` starts: taking from the front moves this instead of shifting the array. */
  private head = 0;
  /** By receipt, in the order received; every receive hides for the same time, so also in the order they become visible again. */
  private readonly inFlight = new Map<string, InFlight>();
  /** The next message's number (unique across the lanes of a database: receipts do not name their queue). */
  private readonly nextNumber: () => number;

  constructor(capacity: number, nextNumber: () => number) {
    this.capacity = capacity;
    this.nextNumber = nextNumber;
  }

  static owns(receipt: string): boolean {
    return receipt.startsWith(LANE_PREFIX);
  }

  /** Messages held, visible or not. */
  get size(): number {
    return this.ready.length - this.head + this.inFlight.size;
  }

  /** Room for `count` more messages. */
  fits(count: number): boolean {
    return this.size + count <= this.capacity;
  }

  /**
   * `payload`: the message's body as an object, serialized (JSON) each time it is received (once,
   * unless it fails): kept as is, the fan-out's messages of one event share the event, where a
   * body string each would hold its own copy (about 520 bytes for the bench's events: 5 MB for a
   * full lane).
   */
  add(payload: unknown, groupId: string | undefined, sentAt: Date): void {
    this.ready.push({ id: `${LANE_PREFIX}${this.nextNumber()}`, payload, groupId, sentAt, receiveCount: 0 });
  }

  /**
   * Up to `max` visible messages, oldest first, hidden until `now + visibilityMs`. One already
   * received `maxReceiveCount` times is handed to `bury` instead.
   */
  receive(max: number, now: number, visibilityMs: number, maxReceiveCount: number, bury: (message: QueuedMessage) => void): QueuedMessage[] {
    this.reappear(now);
    const received: QueuedMessage[] = [];
    while (received.length < max && this.head < this.ready.length) {
      const message = this.ready[this.head++]!;
      const { id, payload, groupId, sentAt } = message;
      if (message.receiveCount >= maxReceiveCount) {
        bury({ id, receipt: '', body: JSON.stringify(payload), groupId, sentAt, receiveCount: message.receiveCount });
        continue;
      }
      message.receiveCount++;
      const receipt = `${id}.${message.receiveCount}`;
      this.inFlight.set(receipt, { message, receipt, visibleAt: now + visibilityMs });
      received.push({ id, receipt, body: JSON.stringify(payload), groupId, sentAt, receiveCount: message.receiveCount });
    }
    if (this.head === this.ready.length) {
      this.ready = [];
      this.head = 0;
    } else if (this.head >= COMPACT_AFTER && this.head * 2 >= this.ready.length) {
      // Under a standing backlog the lane never empties: the messages taken would stay in the
      // array (and their events in the heap) for as long as the backlog lasts.
      this.ready = this.ready.slice(this.head);
      this.head = 0;
    }
    return received;
  }

  /** Deletes by receipt; a receipt of an earlier receive deletes nothing, as the table's. */
  delete(receipt: string): void {
    this.inFlight.delete(receipt);
  }

  /** When a message is next visible (undefined: none held). */
  nextVisibleAt(now: number): number | undefined {
    if (this.head < this.ready.length) return now;
    for (const entry of this.inFlight.values()) return entry.visibleAt;
    return undefined;
  }

  /** Received messages whose visibility timeout ended are visible again, ahead of the rest. */
  private reappear(now: number): void {
    const back: LaneMessage[] = [];
    for (const [receipt, entry] of this.inFlight) {
      if (entry.visibleAt > now) break;
      this.inFlight.delete(receipt);
      back.push(entry.message);
    }
    if (back.length === 0) return;
    this.ready = [...back, ...this.ready.slice(this.head)];
    this.head = 0;
  }
}
