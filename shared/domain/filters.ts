/**
 * Subscription filters on the event's fields (003's integration rules, Convoy's subscription
 * filters): `{"data.severity": {"in": ["high", "critical"]}, "data.cvss": {"gte": 7}}`. Every
 * condition must hold. A condition is a plain value (equality) or one operator object.
 */
export type Condition =
  | string
  | number
  | boolean
  | null
  | { readonly eq: unknown }
  | { readonly neq: unknown }
  | { readonly in: readonly unknown[] }
  | { readonly nin: readonly unknown[] }
  | { readonly exists: boolean }
  | { readonly gt: number }
  | { readonly gte: number }
  | { readonly lt: number }
  | { readonly lte: number };

export type Filter = Readonly<Record<string, Condition>>;

/** Paths start at the event: `data.severity`, `event`, `data.host.ip`, `data.ports.0`. */
export const FILTER_PATH = /^(event|id|timestamp|data)(\.[A-Za-z0-9_-]+)*$/;

const MISSING = Symbol('missing');

function lookup(root: unknown, path: string): unknown {
  let value: unknown = root;
  for (const key of path.split('.')) {
    if (value === null || typeof value !== 'object' || !Object.hasOwn(value, key)) return MISSING;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

/** Deep equality for JSON values. */
function equal(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  return ka.length === kb.length && ka.every((k) => equal((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

function holds(condition: Condition, value: unknown): boolean {
  if (condition === null || typeof condition !== 'object') return value !== MISSING && equal(value, condition);
  if ('exists' in condition) return (value !== MISSING) === condition.exists;
  if (value === MISSING) return 'neq' in condition || 'nin' in condition;
  if ('eq' in condition) return equal(value, condition.eq);
  if ('neq' in condition) return !equal(value, condition.neq);
  if ('in' in condition) return condition.in.some((c) => equal(value, c));
  if ('nin' in condition) return !condition.nin.some((c) => equal(value, c));
  if (typeof value !== 'number') return false;
  if ('gt' in condition) return value > condition.gt;
  if ('gte' in condition) return value >= condition.gte;
  if ('lt' in condition) return value < condition.lt;
  return value <= condition.lte;
}

/** Whether an event passes the filter (no filter: every event). */
export function passes(filter: Filter | undefined, event: { id: string; event: string; timestamp: string; data: unknown }): boolean {
  if (!filter) return true;
  return Object.entries(filter).every(([path, condition]) => holds(condition, lookup(event, path)));
}
