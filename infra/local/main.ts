/**
 * `npm start`: the whole pipeline in one process, against embedded stand-ins. The same handler
 * modules that run on Lambda are invoked here the way API Gateway, the SQS event source mappings
 * and the scheduled reconciler invoke them on AWS.
 */
import { SQSClient } from '@aws-sdk/client-sqs';
import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { composeAdminApi } from '../../functions/admin-api/compose.ts';
import { composeDispatcher } from '../../functions/dispatcher/compose.ts';
import { composeFanout } from '../../functions/fanout/compose.ts';
import { composeIngest } from '../../functions/ingest/compose.ts';
import { composeOpenApi } from '../../functions/openapi/compose.ts';
import { composeReconciler } from '../../functions/reconciler/compose.ts';
import { composeWebhooksApi } from '../../functions/webhooks-api/compose.ts';
import { documentClient, sqsClient } from '../../shared/adapters/aws/clients.ts';
import { DynamoDeliveryStore } from '../../shared/adapters/aws/dynamo-delivery-store.ts';
import { DynamoEventStore } from '../../shared/adapters/aws/dynamo-event-store.ts';
import { DynamoTenantStore } from '../../shared/adapters/aws/dynamo-tenant-store.ts';
import { SqsDeliveryQueue, SqsEventQueue } from '../../shared/adapters/aws/queues.ts';
import { FileSecretStore } from '../../shared/adapters/local/file-secret-store.ts';
import { OutboxMailer } from '../../shared/adapters/local/outbox-mailer.ts';
import { TimerRetryScheduler } from '../../shared/adapters/local/timer-retry-scheduler.ts';
import { TenantTokenBuckets, TokenBuckets } from '../../shared/adapters/local/token-bucket.ts';
import { authFailures } from '../../shared/compose/auth.ts';
import { catalogueTypesFromEnv } from '../../shared/compose/catalogue.ts';
import { compileCatalogue } from '../../shared/domain/catalogue-schemas.ts';
import { openApiDocument } from '../../shared/http/openapi.ts';
import { createLogger } from '../../shared/logging.ts';
import { systemClock } from '../../shared/usecases/ports.ts';
import { adminKeySecretName, ENV, localSettingsFromEnv, settingsFromEnv, type Settings } from '../../shared/config.ts';
import { ApiKeys } from '../../shared/usecases/api-keys.ts';
import { Reconcile } from '../../shared/usecases/reconcile.ts';
import { AdminAuthenticator, BootstrapTenant, TenantAuthenticator } from '../../shared/usecases/tenants.ts';
import { bearerKey } from '../../shared/http/api-handler.ts';
import { forgetSuperseded, loadCredentials } from './bootstrap.ts';
import type { ApiFunction } from '../../shared/http/routes.ts';
import { startApiServer, type ApiLambda, type Authorize } from './http-server.ts';
import { SqsPoller } from './sqs-poller.ts';
import { startStandIns } from './standins.ts';

const BOOTSTRAP_TENANT = 'default';
/** How late work must be, while running, before the reconciler re-queues it. */
const RECONCILE_GRACE_MS = 60_000;
const RECONCILE_EVERY_MS = 15_000;

/**
 * Dispatcher invocations in flight at once. A batch is in flight until its slowest record is done,
 * so each of a tenant's hanging attempts (at most its cap) may hold one: twice the cap leaves at
 * least as many for the other tenants.
 */
const dispatcherConcurrency = (settings: Settings): number => Math.max(8, 2 * settings.maxConcurrentPerTenant);

/**
 * Queues live in memory: after a restart, everything not finished is queued again, read from the
 * tables themselves (a Scan: a kill can tear the stand-in's index). Never on AWS, where the due
 * index is the source and the reconciler reads it.
 */
async function requeueUnfinished(settings: Settings): Promise<{ events: number; deliveries: number }> {
  const events = new DynamoEventStore(documentClient(), settings.tables.events, settings.retentionDays);
  const deliveries = new DynamoDeliveryStore(documentClient(), settings.tables.deliveries, settings.retentionDays);
  const reconcile = new Reconcile({
    events,
    deliveries,
    eventQueue: new SqsEventQueue(sqsClient(), settings.queues.events),
    deliveryQueue: new SqsDeliveryQueue(sqsClient(), settings.queues.deliveries, systemClock),
    clock: systemClock,
  });
  const [unfinished, pending] = await Promise.all([events.scanUnfinished(), deliveries.scanPending()]);
  return reconcile.requeue(unfinished, pending);
}

