/**
 * `npm start`: the whole pipeline in one process, on one SQLite database (node:sqlite) in the data
 * directory: the stores and the two queues. The same handler modules that run on Lambda are
 * invoked here the way API Gateway, the SQS event source mappings and the scheduled reconciler
 * invoke them on AWS.
 */
import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { isIP } from 'node:net';
import { isDeepStrictEqual } from 'node:util';
import { composeAdminApi } from '../../functions/admin-api/compose.ts';
import { composeDispatcher } from '../../functions/dispatcher/compose.ts';
import { composeFanout } from '../../functions/fanout/compose.ts';
import { composeIngest } from '../../functions/ingest/compose.ts';
import { composeOpenApi } from '../../functions/openapi/compose.ts';
import { composeReconciler } from './reconciler.ts';
import { composeWebhooksApi } from '../../functions/webhooks-api/compose.ts';
import { composeWebhookTest } from '../../functions/webhook-test/compose.ts';
import { ThreadedHttpSender } from '../../shared/adapters/http/threaded-http-sender.ts';
import { deadLetterRef } from '../../shared/adapters/sqlite/sqlite-pipeline-queues.ts';
import { FileSecretStore } from '../../shared/adapters/local/file-secret-store.ts';
import { TenantTokenBuckets, TokenBuckets } from '../../shared/adapters/local/token-bucket.ts';
import { authFailures } from '../../shared/compose/auth.ts';
import { catalogueTypesFromEnv } from '../../shared/compose/catalogue.ts';
import { Catalogue } from '../../shared/domain/catalogue.ts';
import { openApiDocument } from '../../shared/http/openapi.ts';
import { createLogger } from '../../shared/logging.ts';
import { onStopSignals, STOP_SIGNALS } from '../../shared/stop-signals.ts';
import { systemClock } from '../../shared/usecases/ports.ts';
import { adminKeySecretName, ENV, LOCAL_ENV, localSettingsFromEnv, settingsFromEnv, SettingsError, type Settings } from '../../shared/config.ts';
import { ApiKeys } from '../../shared/usecases/api-keys.ts';
import { AdminAuthenticator, BootstrapTenant, TenantAuthenticator } from '../../shared/usecases/tenants.ts';
import { bearerKey } from '../../shared/http/api-handler.ts';
import { forgetSuperseded, loadCredentials } from './bootstrap.ts';
import type { ApiFunction } from '../../shared/http/routes.ts';
import { closeApiServer, startApiServer, type ApiLambda, type Authorize } from './http-server.ts';
import { QueuePoller } from './queue-poller.ts';
import { bundleSenderThread } from './sender-bundle.ts';
import type { TargetPolicy } from '../../shared/domain/targets.ts';
import { claimDataDir } from './data-dir-lock.ts';
import { runningBanner, startFailure } from './start-messages.ts';
import { openLocalStore, refuseEarlierFormat } from './local-store.ts';
import { applyV8FlagsAfterStart } from './node-flags.ts';

const BOOTSTRAP_TENANT = 'default';
/** How late work must be, while running, before the reconciler re-queues it. */
const RECONCILE_GRACE_MS = 60_000;
const RECONCILE_EVERY_MS = 15_000;
/** How often the first attempts a killed process held are queued again, a page at a time, after the start's. */
const RESUME_EVERY_MS = 250;
/** Rows past their retention are hidden at once and deleted this often. */
const PURGE_EVERY_MS = 60_000;

/**
 * Dispatcher invocations in flight at once. A batch is in flight until its slowest record is done,
 * so each of a tenant's hanging attempts (at most its cap) may hold one: twice the cap leaves at
 * least as many for the other tenants.
 */
const dispatcherConcurrency = (settings: Settings): number => Math.max(8, 2 * settings.maxConcurrentPerTenant);
/** Messages per dispatcher invocation, as the event source mapping's BatchSize (measured: 1 and 3 are slower). */
const DISPATCHER_BATCH = 10;
/**
 * Received attempts waiting for a webhook's or tenant's slot past which the dispatcher's poller
 * takes no more messages. Invocations are many (dispatcherConcurrency, so that attempts that hang
 * cannot hold them all), and with fast endpoints the slots, not the invocations, were the limit:
 * a busy tenant had up to 1,000 records received for its 50 slots, each waiting in memory and the
 * end of the line refused and sent round the queue a second later. Measured with npm run bench
 * (alternating runs, 2 CPUs): 50 gave 8 % more deliveries/s end to end and 8 % less CPU a
 * delivery than no bound (4,659 against 4,326 over 8 pairs); 20 the same as 50. Attempts that
 * hang hold slots, not a place in this line: their records are refused after the slot wait.
 */
