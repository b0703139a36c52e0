/**
 * The Lambda bundles beside their SDK floors. Each function is bundled as the stack bundles it
 * (infra/stack/bundling.ts); its floor is a bundle of only the SDK clients and commands the
 * function calls (read from its composition root, infra/stack/function-calls.ts), built with the
 * same settings. Sizes, and the median cold import of fresh Node processes, side by side.
 */
import { execFile } from 'node:child_process';
import { mkdir, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { esbuildOptions } from '../../infra/stack/bundling.ts';
import { awsCallsOf } from '../../infra/stack/function-calls.ts';
import type { FunctionName } from '../../infra/stack/functions.ts';
import type { AwsCall } from '../../shared/adapters/aws/aws-calls.ts';
import { median, medianPairedRatio } from './stats.ts';

const run = promisify(execFile);

/** A bundle may be this much larger, and this much slower to import, than its floor. */
export const FLOOR_MARGIN = 1.25;
/** The openapi function calls nothing, so it has no floor: an absolute bound instead. */
export const OPENAPI_MAX_BYTES = 50 * 1024;

export interface BundleResult {
  readonly name: string;
  readonly bytes: number;
  /** Median cold import (ms) of fresh Node processes. */
  readonly importMs: number;
  /** The SDK floor (absent for a function that calls no AWS service). */
  readonly floor?: { readonly bytes: number; readonly importMs: number; readonly commands: readonly string[] };
  /** bytes / floor bytes. */
  readonly sizeRatio?: number;
  /** The median of the import times' ratios, bundle to floor, each pair timed back to back (medianPairedRatio). */
  readonly importRatio?: number;
  /** Whether the bundle meets its targets (within FLOOR_MARGIN of its floor; openapi ≤ OPENAPI_MAX_BYTES). */
  readonly withinTarget: boolean;
  readonly error?: string;
}

export async function functionNames(root: string): Promise<FunctionName[]> {
  const dirs = await readdir(join(root, 'functions'), { withFileTypes: true });
  const names: FunctionName[] = [];
  for (const d of dirs) {
    if (!d.isDirectory()) continue;
    if (await stat(join(root, 'functions', d.name, 'handler.ts')).then(() => true, () => false)) names.push(d.name as FunctionName);
  }
  return names.sort();
}

/** IAM action -> the SDK client and command that make it (SendMessageBatch is authorized as sqs:SendMessage). */
const SDK: Record<string, { readonly module: string; readonly client: string; readonly command: (action: string) => string }> = {
  dynamodb: { module: '@aws-sdk/lib-dynamodb', client: 'DynamoDBDocumentClient', command: (a) => `${a.replace(/Item$/, '')}Command` },
  sqs: { module: '@aws-sdk/client-sqs', client: 'SQSClient', command: (a) => (a === 'SendMessage' ? 'SendMessageBatchCommand' : `${a}Command`) },
  secretsmanager: { module: '@aws-sdk/client-secrets-manager', client: 'SecretsManagerClient', command: (a) => `${a}Command` },
  ses: { module: '@aws-sdk/client-sesv2', client: 'SESv2Client', command: (a) => `${a}Command` },
  scheduler: { module: '@aws-sdk/client-scheduler', client: 'SchedulerClient', command: (a) => `${a}Command` },
};

/**
 * The floor's source: each client, and a handler that sends each command the function's adapters
 * call (so that bundling keeps exactly those). iam:PassRole is no call of its own.
 */
export function floorSource(calls: readonly AwsCall[]): { source: string; commands: string[] } | undefined {
  const byService = new Map<string, Set<string>>();
  for (const call of calls) {
    for (const action of call.actions) {
      const [service, name] = action.split(':') as [string, string];
      const sdk = SDK[service];
      if (!sdk) continue;
      byService.set(service, (byService.get(service) ?? new Set()).add(sdk.command(name)));
    }
  }
  if (byService.size === 0) return undefined;
  const imports: string[] = [];
  const sends: string[] = [];
  const commands: string[] = [];
  for (const [service, names] of byService) {
    const sdk = SDK[service]!;
    const sorted = [...names].sort();
    commands.push(...sorted.map((c) => `${service}:${c}`));
    imports.push(`import { ${[sdk.client, ...sorted].join(', ')} } from '${sdk.module}';`);
    const client =
      service === 'dynamodb'
        ? `${sdk.client}.from(new DynamoDBClient({}))`
        : `new ${sdk.client}({})`;
    sends.push(`  const ${service} = ${client};`, ...sorted.map((c) => `  await ${service}.send(new ${c}(event));`));
  }
  if (byService.has('dynamodb')) imports.unshift(`import { DynamoDBClient } from '@aws-sdk/client-dynamodb';`);
  return { source: `${imports.join('\n')}\nexport const handler = async (event) => {\n${sends.join('\n')}\n};\n`, commands };
}

async function coldImport(file: string, cwd: string): Promise<number> {
  const url = pathToFileURL(file).href;
  const script = `const t=performance.now(); await import(${JSON.stringify(url)}); console.log(performance.now()-t)`;
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], {
    cwd,
    // A clean environment, as a fresh Lambda sandbox would have before the first invocation.
    env: { PATH: process.env['PATH'] ?? '', AWS_REGION: 'us-east-1', NODE_NO_WARNINGS: '1' },
    timeout: 60_000,
  });
  return Number(stdout.trim().split('\n').pop());
}

