/**
 * IAM as the Lambda suite plays it: the identity-based policies the template attaches to a role
 * (`AWS::IAM::Policy` and `AWS::IAM::ManagedPolicy` resources naming the role, the role's inline
 * `Policies`), their resources resolved to concrete ARNs, evaluated the way IAM does for one
 * account: an explicit Deny wins, else some Allow must match the action, the resource and the
 * conditions. Every grant (statement x action x resource) that allowed a call is recorded, so
 * the grants no call used can be listed.
 */
import { ACCOUNT, PARTITION, REGION, StackModel } from './template.ts';

export type ConditionContext = Readonly<Record<string, string | readonly string[]>>;

/** One authorization IAM makes for a call: a call may need several (a batch over two tables). */
export interface AccessRequest {
  readonly action: string;
  readonly resource: string;
  readonly context?: ConditionContext;
}

/** One allowed action on one resource pattern, from one statement. */
export interface Grant {
  readonly key: string;
  readonly roleLogicalId: string;
  readonly policy: string;
  readonly statement: number;
  readonly action: string;
  readonly resource: string;
}

interface PolicyStatement {
  readonly Effect: 'Allow' | 'Deny';
  readonly Action?: string | string[];
  readonly NotAction?: string | string[];
  readonly Resource?: unknown;
  readonly NotResource?: unknown;
  readonly Condition?: Record<string, Record<string, unknown>>;
  readonly Principal?: unknown;
}

interface ResolvedStatement {
  readonly policy: string;
  readonly index: number;
  readonly effect: 'Allow' | 'Deny';
  readonly actions: string[];
  readonly notActions: string[];
  readonly resources: string[];
  readonly notResources: string[];
  readonly condition?: Record<string, Record<string, string[]>>;
  readonly principal?: unknown;
}

const asList = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

const globCache = new Map<string, RegExp>();
/** IAM's wildcards: `*` any run of characters, `?` one character. */
export function globMatch(pattern: string, value: string, ignoreCase = false): boolean {
  const key = `${ignoreCase ? 'i' : 's'}${pattern}`;
  let re = globCache.get(key);
  if (!re) {
    const body = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
    re = new RegExp(`^${body}$`, ignoreCase ? 'is' : 's');
    globCache.set(key, re);
  }
  return re.test(value);
}

/** `arn:aws:dynamodb:us-east-1:000000000000:table/x` -> `table/x`, for tables of grants. */
export function shortArn(arn: string): string {
  return arn.replace(new RegExp(`^arn:${PARTITION}:[a-z0-9-]+:(${REGION})?:(${ACCOUNT})?:`), '');
}

function resolveStatement(model: StackModel, policy: string, index: number, st: PolicyStatement): ResolvedStatement {
  const ctx = { sqsOrigin: 'http://queue-urls-are-not-in-policies' };
  const strings = (v: unknown) => asList(model.resolve(v, ctx) as string | string[]).map(String);
  const condition = st.Condition
    ? Object.fromEntries(
        Object.entries(st.Condition).map(([op, keys]) => [
          op,
          Object.fromEntries(Object.entries(keys).map(([k, v]) => [k, strings(v)])),
        ]),
      )
    : undefined;
  return {
    policy,
    index,
    effect: st.Effect,
    actions: asList(st.Action),
    notActions: asList(st.NotAction),
    resources: strings(st.Resource),
    notResources: strings(st.NotResource),
    ...(condition ? { condition } : {}),
    ...(st.Principal === undefined ? {} : { principal: model.resolve(st.Principal, ctx) }),
  };
}

function conditionHolds(condition: ResolvedStatement['condition'], context: ConditionContext = {}): boolean {
  if (!condition) return true;
  return Object.entries(condition).every(([rawOp, keys]) => {
    if (/^For(Any|All)Value:/.test(rawOp)) throw new Error(`IAM condition operator ${rawOp} is not supported by the Lambda suite`);
    const ifExists = rawOp.endsWith('IfExists');
    const op = ifExists ? rawOp.slice(0, -'IfExists'.length) : rawOp;
    return Object.entries(keys).every(([key, expected]) => {
      const present = context[key];
      if (op === 'Null') return expected.some((e) => (e === 'true') === (present === undefined));
      if (present === undefined) return ifExists;
      const actual = asList(present as string | string[]);
      const anyMatch = (test: (e: string, a: string) => boolean) => actual.some((a) => expected.some((e) => test(e, a)));
      switch (op) {
        case 'StringEquals':
        case 'ArnEquals':
          return anyMatch((e, a) => e === a);
        case 'StringEqualsIgnoreCase':
          return anyMatch((e, a) => e.toLowerCase() === a.toLowerCase());
        case 'StringNotEquals':
        case 'ArnNotEquals':
          return !anyMatch((e, a) => e === a);
        case 'StringLike':
        case 'ArnLike':
          return anyMatch((e, a) => globMatch(e, a));
        case 'StringNotLike':
        case 'ArnNotLike':
          return !anyMatch((e, a) => globMatch(e, a));
        case 'Bool':
          return anyMatch((e, a) => e.toLowerCase() === a.toLowerCase());
        default:
          throw new Error(`IAM condition operator ${rawOp} is not supported by the Lambda suite`);
      }
    });
  });
}

