import { onStopSignals, REPEATED_SIGNAL_MS } from '../../shared/stop-signals.ts';

describe('onStopSignals', () => {
  it('takes copies of the first signal within a second as that one, and a later signal as again', () => {
    let now = 1_000;
    const calls: string[] = [];
    const off = onStopSignals(
      (signal) => calls.push(`first ${signal}`),
      (signal) => calls.push(`again ${signal}`),
      () => now,
    );
    try {
      // The terminal's SIGINT, then npm's forwarded copy of it.
      process.emit('SIGINT', 'SIGINT');
      now += 5;
      process.emit('SIGINT', 'SIGINT');
      now += REPEATED_SIGNAL_MS - 6;
      process.emit('SIGTERM', 'SIGTERM');
      expect(calls).toEqual(['first SIGINT']);
      // Ctrl-C again, a second after the first.
      now += 1;
      process.emit('SIGINT', 'SIGINT');
      expect(calls).toEqual(['first SIGINT', 'again SIGINT']);
    } finally {
      off();
    }
    process.emit('SIGTERM', 'SIGTERM');
    expect(calls).toHaveLength(2);
  });
});
