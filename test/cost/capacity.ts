/**
 * `npm run capacity -- --events-per-second 10000 --fanout 5 --payload-kb 1 --failing 0.05`: the
 * load model of capacity-model.ts, fed by what `npm run cost` measured (test-results/cost.json;
 * the cost run is made first when that file is missing or was measured at another payload size).
 * Prints each resource's load against its quota and the stack prop that sets it, the first
 * bottleneck, and whether every resource stays under the goal (50%). --json prints the result as
 * JSON; it is also written to test-results/capacity.json.
 *
 * Other options: --tenant-events-per-second (2000, the hottest tenant), --webhooks (10000),
 * --tenants (1000), --cost FILE, --quotas FILE, and --props FILE: stack props (`{"props": {...}}`,
 * e.g. test/cost/goal-props.json) the stack is synthesized with and judged by, instead of the
 * cost run's defaults (the calls per event are still the cost run's).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { DEFAULT_RETRY_DELAYS } from '../../shared/config.ts';
import { capacity, type CapacityResult, type Measured, type Quotas } from './capacity-model.ts';
import type { HooklineSettings } from '../../infra/stack/settings.ts';
import { synthesize } from '../lambda/synth.ts';
import { heading, pct, qty, table } from './format.ts';
import { COST_JSON } from './run.ts';
import { describeStack, type StackInfo } from './stack.ts';

const HERE = dirname(fileURLToPath(import.meta.url));
const QUOTAS_FILE = join(HERE, 'quotas-us-east-1.json');

export function formatCapacity(r: CapacityResult, quotasDate: string): string {
  const l = r.load;
  const rows = [...r.rows]
    .sort((a, b) => (Number.isFinite(b.usage) ? b.usage : -1) - (Number.isFinite(a.usage) ? a.usage : -1))
    .map((x) => [x.resource, qty(x.load), Number.isFinite(x.quota) ? qty(x.quota) : '-', x.unit, Number.isFinite(x.usage) ? pct(x.usage) : '-', x.usage >= r.goalUsage ? 'OVER' : '', x.setBy, x.note ?? '']);
  return [
    heading(`Capacity at ${l.eventsPerSecond} events/s, fan-out ${l.fanout}, ${pct(l.failing)} of deliveries failing, hottest tenant ${l.tenantEventsPerSecond} events/s (quotas of ${quotasDate})`),
    table(['resource', 'load', 'quota', 'unit', 'usage', '', 'set by', 'how'], rows, ['left', 'right', 'right', 'left', 'right', 'left', 'left', 'left']),
    '',
    r.firstBottleneck ? `first bottleneck: ${r.firstBottleneck.resource} at ${pct(r.firstBottleneck.usage)} of ${qty(r.firstBottleneck.quota)} ${r.firstBottleneck.unit} (set by: ${r.firstBottleneck.setBy})` : 'first bottleneck: none',
    `goal (every resource under ${pct(r.goalUsage)} of its quota): ${r.met ? 'met' : 'NOT MET'} (${r.rows.filter((x) => x.usage >= r.goalUsage).length} resource(s) over)`,
    'Durations are this machine\'s with receivers answering at once: on Lambda, network latency and slow receivers raise the concurrencies.',
  ].join('\n');
}

/** The stack synthesized with `props` (bundles included, as the cost run's), described as the model reads it. */
async function stackWith(props: Partial<HooklineSettings>): Promise<StackInfo> {
  const dir = mkdtempSync(join(tmpdir(), 'hookline-capacity-'));
  try {
    return describeStack(await synthesize(join(dir, 'cdk.out'), 'Hookline', { senderEmail: 'hookline@example.com', ...props }));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      'events-per-second': { type: 'string', default: '10000' },
      fanout: { type: 'string', default: '5' },
      'payload-kb': { type: 'string', default: '1' },
      failing: { type: 'string', default: '0.05' },
      'tenant-events-per-second': { type: 'string', default: '2000' },
      webhooks: { type: 'string', default: '10000' },
      tenants: { type: 'string', default: '1000' },
      cost: { type: 'string', default: COST_JSON },
      quotas: { type: 'string', default: QUOTAS_FILE },
      props: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  });
  const num = (name: keyof typeof values, min = 0) => {
    const n = Number(values[name]);
    if (!Number.isFinite(n) || n < min) throw new Error(`--${name} must be a number >= ${min}`);
    return n;
  };
  const payloadKb = num('payload-kb', 0.001);
  const costFile = values.cost!;
  const measuredAt = existsSync(costFile) ? (JSON.parse(readFileSync(costFile, 'utf8')).run?.options?.payloadKb as number | undefined) : undefined;
  if (measuredAt !== payloadKb) {
    process.stderr.write(`[capacity] ${measuredAt === undefined ? `no ${costFile}` : `${costFile} was measured at ${measuredAt} KB`}: running npm run cost -- --payload-kb ${payloadKb}\n`);
    execFileSync(process.execPath, [join(HERE, 'run.ts'), '--payload-kb', String(payloadKb), '--out', costFile, '--json'], { stdio: ['ignore', 'ignore', 'inherit'] });
  }
  const cost = JSON.parse(readFileSync(costFile, 'utf8')) as Measured & { generatedAt: string };
  const props = values.props ? (JSON.parse(readFileSync(values.props, 'utf8')) as { props: Partial<HooklineSettings> }).props : undefined;
  const measured = props ? { ...cost, stack: await stackWith(props) } : cost;
  const quotas = JSON.parse(readFileSync(values.quotas!, 'utf8')) as Quotas;
  const result = capacity(
    measured,
    {
      eventsPerSecond: num('events-per-second', 0.001),
      fanout: num('fanout', 1),
      failing: Math.min(1, num('failing')),
      tenantEventsPerSecond: Math.min(num('tenant-events-per-second'), num('events-per-second')),
      webhooks: num('webhooks'),
      tenants: num('tenants', 1),
      ladderSeconds: DEFAULT_RETRY_DELAYS.reduce((sum: number, d: number) => sum + d, 0),
    },
    quotas,
  );
  const out = join(dirname(costFile), 'capacity.json');
  mkdirSync(dirname(out), { recursive: true });
  const document = { ...result, measuredAt: measured.generatedAt, quotasDate: quotas.date, ...(props ? { props } : {}) };
  writeFileSync(out, `${JSON.stringify(document, null, 2)}\n`);
  const withProps = props ? `; stack props from ${values.props}: ${JSON.stringify(props)}` : '; stack props: the defaults';
  process.stdout.write(values.json ? `${JSON.stringify(document, null, 2)}\n` : `${formatCapacity(result, quotas.date)}\n(cost measured ${measured.generatedAt}${withProps}; JSON in ${out})\n`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
