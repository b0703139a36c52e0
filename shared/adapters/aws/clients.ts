import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SESv2Client } from '@aws-sdk/client-sesv2';
import { SchedulerClient } from '@aws-sdk/client-scheduler';

/**
 * One SDK client per service per process, created on first use. Endpoints come from the SDK's
 * own `AWS_ENDPOINT_URL_<SERVICE>` variables, which is how the one-machine runtime points the
 * unchanged adapters at dynalite and fauxqs. A bundle holds only the clients its function calls
 * for: the SDK packages are free of side effects, so an unused one is left out.
 */

/**
 * Bounded waits on every AWS call: a connection that hangs must fail over to the SDK's retry (3
 * attempts) well within the function's timeout, not hold the invocation until Lambda kills it.
 */
export const SDK_CLIENT_OPTIONS = {
  requestHandler: { connectionTimeout: 2_000, requestTimeout: 5_000 },
  maxAttempts: 3,
} as const;

let doc: DynamoDBDocumentClient | undefined;
let sqs: SQSClient | undefined;
let secrets: SecretsManagerClient | undefined;

export function documentClient(): DynamoDBDocumentClient {
  doc ??= DynamoDBDocumentClient.from(new DynamoDBClient(SDK_CLIENT_OPTIONS), {
    marshallOptions: { removeUndefinedValues: true },
  });
  return doc;
}

export function sqsClient(): SQSClient {
  sqs ??= new SQSClient(SDK_CLIENT_OPTIONS);
  return sqs;
}

export function secretsManagerClient(): SecretsManagerClient {
  secrets ??= new SecretsManagerClient(SDK_CLIENT_OPTIONS);
  return secrets;
}

let ses: SESv2Client | undefined;
let scheduler: SchedulerClient | undefined;

export function sesClient(): SESv2Client {
  ses ??= new SESv2Client(SDK_CLIENT_OPTIONS);
  return ses;
}

export function schedulerClient(): SchedulerClient {
  scheduler ??= new SchedulerClient(SDK_CLIENT_OPTIONS);
  return scheduler;
}
