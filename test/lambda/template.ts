/**
 * The synthesized CloudFormation template as the Lambda suite reads it: the resources it runs
 * (functions, tables, queues, secrets, schedule groups, routes, event source mappings, rules),
 * the physical names and ARNs the stand-ins give them, and the intrinsic functions
 * (`Ref`, `Fn::GetAtt`, `Fn::Join`, `Fn::Select`, `Fn::Split`, `Fn::Sub`) resolved to those.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export const REGION = 'us-east-1';
export const ACCOUNT = '000000000000';
export const PARTITION = 'aws';
/** The six characters Secrets Manager appends to a secret's name in its ARN. */
export const SECRET_SUFFIX = 'AbCdEf';
/** The HTTP API's id: its endpoint is `https://<id>.execute-api.<region>.amazonaws.com`. */
export const API_ID = 'lsuite0api';

export interface CfnResource {
  readonly Type: string;
  readonly Properties?: any;
  readonly Metadata?: Record<string, unknown>;
}
export interface CfnTemplate {
  readonly Resources: Record<string, CfnResource>;
}

/** One `AWS::Lambda::Function` of the template, as Lambda would run it. */
export interface FunctionSpec {
  readonly logicalId: string;
  /** `webhooks-api`: the construct id (`WebhooksApi`) in kebab case. */
  readonly name: string;
  readonly physicalName: string;
  readonly arn: string;
  /** The bundle: the `aws:asset:path` folder of the cloud assembly. */
  readonly assetDir: string;
  /** `index.handler` */
  readonly handler: string;
  readonly timeoutSeconds: number;
  readonly memoryMb: number;
  readonly roleLogicalId: string;
  /** `Environment.Variables`, unresolved. */
  readonly environment: Record<string, unknown>;
  readonly logGroupName: string;
  readonly tracingActive: boolean;
}

/** What a resolved expression may need that only a running harness knows. */
export interface ResolveContext {
  /** Origin (`http://127.0.0.1:<port>`) queue URLs are given: the SDK sends to the queue URL's host. */
  readonly sqsOrigin: string;
}

const kebab = (id: string) => id.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase();

export class StackModel {
  readonly template: CfnTemplate;
  readonly assemblyDir: string;
  readonly stackName: string;

  constructor(template: CfnTemplate, assemblyDir: string, stackName: string) {
    this.template = template;
    this.assemblyDir = assemblyDir;
    this.stackName = stackName;
  }

  resource(logicalId: string): CfnResource {
    const resource = this.template.Resources[logicalId];
    if (!resource) throw new Error(`the template has no resource ${logicalId}`);
    return resource;
  }

  /** Logical ids of the resources of a type, in template order. */
  ofType(type: string): string[] {
    return Object.entries(this.template.Resources)
      .filter(([, r]) => r.Type === type)
      .map(([id]) => id);
  }

  /** The resource of a type whose construct path (`aws:cdk:path`) contains `fragment`. */
  findByPath(type: string, fragment: string): string {
    const id = this.ofType(type).find((i) => String(this.resource(i).Metadata?.['aws:cdk:path'] ?? '').includes(fragment));
    if (!id) throw new Error(`no ${type} whose construct path contains ${fragment}`);
    return id;
  }

  /** The name CloudFormation would give the resource (its name property, else `<stack>-<logical id>`). */
  physicalName(logicalId: string): string {
    const r = this.resource(logicalId);
    const p = r.Properties ?? {};
    const named = (prop: string) => (typeof p[prop] === 'string' ? (p[prop] as string) : undefined);
    switch (r.Type) {
      case 'AWS::DynamoDB::Table':
        return named('TableName') ?? `${this.stackName}-${logicalId}`;
      case 'AWS::SQS::Queue':
        return named('QueueName') ?? `${this.stackName}-${logicalId}`;
      case 'AWS::SecretsManager::Secret':
      case 'AWS::Scheduler::ScheduleGroup':
      case 'AWS::Events::Rule':
        return named('Name') ?? `${this.stackName}-${logicalId}`;
      case 'AWS::IAM::Role':
        return named('RoleName') ?? `${this.stackName}-${logicalId}`;
      case 'AWS::Lambda::Function':
        return named('FunctionName') ?? `${this.stackName}-${logicalId}`;
      case 'AWS::Logs::LogGroup':
        return named('LogGroupName') ?? `/aws/lambda/${this.stackName}-${logicalId}`;
      default:
        return `${this.stackName}-${logicalId}`;
    }
  }

