/**
 * Offline signature check of one received webhook (CONTRACT.md section 5), with the reason when
 * it fails. It recomputes the signatures with the signer's own code (shared/domain/signing.ts),
 * so the check cannot drift from what Hookline sends. A mismatch is explained when a common
 * mistake accounts for it: the body re-serialized or its line endings changed by a framework
 * before verification, or the secret pasted without its `whsec_` prefix or with a newline.
 */
import { timingSafeEqual } from 'node:crypto';
import { hexSignature, standardWebhooksSignature } from '../domain/signing.ts';

export type VerifyFailure =
  | 'missing_header'
  | 'malformed_header'
  | 'no_matching_version'
  | 'timestamp_outside_tolerance'
  | 'body_changed'
  | 'wrong_secret';

export const SIGNATURE_SCHEMES = ['standard-webhooks', 'hex'] as const;
export type SignatureScheme = (typeof SIGNATURE_SCHEMES)[number];

export interface SchemeCheck {
  readonly scheme: SignatureScheme;
  /** The header the check read. */
  readonly header: string;
  readonly valid: boolean;
  readonly reason?: VerifyFailure;
  readonly message: string;
  /** 0-based index among the secrets of the one that matched. */
  readonly secret_index?: number;
}

export interface VerifyResult {
  readonly valid: boolean;
  /** The first failing check's reason. */
  readonly reason?: VerifyFailure;
  readonly message: string;
  readonly checks: readonly SchemeCheck[];
}

export interface VerifyInput {
  /** The raw body exactly as received. */
  readonly body: Buffer;
  /** Header names in any case. */
  readonly headers: Readonly<Record<string, string>>;
  /** The webhook's secrets: during a rotation, the new and the old one. */
  readonly secrets: readonly string[];
  /** Name of the hex HMAC header (HOOKLINE_SIGNATURE_HEADER of the deployment). */
  readonly signatureHeader: string;
  /** How far webhook-timestamp may be from `now` (Standard Webhooks libraries use 5 minutes). */
  readonly toleranceSeconds: number;
  readonly now: Date;
  /** The schemes to check when their header is present (default: both). */
  readonly schemes?: readonly SignatureScheme[];
}

export const DEFAULT_TOLERANCE_SECONDS = 300;

export function verifySignature(input: VerifyInput): VerifyResult {
  const headers = new Map(Object.entries(input.headers).map(([name, value]) => [name.toLowerCase(), value.trim()]));
  const checks: SchemeCheck[] = [];
  const hexName = input.signatureHeader.toLowerCase();
  const schemes = input.schemes ?? ['standard-webhooks', 'hex'];
  let standard: SchemeCheck | undefined;
  if (schemes.includes('standard-webhooks') && headers.has('webhook-signature')) checks.push((standard = checkStandard(input, headers)));
  if (schemes.includes('hex') && headers.has(hexName)) {
    const hex = checkHex(input, hexName, headers.get(hexName)!);
    // During a rotation the hex header is signed with the newest secret only (CONTRACT.md section 5).
    const rotating = (headers.get('webhook-signature') ?? '').split(/\s+/).filter((e) => e.startsWith('v1,')).length > 1;
    checks.push(
      hex.reason === 'wrong_secret' && rotating && standard?.valid
        ? {
            ...hex,
            message:
              `${hexName} is signed with the newest secret only while a rotation is in progress, and the secret that matched ` +
              'webhook-signature is an older one: check it with the new secret, or check webhook-signature only (--scheme standard-webhooks)',
          }
        : hex,
    );
  }
  if (checks.length === 0) {
    return {
      valid: false,
      reason: 'missing_header',
      message: `no signature header to check: expected ${schemes.map((scheme) => (scheme === 'hex' ? input.signatureHeader : 'webhook-signature')).join(' or ')}`,
      checks,
    };
  }
  const failed = checks.find((c) => !c.valid);
  return failed
    ? { valid: false, reason: failed.reason!, message: failed.message, checks }
    : { valid: true, message: checks.map((c) => c.message).join('; '), checks };
}

/** Tells whether a body (as bytes) is signed by a secret, for the scheme at hand. */
type Signs = (body: Buffer, secret: string) => boolean;

