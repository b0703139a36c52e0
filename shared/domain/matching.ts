/**
 * Subscription patterns: an exact type (`scan.completed`), a prefix wildcard on a dot boundary
 * (`alert.*` matches `alert.created`, not `alerts.x`), or `*` for everything.
 */
export function matchesPattern(pattern: string, eventType: string): boolean {
  if (pattern === '*') return true;
  if (pattern.endsWith('.*')) return eventType.startsWith(pattern.slice(0, -1));
  return pattern === eventType;
}

export function subscribes(patterns: readonly string[], eventType: string): boolean {
  return patterns.some((p) => matchesPattern(p, eventType));
}

/** A pattern is valid if it is `*`, a catalogue type, or `<prefix>.*` where some catalogue type has that prefix. */
export function isKnownPattern(pattern: string, knownTypes: readonly string[]): boolean {
  if (pattern === '*') return true;
  if (pattern.endsWith('.*')) return knownTypes.some((t) => matchesPattern(pattern, t));
  return knownTypes.includes(pattern);
}
