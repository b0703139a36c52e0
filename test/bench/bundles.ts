import { execFile } from 'node:child_process';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { median } from './stats.ts';

const run = promisify(execFile);

export interface BundleResult {
  readonly name: string;
  readonly bytes: number;
  readonly mapBytes: number;
  /** Median cold import time (ms), plain and with --enable-source-maps as on Lambda. */
  readonly loadMs: number;
  readonly loadMsSourceMaps: number;
  readonly error?: string;
}

/** The banner the CDK stack passes to esbuild, read from infra/stack/functions.ts so both agree. */
export async function stackBanner(root: string): Promise<string> {
  const source = await readFile(join(root, 'infra/stack/functions.ts'), 'utf8');
  const m = /ESM_REQUIRE_BANNER\s*=\s*(?:\n\s*)?"([^"]+)"/.exec(source);
  if (!m) throw new Error('ESM_REQUIRE_BANNER not found in infra/stack/functions.ts');
  return m[1]!;
}

export async function functionNames(root: string): Promise<string[]> {
  const dirs = await readdir(join(root, 'functions'), { withFileTypes: true });
  const names: string[] = [];
  for (const d of dirs) {
    if (!d.isDirectory()) continue;
    if (await stat(join(root, 'functions', d.name, 'handler.ts')).then(() => true, () => false)) names.push(d.name);
  }
  return names.sort();
}

async function coldLoad(file: string, cwd: string, flags: string[]): Promise<number> {
  const url = pathToFileURL(file).href;
  const script = `const t=performance.now(); await import(${JSON.stringify(url)}); console.log(performance.now()-t)`;
  const { stdout } = await run(process.execPath, [...flags, '--input-type=module', '-e', script], {
    cwd,
    // A clean environment, as a fresh Lambda sandbox would have before the first invocation.
    env: { PATH: process.env['PATH'] ?? '', AWS_REGION: 'us-east-1', NODE_NO_WARNINGS: '1' },
    timeout: 60_000,
  });
  return Number(stdout.trim().split('\n').pop());
}

/** Bundles each function as the CDK stack does (esbuild, ESM, node24, minified) and times a cold import. */
export async function measureBundles(root: string, outDir: string, runs: number): Promise<BundleResult[]> {
  const banner = await stackBanner(root);
  const results: BundleResult[] = [];
  for (const name of await functionNames(root)) {
    const outfile = join(outDir, name, 'index.mjs');
    try {
      await build({
        entryPoints: [join(root, 'functions', name, 'handler.ts')],
        outfile,
        bundle: true,
        minify: true,
        platform: 'node',
        format: 'esm',
        target: 'node24',
        mainFields: ['module', 'main'],
        sourcemap: true,
        sourcesContent: false,
        banner: { js: banner },
        logLevel: 'warning',
      });
      const bytes = (await stat(outfile)).size;
      const mapBytes = (await stat(`${outfile}.map`)).size;
      const plain: number[] = [];
      const withMaps: number[] = [];
      for (let i = 0; i < runs; i++) {
        plain.push(await coldLoad(outfile, outDir, []));
        withMaps.push(await coldLoad(outfile, outDir, ['--enable-source-maps']));
      }
      results.push({ name, bytes, mapBytes, loadMs: median(plain), loadMsSourceMaps: median(withMaps) });
    } catch (err) {
      const e = err as Error & { stderr?: string };
      results.push({ name, bytes: NaN, mapBytes: NaN, loadMs: NaN, loadMsSourceMaps: NaN, error: (e.stderr || e.message).trim().split('\n').slice(0, 3).join(' | ') });
    }
  }
  return results;
}
