/**
 * What a chaos run counts: the receivers' answers and their duplicates (each put on the kill
 * before it), the chance that a healthy receiver's delivery exhausts its ladder anyway, and the
 * runtime's own output (what each start resumed, what the reconciler queued again, ERROR lines).
 */
import type { ChaosReceiver, Outcome } from './receivers.ts';

/** What the receivers counted over a run: every answer by kind, and the requests and 2xx answers a pair got more than once. */
export function tallyReceivers(receivers: readonly ChaosReceiver[]) {
  let duplicates2xx = 0;
  let duplicatePairs = 0;
  let repeatedArrivals = 0;
  let requests = 0;
  const answers = { ok: 0, slow: 0, error500: 0, timeout: 0, reset: 0, throttle429: 0 } as Record<Outcome, number>;
  for (const r of receivers) {
    for (const { length: n } of r.ok.values()) {
      if (n > 1) {
        duplicates2xx += n - 1;
        duplicatePairs++;
      }
    }
    for (const n of r.requests.values()) {
      requests += n;
      repeatedArrivals += n - 1;
    }
    for (const k of Object.keys(answers) as Outcome[]) answers[k] += r.answered[k];
  }
  return { duplicates2xx, duplicatePairs, arrivalsAfter2xx: receivers.reduce((n, r) => n + r.afterOk, 0), repeatedArrivals, requests, answers };
}

/**
 * The duplicates by the kill before each repeated 2xx (`byKill[k]`: after kill k + 1; those
 * before any kill are `unexplained`), and each one's first 2xx in ms from that kill: below 0
 * an answer the runtime had not read (and journaled) yet; from 0 a request the receiver read
 * after the kill, from the dead process's connection, and answered.
 */
export interface DuplicateKills {
  readonly byKill: readonly number[];
  readonly unexplained: number;
  readonly firstAnswerMsFromKill: readonly number[];
}

/** Each duplicate 2xx by the kill that came before it. */
export function duplicatesByKill(receivers: readonly ChaosReceiver[], killTimes: readonly number[]): DuplicateKills {
  const byKill = killTimes.map(() => 0);
  const firstAnswerMsFromKill: number[] = [];
  let unexplained = 0;
  for (const r of receivers) {
    for (const [first, ...repeats] of r.ok.values()) {
      for (const at of repeats) {
        const k = killTimes.findLastIndex((t) => t <= at);
        if (k < 0) {
          unexplained++;
          continue;
        }
        byKill[k]!++;
        firstAnswerMsFromKill.push(first! - killTimes[k]!);
      }
    }
  }
  return { byKill, unexplained, firstAnswerMsFromKill: firstAnswerMsFromKill.sort((a, b) => a - b) };
}

/** P(at least one of `n` deliveries per receiver exhausts `rungs` attempts), failure rate q each. */
export function exhaustProbability(failureRates: readonly number[], perReceiver: number, rungs: number): number {
  // 1 - prod (1 - q^L)^n, computed in log space (q^L is tiny).
  const logNone = failureRates.reduce((s, q) => s + perReceiver * Math.log1p(-(q ** rungs)), 0);
  return -Math.expm1(logNone);
}

/** The banner's line for the first attempts a start queued again from their delivery rows. */
export const FIRST_ATTEMPTS_LINE = /Queued again (\d+) first attempt\(s\)/;

/** Resumed (banner) and re-queued (reconciler log) counts, and ERROR lines, of every process. */
export function summarizeLogs(outputs: readonly string[]) {
  const resumed = { events: 0, deliveries: 0, firstAttempts: 0 };
  const logged = { events: 0, deliveries: 0 };
  let runtimeErrors = 0;
  let firstRuntimeError: string | undefined;
  for (const text of outputs) {
    const banner = /Resumed (\d+) event\(s\) and (\d+) delivery\(ies\)/.exec(text);
    if (banner) {
      resumed.events += Number(banner[1]);
      resumed.deliveries += Number(banner[2]);
    }
    resumed.firstAttempts += Number(FIRST_ATTEMPTS_LINE.exec(text)?.[1] ?? 0);
    for (const line of text.split('\n')) {
      if (!line.startsWith('{')) continue;
      let entry: Record<string, unknown>;
      try {
        entry = JSON.parse(line);
      } catch {
        continue;
      }
      if (entry['message'] === 're-queued overdue work') {
        logged.events += Number(entry['events'] ?? 0);
        logged.deliveries += Number(entry['deliveries'] ?? 0);
      }
      if (entry['level'] === 'ERROR' || entry['level'] === 'CRITICAL') {
        runtimeErrors++;
        firstRuntimeError ??= line.slice(0, 600);
      }
    }
  }
  return {
    resumed,
    // The banner counts the messages the killed process had taken; the reconciler logs its own.
    requeuedPeriodic: logged,
    runtimeErrors,
    ...(firstRuntimeError ? { firstRuntimeError } : {}),
  };
}