function checkStandard(input: VerifyInput, headers: Map<string, string>): SchemeCheck {
  const result = (valid: boolean, message: string, reason?: VerifyFailure, secretIndex?: number): SchemeCheck => ({
    scheme: 'standard-webhooks',
    header: 'webhook-signature',
    valid,
    ...(reason ? { reason } : {}),
    message,
    ...(secretIndex === undefined ? {} : { secret_index: secretIndex }),
  });
  const id = headers.get('webhook-id');
  const timestamp = headers.get('webhook-timestamp');
  const missing = [id === undefined && 'webhook-id', timestamp === undefined && 'webhook-timestamp'].filter(Boolean);
  if (missing.length > 0) return result(false, `webhook-signature is there but ${missing.join(' and ')} is missing`, 'missing_header');
  if (!/^\d{1,12}$/.test(timestamp!)) return result(false, `webhook-timestamp must be unix seconds, got "${timestamp}"`, 'malformed_header');

  const entries = headers.get('webhook-signature')!.split(/\s+/).filter((e) => e !== '');
  const parsed = entries.map((entry) => /^([A-Za-z0-9]+),(\S+)$/.exec(entry));
  if (parsed.length === 0 || parsed.some((p) => p === null)) {
    return result(false, 'webhook-signature must be space-separated "v1,<base64>" entries', 'malformed_header');
  }
  const v1 = parsed.filter((p) => p![1] === 'v1').map((p) => p![2]!);
  if (v1.length === 0) {
    const versions = [...new Set(parsed.map((p) => p![1]))].join(', ');
    return result(false, `webhook-signature has no v1 (HMAC-SHA256) signature, only ${versions}`, 'no_matching_version');
  }
  const given = v1.map((b64) => Buffer.from(b64, 'base64'));
  if (given.some((sig, i) => sig.length !== 32 || sig.toString('base64') !== v1[i])) {
    return result(false, 'a v1 signature in webhook-signature is not the base64 of 32 bytes', 'malformed_header');
  }

  const signs: Signs = (body, secret) => {
    const expected = Buffer.from(standardWebhooksSignature([secret], id!, Number(timestamp), body.toString('utf8')).slice('v1,'.length), 'base64');
    return given.some((sig) => timingSafeEqual(sig, expected));
  };
  const matched = input.secrets.findIndex((secret) => signs(input.body, secret));
  const skew = Math.round(input.now.getTime() / 1000) - Number(timestamp);
  if (Math.abs(skew) > input.toleranceSeconds) {
    const when = skew > 0 ? `${skew} s old` : `${-skew} s in the future`;
    return result(
      false,
      `webhook-timestamp is ${when}, outside the tolerance of ${input.toleranceSeconds} s (a replayed message, or a clock that is off)` +
        (matched >= 0 ? '; the signature itself matches' : '; the signature does not match either'),
      'timestamp_outside_tolerance',
      matched >= 0 ? matched : undefined,
    );
  }
  if (matched >= 0) return result(true, `webhook-signature: valid v1 signature${secretNote(input, matched)}`, undefined, matched);
  return mismatch(input, signs, 'webhook-signature', (reason, message) => result(false, message, reason));
}

function checkHex(input: VerifyInput, header: string, value: string): SchemeCheck {
  const result = (valid: boolean, message: string, reason?: VerifyFailure, secretIndex?: number): SchemeCheck => ({
    scheme: 'hex',
    header,
    valid,
    ...(reason ? { reason } : {}),
    message,
    ...(secretIndex === undefined ? {} : { secret_index: secretIndex }),
  });
  const match = /^([A-Za-z0-9-]+)=(.*)$/.exec(value);
  if (!match) return result(false, `${header} must be "sha256=<64 hex digits>", got "${value.slice(0, 80)}"`, 'malformed_header');
  if (match[1]!.toLowerCase() !== 'sha256') return result(false, `${header} is ${match[1]}=..., not sha256=...`, 'no_matching_version');
  if (!/^[0-9a-fA-F]{64}$/.test(match[2]!)) return result(false, `${header} must be sha256= followed by 64 hex digits`, 'malformed_header');
  const given = Buffer.from(match[2]!.toLowerCase(), 'hex');
  const signs: Signs = (body, secret) => timingSafeEqual(given, Buffer.from(hexSignature(secret, body).slice('sha256='.length), 'hex'));
  const matched = input.secrets.findIndex((secret) => signs(input.body, secret));
  if (matched >= 0) return result(true, `${header}: valid sha256 signature${secretNote(input, matched)}`, undefined, matched);
  return mismatch(input, signs, header, (reason, message) => result(false, message, reason));
}

const secretNote = (input: VerifyInput, index: number): string => (input.secrets.length > 1 ? ` (secret ${index + 1} of ${input.secrets.length})` : '');

/** Explains a signature that matches none of the secrets over the body as given. */
function mismatch(
  input: VerifyInput,
  signs: Signs,
  header: string,
  result: (reason: VerifyFailure, message: string) => SchemeCheck,
): SchemeCheck {
  for (const [how, body] of bodyVariants(input.body)) {
    if (input.secrets.some((secret) => signs(body, secret))) {
      return result(
        'body_changed',
        `${header} does not match the body as given, but matches it ${how}: verify the raw bytes exactly as received, before any parsing`,
      );
    }
  }
  for (const [how, secret] of input.secrets.flatMap(secretVariants)) {
    if (signs(input.body, secret)) return result('wrong_secret', `${header} matches the secret ${how}: pass the secret exactly as it was shown`);
  }
  return result(
    'wrong_secret',
    `${header} matches none of the ${input.secrets.length === 1 ? 'secret' : `${input.secrets.length} secrets`} given: ` +
      'the secret is not the one that signed this message (after a rotation, pass the old and the new one), or the body is not the exact bytes received',
  );
}

/** What a framework commonly does to a body before the user gets to verify it, undone. */
function bodyVariants(body: Buffer): [string, Buffer][] {
  const text = body.toString('utf8');
  const variants: [string, string][] = [
    ['without the trailing newline', text.replace(/\r?\n$/, '')],
    ['with a trailing newline', text + '\n'],
    ['with LF line endings instead of CRLF', text.replace(/\r\n/g, '\n')],
    ['without a byte order mark', text.replace(/^\uFEFF/, '')],
    ['without surrounding whitespace', text.trim()],
  ];
  try {
    variants.push(['serialized as compact JSON (the body was re-serialized)', JSON.stringify(JSON.parse(text))]);
  } catch {
    // Not JSON: no re-serialization to undo.
  }
  return variants.filter(([, variant]) => variant !== text).map(([how, variant]) => [how, Buffer.from(variant, 'utf8')]);
}

function secretVariants(secret: string): [string, string][] {
  const variants: [string, string][] = [['without surrounding whitespace', secret.trim()]];
  if (!secret.trim().startsWith('whsec_')) variants.push(['with its whsec_ prefix', `whsec_${secret.trim()}`]);
  return variants.filter(([, variant]) => variant !== secret);
}
