import { AwsCallLog, type AwsCall } from '../adapters/aws/aws-calls.ts';
import { settingsFromEnv, type Settings } from '../config.ts';
import { createLogger, type Logger } from '../logging.ts';
import { noMetrics, type MetricsRecorder } from '../usecases/metrics.ts';
import { systemClock, type Clock } from '../usecases/ports.ts';
import type { AwsAdapterArgs, AwsAdapterName, AwsAdapterOf, AwsKit } from './aws-kit.ts';
import { MissingAwsAdapterError } from './errors.ts';
import type { LocalAdapters } from './local-adapters.ts';

/**
 * What every function's composition root starts from: its settings, logger and clock, and the
 * log of the AWS calls of the adapter methods it hands out (its IAM grants). Each function builds
 * its own adapters and use cases from this in functions/<name>/compose.ts, so that its bundle
 * holds only what it calls.
 */

/** What the one-machine runtime may set for any function (each function's overrides add their own). */
export interface BaseOverrides {
  /** The environment to read settings from (default: process.env). */
  readonly env?: NodeJS.ProcessEnv;
  readonly clock?: Clock;
  /** On one machine private targets are allowed unless the user says otherwise. */
  readonly allowPrivateTargetsDefault?: boolean;
  /** One machine: the SQLite stores and queues instead of DynamoDB and SQS. */
  readonly local?: LocalAdapters;
  /** Lambda: the AWS adapters the root builds, given by its handler.ts (functions/<name>/aws.ts). */
  readonly awsKit?: AwsKit;
  /** The business metrics instead of CloudWatch EMF on stdout (default with `local`: none). */
  readonly metrics?: MetricsRecorder;
}

/** The API functions' part: the one-machine runtime's per-tenant request limit (API Gateway throttles on AWS). */
export interface ApiOverrides extends BaseOverrides {
  readonly rateLimit?: (key: string) => number | undefined;
}

/** A composed function: its handler, and the AWS calls its adapters may make (what the stack grants it). */
export interface Composed<H> {
  readonly handler: H;
  readonly awsCalls: readonly AwsCall[];
}

export interface FunctionBase {
  readonly env: NodeJS.ProcessEnv;
  readonly settings: Settings;
  readonly logger: Logger;
  readonly clock: Clock;
  /** Hand adapter methods out through this: `aws.use(store, 'get', 'put')`. */
  readonly aws: AwsCallLog;
  /** A new AWS adapter from the function's kit (MissingAwsAdapterError when the kit lacks it). */
  awsAdapter<K extends AwsAdapterName>(name: K, ...args: AwsAdapterArgs<K>): AwsAdapterOf<K>;
  /** The one-machine runtime's adapters; undefined on Lambda. */
  readonly local: LocalAdapters | undefined;
  /** For API handlers: 5xx causes, logged without request data. */
  readonly logError: (message: string, error: unknown) => void;
  /**
   * The function's business metrics, flushed at the end of every invocation: the override, none
   * on one machine, otherwise `onAws()` (the EMF adapter, given by the roots that count something,
   * so that the others' bundles do not carry Powertools Metrics). One recorder per function.
   */
  metrics(onAws: () => MetricsRecorder): MetricsRecorder;
  /** The function's handler with the calls recorded while composing it. */
  composed<H>(handler: H): Composed<H>;
}

export function functionBase(name: string, overrides: BaseOverrides): FunctionBase {
  const env = overrides.env ?? process.env;
  const logger = createLogger(name);
  const aws = new AwsCallLog();
  let metrics: MetricsRecorder | undefined;
  const settings = settingsFromEnv(env, overrides.allowPrivateTargetsDefault ?? false);
  const clock = overrides.clock ?? systemClock;
  return {
    env,
    settings,
    logger,
    clock,
    aws,
    awsAdapter: (adapter, ...args) => {
      const make = overrides.awsKit?.[adapter] as ((c: { settings: Settings; clock: Clock }, ...rest: unknown[]) => never) | undefined;
      if (!make) throw new MissingAwsAdapterError(name, adapter);
      return make({ settings, clock }, ...args);
    },
    local: overrides.local,
    logError: (message, error) => logger.error(message, error instanceof Error ? error : String(error)),
    metrics: (onAws) => (metrics ??= overrides.metrics ?? (overrides.local ? noMetrics : onAws())),
    composed: (handler) => ({ handler: metrics ? flushingAfter(handler, metrics) : handler, awsCalls: aws.calls }),
  };
}

/** The handler, flushing the metrics once it returns or throws (Lambda may freeze the container right after). */
function flushingAfter<H>(handler: H, metrics: MetricsRecorder): H {
  if (typeof handler !== 'function') return handler;
  const run = handler as (...args: unknown[]) => unknown;
  return (async (...args: unknown[]) => {
    try {
      return await run(...args);
    } finally {
      metrics.flush();
    }
  }) as H;
}

/**
 * Builds the real handler on its first invocation, so importing a handler module has no side
 * effects and a cold start imports code without constructing anything.
 */
export function lazyHandler<E, C, R>(create: () => ((event: E, context: C) => Promise<R>) | Promise<(event: E, context: C) => Promise<R>>) {
  let built: Promise<(event: E, context: C) => Promise<R>> | undefined;
  return async (event: E, context: C): Promise<R> => {
    if (!built) {
      built = Promise.resolve().then(create);
      // A failed start (a bad catalogue, say) is tried again on the next invocation.
      built.catch(() => (built = undefined));
    }
    return (await built)(event, context);
  };
}