  arnOf(logicalId: string): string {
    const r = this.resource(logicalId);
    const name = this.physicalName(logicalId);
    const arn = (service: string, resource: string, region = REGION) => `arn:${PARTITION}:${service}:${region}:${ACCOUNT}:${resource}`;
    switch (r.Type) {
      case 'AWS::DynamoDB::Table':
        return arn('dynamodb', `table/${name}`);
      case 'AWS::SQS::Queue':
        return arn('sqs', name);
      case 'AWS::SecretsManager::Secret':
        return arn('secretsmanager', `secret:${name}-${SECRET_SUFFIX}`);
      case 'AWS::Scheduler::ScheduleGroup':
        return arn('scheduler', `schedule-group/${name}`);
      case 'AWS::Events::Rule':
        return arn('events', `rule/${name}`);
      case 'AWS::IAM::Role':
        return `arn:${PARTITION}:iam::${ACCOUNT}:role${r.Properties?.Path ?? '/'}${name}`;
      case 'AWS::Lambda::Function':
        return arn('lambda', `function:${name}`);
      case 'AWS::Logs::LogGroup':
        return arn('logs', `log-group:${name}:*`);
      case 'AWS::SNS::Topic':
        return arn('sns', name);
      default:
        throw new Error(`no ARN for ${logicalId} (${r.Type})`);
    }
  }

  /** `Ref` of a resource, as CloudFormation answers it for that type. */
  ref(logicalId: string, ctx: ResolveContext): string {
    const pseudo: Record<string, string> = {
      'AWS::Partition': PARTITION,
      'AWS::Region': REGION,
      'AWS::AccountId': ACCOUNT,
      'AWS::URLSuffix': 'amazonaws.com',
      'AWS::StackName': this.stackName,
      'AWS::StackId': `arn:${PARTITION}:cloudformation:${REGION}:${ACCOUNT}:stack/${this.stackName}/00000000-0000-0000-0000-000000000000`,
      'AWS::NoValue': '',
    };
    if (logicalId in pseudo) return pseudo[logicalId]!;
    const r = this.resource(logicalId);
    switch (r.Type) {
      case 'AWS::SQS::Queue':
        return `${ctx.sqsOrigin}/${ACCOUNT}/${this.physicalName(logicalId)}`;
      case 'AWS::SecretsManager::Secret':
      case 'AWS::SNS::Topic':
        return this.arnOf(logicalId);
      case 'AWS::ApiGatewayV2::Api':
        return API_ID;
      default:
        return this.physicalName(logicalId);
    }
  }

  getAtt(logicalId: string, attribute: string, ctx: ResolveContext): string {
    const r = this.resource(logicalId);
    if (attribute === 'Arn') return this.arnOf(logicalId);
    if (r.Type === 'AWS::SQS::Queue' && attribute === 'QueueName') return this.physicalName(logicalId);
    if (r.Type === 'AWS::SQS::Queue' && attribute === 'QueueUrl') return this.ref(logicalId, ctx);
    if (r.Type === 'AWS::ApiGatewayV2::Api' && attribute === 'ApiEndpoint') return `https://${API_ID}.execute-api.${REGION}.amazonaws.com`;
    throw new Error(`Fn::GetAtt ${logicalId}.${attribute} (${r.Type}) is not known to the Lambda suite`);
  }

