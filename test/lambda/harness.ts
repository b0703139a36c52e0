/**
 * The Lambda suite's harness: every function of a synthesized template in a warm container of
 * its own (container.ts), whose AWS calls all go through an IAM proxy checking them against the
 * function's role (iam-proxy.ts), to dynalite, fauxqs and the fakes (standins.ts, fake-aws.ts).
 * It plays the services that invoke the functions: API Gateway (api-gateway.ts), the SQS event
 * source mappings (sqs-mapping.ts), EventBridge rules on a schedule (the stack has none today),
 * and EventBridge Scheduler firing the retry schedules. Its clock can jump forward for every container at once.
 */
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { apiAnswer, apiEvent, apiResponse, apiRoutes, executeApiArn, invokePermitted, selectRoute, type ApiRequest, type ApiResponse, type ApiRoute } from './api-gateway.ts';
import { queueArnOfUrl } from './aws-requests.ts';
import { LambdaContainer, type ContainerObserver, type InvokeResult } from './container.ts';
import { fireSchedule, runRule } from './eventbridge.ts';
import { lambdaEnvironment } from './environment.ts';
import { startFakeAws, type FakeAws, type Schedule } from './fake-aws.ts';
import { startIamProxy, type CallMeter, type IamProxy } from './iam-proxy.ts';
import { AccessLog, ResourcePolicies, RolePolicies, type Grant } from './iam.ts';
import { MAPPING_ACTIONS, SqsEventSourceMapping } from './sqs-mapping.ts';
import { startStandIns, type StandIns } from './standins.ts';
import { ACCOUNT, REGION, StackModel, type FunctionSpec } from './template.ts';

export interface HarnessOptions {
  /** Values of the stack's secrets by name (the admin key); the others get a random value, as `GenerateSecretString` does. */
  readonly secretValues: Readonly<Record<string, string>>;
  /** SES identities verified in the account (the stack's sender). */
  readonly verifiedIdentities: readonly string[];
  /** What the cost meter (test/cost) observes; unset: nothing is metered. */
  readonly meter?: HarnessMeter;
}

/** Hooks of the cost meter, each optional. */
export interface HarnessMeter {
  /** Every AWS call a function's role allows, with its answer (see iam-proxy.ts). */
  readonly calls?: CallMeter;
  /** Each function's invocations and log output. */
  container?(spec: FunctionSpec): ContainerObserver;
  /** Each request API Gateway answers, with the route it selected (none: API Gateway's own 404). */
  apiRequest?(request: ApiRequest, route: ApiRoute | undefined, response: ApiResponse): void;
}

/** A client of the HTTP API: requests become payload 2.0 events for the route's function. */
export interface ApiClient {
  request(method: string, target: string, body?: unknown, headers?: Record<string, string>): Promise<ApiResponse>;
  get(target: string): Promise<ApiResponse>;
  post(target: string, body?: unknown): Promise<ApiResponse>;
  patch(target: string, body?: unknown): Promise<ApiResponse>;
  del(target: string): Promise<ApiResponse>;
}

export interface FunctionRuntime {
  readonly spec: FunctionSpec;
  readonly container: LambdaContainer;
  readonly proxy: IamProxy;
  readonly policies: RolePolicies;
  /** The container's environment, read at each cold start. */
  readonly environment: () => Record<string, string>;
}

export class Harness {
  readonly model: StackModel;
  readonly log = new AccessLog();
  readonly fakes: FakeAws;
  readonly standIns: StandIns;
  readonly functions = new Map<string, FunctionRuntime>();
  readonly mappings = new Map<string, SqsEventSourceMapping>();
  /** Function errors of event source mapping invocations (the records are retried by SQS). */
  readonly functionErrors: string[] = [];
  private readonly routes: ApiRoute[];
  readonly resourcePolicies: ResourcePolicies;
  private readonly tempDir: string;
  private clockOffsetMs = 0;
  private readonly meter: HarnessMeter;
  private readonly extraContainers: LambdaContainer[] = [];

  private constructor(model: StackModel, fakes: FakeAws, standIns: StandIns, tempDir: string, meter: HarnessMeter = {}) {
    this.model = model;
    this.meter = meter;
    this.fakes = fakes;
    this.standIns = standIns;
    this.tempDir = tempDir;
    this.routes = apiRoutes(model);
    this.resourcePolicies = new ResourcePolicies(model);
  }

  static async start(model: StackModel, options: HarnessOptions): Promise<Harness> {
    const tempDir = mkdtempSync(join(tmpdir(), 'hookline-lambda-suite-'));
    const groups = model.ofType('AWS::Scheduler::ScheduleGroup').map((id) => model.physicalName(id));
    const [fakes, standIns] = await Promise.all([startFakeAws({ verifiedIdentities: options.verifiedIdentities, scheduleGroups: groups }), startStandIns(model)]);
    const harness = new Harness(model, fakes, standIns, tempDir, options.meter);
    for (const id of model.ofType('AWS::SecretsManager::Secret')) {
      // The stack's secrets exist from the deploy on.
      const name = model.physicalName(id);
      fakes.secrets.put(name, options.secretValues[name] ?? randomUUID());
    }
    for (const spec of model.functions()) await harness.addFunction(spec);
    harness.startMappings();
    return harness;
  }

