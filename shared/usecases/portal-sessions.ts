import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { ulid } from '../domain/ids.ts';
import { ForbiddenError, NotFoundError, UnauthorizedError, ValidationError } from '../errors.ts';
import type { Clock, SecretReader, SecretStore } from './ports.ts';
import { ExpiringCache, PORTAL_TOKEN_PREFIX, type PortalScope, type PortalTokenCheck, type TenantCaller } from './tenants.ts';

/**
 * Portal sessions: a short-lived link (`<base>/portal#token=pst_...`) with which a tenant's
 * customer manages its webhooks in the portal page, without the tenant's API key.
 *
 * The token is `pst_` + base64url(payload) + `.` + base64url(HMAC-SHA256): the payload names the
 * session, the tenant, the expiry and the scope, and the deployment's signing key (a secret in
 * the secret store, made on first use) signs it. A forged or expired token is refused without a
 * read. A well-signed one is then checked against its session record, which a revocation marks:
 * the record makes a token revocable, the signature makes a guessed one cost nothing.
 */

export const DEFAULT_PORTAL_TTL_SECONDS = 3600;
export const MAX_PORTAL_TTL_SECONDS = 86_400;
/** Webhooks one session may be scoped to (its list is one page of single reads). */
export const MAX_PORTAL_WEBHOOKS = 50;
/**
 * How long a container trusts a session record it read. On AWS this bounds how long a revoked
 * token keeps working in a warm container (as KEY_CACHE_MS does for keys); the one-machine
 * runtime shares one instance, which forgets a session as it revokes it.
 */
export const SESSION_CACHE_MS = 30_000;
/** A signature that fails makes the key be read again at most this often (another container may have made it). */
const KEY_REREAD_MS = 60_000;

/** A session as stored: no token, only what a token is checked against. */
export interface PortalSession {
  readonly id: string;
  readonly tenant_id: string;
  readonly created_at: string;
  readonly expires_at: string;
  readonly read_only: boolean;
  readonly webhook_ids?: readonly string[];
  readonly revoked_at?: string;
}

/** Port: where portal sessions are kept, so that one can be revoked. */
export interface PortalSessionStore {
  create(session: PortalSession): Promise<void>;
  get(tenantId: string, sessionId: string): Promise<PortalSession | undefined>;
  /** Marks the tenant's session revoked; false when it has no such session. */
  revoke(tenantId: string, sessionId: string, at: string): Promise<boolean>;
}

/** Port: whether a webhook is the tenant's (a session may be scoped only to its own). */
export interface WebhookLookup {
  get(tenantId: string, webhookId: string): Promise<unknown>;
}

export interface PortalSessionInput {
  readonly expires_in?: number;
  readonly webhook_ids?: readonly string[];
  readonly read_only?: boolean;
}

/** What the signed part of a token says. Short names: the token travels in a URL. */
interface TokenPayload {
  /** session id */ readonly s: string;
  /** tenant id */ readonly t: string;
  /** expiry, epoch seconds */ readonly e: number;
  /** webhook ids, when scoped */ readonly w?: readonly string[];
  /** read-only */ readonly r?: 1;
}

/** The deployment's signing key: read from the secret store, made there on first use. */
export class PortalSigningKey {
  private readonly secrets: SecretReader & Partial<Pick<SecretStore, 'put'>>;
  private readonly name: string;
  private readonly now: () => number;
  private key: { value: Buffer; readAt: number } | undefined;
  /** `secrets` without `put`: can check tokens but not sign new ones. */
  constructor(secrets: SecretReader & Partial<Pick<SecretStore, 'put'>>, name: string, now: () => number = Date.now) {
    this.secrets = secrets;
    this.name = name;
    this.now = now;
  }

  /** The key to sign with, made if there is none yet. */
  async forSigning(): Promise<Buffer> {
    const known = await this.read(false);
    if (known) return known;
    if (!this.secrets.put) throw new Error('PortalSigningKey: no secret store to write the signing key to');
    await this.secrets.put(this.name, randomBytes(32).toString('base64'));
    // Read back: of two containers making it at once, the value stored last is the one both use.
    const made = await this.read(true);
    if (!made) throw new Error('PortalSigningKey: the signing key just written cannot be read');
    return made;
  }

  /** The key to check with (undefined while none was ever made); `again`: read it anew if not read lately. */
  async forChecking(again: boolean): Promise<Buffer | undefined> {
    return this.read(again && (!this.key || this.now() - this.key.readAt > KEY_REREAD_MS));
  }

