/**
 * What IAM authorizes for one AWS API request, read from the request as the SDK sends it (the
 * signing service in the SigV4 `Authorization` header, then the protocol's operation and its
 * resource parameters), and the AccessDenied answer each protocol gives.
 */
import { randomUUID } from 'node:crypto';
import type { AccessRequest } from './iam.ts';
import { ACCOUNT, PARTITION, REGION, SECRET_SUFFIX } from './template.ts';

export interface Signature {
  readonly accessKeyId: string;
  readonly region: string;
  /** The SigV4 signing name: dynamodb, sqs, secretsmanager, ses, scheduler... */
  readonly service: string;
}

/** `AWS4-HMAC-SHA256 Credential=AKID/20250101/us-east-1/dynamodb/aws4_request, ...` */
export function signatureOf(authorization: string | undefined): Signature | undefined {
  const m = /Credential=([^/,\s]+)\/\d{8}\/([^/]+)\/([^/]+)\/aws4_request/.exec(authorization ?? '');
  return m ? { accessKeyId: m[1]!, region: m[2]!, service: m[3]! } : undefined;
}

export interface AwsCall {
  readonly service: string;
  readonly operation: string;
  readonly requests: readonly AccessRequest[];
  /** `json` (JSON 1.0/1.1 with X-Amz-Target), `query` (form-encoded Action=), `rest-json`. */
  readonly protocol: 'json' | 'query' | 'rest-json';
}

const arn = (service: string, resource: string) => `arn:${PARTITION}:${service}:${REGION}:${ACCOUNT}:${resource}`;
export const tableArn = (nameOrArn: string) => (nameOrArn.startsWith('arn:') ? nameOrArn : arn('dynamodb', `table/${nameOrArn}`));
export const queueArnOfUrl = (url: string) => {
  const [account, name] = new URL(url).pathname.split('/').filter(Boolean).slice(-2);
  return `arn:${PARTITION}:sqs:${REGION}:${account ?? ACCOUNT}:${name}`;
};
/** A secret's ARN from its name (or ARN): Secrets Manager authorizes on the full ARN, suffix included. */
export const secretArn = (nameOrArn: string) => (nameOrArn.startsWith('arn:') ? nameOrArn : arn('secretsmanager', `secret:${nameOrArn}-${SECRET_SUFFIX}`));
export const sesIdentityArn = (identity: string) => arn('ses', `identity/${identity}`);
export const scheduleArn = (group: string, name: string) => arn('scheduler', `schedule/${group}/${name}`);

export interface DescribeOptions {
  /** The SES identity a From address sends as (the address or, if only that is verified, its domain). */
  readonly sesIdentityOf: (from: string) => string;
}

const parseJson = (body: Buffer): any => {
  if (body.length === 0) return {};
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    return {};
  }
};

/** The authorizations one request needs. Throws for a request it cannot read (a protocol it does not know). */
export function describeCall(
  service: string,
  method: string,
  url: string,
  headers: Record<string, string | string[] | undefined>,
  body: Buffer,
  options: DescribeOptions,
): AwsCall {
  const target = String(headers['x-amz-target'] ?? '');
  const contentType = String(headers['content-type'] ?? '');
  switch (service) {
    case 'dynamodb': {
      const operation = target.split('.').pop() ?? '';
      return { service, operation, protocol: 'json', requests: dynamoRequests(operation, parseJson(body)) };
    }
    case 'sqs': {
      if (contentType.includes('x-www-form-urlencoded')) {
        const form = Object.fromEntries(new URLSearchParams(body.toString('utf8')));
        const operation = form['Action'] ?? '';
        return { service, operation, protocol: 'query', requests: sqsRequests(operation, form) };
      }
      const operation = target.replace(/^AmazonSQS\./, '');
      return { service, operation, protocol: 'json', requests: sqsRequests(operation, parseJson(body)) };
    }
    case 'secretsmanager': {
      const operation = target.replace(/^secretsmanager\./, '');
      const input = parseJson(body);
      const id = operation === 'CreateSecret' ? input.Name : (input.SecretId ?? input.Name);
      return { service, operation, protocol: 'json', requests: [{ action: `secretsmanager:${operation}`, resource: id ? secretArn(String(id)) : '*' }] };
    }
    case 'ses': {
      const path = new URL(url, 'http://x').pathname;
      if (method === 'POST' && path === '/v2/email/outbound-emails') {
        const from = String(parseJson(body).FromEmailAddress ?? '');
        return { service, operation: 'SendEmail', protocol: 'rest-json', requests: [{ action: 'ses:SendEmail', resource: sesIdentityArn(options.sesIdentityOf(from)) }] };
      }
      return { service, operation: `${method} ${path}`, protocol: 'rest-json', requests: [{ action: `ses:${method}${path}`, resource: '*' }] };
    }
    case 'scheduler':
      return schedulerCall(method, url, parseJson(body));
    default:
      throw new Error(`the Lambda suite does not know the AWS service "${service}"`);
  }
}

