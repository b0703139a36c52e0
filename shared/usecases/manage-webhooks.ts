import type { Catalogue } from '../domain/catalogue.ts';
import type { Attempt } from '../domain/deliveries.ts';
import { newSigningSecret, newWebhookId } from '../domain/ids.ts';
import { isKnownPattern } from '../domain/matching.ts';
import { maskUrl } from '../domain/notifications.ts';
import { newCredentials, NO_CREDENTIALS, patchedCredentials, rotatedCredentials, withStoredQuery } from '../domain/credential-changes.ts';
import { authProblems, carriesCredentials, type ReceiverAuth, type Webhook } from '../domain/webhooks.ts';
import { HooklineError, NotFoundError, ValidationError } from '../errors.ts';
import type { TargetPolicy } from '../domain/targets.ts';
import type { WebhookCreateInput, WebhookPatchInput } from '../http/schemas.ts';
import type { CredentialsWriter } from './credentials-writer.ts';
import { findWebhook } from './find-webhook.ts';
import type { OutboundSettings } from './outbound-request.ts';
import type { Clock } from './ports.ts';
import type { OwnerEmailChange } from './owner-email.ts';
import { checkResolvedHost, checkWebhookUrl, type ResolveHost } from './webhook-urls.ts';

/**
 * Which page of a list. `page` counts from 1 and reaching it reads the pages before it (the API
 * bounds how deep); `cursor`, the opaque `nextCursor` of an earlier page of the same list, costs
 * the same at any depth and wins over `page`.
 */
export interface PageRequest {
  readonly perPage: number;
  readonly page: number;
  readonly cursor?: string | undefined;
}
/** One page; `page` is its number (a cursor carries it), `nextCursor` is set when more follow. */
export interface ListPage<T> {
  readonly items: T[];
  readonly page: number;
  readonly hasMore: boolean;
  readonly nextCursor?: string;
}

/** Port: webhook rows. */
export interface WebhookRepository {
  /** `consistent`: the API answers 404 on a miss, so a webhook just created must be found. */
  get(tenantId: string, webhookId: string, consistent?: boolean): Promise<Webhook | undefined>;
  create(webhook: Webhook): Promise<void>;
  update(tenantId: string, webhookId: string, fields: Partial<Webhook>, remove?: readonly (keyof Webhook)[]): Promise<Webhook | undefined>;
  delete(tenantId: string, webhookId: string): Promise<boolean>;
  /** A tenant's webhooks, oldest first; a cursor made for another list throws a ValidationError. */
  list(tenantId: string, request: PageRequest): Promise<ListPage<Webhook>>;
}
/** Port: how many webhooks a tenant may still create. */
export interface WebhookQuota {
  /** Takes one slot if fewer than `max` are taken; false when the tenant is at its limit. */
  reserve(tenantId: string, max: number): Promise<boolean>;
  release(tenantId: string): Promise<void>;
}
/** Which page of a webhook's delivery log: of all its attempts, or of one delivery's (`deliveryId`). */
export interface AttemptPageRequest extends PageRequest {
  readonly deliveryId?: string | undefined;
}
/** Port: the delivery log. */
export interface AttemptLog {
  /**
   * A webhook's attempts, newest first (a delivery's together), or only one delivery's; a cursor
   * made for another list (another webhook, tenant or delivery) throws a ValidationError.
   */
  list(tenantId: string, webhookId: string, request: AttemptPageRequest): Promise<ListPage<Attempt>>;
}
/** Port: the double opt-in of owner addresses (see OwnerEmailVerification). */
export interface OwnerEmails {
  initial(tenantId: string, webhookId: string, requested: string | undefined): Promise<OwnerEmailChange>;
  change(tenantId: string, current: Webhook, requested: string): Promise<OwnerEmailChange | undefined>;
  sendVerification(change: OwnerEmailChange | undefined, webhookId: string): Promise<void>;
  /** Gives back the email a change took, when its request is refused after all. */
  giveBack(change: OwnerEmailChange | undefined): Promise<void>;
}

export interface ManageWebhooksSettings extends Pick<OutboundSettings, 'signatureHeader'> {
  readonly targets: TargetPolicy;
  /** Webhooks one tenant may have. */
  readonly maxWebhooksPerTenant: number;
}

/** The customer's side of webhooks: CRUD and the delivery log (CONTRACT.md section 4; the test event: TestWebhook). */
export class ManageWebhooks {
  private readonly deps: {
    readonly webhooks: WebhookRepository;
    readonly attempts: Pick<AttemptLog, 'list'>;
    readonly ownerEmails: OwnerEmails;
    /** Changes of credentials: read-modify-writes of the tenant's secret, one at a time per tenant. */
    readonly credentials: Pick<CredentialsWriter, 'change' | 'remove'>;
    readonly clock: Clock;
    readonly catalogue: Catalogue;
    readonly resolveHost: ResolveHost;
    readonly quota: WebhookQuota;
    readonly settings: ManageWebhooksSettings;
  };
  constructor(deps: ManageWebhooks['deps']) {
    this.deps = deps;
  }

