import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { isWebhookId } from './ids.ts';

/**
 * Double opt-in of a webhook's owner address (CONTRACT.md section 6): an address other than the
 * tenant's own receives the webhook's emails only after its holder opened a link sent to it.
 */

/**
 * An owner address as the API takes it: the shape zod's z.email() checks (a dotted domain with a
 * top-level name of letters), or an address at `localhost`. The one-machine runtime's default
 * owner is owner@localhost, and an address the API hands out must be one it takes back.
 */
export const OWNER_EMAIL_ADDRESS = /^(?:[A-Za-z0-9_'+-]+\.)*[A-Za-z0-9_'+-]*[A-Za-z0-9_+-]@(?:(?:[A-Za-z0-9][A-Za-z0-9-]*\.)+[A-Za-z]{2,}|localhost)$/;

/** How long a verification link works. */
export const VERIFICATION_TTL_MS = 7 * 24 * 3600 * 1000;

/** The verification route; the token is its last segment. */
export const VERIFICATION_PATH = '/api/v1/email-verifications';

const TOKEN_VERSION = 'ev1';

/**
 * A verification token: it names the tenant and the webhook, so that the public route finds the
 * row without a key, and carries 32 random bytes, so that it cannot be guessed. Only its hash is
 * stored; a new token replaces the old one.
 */
export function newVerificationToken(tenantId: string, webhookId: string): { token: string; hash: string } {
  const token = [TOKEN_VERSION, Buffer.from(tenantId, 'utf8').toString('base64url'), webhookId, randomBytes(32).toString('base64url')].join('.');
  return { token, hash: hashToken(token) };
}

/** What a token names, or undefined when it is not one of ours. */
export function parseVerificationToken(token: string): { tenantId: string; webhookId: string; hash: string } | undefined {
  if (token.length > 512) return undefined;
  const parts = token.split('.');
  if (parts.length !== 4 || parts[0] !== TOKEN_VERSION) return undefined;
  const [, tenant, webhookId, random] = parts as [string, string, string, string];
  if (!/^[A-Za-z0-9_-]{1,200}$/.test(tenant) || !isWebhookId(webhookId) || !/^[A-Za-z0-9_-]{43}$/.test(random)) return undefined;
  const tenantId = Buffer.from(tenant, 'base64url').toString('utf8');
  if (!tenantId || Buffer.from(tenantId, 'utf8').toString('base64url') !== tenant) return undefined;
  return { tenantId, webhookId, hash: hashToken(token) };
}

export const hashToken = (token: string): string => createHash('sha256').update(token).digest('hex');

/** Constant-time comparison of two hex hashes. */
export function sameHash(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && x.length > 0 && timingSafeEqual(x, y);
}

/** Two spellings of one address (domains are case-insensitive, and so is every mailbox in practice). */
export const sameAddress = (a: string, b: string): boolean => a.trim().toLowerCase() === b.trim().toLowerCase();
