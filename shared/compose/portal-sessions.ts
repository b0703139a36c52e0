import { ENV, type Settings } from '../config.ts';
import { PortalSessions, PortalSigningKey, PortalTokens, type PortalSessionStore, type WebhookLookup } from '../usecases/portal-sessions.ts';
import type { SecretReader, SecretStore } from '../usecases/ports.ts';
import type { AwsAdapter } from '../adapters/aws/aws-calls.ts';
import type { FunctionBase } from './function-base.ts';
import { publicUrl } from './mail.ts';

/** The secret portal session tokens are signed with: `<secretPrefix>portal-signing-key`, made on first use. */
export const portalKeySecretName = (settings: Pick<Settings, 'secretPrefix'>): string => `${settings.secretPrefix}portal-signing-key`;

/** The session records: the tenants table on AWS, the runtime's database on one machine. */
const sessionStore = (f: FunctionBase): PortalSessionStore & Partial<AwsAdapter> =>
  f.local?.portalSessions ?? f.awsAdapter('portalSessions');

/**
 * Portal sessions: session records, and tokens signed with the deployment's key. Links point at
 * the public URL, else at the API's own host.
 */
export function portalSessions(f: FunctionBase, webhooks: WebhookLookup, secrets?: SecretStore): PortalSessions {
  const keyStore = secrets ?? f.aws.use(f.awsAdapter('secrets', 'portal-key'), 'get', 'put');
  const sessions = f.aws.use(sessionStore(f), 'create', 'get', 'revoke');
  const apiHost = f.env[ENV.apiHost];
  const base = publicUrl(f) || (apiHost ? `https://${apiHost}` : '');
  return new PortalSessions({
    sessions,
    signingKey: new PortalSigningKey(keyStore, portalKeySecretName(f.settings)),
    webhooks,
    clock: f.clock,
    portalUrl: `${base}/portal`,
    // One machine: one instance checks and revokes, and a read costs nothing; no cache needed.
    ...(f.local ? { cacheMs: 0 } : {}),
  });
}

/**
 * The check of portal tokens alone, for a function that accepts them but neither makes nor
 * revokes sessions (webhook-test): it reads the signing key and the session records, nothing more.
 */
export function portalTokens(f: FunctionBase, secrets?: SecretReader): PortalTokens {
  const keyStore = secrets ?? f.aws.use(f.awsAdapter('secrets', 'portal-key'), 'get');
  const sessions = f.aws.use(sessionStore(f), 'get');
  return new PortalTokens({ sessions, signingKey: new PortalSigningKey(keyStore, portalKeySecretName(f.settings)), clock: f.clock });
}
