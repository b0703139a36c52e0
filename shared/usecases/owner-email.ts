import { verificationEmail } from '../domain/notifications.ts';
import {
  newVerificationToken,
  parseVerificationToken,
  sameAddress,
  sameHash,
  VERIFICATION_PATH,
  VERIFICATION_TTL_MS,
} from '../domain/owner-email.ts';
import type { Webhook } from '../domain/webhooks.ts';
import { HooklineError, NotFoundError, RateLimitedError } from '../errors.ts';
import { noMetrics, type EmailMetrics } from './metrics.ts';
import type { Clock, Email, Mailer } from './ports.ts';

/**
 * Port: the per-tenant email budget (EMAILS_PER_TENANT_PER_HOUR a clock hour, every kind of
 * email), shared by every function that emails; see DynamoEmailQuota.
 */
export interface EmailQuota {
  /** Takes one email of the tenant's hour at `now`; false when the hour's budget is spent. */
  take(tenantId: string, now: Date): Promise<boolean>;
}

/** Port: the budget of EmailQuota, given back an email taken and not sent. */
export interface EmailQuotaRefund {
  /** Gives back one email taken at `takenAt` (never below zero). */
  giveBack(tenantId: string, takenAt: Date): Promise<void>;
}

/** Port: the tenant's own address, set by the platform team at tenant creation (trusted). */
export interface TenantOwners {
  get(tenantId: string): Promise<{ readonly owner_email: string } | undefined>;
}

/** Port: the webhook row's verification fields. */
export interface OwnerEmailStore {
  get(tenantId: string, webhookId: string, consistent?: boolean): Promise<Webhook | undefined>;
  /**
   * Marks owner_email verified if the pending token's hash is `tokenHash` and it has not expired
   * at `now`, and drops the token (single use); undefined when that condition did not hold.
   */
  confirmOwnerEmail(tenantId: string, webhookId: string, tokenHash: string, now: Date): Promise<Webhook | undefined>;
}

export interface OwnerEmailLogger {
  info(message: string, extra: Record<string, unknown>): void;
  warn(message: string, extra: Record<string, unknown>): void;
  error(message: string, extra: Record<string, unknown>): void;
}

/**
 * The INFO line written for each verification email sent. On AWS it is what counts the email in
 * `EmailsSent` (a metric filter on the webhooks API's log group, infra/stack/log-metrics.ts), so
 * that bundle needs no metrics library: keep it stable.
 */
export const VERIFICATION_SENT_MESSAGE = 'owner email verification sent';

type TokenField = 'owner_email_token_hash' | 'owner_email_token_expires_at';
const TOKEN_FIELDS: readonly TokenField[] = ['owner_email_token_hash', 'owner_email_token_expires_at'];

/** What to store for a new owner address, and the verification email to send once it is stored. */
export interface OwnerEmailChange {
  readonly fields: Pick<Webhook, 'owner_email' | 'owner_email_verified' | TokenField>;
  /** Fields to remove from the row (a pending token, when the new address needs none). */
  readonly remove: readonly TokenField[];
  readonly verification?: Email;
  /** The email of the tenant's budget the verification took: the tenant, and when. */
  readonly taken?: { readonly tenantId: string; readonly at: Date };
}

/**
 * Double opt-in of a webhook's owner address (CONTRACT.md section 6). The tenant's own address
 * is trusted; any other gets a verification link (counted in the tenant's email budget, so that
 * verification emails cannot become a relay either), and until it is opened the webhook's emails
 * go to the tenant's own address.
 */
export class OwnerEmailVerification {
  private readonly deps: {
    readonly webhooks: OwnerEmailStore;
    readonly tenants: TenantOwners;
    readonly quota: EmailQuota & EmailQuotaRefund;
    /** Absent on AWS when no sender identity is configured: nothing can be verified then. */
    readonly mailer: Mailer | undefined;
    readonly clock: Clock;
    readonly log: OwnerEmailLogger;
    /** Base URL of the API for the link; empty for a relative path. */
    readonly publicUrl: string;
    /** Where `EmailsSent` is an EMF metric; on AWS the webhooks API counts the log line instead (see VERIFICATION_SENT_MESSAGE). */
    readonly metrics?: EmailMetrics;
  };
  private readonly metrics: EmailMetrics;
  constructor(deps: OwnerEmailVerification['deps']) {
    this.deps = deps;
    this.metrics = deps.metrics ?? noMetrics;
  }

  /**
   * The owner fields of a new webhook `webhookId`: `requested`, or the tenant's own address when
   * absent. Throws 429, before anything is written, when a verification email is needed and the
   * tenant's email budget of this hour is spent.
   */
  async initial(tenantId: string, webhookId: string, requested: string | undefined): Promise<OwnerEmailChange> {
    const own = await this.ownAddress(tenantId);
    return this.changeTo(tenantId, webhookId, requested ?? own, own, []);
  }

