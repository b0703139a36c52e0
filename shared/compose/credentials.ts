import { CredentialsCache } from '../usecases/credentials.ts';
import { CredentialsWriter } from '../usecases/credentials-writer.ts';
import type { SecretReader, SecretStore } from '../usecases/ports.ts';
import type { FunctionBase } from './function-base.ts';

/**
 * Webhook credentials, one secret per tenant (Secrets Manager on AWS; `secrets`, 0600 files, on
 * one machine). Readers keep each tenant's secret for up to an hour in the container.
 */
export function credentialsCache(f: FunctionBase, secrets?: SecretReader): CredentialsCache {
  const store = secrets ?? f.aws.use(f.awsAdapter('secrets', 'webhook-secrets'), 'get');
  return new CredentialsCache(store, f.settings.secretPrefix, { clock: f.clock });
}

/** Changes of a tenant's credentials, one at a time per tenant under a lock item in the tenants table. */
export function credentialsWriter(f: FunctionBase, secrets?: SecretStore): CredentialsWriter {
  const store = secrets ?? f.aws.use(f.awsAdapter('secrets', 'webhook-secrets'), 'get', 'put');
  const lock = f.aws.use(f.local?.credentialsLock ?? f.awsAdapter('credentialsLock'), 'acquire', 'release');
  return new CredentialsWriter({ secrets: store, lock, clock: f.clock, secretPrefix: f.settings.secretPrefix });
}
