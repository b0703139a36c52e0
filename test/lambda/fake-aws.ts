/**
 * Small fakes of the AWS services that have no stand-in: Secrets Manager (JSON 1.1,
 * `X-Amz-Target: secretsmanager.<Op>`), SESv2 (`POST /v2/email/outbound-emails`) and EventBridge
 * Scheduler (`POST`/`DELETE /schedules/{Name}`). One HTTP server on 127.0.0.1 answers all three,
 * told apart by the signing service of the SigV4 header. They validate what the real services
 * validate where a mistake would otherwise pass unseen (schedule names, groups, expressions,
 * unverified senders), and record what was sent.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { secretArn, signatureOf, type HttpAnswer } from './aws-requests.ts';
import { ACCOUNT, PARTITION, REGION } from './template.ts';

/** Set by the IAM proxy on what it forwards: which function made the call. */
export const PRINCIPAL_HEADER = 'x-lambda-suite-principal';

export interface SentEmail {
  readonly from: string;
  readonly to: readonly string[];
  readonly subject: string;
  readonly text: string;
  readonly html?: string;
  /** The function that sent it. */
  readonly sentBy: string;
}

export interface Schedule {
  readonly name: string;
  readonly group: string;
  readonly arn: string;
  readonly expression: string;
  readonly timezone?: string;
  /** The time of an `at(...)` expression (UTC unless a timezone says otherwise; only UTC is supported). */
  readonly at?: Date;
  readonly actionAfterCompletion?: string;
  readonly target: { Arn: string; RoleArn: string; Input?: string; DeadLetterConfig?: { Arn?: string } };
  readonly createdBy: string;
}

interface Secret {
  readonly name: string;
  readonly arn: string;
  readonly created: number;
  versions: { id: string; value: string; created: number }[];
  deletedAt?: number;
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}): HttpAnswer => ({
  status,
  headers: { 'content-type': 'application/json', 'x-amzn-requestid': randomUUID(), ...headers },
  body: JSON.stringify(body),
});
const jsonError = (status: number, type: string, message: string, contentType = 'application/x-amz-json-1.1') =>
  json(status, { __type: type, Message: message }, { 'content-type': contentType });
const restError = (status: number, type: string, message: string) => json(status, { Message: message }, { 'x-amzn-errortype': type });

export class FakeSecretsManager {
  private readonly secrets = new Map<string, Secret>();

  /** Creates or overwrites a secret, as the stack's `AWS::SecretsManager::Secret` would exist. */
  put(name: string, value: string): void {
    const existing = this.secrets.get(name);
    if (existing && existing.deletedAt === undefined) existing.versions.push({ id: randomUUID(), value, created: Date.now() });
    else this.secrets.set(name, { name, arn: secretArn(name), created: Date.now(), versions: [{ id: randomUUID(), value, created: Date.now() }] });
  }

  /** The current value of a secret (undefined when missing or deleted). */
  value(name: string): string | undefined {
    const s = this.secrets.get(name);
    return s && s.deletedAt === undefined ? s.versions.at(-1)?.value : undefined;
  }

  names(): string[] {
    return [...this.secrets.values()].filter((s) => s.deletedAt === undefined).map((s) => s.name);
  }

