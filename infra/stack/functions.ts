/**
 * The Lambda functions, bundled locally with esbuild from functions/<name>/handler.ts
 * (function-code.ts).
 */
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Duration, Validations } from 'aws-cdk-lib';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, Function as LambdaFunction, LoggingFormat, Runtime, SystemLogLevel, Tracing } from 'aws-cdk-lib/aws-lambda';
import { LogGroup } from 'aws-cdk-lib/aws-logs';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { FUNCTION_ENV } from '../../shared/config.ts';
import { openApiAsset, type ShippedFile } from './build-assets.ts';
import { bundledCode, LAMBDA_HANDLER } from './function-code.ts';
import { OPENAPI_DOCUMENT_FILE } from '../../functions/openapi/handler.ts';
import { portalShippedFiles } from '../../functions/openapi/portal.ts';
import { CATALOGUE_VALIDATORS_FILE } from '../../shared/compose/catalogue.ts';
import { CATALOGUE_BUNDLE_NAME, CATALOGUE_FUNCTIONS, CATALOGUE_LAMBDA_PATH, SCHEMA_FUNCTIONS } from './catalogue.ts';
import type { LoadedCatalogue } from './catalogue.ts';

/** The repository root, where package-lock.json and functions/ are. */
export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

export const FUNCTION_NAMES = [
  'ingest',
  'fanout',
  'dispatcher',
  'webhooks-api',
  'admin-api',
  'openapi',
  'webhook-test',
] as const;
export type FunctionName = (typeof FUNCTION_NAMES)[number];

/** `webhooks-api` -> `WebhooksApi`: the construct id of each function. */
export const constructId = (name: string): string =>
  name.replace(/(^|-)([a-z])/g, (_m, _dash: string, c: string) => c.toUpperCase());

const MEMORY_MB: Record<FunctionName, number> = {
  ingest: 512,
  fanout: 512,
  // Mostly waiting on receivers; memory also buys CPU for TLS and HMAC.
  dispatcher: 512,
  'webhooks-api': 512,
  'admin-api': 256,
  openapi: 256,
  // One request to a receiver at a time (and, for oauth2, one to its token URL).
  'webhook-test': 256,
};

/**
 * Why no function has a Lambda dead-letter queue (`DeadLetterConfig`, Serverless-LambdaDLQ): a
 * Lambda DLQ only receives failed *asynchronous* invocations, and none of these is one whose
 * failure would be lost.
 */
const NO_LAMBDA_DLQ_REASON: Record<FunctionName, string> = {
  ingest: 'Invoked synchronously by the HTTP API (POST /v1/events): a failure is a 5xx answer to the scanner, which retries (an event published again with the same id is kept once); there is no asynchronous invocation whose event a Lambda DLQ could keep.',
  'webhooks-api': 'Invoked synchronously by the HTTP API: a failure is a 5xx answer to the caller, nothing is invoked asynchronously, so a Lambda DLQ would never receive anything.',
  'webhook-test': 'Invoked synchronously by the HTTP API (POST .../webhooks/{id}/test): a failure is a 5xx answer to the caller, nothing is invoked asynchronously, so a Lambda DLQ would never receive anything.',
  'admin-api': 'Invoked synchronously by the HTTP API (/admin/v1/*): a failure is a 5xx answer to the platform team, nothing is invoked asynchronously, so a Lambda DLQ would never receive anything.',
  openapi: 'Invoked synchronously by the HTTP API (GET /openapi.json) and serves a static document: a failure is a 5xx answer, nothing is invoked asynchronously.',
  fanout: 'Invoked by an SQS event source mapping (synchronous polling), where a Lambda DLQ does not apply: records that keep failing go to EventsDLQ through the events queue\'s redrive policy (maxReceiveCount 5), which has an alarm.',
  dispatcher: 'Invoked by an SQS event source mapping (synchronous polling), where a Lambda DLQ does not apply: records that keep failing go to DeliveriesDLQ through the deliveries queue\'s redrive policy (maxReceiveCount 5), which has an alarm.',
};

export interface HooklineFunctionsProps {
  readonly timeouts: Record<FunctionName, Duration>;
  /** Environment shared by every function (settings, table names, queue URLs). */
  readonly environment: Record<string, string>;
  /** Extra environment per function. */
  readonly extraEnvironment?: Partial<Record<FunctionName, Record<string, string>>>;
  readonly logRetention: RetentionDays;
  /** The platform team's catalogue, shipped to CATALOGUE_FUNCTIONS; unset: the built-in one. */
  readonly catalogue?: LoadedCatalogue;
}

/** Environment variables the catalogue sets on the functions that use it. */
export const CATALOGUE_ENV = {
  /** Path of the catalogue inside the bundle; read by shared/compose/catalogue.ts. */
  file: FUNCTION_ENV.catalogueFile,
  /**
   * SHA-256 of the shipped file: says which catalogue a function runs with, and makes a content
   * change a configuration change even where the code hash would not show it.
   */
  sha256: 'HOOKLINE_CATALOGUE_SHA256',
} as const;

