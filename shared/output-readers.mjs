// What to do when whoever reads this process's stdout or stderr goes away (`| head` that has
// what it wants, a log shipper restarting): the next write fails with EPIPE, which Node raises as
// an unhandled 'error' event, so the process died with a stack trace at its next line. Plain
// JavaScript, for the two entry points that run before any TypeScript is loaded: the runtime
// (infra/local/main.mjs) runs on, the CLI (shared/cli/bin.mjs) ends quietly.

/**
 * Calls `then` instead of throwing when a write to `stream` finds its reader gone (EPIPE, and
 * the writes after it to the stream that error destroyed); any other error still throws.
 */
export function whenReaderGone(stream, then) {
  stream.on('error', (error) => {
    if (error.code !== 'EPIPE' && error.code !== 'ERR_STREAM_DESTROYED') throw error;
    then();
  });
}
