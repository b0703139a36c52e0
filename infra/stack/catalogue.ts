/**
 * The platform team's event catalogue at synth time: read, validated with the runtime's own
 * parser (shared/domain/catalogue.ts), and shipped inside the bundles of the functions that use
 * it, so that a bad catalogue fails `cdk synth` instead of every invocation after a deploy.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { parseCatalogue, type EventType } from '../../shared/domain/catalogue.ts';
import { compileCatalogue } from '../../shared/domain/catalogue-schemas.ts';
import { catalogueValidatorsAsset } from './build-assets.ts';
import type { FunctionName } from './functions.ts';

/** The functions that read the catalogue (publish validation, subscriptions, payload titles: the test event's too). */
export const CATALOGUE_FUNCTIONS: readonly FunctionName[] = ['ingest', 'webhooks-api', 'webhook-test', 'fanout', 'dispatcher'];
/** The function that checks event data against the schemas: it gets them compiled, beside the catalogue. */
export const SCHEMA_FUNCTIONS: readonly FunctionName[] = ['ingest'];

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
  /** Absolute path of its schemas compiled to one ES module (ajv standalone code), shipped to SCHEMA_FUNCTIONS. */
  readonly validators: string;
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
  let types: EventType[];
  try {
    types = parseCatalogue(document);
    // Compiles every JSON Schema: throws CatalogueError on one that is invalid.
    compileCatalogue(types);
  } catch (err) {
    return fail((err as Error).message);
  }
  return {
    path,
    sha256: createHash('sha256').update(bytes).digest('hex'),
    types: types.map((t) => t.type),
    validators: catalogueValidatorsAsset(types, projectRoot),
  };
}