async function main(): Promise<void> {
  const startedAt = new Date();
  const env = process.env;
  const local = localSettingsFromEnv(env);
  const dataDir = resolve(local.dataDir);
  const { host, port } = local;
  await mkdir(dataDir, { recursive: true, mode: 0o700 });

  // Listen first: the deployment host name (in `wrapped` and CloudEvents bodies) is the address
  // actually bound, which with PORT=0 is known only now. Until ready, routes answer 503.
  let healthy = false;
  const functions: Partial<Record<ApiFunction, ApiLambda>> = {};
  const log = createLogger('local-runtime');
  const onError = (error: unknown): void => log.error('local runtime error', error instanceof Error ? error : String(error));
  // The server checks the key before it reads a body, with the authenticators the handlers use (set below).
  const authenticators: { tenant?: TenantAuthenticator; admin?: AdminAuthenticator } = {};
  const authorize: Authorize = async (kind, authorization, client) => {
    await authenticators[kind]!.authenticate(bearerKey(authorization), client);
  };
  const server = await startApiServer({ host, port, functions, authorize, healthy: () => healthy, onError });
  const address = server.address();
  const boundPort = typeof address === 'object' && address ? address.port : port;
  const baseUrl = `http://${host}:${boundPort}`;

  const standIns = await startStandIns(dataDir);
  // The unchanged AWS adapters find the stand-ins through the SDK's own endpoint variables.
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_DYNAMODB: standIns.dynamoEndpoint,
    AWS_ENDPOINT_URL_SQS: standIns.sqsEndpoint,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    [ENV.tenantsTable]: standIns.tables.tenants,
    [ENV.webhooksTable]: standIns.tables.webhooks,
    [ENV.eventsTable]: standIns.tables.events,
    [ENV.deliveriesTable]: standIns.tables.deliveries,
    [ENV.attemptsTable]: standIns.tables.attempts,
    [ENV.eventsQueueUrl]: standIns.queues.events,
    [ENV.deliveriesQueueUrl]: standIns.queues.deliveries,
    [ENV.deploymentHost]: env[ENV.deploymentHost] || `${host}:${boundPort}`,
    [ENV.publicUrl]: env[ENV.publicUrl] || baseUrl,
  });
  delete process.env['AWS_SESSION_TOKEN'];
  delete process.env['AWS_PROFILE'];

  // Scheduler and SES have no stand-in: an in-process timer (durable through the due index and
  // the start-up reconcile) and the outbox of RFC 5322 files.
  const settings = settingsFromEnv(process.env, true);
  // The catalogue's schemas are compiled now (ingest validates with them): a broken one stops the start.
  const catalogue = compileCatalogue(catalogueTypesFromEnv(process.env));
  const buckets = new TokenBuckets(settings.rateLimitPerSecond, settings.rateLimitBurst);
  const retryTimer = new TimerRetryScheduler(new SqsDeliveryQueue(sqsClient(), standIns.queues.deliveries, systemClock), onError);
  const secrets = new FileSecretStore(resolve(dataDir, 'secrets'));
  // One authenticator for the server and every handler: a key revoked through the admin API is
  // refused at once, and failed keys from one address are counted together.
  const tenants = new DynamoTenantStore(documentClient(), settings.tables.tenants);
  const failures = authFailures();
  const adminSecret = adminKeySecretName(process.env, settings);
  const tenantAuth = (authenticators.tenant = new TenantAuthenticator(tenants, failures));
  const adminAuth = (authenticators.admin = new AdminAuthenticator(secrets, adminSecret, failures));
  const mailer = new OutboxMailer(resolve(dataDir, 'outbox'));
  // Private targets are allowed here, but never the runtime's own API and stand-ins.
  const ownPorts = [boundPort, Number(new URL(standIns.dynamoEndpoint).port), Number(new URL(standIns.sqsEndpoint).port)];
  const base = { allowPrivateTargetsDefault: true } as const;
  // Tenants: a bucket each, sized by the tenant's own limit (shared by ingest and the webhooks
  // API); the admin and public routes: one bucket per kind, of the default limit.
  const api = { ...base, rateLimit: (key: string) => buckets.take(key), requestAllowance: new TenantTokenBuckets() };

  const credentials = await loadCredentials(dataDir, local);
  const ownerEmail = local.ownerEmail;
  // A new bootstrap key replaces the previous one, which stops working (other keys of `default` stay).
  const keys = new ApiKeys({ tenants, cache: tenantAuth, clock: systemClock });
  await new BootstrapTenant({ tenants, keys, clock: systemClock }).execute(
    { id: BOOTSTRAP_TENANT, name: BOOTSTRAP_TENANT, owner_email: ownerEmail },
    credentials.apiKey,
    credentials.superseded,
  );
  await forgetSuperseded(dataDir, credentials);
  await secrets.put(adminSecret, credentials.adminKey);

  const sqs = new SQSClient({});
  const arnOf = (url: string) => `arn:aws:sqs:us-east-1:000000000000:${url.split('/').pop()}`;
  const pollers = [
    new SqsPoller({ name: 'fanout', client: sqs, queueUrl: standIns.queues.events, queueArn: arnOf(standIns.queues.events), handler: composeFanout(base).handler, batchSize: 10, concurrency: 2, onError }),
    new SqsPoller({ name: 'dispatcher', client: sqs, queueUrl: standIns.queues.deliveries, queueArn: arnOf(standIns.queues.deliveries), handler: composeDispatcher({ ...base, secrets, mailer, retries: retryTimer, ownPorts, claimsStaleBefore: startedAt, inProcessSlots: true }).handler, batchSize: 10, concurrency: dispatcherConcurrency(settings), receivers: 4, onError }),
  ];

  const reconcile = composeReconciler(base).handler;
  const recovered = await requeueUnfinished(settings);
  pollers.forEach((p) => p.start());
  let reconciling = Promise.resolve();
  const reconcileTimer = setInterval(() => {
    reconciling = reconcile({ graceSeconds: RECONCILE_GRACE_MS / 1000 }).then(() => undefined, onError);
  }, RECONCILE_EVERY_MS);

  Object.assign(functions, {
    ingest: composeIngest({ ...api, tenantAuth, catalogue }).handler,
    'webhooks-api': composeWebhooksApi({ ...api, tenantAuth, secrets, mailer, ownPorts }).handler,
    'admin-api': composeAdminApi({ ...api, adminAuth, keyCache: tenantAuth }).handler,
    openapi: composeOpenApi({ document: openApiDocument() }).handler,
  });
  healthy = true;

  const lines = [
    `Hookline is running at ${baseUrl}`,
    `  API key (tenant "${BOOTSTRAP_TENANT}"): ${credentials.apiKey}`,
    `  Admin key (/admin/v1/*):            ${credentials.adminKey}`,
    `  Data: ${dataDir}   OpenAPI: ${baseUrl}/openapi.json`,
  ];
  if (recovered.events + recovered.deliveries > 0) {
    lines.push(`  Resumed ${recovered.events} event(s) and ${recovered.deliveries} delivery(ies) from the last run`);
  }
  if (settings.allowPrivateTargets) {
    lines.push('  Warning: webhook URLs may point at loopback and private addresses (HOOKLINE_ALLOW_PRIVATE_TARGETS=true).');
  }
  process.stdout.write(lines.join('\n') + '\n');

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    healthy = false;
    process.stdout.write(`\n${signal}: stopping...\n`);
    clearInterval(reconcileTimer);
    await new Promise<void>((r) => server.close(() => r()));
    server.closeAllConnections();
    await Promise.all(pollers.map((p) => p.stop()));
    retryTimer.stop();
    await reconciling;
    await standIns.stop();
    sqs.destroy();
    process.stdout.write('stopped\n');
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

main().catch((err) => {
  process.stderr.write(`Hookline failed to start: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
