import { randomBytes } from 'node:crypto';
import type { DispatchSlots, SlotHolder, SlotLease, SlotRefusal } from './dispatch-ports.ts';
import { KeyedSlots } from './keyed-slots.ts';
import type { Clock } from './ports.ts';

/** A message that found its webhook or tenant at its limit comes back after this, at least. */
export const BUSY_RETRY_MS = 1000;
/** ... and at most after this, however slow its webhook (it comes back after about one attempt's time). */
export const SLOW_BUSY_RETRY_MS = 15_000;
const REMEMBERED_WEBHOOKS = 10_000;

/** A lease whose release runs once, however often it is called. */
function leaseOf(release: () => Promise<void>): SlotLease {
  let done: Promise<void> | undefined;
  return { release: () => (done ??= release()) };
}

/**
 * The dispatcher's in-flight limits in this process: at most `perWebhook` attempts per webhook,
 * so one slow endpoint cannot take every worker, and at most `perTenant` per tenant, so one
 * tenant's endpoints cannot either: the workers beyond a tenant's cap stay free for the others.
 *
 * On one machine this is the only dispatcher, so these counts are the whole truth. On AWS each
 * dispatcher container has its own; SharedWebhookSlots adds a lease per webhook that every
 * container sees, and the SQS fair queue shares the containers among tenants (delivery messages
 * carry the tenant as MessageGroupId: a tenant holding a large share of the messages in flight
 * has its messages served after the other tenants').
 */
export class DeliverySlots implements DispatchSlots {
  private readonly webhooks: KeyedSlots;
  private readonly tenants: KeyedSlots;
  private readonly now: () => number;
  /** Webhook -> how long its last attempt held its slot (insertion order: oldest first). */
  private readonly lastAttemptMs = new Map<string, number>();
  private readonly waitMs: number;
  /**
   * `waitMs`: how long an attempt may wait in this process for a slot before it is refused (0:
   * refused at once). The one-machine runtime waits a little: with fast endpoints a slot frees in
   * milliseconds, and a refusal sends the message round the queue for a second or more. A webhook
   * or tenant that has been full for waitMs with no slot coming free (its attempts hang) refuses
   * at once: its messages do not hold a place in line (see `waiting`) for nothing.
   */
  constructor(limits: { readonly perWebhook: number; readonly perTenant: number; readonly waitMs?: number }, now: () => number = () => performance.now()) {
    this.webhooks = new KeyedSlots(limits.perWebhook, now);
    this.tenants = new KeyedSlots(limits.perTenant, now);
    this.waitMs = limits.waitMs ?? 0;
    this.now = now;
  }

  async acquire(holder: SlotHolder): Promise<SlotLease | SlotRefusal> {
    const deadline = this.now() + this.waitMs;
    for (;;) {
      const taken = this.tryAcquire(holder);
      if (taken === 'acquired') break;
      const [slots, key] = taken === 'webhook busy' ? [this.webhooks, holder.webhook_id] : [this.tenants, holder.tenant_id];
      const left = deadline - this.now();
      if (left <= 0 || slots.stalledMs(key) >= this.waitMs) return this.refusal(holder, taken);
      await slots.waitForRelease(key, left);
    }
    const started = this.now();
    return leaseOf(async () => {
      this.remember(holder.webhook_id, this.now() - started);
      this.release(holder);
    });
  }

  /**
   * A webhook at its limit is busy for about as long as its attempts take: the message of one
   * whose attempts hang comes back after about that long (up to SLOW_BUSY_RETRY_MS, spread over
   * +-25% so that they do not all come back at once), not every second. Each round trip costs a
   * receive, a send and a dispatcher's time, which the other webhooks' deliveries wait for.
   */
  refusal(holder: SlotHolder, reason: SlotRefusal['reason']): SlotRefusal {
    const attemptMs = reason === 'webhook busy' ? (this.lastAttemptMs.get(holder.webhook_id) ?? 0) : 0;
    if (attemptMs <= BUSY_RETRY_MS) return { reason, retryInMs: BUSY_RETRY_MS };
    const spread = 0.75 + Math.random() / 2;
    return { reason, retryInMs: Math.max(BUSY_RETRY_MS, Math.round(Math.min(attemptMs, SLOW_BUSY_RETRY_MS) * spread)) };
  }

