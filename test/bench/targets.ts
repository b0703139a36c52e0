import { line } from './stats.ts';

/** The one-machine runtime's targets (issue 11), as `npm run bench` measures them. */
export const TARGETS = { pipelineShareOfCeiling: 0.5, ingestEventsPerSecond: 5000, steadyP99Ms: 50, startupMs: 300, rssMb: 200 };

export interface TargetResult {
  readonly name: string;
  readonly measured: number;
  readonly target: number;
  readonly unit: string;
  /** At least the target (true) or at most (false). */
  readonly atLeast: boolean;
  readonly met: boolean;
}

export const target = (name: string, measured: number, targetValue: number, unit: string, atLeast: boolean): TargetResult => ({
  name,
  measured,
  target: targetValue,
  unit,
  atLeast,
  met: atLeast ? measured >= targetValue : measured <= targetValue,
});

/** `p99 at 200 events/s   15 ms   <= 50 ms   met` */
export function targetLine(t: TargetResult): string {
  // Three digits for a ratio: at two, a ratio just under its target printed "0.50 x >= 0.5 x MISSED".
  const digits = t.unit === 'x' ? 3 : 0;
  return `${line(t.name, t.measured, t.unit, digits)}   ${t.atLeast ? '>=' : '<='} ${t.target} ${t.unit}   ${t.met ? 'met' : 'MISSED'}`;
}
