import { parseRetryDelays, settingsFromEnv, SettingsError } from '../../shared/config.ts';

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
  });
  it('refuses a signature header that is not a header name', () => {
    expect(() => settingsFromEnv({ HOOKLINE_SIGNATURE_HEADER: 'Bad Header' })).toThrow(SettingsError);
  });
});
