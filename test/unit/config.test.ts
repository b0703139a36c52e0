import { ENV, localSettingsFromEnv, parseRetryDelays, settingsFromEnv, SettingsError } from '../../shared/config.ts';

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
  it('refuses a signature header that every delivery already sets: it would break each one or be lost', () => {
    for (const name of ['Content-Length', 'transfer-encoding', 'Host', 'Content-Type', 'webhook-signature', 'Authorization', 'User-Agent']) {
      expect(() => settingsFromEnv({ HOOKLINE_SIGNATURE_HEADER: name })).toThrow(`HOOKLINE_SIGNATURE_HEADER is a header every delivery already sets (${name.toLowerCase()}), got "${name}"`);
    }
    expect(settingsFromEnv({ ...tables(), HOOKLINE_SIGNATURE_HEADER: 'X-NetRecon-Signature' }).signatureHeader).toBe('X-NetRecon-Signature');
  });
  it('bounds the attempt timeouts: a timer past 2^31 - 1 ms would fire at once and fail every attempt after sending it', () => {
    expect(settingsFromEnv({ ...tables(), [ENV.requestTimeoutMs]: '120000' }).requestTimeoutMs).toBe(120_000);
    for (const name of [ENV.requestTimeoutMs, ENV.failingRequestTimeoutMs]) {
      for (const bad of ['120001', '3000000000', '10s', '0x10', ' ', '1e4']) {
        expect(() => settingsFromEnv({ ...tables(), [name]: bad })).toThrow(`${name} must be an integer from 1 to 120000, got "${bad}"`);
      }
    }
  });
  it("holds the default rate limit to the admin API's bounds: at most 500 a second, a burst from the rate to 1000", () => {
    expect(settingsFromEnv({ ...tables(), [ENV.rateLimitPerSecond]: '300' })).toMatchObject({ rateLimitPerSecond: 300, rateLimitBurst: 300 });
    expect(settingsFromEnv({ ...tables(), [ENV.rateLimitPerSecond]: '500', [ENV.rateLimitBurst]: '1000' })).toMatchObject({ rateLimitPerSecond: 500, rateLimitBurst: 1000 });
    expect(() => settingsFromEnv({ ...tables(), [ENV.rateLimitPerSecond]: '100', [ENV.rateLimitBurst]: '1' })).toThrow(`${ENV.rateLimitBurst} must be an integer from 100 to 1000, got "1"`);
    expect(() => settingsFromEnv({ ...tables(), [ENV.rateLimitPerSecond]: '100000' })).toThrow(`${ENV.rateLimitPerSecond} must be an integer from 1 to 500, got "100000"`);
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

describe('one-machine settings', () => {
  it('takes PORT in decimal digits only', () => {
    expect(localSettingsFromEnv({ PORT: '0' }).port).toBe(0);
    expect(localSettingsFromEnv({ PORT: '47000' }).port).toBe(47_000);
    for (const bad of [' ', '0x8155', '4.7e4', '-1', '65536', '3000a']) expect(() => localSettingsFromEnv({ PORT: bad })).toThrow(`PORT must be a port number, got "${bad}"`);
  });
  it('refuses keys a client could never send (a space, a line break) and an owner address the admin API would refuse', () => {
    expect(() => localSettingsFromEnv({ HOOKLINE_API_KEY: ' spacey-key-of-enough-length ' })).toThrow('HOOKLINE_API_KEY must be printable ASCII without spaces');
    expect(() => localSettingsFromEnv({ HOOKLINE_ADMIN_KEY: 'adm key of enough length' })).toThrow('HOOKLINE_ADMIN_KEY must be printable ASCII without spaces');
    for (const bad of ['notanemail', 'boss@corp', 'a b@example.com']) expect(() => localSettingsFromEnv({ HOOKLINE_OWNER_EMAIL: bad })).toThrow(`HOOKLINE_OWNER_EMAIL must be an email address, got "${bad}"`);
    expect(localSettingsFromEnv({ HOOKLINE_OWNER_EMAIL: 'ops@localhost' }).ownerEmail).toBe('ops@localhost');
    const key = 'hk_live.1-2_abcdefghijkl';
    expect(localSettingsFromEnv({ HOOKLINE_API_KEY: key, HOOKLINE_OWNER_EMAIL: 'ops@example.com' })).toMatchObject({ apiKey: key, ownerEmail: 'ops@example.com' });
  });
  it('refuses keys short enough to guess, shaped as portal tokens, or one key for both roles', () => {
    expect(() => localSettingsFromEnv({ HOOKLINE_API_KEY: 'qx' })).toThrow('HOOKLINE_API_KEY must be at least 20 characters (unset, one is generated)');
    expect(() => localSettingsFromEnv({ HOOKLINE_ADMIN_KEY: 'x'.repeat(19) })).toThrow('HOOKLINE_ADMIN_KEY must be at least 20 characters');
    expect(() => localSettingsFromEnv({ HOOKLINE_API_KEY: 'pst_mykey1234567890abc' })).toThrow('HOOKLINE_API_KEY must not start with pst_, which marks a portal session token');
    const same = 'k'.repeat(24);
    expect(() => localSettingsFromEnv({ HOOKLINE_API_KEY: same, HOOKLINE_ADMIN_KEY: same })).toThrow('HOOKLINE_ADMIN_KEY must differ from HOOKLINE_API_KEY');
    expect(localSettingsFromEnv({}).ownerEmail).toBe('owner@localhost');
  });
});

/** The settings every function needs named (their values do not matter here). */
function tables(): Record<string, string> {
  const names = [ENV.tenantsTable, ENV.webhooksTable, ENV.eventsTable, ENV.attemptsTable, ENV.eventsQueueUrl, ENV.deliveriesQueueUrl];
  return Object.fromEntries(names.map((name) => [name, 'x']));
}
