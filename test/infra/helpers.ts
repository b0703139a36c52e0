/**
 * Helpers for reading the synthesized template of the Hookline stack: logical ids of the
 * constructs and the IAM statements of each function's role.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AppProps, CfnElement, Stack } from 'aws-cdk-lib';
import { REPO_ROOT } from '../support/runtime.ts';
import type { Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';

/**
 * The feature flags of cdk.json (CDK's recommended set), which `cdk synth` and `cdk deploy` pass
 * as context: a stack built in a test must be the one the CLI builds.
 */
export const FEATURE_FLAGS: Record<string, unknown> = Object.fromEntries(
  Object.entries((JSON.parse(readFileSync(join(REPO_ROOT, 'cdk.json'), 'utf8')) as { context: Record<string, unknown> }).context).filter(([k]) =>
    k.startsWith('@aws-cdk'),
  ),
);

/**
 * App context that skips asset bundling (esbuild through npx, a few seconds per function): for
 * suites that only read the template. catalogue.test.ts bundles for real.
 */
export const NO_BUNDLING = { ...FEATURE_FLAGS, 'aws:cdk:bundling-stacks': [] as string[] };

/**
 * App props for suites that read the template: no bundling, and no CDK built-in CloudFormation
 * validation (a WebAssembly rule engine that took 3 of the 4 s of a synth in the test runner).
 * nag.test.ts synthesizes with that validation on, as `cdk synth` does, and asserts its report.
 */
export const TEMPLATE_ONLY: AppProps = { context: NO_BUNDLING, builtinCloudFormationValidation: false };

export interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}

/** The logical id of an L2 construct's CloudFormation resource. */
export function logicalId(stack: Stack, construct: IConstruct): string {
  const cfn = (construct.node.defaultChild ?? construct) as CfnElement;
  return stack.resolve(cfn.logicalId) as string;
}

export const asArray = <T>(v: T | T[]): T[] => (Array.isArray(v) ? v : [v]);

/** Every Allow statement of the policies attached to a role (by the role's logical id). */
export function statementsOfRole(template: Template, roleLogicalId: string): Statement[] {
  const policies = template.findResources('AWS::IAM::Policy');
  const statements: Statement[] = [];
  for (const policy of Object.values(policies)) {
    const roles = (policy.Properties.Roles as { Ref: string }[]).map((r) => r.Ref);
    if (roles.includes(roleLogicalId)) statements.push(...(policy.Properties.PolicyDocument.Statement as Statement[]));
  }
  return statements;
}

/**
 * The logical id a resource entry points at: `{Fn::GetAtt: [id, 'Arn']}`, `{Ref: id}`, or a
 * `Fn::Join` whose first reference is one of those (e.g. `<table arn>/index/*`).
 */
export function referencedId(resource: unknown): string | undefined {
  if (resource && typeof resource === 'object') {
    const r = resource as Record<string, unknown>;
    if (Array.isArray(r['Fn::GetAtt'])) return r['Fn::GetAtt'][0] as string;
    if (typeof r.Ref === 'string') return r.Ref;
    if (Array.isArray(r['Fn::Join'])) {
      for (const part of (r['Fn::Join'] as [string, unknown[]])[1]) {
        const id = referencedId(part);
        if (id && !id.startsWith('AWS::')) return id;
      }
    }
  }
  return undefined;
}

/** Flattens a resource to a string, pseudo parameters as `<AWS::Region>` etc. */
export function flatten(resource: unknown): string {
  if (typeof resource === 'string') return resource;
  const r = resource as Record<string, unknown>;
  if (Array.isArray(r['Fn::Join'])) {
    const [sep, parts] = r['Fn::Join'] as [string, unknown[]];
    return parts.map(flatten).join(sep);
  }
  if (typeof r.Ref === 'string') return `<${r.Ref}>`;
  if (Array.isArray(r['Fn::GetAtt'])) return `<${(r['Fn::GetAtt'] as string[]).join('.')}>`;
  return JSON.stringify(resource);
}

/** Actions granted per referenced logical id (table, queue, secret), for one role. */
export function actionsByTarget(statements: Statement[]): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const st of statements) {
    for (const resource of asArray(st.Resource)) {
      const key = referencedId(resource) ?? flatten(resource);
      const set = out.get(key) ?? new Set<string>();
      for (const action of asArray(st.Action)) set.add(action);
      out.set(key, set);
    }
  }
  return out;
}