  handle(operation: string, input: any): HttpAnswer {
    const find = (id: unknown) => [...this.secrets.values()].find((s) => s.name === id || s.arn === id);
    const notFound = () => jsonError(400, 'ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
    const current = (s: Secret) => s.versions.at(-1)!;
    switch (operation) {
      case 'CreateSecret': {
        const existing = find(input.Name);
        if (existing && existing.deletedAt === undefined) return jsonError(400, 'ResourceExistsException', `The operation failed because the secret ${input.Name} already exists.`);
        if (existing) return jsonError(400, 'InvalidRequestException', `You can't create this secret because a secret with this name is already scheduled for deletion.`);
        if (typeof input.Name !== 'string' || !/^[A-Za-z0-9/_+=.@-]{1,512}$/.test(input.Name)) return jsonError(400, 'ValidationException', 'Invalid name.');
        this.put(input.Name, String(input.SecretString ?? ''));
        const s = find(input.Name)!;
        return json(200, { ARN: s.arn, Name: s.name, VersionId: current(s).id }, { 'content-type': 'application/x-amz-json-1.1' });
      }
      case 'PutSecretValue': {
        const s = find(input.SecretId);
        if (!s) return notFound();
        if (s.deletedAt !== undefined) return jsonError(400, 'InvalidRequestException', "You can't perform this operation on the secret because it was marked for deletion.");
        s.versions.push({ id: randomUUID(), value: String(input.SecretString ?? ''), created: Date.now() });
        return json(200, { ARN: s.arn, Name: s.name, VersionId: current(s).id, VersionStages: ['AWSCURRENT'] }, { 'content-type': 'application/x-amz-json-1.1' });
      }
      case 'GetSecretValue': {
        const s = find(input.SecretId);
        if (!s) return notFound();
        if (s.deletedAt !== undefined) return jsonError(400, 'InvalidRequestException', "You can't perform this operation on the secret because it was marked for deletion.");
        const v = current(s);
        return json(
          200,
          { ARN: s.arn, Name: s.name, VersionId: v.id, SecretString: v.value, VersionStages: ['AWSCURRENT'], CreatedDate: v.created / 1000 },
          { 'content-type': 'application/x-amz-json-1.1' },
        );
      }
      case 'DescribeSecret': {
        const s = find(input.SecretId);
        if (!s) return notFound();
        return json(
          200,
          { ARN: s.arn, Name: s.name, CreatedDate: s.created / 1000, ...(s.deletedAt ? { DeletedDate: s.deletedAt / 1000 } : {}), VersionIdsToStages: { [current(s).id]: ['AWSCURRENT'] } },
          { 'content-type': 'application/x-amz-json-1.1' },
        );
      }
      case 'DeleteSecret': {
        const s = find(input.SecretId);
        if (!s) return notFound();
        if (input.ForceDeleteWithoutRecovery) this.secrets.delete(s.name);
        else s.deletedAt = Date.now();
        return json(200, { ARN: s.arn, Name: s.name, DeletionDate: Date.now() / 1000 }, { 'content-type': 'application/x-amz-json-1.1' });
      }
      case 'TagResource':
        return find(input.SecretId) ? json(200, {}, { 'content-type': 'application/x-amz-json-1.1' }) : notFound();
      default:
        return jsonError(400, 'InvalidAction', `the fake Secrets Manager does not implement ${operation}`);
    }
  }
}

export class FakeSes {
  readonly sent: SentEmail[] = [];
  private readonly verified: Set<string>;

  /** `verified`: the identities (addresses or domains) verified in the account. */
  constructor(verified: readonly string[]) {
    this.verified = new Set(verified.map((v) => v.toLowerCase()));
  }

  /** The identity SES authorizes a From address against: the address if verified, else its domain. */
  identityOf(from: string): string {
    const address = (/<([^>]+)>/.exec(from)?.[1] ?? from).trim().toLowerCase();
    return this.verified.has(address) ? address : (address.split('@')[1] ?? address);
  }

