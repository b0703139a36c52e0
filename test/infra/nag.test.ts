/**
 * cdk-nag: the AwsSolutions and Serverless packs (the two infra/app.ts runs on every synth) find
 * nothing that is not acknowledged, and every acknowledgement has a reason and answers a finding
 * that really exists, on the construct that has it.
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
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import type { NagPack } from 'cdk-nag';
import { HooklineStack } from '../../infra/stack/hookline-stack.ts';
import { NO_BUNDLING } from './helpers.ts';

/** The packs of infra/app.ts, by the prefix of their rule ids (and their plugin name). */
const PACKS: { prefix: string; create: () => NagPack }[] = [
  { prefix: 'AwsSolutions', create: () => new AwsSolutionsChecks() },
  { prefix: 'Serverless', create: () => new ServerlessChecks() },
];

interface Ack {
  path: string;
  id: string;
  reason: string;
}

let app: App;
let stack: HooklineStack;
let assemblyDir: string;

beforeAll(() => {
  app = new App({ context: NO_BUNDLING });
  // Every optional resource: the alarm email subscription and the SES identity.
  stack = new HooklineStack(app, 'HooklineNag', {
    env: { account: '123456789012', region: 'eu-west-1' },
    alarmEmail: 'oncall@example.com',
    senderEmail: 'hooks@example.com',
    createEmailIdentity: true,
    publicUrl: 'https://hooks.example.com',
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new ServerlessChecks(app));
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

/** Every finding of a pack, acknowledgements ignored. */
function allFindings(pack: NagPack) {
  Object.defineProperty(pack, 'isAcknowledged', { value: () => false });
  return pack.validateScope(stack).violations;
}

describe.each(PACKS)('cdk-nag $prefix', ({ prefix, create }) => {
  it('reports no unacknowledged error or warning in the validation report of the synth', () => {
    const report = JSON.parse(readFileSync(join(assemblyDir, 'validation-report.json'), 'utf8')) as {
      pluginReports: { pluginName: string; violations: unknown[] }[];
    };
    // A plugin without violations adds no report at all.
    const nag = report.pluginReports.filter((r) => r.pluginName === prefix);
    expect(nag.flatMap((r) => r.violations)).toEqual([]);
  });

  it('finds nothing unacknowledged when run on the stack directly', () => {
    const result = create().validateScope(stack);
    expect(result.violations.map((v) => `${v.severity} ${v.ruleName}`)).toEqual([]);
  });

  it(`leaves no ${prefix} error or warning annotation`, () => {
    const annotations = Annotations.fromStack(stack);
    expect(annotations.findError('*', Match.stringLikeRegexp(`${prefix}-.*`))).toEqual([]);
    expect(annotations.findWarning('*', Match.stringLikeRegexp(`${prefix}-.*`))).toEqual([]);
  });

  it('acknowledges every finding it has, on the construct that has it or an ancestor below the stack', () => {
    // The pack with acknowledgements ignored finds something, and each such finding is covered.
    const findings = allFindings(create());
    const acks = acknowledgements().filter((a) => a.id.startsWith(`${prefix}-`));
    for (const finding of findings) {
      for (const resource of finding.violatingResources) {
        const covered = acks.some((a) => a.id === finding.ruleName && resource.constructPath?.startsWith(`${a.path}/`));
        expect({ finding: finding.ruleName, at: resource.constructPath, covered }).toEqual({
          finding: finding.ruleName,
          at: resource.constructPath,
          covered: true,
        });
      }
    }
  });

  it('acknowledges only findings that exist, on the construct that has them', () => {
    const findings = allFindings(create());
    for (const ack of acknowledgements().filter((a) => a.id.startsWith(`${prefix}-`))) {
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
});

describe('acknowledgements', () => {
  it('each have a reason', () => {
    const acks = acknowledgements();
    expect(acks.length).toBeGreaterThan(0);
    for (const ack of acks) {
      expect(ack.reason.trim().length).toBeGreaterThan(40);
    }
  });

  it('all belong to a pack that runs', () => {
    for (const ack of acknowledgements()) {
      expect({ id: ack.id, known: PACKS.some((p) => ack.id.startsWith(`${p.prefix}-`)) }).toEqual({ id: ack.id, known: true });
    }
  });

  it('sit on no construct above the one concerned: not the app, the stack, the pipeline, or a whole group', () => {
    const pipeline = stack.pipeline.node.path;
    for (const ack of acknowledgements()) {
      expect(ack.path.startsWith(`${pipeline}/`)).toBe(true);
      // Functions, Queues, Api, Tables, Retries, Alarms group many resources; an acknowledgement
      // there would cover findings nobody looked at.
      expect(['Functions', 'Queues', 'Api', 'Tables', 'Retries', 'Alarms']).not.toContain(ack.path.slice(pipeline.length + 1));
    }
  });
});