  private async read(fresh: boolean): Promise<Buffer | undefined> {
    if (this.key && !fresh) return this.key.value;
    const value = await this.secrets.get(this.name);
    if (value === undefined) return undefined;
    this.key = { value: Buffer.from(value, 'base64'), readAt: this.now() };
    return this.key.value;
  }
}

export interface PortalTokensDeps {
  readonly sessions: Pick<PortalSessionStore, 'get'>;
  /** Reading the key is enough to check tokens. */
  readonly signingKey: Pick<PortalSigningKey, 'forChecking'>;
  readonly clock: Clock;
  readonly cacheMs?: number;
}

export interface PortalSessionsDeps extends PortalTokensDeps {
  readonly sessions: PortalSessionStore;
  readonly signingKey: PortalSigningKey;
  readonly webhooks: WebhookLookup;
  /** The portal page's address, `<public base URL>/portal` (a relative `/portal` without one). */
  readonly portalUrl: string;
}

/** Tenant use case (create, revoke) and the check of a portal token (PortalTokenCheck). */
export class PortalSessions implements PortalTokenCheck {
  private readonly deps: PortalSessionsDeps;
  private readonly tokens: PortalTokens;
  constructor(deps: PortalSessionsDeps) {
    this.deps = deps;
    this.tokens = new PortalTokens(deps);
  }

  async create(tenantId: string, input: PortalSessionInput): Promise<{ id: string; url: string; expires_at: string }> {
    const ttl = input.expires_in ?? DEFAULT_PORTAL_TTL_SECONDS;
    if (!Number.isInteger(ttl) || ttl < 1 || ttl > MAX_PORTAL_TTL_SECONDS) {
      throw new ValidationError(`expires_in must be a whole number of seconds from 1 to ${MAX_PORTAL_TTL_SECONDS}`);
    }
    const webhookIds = input.webhook_ids === undefined ? undefined : [...new Set(input.webhook_ids)];
    for (const id of webhookIds ?? []) {
      const found = await this.deps.webhooks.get(tenantId, id).catch((err: unknown) => {
        if (err instanceof NotFoundError) return undefined;
        throw err;
      });
      if (!found) throw new ValidationError(`webhook_ids names a webhook this tenant does not have: ${id}`);
    }
    const now = this.deps.clock();
    const expiresAt = new Date(Math.floor(now.getTime() / 1000) * 1000 + ttl * 1000);
    const session: PortalSession = {
      id: `pss_${ulid(now.getTime())}`,
      tenant_id: tenantId,
      created_at: now.toISOString(),
      expires_at: expiresAt.toISOString(),
      read_only: input.read_only ?? false,
      ...(webhookIds ? { webhook_ids: webhookIds } : {}),
    };
    const key = await this.deps.signingKey.forSigning();
    await this.deps.sessions.create(session);
    const payload: TokenPayload = {
      s: session.id,
      t: tenantId,
      e: expiresAt.getTime() / 1000,
      ...(webhookIds ? { w: webhookIds } : {}),
      ...(session.read_only ? { r: 1 as const } : {}),
    };
    const token = sign(key, Buffer.from(JSON.stringify(payload)).toString('base64url'));
    // In the fragment: a browser never sends it to a server, nor in a Referer.
    return { id: session.id, url: `${this.deps.portalUrl}#token=${token}`, expires_at: session.expires_at };
  }

  async revoke(tenantId: string, sessionId: string): Promise<void> {
    this.tokens.forget(sessionId);
    const found = /^pss_[0-9A-Z]{26}$/.test(sessionId) && (await this.deps.sessions.revoke(tenantId, sessionId, this.deps.clock().toISOString()));
    if (!found) throw new NotFoundError(`No portal session ${sessionId}`);
  }

  verify(token: string): Promise<TenantCaller> {
    return this.tokens.verify(token);
  }
}

/**
 * The check of a portal token alone (PortalTokenCheck): for a function that accepts portal
 * tokens but neither makes nor revokes sessions, so reads the key and the records only.
 */
export class PortalTokens implements PortalTokenCheck {
  private readonly deps: PortalTokensDeps;
  private readonly cache = new ExpiringCache<PortalSession>(10_000);
  constructor(deps: PortalTokensDeps) {
    this.deps = deps;
  }

  /** A session this instance may have cached: revoked, it must not be trusted any longer. */
  forget(sessionId: string): void {
    this.cache.delete(sessionId);
  }

