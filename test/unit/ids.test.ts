import { Webhook } from 'standardwebhooks';
import {
  deliveryIdFor,
  hashApiKey,
  newApiKey,
  newAttemptId,
  newEventId,
  newSigningSecret,
  newTenantId,
  newWebhookId,
  shardOf,
  ulid,
} from '../../shared/domain/ids.ts';

const CROCKFORD_26 = /^[0-9A-HJKMNP-TV-Z]{26}$/;

describe('ulid', () => {
  it('is 26 Crockford base32 characters', () => {
    for (let i = 0; i < 50; i++) expect(ulid()).toMatch(CROCKFORD_26);
    expect(ulid(0)).toMatch(CROCKFORD_26);
    expect(ulid(2 ** 48 - 1)).toMatch(CROCKFORD_26);
  });

  it('has a random part: two ids of the same millisecond differ', () => {
    expect(ulid(1700000000000)).not.toBe(ulid(1700000000000));
    expect(ulid(1700000000000).slice(0, 10)).toBe(ulid(1700000000000).slice(0, 10));
  });

  it('stays random across the entropy pool refills (4 KB, 10 bytes an id): no repeats, each well formed', () => {
    const ids = Array.from({ length: 5000 }, () => ulid(1700000000000));
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id).toMatch(CROCKFORD_26);
  });

  it('sorts by time for timestamps a second or more apart', () => {
    const times = [0, 1000, 1_469_918_176_385, 1_700_000_000_000, 1_700_000_001_000, 1_773_570_600_000, 2 ** 48 - 1];
    for (let round = 0; round < 20; round++) {
      const ids = times.map((t) => ulid(t));
      const shuffled = [...ids].sort(() => Math.random() - 0.5);
      expect(shuffled.sort()).toEqual(ids);
    }
  });

  it('prefixes ids with their kind', () => {
    expect(newEventId()).toMatch(/^evt_[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(newWebhookId()).toMatch(/^wh_[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(newTenantId()).toMatch(/^ten_[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(newAttemptId()).toMatch(/^att_[0-9A-HJKMNP-TV-Z]{26}$/);
  });

  // BUG: the time part encodes floor(ms / 2), not ms. ulid() base32-encodes [0x00, 6 time bytes]
  // (56 bits) into 11 characters (55 bits: the low bit is cut) and drops the first, so the
  // 10 time characters hold bits 50..1 instead of bits 49..0. Ids 1 ms apart share a time prefix
  // (their order is then random) and the timestamp a standard ULID decoder reads is halved.
  it('encodes the 48-bit millisecond time in the first 10 characters (ULID spec)', () => {
    // Vectors: the ULID specification's example (01ARYZ6S41... = 1469918176385) and the maximum.
    expect(ulid(1_469_918_176_385).slice(0, 10)).toBe('01ARYZ6S41');
    expect(ulid(2 ** 48 - 1).slice(0, 10)).toBe('7ZZZZZZZZZ');
    expect(ulid(1).slice(0, 10)).toBe('0000000001');
  });

  it('sorts by time for timestamps 1 ms apart', () => {
    for (const t of [0, 1_700_000_000_000, 1_773_570_600_000]) {
      expect(ulid(t).slice(0, 10) < ulid(t + 1).slice(0, 10)).toBe(true);
    }
  });
});

describe('deliveryIdFor', () => {
  const AT = '2025-06-01T12:00:00.000Z';

  it('is deterministic', () => {
    expect(deliveryIdFor('ten_1', 'evt_1', 'wh_1', AT)).toBe(deliveryIdFor('ten_1', 'evt_1', 'wh_1', AT));
  });

  it('is dlv_ + 26 Crockford characters', () => {
    expect(deliveryIdFor('ten_1', 'evt_1', 'wh_1', AT)).toMatch(/^dlv_[0-9A-HJKMNP-TV-Z]{26}$/);
  });

  it("starts with the ULID time of the event's arrival, so a webhook's deliveries sort by it", () => {
    expect(deliveryIdFor('ten_1', 'evt_1', 'wh_1', AT).slice(4, 14)).toBe(ulid(Date.parse(AT)).slice(0, 10));
    const arrivals = ['2025-06-01T12:00:00.000Z', '2025-06-01T12:00:00.001Z', '2025-06-01T12:00:01.000Z', '2026-01-01T00:00:00.000Z'];
    // Different events, so the hashed part is unrelated: the time alone orders them.
    const ids = arrivals.map((at, i) => deliveryIdFor('ten_1', `evt_${9 - i}`, 'wh_1', at));
    expect([...ids].reverse().sort()).toEqual(ids);
  });

  it('an arrival time that does not parse counts as 1970 (the id stays well formed)', () => {
    const id = deliveryIdFor('ten_1', 'evt_1', 'wh_1', 'not a date');
    expect(id).toMatch(/^dlv_0000000000[0-9A-HJKMNP-TV-Z]{16}$/);
  });

  it('differs when any input differs', () => {
    const ids = new Set([
      deliveryIdFor('ten_1', 'evt_1', 'wh_1', AT),
      deliveryIdFor('ten_2', 'evt_1', 'wh_1', AT),
      deliveryIdFor('ten_1', 'evt_2', 'wh_1', AT),
      deliveryIdFor('ten_1', 'evt_1', 'wh_2', AT),
      deliveryIdFor('ten_1', 'evt_1', 'wh_1', '2025-06-01T12:00:00.001Z'),
      // Same characters, shifted between fields.
      deliveryIdFor('ten_1e', 'vt_1', 'wh_1', AT),
      deliveryIdFor('ten_1', 'evt_1w', 'h_1', AT),
    ]);
    expect(ids.size).toBe(7);
  });

  it('does not collide across many events of the same millisecond', () => {
    const ids = new Set(Array.from({ length: 2000 }, (_, i) => deliveryIdFor('ten_1', `evt_${i}`, 'wh_1', AT)));
    expect(ids.size).toBe(2000);
  });
});

describe('secrets and keys', () => {
  it('newSigningSecret is whsec_ + base64 of 32 random bytes', () => {
    const s = newSigningSecret();
    expect(s).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    const raw = Buffer.from(s.slice('whsec_'.length), 'base64');
    expect(raw).toHaveLength(32);
    expect(raw.toString('base64')).toBe(s.slice('whsec_'.length));
    expect(newSigningSecret()).not.toBe(s);
    // Usable as is by the Standard Webhooks reference library.
    expect(() => new Webhook(s)).not.toThrow();
  });

  it('newApiKey is hk_ + base64url of 32 bytes', () => {
    const k = newApiKey();
    expect(k).toMatch(/^hk_[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(k.slice(3), 'base64url')).toHaveLength(32);
    expect(newApiKey()).not.toBe(k);
  });

  it('hashApiKey is the SHA-256 hex of the key (fixed vectors)', () => {
    expect(hashApiKey('hk_test')).toBe('63ef7dbe87637cad24f00e2c33091e3600a403b2641eca95c1ba2593270afc44');
    // SHA-256("abc"), FIPS 180-2 test vector.
    expect(hashApiKey('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });
});

describe('shardOf', () => {
  it('is an integer 0 <= n < shards, deterministic, and uses every shard', () => {
    for (const shards of [1, 4, 8, 16]) {
      const seen = new Set<number>();
      for (let i = 0; i < 500; i++) {
        const id = `dlv_${i}`;
        const shard = shardOf(id, shards);
        expect(Number.isInteger(shard)).toBe(true);
        expect(shard).toBeGreaterThanOrEqual(0);
        expect(shard).toBeLessThan(shards);
        expect(shardOf(id, shards)).toBe(shard);
        seen.add(shard);
      }
      expect(seen.size).toBe(shards);
    }
  });
});
