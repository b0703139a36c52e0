/**
 * The environment Lambda gives a function's process: the template's `Environment.Variables`
 * (resolved), the variables the Lambda runtime sets itself, the role's temporary credentials, and
 * here `AWS_ENDPOINT_URL_<SERVICE>` pointing every SDK client at the function's IAM proxy.
 */
import { REGION, type FunctionSpec } from './template.ts';

export interface EnvironmentInput {
  /** `Environment.Variables` with every intrinsic resolved. */
  readonly resolved: Record<string, unknown>;
  readonly accessKeyId: string;
  /** The function's IAM proxy. */
  readonly awsEndpoint: string;
  readonly logStream: string;
  /** A path that does not exist: no shared config or credentials file is read. */
  readonly missingFile: string;
}

export function lambdaEnvironment(spec: FunctionSpec, input: EnvironmentInput): Record<string, string> {
  return {
    ...Object.fromEntries(Object.entries(input.resolved).map(([k, v]) => [k, String(v)])),
    AWS_REGION: REGION,
    AWS_DEFAULT_REGION: REGION,
    AWS_ACCESS_KEY_ID: input.accessKeyId,
    AWS_SECRET_ACCESS_KEY: 'lambda-suite-secret',
    AWS_SESSION_TOKEN: 'lambda-suite-session',
    AWS_LAMBDA_FUNCTION_NAME: spec.physicalName,
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(spec.memoryMb),
    AWS_LAMBDA_LOG_GROUP_NAME: spec.logGroupName,
    AWS_LAMBDA_LOG_STREAM_NAME: input.logStream,
    AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
    // Never contacted: the wiring adds its port to the ports webhooks may not reach, as on Lambda.
    AWS_LAMBDA_RUNTIME_API: '127.0.0.1:9001',
    AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs24.x',
    LAMBDA_TASK_ROOT: spec.assetDir,
    LAMBDA_RUNTIME_DIR: '/var/runtime',
    _HANDLER: spec.handler,
    TZ: ':UTC',
    LANG: 'en_US.UTF-8',
    PATH: process.env['PATH'] ?? '/usr/local/bin:/usr/bin:/bin',
    // The role's credentials are the only ones: no shared config or credentials file.
    AWS_CONFIG_FILE: input.missingFile,
    AWS_SHARED_CREDENTIALS_FILE: input.missingFile,
    AWS_ENDPOINT_URL_DYNAMODB: input.awsEndpoint,
    AWS_ENDPOINT_URL_SQS: input.awsEndpoint,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: input.awsEndpoint,
    AWS_ENDPOINT_URL_SESV2: input.awsEndpoint,
    AWS_ENDPOINT_URL_SCHEDULER: input.awsEndpoint,
  };
}
