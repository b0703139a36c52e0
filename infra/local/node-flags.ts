/**
 * Node flags of the one-machine runtime. `npm start` passes them (package.json's `start`), and
 * every test and benchmark that starts the runtime passes the same (test/unit/node-flags.test.ts
 * holds the two together). V8 reads them at start only (`v8.setFlagsFromString` is too late).
 *
 * `--max-semi-space-size=4`: under a steady load a young generation grows to 3 x 32 MB though a
 * scavenge keeps a few MB of it. The flag sizes every isolate of the process, the main thread's
 * and the sender thread's (V8 lets it win over a Worker's resourceLimits). Measured with
 * `npm run bench` since the POSTs run on their own thread: peak RSS 222 MB at 16 MB, 213 MB at
 * 8 MB, 196 to 208 MB at 4 MB and no less at 2 MB, with no throughput lost down to 4 MB (the main
 * thread no longer allocates the HTTP client's garbage).
 */
export const RUNTIME_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=4'];

/** The runtime's entry point, relative to the repository root. */
export const RUNTIME_ENTRY = 'infra/local/main.ts';