  async create(tenantId: string, input: WebhookCreateInput): Promise<{ webhook: Webhook; generatedSecret?: string }> {
    const url = await this.checkUrl(input.url);
    this.checkPatterns(input.events);
    const auth = await this.checkAuth(input.auth ?? { type: 'none' });
    const webhookId = newWebhookId();
    // An atomic counter on the tenant: concurrent creates cannot overshoot the limit.
    if (!(await this.deps.quota.reserve(tenantId, this.deps.settings.maxWebhooksPerTenant))) {
      throw new HooklineError(409, `A tenant may have at most ${this.deps.settings.maxWebhooksPerTenant} webhooks; delete one first`);
    }
    // Before any write, and after every check that may refuse the request: an address that needs
    // verification takes one of the tenant's emails of the hour (the budget its failure notices
    // share), or is refused with 429 when they are spent.
    let owner: Awaited<ReturnType<ManageWebhooks['deps']['ownerEmails']['initial']>>;
    try {
      owner = await this.deps.ownerEmails.initial(tenantId, webhookId, input.owner_email);
    } catch (err) {
      await this.deps.quota.release(tenantId);
      throw err;
    }
    const generatedSecret = input.secret === undefined ? newSigningSecret() : undefined;
    const now = this.deps.clock().toISOString();
    const fields: Omit<Webhook, 'credentials_version'> = {
      tenant_id: tenantId,
      id: webhookId,
      url: storedUrl(url),
      events: [...new Set(input.events)],
      active: input.active ?? true,
      status: 'healthy',
      description: input.description ?? '',
      format: input.format ?? 'standard',
      auth_type: auth.type,
      ...owner.fields,
      ...(input.filter ? { filter: input.filter } : {}),
      has_secret: true,
      created_at: now,
      updated_at: now,
    };
    let credentialsWritten = false;
    let webhook: Webhook;
    try {
      // Credentials first: a dispatcher must never find a webhook whose credentials are not there yet.
      webhook = await this.deps.credentials.change(
        tenantId,
        webhookId,
        0,
        () => newCredentials(input.secret ?? generatedSecret!, auth, url),
        async (version) => {
          credentialsWritten = true;
          const created = { ...fields, credentials_version: version };
          await this.deps.webhooks.create(created);
          return created;
        },
      );
    } catch (err) {
      await this.deps.quota.release(tenantId);
      // A refused request changes nothing: the verification it will not send gives its email back.
      await this.deps.ownerEmails.giveBack(owner);
      // Credentials of a webhook that does not exist would only take room in the tenant's secret.
      if (credentialsWritten) await this.deps.credentials.remove(tenantId, webhookId).catch(() => undefined);
      throw err;
    }
    await this.deps.ownerEmails.sendVerification(owner, webhook.id);
    return generatedSecret === undefined ? { webhook } : { webhook, generatedSecret };
  }

  get(tenantId: string, webhookId: string): Promise<Webhook> {
    return findWebhook(this.deps.webhooks, tenantId, webhookId);
  }

  list(tenantId: string, request: PageRequest) {
    return this.deps.webhooks.list(tenantId, request);
  }

