/**
 * Node flags of the one-machine runtime. `npm start` passes them (package.json's `start`), and
 * every test and benchmark that starts the runtime passes the same (test/unit/node-flags.test.ts
 * holds the two together). V8 reads them at start only (`v8.setFlagsFromString` is too late).
 *
 * The flags size the V8 heaps of every isolate of the process, the main thread's and the sender
 * thread's (V8 lets them win over a Worker's resourceLimits). Measured with `npm run bench`
 * (10 s steady run) since the POSTs run on their own thread:
 * - `--max-semi-space-size=8`: a young generation grows to 3 x 32 MB under load though a scavenge
 *   keeps a few MB of it. At 16 MB the sender thread's young generation alone took 48 MB; at 4 MB
 *   short-lived objects (a delivery waits a few ms for its answer) were promoted and the main
 *   thread's old generation filled with garbage.
 * - `--heap-growing-percent=20`: the old generation's next limit is 1.2 times what a full GC
 *   left instead of up to 4 times, so garbage promoted under load is collected at 50 to 100 MB,
 *   not 200.
 * Peak RSS 177 to 194 MB (228 to 238 MB with 4 MB semi-spaces alone, 205 with 16 MB and the
 * growing factor), healthy in a median 243 ms (218 ms without the flags: the start's modules
 * meet more full GCs), and the CPU per delivery unchanged within the machine's noise.
 */
export const RUNTIME_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=8', '--heap-growing-percent=20'];

/** The runtime's entry point, relative to the repository root. */
export const RUNTIME_ENTRY = 'infra/local/main.mjs';
