import crypto from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import {
  hexSignature,
  isUsableSecret,
  signatureHeaders,
  standardWebhooksKey,
  standardWebhooksSignature,
} from '../../shared/domain/signing.ts';

/**
 * Verbatim copy of the Node.js verification example of seed 004 (NetRecon docs). Only the
 * `require('crypto')` line is replaced by the ESM import above; the logic is unchanged.
 */
function verifyWebhook(payload: string | Buffer, signature: string, secret: string): boolean {
  const expected = 'sha256=' + crypto
    .createHmac('sha256', secret)
    .update(payload)
    .digest('hex');
  return crypto.timingSafeEqual(Buffer.from(expected), Buffer.from(signature));
}

// Fixed vectors, computed once with `node -e` (createHmac over the UTF-8 bytes) and pasted here.
const BODY = '{"id":"evt_01","event":"scan.completed","data":{"host":"10.0.0.5","note":"café"}}';
/** BODY with one byte changed (10.0.0.5 -> 10.0.0.6). */
const BODY_CHANGED = '{"id":"evt_01","event":"scan.completed","data":{"host":"10.0.0.6","note":"café"}}';
const NETRECON_SECRET = 'your-hmac-secret';
const HEX_BODY = 'sha256=0d5caea0fe41e4e7ee92ca1158218fa92c1950b1d1bc1b241bafeb00919f88de';
const HEX_BODY_CHANGED = 'sha256=04a1e24eb3b96db79d6435c9e8701661fa56a3449849fce037b5e0e0a6b01190';
/** Non-ASCII, non-whsec secret: must be keyed with its UTF-8 bytes. */
const UTF8_SECRET = 'sëcret-ü';
const HEX_BODY_UTF8_SECRET = 'sha256=bbc6350f45de836e1d2eac6dc5f102d768a194015f85d948b2e71ba471c09455';
/** The example secret of the Standard Webhooks specification. */
const WHSEC = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const TS = 1700000000;
const SW_WHSEC = 'v1,v8oTZLOrW37yJU/jzcDFJEoHB8U2heqHh/VSKTEVYeQ=';
const SW_WHSEC_CHANGED = 'v1,+j5ygb71qrL0rL5JX4VtfUE9kEq0SSZxBF0qAdY/XU4=';
const SW_UTF8 = 'v1,PxlQ8bdt9IZd23m7ZjTrPTc/7xUg2VPk6zFaq+xY4UE=';

describe('hexSignature (NetRecon style)', () => {
  it('is sha256= + the hex HMAC-SHA256 of the raw body keyed with the secret', () => {
    expect(hexSignature(NETRECON_SECRET, BODY)).toBe(HEX_BODY);
  });

  it('keys with the UTF-8 bytes of a non-ASCII secret', () => {
    expect(hexSignature(UTF8_SECRET, BODY)).toBe(HEX_BODY_UTF8_SECRET);
  });

  it('signs the same bytes whether given a string or its UTF-8 bytes', () => {
    expect(hexSignature(NETRECON_SECRET, Buffer.from(BODY, 'utf8'))).toBe(HEX_BODY);
    expect(hexSignature(NETRECON_SECRET, new TextEncoder().encode(BODY))).toBe(HEX_BODY);
  });

  it('has the exact format: lowercase hex, 64 digits', () => {
    expect(hexSignature('k', 'x')).toMatch(/^sha256=[0-9a-f]{64}$/);
  });

  it('is accepted by the seed verification snippet as is', () => {
    const sig = hexSignature(NETRECON_SECRET, BODY);
    expect(verifyWebhook(BODY, sig, NETRECON_SECRET)).toBe(true);
    expect(verifyWebhook(Buffer.from(BODY), sig, NETRECON_SECRET)).toBe(true);
    expect(verifyWebhook(BODY, hexSignature(UTF8_SECRET, BODY), UTF8_SECRET)).toBe(true);
  });

  it('is rejected by the seed snippet with another secret or another body', () => {
    expect(verifyWebhook(BODY, hexSignature('other-secret', BODY), NETRECON_SECRET)).toBe(false);
    expect(verifyWebhook(BODY_CHANGED, hexSignature(NETRECON_SECRET, BODY), NETRECON_SECRET)).toBe(false);
  });

  it('changes when one byte of the body changes', () => {
    expect(hexSignature(NETRECON_SECRET, BODY_CHANGED)).toBe(HEX_BODY_CHANGED);
    expect(HEX_BODY_CHANGED).not.toBe(HEX_BODY);
  });
});

