import { DEFAULT_RETRY_DELAYS } from '../../shared/config.ts';
import { nextStep, parseRetryAfter, RETRY_AFTER_CAP_SECONDS } from '../../shared/domain/retry-policy.ts';

const LADDER = [0, 30, 120, 600, 3600];

describe('nextStep on the default ladder', () => {
  it('the default ladder is the contract ladder', () => {
    expect([...DEFAULT_RETRY_DELAYS]).toEqual(LADDER);
  });

  it.each([
    [1, 30],
    [2, 120],
    [3, 600],
    [4, 3600],
  ])('after attempt %i fails, retries in %i s', (attempt, delay) => {
    expect(nextStep(LADDER, attempt)).toEqual({ kind: 'retry', delaySeconds: delay });
  });

  it('after attempt 5 (the last) fails, the delivery is exhausted', () => {
    expect(nextStep(LADDER, 5)).toEqual({ kind: 'exhausted' });
    expect(nextStep(LADDER, 6)).toEqual({ kind: 'exhausted' });
  });

  it('a Retry-After does not buy an extra attempt', () => {
    expect(nextStep(LADDER, 5, 10)).toEqual({ kind: 'exhausted' });
  });

  it('a Retry-After larger than the rung postpones the retry', () => {
    expect(nextStep(LADDER, 1, 90)).toEqual({ kind: 'retry', delaySeconds: 90 });
    expect(nextStep(LADDER, 3, 1800)).toEqual({ kind: 'retry', delaySeconds: 1800 });
  });

  it('a Retry-After smaller than the rung does not shorten it', () => {
    expect(nextStep(LADDER, 2, 5)).toEqual({ kind: 'retry', delaySeconds: 120 });
    expect(nextStep(LADDER, 1, 0)).toEqual({ kind: 'retry', delaySeconds: 30 });
  });

  it('a Retry-After is capped at the last rung + 3600 s', () => {
    expect(RETRY_AFTER_CAP_SECONDS).toBe(3600);
    expect(nextStep(LADDER, 1, 1_000_000)).toEqual({ kind: 'retry', delaySeconds: 7200 });
    expect(nextStep(LADDER, 4, 7200)).toEqual({ kind: 'retry', delaySeconds: 7200 });
    expect(nextStep(LADDER, 4, 7201)).toEqual({ kind: 'retry', delaySeconds: 7200 });
  });
});

describe('nextStep on other ladders', () => {
  it('follows a short test ladder with fractions of a second', () => {
    const short = [0, 0.2, 0.5];
    expect(nextStep(short, 1)).toEqual({ kind: 'retry', delaySeconds: 0.2 });
    expect(nextStep(short, 2)).toEqual({ kind: 'retry', delaySeconds: 0.5 });
    expect(nextStep(short, 3)).toEqual({ kind: 'exhausted' });
    expect(nextStep(short, 1, 100)).toEqual({ kind: 'retry', delaySeconds: 100 });
    expect(nextStep(short, 1, 10_000)).toEqual({ kind: 'retry', delaySeconds: 3600.5 });
  });

  it('a one-attempt ladder never retries', () => {
    expect(nextStep([0], 1)).toEqual({ kind: 'exhausted' });
  });
});

describe('parseRetryAfter', () => {
  const now = new Date('2026-03-15T10:30:00Z');

  it('reads delta-seconds', () => {
    expect(parseRetryAfter('120', now)).toBe(120);
    expect(parseRetryAfter(' 7 ', now)).toBe(7);
    expect(parseRetryAfter('0', now)).toBe(0);
  });

  it('reads an HTTP date relative to now', () => {
    expect(parseRetryAfter('Sun, 15 Mar 2026 10:31:30 GMT', now)).toBe(90);
    expect(parseRetryAfter('Sun, 15 Mar 2026 11:30:00 GMT', now)).toBe(3600);
  });

  it('an HTTP date in the past means now', () => {
    expect(parseRetryAfter('Sun, 15 Mar 2026 10:00:00 GMT', now)).toBe(0);
  });

  it('is undefined when absent or unreadable', () => {
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
    expect(parseRetryAfter('', now)).toBeUndefined();
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter('12abc', now)).toBeUndefined();
    expect(parseRetryAfter('1e3', now)).toBeUndefined();
  });

  // Date.parse is lenient in V8: "-5" parses as the year 2001, "1.5" as 2001-01-05, so these
  // come back as 0 ("retry now") instead of undefined. Harmless through nextStep (a smaller
  // Retry-After never shortens the rung) but contrary to the documented "undefined when unreadable".
  it('is undefined for values that are neither delta-seconds nor an HTTP date', () => {
    expect(parseRetryAfter('-5', now)).toBeUndefined();
    expect(parseRetryAfter('1.5', now)).toBeUndefined();
  });
});
