/**
 * `node test/lambda/synth-app.ts <outdir> <stack name> <props JSON>`: synthesizes the Hookline
 * stack with bundling, as `cdk synth` does (the feature flags of cdk.json included), into
 * `outdir`, and prints `{"templateFile": ...}`. Run in a process of its own by synth.ts: plain
 * Node loads aws-cdk-lib far faster than the test runner's module system does.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { PROJECT_ROOT } from '../../infra/stack/functions.ts';
import { HooklineStack, type HooklineStackProps } from '../../infra/stack/hookline-stack.ts';

const [outdir, stackName, propsJson] = process.argv.slice(2) as [string, string, string];
const cdkJson = JSON.parse(readFileSync(join(PROJECT_ROOT, 'cdk.json'), 'utf8')) as { context?: Record<string, unknown> };
// The feature flags `cdk synth` would apply; the hookline:* keys are the props, given below instead.
const flags = Object.fromEntries(Object.entries(cdkJson.context ?? {}).filter(([key]) => key.startsWith('@aws-cdk')));
// What the CLI adds: the asset folder and construct path of each resource in its Metadata. CDK's
// built-in CloudFormation validation (3 s) is left to test/infra/nag.test.ts, which asserts its report.
const app = new App({
  outdir,
  context: { ...flags, 'aws:cdk:enable-asset-metadata': true, 'aws:cdk:enable-path-metadata': true },
  builtinCloudFormationValidation: false,
});
const stack = new HooklineStack(app, stackName, JSON.parse(propsJson) as HooklineStackProps);
const assembly = app.synth();
const artifact = assembly.getStackByName(stack.stackName);
process.stdout.write(JSON.stringify({ templateFile: join(assembly.directory, artifact.templateFile) }));