  /** The tenant and scope of a portal token; 401 when it is forged, expired or revoked. */
  async verify(token: string): Promise<TenantCaller> {
    const payload = await this.signedPayload(token);
    const now = this.deps.clock().getTime();
    if (payload.e * 1000 <= now) throw new UnauthorizedError('The portal session has expired; ask for a new link');
    const session = await this.session(payload.t, payload.s, now);
    if (!session || session.revoked_at !== undefined) throw new UnauthorizedError('The portal session was revoked; ask for a new link');
    const scope: PortalScope = {
      sessionId: session.id,
      readOnly: session.read_only,
      ...(session.webhook_ids ? { webhookIds: session.webhook_ids } : {}),
    };
    return { tenantId: session.tenant_id, portal: scope };
  }

  private async signedPayload(token: string): Promise<TokenPayload> {
    const invalid = () => new UnauthorizedError('Invalid portal session token');
    const match = /^pst_([A-Za-z0-9_-]{1,4096})\.([A-Za-z0-9_-]{43})$/.exec(token);
    if (!match) throw invalid();
    let key = await this.deps.signingKey.forChecking(false);
    if (!key || !signatureMatches(key, token)) {
      key = await this.deps.signingKey.forChecking(true);
      if (!key || !signatureMatches(key, token)) throw invalid();
    }
    try {
      const payload = JSON.parse(Buffer.from(match[1]!, 'base64url').toString('utf8')) as TokenPayload;
      if (typeof payload.s !== 'string' || typeof payload.t !== 'string' || typeof payload.e !== 'number') throw invalid();
      return payload;
    } catch {
      throw invalid();
    }
  }

  private async session(tenantId: string, sessionId: string, now: number): Promise<PortalSession | undefined> {
    const cached = this.cache.get(sessionId, now);
    if (cached) return cached;
    const session = await this.deps.sessions.get(tenantId, sessionId);
    const cacheMs = this.deps.cacheMs ?? SESSION_CACHE_MS;
    if (session && session.revoked_at === undefined && cacheMs > 0) this.cache.set(sessionId, session, now + cacheMs);
    return session;
  }
}

function mac(key: Buffer, signed: string): Buffer {
  return createHmac('sha256', key).update(signed).digest();
}

const sign = (key: Buffer, payload: string): string => {
  const signed = `${PORTAL_TOKEN_PREFIX}${payload}`;
  return `${signed}.${mac(key, signed).toString('base64url')}`;
};

function signatureMatches(key: Buffer, token: string): boolean {
  const dot = token.lastIndexOf('.');
  const given = Buffer.from(token.slice(dot + 1), 'base64url');
  const expected = mac(key, token.slice(0, dot));
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/**
 * What a portal session may do on a route of the webhooks API: read-only sessions only read;
 * a session scoped to some webhooks sees only those (any other is a 404, as if absent) and cannot
 * create one; no session may make or revoke sessions. Throws when the route is not allowed.
 */
export function checkPortalScope(scope: PortalScope, routeKey: string, webhookId: string | undefined): void {
  const [method = '', path = ''] = routeKey.split(' ');
  if (path.startsWith('/api/v1/portal-sessions')) throw new ForbiddenError('A portal session cannot create or revoke portal sessions');
  if (scope.readOnly && method !== 'GET') throw new ForbiddenError('This portal session is read-only');
  if (!scope.webhookIds) return;
  if (webhookId !== undefined && !scope.webhookIds.includes(webhookId)) throw new NotFoundError(`No webhook ${webhookId}`);
  if (webhookId === undefined && method === 'POST' && path === '/api/v1/integrations/webhooks') {
    throw new ForbiddenError('This portal session is limited to some webhooks and cannot create one');
  }
}

/**
 * The list a session scoped to some webhooks sees: those of them that still exist, in the
 * session's order, paged by `page` and `perPage` (at most MAX_PORTAL_WEBHOOKS reads). Such a list
 * gives no cursor, so any cursor is another list's: 400.
 */
export async function webhooksInScope<T>(
  webhookIds: readonly string[],
  get: (webhookId: string) => Promise<T>,
  request: { readonly page: number; readonly perPage: number; readonly cursor?: string | undefined },
): Promise<{ items: T[]; page: number; hasMore: boolean }> {
  if (request.cursor !== undefined) throw new ValidationError('cursor is not one of this list (a portal session limited to some webhooks pages by page)');
  const found = await Promise.all(
    webhookIds.map((id) =>
      get(id).catch((err: unknown) => {
        if (err instanceof NotFoundError) return undefined;
        throw err;
      }),
    ),
  );
  const existing = found.filter((w): w is Awaited<T> => w !== undefined) as T[];
  const from = (request.page - 1) * request.perPage;
  return { items: existing.slice(from, from + request.perPage), page: request.page, hasMore: existing.length > from + request.perPage };
}
