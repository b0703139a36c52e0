/**
 * CDK app: `npx cdk synth` (cdk.json runs this file with Node's type stripping). The stack's
 * settings come from context (`hookline:*` keys in cdk.json, or `-c hookline:key=value`), and
 * every synth runs the cdk-nag AwsSolutions and Serverless checks: an unacknowledged error fails
 * the synth, warnings are printed. Acknowledgements sit on the construct they concern, each with
 * its reason (test/infra/nag.test.ts keeps them honest).
 */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import { HooklineStack } from './stack/hookline-stack.ts';
import { CONTEXT, settingsFromContext } from './stack/context.ts';

const app = new App();
new HooklineStack(app, String(app.node.tryGetContext(CONTEXT.stackName) || 'Hookline'), {
  description: 'Hookline webhook delivery pipeline',
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
  ...settingsFromContext(app.node),
});
Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new ServerlessChecks(app));
