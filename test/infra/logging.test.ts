/**
 * Logs and traces of the functions: JSON logs with Lambda's own lines from WARN up, the
 * application's level left to the code, and no X-Ray at all (no half-on tracing: active tracing
 * without a Tracer in the code, and the xray grants that come with it).
 */
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { FUNCTION_NAMES } from '../../infra/stack/functions.ts';
import { HooklineStack } from '../../infra/stack/hookline-stack.ts';
import { TEMPLATE_ONLY, asArray, logicalId } from './helpers.ts';

let stack: HooklineStack;
let template: Template;

beforeAll(() => {
  const app = new App(TEMPLATE_ONLY);
  stack = new HooklineStack(app, 'HooklineLogging', { env: { account: '123456789012', region: 'eu-west-1' } });
  template = Template.fromStack(stack);
});

/** Every Lambda function of the stack, by logical id. */
const functions = (): [string, Record<string, any>][] =>
  Object.entries(template.findResources('AWS::Lambda::Function')).map(([id, r]) => [id, r.Properties as Record<string, any>]);

describe('function logs', () => {
  it('the stack has exactly the Hookline functions, so the checks below cover every function', () => {
    const ids = functions().map(([id]) => id).sort();
    const expected = FUNCTION_NAMES.map((name) => logicalId(stack, stack.pipeline.functions.byName[name])).sort();
    expect(ids).toEqual(expected);
  });

  it('every function logs JSON, Lambda\'s own lines from WARN up, into its own log group', () => {
    for (const name of FUNCTION_NAMES) {
      const fn = stack.pipeline.functions.byName[name];
      const props = template.toJSON().Resources[logicalId(stack, fn)].Properties;
      expect({ name, logging: props.LoggingConfig }).toEqual({
        name,
        logging: { LogFormat: 'JSON', SystemLogLevel: 'WARN', LogGroup: { Ref: logicalId(stack, stack.pipeline.functions.logGroups[name]) } },
      });
    }
  });

  it('no function sets an application log level: the code decides it (shared/logging.ts)', () => {
    for (const [id, props] of functions()) expect({ id, level: props.LoggingConfig?.ApplicationLogLevel }).toEqual({ id, level: undefined });
  });
});

describe('no X-Ray', () => {
  it('no function has active tracing', () => {
    for (const [id, props] of functions()) {
      expect({ id, mode: props.TracingConfig?.Mode ?? 'none' }).not.toEqual({ id, mode: 'Active' });
    }
  });

  it('no role may call X-Ray, nor has an X-Ray managed policy', () => {
    const xray: string[] = [];
    for (const [id, policy] of Object.entries(template.findResources('AWS::IAM::Policy'))) {
      for (const st of policy.Properties.PolicyDocument.Statement as { Action: string | string[] }[]) {
        for (const action of asArray(st.Action)) if (/^xray:/i.test(action)) xray.push(`${id}: ${action}`);
      }
    }
    for (const [id, role] of Object.entries(template.findResources('AWS::IAM::Role'))) {
      const inline = (role.Properties.Policies ?? []) as { PolicyDocument: { Statement: { Action: string | string[] }[] } }[];
      for (const p of inline) for (const st of p.PolicyDocument.Statement) for (const a of asArray(st.Action)) if (/^xray:/i.test(a)) xray.push(`${id}: ${a}`);
      if (/XRay/i.test(JSON.stringify(role.Properties.ManagedPolicyArns ?? []))) xray.push(`${id}: an X-Ray managed policy`);
    }
    expect(xray).toEqual([]);
  });
});
