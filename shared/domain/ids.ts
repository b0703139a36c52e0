import { hash, randomBytes } from 'node:crypto';

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** The first `length` base32 characters of `bytes` from `offset` (5 bits each; reads only the bytes it needs). */
function base32(bytes: Uint8Array, length: number, offset = 0): string {
  let out = '';
  let buffer = 0;
  let bits = 0;
  for (let i = offset; out.length < length && i < bytes.length; i++) {
    buffer = (buffer << 8) | bytes[i]!;
    bits += 8;
    while (bits >= 5 && out.length < length) {
      out += CROCKFORD[(buffer >>> (bits - 5)) & 31];
      bits -= 5;
    }
    buffer &= (1 << bits) - 1;
  }
  return out;
}

/** Random bytes drawn 4 KB at a time: one randomBytes call per id was a visible share of a delivery's CPU. */
const ENTROPY_POOL_BYTES = 4096;
let pool = Buffer.alloc(0);
let poolOffset = 0;

/** Where the next `n` random bytes start in `pool` (read in place: a Buffer view per id showed too). */
function poolOffsetFor(n: number): number {
  if (poolOffset + n > pool.length) {
    pool = randomBytes(ENTROPY_POOL_BYTES);
    poolOffset = 0;
  }
  const at = poolOffset;
  poolOffset += n;
  return at;
}

/** The last millisecond a ULID time was made for, and its text: ids made in one turn share it. */
let lastTimeMs = -1;
let lastTime = '';

/** A ULID (time-ordered, 26 Crockford base32 characters): ids sort by creation time. */
export function ulid(now: number = Date.now()): string {
  const at = poolOffsetFor(10); // first: it may draw a new pool
  return ulidTime(now) + base32(pool, 16, at);
}

/** A ULID's first 10 characters: milliseconds since 1970 in Crockford base32. */
export function ulidTime(ms: number): string {
  if (ms === lastTimeMs) return lastTime;
  let time = '';
  for (let rest = Math.max(0, ms), i = 0; i < 10; i++, rest = Math.floor(rest / 32)) time = CROCKFORD[rest % 32] + time;
  lastTimeMs = ms;
  lastTime = time;
  return time;
}

export const newEventId = (): string => `evt_${ulid()}`;
/** Ids the server made have this shape; anything else cannot name a stored resource. */
export const isWebhookId = (id: string): boolean => /^wh_[0-9A-Z]{26}$/.test(id);
export const isDeliveryId = (id: string): boolean => /^dlv_[0-9A-Z]{26}$/.test(id);
export const newWebhookId = (): string => `wh_${ulid()}`;
export const newTenantId = (): string => `ten_${ulid()}`;
export const newAttemptId = (): string => `att_${ulid()}`;

/**
 * The delivery of one event to one webhook has a deterministic id, so that a fan-out that runs
 * twice for the same event (an SQS redelivery) makes the same deliveries. Like a ULID it starts
 * with the time (the event's arrival), so a webhook's delivery log sorts newest first by its key.
 */
export function deliveryIdFor(tenantId: string, eventId: string, webhookId: string, receivedAt: string): string {
  // One-shot hash(): a third cheaper than createHash().update().digest(), and this runs per delivery.
  const digest = hash('sha256', `${tenantId}\n${eventId}\n${webhookId}`, 'buffer');
  const time = Date.parse(receivedAt);
  return `dlv_${ulidTime(Number.isFinite(time) ? time : 0)}${base32(digest, 16)}`;
}

/** A secret in the Standard Webhooks form: `whsec_` + base64 of 32 random bytes. */
export const newSigningSecret = (): string => `whsec_${randomBytes(32).toString('base64')}`;

/** An API key: `hk_` + 32 random bytes, base64url. Only its SHA-256 is stored. */
export const newApiKey = (): string => `hk_${randomBytes(32).toString('base64url')}`;

export const hashApiKey = (key: string): string => hash('sha256', key, 'hex');

/** Which of `shards` partitions an id's items go to (0 to shards - 1), the same every time. */
export function shardOf(id: string, shards: number): number {
  return hash('sha256', id, 'buffer').readUInt32BE(0) % shards;
}

/** What starts a portal session token (see usecases/portal-sessions.ts): never an API key's start. */
export const PORTAL_TOKEN_PREFIX = 'pst_';
