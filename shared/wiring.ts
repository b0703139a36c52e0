import type { Logger } from '@aws-lambda-powertools/logger';
import { settingsFromEnv, type Settings } from './config.ts';
import { createLogger } from './logging.ts';
import { readFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import type { TargetPolicy } from './domain/targets.ts';
import { Catalogue, CatalogueError, parseCatalogue } from './domain/catalogue.ts';
import { documentClient, secretsManagerClient, sqsClient } from './adapters/aws/clients.ts';
import { DynamoAttemptLog } from './adapters/aws/dynamo-attempt-log.ts';
import { DynamoDeliveryStore } from './adapters/aws/dynamo-delivery-store.ts';
import { DynamoEventStore } from './adapters/aws/dynamo-event-store.ts';
import { DynamoTenantStore } from './adapters/aws/dynamo-tenant-store.ts';
import { DynamoWebhookStore } from './adapters/aws/dynamo-webhook-store.ts';
import { SqsDeliveryQueue, SqsEventQueue } from './adapters/aws/queues.ts';
import { SecretsManagerStore } from './adapters/aws/secrets-manager-store.ts';
import { UndiciSender } from './adapters/http/undici-sender.ts';
import { AttemptSender } from './usecases/attempt-sender.ts';
import { CredentialsCache } from './usecases/credentials.ts';
import { OAuth2Tokens } from './usecases/oauth2-tokens.ts';
import type { RetryScheduler } from './usecases/dispatch.ts';
import { systemClock, type Clock, type HttpSender, type Mailer, type SecretStore } from './usecases/ports.ts';
import { AdminAuthenticator, FAILED_AUTHS_PER_MINUTE, TenantAuthenticator } from './usecases/tenants.ts';
import { AuthFailureBuckets } from './adapters/local/token-bucket.ts';

/**
 * What the one-machine runtime swaps in for AWS services that have no local stand-in. DynamoDB
 * and SQS are not here: the same adapters talk to dynalite and fauxqs.
 */
export interface Overrides {
  readonly secrets?: SecretStore;
  readonly mailer?: Mailer;
  readonly retries?: RetryScheduler;
  readonly sender?: HttpSender;
  readonly clock?: Clock;
  readonly env?: NodeJS.ProcessEnv;
  /** On one machine private targets are allowed unless the user says otherwise. */
  readonly allowPrivateTargetsDefault?: boolean;
  /** See DispatchSettings.claimsStaleBefore: the one-machine runtime's start time. */
  readonly claimsStaleBefore?: Date;
  /**
   * Ports this machine's Hookline listens on (its API, the stand-ins): no webhook may reach them.
   * On Lambda, the runtime API's port is added from `AWS_LAMBDA_RUNTIME_API`.
   */
  readonly ownPorts?: readonly number[];
  /** Per-tenant request limit for the API handlers (one machine; API Gateway throttles on AWS). */
  readonly rateLimit?: (key: string) => number | undefined;
  /**
   * One machine: the HTTP server and every API handler share these, so a key revoked through
   * the admin API gets 401 at once, and failed keys are counted per address across routes.
   */
  readonly tenantAuth?: TenantAuthenticator;
  readonly adminAuth?: AdminAuthenticator;
}

export const ADMIN_KEY_SECRET_ENV = 'HOOKLINE_ADMIN_KEY_SECRET';

/**
 * The composition root of one function: settings, adapters and shared services, each built on
 * first use so that a function pays only for the clients it touches.
 */
export class Wiring {
  readonly settings: Settings;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly catalogue: Catalogue;
  readonly overrides: Overrides;
  private readonly memo = new Map<string, unknown>();

  constructor(functionName: string, overrides: Overrides = {}) {
    this.overrides = overrides;
    this.settings = settingsFromEnv(overrides.env ?? process.env, overrides.allowPrivateTargetsDefault ?? false);
    this.logger = createLogger(functionName);
    this.clock = overrides.clock ?? systemClock;
    this.catalogue = catalogueFromEnv(overrides.env ?? process.env);
  }

  once<T>(key: string, make: () => T): T {
    if (!this.memo.has(key)) this.memo.set(key, make());
    return this.memo.get(key) as T;
  }

  get tenants() {
    return this.once('tenants', () => new DynamoTenantStore(documentClient(), this.settings.tables.tenants));
  }
  get webhooks() {
    return this.once('webhooks', () => new DynamoWebhookStore(documentClient(), this.settings.tables.webhooks));
  }
  get events() {
    return this.once('events', () => new DynamoEventStore(documentClient(), this.settings.tables.events, this.settings.retentionDays));
  }
  get deliveries() {
    return this.once('deliveries', () => new DynamoDeliveryStore(documentClient(), this.settings.tables.deliveries, this.settings.retentionDays));
  }
  get attempts() {
    return this.once('attempts', () => new DynamoAttemptLog(documentClient(), this.settings.tables.attempts, this.settings.retentionDays));
  }
  get eventQueue() {
    return this.once('eventQueue', () => new SqsEventQueue(sqsClient(), this.settings.queues.events));
  }
  get deliveryQueue() {
    return this.once('deliveryQueue', () => new SqsDeliveryQueue(sqsClient(), this.settings.queues.deliveries, this.clock));
  }
  get secrets(): SecretStore {
    return this.once('secrets', () => this.overrides.secrets ?? new SecretsManagerStore(secretsManagerClient()));
  }
  get credentials() {
    return this.once('credentials', () => new CredentialsCache(this.secrets, this.settings.secretPrefix));
  }
  get sender(): HttpSender {
    return this.once('sender', () => this.overrides.sender ?? new UndiciSender({ policy: this.targetPolicy }));
  }
  /** Signed POSTs with the webhook's auth (OAuth2 tokens cached per container). */
  get attemptSender() {
    return this.once('attemptSender', () => {
      const tokens = new OAuth2Tokens(this.sender, this.clock, this.settings.requestTimeoutMs);
      return new AttemptSender(this.sender, tokens, this.outbound);
    });
  }
  get targetPolicy(): TargetPolicy {
    return this.once('targetPolicy', () => {
      const runtimeApiPort = Number(this.env['AWS_LAMBDA_RUNTIME_API']?.split(':').pop());
      const ownPorts = [...(this.overrides.ownPorts ?? []), ...(Number.isInteger(runtimeApiPort) && runtimeApiPort > 0 ? [runtimeApiPort] : [])];
      return {
        allowPrivateTargets: this.settings.allowPrivateTargets,
        allowedPorts: this.settings.allowedPorts,
        ownPorts,
        localAddresses: ownPorts.length > 0 ? Object.values(networkInterfaces()).flatMap((list) => (list ?? []).map((i) => i.address)) : [],
        ownHosts: this.settings.ownHosts,
      };
    });
  }
  /** Failed authentications per client address, in this container (or process). */
  get authFailures() {
    return this.once('authFailures', () => new AuthFailureBuckets(FAILED_AUTHS_PER_MINUTE));
  }
  get tenantAuth(): TenantAuthenticator {
    return this.once('tenantAuth', () => this.overrides.tenantAuth ?? new TenantAuthenticator(this.tenants, this.authFailures));
  }
  get adminAuth(): AdminAuthenticator {
    const name = this.env[ADMIN_KEY_SECRET_ENV] || `${this.settings.secretPrefix}admin-api-key`;
    return this.once('adminAuth', () => this.overrides.adminAuth ?? new AdminAuthenticator(this.secrets, name, this.authFailures));
  }

  get env(): NodeJS.ProcessEnv {
    return this.overrides.env ?? process.env;
  }

  /** Settings the outbound request builder needs. */
  get outbound() {
    return {
      signatureHeader: this.settings.signatureHeader,
      requestTimeoutMs: this.settings.requestTimeoutMs,
      version: this.settings.version,
      deploymentHost: this.settings.deploymentHost,
      catalogue: this.catalogue,
    };
  }

  /** For API handlers: 5xx causes, logged without request data. */
  readonly logError = (message: string, error: unknown): void => {
    this.logger.error(message, error instanceof Error ? error : String(error));
  };
}

export const CATALOGUE_FILE_ENV = 'HOOKLINE_CATALOGUE_FILE';

/** The platform team's catalogue from `HOOKLINE_CATALOGUE_FILE`, or the default one. */
export function catalogueFromEnv(env: NodeJS.ProcessEnv): Catalogue {
  const file = env[CATALOGUE_FILE_ENV];
  if (!file) return new Catalogue();
  let document: unknown;
  try {
    document = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new CatalogueError(`cannot read the catalogue ${file}: ${(err as Error).message}`);
  }
  return new Catalogue(parseCatalogue(document));
}

/** Builds the real handler on its first invocation, so importing a handler module has no side effects. */
export function lazyHandler<E, C, R>(create: () => (event: E, context: C) => Promise<R>) {
  let built: ((event: E, context: C) => Promise<R>) | undefined;
  return (event: E, context: C): Promise<R> => (built ??= create())(event, context);
}
