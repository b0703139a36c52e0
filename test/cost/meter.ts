/**
 * The cost meter: hooked into the Lambda suite's harness (HarnessMeter), it records every billable
 * unit of a run, per segment (a scenario), per service, function (principal), operation, resource
 * and meter (`write units`, `requests`, `GB-seconds (arm64)`...). Calls the functions make come
 * through their IAM proxies; what Lambda's pollers and EventBridge Scheduler do comes from the
 * harness's own SQS client; invocations, durations and log bytes from the containers; requests
 * and access log lines from "API Gateway". Quantities whose meter has no price (calls, messages,
 * durations) are kept for the capacity model.
 */
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { ApiRequest, ApiResponse, ApiRoute } from '../lambda/api-gateway.ts';
import type { AwsCall } from '../lambda/aws-requests.ts';
import type { ContainerObserver, InvokeResult } from '../lambda/container.ts';
import type { HarnessMeter } from '../lambda/harness.ts';
import type { FunctionSpec } from '../lambda/template.ts';
import { DynamoMeter, type DynamoRecorder } from './dynamo-meter.ts';
import { accessLogBytes, platformLogBytes } from './log-lines.ts';
import type { StackInfo } from './stack.ts';
import { apiRequests, gbSeconds, sqsMessageBytes, sqsRequests } from './units.ts';

export interface UsageLine {
  readonly service: string;
  /** The function, or `<function> (event source mapping)`, `scheduler`, `apigateway`. */
  readonly principal: string;
  readonly operation: string;
  readonly resource: string;
  readonly meter: string;
  quantity: number;
  calls: number;
}

export interface PartitionLoad {
  readonly kind: 'write' | 'read';
  /** `Table` or `Table/index`. */
  readonly resource: string;
  readonly partition: string;
  units: number;
}

export class Segment {
  readonly name: string;
  readonly lines = new Map<string, UsageLine>();
  readonly partitions = new Map<string, PartitionLoad>();
  /** GetSecretValue calls by (function, secret name): the per-container cache target. */
  readonly secretReads = new Map<string, { principal: string; secret: string; calls: number }>();
  constructor(name: string) {
    this.name = name;
  }
}

const parse = (body: Buffer): any => {
  try {
    return body.length ? JSON.parse(body.toString('utf8')) : {};
  } catch {
    return {};
  }
};
/** A name with its id-like segments starred: one line per kind of secret, not per secret. */
const generic = (name: string) => name.split('/').map((seg) => (/\d/.test(seg) && seg.length >= 8 ? '*' : seg)).join('/');

export class Meter implements DynamoRecorder {
  /** Calls the meter could not account for (a bug of the meter, or a call it cannot read): reported. */
  readonly errors: string[] = [];
  private readonly segments = new Map<string, Segment>();
  private current: Segment;
  private readonly busyTime = new Map<string, { active: number; since: number; total: number }>();
  private dynamo: DynamoMeter | undefined;
  private readonly stack: StackInfo;
  private readonly shortNames: Map<string, string>;

  constructor(stack: StackInfo, shortNames: Map<string, string>) {
    this.stack = stack;
    this.shortNames = shortNames;
    this.current = this.segment('setup');
  }

  /** Reads the items writes change from dynalite at `origin` (known once the harness runs). */
  connect(dynamoOrigin: string): void {
    this.dynamo = new DynamoMeter(this.stack.tables, dynamoOrigin, this);
  }

  /** Starts recording into segment `name` (again, if it exists). */
  segment(name: string): Segment {
    let s = this.segments.get(name);
    if (!s) this.segments.set(name, (s = new Segment(name)));
    this.current = s;
    return s;
  }

  get(name: string): Segment | undefined {
    return this.segments.get(name);
  }

  close(): void {
    this.dynamo?.close();
  }

  add(service: string, principal: string, operation: string, resource: string, meter: string, quantity: number, calls = 1): void {
    const key = [service, principal, operation, resource, meter].join('|');
    const line = this.current.lines.get(key);
    if (line) {
      line.quantity += quantity;
      line.calls += calls;
    } else this.current.lines.set(key, { service, principal, operation, resource, meter, quantity, calls });
  }

  units(principal: string, operation: string, resource: string, kind: 'write' | 'read', units: number): void {
    this.add('dynamodb', principal, operation, resource, kind === 'write' ? 'write units' : 'read units', units, 0);
  }