const DISPATCHER_MAX_WAITING = 50;

async function main(): Promise<void> {
  const startedAt = new Date();
  // A plain copy of the environment: each read of Node's own process.env is a call into C++, and
  // Powertools' batch processor reads AWS_LAMBDA_MAX_CONCURRENCY several times a record (1.6 % of
  // the main thread in a bench profile). This process sets its variables only through this
  // object; child processes and the sender thread are given it as their environment.
  process.env = { ...process.env };
  const env = process.env;
  const machine = localSettingsFromEnv(env);
  const dataDir = resolve(machine.dataDir);
  const { host, port } = machine;
  await mkdir(dataDir, { recursive: true, mode: 0o700 }).catch((error: unknown) => {
    throw new SettingsError(`${LOCAL_ENV.dataDir} ${dataDir} cannot be used as the data directory: ${(error as Error).message}`, { cause: error });
  });

  // Listen first: the deployment host name (in `wrapped` and CloudEvents bodies) is the address
  // actually bound, which with PORT=0 is known only now. Until ready, routes answer 503.
  let phase: 'starting' | 'running' | 'stopping' = 'starting';
  const functions: Partial<Record<ApiFunction, ApiLambda>> = {};
  const log = createLogger('local-runtime');
  const onError = (error: unknown): void => log.error('local runtime error', error instanceof Error ? error : String(error));
  // The server checks the key before it reads a body, with the authenticators the handlers use (set below).
  const authenticators: { tenant?: TenantAuthenticator; admin?: AdminAuthenticator } = {};
  const authorize: Authorize = async (kind, authorization, client, fn) => {
    const key = bearerKey(authorization);
    if (kind === 'admin') return void (await authenticators.admin!.authenticate(key, client));
    // Portal tokens act on the webhooks API (once it accepts them), never on ingest: refused here
    // as its handler would, before the body is read.
    await (fn === 'ingest' ? authenticators.tenant!.authenticate(key, client) : authenticators.tenant!.authenticateCaller(key, client));
  };
  // An answer goes out once what its handler wrote is committed (set once the store is open).
  let commitNow = (): void => undefined;
  // Unhealthy too while the sender thread keeps failing (ThreadedHttpSender.healthy; made below).
  let threadedSender: ThreadedHttpSender | undefined;
  let senderPolicy: TargetPolicy | undefined;
  const health = () => (phase !== 'running' ? phase : threadedSender?.healthy() === false ? 'sender thread failing' : 'ok');
  const server = await startApiServer({ host, port, functions, authorize, health, onError, beforeAnswer: () => commitNow() }).catch((error: unknown) => {
    // A port in use, or a host name that is not this machine's.
    throw new SettingsError(`cannot listen on ${host}:${port} (${LOCAL_ENV.host}, ${LOCAL_ENV.port}): ${(error as Error).message}`, { cause: error });
  });
  const address = server.address();
  const boundPort = typeof address === 'object' && address ? address.port : port;
  // An IPv6 address (HOST=::1) goes in brackets in a URL.
  const baseUrl = `http://${isIP(host) === 6 ? `[${host}]` : host}:${boundPort}`;

  // The earlier format (dynalite's LevelDB files) is refused, never silently started afresh beside.
  await refuseEarlierFormat(dataDir);
  // One runtime per data directory: a second would deliver what the first has in hand.
  const releaseDataDir = claimDataDir(dataDir);
  Object.assign(process.env, {
    // The settings name the AWS tables and queues; here they are the SQLite file's (names only:
    // the adapters are given the database, see local-store.ts).
    [ENV.tenantsTable]: 'tenants',
    [ENV.webhooksTable]: 'webhooks',
    [ENV.eventsTable]: 'events',
    [ENV.attemptsTable]: 'attempts',
    [ENV.eventsQueueUrl]: 'events',
    [ENV.deliveriesQueueUrl]: 'deliveries',
    [ENV.deploymentHost]: env[ENV.deploymentHost] || `${host}:${boundPort}`,
    [ENV.publicUrl]: env[ENV.publicUrl] || baseUrl,
  });

  // SES has no stand-in: the outbox of RFC 5322 files (emails committed with the writes that
  // made them, see SqliteOutbox). Retries are delayed messages of the queue.
  const settings = settingsFromEnv(process.env, true);
  // SQLite rolled back the group commit's transaction (a full disk, an I/O error): the answers
  // it held fail, and the runtime stops at once, as a kill would: the queues' memory no longer
  // matches the database, and a restart resumes from the last commit.
  const store = openLocalStore(dataDir, settings, systemClock, (error) => {
    log.error('stopping: the database lost its uncommitted writes', error);
    process.exit(1);
  });
  const local = store.adapters;
  commitNow = () => store.commitNow();
  // What SQS would count in a dead-letter queue's alarm: a message its handler failed every time.
  // The reconciler queues the work it names again (its row is still due), so it is retried, not lost.
  store.queues.onDeadLetter((letter) =>
    log.warn('a message went to the dead-letter table after failing every receive', { queue: letter.queue, message_id: letter.id, receive_count: letter.receiveCount, ...deadLetterRef(letter) }),
  );
  // The catalogue's schemas are compiled now (ingest validates with them): a broken one stops the
  // start. ajv (90 modules, about 30 ms of the start) is loaded only when there are schemas.
  const types = catalogueTypesFromEnv(process.env);
  const catalogue = types?.some((t) => t.schema) ? (await import('../../shared/domain/catalogue-schemas.ts')).compileCatalogue(types) : new Catalogue(types, {});
  const buckets = new TokenBuckets(settings.rateLimitPerSecond, settings.rateLimitBurst);
  const secrets = new FileSecretStore(resolve(dataDir, 'secrets'));
  // One authenticator for the server and every handler: a key revoked through the admin API is
  // refused at once, and failed keys from one address are counted together.
  const tenants = local.tenants;
  const failures = authFailures();
  const adminSecret = adminKeySecretName(process.env, settings);
  const tenantAuth = (authenticators.tenant = new TenantAuthenticator(tenants, failures));
  const adminAuth = (authenticators.admin = new AdminAuthenticator(secrets, adminSecret, failures));
  const mailer = store.outbox;
  // Private targets are allowed here, but never the runtime's own API.
  const ownPorts = [boundPort];
  const base = { allowPrivateTargetsDefault: true, local } as const;
  // Tenants: a bucket each, sized by the tenant's own limit (shared by ingest and the webhooks
  // API); the admin and public routes: one bucket per kind, of the default limit.
  const api = { ...base, rateLimit: (key: string) => buckets.take(key), requestAllowance: new TenantTokenBuckets() };

  const credentials = await loadCredentials(dataDir, machine);
  const ownerEmail = machine.ownerEmail;
  // A new bootstrap key replaces the previous one, which stops working (other keys of `default` stay).
  const keys = new ApiKeys({ tenants, cache: tenantAuth, clock: systemClock });
  await new BootstrapTenant({ tenants, owners: store.tenantOwners, keys, clock: systemClock }).execute(
    { id: BOOTSTRAP_TENANT, name: BOOTSTRAP_TENANT, owner_email: ownerEmail },
    credentials.apiKey,
    credentials.superseded,
  );
  await forgetSuperseded(dataDir, credentials);
  await secrets.put(adminSecret, credentials.adminKey);

  const { queues } = store;
  // The dispatcher's POSTs run on a thread of their own (ThreadedHttpSender), its script bundled
  // (or read from the bundle cache) and the thread started while the start goes on: the first
  // deliveries do not wait for it.
  const senderScript = bundleSenderThread((error) => log.warn('the sender thread loads its TypeScript sources: bundling them failed', error instanceof Error ? error : String(error)));
  // Its 2xx answers are journaled: after a kill, an attempt answered but not yet recorded is completed, not sent again.
  const journalDir = resolve(dataDir, 'answers');
  // One thread for every POST: the dispatcher's attempts, and webhook-test's test events and
  // OAuth2 token requests (never journaled: they carry no attempt key). Both functions derive
  // the target policy from the same settings and ports; a different one would need a thread of
  // its own, which this refuses rather than send under the wrong policy.
  const sender = (policy: TargetPolicy) => {
    if (threadedSender && !isDeepStrictEqual(senderPolicy, policy)) throw new Error('the sender thread serves one target policy; a function asked for another');
    senderPolicy = policy;
    return (threadedSender ??= new ThreadedHttpSender({
      policy,
      script: senderScript,
      journalDir,
      onFault: (reason) => log.error('the sender thread failed; the attempts it had in hand are retried on their ladder', { reason }),
    }));
  };
  const dispatcher = composeDispatcher({ ...base, secrets, mailer, ownPorts, claimsStaleBefore: startedAt, inProcessSlots: true, sender });
  const senderWarm = threadedSender?.prestart() ?? Promise.resolve();
  const pollers = [
    new QueuePoller({ name: 'fanout', queues, queue: 'events', queueArn: store.queueArns.events, handler: composeFanout(base).handler, batchSize: 10, concurrency: 4, onError }),
    new QueuePoller({
      name: 'dispatcher',
      queues,
      queue: 'deliveries',
      queueArn: store.queueArns.deliveries,
      handler: dispatcher.handler,
      batchSize: DISPATCHER_BATCH,
      concurrency: dispatcherConcurrency(settings),
      canTakeMore: () => dispatcher.waitingForSlots() < DISPATCHER_MAX_WAITING,
      onError,
    }),
  ];

  const reconcile = composeReconciler(base).handler;
  // This process is the queues' only consumer: what the last one had received and not finished is seen at once.
  const resumed = { ...queues.releaseReceived(), firstAttempts: await store.resumeFirstAttempts() };
  // One turn of the event loop before anything is sent: a stop signal that came during the start
  // reaches main.mjs's handler (stop at once) now. Node runs a signal's listeners only when the
  // loop polls, and from here to the handover below the start is one synchronous run.
  await new Promise<void>((resolveTurn) => setImmediate(resolveTurn));
  pollers.forEach((p) => p.start());
  // A killed process may have held more first attempts than the start queued again: the rest
  // as the memory lane drains (the reconciler would take them only after its minute of grace).
  const resumeTimer = setInterval(() => {
    store.resumeMoreFirstAttempts().then((more) => {
      if (!more) clearInterval(resumeTimer);
    }, onError);
  }, RESUME_EVERY_MS);
  resumeTimer.unref();
  let reconciling = Promise.resolve();
  const reconcileTimer = setInterval(() => {
    reconciling = reconcile({ graceSeconds: RECONCILE_GRACE_MS / 1000 }).then(() => undefined, onError);
  }, RECONCILE_EVERY_MS);
  const purgeTimer = setInterval(() => {
    try {
      store.purgeExpired();
    } catch (error) {
      onError(error);
    }
  }, PURGE_EVERY_MS);

  Object.assign(functions, {
    ingest: composeIngest({ ...api, tenantAuth, catalogue }).handler,
    'webhooks-api': composeWebhooksApi({ ...api, tenantAuth, secrets, mailer, ownPorts }).handler,
    'webhook-test': composeWebhookTest({ ...api, tenantAuth, secrets, ownPorts, sender }).handler,
    'admin-api': composeAdminApi({ ...api, adminAuth, keyCache: tenantAuth }).handler,
    openapi: composeOpenApi({ document: openApiDocument }).handler,
  });
  phase = 'running';
  // Once the sender thread too has loaded Node's modules (the flags change V8's cache tag: see node-flags.ts).
  void senderWarm.then(applyV8FlagsAfterStart);

  process.stdout.write(
    runningBanner({
      baseUrl,
      tenant: BOOTSTRAP_TENANT,
      apiKey: credentials.apiKey,
      adminKey: credentials.adminKey,
      dataDir,
      resumed,
      allowPrivateTargets: settings.allowPrivateTargets,
    }),
  );

  // main.mjs's handlers stopped a start at once; from here a stop drains. Handed over with a
  // listener present throughout: with none, Node closes the signal's watcher, and a signal it had
  // caught and not yet delivered was dropped (SIGTERM ignored: the process ran on).
  const startingListeners = STOP_SIGNALS.map((signal) => [signal, process.listeners(signal)] as const);
  const stop = async (signal: string) => {
    phase = 'stopping';
    process.stdout.write(`\n${signal}: stopping...\n`);
    clearInterval(reconcileTimer);
    clearInterval(purgeTimer);
    clearInterval(resumeTimer);
    await closeApiServer(server);
    await Promise.all(pollers.map((p) => p.stop()));
    await reconciling;
    await threadedSender?.close();
    store.close();
    releaseDataDir();
    process.stdout.write('stopped\n');
    process.exit(0);
  };
  onStopSignals(
    (signal) => void stop(signal),
    (signal) => {
      // Ctrl-C again: no wait for the attempts in flight, as a kill, which the store survives.
      process.stdout.write(`${signal} again: stopping without waiting\n`);
      process.exit(1);
    },
  );
  for (const [signal, listeners] of startingListeners) for (const listener of listeners) process.off(signal, listener);
}

main().catch((err) => {
  process.stderr.write(startFailure(err));
  process.exit(1);
});
