import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { FUNCTION_ENV } from '../config.ts';
import { Catalogue, CatalogueError, COMPILED_SCHEMAS_EXPORT, parseCatalogue, validatorOf, type CompiledSchema, type EventType } from '../domain/catalogue.ts';

/**
 * The platform team's catalogue from `HOOKLINE_CATALOGUE_FILE` (the stack ships it inside the
 * bundles of the functions that use it), or the built-in one.
 */

/** The file's event types, or undefined for the built-in catalogue. */
export function catalogueTypesFromEnv(env: NodeJS.ProcessEnv): EventType[] | undefined {
  const file = env[FUNCTION_ENV.catalogueFile];
  if (!file) return undefined;
  let document: unknown;
  try {
    document = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new CatalogueError(`cannot read the catalogue ${file}: ${(err as Error).message}`);
  }
  return parseCatalogue(document);
}

/** Types and titles only: for the functions that never check event data against a schema. */
export function catalogueFromEnv(env: NodeJS.ProcessEnv): Catalogue {
  return new Catalogue(catalogueTypesFromEnv(env));
}

/** Beside the catalogue in a bundle: its schemas as ajv standalone code, compiled at build time. */
export const CATALOGUE_VALIDATORS_FILE = 'catalogue-validators.mjs';

/**
 * On Lambda, for the function that validates event data (ingest): the catalogue with the
 * validators the build compiled beside it, so the bundle carries no schema compiler. A catalogue
 * with schemas but no validators fails here, at the first invocation, rather than let data through.
 */
export async function bundledCatalogue(env: NodeJS.ProcessEnv): Promise<Catalogue> {
  const types = catalogueTypesFromEnv(env);
  if (!types) return new Catalogue();
  if (!types.some((t) => t.schema)) return new Catalogue(types, {});
  const file = join(dirname(env[FUNCTION_ENV.catalogueFile]!), CATALOGUE_VALIDATORS_FILE);
  let compiled: Record<string, CompiledSchema>;
  try {
    compiled = ((await import(pathToFileURL(file).href)) as Record<string, Record<string, CompiledSchema>>)[COMPILED_SCHEMAS_EXPORT]!;
  } catch (err) {
    throw new CatalogueError(`cannot load the catalogue's compiled schemas ${file}: ${(err as Error).message}`);
  }
  return new Catalogue(types, Object.fromEntries(Object.entries(compiled).map(([type, validate]) => [type, validatorOf(validate)])));
}
