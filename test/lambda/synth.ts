/**
 * Synthesizes the stack once for the suite (bundles included), in a Node process of its own,
 * and loads the template as a StackModel.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { HooklineSettings } from '../../infra/stack/settings.ts';
import { ACCOUNT, REGION, StackModel, type CfnTemplate } from './template.ts';

const HERE = dirname(fileURLToPath(import.meta.url));

export async function synthesize(outdir: string, stackName: string, settings: HooklineSettings): Promise<StackModel> {
  const props = { ...settings, env: { account: ACCOUNT, region: REGION } };
  const stdout = await new Promise<string>((resolve, reject) => {
    execFile(
      process.execPath,
      [join(HERE, 'synth-app.ts'), outdir, stackName, JSON.stringify(props)],
      { cwd: join(HERE, '..', '..'), maxBuffer: 64 * 1024 * 1024, env: { ...process.env, NODE_OPTIONS: '' } },
      (err, out, stderr) => (err ? reject(new Error(`synth failed: ${err.message}\n${stderr}`)) : resolve(out)),
    );
  });
  const { templateFile } = JSON.parse(stdout) as { templateFile: string };
  return new StackModel(JSON.parse(readFileSync(templateFile, 'utf8')) as CfnTemplate, dirname(templateFile), stackName);
}
