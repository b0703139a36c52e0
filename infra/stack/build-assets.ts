/**
 * Files the build ships beside a function's bundle, and how. Generated at synth so that the
 * functions carry neither the generator nor its inputs: the OpenAPI document (the openapi function bundles
 * neither zod nor the schemas) and the catalogue's JSON Schemas compiled to ajv standalone code
 * (the ingest function bundles no schema compiler). Free of CDK imports.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSync } from 'esbuild';
import { OPENAPI_DOCUMENT_FILE } from '../../functions/openapi/handler.ts';
import { CATALOGUE_VALIDATORS_FILE } from '../../shared/compose/catalogue.ts';
import type { EventType } from '../../shared/domain/catalogue.ts';
import { standaloneValidators } from '../../shared/domain/catalogue-schemas.ts';
import { openApiDocument } from '../../shared/http/openapi.ts';
import { esbuildOptions } from './bundling.ts';

/**
 * Writes `content` as `<tmp>/hookline-build/<content hash>/<name>` (once per content) and returns
 * the path: the file name is what the function looks for, and a new content is a new path.
 */
function stage(name: string, content: string): string {
  const dir = join(tmpdir(), 'hookline-build', createHash('sha256').update(content).digest('hex').slice(0, 20));
  const path = join(dir, name);
  if (!existsSync(path)) {
    mkdirSync(dir, { recursive: true });
    writeFileSync(path, content);
  }
  return path;
}

/** The OpenAPI document of this build, for the openapi function. */
export function openApiAsset(): string {
  return stage(OPENAPI_DOCUMENT_FILE, JSON.stringify(openApiDocument()));
}

/**
 * The catalogue's schemas as one ES module (ajv standalone code with ajv's few runtime helpers
 * bundled in, as the stack bundles functions), for the function that validates event data.
 */
export function catalogueValidatorsAsset(types: readonly EventType[], projectRoot: string): string {
  const built = buildSync({
    ...esbuildOptions(),
    stdin: { contents: standaloneValidators(types), resolveDir: projectRoot, loader: 'js' },
    write: false,
    logLevel: 'error',
  });
  return stage(CATALOGUE_VALIDATORS_FILE, built.outputFiles[0]!.text);
}

/** A file to ship beside a bundle: its absolute path, and its name in the bundle. */
export type ShippedFile = [path: string, name: string];