  private remember(webhookId: string, ms: number): void {
    this.lastAttemptMs.delete(webhookId);
    this.lastAttemptMs.set(webhookId, ms);
    if (this.lastAttemptMs.size > REMEMBERED_WEBHOOKS) this.lastAttemptMs.delete(this.lastAttemptMs.keys().next().value!);
  }

  /**
   * Attempts waiting in this process for a slot of their webhook or tenant: the one-machine
   * runtime's queue poller takes no more messages while this many are in line.
   */
  waiting(): number {
    return this.webhooks.waitingCount() + this.tenants.waitingCount();
  }

  /** Takes a slot of the webhook and one of its tenant, or neither. */
  tryAcquire(holder: SlotHolder): 'acquired' | 'webhook busy' | 'tenant busy' {
    if (!this.webhooks.tryAcquire(holder.webhook_id)) return 'webhook busy';
    if (!this.tenants.tryAcquire(holder.tenant_id)) {
      this.webhooks.release(holder.webhook_id);
      return 'tenant busy';
    }
    return 'acquired';
  }

  release(holder: SlotHolder): void {
    this.tenants.release(holder.tenant_id);
    this.webhooks.release(holder.webhook_id);
  }
}

/** Port: one lease item per webhook that every dispatcher container sees (DynamoWebhookLeases). */
export interface WebhookLeases {
  /**
   * Adds lease `id`, held until `until`, to the webhook's holders if fewer than `limit` unexpired
   * leases are held (without a limit: in any case). False when the webhook is at its limit.
   */
  take(holder: SlotHolder, id: string, until: Date, now: Date, limit?: number): Promise<boolean>;
  /** Removes lease `id` (nothing when it is gone already). */
  drop(holder: SlotHolder, id: string): Promise<void>;
}

/** An attempt running longer than this is slow: it is counted in its webhook's lease from then on. */
export const SLOW_ATTEMPT_MS = 1000;
/** How long a webhook whose attempts all came back within SLOW_ATTEMPT_MS counts as fast in a container. */
export const FAST_MEMORY_MS = 5 * 60_000;
/** A lease outlives the longest attempt by this much; then a crashed holder's slot is free again. */
export const LEASE_MARGIN_MS = 30_000;

export interface SharedSlotsOptions {
  readonly perWebhook: number;
  readonly perTenant: number;
  /** The longest one attempt can take (its timeouts, an OAuth2 token fetch and retry included). */
  readonly attemptMaxMs: number;
  readonly clock: Clock;
  /** Runs `fn` after `ms` (real time), returns a cancel; tests pass a fake. */
  readonly after?: (ms: number, fn: () => void) => () => void;
  /** A lease that could not be counted or dropped (it expires by itself). */
  readonly onError?: (message: string, error: unknown) => void;
}

const realTimer = (ms: number, fn: () => void): (() => void) => {
  const timer = setTimeout(fn, ms);
  timer.unref?.();
  return () => clearTimeout(timer);
};

/**
 * The per-webhook limit across every dispatcher container (Lambda runs many): this container's
 * DeliverySlots, plus a DynamoDB lease per webhook with one entry per attempt counted, each
 * expiring `attemptMaxMs + LEASE_MARGIN_MS` after it was taken, so that a crashed container's
 * slots come free by themselves. A webhook at its limit answers 'webhook busy' and the message
 * comes back a second later, as with the in-process slots.
 *
 * What it costs, and why it still holds: every counted attempt is one consistent read and two
 * writes (take and drop), which for every delivery would be most of the cost target. But the
 * limit is there for endpoints that hold attempts open (an attempt's share of the limit is its
 * duration), so:
 * - an attempt to a webhook this container has seen answer within SLOW_ATTEMPT_MS every time
 *   in the last FAST_MEMORY_MS starts without the lease (no DynamoDB call), and is counted the
 *   moment it has run SLOW_ATTEMPT_MS; the webhook is then no longer fast here;
 * - every other attempt (a webhook this container has not seen yet, or seen slow) takes its
 *   lease before it starts, and waits when the webhook is at its limit.
 * So every attempt older than SLOW_ATTEMPT_MS is counted, and a slow endpoint gets at most
 * `perWebhook` attempts at once over all containers, plus the attempts that started in the
 * second after it turned slow in containers that had seen it fast. Healthy fast endpoints cost
 * one lease per container and webhook every five minutes.
 */