async function bundle(outfile: string, input: { entry: string } | { source: string }, root: string): Promise<number> {
  await build({
    ...esbuildOptions(),
    ...('entry' in input ? { entryPoints: [input.entry] } : { stdin: { contents: input.source, resolveDir: root, loader: 'js' as const } }),
    outfile,
    logLevel: 'error',
  });
  return (await stat(outfile)).size;
}

/** A function's bundle and floor, built, with their import times so far. */
interface Measured {
  readonly name: string;
  readonly file: string;
  readonly dir: string;
  readonly bytes: number;
  readonly floor?: { readonly file: string; readonly bytes: number; readonly commands: readonly string[] };
  readonly own: number[];
  readonly floorTimes: number[];
}

/**
 * Bundles each function and its floor and times `runs` cold imports of each, in pairs of one
 * bundle and one floor import back to back, so that both see the same machine load. The pairs go
 * round the functions (each function's first pair, then each one's second...), so that a few
 * seconds of a slower machine meet one or two pairs of every function instead of most of one
 * function's: one run, timing each function's pairs in a row, put the dispatcher's median ratio
 * at +36 % where its other runs gave +9 to +12 %.
 */
export async function measureBundles(root: string, outDir: string, runs: number, progress: (m: string) => void = () => undefined): Promise<BundleResult[]> {
  const results = new Map<string, BundleResult>();
  const measured: Measured[] = [];
  const names = await functionNames(root);
  for (const name of names) {
    try {
      progress(`bundling ${name}`);
      measured.push(await buildWithFloor(root, outDir, name));
    } catch (err) {
      results.set(name, failed(name, err));
    }
  }
  // Each function's imports, round the functions; one that fails is reported and timed no more.
  const eachFunction = async (step: (m: Measured) => Promise<void>) => {
    for (const m of [...measured]) {
      try {
        await step(m);
      } catch (err) {
        results.set(m.name, failed(m.name, err));
        measured.splice(measured.indexOf(m), 1);
      }
    }
  };
  // One unmeasured import of each first: the files are read from disk once, as Lambda reads them.
  await eachFunction(async (m) => {
    await coldImport(m.file, m.dir);
    if (m.floor) await coldImport(m.floor.file, m.dir);
  });
  for (let i = 0; i < runs; i++) {
    progress(`cold imports: pair ${i + 1} of ${runs} of each bundle`);
    await eachFunction(async (m) => {
      // Which goes first alternates: neither side always meets the machine as the other left it.
      if (m.floor && i % 2 === 1) m.floorTimes.push(await coldImport(m.floor.file, m.dir));
      m.own.push(await coldImport(m.file, m.dir));
      if (m.floor && i % 2 === 0) m.floorTimes.push(await coldImport(m.floor.file, m.dir));
    });
  }
  for (const m of measured) results.set(m.name, resultOf(m));
  return names.map((name) => results.get(name)!);
}

