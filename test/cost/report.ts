/** The cost report as text: each scenario's breakdown, the totals, the fixed monthly costs, the targets. */
import type { CostReport, ScenarioCost } from './analysis.ts';
import { heading, qty, table, usd } from './format.ts';

const SERVICE_NAMES: Record<string, string> = {
  dynamodb: 'DynamoDB',
  sqs: 'SQS',
  lambda: 'Lambda',
  apigateway: 'API Gateway',
  secretsmanager: 'Secrets Manager',
  scheduler: 'Scheduler',
  ses: 'SES',
  logs: 'CloudWatch Logs',
};
const service = (s: string) => SERVICE_NAMES[s] ?? s;

function breakdown(s: ScenarioCost): string {
  const per = s.unit === 'delivery' ? 'delivery' : 'failed attempt';
  const rows = s.lines
    .filter((l) => l.priced && l.quantity > 0)
    .map((l) => [l.principal, service(l.service), l.operation, l.resource, l.meter, qty(l.perUnit), usd(l.usdPerMillion, 3)]);
  const failedWrites = s.lines.filter((l) => l.meter === 'failed conditional writes');
  const notes = failedWrites.map((l) => `  failed conditional writes: ${l.principal} ${l.operation} ${l.resource}: ${qty(l.perUnit)} per ${per} (their units are in the lines above)`);
  return [
    heading(`${s.name}: ${s.events} events, fan-out ${s.fanout}, ${s.units} ${per === 'delivery' ? 'deliveries' : 'failed attempts'} (${(s.wallMs / 1000).toFixed(1)} s)`),
    table(['function', 'service', 'operation', 'resource', 'meter', `per ${per}`, `$ per M`], rows, ['left', 'left', 'left', 'left', 'left', 'right', 'right']),
    `total: ${usd(s.usdPerMillion)} per million ${per === 'delivery' ? 'deliveries' : 'failed attempts'}; DynamoDB ${qty(s.writeUnitsPerUnit.total)} write units per ${per} (${qty(s.writeUnitsPerUnit.index)} of them index writes), ${qty(s.readUnitsPerUnit)} read units`,
    ...(s.attempts
      ? [
          `of which the attempts themselves: ${usd(s.attempts.usdPerMillion)} per million (calls by ${s.attempts.principals.join(', ')}); the rest publishes and fans out the events (calls by ${s.attempts.publishPrincipals.join(', ')}, whose cost per event is the same when the first attempt succeeds)`,
        ]
      : []),
    ...notes,
  ].join('\n');
}

export function formatCostReport(r: CostReport): string {
  const out: string[] = [];
  out.push(`Hookline on AWS, metered call by call through the real bundles (prices: ${r.prices.region}, ${r.prices.date})`);
  for (const s of r.scenarios) out.push(breakdown(s));

  out.push(heading('$ per million'));
  const services = [...new Set(r.scenarios.flatMap((s) => Object.keys(s.usdPerMillionByService)))];
  out.push(
    table(
      ['scenario', 'per', 'total', ...services.map(service), 'WRU', 'of which index'],
      r.scenarios.map((s) => [
        s.name,
        s.unit,
        usd(s.usdPerMillion),
        ...services.map((x) => usd(s.usdPerMillionByService[x] ?? 0)),
        qty(s.writeUnitsPerUnit.total),
        qty(s.writeUnitsPerUnit.index),
      ]),
      ['left', 'left', ...services.map(() => 'right' as const), 'right', 'right', 'right'],
    ),
  );
  const principals = [...new Set(r.scenarios.flatMap((s) => Object.keys(s.usdPerMillionByPrincipal)))].sort();
  out.push('\nBy who makes the calls ($ per million):');
  out.push(
    table(
      ['calls made by', ...r.scenarios.map((s) => s.name)],
      principals.map((p) => [p, ...r.scenarios.map((s) => usd(s.usdPerMillionByPrincipal[p] ?? 0))]),
      ['left', ...r.scenarios.map(() => 'right' as const)],
    ),
  );
  out.push('\nOutside the issue\'s meter (not in the totals or targets):');
  out.push(
    table(
      ['scenario', 'storage $/M', 'backups (PITR) $/M', 'X-Ray $/M', 'bytes kept for ever per unit'],
      r.scenarios.map((s) => [s.name, usd(s.outside.storageUsdPerMillion, 3), usd(s.outside.backupUsdPerMillion, 3), usd(s.outside.xrayUsdPerMillion, 3), qty(s.outside.foreverBytesPerUnit)]),
      ['left', 'right', 'right', 'right', 'right'],
    ),
  );

  const f = r.fixedMonthly;
  out.push(heading('Fixed monthly cost'));
  out.push(`secrets: ${qty(f.secretsPerTenant)} per tenant + ${qty(f.secretsPerWebhook)} per webhook (measured on the tenants the run made)`);
  out.push(`per 1,000 webhooks: ${usd(f.perThousandWebhooks)} a month`);
  out.push(`per 100 tenants:    ${usd(f.perHundredTenants)} a month`);
  out.push(`per stack:          ${usd(f.perStack.reduce((s, l) => s + l.usdPerMonth, 0))} a month`);
  for (const l of f.perStack) out.push(`  ${usd(l.usdPerMonth).padStart(8)}  ${l.what}`);

  out.push(heading('Targets (issue 10)'));
  out.push(
    table(
      ['target', 'measured', 'limit', ''],
      r.targets.map((t) => [t.says, t.unit === '$' ? usd(t.value) : qty(t.value), t.unit === '$' ? usd(t.limit) : qty(t.limit), t.met ? 'met' : 'NOT MET']),
      ['left', 'right', 'right', 'left'],
    ),
  );
  out.push(`  (secret reads: ${r.secretReadsPerTenantHour.detail})`);
  for (const n of r.notes) out.push(`note: ${n}`);
  return out.join('\n');
}
