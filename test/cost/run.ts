/**
 * `npm run cost [-- options]`: a metered run of the real bundles through the Lambda suite's
 * harness (see scenarios.ts), priced from prices-us-east-1.json. Prints the breakdown per
 * function and operation, $ per million deliveries at fan-out 1 and 5 and per million failed
 * attempts, the fixed monthly costs and the targets; writes the same as JSON to
 * test-results/cost.json (and to stdout with --json), which `npm run capacity` reads.
 *
 * Options: --publishes N (200 publishes at fan-out 1, each --events-per-publish 10 events)
 *          --fanout5-publishes N (60) --failing-publishes N (30)
 *          --payload-kb K (1) --webhooks-per-tenant W (10, for the secrets target) --json
 *          --out FILE (test-results/cost.json)
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { analyse, loadPrices } from './analysis.ts';
import { formatCostReport } from './report.ts';
import { runScenarios } from './scenarios.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const COST_JSON = join(ROOT, 'test-results', 'cost.json');

/**
 * The default ladder's 5 attempts with short rungs, every one an SQS delay. The default's last
 * rung (an hour) hops through the queue 15 minutes at a time; its 3 extra hops are a batch's
 * share of a receive, a delete and a send each (see HOP_NOTE). Scheduler takes rungs of 2 hours
 * or more, which the default ladder has none of.
 */
const RUN_LADDER = [0, 1, 1, 1, 30];

const NOTES = [
  "Lambda's SQS pollers are billed SQS requests: they are counted as the receives and deletes the harness's event source mappings make with messages (empty long polls of a busy queue are left out; an idle queue's polling is in the fixed monthly cost).",
  'Durations are measured on this machine against local stand-ins (the meter\'s own reads of dynalite are subtracted); on Lambda each AWS call adds network latency, so GB-seconds here are a floor.',
  "A failed conditional write is billed the existing item's size (at least 1 unit) and writes no index; a put that replaces an item, or an update, the larger of the item before and after.",
  'Index entries are billed by their projected size; an update that moves an index key is a delete plus a put.',
  "Bytes logged: what each container writes, plus the Lambda platform's START/END/REPORT lines and the HTTP API's access log line (both built from the template's log format, not observed).",
  'SES: one email per webhook that turns failing, spread here over the failing scenario\'s attempts.',
  `The run's retry ladder is ${JSON.stringify(RUN_LADDER)} seconds: the default's 5 attempts, every rung an SQS delay. The default's hour-long rung takes 3 more 15-minute hops through the queue (a share of a receive, a delete, a send and an invocation each, about $0.14 per million hops: $0.08 per million failed attempts); a rung of 2 hours or more goes through EventBridge Scheduler ($1.00 per million plus its send).`,
];

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      publishes: { type: 'string', default: '200' },
      'fanout5-publishes': { type: 'string', default: '60' },
      'failing-publishes': { type: 'string', default: '30' },
      'events-per-publish': { type: 'string', default: '10' },
      'payload-kb': { type: 'string', default: '1' },
      'webhooks-per-tenant': { type: 'string', default: '10' },
      json: { type: 'boolean', default: false },
      out: { type: 'string', default: COST_JSON },
    },
  });
  const num = (name: keyof typeof values) => {
    const n = Number(values[name]);
    if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} must be a positive number`);
    return n;
  };
  const started = performance.now();
  const progress = (message: string) => process.stderr.write(`[cost ${((performance.now() - started) / 1000).toFixed(0).padStart(3)} s] ${message}\n`);
  const run = await runScenarios({
    publishes: Math.round(num('publishes')),
    fanout5Publishes: Math.round(num('fanout5-publishes')),
    failingPublishes: Math.round(num('failing-publishes')),
    eventsPerPublish: Math.round(num('events-per-publish')),
    payloadBytes: Math.round(num('payload-kb') * 1024),
    retryDelaysSeconds: RUN_LADDER,
    progress,
  });
  const problems = [
    ...run.meterErrors.slice(0, 5).map((e) => `the meter could not account for a call (${run.meterErrors.length} in all): ${e}`),
    ...run.functionErrors.slice(0, 5).map((e) => `a function failed in an event source mapping (${run.functionErrors.length} in all, retried by SQS and metered): ${e}`),
  ];
  const report = { ...analyse(run, loadPrices(), { webhooksPerTenant: num('webhooks-per-tenant') }), notes: [...problems, ...NOTES] };
  const document = {
    ...report,
    run: {
      options: { publishes: num('publishes'), fanout5Publishes: num('fanout5-publishes'), failingPublishes: num('failing-publishes'), eventsPerPublish: num('events-per-publish'), payloadKb: num('payload-kb') },
      wallSeconds: (performance.now() - started) / 1000,
      coldStartsMs: run.coldStartsMs,
    },
  };
  mkdirSync(dirname(values.out!), { recursive: true });
  writeFileSync(values.out!, `${JSON.stringify(document, null, 2)}\n`);
  if (values.json) process.stdout.write(`${JSON.stringify(document, null, 2)}\n`);
  else process.stdout.write(`${formatCostReport(report)}\n\nrun took ${document.run.wallSeconds.toFixed(0)} s; JSON in ${values.out}\n`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  });
}
