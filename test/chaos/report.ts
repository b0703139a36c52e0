/** The chaos run's figures as text, for `npm run chaos` and the test's output. */
import type { ChaosResult } from './chaos.ts';

const W = 40;
const row = (label: string, value: string | number) => `${label.padEnd(W)}${String(value).padStart(10)}`;

export function report(r: ChaosResult, settings: string): string {
  const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  const lines = [
    `Chaos: ${r.events} events x ${r.webhooks} webhooks, seed ${r.seed}`,
    settings,
    `receiver failure rate per attempt ${pc(r.failureRates.min)}..${pc(r.failureRates.max)} (mean ${pc(r.failureRates.mean)});` +
      ` P(some delivery exhausts its ladder) = ${r.pExhaustAny.toExponential(2)}`,
    '',
    row('events published', r.published),
    row('deliveries expected', r.expected),
    row('delivered (2xx at least once)', r.delivered),
    row('lost (must be 0)', r.lost),
    row('exhausted (endpoint failing)', r.exhausted),
    row('duplicates received, 2xx both times', `${r.duplicates2xx} (${pc(r.expected ? r.duplicates2xx / r.expected : 0, 3)}; target <= 0.1%)`),
    row('log entries repeating an attempt number', `${r.repeatedAttemptNumbers} (must be 0)`),
    row('  (webhook-id, receiver) pairs affected', r.duplicatePairs),
    row('  by the kill before their repeat', r.duplicateKills.byKill.join(', ') + (r.duplicateKills.unexplained ? ` (+${r.duplicateKills.unexplained} before any kill)` : '')),
    row('  first 2xx before / after its kill', firstAnswers(r.duplicateKills.firstAnswerMsFromKill)),
    ...(r.duplicateKills.firstAnswerMsFromKill.length ? [`  (each, ms from its kill: ${r.duplicateKills.firstAnswerMsFromKill.map((ms) => ms.toFixed(1)).join(', ')})`] : []),
    row('arrivals after a 2xx (any answer)', r.arrivalsAfter2xx),
    row('arrivals of a pair after the first', r.repeatedArrivals),
    row('requests received', r.requests),
    row('  200 / slow body 200', `${r.answers.ok} / ${r.answers.slow}`),
    row('  500 / timeout / reset / 429', `${r.answers.error500} / ${r.answers.timeout} / ${r.answers.reset} / ${r.answers.throttle429}`),
    row('restarts (SIGKILL + start)', r.restarts),
    row('  kill -> healthy again', r.restartMs.map((ms) => (ms / 1000).toFixed(1)).join(', ') + ' s'),
    row('taken, unfinished at kills (ev/dl)', `${r.resumed.events} / ${r.resumed.deliveries}`),
    row('first attempts queued again at starts', r.resumed.firstAttempts),
    row('re-queued by the 15 s reconciler (ev/dl)', `${r.requeuedPeriodic.events} / ${r.requeuedPeriodic.deliveries}`),
    row('runtime ERROR log lines', r.runtimeErrors),
    row('publish requests (failed, retried)', `${r.publishRequests} (${r.publishFailures})`),
    row('time: first publish -> last delivery', s(r.deliveryMs)),
    row('time: whole run', s(r.totalMs)),
  ];
  if (r.firstRuntimeError) lines.push(`first runtime error: ${r.firstRuntimeError}`);
  if (r.timedOut) lines.push('', 'TIMED OUT waiting for the deliveries');
  if (r.diagnosis) {
    lines.push('', 'Lost deliveries by stage:');
    for (const [stage, n] of Object.entries(r.diagnosis.stages)) lines.push(`  ${String(n).padStart(6)}  ${stage}`);
    lines.push('Samples:');
    for (const l of r.diagnosis.samples) lines.push(JSON.stringify(l, null, 0));
    lines.push('Runtime stderr (tail):', r.diagnosis.runtimeStderrTail);
  }
  if (r.dataDir) lines.push(`data dir kept: ${r.dataDir}`);
  return lines.join('\n');
}

/** How many first answers came before and after their kill, with the range of each side in ms. */
function firstAnswers(ms: readonly number[]): string {
  const before = ms.filter((m) => m < 0);
  const after = ms.filter((m) => m >= 0);
  const range = (xs: readonly number[]) => (xs.length ? ` (${Math.round(Math.min(...xs))}..${Math.round(Math.max(...xs))} ms)` : '');
  return `${before.length}${range(before)} / ${after.length}${range(after)}`;
}

const pc = (x: number, digits = 1) => `${(x * 100).toFixed(digits)}%`;
