import { DEFAULT_CATALOGUE } from '../../shared/domain/catalogue.ts';
import { isKnownPattern, matchesPattern, subscribes } from '../../shared/domain/matching.ts';

const KNOWN = DEFAULT_CATALOGUE.map((t) => t.type);

describe('matchesPattern', () => {
  it('an exact type matches only itself', () => {
    expect(matchesPattern('scan.completed', 'scan.completed')).toBe(true);
    expect(matchesPattern('scan.completed', 'scan.completed.x')).toBe(false);
    expect(matchesPattern('scan.completed', 'scan.complete')).toBe(false);
    expect(matchesPattern('scan.completed', 'scan.failed')).toBe(false);
    expect(matchesPattern('scan.completed', 'Scan.Completed')).toBe(false);
  });

  it('alert.* matches types under alert. on a dot boundary', () => {
    expect(matchesPattern('alert.*', 'alert.created')).toBe(true);
    expect(matchesPattern('alert.*', 'alert.resolved')).toBe(true);
    expect(matchesPattern('alert.*', 'alerts.created')).toBe(false);
    expect(matchesPattern('alert.*', 'alert')).toBe(false);
    expect(matchesPattern('alert.*', 'ids.alert')).toBe(false);
    expect(matchesPattern('alert.*', 'xalert.created')).toBe(false);
  });

  it('* matches everything', () => {
    for (const t of [...KNOWN, 'anything', 'a.b.c']) expect(matchesPattern('*', t)).toBe(true);
  });

  it('a * that is not a whole pattern or a .* suffix is not a wildcard', () => {
    expect(matchesPattern('alert*', 'alert.created')).toBe(false);
    expect(matchesPattern('*.created', 'alert.created')).toBe(false);
  });
});

describe('subscribes', () => {
  it('is true when any pattern matches', () => {
    expect(subscribes(['scan.completed', 'alert.*'], 'alert.created')).toBe(true);
    expect(subscribes(['scan.completed', 'alert.*'], 'scan.completed')).toBe(true);
    expect(subscribes(['scan.completed', 'alert.*'], 'scan.failed')).toBe(false);
    expect(subscribes([], 'scan.completed')).toBe(false);
    expect(subscribes(['*'], 'honeypot.hit')).toBe(true);
  });
});

describe('isKnownPattern against the default catalogue', () => {
  it('holds the 14 NetRecon types plus webhook.test', () => {
    expect(KNOWN).toHaveLength(15);
    expect(KNOWN).toEqual(expect.arrayContaining(['alert.created', 'ids.alert', 'anomaly.detected', 'webhook.test']));
  });

  it('accepts every catalogue type and *', () => {
    for (const t of KNOWN) expect(isKnownPattern(t, KNOWN)).toBe(true);
    expect(isKnownPattern('*', KNOWN)).toBe(true);
  });

  it('accepts a prefix wildcard that covers some catalogue type', () => {
    for (const p of ['alert.*', 'scan.*', 'device.*', 'backup.*', 'ids.*']) expect(isKnownPattern(p, KNOWN)).toBe(true);
  });

  it('refuses unknown types and wildcards that cover nothing', () => {
    expect(isKnownPattern('scan.exploded', KNOWN)).toBe(false);
    expect(isKnownPattern('alert', KNOWN)).toBe(false);
    expect(isKnownPattern('alerts.*', KNOWN)).toBe(false);
    expect(isKnownPattern('nothing.*', KNOWN)).toBe(false);
    expect(isKnownPattern('alert*', KNOWN)).toBe(false);
    expect(isKnownPattern('', KNOWN)).toBe(false);
  });

  it('depends on the catalogue given', () => {
    expect(isKnownPattern('alert.created', ['scan.completed'])).toBe(false);
    expect(isKnownPattern('custom.*', ['custom.thing'])).toBe(true);
  });
});
