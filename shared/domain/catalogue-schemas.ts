import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import standaloneCodeModule from 'ajv/dist/standalone/index.js';
import { Catalogue, CatalogueError, COMPILED_SCHEMAS_EXPORT, validatorOf, type DataValidator, type EventType } from './catalogue.ts';

/**
 * The catalogue's JSON Schemas compiled with ajv: at run time on one machine and at synth (where a
 * bad schema fails `cdk synth`), and as standalone code at build time for the ingest function,
 * which then carries neither ajv nor a compiler (see catalogue-validators in infra/stack).
 */

// ajv-formats and ajv's standalone module are CommonJS with a default export; under ESM they
// arrive as the module object.
const defaultOf = <T>(module: unknown): T => ((module as { default?: T }).default ?? module) as T;
const addFormats = defaultOf<<T>(ajv: T) => T>(addFormatsModule);
const standaloneCode = defaultOf<(ajv: Ajv2020, refs: Record<string, string>) => string>(standaloneCodeModule);

const newAjv = (standalone: boolean) =>
  addFormats(new Ajv2020({ allErrors: true, strict: false, ...(standalone ? { code: { source: true, esm: true } } : {}) }));

function compileEach<T>(types: readonly EventType[], compile: (type: EventType, schema: Readonly<Record<string, unknown>>) => T): Record<string, T> {
  const out: Record<string, T> = {};
  for (const t of types) {
    if (!t.schema) continue;
    try {
      out[t.type] = compile(t, t.schema);
    } catch (err) {
      throw new CatalogueError(`the schema of ${t.type} is not a valid JSON Schema: ${(err as Error).message}`);
    }
  }
  return out;
}

/** The catalogue with every schema compiled now: a broken one fails at start-up, not on the first publish. */
export function compileCatalogue(types?: readonly EventType[]): Catalogue {
  if (!types) return new Catalogue();
  const ajv = newAjv(false);
  const validators: Record<string, DataValidator> = compileEach(types, (_t, schema) => validatorOf(ajv.compile(schema)));
  return new Catalogue(types, validators);
}

/**
 * An ES module (ajv standalone code) whose COMPILED_SCHEMAS_EXPORT maps each event type with a schema
 * to its validating function. It still imports ajv's small runtime helpers (formats, unicode
 * length), so the build bundles it before shipping it.
 */
export function standaloneValidators(types: readonly EventType[]): string {
  const ajv = newAjv(true);
  const exports = compileEach(types, (t, schema) => {
    const key = `type:${t.type}`;
    ajv.addSchema(schema, key);
    ajv.getSchema(key); // compiles now, so an invalid schema throws here
    return key;
  });
  const names = Object.keys(exports);
  const code = names.length === 0 ? '' : standaloneCode(ajv, Object.fromEntries(names.map((type, i) => [`v${i}`, exports[type]!])));
  const map = names.map((type, i) => `${JSON.stringify(type)}: v${i}`).join(', ');
  return `${code}\nexport const ${COMPILED_SCHEMAS_EXPORT} = { ${map} };\n`;
}
