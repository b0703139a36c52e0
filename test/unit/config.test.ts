import { ENV, parseRetryDelays, settingsFromEnv, SettingsError } from '../../shared/config.ts';

describe('settings', () => {
  it('defaults the retry ladder to the contract ladder', () => {
    expect(parseRetryDelays(undefined)).toEqual([0, 30, 120, 600, 3600]);
  });
  it('accepts fractions of a second for tests', () => {
    expect(parseRetryDelays('0, 0.2,0.5')).toEqual([0, 0.2, 0.5]);
  });
  it('refuses a malformed ladder', () => {
    expect(() => parseRetryDelays('0,abc')).toThrow(SettingsError);
    expect(() => parseRetryDelays('0,-1')).toThrow(SettingsError);
    // An empty entry is not a zero-second rung.
    expect(() => parseRetryDelays('30,,60')).toThrow('HOOKLINE_RETRY_DELAYS must be comma-separated non-negative seconds, got "30,,60"');
    expect(() => parseRetryDelays(',')).toThrow(SettingsError);
  });
  it('refuses a ladder as long as the retention: its deliveries would expire half way up', () => {
    const names = [ENV.tenantsTable, ENV.webhooksTable, ENV.eventsTable, ENV.attemptsTable, ENV.eventsQueueUrl, ENV.deliveriesQueueUrl];
    const env = { ...Object.fromEntries(names.map((name) => [name, 'x'])), HOOKLINE_RETENTION_DAYS: '1', HOOKLINE_RETRY_DELAYS: '0,43200,43200' };
    expect(() => settingsFromEnv(env)).toThrow(
      'HOOKLINE_RETRY_DELAYS adds up to 86400 s, not shorter than the retention: deliveries would expire on their ladder (HOOKLINE_RETENTION_DAYS: 1 days)',
    );
    expect(settingsFromEnv({ ...env, HOOKLINE_RETRY_DELAYS: '0,43200,43199' }).retryDelaysSeconds).toEqual([0, 43200, 43199]);
  });
  it('names the setting a bad value belongs to', () => {
    expect(() => settingsFromEnv({ HOOKLINE_ALLOW_PRIVATE_TARGETS: 'maybe' })).toThrow('HOOKLINE_ALLOW_PRIVATE_TARGETS must be true or false, got "maybe"');
    expect(() => settingsFromEnv({ [ENV.allowedPorts]: '443,,80' })).toThrow(`${ENV.allowedPorts} must be comma-separated ports`);
  });
  it('refuses a signature header that is not a header name', () => {
    expect(() => settingsFromEnv({ HOOKLINE_SIGNATURE_HEADER: 'Bad Header' })).toThrow(SettingsError);
  });
  it('caps attempts in flight per tenant at 50 unless HOOKLINE_MAX_CONCURRENT_PER_TENANT says otherwise; refuses a non-positive one', () => {
    const names = [ENV.tenantsTable, ENV.webhooksTable, ENV.eventsTable, ENV.attemptsTable, ENV.eventsQueueUrl, ENV.deliveriesQueueUrl];
    const env = Object.fromEntries(names.map((name) => [name, 'x']));
    expect(settingsFromEnv(env).maxConcurrentPerTenant).toBe(50);
    expect(settingsFromEnv({ ...env, [ENV.maxConcurrentPerTenant]: '7' }).maxConcurrentPerTenant).toBe(7);
    for (const bad of ['0', '-1', '2.5', 'many']) {
      expect(() => settingsFromEnv({ ...env, [ENV.maxConcurrentPerTenant]: bad })).toThrow(SettingsError);
    }
  });
  it('reads the delivery log as 1 to 16 distinct tables, in order (a deployment of one table names just it)', () => {
    const names = [ENV.tenantsTable, ENV.webhooksTable, ENV.eventsTable, ENV.eventsQueueUrl, ENV.deliveriesQueueUrl];
    const env = Object.fromEntries(names.map((name) => [name, 'x']));
    expect(settingsFromEnv({ ...env, [ENV.attemptsTable]: 'Hookline-Attempts' }).tables.attempts).toEqual(['Hookline-Attempts']);
    expect(settingsFromEnv({ ...env, [ENV.attemptsTable]: 'log-a, log-b,log-c' }).tables.attempts).toEqual(['log-a', 'log-b', 'log-c']);
    const seventeen = Array.from({ length: 17 }, (_, i) => `log-${i}`).join(',');
    for (const bad of ['log-a,,log-b', 'log-a,log-a', 'log-a,', seventeen]) {
      expect(() => settingsFromEnv({ ...env, [ENV.attemptsTable]: bad })).toThrow(/HOOKLINE_ATTEMPTS_TABLE must be 1 to 16 distinct table names/);
    }
  });
});
