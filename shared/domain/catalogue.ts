import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';

// ajv-formats is CommonJS with a default export; under ESM it arrives as the module object.
const addFormats = ((addFormatsModule as unknown as { default?: typeof addFormatsModule }).default ?? addFormatsModule) as unknown as <T>(ajv: T) => T;

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

/**
 * The catalogue in force: the platform team's list (a JSON file, a stack prop) or the default.
 * `webhook.test` is always in it: the test endpoint sends it.
 */
export class Catalogue {
  readonly types: readonly EventType[];
  private readonly byType: ReadonlyMap<string, EventType>;
  private readonly validators = new Map<string, ValidateFunction>();
  private readonly ajv = addFormats(new Ajv2020({ allErrors: true, strict: false }));

  constructor(types: readonly EventType[] = DEFAULT_CATALOGUE) {
    const all = types.some((t) => t.type === TEST_EVENT_TYPE) ? types : [...types, TEST_TYPE];
    this.types = all;
    this.byType = new Map(all.map((t) => [t.type, t]));
    // Compile every schema now: a broken catalogue fails at start-up, not on the first publish.
    for (const t of all) {
      if (!t.schema) continue;
      try {
        this.validators.set(t.type, this.ajv.compile(t.schema));
      } catch (err) {
        throw new CatalogueError(`the schema of ${t.type} is not a valid JSON Schema: ${(err as Error).message}`);
      }
    }
  }

  /** Problems of `data` against the type's schema (empty when it conforms or has no schema). */
  problems(type: string, data: unknown): { path: string; message: string }[] {
    const validate = this.validators.get(type);
    if (!validate || validate(data)) return [];
    return (validate.errors ?? []).map((e) => ({
      path: `data${e.instancePath.replace(/\//g, '.')}`,
      message: e.message ?? 'does not match the schema',
    }));
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