  conditionFailed(principal: string, operation: string, resource: string): void {
    this.add('dynamodb', principal, operation, resource, 'failed conditional writes', 1, 0);
  }

  partition(kind: 'write' | 'read', resource: string, partition: string, units: number): void {
    const key = `${kind}|${resource}|${partition}`;
    const p = this.current.partitions.get(key);
    if (p) p.units += units;
    else this.current.partitions.set(key, { kind, resource, partition, units });
  }

  async busy<T>(principal: string, work: () => Promise<T>): Promise<T> {
    const b = this.busyTime.get(principal) ?? { active: 0, since: 0, total: 0 };
    this.busyTime.set(principal, b);
    if (b.active++ === 0) b.since = performance.now();
    try {
      return await work();
    } finally {
      if (--b.active === 0) b.total += performance.now() - b.since;
    }
  }

  /** Time the meter has held up a function's calls so far (the union of its busy spans). */
  private busyMs(principal: string): number {
    const b = this.busyTime.get(principal);
    if (!b) return 0;
    return b.total + (b.active > 0 ? performance.now() - b.since : 0);
  }

  private short(name: string): string {
    return this.shortNames.get(name) ?? name;
  }

  /** The hooks to give Harness.start. */
  hooks(): HarnessMeter {
    return {
      calls: { begin: (principal, call, body) => this.guarded(principal, call, body) },
      container: (spec) => this.observer(spec),
      apiRequest: (request, route, response) => this.apiRequest(request, route, response),
    };
  }

  /** begin, with any failure of the meter recorded instead of lost (the call itself goes on). */
  private async guarded(principal: string, call: AwsCall, body: Buffer): Promise<((status: number, body: Buffer) => Promise<void>) | undefined> {
    const fail = (err: unknown): void => {
      this.errors.push(`${principal} ${call.service} ${call.operation}: ${err instanceof Error ? err.message : String(err)}`);
    };
    try {
      const end = await this.begin(principal, call, body);
      return end && ((status, answer) => end(status, answer).catch(fail));
    } catch (err) {
      fail(err);
      return undefined;
    }
  }

  private async begin(principal: string, call: AwsCall, body: Buffer): Promise<((status: number, body: Buffer) => Promise<void>) | undefined> {
    const input = parse(body);
    const op = call.operation;
    switch (call.service) {
      case 'dynamodb': {
        const tables = input.TableName ? [input.TableName] : Object.keys(input.RequestItems ?? {});
        this.add('dynamodb', principal, op, tables.map((t: string) => this.short(t)).join(',') || '-', 'calls', 1);
        return this.dynamo?.begin(principal, op, input);
      }
      case 'sqs':
        return async (status, answerBody) => {
          if (status === 200) this.sqs(principal, op, input, parse(answerBody));
        };
      case 'secretsmanager':
        return async (status) => {
          if (status !== 200) return;
          const secret = String(input.SecretId ?? input.Name ?? '');
          const name = secret.replace(/^arn:.*:secret:/, '').replace(/-[A-Za-z0-9]{6}$/, '');
          this.add('secretsmanager', principal, op, generic(this.short(name)), 'calls', 1);
          if (op === 'GetSecretValue') {
            const key = `${principal}|${name}`;
            const r = this.current.secretReads.get(key) ?? { principal, secret: name, calls: 0 };
            r.calls++;
            this.current.secretReads.set(key, r);
          }
        };
      case 'scheduler':
        return async (status) => {
          if (status === 200) this.add('scheduler', principal, op, String(input.GroupName ?? 'default'), 'calls', 1);
        };
      case 'ses':
        return async (status) => {
          if (status !== 200 || op !== 'SendEmail') return;
          const d = input.Destination ?? {};
          const recipients = (d.ToAddresses?.length ?? 0) + (d.CcAddresses?.length ?? 0) + (d.BccAddresses?.length ?? 0);
          this.add('ses', principal, op, 'email', 'emails', recipients);
        };
      default:
        return undefined;
    }
  }