  handle(method: string, path: string, input: any, sentBy: string): HttpAnswer {
    if (method !== 'POST' || path !== '/v2/email/outbound-emails') return restError(404, 'NotFoundException', `the fake SESv2 does not implement ${method} ${path}`);
    const from = String(input.FromEmailAddress ?? '');
    if (!this.verified.has(this.identityOf(from))) {
      return restError(400, 'MessageRejected', `Email address is not verified. The following identities failed the check in region ${REGION.toUpperCase()}: ${from}`);
    }
    const to: string[] = input.Destination?.ToAddresses ?? [];
    const simple = input.Content?.Simple;
    if (to.length === 0 || !simple?.Subject?.Data) return restError(400, 'BadRequestException', 'Destination and Content.Simple.Subject are required');
    this.sent.push({
      from,
      to,
      subject: String(simple.Subject.Data),
      text: String(simple.Body?.Text?.Data ?? ''),
      ...(simple.Body?.Html?.Data ? { html: String(simple.Body.Html.Data) } : {}),
      sentBy,
    });
    return json(200, { MessageId: randomUUID() });
  }
}

const SCHEDULE_NAME = /^[0-9a-zA-Z-_.]{1,64}$/;
const AT_EXPRESSION = /^at\((\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\)$/;

export class FakeScheduler {
  private readonly schedules = new Map<string, Schedule>();
  private readonly groups: Set<string>;

  /** `groups`: the schedule groups of the stack (`default` always exists). */
  constructor(groups: readonly string[]) {
    this.groups = new Set(['default', ...groups]);
  }

  list(): Schedule[] {
    return [...this.schedules.values()];
  }

  delete(schedule: Schedule): void {
    this.schedules.delete(`${schedule.group}/${schedule.name}`);
  }

  handle(method: string, url: string, input: any, createdBy: string): HttpAnswer {
    const parsed = new URL(url, 'http://x');
    const name = decodeURIComponent(/^\/schedules\/([^/]+)$/.exec(parsed.pathname)?.[1] ?? '');
    if (!name) return restError(404, 'ResourceNotFoundException', `the fake Scheduler does not implement ${method} ${parsed.pathname}`);
    const group = String((method === 'POST' ? input.GroupName : parsed.searchParams.get('groupName')) || 'default');
    const key = `${group}/${name}`;
    if (!this.groups.has(group)) return restError(404, 'ResourceNotFoundException', `Schedule group ${group} does not exist.`);
    switch (method) {
      case 'POST': {
        if (!SCHEDULE_NAME.test(name)) return restError(400, 'ValidationException', `1 validation error detected: Value '${name}' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: [0-9a-zA-Z-_.]+ and have length 1..64`);
        if (this.schedules.has(key)) return restError(409, 'ConflictException', `Schedule ${name} already exists.`);
        const expression = String(input.ScheduleExpression ?? '');
        const at = AT_EXPRESSION.exec(expression);
        if (!at && !/^(rate|cron)\(.+\)$/.test(expression)) return restError(400, 'ValidationException', `Invalid Schedule Expression ${expression}.`);
        if (input.ScheduleExpressionTimezone && input.ScheduleExpressionTimezone !== 'UTC') return restError(400, 'ValidationException', 'the fake Scheduler only supports UTC');
        if (!input.FlexibleTimeWindow?.Mode) return restError(400, 'ValidationException', 'FlexibleTimeWindow is required');
        const target = input.Target;
        if (!target?.Arn || !target?.RoleArn) return restError(400, 'ValidationException', 'Target.Arn and Target.RoleArn are required');
        if (typeof target.Input === 'string' && target.Input.length > 8192) return restError(400, 'ValidationException', 'Target.Input is longer than 8192 characters');
        const arn = `arn:${PARTITION}:scheduler:${REGION}:${ACCOUNT}:schedule/${group}/${name}`;
        this.schedules.set(key, {
          name,
          group,
          arn,
          expression,
          ...(input.ScheduleExpressionTimezone ? { timezone: input.ScheduleExpressionTimezone } : {}),
          ...(at ? { at: new Date(`${at[1]}Z`) } : {}),
          ...(input.ActionAfterCompletion ? { actionAfterCompletion: input.ActionAfterCompletion } : {}),
          target,
          createdBy,
        });
        return json(200, { ScheduleArn: arn });
      }
      case 'DELETE':
        if (!this.schedules.delete(key)) return restError(404, 'ResourceNotFoundException', `Schedule ${name} does not exist.`);
        return json(200, {});
      case 'GET': {
        const s = this.schedules.get(key);
        if (!s) return restError(404, 'ResourceNotFoundException', `Schedule ${name} does not exist.`);
        return json(200, { Name: s.name, GroupName: s.group, Arn: s.arn, ScheduleExpression: s.expression, Target: s.target });
      }
      default:
        return restError(405, 'ValidationException', `the fake Scheduler does not implement ${method}`);
    }
  }
}

export interface FakeAws {
  readonly origin: string;
  readonly secrets: FakeSecretsManager;
  readonly ses: FakeSes;
  readonly scheduler: FakeScheduler;
  close(): Promise<void>;
}

export async function startFakeAws(options: { verifiedIdentities: readonly string[]; scheduleGroups: readonly string[] }): Promise<FakeAws> {
  const secrets = new FakeSecretsManager();
  const ses = new FakeSes(options.verifiedIdentities);
  const scheduler = new FakeScheduler(options.scheduleGroups);
  const answer = (req: IncomingMessage, body: Buffer): HttpAnswer => {
    const service = signatureOf(req.headers.authorization)?.service;
    const principal = String(req.headers[PRINCIPAL_HEADER] ?? 'unknown');
    let input: any;
    try {
      input = body.length ? JSON.parse(body.toString('utf8')) : {};
    } catch {
      return restError(400, 'SerializationException', 'body is not JSON');
    }
    const url = req.url ?? '/';
    const method = req.method ?? 'GET';
    switch (service) {
      case 'secretsmanager':
        return secrets.handle(String(req.headers['x-amz-target'] ?? '').replace(/^secretsmanager\./, ''), input);
      case 'ses':
        return ses.handle(method, new URL(url, 'http://x').pathname, input, principal);
      case 'scheduler':
        return scheduler.handle(method, url, input, principal);
      default:
        return restError(400, 'UnrecognizedClientException', `no fake for signing service ${service}`);
    }
  };
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const a = answer(req, Buffer.concat(chunks));
      res.writeHead(a.status, a.headers);
      res.end(a.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    secrets,
    ses,
    scheduler,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