  /** Resolves every intrinsic function in `value`. */
  resolve(value: unknown, ctx: ResolveContext): any {
    if (value === null || typeof value !== 'object') return value;
    if (Array.isArray(value)) return value.map((v) => this.resolve(v, ctx));
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length === 1) {
      const [key, arg] = entries[0]!;
      const a = arg as any;
      switch (key) {
        case 'Ref':
          return this.ref(a as string, ctx);
        case 'Fn::GetAtt': {
          const [id, attr] = Array.isArray(a) ? a : String(a).split(/\.(.*)/);
          return this.getAtt(id, attr, ctx);
        }
        case 'Fn::Join': {
          const [sep, parts] = a as [string, unknown[]];
          return (this.resolve(parts, ctx) as unknown[]).join(sep);
        }
        case 'Fn::Select': {
          const [index, list] = a as [number | string, unknown];
          return (this.resolve(list, ctx) as unknown[])[Number(index)];
        }
        case 'Fn::Split': {
          const [sep, source] = a as [string, unknown];
          return String(this.resolve(source, ctx)).split(sep);
        }
        case 'Fn::Sub': {
          const [text, vars] = Array.isArray(a) ? (a as [string, Record<string, unknown>]) : [a as string, {}];
          const resolvedVars = this.resolve(vars, ctx) as Record<string, string>;
          return text.replace(/\$\{(!?)([^}]+)\}/g, (_m, bang: string, name: string) => {
            if (bang) return `\${${name}}`;
            if (name in resolvedVars) return resolvedVars[name]!;
            const [id, attr] = name.split(/\.(.*)/);
            return attr ? this.getAtt(id!, attr, ctx) : this.ref(id!, ctx);
          });
        }
        default:
          if (key.startsWith('Fn::')) throw new Error(`${key} is not supported by the Lambda suite`);
      }
    }
    return Object.fromEntries(entries.map(([k, v]) => [k, this.resolve(v, ctx)]));
  }

  /** The logical id an expression such as `{Ref: X}` or `{Fn::GetAtt: [X, 'Arn']}` points at. */
  static target(expression: unknown): string | undefined {
    if (!expression || typeof expression !== 'object') return undefined;
    const e = expression as Record<string, any>;
    if (typeof e.Ref === 'string') return e.Ref;
    if (Array.isArray(e['Fn::GetAtt'])) return e['Fn::GetAtt'][0];
    return undefined;
  }

  functions(): FunctionSpec[] {
    return this.ofType('AWS::Lambda::Function').map((logicalId) => {
      const r = this.resource(logicalId);
      const p = r.Properties;
      const assetPath = r.Metadata?.['aws:asset:path'];
      if (typeof assetPath !== 'string') throw new Error(`${logicalId} has no aws:asset:path: was the stack synthesized with bundling?`);
      const assetDir = join(this.assemblyDir, assetPath);
      if (!existsSync(assetDir)) throw new Error(`${logicalId}: asset folder ${assetDir} is missing`);
      const cdkPath = String(r.Metadata?.['aws:cdk:path'] ?? logicalId).split('/');
      const constructId = cdkPath.at(-1) === 'Resource' ? cdkPath.at(-2)! : cdkPath.at(-1)!;
      const roleLogicalId = StackModel.target(p.Role);
      if (!roleLogicalId) throw new Error(`${logicalId}: its Role is not a role of the template`);
      const logGroup = StackModel.target(p.LoggingConfig?.LogGroup);
      const physicalName = this.physicalName(logicalId);
      return {
        logicalId,
        name: kebab(constructId),
        physicalName,
        arn: this.arnOf(logicalId),
        assetDir,
        handler: String(p.Handler),
        timeoutSeconds: Number(p.Timeout ?? 3),
        memoryMb: Number(p.MemorySize ?? 128),
        roleLogicalId,
        environment: p.Environment?.Variables ?? {},
        logGroupName: logGroup ? this.physicalName(logGroup) : `/aws/lambda/${physicalName}`,
        tracingActive: p.TracingConfig?.Mode === 'Active',
      };
    });
  }
}
