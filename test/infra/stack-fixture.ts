/**
 * The synthesized Hookline stack with default props, shared by the stack tests: one synth per
 * file (TEMPLATE_ONLY: no bundling, no built-in validation; only the template is read). Call
 * `synthDefaultStack()` at the top of a test file; `stack` and `template` are set before its tests.
 */
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { TABLES } from '../../shared/adapters/aws/tables.ts';
import type { FunctionName } from '../../infra/stack/functions.ts';
import { HooklineStack } from '../../infra/stack/hookline-stack.ts';
import { TEMPLATE_ONLY, logicalId, statementsOfRole } from './helpers.ts';
import type { Statement } from './helpers.ts';

export let stack: HooklineStack;
export let template: Template;

export function synthDefaultStack(): void {
  beforeAll(() => {
    const app = new App(TEMPLATE_ONLY);
    stack = new HooklineStack(app, 'HooklineTest', { env: { account: '123456789012', region: 'eu-west-1' } });
    template = Template.fromStack(stack);
  });
}

export const fnId = (name: FunctionName) => logicalId(stack, stack.pipeline.functions.byName[name]);
export const roleId = (name: FunctionName) => logicalId(stack, stack.pipeline.functions.byName[name].role!);
export const fnProps = (name: FunctionName) => template.toJSON().Resources[fnId(name)].Properties;
export const statements = (name: FunctionName): Statement[] => statementsOfRole(template, roleId(name));
export const tableId = (key: keyof typeof TABLES) => logicalId(stack, stack.pipeline.tables.all[key][0]!);