  /** The time the containers see. */
  now(): Date {
    return new Date(Date.now() + this.clockOffsetMs);
  }

  /** Moves every container's clock forward by `ms` (never back). */
  advanceClock(ms: number): void {
    this.clockOffsetMs += Math.max(0, ms);
    for (const f of this.functions.values()) f.container.setClock(this.clockOffsetMs);
  }

  fn(name: string): FunctionRuntime {
    const f = this.functions.get(name);
    if (!f) throw new Error(`no function ${name} in the template (have ${[...this.functions.keys()].join(', ')})`);
    return f;
  }

  /** Starts every container now (in parallel), so that tests do not pay the cold starts one by one. */
  async warm(names: readonly string[] = [...this.functions.keys()]): Promise<void> {
    await Promise.all(names.map((n) => this.fn(n).container.warm()));
  }

  /**
   * Another container of function `name`, as Lambda adds when it scales out: the same bundle,
   * role (its calls pass the same IAM proxy) and environment, with `env` on top. Its process
   * has its own memory (in-process caches and limits); close() stops it.
   */
  scaleOut(name: string, env: Record<string, string> = {}): LambdaContainer {
    const f = this.fn(name);
    const container = new LambdaContainer(f.spec, () => ({ ...f.environment(), ...env }), () => this.clockOffsetMs);
    this.extraContainers.push(container);
    return container;
  }

  api(key?: string): ApiClient {
    const request = (method: string, target: string, body?: unknown, headers: Record<string, string> = {}) =>
      this.http({
        method,
        target,
        headers: {
          ...(key === undefined ? {} : { authorization: `Bearer ${key}` }),
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...headers,
        },
        ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
      });
    return {
      request,
      get: (t) => request('GET', t),
      post: (t, b) => request('POST', t, b),
      patch: (t, b) => request('PATCH', t, b),
      del: (t) => request('DELETE', t),
    };
  }

  /** One request through "API Gateway": route selection, the invoke permission, the event, the answer. */
  async http(request: ApiRequest): Promise<ApiResponse> {
    const path = request.target.split('?')[0]!;
    const route = selectRoute(this.routes, request.method, path);
    const response = await this.answer(request, route);
    this.meter.apiRequest?.(request, route, response);
    return response;
  }

  private async answer(request: ApiRequest, route: ApiRoute | undefined): Promise<ApiResponse> {
    if (!route) return apiAnswer(404, { message: 'Not Found' });
    const f = this.byLogicalId(route.functionLogicalId);
    if (!invokePermitted(this.model, route.functionLogicalId, 'apigateway.amazonaws.com', executeApiArn(route, request.method))) {
      this.log.denials.push({ principal: 'apigateway', action: 'lambda:InvokeFunction', resource: f.spec.arn, via: route.routeKey, reason: 'no AWS::Lambda::Permission lets API Gateway invoke it' });
      return apiAnswer(500, { message: 'Internal Server Error' });
    }
    const result = await f.container.invoke(apiEvent(route, request, this.now()));
    return apiResponse(result);
  }

  /** Invokes the target of an `AWS::Events::Rule` with the event EventBridge sends on a schedule. */
  runRule(ruleLogicalId: string): Promise<InvokeResult[]> {
    return runRule(this, ruleLogicalId);
  }

  /** Plays EventBridge Scheduler firing a one-time schedule (see eventbridge.ts). */
  fire(schedule: Schedule): Promise<void> {
    return fireSchedule(this, schedule);
  }

  /**
   * Resolves once nothing is left to do: no container busy, no mapping handling a batch, and no
   * message visible or delayed in a mapped queue, twice in a row (a positive signal for a test
   * that then asserts something did NOT happen).
   */
  async settle(timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let quietRounds = 0;
    while (quietRounds < 2) {
      if (Date.now() > deadline) throw new Error(`the functions did not settle within ${timeoutMs} ms`);
      const busy = [...this.functions.values()].some((f) => f.container.busy) || [...this.mappings.values()].some((m) => m.busy);
      const waiting = busy ? 1 : await this.queuedMessages();
      quietRounds = waiting === 0 ? quietRounds + 1 : 0;
      await new Promise((r) => setTimeout(r, 150));
    }
  }

  /** Every grant of every role in the template that no call used, by role principal. */
  unusedGrants(): Map<string, Grant[]> {
    const out = new Map<string, Grant[]>();
    for (const f of this.functions.values()) out.set(f.spec.name, f.policies.grants().filter((g) => !this.log.used.has(g.key)));
    const functionRoles = new Set([...this.functions.values()].map((f) => f.spec.roleLogicalId));
    for (const roleId of this.model.ofType('AWS::IAM::Role').filter((id) => !functionRoles.has(id))) {
      out.set(roleId, new RolePolicies(this.model, roleId).grants().filter((g) => !this.log.used.has(g.key)));
    }
    return out;
  }

