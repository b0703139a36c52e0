/**
 * The platform team's event catalogue at synth time: read, validated with the runtime's own
 * parser (shared/domain/catalogue.ts), and shipped inside the bundles of the functions that use
 * it, so that a bad catalogue fails `cdk synth` instead of every invocation after a deploy.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { Catalogue, parseCatalogue } from '../../shared/domain/catalogue.ts';
import type { FunctionName } from './functions.ts';

/** The functions that read the catalogue (publish validation, subscriptions, payload titles). */
export const CATALOGUE_FUNCTIONS: readonly FunctionName[] = ['ingest', 'webhooks-api', 'fanout', 'dispatcher'];

/** Where the catalogue lands in a bundle (bundles are unpacked into /var/task). */
export const CATALOGUE_BUNDLE_NAME = 'catalogue.json';
export const CATALOGUE_LAMBDA_PATH = `/var/task/${CATALOGUE_BUNDLE_NAME}`;

export interface LoadedCatalogue {
  /** Absolute path of the file on the synth machine. */
  readonly path: string;
  /** Hex SHA-256 of the file's bytes, exactly as shipped. */
  readonly sha256: string;
  /** The event types it holds (without the `webhook.test` the runtime always adds). */
  readonly types: readonly string[];
}

/**
 * Reads and validates a catalogue file; `file` is relative to `projectRoot` or absolute. Throws
 * an Error naming the file and the problem.
 */
export function loadCatalogue(file: string, projectRoot: string): LoadedCatalogue {
  const path = isAbsolute(file) ? file : resolve(projectRoot, file);
  const fail = (problem: string): never => {
    throw new Error(`HooklineStack: catalogueFile ${file} (${path}): ${problem}`);
  };
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    return fail(`cannot be read: ${(err as Error).message}`);
  }
  let document: unknown;
  try {
    document = JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    return fail(`is not JSON: ${(err as Error).message}`);
  }
  try {
    const types = parseCatalogue(document);
    // Compiles every JSON Schema: throws CatalogueError on one that is invalid.
    new Catalogue(types);
    return { path, sha256: createHash('sha256').update(bytes).digest('hex'), types: types.map((t) => t.type) };
  } catch (err) {
    return fail((err as Error).message);
  }
}

/**
 * The `afterBundling` command that copies the catalogue into a bundle. The source path comes from
 * the bundling environment (`HOOKLINE_CATALOGUE_SOURCE`), so no path is put through a shell; the
 * destination is quoted for bash (Linux, macOS) or cmd (Windows), whichever runs the hook. Runs
 * with the synth's own `node`, so it needs no `cp` or `copy`.
 */
export function copyCatalogueCommand(outputDir: string, platform: NodeJS.Platform = process.platform): string {
  const destination = `${outputDir}${platform === 'win32' ? '\\' : '/'}${CATALOGUE_BUNDLE_NAME}`;
  const quoted = platform === 'win32' ? `"${destination}"` : `'${destination.replace(/'/g, `'\\''`)}'`;
  return `node -e "require('node:fs').copyFileSync(process.env.${CATALOGUE_SOURCE_ENV}, process.argv[1])" ${quoted}`;
}

/** Bundling-time environment variable holding the catalogue's absolute path. */
export const CATALOGUE_SOURCE_ENV = 'HOOKLINE_CATALOGUE_SOURCE';
