/**
 * The seven Lambda functions, bundled locally with esbuild from functions/<name>/handler.ts.
 */
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Duration, Validations } from 'aws-cdk-lib';
import { Architecture, Runtime } from 'aws-cdk-lib/aws-lambda';
import { LogLevel, NodejsFunction, OutputFormat, SourceMapMode } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup } from 'aws-cdk-lib/aws-logs';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

/** The repository root, where package-lock.json and functions/ are. */
export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

export const FUNCTION_NAMES = [
  'ingest',
  'fanout',
  'dispatcher',
  'webhooks-api',
  'admin-api',
  'openapi',
  'reconciler',
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
  reconciler: 256,
};

/**
 * ESM bundles may still contain CommonJS dependencies that call `require` (undici, parts of the
 * AWS SDK); ESM has no `require`, so the bundle defines one. The alias avoids clashing with a
 * `createRequire` the bundled code may import itself.
 */
export const ESM_REQUIRE_BANNER =
  "import { createRequire as __hooklineCreateRequire } from 'node:module'; const require = __hooklineCreateRequire(import.meta.url);";

export interface HooklineFunctionsProps {
  readonly timeouts: Record<FunctionName, Duration>;
  /** Environment shared by every function (settings, table names, queue URLs). */
  readonly environment: Record<string, string>;
  /** Extra environment per function. */
  readonly extraEnvironment?: Partial<Record<FunctionName, Record<string, string>>>;
  readonly logRetention: RetentionDays;
}

export class HooklineFunctions extends Construct {
  readonly byName: Record<FunctionName, NodejsFunction>;

  constructor(scope: Construct, id: string, props: HooklineFunctionsProps) {
    super(scope, id);
    const byName = {} as Record<FunctionName, NodejsFunction>;
    for (const name of FUNCTION_NAMES) byName[name] = this.fn(name, props);
    this.byName = byName;
  }

  private fn(name: FunctionName, props: HooklineFunctionsProps): NodejsFunction {
    const id = constructId(name);
    // An explicit log group: retention is set, and the group is part of the stack rather than
    // created on first invocation and kept forever.
    const logGroup = new LogGroup(this, `${id}Logs`, { retention: props.logRetention });
    const fn = new NodejsFunction(this, id, {
      description: `Hookline ${name}`,
      entry: join(PROJECT_ROOT, 'functions', name, 'handler.ts'),
      handler: 'handler',
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: join(PROJECT_ROOT, 'package-lock.json'),
      runtime: Runtime.NODEJS_24_X,
      architecture: Architecture.ARM_64,
      memorySize: MEMORY_MB[name],
      timeout: props.timeouts[name],
      logGroup,
      environment: {
        ...props.environment,
        ...props.extraEnvironment?.[name],
        POWERTOOLS_SERVICE_NAME: `hookline-${name}`,
        NODE_OPTIONS: '--enable-source-maps',
      },
      bundling: {
        // Never Docker: synth must work offline and on machines without a Docker daemon.
        forceDockerBundling: false,
        format: OutputFormat.ESM,
        target: 'node24',
        minify: true,
        sourceMap: true,
        sourceMapMode: SourceMapMode.DEFAULT,
        // --enable-source-maps needs only the mappings; the sources would double the asset.
        sourcesContent: false,
        // An ESM bundle cannot import the runtime's own copy of the AWS SDK (ESM ignores
        // NODE_PATH), and bundling pins the SDK version the tests ran against.
        bundleAwsSDK: true,
        externalModules: [],
        mainFields: ['module', 'main'],
        banner: ESM_REQUIRE_BANNER,
        logLevel: LogLevel.WARNING,
      },
    });
    Validations.of(fn.role!).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      reason:
        'AWSLambdaBasicExecutionRole only lets the function write its own CloudWatch Logs; Hookline functions run outside a VPC and need nothing else from a managed policy.',
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