async function buildWithFloor(root: string, outDir: string, name: FunctionName): Promise<Measured> {
  const dir = join(outDir, name);
  await mkdir(dir, { recursive: true });
  const file = join(dir, 'index.mjs');
  const bytes = await bundle(file, { entry: join(root, 'functions', name, 'handler.ts') }, root);
  const source = floorSource(awsCallsOf(name));
  if (!source) return { name, file, dir, bytes, own: [], floorTimes: [] };
  const floorDir = join(outDir, `${name}.floor`);
  await mkdir(floorDir, { recursive: true });
  await writeFile(join(floorDir, 'source.mjs'), source.source);
  const floorFile = join(floorDir, 'index.mjs');
  const floorBytes = await bundle(floorFile, { source: source.source }, root);
  return { name, file, dir, bytes, floor: { file: floorFile, bytes: floorBytes, commands: source.commands }, own: [], floorTimes: [] };
}

function resultOf(m: Measured): BundleResult {
  const importMs = median(m.own);
  if (!m.floor) return { name: m.name, bytes: m.bytes, importMs, withinTarget: m.name !== 'openapi' || m.bytes <= OPENAPI_MAX_BYTES };
  const sizeRatio = m.bytes / m.floor.bytes;
  // Not importMs / floorImportMs: the two medians may come from moments the machine ran at
  // different speeds (one run put a floor at 88 ms against its bundle's 130, +48 %, where
  // its pairs said +11 to +48 %, median +21 %).
  const importRatio = medianPairedRatio(m.own, m.floorTimes);
  return {
    name: m.name,
    bytes: m.bytes,
    importMs,
    floor: { bytes: m.floor.bytes, importMs: median(m.floorTimes), commands: m.floor.commands },
    sizeRatio,
    importRatio,
    withinTarget: sizeRatio <= FLOOR_MARGIN && importRatio <= FLOOR_MARGIN,
  };
}

function failed(name: string, err: unknown): BundleResult {
  const e = err as Error & { stderr?: string };
  return { name, bytes: NaN, importMs: NaN, withinTarget: false, error: (e.stderr || e.message).trim().split('\n').slice(0, 3).join(' | ') };
}

const kb = (bytes: number) => `${(bytes / 1024).toFixed(0)} KB`;
const ms = (value: number) => `${value.toFixed(0)} ms`;
const pct = (ratio: number | undefined) => (ratio === undefined ? '' : `${ratio >= 1 ? '+' : ''}${((ratio - 1) * 100).toFixed(0)}%`);

/** The table `npm run bench` prints: each bundle beside its floor, and whether it meets its targets. */
export function bundleTable(results: readonly BundleResult[], runs: number): string {
  const header = ['function', 'bundle', 'floor', 'size', 'import', 'floor', 'import', 'target'];
  const rows = results.map((r) =>
    r.error
      ? [r.name, 'FAILED', r.error, '', '', '', '', 'no']
      : [
          r.name,
          kb(r.bytes),
          r.floor ? kb(r.floor.bytes) : '-',
          r.floor ? pct(r.sizeRatio) : `≤ ${kb(OPENAPI_MAX_BYTES)}`,
          ms(r.importMs),
          r.floor ? ms(r.floor.importMs) : '-',
          pct(r.importRatio),
          r.withinTarget ? 'met' : 'MISSED',
        ],
  );
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ').trimEnd();
  return [
    `Lambda bundles beside their SDK floors (esbuild as the stack bundles; cold import: median of ${runs} fresh processes,`,
    `timed in pairs of bundle and floor; the import column: the median of the pairs' ratios;`,
    `target: within ${((FLOOR_MARGIN - 1) * 100).toFixed(0)}% of the floor in size and import time, openapi ≤ ${kb(OPENAPI_MAX_BYTES)})`,
    line(header),
    ...rows.map(line),
  ].join('\n');
}