  /**
   * The owner fields when a PATCH sets `requested` on `current`; undefined when nothing changes.
   * The same address again while it is unverified sends a new link. Throws 429 like `initial`.
   */
  async change(tenantId: string, current: Webhook, requested: string): Promise<OwnerEmailChange | undefined> {
    if (sameAddress(current.owner_email, requested) && current.owner_email_verified) return undefined;
    return this.changeTo(tenantId, current.id, requested, await this.ownAddress(tenantId), TOKEN_FIELDS);
  }

  private async ownAddress(tenantId: string): Promise<string> {
    return (await this.deps.tenants.get(tenantId))?.owner_email ?? '';
  }

  private async changeTo(tenantId: string, webhookId: string, address: string, own: string, staleToken: readonly TokenField[]): Promise<OwnerEmailChange> {
    if (!address) return { fields: { owner_email: '', owner_email_verified: false }, remove: staleToken };
    if (own && sameAddress(address, own)) return { fields: { owner_email: address, owner_email_verified: true }, remove: staleToken };
    if (!this.deps.mailer) {
      this.deps.log.warn('owner email set; no sender email configured, verification not sent', { webhook_id: webhookId });
      return { fields: { owner_email: address, owner_email_verified: false }, remove: staleToken };
    }
    const now = this.deps.clock();
    if (!(await this.deps.quota.take(tenantId, now))) throw budgetSpent(now);
    const { token, hash } = newVerificationToken(tenantId, webhookId);
    const expiresAt = new Date(now.getTime() + VERIFICATION_TTL_MS).toISOString();
    const link = `${this.deps.publicUrl}${VERIFICATION_PATH}/${token}`;
    return {
      // The new token replaces any earlier one: a link sent for an older address stops working.
      fields: { owner_email: address, owner_email_verified: false, owner_email_token_hash: hash, owner_email_token_expires_at: expiresAt },
      remove: [],
      verification: { to: address, ...verificationEmail({ webhookId, link, expiresAt }) },
      taken: { tenantId, at: now },
    };
  }

  /**
   * Gives the tenant back the email a change took, when the request that made it is refused
   * after all (a 409 further on): a refused request changes nothing, its budget included. A
   * failure to give back is logged; the budget is short by one until the hour ends.
   */
  async giveBack(change: OwnerEmailChange | undefined): Promise<void> {
    if (!change?.taken) return;
    try {
      await this.deps.quota.giveBack(change.taken.tenantId, change.taken.at);
    } catch (err) {
      this.deps.log.warn('could not give back an email of the tenant\'s budget', { tenant_id: change.taken.tenantId, error: err instanceof Error ? err.message : String(err) });
    }
  }

  /**
   * Sends the verification email of a change, once the row holds its token. A failure is logged:
   * the webhook is stored, and asking for the same address again sends a new link.
   */
  async sendVerification(change: OwnerEmailChange | undefined, webhookId: string): Promise<void> {
    if (!change?.verification || !this.deps.mailer) return;
    try {
      await this.deps.mailer.send(change.verification);
    } catch (err) {
      this.deps.log.error('could not send the owner email verification', { webhook_id: webhookId, error: err instanceof Error ? err.message : String(err) });
      return;
    }
    this.deps.log.info(VERIFICATION_SENT_MESSAGE, { webhook_id: webhookId });
    this.metrics.emailSent();
  }

  /** The public link: 404 for a token that is not (or no longer) pending, 410 for an expired one. */
  async confirm(token: string) {
    const named = parseVerificationToken(token);
    const notPending = () => new NotFoundError('This verification link is not valid, or was used already');
    if (!named) throw notPending();
    const webhook = await this.deps.webhooks.get(named.tenantId, named.webhookId, true);
    if (!webhook?.owner_email_token_hash || !sameHash(webhook.owner_email_token_hash, named.hash)) throw notPending();
    const now = this.deps.clock();
    if (Date.parse(webhook.owner_email_token_expires_at ?? '') <= now.getTime()) {
      throw new HooklineError(410, 'This verification link has expired; the webhook\'s owner can set the address again to get a new one');
    }
    const confirmed = await this.deps.webhooks.confirmOwnerEmail(named.tenantId, named.webhookId, named.hash, now);
    if (!confirmed) throw notPending();
    return { webhook_id: confirmed.id, owner_email: confirmed.owner_email, owner_email_verified: true as const };
  }
}

function budgetSpent(now: Date): RateLimitedError {
  const nextHour = new Date(Math.floor(now.getTime() / 3_600_000) * 3_600_000 + 3_600_000);
  return new RateLimitedError(
    Math.max(1, Math.ceil((nextHour.getTime() - now.getTime()) / 1000)),
    `This tenant has sent all the emails it may send this hour, so the verification email to owner_email cannot be sent; nothing was changed. Try again after ${nextHour.toISOString()}`,
  );
}