  /** One SQS call, billed per 64 KB chunk of its payload (sends and receives) or as one request. */
  private sqs(principal: string, op: string, input: any, answer: any): void {
    const queue = this.short(String(input.QueueUrl ?? input.QueueName ?? '').split('/').pop() ?? '');
    switch (op) {
      case 'SendMessage':
        this.add('sqs', principal, op, queue, 'requests', sqsRequests(sqsMessageBytes(input)));
        this.add('sqs', principal, op, queue, 'messages sent', 1, 0);
        break;
      case 'SendMessageBatch': {
        const entries: any[] = input.Entries ?? [];
        this.add('sqs', principal, op, queue, 'requests', sqsRequests(entries.reduce((sum, e) => sum + sqsMessageBytes(e), 0)));
        this.add('sqs', principal, op, queue, 'messages sent', entries.length - (answer.Failed?.length ?? 0), 0);
        break;
      }
      case 'ReceiveMessage': {
        const messages: any[] = answer.Messages ?? [];
        if (messages.length === 0) {
          this.add('sqs', principal, op, queue, 'empty receives', 1);
          break;
        }
        this.add('sqs', principal, op, queue, 'requests', sqsRequests(messages.reduce((sum, m) => sum + sqsMessageBytes(m), 0)));
        this.add('sqs', principal, op, queue, 'messages received', messages.length, 0);
        break;
      }
      default:
        this.add('sqs', principal, op, queue, 'requests', 1);
    }
  }

  /**
   * The harness's own SQS client plays Lambda's pollers (receives and deletes of each event source
   * mapping) and EventBridge Scheduler (the sends of fired schedules): both are billed SQS requests.
   * Its GetQueueAttributes and PurgeQueue calls are the harness's bookkeeping, not AWS's.
   */
  instrumentHarnessSqs(client: SQSClient, mappingOfQueueUrl: (url: string) => string | undefined): void {
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const out = await next(args);
        const op = String(context.commandName ?? '').replace(/Command$/, '');
        const input = args.input as any;
        if (op === 'GetQueueAttributes' || op === 'PurgeQueue') return out;
        const fn = mappingOfQueueUrl(String(input.QueueUrl ?? ''));
        const principal = op === 'SendMessage' ? 'scheduler' : fn ? `${fn} (event source mapping)` : 'harness';
        this.sqs(principal, op, input, (out as any).output ?? {});
        return out;
      },
      { step: 'initialize', name: 'costMeter' },
    );
  }

  /** EventBridge Scheduler invoked a schedule's target. */
  scheduleInvoked(group: string): void {
    this.add('scheduler', 'scheduler', 'schedule invocation', group, 'invocations', 1);
  }

  private observer(spec: FunctionSpec): ContainerObserver {
    const info = this.stack.functions.find((f) => f.name === spec.name);
    const arch = info?.architecture ?? 'x86_64';
    return {
      invoking: () => {
        const meterBefore = this.busyMs(spec.name);
        return (result: InvokeResult) => {
          const timedOut = !result.ok && result.error.errorType === 'Sandbox.Timedout';
          const measured = result.durationMs ?? (timedOut ? spec.timeoutSeconds * 1000 : 0);
          // The meter's own reads of the stand-ins held the function up: not part of its duration.
          const billed = Math.max(0, measured - (this.busyMs(spec.name) - meterBefore));
          this.add('lambda', spec.name, 'Invoke', spec.name, 'invocations', 1);
          this.add('lambda', spec.name, 'Invoke', spec.name, `GB-seconds (${arch})`, gbSeconds(billed, spec.memoryMb), 0);
          this.add('lambda', spec.name, 'Invoke', spec.name, 'duration ms', Math.ceil(billed), 0);
          this.add('logs', spec.name, 'platform log lines', spec.name, 'bytes', platformLogBytes(info?.logFormat ?? 'Text', billed, spec.memoryMb, spec.tracingActive), 0);
        };
      },
      output: (bytes) => this.add('logs', spec.name, 'function output', spec.name, 'bytes', bytes, 0),
    };
  }

  private apiRequest(request: ApiRequest, route: ApiRoute | undefined, response: ApiResponse): void {
    const routeKey = route?.routeKey ?? '(no route)';
    this.add('apigateway', 'apigateway', routeKey, 'HTTP API', 'requests', apiRequests(Buffer.byteLength(request.body ?? '')));
    if (this.stack.accessLogFormat) {
      this.add('logs', 'apigateway', 'access log', 'AccessLogs', 'bytes', accessLogBytes(this.stack.accessLogFormat, request, routeKey, response), 0);
    }
  }
}