  async update(tenantId: string, webhookId: string, patch: WebhookPatchInput): Promise<Webhook> {
    const current = await this.get(tenantId, webhookId);
    const fields: Partial<{ -readonly [K in keyof Webhook]: Webhook[K] }> = { updated_at: this.deps.clock().toISOString() };
    const checked = patch.url === undefined ? undefined : await this.checkUrl(patch.url);
    // The URL as this API shows it is the URL unchanged: with credentials in its query it reads
    // `?token=****`, and a client that sends back what it read (the portal's edit form does)
    // must not replace the real token with the mask.
    const url = checked && checked.toString() !== current.url ? checked : undefined;
    if (url) fields.url = storedUrl(url);
    if (patch.events !== undefined) {
      this.checkPatterns(patch.events);
      fields.events = [...new Set(patch.events)];
    }
    if (patch.active !== undefined) fields.active = patch.active;
    // Re-activating a webhook disabled by 410 Gone is how its owner says the endpoint is back.
    if (patch.active === true && current.status === 'disabled') fields.status = 'healthy';
    if (patch.description !== undefined) fields.description = patch.description;
    // Checked before the owner address, which may take one of the tenant's emails of the hour.
    const newAuth = patch.auth === undefined ? undefined : await this.checkAuth(patch.auth);
    // A new owner address is unverified until its link is opened (undefined: nothing changes).
    const owner = patch.owner_email === undefined ? undefined : await this.deps.ownerEmails.change(tenantId, current, patch.owner_email);
    if (owner) Object.assign(fields, owner.fields);
    if (patch.format !== undefined) fields.format = patch.format;
    if (patch.filter) fields.filter = patch.filter;
    const remove = [...(patch.filter === null ? ['filter' as const] : []), ...(owner?.remove ?? [])];
    let updated: Webhook | undefined;
    try {
      if (patch.auth !== undefined || patch.secret !== undefined || url !== undefined) {
        updated = await this.deps.credentials.change(
          tenantId,
          webhookId,
          current.credentials_version,
          (existing = NO_CREDENTIALS) => {
            // A new path sent with the query as shown (`?token=****`) keeps the stored values.
            const fullUrl = url && withStoredQuery(url, existing.url);
            if (url && !fullUrl) {
              throw new ValidationError('Invalid URL', [{ path: 'url', message: 'holds a masked value (****) where the stored URL has none to keep: give the value itself' }]);
            }
            const next = patchedCredentials(existing, { secret: patch.secret, auth: newAuth, url: fullUrl });
            fields.auth_type = next.auth.type;
            return next;
          },
          (version) => this.deps.webhooks.update(tenantId, webhookId, { ...fields, credentials_version: version }, remove),
        );
      } else {
        updated = await this.deps.webhooks.update(tenantId, webhookId, fields, remove);
      }
      if (!updated) throw new NotFoundError(`No webhook ${webhookId}`);
    } catch (err) {
      await this.deps.ownerEmails.giveBack(owner);
      throw err;
    }
    await this.deps.ownerEmails.sendVerification(owner, webhookId);
    return updated;
  }

  /**
   * Secret rotation: the new secret (given or generated) signs from now on; the current one keeps
   * signing `webhook-signature` (one `v1,` per secret) until the grace period ends, so receivers
   * can switch without dropping a delivery.
   */
  async rotateSecret(tenantId: string, webhookId: string, input: { secret?: string | undefined; grace_period_seconds: number }) {
    const webhook = await this.get(tenantId, webhookId);
    const now = this.deps.clock();
    const expiresAt = new Date(now.getTime() + input.grace_period_seconds * 1000).toISOString();
    const generated = input.secret === undefined ? newSigningSecret() : undefined;
    await this.deps.credentials.change(
      tenantId,
      webhookId,
      webhook.credentials_version,
      (existing = NO_CREDENTIALS) => rotatedCredentials(existing, input.secret ?? generated!, expiresAt, now),
      (version) => this.deps.webhooks.update(tenantId, webhookId, { credentials_version: version, updated_at: now.toISOString() }),
    );
    return { ...(generated ? { secret: generated } : {}), previous_secret_expires_at: expiresAt };
  }

  /**
   * The credentials go first: should removing them fail, the webhook is still there and the
   * DELETE can be sent again (the other way round, the 500 left its secret behind with no webhook
   * to remove it through). A delivery finding the webhook without credentials is cancelled, never
   * sent unsigned.
   */
  async delete(tenantId: string, webhookId: string): Promise<void> {
    await this.get(tenantId, webhookId);
    await this.deps.credentials.remove(tenantId, webhookId);
    if (!(await this.deps.webhooks.delete(tenantId, webhookId))) throw new NotFoundError(`No webhook ${webhookId}`);
    await this.deps.quota.release(tenantId);
  }

  async deliveries(tenantId: string, webhookId: string, request: AttemptPageRequest) {
    await this.get(tenantId, webhookId);
    return this.deps.attempts.list(tenantId, webhookId, request);
  }

  private checkPatterns(patterns: readonly string[]): void {
    const known = this.deps.catalogue.types.map((t) => t.type);
    const unknown = patterns.flatMap((p, i) =>
      isKnownPattern(p, known) ? [] : [{ path: `events.${i}`, message: `"${p}" matches no event type in the catalogue` }],
    );
    if (unknown.length > 0) throw new ValidationError('Unknown event type in events', unknown);
  }

  private async checkUrl(raw: string, field = 'url'): Promise<URL> {
    const url = checkWebhookUrl(raw, this.deps.settings.targets, field);
    await checkResolvedHost(url, this.deps.settings.targets, this.deps.resolveHost, field);
    return url;
  }

  private async checkAuth(auth: ReceiverAuth): Promise<ReceiverAuth> {
    const problems = authProblems(auth, this.deps.settings.signatureHeader);
    if (problems.length > 0) throw new ValidationError('auth is invalid', problems);
    // The token URL is an outbound target like the webhook URL, with the same rules.
    if (auth.type === 'oauth2') await this.checkUrl(auth.token_url, 'auth.token_url');
    return auth;
  }
}

/** What the webhook table keeps of a URL: with credentials in its query string masked (URL auth). */
const storedUrl = (url: URL): string => (carriesCredentials(url) ? maskUrl(url.toString()) : url.toString());
