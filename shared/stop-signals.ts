/**
 * One Ctrl-C, told apart from two. A terminal signals its whole foreground process group, so a
 * process that npm, npx or a wrapper started gets the signal from the terminal and again from
 * its parent, which forwards what it got: `npm start` (whose script `exec`s the runtime),
 * `npx hookline`, the CLI's own bin on an older Node. A signal within REPEATED_SIGNAL_MS of the
 * first is that same request; a later one is the user asking again (stop without waiting).
 * A copy that comes while the process is already exiting (its listeners gone) still ends it by
 * the signal: a race no listener can close.
 */
export const REPEATED_SIGNAL_MS = 1_000;

/** SIGHUP too: the terminal that ran `npm start` was closed, a stop like any other (it drains). */
export const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/**
 * Calls `first` on the first of STOP_SIGNALS, `again` on one that comes REPEATED_SIGNAL_MS or
 * more after it, and nothing for those in between. Returns what removes the listeners.
 */
export function onStopSignals(first: (signal: NodeJS.Signals) => void, again: (signal: NodeJS.Signals) => void, now: () => number = () => performance.now()): () => void {
  let firstAt: number | undefined;
  const listener = (signal: NodeJS.Signals) => {
    if (firstAt === undefined) {
      firstAt = now();
      first(signal);
    } else if (now() - firstAt >= REPEATED_SIGNAL_MS) {
      again(signal);
    }
  };
  for (const signal of STOP_SIGNALS) process.on(signal, listener);
  return () => {
    for (const signal of STOP_SIGNALS) process.off(signal, listener);
  };
}
