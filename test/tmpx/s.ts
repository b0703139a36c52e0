import { App } from 'aws-cdk-lib';
const t0 = Date.now();
const { HooklineStack } = await import('../../infra/stack/hookline-stack.ts');
const t1 = Date.now();
const app = new App({ outdir: process.argv[2], builtinCloudFormationValidation: false });
new HooklineStack(app, 'H', { allowPrivateTargets: true, env: { account: '123456789012', region: 'eu-west-1' } });
const t2 = Date.now();
app.synth();
console.log('import', t1 - t0, 'construct', t2 - t1, 'synth', Date.now() - t2);