export class HooklineFunctions extends Construct {
  readonly byName: Record<FunctionName, LambdaFunction>;
  /** Each function's log group, the only one its role may write to. */
  readonly logGroups = {} as Record<FunctionName, LogGroup>;

  constructor(scope: Construct, id: string, props: HooklineFunctionsProps) {
    super(scope, id);
    const byName = {} as Record<FunctionName, LambdaFunction>;
    for (const name of FUNCTION_NAMES) byName[name] = this.fn(name, props);
    this.byName = byName;
  }

  private fn(name: FunctionName, props: HooklineFunctionsProps): LambdaFunction {
    const id = constructId(name);
    // An explicit log group: retention is set, and the group is part of the stack rather than
    // created on first invocation and kept forever.
    const logGroup = new LogGroup(this, `${id}Logs`, { retention: props.logRetention });
    this.logGroups[name] = logGroup;
    const catalogue = props.catalogue && CATALOGUE_FUNCTIONS.includes(name) ? props.catalogue : undefined;
    // Generated at synth and shipped beside the bundle (see build-assets.ts).
    const shipped: ShippedFile[] = [];
    if (catalogue) shipped.push([catalogue.path, CATALOGUE_BUNDLE_NAME]);
    if (catalogue && SCHEMA_FUNCTIONS.includes(name)) shipped.push([catalogue.validators, CATALOGUE_VALIDATORS_FILE]);
    if (name === 'openapi') shipped.push([openApiAsset(), OPENAPI_DOCUMENT_FILE], ...portalShippedFiles());
    // An own role instead of the default one with AWSLambdaBasicExecutionRole, whose
    // logs:CreateLogGroup/CreateLogStream/PutLogEvents apply to every log group of the account:
    // the function may write to its own log group and nothing else (granted below).
    const role = new Role(this, `${id}Role`, {
      description: `Hookline ${name} function`,
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
    });
    const fn = new LambdaFunction(this, id, {
      description: `Hookline ${name}`,
      // Bundled with the AWS SDK clients it uses: an ESM bundle cannot import the runtime's own
      // copy (ESM ignores NODE_PATH), and bundling pins the SDK version the tests ran against.
      code: bundledCode({
        entry: join(PROJECT_ROOT, 'functions', name, 'handler.ts'),
        projectRoot: PROJECT_ROOT,
        shipped,
        // Two stacks with different catalogues in one app must never share a bundle.
        cacheKey: catalogue ? { [CATALOGUE_ENV.sha256]: catalogue.sha256 } : {},
      }),
      handler: LAMBDA_HANDLER,
      runtime: Runtime.NODEJS_24_X,
      architecture: Architecture.ARM_64,
      memorySize: MEMORY_MB[name],
      timeout: props.timeouts[name],
      logGroup,
      role,
      // No X-Ray. Active tracing alone records only Lambda's own segment, not the AWS calls nor
      // the POST to the receiver, and tracing those needs Powertools Tracer and the X-Ray SDK in
      // every bundle, which would push the bundles past their size budget. Duration, errors and
      // latency come from the Lambda metrics and the EMF business metrics instead.
      tracing: Tracing.DISABLED,
      // Lambda's own lines (START, END, REPORT, platform events) as JSON, and only from WARN:
      // REPORT's duration and memory are in the Lambda metrics already. The application's level
      // is left to the code (shared/logging.ts, POWERTOOLS_LOG_LEVEL), which writes JSON lines
      // straight to stdout, as Powertools Metrics writes its EMF lines, so Lambda passes them on
      // as they are.
      loggingFormat: LoggingFormat.JSON,
      systemLogLevelV2: SystemLogLevel.WARN,
      environment: {
        ...props.environment,
        ...props.extraEnvironment?.[name],
        ...(catalogue ? { [CATALOGUE_ENV.file]: CATALOGUE_LAMBDA_PATH, [CATALOGUE_ENV.sha256]: catalogue.sha256 } : {}),
        [FUNCTION_ENV.serviceName]: `hookline-${name}`,
      },
    });
    logGroup.grantWrite(role);
    Validations.of(fn).acknowledge({ id: 'Serverless-LambdaDLQ', reason: NO_LAMBDA_DLQ_REASON[name] });
    Validations.of(fn).acknowledge({
      id: 'Serverless-LambdaTracing',
      reason:
        'X-Ray is off on purpose: active tracing without Powertools Tracer in the code would trace neither the AWS calls nor the outbound POST, and the Tracer and X-Ray SDK would push every bundle past its size budget. Errors, throttles, duration and the business metrics (EMF) are on the dashboard and alarmed, and the logs are JSON.',
    });
    return fn;
  }
}

/** Default batching windows of the two queue consumers, needed by the queues' visibility timeouts. */
export const BATCHING_WINDOW = {
  // Fan-out does one Query per event; a short window gathers more events per invocation.
  fanout: Duration.seconds(1),
  // Deliveries go out as soon as they are queued: "immediately" is the first rung of the ladder.
  dispatcher: Duration.seconds(0),
} as const;