describe('standardWebhooksKey', () => {
  it('base64-decodes the part after whsec_', () => {
    expect(standardWebhooksKey(WHSEC)).toEqual(Buffer.from('MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'base64'));
    expect(standardWebhooksKey(WHSEC)).toHaveLength(24);
  });
  it('uses the UTF-8 bytes of any other secret', () => {
    expect(standardWebhooksKey(UTF8_SECRET)).toEqual(Buffer.from([0x73, 0xc3, 0xab, 0x63, 0x72, 0x65, 0x74, 0x2d, 0xc3, 0xbc]));
  });
});

describe('standardWebhooksSignature', () => {
  it('reproduces the example of the Standard Webhooks specification', () => {
    expect(
      standardWebhooksSignature([WHSEC], 'msg_p5jXN8AQM9LWM0D4loKWxJek', 1614265330, '{"test": 2432232314}'),
    ).toBe('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
  });

  it('signs "<id>.<timestamp>.<body>" with the decoded whsec_ key (fixed vector)', () => {
    expect(standardWebhooksSignature([WHSEC], 'evt_01', TS, BODY)).toBe(SW_WHSEC);
  });

  it('keys a non-whsec secret with its UTF-8 bytes (fixed vector)', () => {
    expect(standardWebhooksSignature([UTF8_SECRET], 'evt_01', TS, BODY)).toBe(SW_UTF8);
  });

  it('keys each secret with its own key, also after its prepared key was dropped for over a thousand others', () => {
    expect(standardWebhooksSignature([WHSEC, UTF8_SECRET], 'evt_01', TS, BODY)).toBe(`${SW_WHSEC} ${SW_UTF8}`);
    const expected = (secret: string) =>
      'v1,' + crypto.createHmac('sha256', standardWebhooksKey(secret)).update(`evt_01.${TS}.${BODY}`).digest('base64');
    for (let i = 0; i < 1100; i++) {
      const secret = `whsec_${Buffer.from(`secret number ${i}`).toString('base64')}`;
      expect(standardWebhooksSignature([secret], 'evt_01', TS, BODY)).toBe(expected(secret));
    }
    expect(standardWebhooksSignature([WHSEC], 'evt_01', TS, BODY)).toBe(SW_WHSEC);
    expect(standardWebhooksSignature([UTF8_SECRET], 'evt_01', TS, BODY)).toBe(SW_UTF8);
  });

  it('is verified by the standardwebhooks package for a whsec_ secret', () => {
    const now = Math.floor(Date.now() / 1000);
    const headers = {
      'webhook-id': 'evt_01',
      'webhook-timestamp': String(now),
      'webhook-signature': standardWebhooksSignature([WHSEC], 'evt_01', now, BODY),
    };
    expect(new Webhook(WHSEC).verify(BODY, headers)).toEqual(JSON.parse(BODY));
    // The package also takes the bare base64 part.
    expect(new Webhook('MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw').verify(BODY, headers)).toEqual(JSON.parse(BODY));
    // And rejects it under another key or for another body.
    expect(() => new Webhook('whsec_' + Buffer.alloc(24, 7).toString('base64')).verify(BODY, headers)).toThrow();
    expect(() => new Webhook(WHSEC).verify(BODY_CHANGED, headers)).toThrow();
  });

  it('takes a whsec_ secret only as canonical base64 of 24 to 64 bytes, which the standardwebhooks package verifies with', () => {
    const now = Math.floor(Date.now() / 1000);
    const usable = [24, 32, 64].map((n) => `whsec_${crypto.randomBytes(n).toString('base64')}`);
    for (const secret of [...usable, WHSEC, 'plain-ascii-secret']) {
      expect({ secret, usable: isUsableSecret(secret) }).toEqual({ secret, usable: true });
      const headers = { 'webhook-id': 'evt_01', 'webhook-timestamp': String(now), 'webhook-signature': standardWebhooksSignature([secret], 'evt_01', now, BODY) };
      expect(new Webhook(secret.startsWith('whsec_') ? secret : Buffer.from(secret).toString('base64')).verify(BODY, headers)).toEqual(JSON.parse(BODY));
    }
    // Node decodes these leniently (to other bytes, or to none: an empty HMAC key anyone can
    // sign with); a receiver's library refuses them or decodes them otherwise.
    const unusable = ['whsec_hello-world!', 'whsec_!!!!!!!!', 'whsec_abcdefghi', `whsec_${crypto.randomBytes(24).toString('base64url')}-_`, `whsec_${crypto.randomBytes(16).toString('base64')}`, `whsec_${crypto.randomBytes(65).toString('base64')}`];
    for (const secret of unusable) expect({ secret, usable: isUsableSecret(secret) }).toEqual({ secret, usable: false });
    expect(() => new Webhook('whsec_hello-world!')).toThrow();
  });

  it('is verified by the standardwebhooks package (raw key) for a plain ASCII secret', () => {
    const secret = 'plain-ascii-secret';
    const now = Math.floor(Date.now() / 1000);
    const headers = {
      'webhook-id': 'evt_01',
      'webhook-timestamp': String(now),
      'webhook-signature': standardWebhooksSignature([secret], 'evt_01', now, BODY),
    };
    expect(new Webhook(secret, { format: 'raw' }).verify(BODY, headers)).toEqual(JSON.parse(BODY));
  });

  it('gives one space-separated v1, entry per secret, in the order given', () => {
    const sig = standardWebhooksSignature([WHSEC, UTF8_SECRET], 'evt_01', TS, BODY);
    expect(sig).toBe(`${SW_WHSEC} ${SW_UTF8}`);
    expect(standardWebhooksSignature([UTF8_SECRET, WHSEC], 'evt_01', TS, BODY)).toBe(`${SW_UTF8} ${SW_WHSEC}`);
  });

  it('during a rotation, receivers holding either secret verify', () => {
    const older = 'whsec_' + Buffer.alloc(32, 1).toString('base64');
    const newer = 'whsec_' + Buffer.alloc(32, 2).toString('base64');
    const now = Math.floor(Date.now() / 1000);
    const headers = {
      'webhook-id': 'evt_rot',
      'webhook-timestamp': String(now),
      'webhook-signature': standardWebhooksSignature([newer, older], 'evt_rot', now, BODY),
    };
    expect(headers['webhook-signature'].split(' ')).toHaveLength(2);
    expect(new Webhook(newer).verify(BODY, headers)).toEqual(JSON.parse(BODY));
    expect(new Webhook(older).verify(BODY, headers)).toEqual(JSON.parse(BODY));
  });

  it('changes when one byte of the body changes', () => {
    expect(standardWebhooksSignature([WHSEC], 'evt_01', TS, BODY_CHANGED)).toBe(SW_WHSEC_CHANGED);
    expect(SW_WHSEC_CHANGED).not.toBe(SW_WHSEC);
  });

  it('covers the id and the timestamp', () => {
    expect(standardWebhooksSignature([WHSEC], 'evt_02', TS, BODY)).not.toBe(SW_WHSEC);
    expect(standardWebhooksSignature([WHSEC], 'evt_01', TS + 1, BODY)).not.toBe(SW_WHSEC);
  });
});

describe('signatureHeaders', () => {
  const base = { signatureHeader: 'X-NetRecon-Signature', msgId: 'evt_01', timestampSeconds: TS, body: BODY };

  it('returns no headers when the webhook has no secret', () => {
    expect(signatureHeaders({ ...base, secrets: [] })).toEqual({});
  });

  it('uses the configured header name for the hex signature, keyed with the first (newest) secret', () => {
    const h = signatureHeaders({ ...base, secrets: [NETRECON_SECRET, WHSEC] });
    expect(h).toEqual({
      'X-NetRecon-Signature': HEX_BODY,
      'webhook-id': 'evt_01',
      'webhook-timestamp': '1700000000',
      'webhook-signature': `${standardWebhooksSignature([NETRECON_SECRET], 'evt_01', TS, BODY)} ${SW_WHSEC}`,
    });
    expect(h).not.toHaveProperty('X-Hookline-Signature');
  });

  it('with another header name, only that name carries the hex signature', () => {
    const h = signatureHeaders({ ...base, signatureHeader: 'X-Hookline-Signature', secrets: [NETRECON_SECRET] });
    expect(h['X-Hookline-Signature']).toBe(HEX_BODY);
    expect(h).not.toHaveProperty('X-NetRecon-Signature');
  });

  it('produces headers that both the seed snippet and standardwebhooks accept', () => {
    const now = Math.floor(Date.now() / 1000);
    const h = signatureHeaders({ ...base, timestampSeconds: now, secrets: [WHSEC] });
    expect(verifyWebhook(BODY, h['X-NetRecon-Signature']!, WHSEC)).toBe(true);
    expect(new Webhook(WHSEC).verify(BODY, h)).toEqual(JSON.parse(BODY));
  });

  it('both signatures change when one byte of the body changes', () => {
    const a = signatureHeaders({ ...base, secrets: [WHSEC] });
    const b = signatureHeaders({ ...base, body: BODY_CHANGED, secrets: [WHSEC] });
    expect(b['X-NetRecon-Signature']).not.toBe(a['X-NetRecon-Signature']);
    expect(b['webhook-signature']).not.toBe(a['webhook-signature']);
    expect(b['webhook-signature']).toBe(SW_WHSEC_CHANGED);
  });
});
