/**
 * The event catalogue: the types a tenant may publish and a webhook may subscribe to. The default
 * is NetRecon's 14 types (seed 004) plus `webhook.test`, the connectivity check.
 */
export interface EventType {
  readonly type: string;
  readonly title: string;
  readonly description: string;
  /** JSON Schema (draft 2020-12) that the event's `data` must satisfy. */
  readonly schema?: Readonly<Record<string, unknown>>;
}

export const TEST_EVENT_TYPE = 'webhook.test';

export const DEFAULT_CATALOGUE: readonly EventType[] = [
  { type: 'alert.created', title: 'Alert created', description: 'New alert generated' },
  { type: 'alert.resolved', title: 'Alert resolved', description: 'Alert resolved' },
  { type: 'scan.started', title: 'Scan started', description: 'Scan started' },
  { type: 'scan.completed', title: 'Scan completed', description: 'Scan finished' },
  { type: 'scan.failed', title: 'Scan failed', description: 'Scan error' },
  { type: 'device.discovered', title: 'Device discovered', description: 'New device found' },
  { type: 'device.offline', title: 'Device offline', description: 'Device went offline' },
  { type: 'ids.alert', title: 'IDS alert', description: 'IDS rule triggered' },
  { type: 'honeypot.hit', title: 'Honeypot hit', description: 'Honeypot interaction' },
  { type: 'rogue.detected', title: 'Rogue device detected', description: 'Rogue DHCP/ARP detected' },
  { type: 'cve.matched', title: 'CVE matched', description: 'New CVE matched to a device' },
  { type: 'backup.completed', title: 'Backup completed', description: 'Backup finished' },
  { type: 'backup.failed', title: 'Backup failed', description: 'Backup error' },
  { type: 'anomaly.detected', title: 'Anomaly detected', description: 'ML anomaly detected' },
  { type: TEST_EVENT_TYPE, title: 'Test event', description: 'Connectivity check sent by the test endpoint' },
];

const TEST_TYPE: EventType = DEFAULT_CATALOGUE.find((t) => t.type === TEST_EVENT_TYPE)!;

export class CatalogueError extends Error {
  override name = 'CatalogueError';
}

/** Where and what: one way an event's `data` does not match its type's schema. */
export interface DataProblem {
  readonly path: string;
  readonly message: string;
}

/** Checks an event's `data` against its type's JSON Schema: the problems, or none. */
export type DataValidator = (data: unknown) => DataProblem[];

/**
 * A validating function as ajv compiles it (at run time, or as standalone code at build time):
 * true, or false with `errors`.
 */
export interface CompiledSchema {
  (data: unknown): boolean;
  errors?: readonly { readonly instancePath: string; readonly message?: string }[] | null;
}

/** The export of build-time compiled schemas (ajv standalone code): event type -> CompiledSchema. */
export const COMPILED_SCHEMAS_EXPORT = 'validators';

/** An ajv-compiled schema as a DataValidator: paths as `data.<field>...`. */
export const validatorOf =
  (validate: CompiledSchema): DataValidator =>
  (data) =>
    validate(data)
      ? []
      : (validate.errors ?? []).map((e) => ({ path: `data${e.instancePath.replace(/\//g, '.')}`, message: e.message ?? 'does not match the schema' }));

/**
 * The catalogue in force: the platform team's list (a JSON file, a stack prop) or the default.
 * `webhook.test` is always in it: the test endpoint sends it.
 *
 * The JSON Schemas are compiled elsewhere (catalogue-schemas.ts at run time on one machine; ajv
 * standalone code at build time for Lambda), so that only the function that validates event data
 * carries validators. A catalogue given validators must have one for every schema; one built
 * without them (types and titles only) refuses to check data rather than let it through.
 */
export class Catalogue {
  readonly types: readonly EventType[];
  private readonly byType: ReadonlyMap<string, EventType>;
  private readonly validators: Readonly<Record<string, DataValidator>> | undefined;

  constructor(types: readonly EventType[] = DEFAULT_CATALOGUE, validators?: Readonly<Record<string, DataValidator>>) {
    const all = types.some((t) => t.type === TEST_EVENT_TYPE) ? types : [...types, TEST_TYPE];
    this.types = all;
    this.byType = new Map(all.map((t) => [t.type, t]));
    this.validators = validators;
    const missing = validators && all.find((t) => t.schema && !Object.hasOwn(validators, t.type));
    if (missing) throw new CatalogueError(`the schema of ${missing.type} has no compiled validator`);
  }

  /** Problems of `data` against the type's schema (empty when it conforms or has no schema). */
  problems(type: string, data: unknown): DataProblem[] {
    if (!this.byType.get(type)?.schema) return [];
    const validate = this.validators?.[type];
    if (!validate) throw new CatalogueError(`the catalogue was loaded without the validator of ${type}`);
    return validate(data);
  }
  has(type: string): boolean {
    return this.byType.has(type);
  }
  get(type: string): EventType | undefined {
    return this.byType.get(type);
  }
}

/** Reads a catalogue document: `[{"type", "title", "description", "schema"?}, ...]`. */
export function parseCatalogue(document: unknown): EventType[] {
  if (!Array.isArray(document) || document.length === 0) throw new CatalogueError('the catalogue must be a non-empty JSON array');
  const seen = new Set<string>();
  return document.map((entry: unknown, i) => {
    const e = entry as Partial<EventType> | null;
    const where = `catalogue entry ${i}`;
    if (!e || typeof e !== 'object') throw new CatalogueError(`${where} is not an object`);
    if (typeof e.type !== 'string' || !/^[a-z0-9_]+(\.[a-z0-9_]+)*$/.test(e.type) || e.type.length > 100) {
      throw new CatalogueError(`${where}: type must be dot-separated lower-case words`);
    }
    if (seen.has(e.type)) throw new CatalogueError(`${where}: ${e.type} appears twice`);
    seen.add(e.type);
    if (typeof e.title !== 'string' || e.title === '') throw new CatalogueError(`${where} (${e.type}): title is required`);
    if (e.description !== undefined && typeof e.description !== 'string') throw new CatalogueError(`${where} (${e.type}): description must be text`);
    if (e.schema !== undefined && (typeof e.schema !== 'object' || e.schema === null || Array.isArray(e.schema))) {
      throw new CatalogueError(`${where} (${e.type}): schema must be a JSON Schema object`);
    }
    return { type: e.type, title: e.title, description: e.description ?? '', ...(e.schema ? { schema: e.schema } : {}) };
  });
}
