import { setTimeout as sleep } from 'node:timers/promises';
import { ulid } from '../domain/ids.ts';
import type { WebhookCredentials } from '../domain/webhooks.ts';
import { HooklineError } from '../errors.ts';
import {
  credentialsSecretName,
  MAX_CREDENTIALS_SECRET_BYTES,
  openCredentials,
  parseTenantCredentials,
  sealCredentials,
  type TenantCredentials,
} from './credentials.ts';
import type { Clock, SecretStore } from './ports.ts';

/**
 * How long a writer may hold a tenant's credentials lock. It is longer than the webhooks API may
 * run (its Lambda timeout is at most 29 s, API Gateway's limit): a holder that stalls is stopped
 * by its timeout before its lock can pass to another writer, so two writers never overlap. A
 * holder that dies blocks the tenant's credential changes until then, no longer.
 */
export const CREDENTIALS_LOCK_MS = 30_000;

/** How long a change waits for another change of the same tenant's credentials before giving up with 409. */
const LOCK_WAIT_MS = 10_000;

/**
 * Port: one writer at a time per tenant's credentials, across containers (a conditional item in
 * the tenants table on AWS and on one machine).
 */
export interface CredentialsLock {
  /** Takes the tenant's lock for `holder` until `until` unless another holder has it (until after `now`); false when it has. */
  acquire(tenantId: string, holder: string, now: Date, until: Date): Promise<boolean>;
  /** Gives the lock up if `holder` still has it. */
  release(tenantId: string, holder: string): Promise<void>;
}

/**
 * Writes a tenant's webhook credentials: each change reads the tenant's one secret, changes one
 * webhook's entry and writes the whole secret back. Secrets Manager has no conditional write,
 * so two changes of one tenant's webhooks (two creates at once) would each write the secret as
 * they read it and one would be lost: every read-modify-write holds the tenant's lock, which
 * makes them take turns. The lock cannot pass to another writer while its holder still runs
 * (CREDENTIALS_LOCK_MS), and Secrets Manager returns the value last written to the next read,
 * so each writer reads what the one before it wrote.
 */
export class CredentialsWriter {
  private readonly deps: {
    readonly secrets: Pick<SecretStore, 'get' | 'put'>;
    readonly lock: CredentialsLock;
    readonly clock: Clock;
    readonly secretPrefix: string;
    /** Tests: a shorter wait for a busy lock. */
    readonly lockWaitMs?: number;
  };
  constructor(deps: CredentialsWriter['deps']) {
    this.deps = deps;
  }

  /**
   * Replaces one webhook's credentials with `edit` of its current ones (undefined: none stored),
   * then runs `commit` with the version they were written for, still holding the lock: the
   * caller stores that version on the webhook row there, so rows and entries move in the same
   * order. The version is above both the entry's and the row's (`rowVersion`), so no two
   * contents of one webhook's credentials ever carry the same version, even after a failed commit.
   */
  change<T>(
    tenantId: string,
    webhookId: string,
    rowVersion: number,
    edit: (current: WebhookCredentials | undefined) => WebhookCredentials,
    commit: (version: number) => Promise<T>,
  ): Promise<T> {
    return this.locked(tenantId, async () => {
      const stored = await this.read(tenantId);
      const entry = stored[webhookId];
      const current = entry ? openCredentials(tenantId, webhookId, entry) : undefined;
      const version = Math.max(entry?.credentials_version ?? 0, rowVersion) + 1;
      await this.write(tenantId, { ...stored, [webhookId]: sealCredentials(tenantId, webhookId, version, edit(current)) });
      return commit(version);
    });
  }

  /** Forgets a deleted webhook's credentials; the tenant's secret stays (an empty map at worst) for its next webhook. */
  remove(tenantId: string, webhookId: string): Promise<void> {
    return this.locked(tenantId, async () => {
      const { [webhookId]: removed, ...rest } = await this.read(tenantId);
      if (removed) await this.write(tenantId, rest);
    });
  }

  private async read(tenantId: string): Promise<TenantCredentials> {
    return parseTenantCredentials(await this.deps.secrets.get(credentialsSecretName(this.deps.secretPrefix, tenantId)));
  }

  private async write(tenantId: string, credentials: TenantCredentials): Promise<void> {
    const value = JSON.stringify(credentials);
    const bytes = Buffer.byteLength(value, 'utf8');
    if (bytes > MAX_CREDENTIALS_SECRET_BYTES) {
      throw new HooklineError(
        409,
        `The credentials of this tenant's webhooks would take ${bytes} bytes, over the limit of ${MAX_CREDENTIALS_SECRET_BYTES} bytes they share; use shorter tokens or URLs, or delete a webhook first`,
      );
    }
    await this.deps.secrets.put(credentialsSecretName(this.deps.secretPrefix, tenantId), value);
  }

  private async locked<T>(tenantId: string, work: () => Promise<T>): Promise<T> {
    const holder = ulid();
    const giveUpAt = performance.now() + (this.deps.lockWaitMs ?? LOCK_WAIT_MS);
    for (let attempt = 0; ; attempt++) {
      const now = this.deps.clock();
      if (await this.deps.lock.acquire(tenantId, holder, now, new Date(now.getTime() + CREDENTIALS_LOCK_MS))) break;
      if (performance.now() >= giveUpAt) {
        throw new HooklineError(409, "Another change to this tenant's webhook credentials is in progress; retry in a few seconds");
      }
      // A change holds the lock for two Secrets Manager calls and a row write: tens of milliseconds.
      await sleep(Math.min(20 * 2 ** attempt, 250) * (0.5 + Math.random()));
    }
    try {
      return await work();
    } finally {
      // Not released (the call failed): it expires on its own.
      await this.deps.lock.release(tenantId, holder).catch(() => undefined);
    }
  }
}