  /** The last output lines of every function, for a failure message. */
  logs(lines = 15): string {
    return [...this.functions.values()].map((f) => `--- ${f.spec.name}\n${f.container.tail(lines)}`).join('\n');
  }

  async close(): Promise<void> {
    await Promise.all([...this.mappings.values()].map((m) => m.stop()));
    await Promise.all([...this.functions.values()].map((f) => f.container.stop()));
    await Promise.all(this.extraContainers.map((c) => c.stop()));
    await Promise.all([...this.functions.values()].map((f) => f.proxy.close()));
    await Promise.all([this.fakes.close(), this.standIns.stop()]);
    rmSync(this.tempDir, { recursive: true, force: true });
  }

  byLogicalId(logicalId: string): FunctionRuntime {
    const f = [...this.functions.values()].find((x) => x.spec.logicalId === logicalId);
    if (!f) throw new Error(`${logicalId} is not a function of the template`);
    return f;
  }

  private async queuedMessages(): Promise<number> {
    let total = 0;
    for (const m of this.mappings.values()) {
      const out = await this.standIns.sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: m.options.queueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesDelayed'] }),
      );
      total += Number(out.Attributes?.ApproximateNumberOfMessages ?? 0) + Number(out.Attributes?.ApproximateNumberOfMessagesDelayed ?? 0);
    }
    return total;
  }

  private async addFunction(spec: FunctionSpec): Promise<void> {
    const policies = new RolePolicies(this.model, spec.roleLogicalId);
    const accessKeyId = `ASIA${spec.name.replace(/[^a-z]/g, '').toUpperCase().padEnd(16, 'X').slice(0, 16)}`;
    const callerArn = `arn:aws:sts::${ACCOUNT}:assumed-role/${policies.roleName}/${spec.physicalName}`;
    const proxy = await startIamProxy({
      principal: spec.name,
      callerArn,
      accessKeyId,
      policies,
      resourcePolicies: this.resourcePolicies,
      log: this.log,
      upstreams: { dynamodb: this.standIns.dynamoOrigin, sqs: this.standIns.sqsOrigin, fakes: this.fakes.origin },
      describe: { sesIdentityOf: (from) => this.fakes.ses.identityOf(from) },
      ...(this.meter.calls ? { meter: this.meter.calls } : {}),
    });
    const logStream = `2025/01/01/[$LATEST]${randomUUID().replace(/-/g, '')}`;
    const environment = () =>
      lambdaEnvironment(spec, {
        resolved: this.model.resolve(spec.environment, { sqsOrigin: proxy.origin }) as Record<string, unknown>,
        accessKeyId,
        awsEndpoint: proxy.origin,
        logStream,
        missingFile: join(this.tempDir, 'no-such-file'),
      });
    const container = new LambdaContainer(spec, environment, () => this.clockOffsetMs, this.meter.container?.(spec));
    this.functions.set(spec.name, { spec, container, proxy, policies, environment });
    // What the Lambda service itself does with the role: the function's logs, and its traces when active.
    const service = `${spec.name} (lambda service)`;
    const logArn = `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:${spec.logGroupName}:log-stream:${logStream}`;
    this.log.authorize(service, 'logs', policies, [
      { action: 'logs:CreateLogStream', resource: logArn },
      { action: 'logs:PutLogEvents', resource: logArn },
    ]);
    if (spec.tracingActive) {
      this.log.authorize(service, 'tracing', policies, [
        { action: 'xray:PutTraceSegments', resource: '*' },
        { action: 'xray:PutTelemetryRecords', resource: '*' },
      ]);
    }
  }

  private startMappings(): void {
    for (const id of this.model.ofType('AWS::Lambda::EventSourceMapping')) {
      const p = this.model.resource(id).Properties;
      const f = this.byLogicalId(StackModel.target(p.FunctionName)!);
      const queueId = StackModel.target(p.EventSourceArn);
      if (!queueId || this.model.resource(queueId).Type !== 'AWS::SQS::Queue') throw new Error(`${id}: only SQS event sources are played`);
      const queueUrl = this.standIns.queueUrl(queueId);
      const queueArn = queueArnOfUrl(queueUrl);
      // Lambda checks the role when the mapping is created: without these it never polls.
      const denied = this.log.authorize(
        `${f.spec.name} (event source mapping)`,
        'event source mapping',
        f.policies,
        MAPPING_ACTIONS.map((action) => ({ action, resource: queueArn, context: { 'aws:SecureTransport': 'true' } })),
        this.resourcePolicies,
      );
      if (denied || p.Enabled === false) continue;
      const mapping = new SqsEventSourceMapping({
        functionName: f.spec.name,
        queueArn,
        queueUrl,
        client: this.standIns.sqs,
        batchSize: Number(p.BatchSize ?? 10),
        reportBatchItemFailures: (p.FunctionResponseTypes ?? []).includes('ReportBatchItemFailures'),
        invoke: (event) => f.container.invoke(event),
        onFunctionError: (error) => this.functionErrors.push(`${f.spec.name}: ${error}`),
      });
      this.mappings.set(f.spec.name, mapping);
      mapping.start();
    }
  }
}