function dynamoRequests(operation: string, input: any): AccessRequest[] {
  const action = (op: string) => `dynamodb:${op}`;
  switch (operation) {
    case 'BatchGetItem':
    case 'BatchWriteItem':
      return Object.keys(input.RequestItems ?? {}).map((table) => ({ action: action(operation), resource: tableArn(table) }));
    case 'TransactWriteItems':
    case 'TransactGetItems': {
      const kinds: Record<string, string> = { Put: 'PutItem', Update: 'UpdateItem', Delete: 'DeleteItem', ConditionCheck: 'ConditionCheckItem', Get: 'GetItem' };
      return (input.TransactItems ?? []).flatMap((item: Record<string, { TableName: string }>) =>
        Object.entries(item).map(([kind, op]) => ({ action: action(kinds[kind] ?? kind), resource: tableArn(op.TableName) })),
      );
    }
    case 'Query':
    case 'Scan':
      return [{ action: action(operation), resource: input.IndexName ? `${tableArn(input.TableName)}/index/${input.IndexName}` : tableArn(input.TableName) }];
    default:
      return [{ action: action(operation), resource: input.TableName ? tableArn(input.TableName) : '*' }];
  }
}

/** SQS authorizes a batch call as its single-message action. */
const SQS_ACTIONS: Record<string, string> = {
  SendMessageBatch: 'SendMessage',
  DeleteMessageBatch: 'DeleteMessage',
  ChangeMessageVisibilityBatch: 'ChangeMessageVisibility',
};

function sqsRequests(operation: string, input: Record<string, any>): AccessRequest[] {
  const action = `sqs:${SQS_ACTIONS[operation] ?? operation}`;
  // Over HTTPS on AWS: the queues' `enforceSSL` policies deny aws:SecureTransport false.
  const context = { 'aws:SecureTransport': 'true' };
  if (operation === 'GetQueueUrl') {
    return [{ action, resource: `arn:${PARTITION}:sqs:${REGION}:${input.QueueOwnerAWSAccountId ?? ACCOUNT}:${input.QueueName}`, context }];
  }
  return [{ action, resource: input.QueueUrl ? queueArnOfUrl(String(input.QueueUrl)) : '*', context }];
}

function schedulerCall(method: string, url: string, input: any): AwsCall {
  const parsed = new URL(url, 'http://x');
  const name = decodeURIComponent(/^\/schedules\/([^/]+)$/.exec(parsed.pathname)?.[1] ?? '');
  const call = (operation: string, requests: AccessRequest[]): AwsCall => ({ service: 'scheduler', operation, protocol: 'rest-json', requests });
  if (!name) return call(`${method} ${parsed.pathname}`, [{ action: `scheduler:${method}${parsed.pathname}`, resource: '*' }]);
  const group = String((method === 'POST' || method === 'PUT' ? input.GroupName : parsed.searchParams.get('groupName')) || 'default');
  const schedule = { resource: scheduleArn(group, name) };
  // Creating or changing a schedule hands its target role to Scheduler: iam:PassRole on that role.
  const passRole = (): AccessRequest[] =>
    input.Target?.RoleArn ? [{ action: 'iam:PassRole', resource: String(input.Target.RoleArn), context: { 'iam:PassedToService': 'scheduler.amazonaws.com' } }] : [];
  switch (method) {
    case 'POST':
      return call('CreateSchedule', [{ action: 'scheduler:CreateSchedule', ...schedule }, ...passRole()]);
    case 'PUT':
      return call('UpdateSchedule', [{ action: 'scheduler:UpdateSchedule', ...schedule }, ...passRole()]);
    case 'DELETE':
      return call('DeleteSchedule', [{ action: 'scheduler:DeleteSchedule', ...schedule }]);
    default:
      return call('GetSchedule', [{ action: 'scheduler:GetSchedule', ...schedule }]);
  }
}

export interface HttpAnswer {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

/** AccessDenied as the service answers it in the call's protocol. */
export function accessDenied(call: AwsCall, callerArn: string, request: AccessRequest, reason: string): HttpAnswer {
  const message = `User: ${callerArn} is not authorized to perform: ${request.action} on resource: ${request.resource} because ${reason}`;
  const requestId = randomUUID();
  if (call.protocol === 'query') {
    return {
      status: 403,
      headers: { 'content-type': 'text/xml', 'x-amzn-requestid': requestId },
      body: `<?xml version="1.0"?><ErrorResponse xmlns="http://queue.amazonaws.com/doc/2012-11-05/"><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>${message}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`,
    };
  }
  if (call.protocol === 'rest-json') {
    return {
      status: 403,
      headers: { 'content-type': 'application/json', 'x-amzn-errortype': 'AccessDeniedException', 'x-amzn-requestid': requestId },
      body: JSON.stringify({ message }),
    };
  }
  switch (call.service) {
    case 'sqs':
      return {
        status: 403,
        headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-query-error': 'AccessDenied;Sender', 'x-amzn-requestid': requestId },
        body: JSON.stringify({ __type: 'com.amazon.coral.service#AccessDeniedException', message }),
      };
    case 'secretsmanager':
      return {
        status: 400,
        headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': requestId },
        body: JSON.stringify({ __type: 'AccessDeniedException', Message: message }),
      };
    default:
      return {
        status: 400,
        headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-requestid': requestId },
        body: JSON.stringify({ __type: 'com.amazon.coral.service#AccessDeniedException', Message: message }),
      };
  }
}