export class SharedWebhookSlots implements DispatchSlots {
  private readonly local: DeliverySlots;
  private readonly leases: WebhookLeases;
  private readonly options: SharedSlotsOptions;
  private readonly after: (ms: number, fn: () => void) => () => void;
  /** Webhook -> until when this container counts it as fast (insertion order: oldest first). */
  private readonly fastUntil = new Map<string, number>();
  private readonly container = randomBytes(6).toString('base64url');
  private sequence = 0;

  constructor(leases: WebhookLeases, options: SharedSlotsOptions) {
    this.local = new DeliverySlots(options, () => options.clock().getTime());
    this.leases = leases;
    this.options = options;
    this.after = options.after ?? realTimer;
  }

  async acquire(holder: SlotHolder): Promise<SlotLease | SlotRefusal> {
    const local = await this.local.acquire(holder);
    if ('reason' in local) return local;
    const key = `${holder.tenant_id}/${holder.webhook_id}`;
    const startedAt = this.now();
    if ((this.fastUntil.get(key) ?? 0) > startedAt) return this.countedIfSlow(holder, key, startedAt, local);
    const id = this.nextId();
    let taken: boolean;
    try {
      taken = await this.leases.take(holder, id, this.until(startedAt), new Date(startedAt), this.options.perWebhook);
    } catch (err) {
      // No attempt was made: the local slots go back without counting as one.
      this.local.release(holder);
      throw err;
    }
    if (!taken) {
      this.local.release(holder);
      return this.local.refusal(holder, 'webhook busy');
    }
    return leaseOf(async () => {
      await this.drop(holder, id);
      this.learn(key, this.now() - startedAt < SLOW_ATTEMPT_MS);
      await local.release();
    });
  }

  /** An attempt to a webhook known fast: no lease unless it runs past SLOW_ATTEMPT_MS. */
  private countedIfSlow(holder: SlotHolder, key: string, startedAt: number, local: SlotLease): SlotLease {
    let counting: Promise<string | undefined> | undefined;
    const cancel = this.after(SLOW_ATTEMPT_MS, () => {
      this.learn(key, false);
      const id = this.nextId();
      const now = this.now();
      counting = this.leases.take(holder, id, this.until(now), new Date(now)).then(
        () => id,
        (err: unknown) => {
          this.options.onError?.('could not count a slow attempt in its webhook lease', err);
          return undefined;
        },
      );
    });
    return leaseOf(async () => {
      cancel();
      const id = await counting;
      if (id !== undefined) await this.drop(holder, id);
      else this.learn(key, this.now() - startedAt < SLOW_ATTEMPT_MS);
      await local.release();
    });
  }

  private async drop(holder: SlotHolder, id: string): Promise<void> {
    try {
      await this.leases.drop(holder, id);
    } catch (err) {
      this.options.onError?.('could not give a webhook lease back (it expires by itself)', err);
    }
  }

  /** Remembers how the webhook's last attempt went: fast keeps (or makes) it lease-free here. */
  private learn(key: string, fast: boolean): void {
    this.fastUntil.delete(key);
    if (!fast) return;
    this.fastUntil.set(key, this.now() + FAST_MEMORY_MS);
    if (this.fastUntil.size > REMEMBERED_WEBHOOKS) this.fastUntil.delete(this.fastUntil.keys().next().value!);
  }

  private until(now: number): Date {
    return new Date(now + this.options.attemptMaxMs + LEASE_MARGIN_MS);
  }

  private nextId(): string {
    return `${this.container}.${++this.sequence}`;
  }

  private now(): number {
    return this.options.clock().getTime();
  }
}
