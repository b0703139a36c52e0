/**
 * Imported first by runner.ts, before the bundle: replaces `Date` with a subclass whose "now" is
 * the real time plus an offset the harness sets, so a test can jump a warm container forward
 * (past a retry rung of 16 minutes) without waiting. Timers and `performance.now()` are untouched.
 */
const RealDate = Date;
let offsetMs = 0;

export function setClockOffset(ms: number): void {
  offsetMs = ms;
}

/** The real time, for deadlines (Lambda's remaining time does not jump). */
export const realNow = (): number => RealDate.now();

class ShiftedDate extends RealDate {
  constructor(...args: unknown[]) {
    if (args.length === 0) super(RealDate.now() + offsetMs);
    else super(...(args as [number, number, number, number, number, number, number]));
  }

  static override now(): number {
    return RealDate.now() + offsetMs;
  }
}

globalThis.Date = ShiftedDate as DateConstructor;