function statementApplies(st: ResolvedStatement, request: AccessRequest): { actions: string[]; resources: string[] } | undefined {
  const actions = st.actions.filter((a) => globMatch(a, request.action, true));
  if (st.actions.length > 0 ? actions.length === 0 : st.notActions.some((a) => globMatch(a, request.action, true))) return undefined;
  const resources = st.resources.filter((r) => globMatch(r, request.resource));
  if (st.resources.length > 0 ? resources.length === 0 : st.notResources.some((r) => globMatch(r, request.resource))) return undefined;
  if (!conditionHolds(st.condition, request.context)) return undefined;
  return { actions, resources };
}

export interface Decision {
  readonly allowed: boolean;
  /** The grants that allowed it (every matching one: each counts as used). */
  readonly grants: readonly Grant[];
  readonly explicitDeny: boolean;
}

/** The identity-based policies of one role of the template. */
export class RolePolicies {
  readonly roleLogicalId: string;
  readonly roleArn: string;
  readonly roleName: string;
  private readonly statements: ResolvedStatement[] = [];

  constructor(model: StackModel, roleLogicalId: string) {
    this.roleLogicalId = roleLogicalId;
    this.roleArn = model.arnOf(roleLogicalId);
    this.roleName = model.physicalName(roleLogicalId);
    const role = model.resource(roleLogicalId);
    if (role.Type !== 'AWS::IAM::Role') throw new Error(`${roleLogicalId} is not an AWS::IAM::Role`);
    const names = (list: unknown) => asList(list as unknown[]).map((r) => StackModel.target(r) ?? r);
    const add = (policy: string, document: { Statement?: PolicyStatement | PolicyStatement[] } | undefined) => {
      asList(document?.Statement).forEach((st, i) => this.statements.push(resolveStatement(model, policy, i, st)));
    };
    for (const id of [...model.ofType('AWS::IAM::Policy'), ...model.ofType('AWS::IAM::ManagedPolicy')]) {
      const p = model.resource(id).Properties;
      if (names(p.Roles).includes(roleLogicalId)) add(id, p.PolicyDocument);
    }
    for (const inline of asList(role.Properties?.Policies as { PolicyName: string; PolicyDocument: any }[])) {
      add(`${roleLogicalId}/${inline.PolicyName}`, inline.PolicyDocument);
    }
    for (const managed of asList(role.Properties?.ManagedPolicyArns as unknown[])) {
      const id = StackModel.target(managed);
      if (!id || model.resource(id).Type !== 'AWS::IAM::ManagedPolicy') {
        throw new Error(`${roleLogicalId} has a managed policy outside the template (${JSON.stringify(managed)}): the Lambda suite cannot evaluate it`);
      }
    }
  }

  /** Every Allow statement x action x resource of the role. */
  grants(): Grant[] {
    return this.statements
      .filter((st) => st.effect === 'Allow')
      .flatMap((st) => st.actions.flatMap((action) => st.resources.map((resource) => this.grant(st, action, resource))));
  }

  evaluate(request: AccessRequest): Decision {
    const grants: Grant[] = [];
    let explicitDeny = false;
    for (const st of this.statements) {
      const match = statementApplies(st, request);
      if (!match) continue;
      if (st.effect === 'Deny') explicitDeny = true;
      else for (const action of match.actions) for (const resource of match.resources) grants.push(this.grant(st, action, resource));
    }
    return { allowed: !explicitDeny && grants.length > 0, grants, explicitDeny };
  }

  private grant(st: ResolvedStatement, action: string, resource: string): Grant {
    return { key: `${st.policy}#${st.index}|${action}|${resource}`, roleLogicalId: this.roleLogicalId, policy: st.policy, statement: st.index, action, resource };
  }
}

/**
 * Explicit Deny statements of resource-based policies (an `AWS::SQS::QueuePolicy` with
 * `enforceSSL`, for one): within one account an identity-based Allow is enough, but a resource
 * policy's Deny still refuses.
 */
