/**
 * cdk-nag: the AwsSolutions pack finds nothing that is not acknowledged, and every
 * acknowledgement has a reason and answers a finding that really exists.
 *
 * cdk-nag 3 is a CDK policy-validation plugin: its findings go to the cloud assembly's
 * validation report (an error fails the synth), not to construct annotations. So this file
 * checks the report and the pack's own result, and the annotations as well in case a rule
 * reports through them.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, Validations } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { HooklineStack } from '../../infra/stack/hookline-stack.ts';

interface Ack {
  path: string;
  id: string;
  reason: string;
}

let app: App;
let stack: HooklineStack;
let assemblyDir: string;

beforeAll(() => {
  app = new App();
  stack = new HooklineStack(app, 'HooklineNag', { env: { account: '123456789012', region: 'eu-west-1' } });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  // Throws "Validation failed" if the pack reports an unacknowledged error.
  assemblyDir = app.synth().directory;
});

function acknowledgements(): Ack[] {
  const acks: Ack[] = [];
  for (const construct of stack.node.findAll()) {
    for (const entry of construct.node.metadata) {
      if (entry.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
      for (const [id, reason] of Object.entries(entry.data as Record<string, string>)) {
        acks.push({ path: construct.node.path, id: id.replace(/^annotation::/i, ''), reason });
      }
    }
  }
  return acks;
}

describe('cdk-nag AwsSolutions', () => {
  it('reports no unacknowledged error or warning in the validation report of the synth', () => {
    const report = JSON.parse(readFileSync(join(assemblyDir, 'validation-report.json'), 'utf8')) as {
      pluginReports: { pluginName: string; violations: unknown[] }[];
    };
    const nag = report.pluginReports.filter((r) => r.pluginName === 'AwsSolutions');
    expect(nag.flatMap((r) => r.violations)).toEqual([]);
  });

  it('finds nothing unacknowledged when run on the stack directly', () => {
    const result = new AwsSolutionsChecks().validateScope(stack);
    expect(result.violations.map((v) => `${v.severity} ${v.ruleName}`)).toEqual([]);
  });

  it('leaves no AwsSolutions error or warning annotation', () => {
    const annotations = Annotations.fromStack(stack);
    expect(annotations.findError('*', Match.stringLikeRegexp('AwsSolutions-.*'))).toEqual([]);
    expect(annotations.findWarning('*', Match.stringLikeRegexp('AwsSolutions-.*'))).toEqual([]);
  });

  it('gives every acknowledgement a reason', () => {
    const acks = acknowledgements();
    expect(acks.length).toBeGreaterThan(0);
    for (const ack of acks) {
      expect(ack.reason.trim().length).toBeGreaterThan(40);
    }
  });

  it('acknowledges only findings that exist, on the construct that has them', () => {
    // The same pack with acknowledgements ignored: every finding there is.
    const raw = new AwsSolutionsChecks();
    Object.defineProperty(raw, 'isAcknowledged', { value: () => false });
    const findings = raw.validateScope(stack).violations;
    for (const ack of acknowledgements().filter((a) => a.id.startsWith('AwsSolutions-'))) {
      const finding = findings.find((v) => v.ruleName === ack.id);
      expect({ ack: ack.id, found: !!finding }).toEqual({ ack: ack.id, found: true });
      const paths = finding!.violatingResources.map((r) => r.constructPath);
      expect({ ack: ack.id, at: ack.path, covers: paths.some((p) => p?.startsWith(`${ack.path}/`)) }).toEqual({
        ack: ack.id,
        at: ack.path,
        covers: true,
      });
    }
  });

  it('acknowledges nothing at the app or stack level', () => {
    for (const ack of acknowledgements()) expect(ack.path.split('/').length).toBeGreaterThan(1);
  });
});