export class ResourcePolicies {
  private readonly byResource = new Map<string, ResolvedStatement[]>();

  constructor(model: StackModel) {
    for (const id of model.ofType('AWS::SQS::QueuePolicy')) {
      const p = model.resource(id).Properties;
      const statements = asList(p.PolicyDocument?.Statement as PolicyStatement[]).map((st, i) => resolveStatement(model, id, i, st));
      for (const queue of asList(p.Queues as unknown[])) {
        const queueId = StackModel.target(queue);
        if (!queueId) continue;
        const arn = model.arnOf(queueId);
        this.byResource.set(arn, [...(this.byResource.get(arn) ?? []), ...statements]);
      }
    }
  }

  /** The id of the resource policy whose Deny applies to the request of `principalArn`, if any. */
  denial(request: AccessRequest, principalArn: string): string | undefined {
    for (const st of this.byResource.get(request.resource) ?? []) {
      if (st.effect === 'Deny' && principalMatches(st.principal, principalArn) && statementApplies(st, request)) return `${st.policy}#${st.index}`;
    }
    return undefined;
  }
}

/** Whether a resource policy's `Principal` names a role (`*`, `{AWS: '*'}` or the role's ARN). */
function principalMatches(principal: unknown, roleArn: string): boolean {
  if (principal === '*') return true;
  if (!principal || typeof principal !== 'object') return false;
  return asList((principal as { AWS?: string | string[] }).AWS).some((p) => p === '*' || p === roleArn || p === `arn:${PARTITION}:iam::${ACCOUNT}:root`);
}

/** Who asked: a function's code, or the service acting with its role (its event source mapping). */
export interface Denial {
  readonly principal: string;
  readonly action: string;
  readonly resource: string;
  /** e.g. `dynamodb PutItem`, `event source mapping`, `lambda service (logs)`. */
  readonly via: string;
  readonly reason: string;
}

/** What every authorization of a harness decided: the grants used and the denials. */
export class AccessLog {
  readonly used = new Set<string>();
  readonly denials: Denial[] = [];
  readonly calls: { principal: string; via: string; action: string; resource: string; allowed: boolean }[] = [];

  /** Authorizes `requests` for `principal` with `policies`; records grants used and denials. */
  authorize(
    principal: string,
    via: string,
    policies: RolePolicies,
    requests: readonly AccessRequest[],
    resourcePolicies?: ResourcePolicies,
  ): Denial | undefined {
    let first: Denial | undefined;
    for (const request of requests) {
      const decision = policies.evaluate(request);
      const resourceDeny = resourcePolicies?.denial(request, policies.roleArn);
      const allowed = decision.allowed && !resourceDeny;
      for (const g of decision.grants) this.used.add(g.key);
      this.calls.push({ principal, via, action: request.action, resource: request.resource, allowed });
      if (!allowed) {
        const reason = resourceDeny
          ? `explicit deny in a resource-based policy (${resourceDeny})`
          : decision.explicitDeny
            ? 'explicit deny in an identity-based policy'
            : `no identity-based policy allows the ${request.action} action`;
        const denial = { principal, action: request.action, resource: request.resource, via, reason };
        this.denials.push(denial);
        first ??= denial;
      }
    }
    return first;
  }
}

export const describeDenial = (d: Denial) => `${d.principal}: ${d.action} on ${d.resource} (${d.via}; ${d.reason})`;

/**
 * Whether a role's trust policy lets `service` (e.g. `scheduler.amazonaws.com`) assume it, with
 * the request context the service sends (`aws:SourceArn`, `aws:SourceAccount`).
 */
export function trustAllows(model: StackModel, roleLogicalId: string, service: string, context: ConditionContext): boolean {
  const document = model.resource(roleLogicalId).Properties?.AssumeRolePolicyDocument;
  const statements = asList(document?.Statement as PolicyStatement[]).map((st, i) => resolveStatement(model, `${roleLogicalId}/trust`, i, st));
  const request: AccessRequest = { action: 'sts:AssumeRole', resource: model.arnOf(roleLogicalId), context };
  const trusts = (st: ResolvedStatement) => {
    const services = asList((st.principal as { Service?: string | string[] } | undefined)?.Service);
    return services.includes(service) && st.actions.some((a) => globMatch(a, request.action, true)) && conditionHolds(st.condition, context);
  };
  return statements.some((st) => st.effect === 'Allow' && trusts(st)) && !statements.some((st) => st.effect === 'Deny' && trusts(st));
}
